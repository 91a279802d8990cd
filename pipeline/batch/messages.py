"""Centra's answers, explained in words a user can act on, for the per-row result report.

Most refusals are passed on as Centra wrote them. A few need more than Centra's words, because
what the user must do next is not obvious from them:

- a failed payment capture on a shipment is a possible fraud attempt (the guide: "If capture
  fails, the order should not be shipped"): the message says so first, and what to do;
- a return (refund) id already used by another order: refund ids are unique across all
  orders, unlike shipment ids, so the fix is a new id, not a retry.

Example::

    explain("orders_Update", ["Order 30 shipment 8: capture failed: declined"])
    # "capture failed for shipment 8 of order 30: possible fraud — do not ship; check the
    #  payment in Centra. ... (Centra: Order 30 shipment 8: capture failed: declined)"
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Centra does not document its wording: these match the sandbox's messages and the usual
# phrasings of a declined capture ("capture failed", "could not capture", "declined").
_CAPTURE_FAILED = re.compile(
    r"\bcapture\b.*\b(fail|declin|refus|denied|not\s+possible|error)"
    r"|\b(fail|declin|refus|denied|could\s+not|cannot|unable)\w*\b.*\bcapture",
    re.IGNORECASE,
)
_ORDER_SHIPMENT = re.compile(
    r"\border\s+(?P<order>[^\s:;,]+)[\s,:;]+shipment\s+(?P<shipment>[^\s:;,]+)", re.IGNORECASE
)
_REFUND_TAKEN = re.compile(
    r"refund(?:\s+id)?\s+(?P<refund>[^\s:;,]+)\s+is\s+already\s+used\s+by\s+order\s+"
    r"(?P<owner>[^\s:;,]+)",
    re.IGNORECASE,
)


def explain(operation: str, errors: Sequence[str], notices: Sequence[str] = ()) -> str:
    """The report message for an object Centra refused (``success=false``)."""
    advice = [found for error in errors if (found := _advice(operation, error))]
    text = "; ".join(errors) or "Centra answered success=false without a message"
    if notices:
        text += f" (notices: {'; '.join(notices)})"
    if advice:
        return f"{'; '.join(dict.fromkeys(advice))} (Centra: {text})"
    return f"Centra: {text}"


def _advice(operation: str, error: str) -> str | None:
    if operation != "orders_Update":
        return None
    if _CAPTURE_FAILED.search(error):
        where = _ORDER_SHIPMENT.search(error)
        subject = (
            f"shipment {where['shipment']} of order {where['order']}" if where else "a shipment"
        )
        return (
            f"capture failed for {subject}: possible fraud — do not ship; check the payment in "
            "Centra. Centra refused this order's update: the shipment is not marked shipped"
        )
    taken = _REFUND_TAKEN.search(error)
    if taken:
        return (
            f"return id {taken['refund']} is already used by order {taken['owner']}: return ids "
            "must be unique across all orders — give this return a new id (e.g. the ERP's "
            "return number) and send the file again"
        )
    return None
