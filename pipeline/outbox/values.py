"""Cell formats of export columns, and the spreadsheet formula guard.

Every format takes the text found in the event (never ``None``; ``""`` when the path found
nothing) and returns the cell's text. A value a format cannot read is passed through as it is,
and counts as free text for the formula guard: an order is never held back by one odd field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

Format = Callable[[str], "Cell"]

FORMATS = ("text", "decimal", "integer", "date", "datetime", "yesno")
NUMERIC_FORMATS = frozenset({"decimal", "integer"})

#: A cell starting with one of these may run as a formula in a spreadsheet (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_TRUE = frozenset({"yes", "true", "1", "y"})
_FALSE = frozenset({"no", "false", "0", "n"})
# Centra writes "2019-03-27 12:52:20" (events) and "2019-03-27T12:52:20+01:00" (orders).
_CENTRA_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class Cell(str):
    """A cell's text; ``numeric`` marks a value that really is a number (never neutralised)."""

    numeric: bool = False


class NumericCell(Cell):
    numeric = True


def neutralise(cell: str) -> str:
    """``=SUM(A1)`` -> ``'=SUM(A1)``: free text must not run as a spreadsheet formula."""
    if cell.startswith(FORMULA_START) and not getattr(cell, "numeric", False):
        return "'" + cell
    return cell


def iso_datetime(value: str) -> str:
    """Both of Centra's date forms as ISO 8601; the offset is kept when Centra gave one."""
    value = value.strip()
    if not _CENTRA_DATE.match(value):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return value
    if len(value) == 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def make_format(name: str, *, places: int | None = None, decimal_separator: str = ".") -> Format:
    """The formatting function of a column (names in :data:`FORMATS`)."""
    if name == "decimal":
        return lambda value: _decimal(value, places, decimal_separator)
    if name == "integer":
        return _integer
    if name == "date":
        return lambda value: Cell(iso_datetime(value)[:10] if _CENTRA_DATE.match(value) else value)
    if name == "datetime":
        return lambda value: Cell(iso_datetime(value))
    if name == "yesno":
        return _yesno
    return Cell


def _number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _decimal(value: str, places: int | None, separator: str) -> Cell:
    number = _number(value)
    if number is None:
        return Cell(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number, "f")
    return NumericCell(text.replace(".", separator) if separator != "." else text)


def _integer(value: str) -> Cell:
    number = _number(value)
    if number is None or number != number.to_integral_value():
        return Cell(value)
    return NumericCell(str(int(number)))


def _yesno(value: str) -> Cell:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return Cell("yes")
    if lowered in _FALSE:
        return Cell("no")
    return Cell(value)
