"""Field rules compiled into plain functions that turn table columns into field values.

A compiled rule evaluates a whole column at once and returns one entry per data row:

- ``None``: leave the field out (an empty cell: Centra keeps its value);
- ``""``: write an empty element (an explicit clear);
- a ``str``: the value;
- a :class:`Bad`: the cell is wrong; the row fails with this message.

Steps for each cell, in order: source (column, constant, template or clear) -> condition
(``if_filled``/``if_empty``) -> trim -> ``clear_if`` -> empty: ``default`` or ``required`` ->
``map`` -> ``type`` -> ``case`` -> ``ascii`` -> ``max_length``. Everything after the empty
check depends only on the text, so it runs once per distinct value.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.centra.xmlbuild import INVALID_XML_CHARS, has_invalid_xml_chars
from pipeline.mapping.types import Converter, ValueProblem
from pipeline.readers import Table


class Bad:
    """A wrong cell: what is wrong, the column and the value as read.

    ``collateral``: the cell is fine, but what it names is not sent because of another row
    (an EAN of a product an earlier file could not send), so the row is skipped, not failed;
    ``key`` is then the key of the object the row would have fed.
    """

    __slots__ = ("collateral", "column", "hint", "key", "message", "value")

    def __init__(
        self,
        message: str,
        column: str | None,
        value: str | None,
        hint: str | None = None,
        *,
        collateral: bool = False,
        key: str | None = None,
    ):
        self.message = message
        self.column = column
        self.value = value
        self.hint = hint
        self.collateral = collateral
        self.key = key


Value = str | Bad | None


class Values(list[Value]):
    """A rule's values, one per row; ``clean``: known to hold no :class:`Bad` (None: not
    known)."""

    __slots__ = ("clean",)

    def __init__(self, values: Iterable[Value] = (), clean: bool | None = None) -> None:
        super().__init__(values)
        self.clean = clean


#: Bytes that may begin or end a text that needs trimming: the ASCII whitespace a text
#: without control characters can hold (the others are refused before), and every byte of a
#: non-ASCII character (a few of those are whitespace too: checked text by text).
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[list(b" \t\n\r")] = True
_EDGE_BYTES[0x80:] = True


def may_need_trimming(joined: str | bytes) -> bool:
    """False when no text of ``joined`` (a column's texts, none empty, joined by line breaks,
    with no control character) starts or ends with whitespace. True may also mean a text
    starts or ends with a non-ASCII character, or holds a line break: the caller then checks
    text by text. ``joined`` may be given encoded already (UTF-8, ``surrogatepass``).

    Looks only at the bytes beside the line breaks: many times faster than stripping every
    text.
    """
    if isinstance(joined, str):
        joined = joined.encode("utf-8", "surrogatepass")
    codes = np.frombuffer(joined, dtype=np.uint8)
    if not len(codes):
        return False
    breaks = np.flatnonzero(codes == 10)
    return bool(
        _EDGE_BYTES[codes[0]]
        or _EDGE_BYTES[codes[-1]]
        or _EDGE_BYTES[codes[breaks[breaks > 0] - 1]].any()
        or _EDGE_BYTES[codes[breaks[breaks < len(codes) - 1] + 1]].any()
    )


def has_bad(values: Sequence[Value]) -> bool:
    """Whether any value is a :class:`Bad`."""
    if isinstance(values, Values) and values.clean is not None:
        return not values.clean
    return Bad in set(map(type, values))


class Source:
    """Where a rule's text comes from."""

    kind: str = ""
    columns: tuple[str, ...] = ()
    label: str | None = None

    def texts(
        self, table: Table, index: Mapping[str, int]
    ) -> tuple[Sequence[str], list[Bad | None] | None]:
        raise NotImplementedError


@dataclass(frozen=True)
class ColumnSource(Source):
    column: str
    kind = "column"

    @property
    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.column,)

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.column

    def texts(
        self, table: Table, index: Mapping[str, int]
    ) -> tuple[Sequence[str], list[Bad | None] | None]:
        c = index[self.column]
        return table.columns[c], _cell_errors(table, {c: self.column})


@dataclass(frozen=True)
class ConstantSource(Source):
    value: str
    kind = "constant"

    def texts(
        self, table: Table, index: Mapping[str, int]
    ) -> tuple[Sequence[str], list[Bad | None] | None]:
        return [self.value] * table.n_rows, None


@dataclass(frozen=True)
class ClearSource(Source):
    kind = "clear"

    def texts(
        self, table: Table, index: Mapping[str, int]
    ) -> tuple[Sequence[str], list[Bad | None] | None]:
        return [""] * table.n_rows, None


@dataclass(frozen=True)
class TemplateSource(Source):
    template: str
    fields: tuple[str, ...]
    kind = "template"

    @property
    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.fields

    @property
    def label(self) -> str:  # type: ignore[override]
        return ", ".join(self.fields)

    def texts(
        self, table: Table, index: Mapping[str, int]
    ) -> tuple[Sequence[str], list[Bad | None] | None]:
        cols = [table.columns[index[name]] for name in self.fields]
        template, names = self.template, self.fields
        out: list[str] = []
        for cells in zip(*cols, strict=True):
            if any(cells):
                out.append(template.format_map(dict(zip(names, cells, strict=True))).strip())
            else:
                out.append("")
        return out, _cell_errors(table, {index[n]: n for n in self.fields})


def template_fields(template: str) -> list[str]:
    """The column names a template refers to; ValueError if it is malformed."""
    names = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or name.isdigit():
            raise ValueError("every {…} must name a column, e.g. {Article}")
        names.append(name)
    return names


def _cell_errors(table: Table, columns: Mapping[int, str]) -> list[Bad | None] | None:
    if not table.cell_errors:
        return None
    found: list[Bad | None] | None = None
    for (row, col), message in table.cell_errors.items():
        if col in columns:
            if found is None:
                found = [None] * table.n_rows
            found[row] = Bad(message, columns[col], None)
    return found


@dataclass(frozen=True)
class Rule:
    """One compiled field rule: where the value comes from and what happens to it."""

    path: str
    level: str
    sub: str
    source: Source
    required: bool = False
    default: str | None = None
    clear_if: frozenset[str] = frozenset()
    trim: bool = True
    if_filled: str | None = None
    if_empty: str | None = None
    convert: Converter | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        extra = tuple(c for c in (self.if_filled, self.if_empty) if c)
        return self.source.columns + extra

    @property
    def label(self) -> str | None:
        return self.source.label

    @property
    def evaluation_key(self) -> tuple[object, ...]:
        """Rules with equal keys give equal values on any table (the target path aside)."""
        return (self.source, self.required, self.default, self.clear_if, self.trim,
                self.if_filled, self.if_empty, self.convert)  # fmt: skip

    def evaluate(self, table: Table, index: Mapping[str, int]) -> list[Value]:
        """One value per data row of ``table`` (``index`` maps column names to positions)."""
        if isinstance(self.source, ConstantSource | ClearSource) and not (
            self.if_filled or self.if_empty
        ):
            # One value for every row: work it out once.
            texts, _ = self.source.texts(_ONE_ROW, {})
            one = self._per_distinct(texts)
            return Values(one * table.n_rows, one.clean)
        texts, errors = self.source.texts(table, index)
        if errors is None and not (self.if_filled or self.if_empty):
            return self._per_distinct(texts)
        cond_filled = table.columns[index[self.if_filled]] if self.if_filled else None
        cond_empty = table.columns[index[self.if_empty]] if self.if_empty else None
        out: list[Value] = []
        append = out.append
        cell_value = self._one
        for i, raw in enumerate(texts):
            if errors is not None:
                error = errors[i]
                if error is not None:
                    error.value = raw if raw != "?" else None
                    append(error)
                    continue
            if (cond_filled is not None and not cond_filled[i].strip()) or (
                cond_empty is not None and cond_empty[i].strip()
            ):
                append(None)
            else:
                append(cell_value(raw))
        return out

    def _per_distinct(self, texts: Sequence[str]) -> Values:
        """The common case (no cell errors, no conditions): each distinct text once.

        Equal texts get the very same value object, so a column's repeated values (a brand, a
        price) are held once however many rows share them.
        """
        joined = (  # the column as one text, encoded once for both checks below
            "\n".join(texts).encode("utf-8", "surrogatepass")
            if self.source.kind == "column" and not self.clear_if and "" not in texts
            else None
        )
        if joined is not None and not has_invalid_xml_chars(joined):
            # Often nothing is empty, needs trimming or converting: the cells are the values.
            unchanged = getattr(self.convert, "unchanged", None)
            if self.convert is None:
                if (
                    not self.trim
                    or not may_need_trimming(joined)
                    or all(map(operator.is_, texts, map(str.strip, texts)))
                ):
                    return Values(texts, clean=True)
            elif unchanged is not None and unchanged(texts):
                return Values(texts, clean=True)
        del joined
        one = self._one
        memo = {text: one(text) for text in dict.fromkeys(texts)}
        clean = not any(isinstance(v, Bad) for v in memo.values())
        return Values(map(memo.__getitem__, texts), clean)

    def _one(self, raw: str) -> Value:
        """One cell's value (the steps listed at the top of this module)."""
        bad = INVALID_XML_CHARS.search(raw)
        if bad is not None:
            return Bad(
                f"contains the control character U+{ord(bad.group()):04X}, which XML (and so "
                "Centra) cannot carry",
                self.source.label,
                raw,
                hint="remove it from the cell in the ERP (often a stray paste); tabs and line "
                "breaks are fine",
            )
        text = raw.strip() if self.trim else raw
        if self.clear_if and text in self.clear_if:
            return ""
        if not text:
            if self.source.kind == "clear":
                return ""
            if self.default is not None:
                text = self.default
            elif self.required:
                return Bad("is empty, but a value is required", self.source.label, raw)
            else:
                return None
        if self.convert is None:
            return text
        try:
            return self.convert(text)
        except ValueProblem as exc:
            return Bad(str(exc), self.source.label, text)
        except LeaveOut:
            return None


#: A table of one empty row, for sources that do not read the table (constants).
_ONE_ROW = Table(file="", header=[], columns=[], row_numbers=[0])


class LeaveOut(Exception):
    """Raised by a converter to leave the field out (a value map entry of ``null``)."""


def map_values(
    table: Mapping[str, str | None], default: str | None, column: str | None
) -> Converter:
    """A value map: the exact text first, then ignoring case; else the default or an error.

    A value of None (``null`` in YAML) leaves the field out for that cell value, e.g.
    ``shipment.capture: {column: Channel, map: {B2C: "yes", B2B: null}}``.
    """
    folded = {k.casefold(): v for k, v in table.items()}
    allowed = ", ".join(repr(k) for k in list(table)[:12])

    def convert(text: str) -> str:
        if text in table:
            hit = table[text]
        elif text.casefold() in folded:
            hit = folded[text.casefold()]
        elif default is not None:
            return default
        else:
            raise ValueProblem(f"is not one of the mapped values ({allowed})")
        if hit is None:
            raise LeaveOut
        return hit

    return convert
