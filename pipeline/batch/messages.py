"""Centra's answers, explained in words a user can act on, for the per-row result report."""

from __future__ import annotations

from collections.abc import Sequence


def explain(operation: str, errors: Sequence[str], notices: Sequence[str] = ()) -> str:
    """The report message for an object Centra refused (``success=false``)."""
    text = "; ".join(errors) or "Centra answered success=false without a message"
    if notices:
        text += f" (notices: {'; '.join(notices)})"
    return f"Centra: {text}"
