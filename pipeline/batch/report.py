"""The per-row result report (``<file>.result.csv``) and where files are archived.

One line per input row and target: the row number as a spreadsheet shows it, the target
entity and key, and ``sent``, ``skipped`` or ``failed`` with the message (the validation error,
or Centra's errors and notices).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch.sender import FAILED, SENT, SKIPPED, Outcome
from pipeline.state.atomic import atomic_writer, write_atomic
from pipeline.testhooks import crash_point

REPORT_COLUMNS = ("row", "target", "key", "status", "message")
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
    ) -> None:
        self.tables = tables
        self.rows = rows
        self.sheet = sheet

    def __iter__(self) -> Iterator[RowResult]:
        sheet = self.sheet
        tables = [(target, table) for target, table in self.tables.items() if table]
        for row in self.rows:
            for target, table in tables:
                entry = table.get(row)
                if entry is not None:
                    yield RowResult(row, target, entry[0], entry[1], entry[2], sheet)

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
) -> RowResults:
    """Combine object outcomes and row problems into one result per (row, target).

    ``objects`` yields (entity, key, rows, outcome); ``problems`` yields (row, entity, key,
    message, collateral). A row that fed several objects of one target takes the worst outcome;
    equal outcomes join their messages.
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
    empty = ("", SKIPPED, "nothing to send: the mapped cells of this row are empty")
    for row in row_numbers:
        if row not in touched:
            first[row] = empty
            touched.add(row)
    return RowResults(by_target, sorted(touched, key=_row_order), sheet)


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
        )
        for r in results
    )
    writer.writerows(lines if sheets else (line[1:] for line in lines))
    with atomic_writer(path, overwrite=overwrite) as fh:
        fh.write(buffer.getvalue().encode("utf-8"))
        crash_point("during_report")


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
