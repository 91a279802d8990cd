"""The per-row result report (``<file>.result.csv``) and the errors file beside it.

One line per input row and target: the row number as a spreadsheet shows it, the target
entity and key, and ``sent``, ``skipped`` or ``failed`` with the message (the validation error,
or Centra's errors and notices), then ``source``: the row's own key cells
(``Article=T001, Variant=T001_RED, Size=S``), which tell apart the rows of one object.

The errors file (``<file>.errors.csv``) holds the original rows that were not sent, with the
file's own header, encoding and delimiter, plus a status and a message column: fixed, it can
be dropped back into the inbox as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch.sender import FAILED, SENT, SKIPPED, Outcome
from pipeline.mapping.schema import CompiledMapping
from pipeline.readers import TEXT_SUFFIXES, ReadOptions, Table, read_table
from pipeline.state.atomic import atomic_writer, write_atomic
from pipeline.testhooks import crash_point

REPORT_COLUMNS = ("row", "target", "key", "status", "message", "source")
#: For workbooks, whose row numbers are per sheet.
SHEET_COLUMNS = ("sheet", *REPORT_COLUMNS)
_RANK = {SENT: 0, SKIPPED: 1, FAILED: 2}
#: A key or message cell of the report has at most this many characters, and the reason and
#: the advice of an error note each at most MAX_NOTE_PART: a report or note never grows with a
#: hostile file's cells (a message that echoes a cell cuts the cell far shorter already).
MAX_CELL = 4_000
MAX_NOTE_PART = 8_000


@dataclass(slots=True)
class RowResult:
    row: int | None
    target: str
    key: str
    status: str
    message: str
    sheet: str | None = None
    #: the row's key cells, ``Article=T001, Variant=T001_RED, Size=S``
    source: str = ""


#: What a row with no mapped value is told: not a row to fix.
EMPTY_ROW = "nothing to send: the mapped cells of this row are empty"

#: (key, status, message) of one row for one target; an object's rows share one.
_Entry = tuple[str, str, str]


class RowResults:
    """The results of one file (or sheet), one per (row, target), in row order.

    Kept as one dict per target from row to a shared (key, status, message), and made into
    :class:`RowResult` only while iterated: a catalogue has millions of them. Iterate it as
    often as needed.
    """

    def __init__(
        self,
        tables: dict[str, dict[int | None, _Entry]],
        rows: list[int | None],
        sheet: str | None,
        source: Callable[[int | None], str] | None = None,
    ) -> None:
        self.tables = tables
        self.rows = rows
        self.sheet = sheet
        self.source = source

    def __iter__(self) -> Iterator[RowResult]:
        sheet, source = self.sheet, self.source
        tables = [(target, table) for target, table in self.tables.items() if table]
        for row in self.rows:
            echo = source(row) if source is not None else ""
            for target, table in tables:
                entry = table.get(row)
                if entry is not None:
                    yield RowResult(row, target, entry[0], entry[1], entry[2], sheet, echo)

    def __len__(self) -> int:
        return sum(map(len, self.tables.values()))

    @property
    def sheets(self) -> bool:
        return bool(self.sheet) and len(self) > 0


def row_results(
    entities: Sequence[str],
    objects: Iterable[tuple[str, str, Sequence[int], Outcome]],
    problems: Iterable[tuple[int | None, str | None, str | None, str, bool]],
    row_numbers: Sequence[int],
    *,
    sheet: str | None = None,
    source: Callable[[int | None], str] | None = None,
) -> RowResults:
    """Combine object outcomes and row problems into one result per (row, target).

    ``objects`` yields (entity, key, rows, outcome); ``problems`` yields (row, entity, key,
    message, collateral). A row that fed several objects of one target takes the worst outcome;
    equal outcomes join their messages. ``source`` gives a row's key cells (a
    :class:`KeyEcho`).
    """
    by_target: dict[str, dict[int | None, _Entry]] = {entity: {} for entity in entities}

    def put(table: dict[int | None, _Entry], row: int | None, entry: _Entry) -> None:
        old = table.get(row)
        if old is None or _RANK[entry[1]] > _RANK[old[1]]:
            table[row] = entry
        elif _RANK[entry[1]] == _RANK[old[1]] and entry[2] and entry[2] not in old[2]:
            table[row] = (old[0], old[1], "; ".join(m for m in (old[2], entry[2]) if m))

    for entity, key, rows, outcome in objects:
        entry = (key, outcome.status, outcome.message)  # shared by the object's rows
        table = by_target.setdefault(entity, {})
        for row in rows:
            if row in table:
                put(table, row, entry)
            else:  # the common case: the first result for this row and target
                table[row] = entry
    for p_row, p_entity, p_key, message, collateral in problems:
        entry = (p_key or "", SKIPPED if collateral else FAILED, message)
        for target in [p_entity] if p_entity else entities:
            put(by_target.setdefault(target, {}), p_row, entry)
    touched: set[int | None] = set().union(*by_target.values())
    first = by_target[entities[0]]
    empty = ("", SKIPPED, EMPTY_ROW)
    for row in row_numbers:
        if row not in touched:
            first[row] = empty
            touched.add(row)
    return RowResults(by_target, sorted(touched, key=_row_order), sheet, source)


def key_columns(mapping: CompiledMapping) -> list[str]:
    """The columns that identify a row: those feeding the keys of the levels each target fills
    (``product.id``, ``variation.id``, ``size.id``...) and the EAN or SKU a target resolves."""
    found: dict[str, None] = {}
    for target in mapping.targets:
        entity = target.entity
        key_paths: set[str] = set()
        for level in {r.level for r in target.rules} | {entity.root}:
            for lv in entity.chain(level):
                keys = lv.key if lv.name == entity.root else lv.key[:1]
                key_paths.update(f"{lv.name}.{k}" for k in keys)
        rules = [r for r in target.rules if r.path in key_paths]
        if target.resolve is not None:
            rules.append(target.resolve.rule)
        for rule in rules:
            found.update(dict.fromkeys(rule.source.columns))
    return list(found)


class KeyEcho:
    """A row's key cells as text, ``Article=T001, Variant=T001_RED, Size=S``: the report's
    ``source`` column. Holds those columns only (the rest of the table can be freed)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.columns = [(name, table.columns[table.header.index(name)]) for name in columns]
        self.rows = table.row_numbers
        self._index: dict[int, int] | None = None

    def __call__(self, row: int | None) -> str:
        if row is None or not self.columns:
            return ""
        if self._index is None:  # built when the report is written, not while mapping
            self._index = {number: i for i, number in enumerate(self.rows)}
        i = self._index.get(row)
        if i is None:
            return ""
        return ", ".join(f"{name}={values[i]}" for name, values in self.columns)


class FileResults:
    """The results of every part (sheet, mapping) of a file, iterated one after another."""

    def __init__(self, parts: Sequence[Iterable[RowResult]]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[RowResult]:
        for part in self.parts:
            yield from part

    def __bool__(self) -> bool:
        return any(True for _ in self)

    @property
    def sheets(self) -> bool | None:
        found = [getattr(part, "sheets", None) for part in self.parts]
        return None if None in found else any(found)


def _row_order(row: int | None) -> int:
    return -1 if row is None else row  # a problem with no row comes first


def count(results: Iterable[RowResult]) -> tuple[int, int, int]:
    """(sent, skipped, failed) counted by input row: a row counts once, by its worst target."""
    sent, skipped, failed, _ = tally(results)
    return sent, skipped, failed


def tally(results: Iterable[RowResult]) -> tuple[int, int, int, dict[str, list[int]]]:
    """:func:`count`, and [sent, skipped, failed] per target, in one pass."""
    worst: dict[tuple[str | None, int | None], str] = {}
    by_target: dict[str, list[int]] = {}
    for r in results:
        slot = (r.sheet, r.row)
        if slot not in worst or _RANK[r.status] > _RANK[worst[slot]]:
            worst[slot] = r.status
        by_target.setdefault(r.target, [0, 0, 0])[_RANK[r.status]] += 1
    values = list(worst.values())
    return values.count(SENT), values.count(SKIPPED), values.count(FAILED), by_target


def write_report(path: Path, results: Iterable[RowResult], *, overwrite: bool = False) -> None:
    """Write the report atomically; workbooks get a leading ``sheet`` column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    known = getattr(results, "sheets", None)  # RowResults and FileResults know without a pass
    sheets = known if known is not None else any(r.sheet for r in results)
    writer.writerow(SHEET_COLUMNS if sheets else REPORT_COLUMNS)
    # Keys and messages come from the file's cells or from Centra: each is cut to MAX_CELL (the
    # length tests cost no measurable time at 600,000 rows; only a hostile cell is cut).
    limit, cut = MAX_CELL, _cut
    lines = (
        (
            r.sheet or "",
            "" if r.row is None else r.row,
            r.target,
            r.key if len(r.key) <= limit else cut(r.key),
            r.status,
            r.message if len(r.message) <= limit else cut(r.message),
            r.source if len(r.source) <= limit else cut(r.source),
        )
        for r in results
    )
    writer.writerows(lines if sheets else (line[1:] for line in lines))
    with atomic_writer(path, overwrite=overwrite) as fh:
        fh.write(buffer.getvalue().encode("utf-8"))
        crash_point("during_report")


def rows_to_fix(results: Iterable[RowResult]) -> dict[int, tuple[str, str]]:
    """The rows to put in the errors file: each row not sent for some target (failed, or
    skipped for any reason but having nothing to send), as row -> (worst status, message)."""
    found: dict[int, tuple[str, list[str]]] = {}
    for r in results:
        if r.row is None or r.status == SENT or r.message == EMPTY_ROW:
            continue
        what = f"{r.target} {r.key}" if r.key else r.target
        text = f"{what}: {r.message}" if r.message else what
        old = found.get(r.row)
        if old is None:
            found[r.row] = (r.status, [text])
            continue
        status = r.status if _RANK[r.status] > _RANK[old[0]] else old[0]
        found[r.row] = (status, old[1] if text in old[1] else [*old[1], text])
    return {row: (status, " | ".join(texts)) for row, (status, texts) in found.items()}


def errors_suffix(name: str, sheet: str | None = None) -> str:
    """What an errors file's name adds to the archived file's name: ``.errors`` and the file's
    own extension for a text file (``stock.csv.errors.csv`` still matches ``stock*.csv``); a
    workbook's is a CSV (one per sheet when several sheets have rows to fix)."""
    ext = Path(name).suffix
    if ext.lower() in TEXT_SUFFIXES:
        return f".errors{ext}"
    if sheet is None:
        return ".errors.csv"
    return "." + re.sub(r"[^\w -]+", "_", sheet).strip() + ".errors.csv"


def write_errors_file(
    path: Path,
    source: Path,
    options: ReadOptions,
    rows: dict[int, tuple[str, str]],
    *,
    overwrite: bool = False,
) -> int:
    """Write the original rows of ``source`` listed in ``rows``, in file order, with a status
    and a message column added; return how many were written.

    A text file is written as it came: its encoding, delimiter, line ends, and the lines above
    its header (``read.header_row``) and the rows skipped after it (``read.skip_rows``), so that
    its mapping reads it again. A workbook's sheet becomes a UTF-8 CSV (Excel opens it): the
    pipeline writes no workbooks (openpyxl stays behind the readers' door). The file is read
    again here, so only a file that has rows to fix pays for it.
    """
    table = read_table(source, options)
    text = source.suffix.lower() in TEXT_SUFFIXES
    encoding = (table.encoding or "utf-8") if text else "utf-8-sig"
    delimiter = (table.delimiter or ",") if text else ","
    newline = _newline(source, encoding) if text else "\r\n"
    header, width = list(table.header), len(table.header)
    if (
        ".errors." in source.name.lower()
        and width > 2
        and [h.lstrip("_").lower() for h in header[-2:]] == ["status", "message"]
    ):
        width -= 2  # an errors file dropped back: its own status and message are replaced
        status_name, message_name = header[width:]
    else:
        taken = {h.lower() for h in header}
        status_name, message_name = "status", "message"
        while status_name in taken or message_name in taken:
            status_name, message_name = "_" + status_name, "_" + message_name
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=delimiter, quotechar=options.quotechar, lineterminator=newline
    )
    if text and (options.header_row > 1 or options.skip_rows):
        before, skipped = _around_header(source, encoding, delimiter, options)
        buffer.write("".join(before))
        writer.writerow([*header[:width], status_name, message_name])
        writer.writerows(skipped)
    else:
        writer.writerow([*header[:width], status_name, message_name])
    columns = table.columns[:width]
    written = 0
    for i, number in enumerate(table.row_numbers):
        found = rows.get(number)
        if found is not None:
            writer.writerow([*(column[i] for column in columns), found[0], _cut(found[1])])
            written += 1
    with atomic_writer(path, overwrite=overwrite) as fh:
        fh.write(buffer.getvalue().encode(encoding, errors="replace"))
        crash_point("during_errors_file")
    return written


def _newline(source: Path, encoding: str) -> str:
    """The line end the file uses (from its first 64 KiB)."""
    with source.open("rb") as fh:
        head = fh.read(65536).decode(encoding, errors="ignore")
    return "\r\n" if "\r\n" in head else "\n"


def _around_header(
    source: Path, encoding: str, delimiter: str, options: ReadOptions
) -> tuple[list[str], list[list[str]]]:
    """The lines above the header row, as they are, and the records skipped after it."""
    text = source.read_bytes().decode(encoding, errors="replace").removeprefix("\ufeff")
    stream = io.StringIO(text, newline="")
    before = [stream.readline() for _ in range(options.header_row - 1)]
    records = csv.reader(stream, delimiter=delimiter, quotechar=options.quotechar)
    next(records, None)  # the header, written as the table has it
    return before, [next(records, []) for _ in range(options.skip_rows)]


def write_error_note(
    path: Path, file_name: str, reason: str, what_to_do: str, *, overwrite: bool = False
) -> None:
    """Write why a file failed as a whole and what to do; each part cut to MAX_NOTE_PART."""
    reason, what_to_do = _cut(reason, MAX_NOTE_PART), _cut(what_to_do, MAX_NOTE_PART)
    text = f"{file_name} could not be processed.\n\nWhy: {reason}\n\nWhat to do: {what_to_do}\n"
    write_atomic(path, text.encode("utf-8"), overwrite=overwrite)


def _cut(text: str, limit: int = MAX_CELL) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 40]}… (cut: {len(text):,} characters in all)"
