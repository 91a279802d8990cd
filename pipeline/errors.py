"""One exception tree for the whole pipeline.

Every error the pipeline raises derives from :class:`PipelineError`. Foreign exceptions
(lxml, urllib3, openpyxl, pydantic, sqlite3) are translated once, at the door of the layer that
talks to them, with the original kept as ``__cause__``. Nothing above layer 1 catches a foreign
exception.

What the caller should do is marked by the class (and by the ``retriable`` attribute)::

    PipelineError
    ├── ConfigError                 stop: pipeline.yaml or the environment is wrong (exit 2)
    │   └── MappingError            stop: a mapping file is wrong (exit 2)
    ├── InputError                  skip: an input file or row is wrong (exit 1)
    │   ├── ReadError               the file cannot be read at all
    │   └── RowError                one cell or row is wrong (file, row, column, value)
    ├── CentraError                 something went wrong talking to Centra
    │   ├── TransportError          the network: retriable
    │   │   ├── ConnectError        never reached Centra: safe to retry
    │   │   ├── OutcomeUnknown      sent, but no answer (read timeout, reset after sending):
    │   │   │                       retry only because every *_Update is an upsert
    │   │   └── HTTPStatusError     500/502/503/504 without a SOAP Fault are retriable
    │   ├── ResponseError           the answer is not a usable SOAP response (malformed,
    │   │                           DOCTYPE, truncated, oversize, HTML, empty): stop the call
    │   ├── SoapFault               a SOAP Fault; faultcode Server is retriable, Client is not
    │   ├── LoginRefused            wrong credentials: stop at once, never retry (exit 3)
    │   └── CentraRejected          success=false: Centra's errors/notices, skip those rows
    └── LockedError                 another run holds the workspace lock (exit 4)

``CentraUnreachable`` is the final form of a TransportError after retries ran out (exit 3).

Every message is written for the person running the pipeline and says what to do next. No
message ever contains the Centra password: see :func:`pipeline.log.redact`.
"""

from __future__ import annotations

from collections.abc import Sequence


class PipelineError(Exception):
    """Base of every error the pipeline raises."""

    retriable: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  What to do: {self.hint}"
        return self.message


class ConfigError(PipelineError):
    """The configuration is invalid. ``problems`` lists every problem as (key path, message)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[tuple[str, str]] = (),
        hint: str | None = None,
    ) -> None:
        self.problems = list(problems)
        if self.problems:
            lines = [message] + [f"  - {path}: {text}" for path, text in self.problems]
            message = "\n".join(lines)
        super().__init__(message, hint=hint)


class MappingError(ConfigError):
    """A mapping file is invalid (unknown target path, bad rule, cycle)."""


class InputError(PipelineError):
    """An input file (or part of it) cannot be used."""

    exit_code = 1


class ReadError(InputError):
    """The file cannot be read at all (encoding, format, missing sheet...)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        where = file or ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)


class RowError(InputError):
    """One row (or cell) of an input file is wrong."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.reason = message
        parts = []
        if file:
            parts.append(file)
        if row is not None:
            parts.append(f"row {row}")
        if column:
            parts.append(f"column {column!r}")
        where = ", ".join(parts)
        text = message if value is None else f"{message} (value {value!r})"
        super().__init__(f"{where}: {text}" if where else text, hint=hint)


class CentraError(PipelineError):
    """Talking to Centra failed. ``operation`` names the SOAP operation."""

    exit_code = 1

    def __init__(self, message: str, *, operation: str | None = None, hint: str | None = None):
        self.operation = operation
        if operation:
            message = f"{operation}: {message}"
        super().__init__(message, hint=hint)


class TransportError(CentraError):
    """The network failed. Retriable."""

    retriable = True


class ConnectError(TransportError):
    """The request never reached Centra (refused, DNS, connect timeout). Safe to retry."""


class OutcomeUnknown(TransportError):
    """The request was sent but no complete answer came back.

    Centra may or may not have applied it. Retrying is safe only because every *_Update is an
    upsert (the same body applied twice gives the same state) and events_Get/events_Done are
    idempotent.
    """


class HTTPStatusError(TransportError):
    """Centra answered with an HTTP error status and no SOAP Fault."""

    def __init__(self, status: int, message: str, *, operation: str | None = None):
        self.status = status
        super().__init__(message, operation=operation)
        self.retriable = status in (500, 502, 503, 504)


class CentraUnreachable(CentraError):
    """Retries ran out: Centra could not be reached. Stop the run (exit 3)."""

    exit_code = 3


class ResponseError(CentraError):
    """Centra's answer cannot be used (malformed, DOCTYPE, truncated, oversize, not SOAP)."""


class SoapFault(CentraError):
    """A SOAP Fault. A ``Server`` fault is retriable; a ``Client`` fault is not."""

    def __init__(self, faultcode: str, faultstring: str, *, operation: str | None = None):
        self.faultcode = faultcode
        self.faultstring = faultstring
        super().__init__(f"SOAP Fault {faultcode}: {faultstring}", operation=operation)
        self.retriable = faultcode.rpartition(":")[2] == "Server"


class LoginRefused(CentraError):
    """Centra refused the username or password. Never retried: retries could lock the account."""

    exit_code = 3


class CentraRejected(CentraError):
    """Centra answered success=false. ``errors`` and ``notices`` are Centra's messages."""

    def __init__(
        self,
        errors: Sequence[str],
        notices: Sequence[str] = (),
        *,
        operation: str | None = None,
    ) -> None:
        self.errors = list(errors)
        self.notices = list(notices)
        text = "; ".join(self.errors) or "success=false without an error message"
        super().__init__(f"Centra rejected the request: {text}", operation=operation)


class LockedError(PipelineError):
    """Another run holds the workspace lock."""

    exit_code = 4


# -- text from input files, echoed in messages ----------------------------------------------

#: A value or a name from an input file is echoed in a message with at most this many
#: characters: a cell can hold megabytes, a message is read by a person.
MAX_ECHO = 80
#: A list of names (columns, sheets, sizes) in a message names at most this many.
MAX_LISTED = 20


def shorten(text: str, limit: int = MAX_ECHO) -> str:
    """``text``, cut to ``limit`` characters ending in "…" when longer.

    >>> shorten("x" * 100, 10)
    'xxxxxxxxx…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listed(names: Sequence[str], limit: int = MAX_LISTED, *, quote: bool = True) -> str:
    """``'A', 'B', 'C'``: at most ``limit`` names, each shortened, then how many more.

    >>> listed([f"c{i}" for i in range(1000)], 2)
    "'c0', 'c1' ... and 998 more"
    """
    shown = ", ".join((repr if quote else str)(shorten(name)) for name in names[:limit])
    more = len(names) - limit
    return f"{shown} ... and {more:,} more" if more > 0 else shown
