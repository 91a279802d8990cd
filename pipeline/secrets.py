"""Keeping the Centra password out of every log, report, archive and error message."""

from __future__ import annotations

import logging
import re

MASK = "***"
_PASSWORD_ELEMENT = re.compile(
    r"(<(?:[A-Za-z0-9_]+:)?password>)(.*?)(</(?:[A-Za-z0-9_]+:)?password>)", re.S
)


class Secret:
    """A string that never shows itself: ``str()``/``repr()`` give ``***``.

    Call :meth:`reveal` at the one place the value is really needed (the request body).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def mask_password_elements(xml: str) -> str:
    """Replace the content of every ``<password>`` element with ``***``."""
    return _PASSWORD_ELEMENT.sub(rf"\g<1>{MASK}\g<3>", xml)


class Redactor:
    """Replaces known secret values (and their XML-escaped forms) in text."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | Secret | None) -> None:
        raw = value.reveal() if isinstance(value, Secret) else value
        if not raw or len(raw) < 3:
            # Too short to redact without mangling ordinary text; masking of <password>
            # elements still applies.
            return
        self._values.add(raw)
        escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        self._values.add(escaped)

    def __call__(self, text: str) -> str:
        text = mask_password_elements(text)
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text


#: The process-wide redactor; the client registers its password here.
REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and redacts secrets from it."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = self.redactor("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the redacting filter to every handler of ``logger`` (the root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
