"""The per-row result report (``<file>.result.csv``) and where files are archived.

One line per input row and target: the row number as a spreadsheet shows it, the target
entity and key, and ``sent``, ``skipped`` or ``failed`` with the message (the validation error,
or Centra's errors and notices).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.batch.sender import FAILED, SENT, SKIPPED, Outcome
from pipeline.state.atomic import atomic_writer, write_atomic
from pipeline.testhooks import crash_point

REPORT_COLUMNS = ("row", "target", "key", "status", "message")
#: For workbooks, whose row numbers are per sheet.
SHEET_COLUMNS = ("sheet", *REPORT_COLUMNS)
_RANK = {SENT: 0, SKIPPED: 1, FAILED: 2}


@dataclass(slots=True)
class RowResult:
    row: int | None
    target: str
    key: str
    status: str
    message: str
    sheet: str | None = None


def row_results(
    entities: Sequence[str],
    objects: Iterable[tuple[str, str, Sequence[int], Outcome]],
    problems: Iterable[tuple[int | None, str | None, str | None, str, bool]],
    row_numbers: Sequence[int],
    *,
    sheet: str | None = None,
) -> list[RowResult]:
    """Combine object outcomes and row problems into one result per (row, target).

    ``objects`` yields (entity, key, rows, outcome); ``problems`` yields (row, entity, key,
    message, collateral). A row that fed several objects of one target takes the worst outcome.
    """
    # One dict per target, keyed by row: a catalogue has millions of (row, target) results,
    # and no tuple per key nor per sort key is made for them.
    by_target: dict[str, dict[int | None, RowResult]] = {entity: {} for entity in entities}

    def put(result: RowResult) -> None:
        results = by_target.setdefault(result.target, {})
        old = results.get(result.row)
        if old is None or _RANK[result.status] > _RANK[old.status]:
            results[result.row] = result
        elif (
            _RANK[result.status] == _RANK[old.status]
            and result.message
            and result.message not in old.message
        ):
            joined = "; ".join(m for m in (old.message, result.message) if m)
            results[result.row] = RowResult(old.row, old.target, old.key, old.status, joined, sheet)

    for entity, key, rows, outcome in objects:
        status, message = outcome.status, outcome.message
        results = by_target.setdefault(entity, {})
        for row in rows:
            if row in results:
                put(RowResult(row, entity, key, status, message, sheet))
            else:  # the common case: the first result for this row and target
                results[row] = RowResult(row, entity, key, status, message, sheet)
    for p_row, p_entity, p_key, message, collateral in problems:
        targets = [p_entity] if p_entity else list(entities)
        for target in targets:
            status = SKIPPED if collateral else FAILED
            put(RowResult(p_row, target, p_key or "", status, message, sheet))
    tables = [t for t in by_target.values() if t]
    touched: set[int | None] = set().union(*tables)
    first = by_target[entities[0]]
    for row in row_numbers:
        if row not in touched:
            message = "nothing to send: the mapped cells of this row are empty"
            first[row] = RowResult(row, entities[0], "", SKIPPED, message, sheet)
            touched.add(row)
    tables = [t for t in by_target.values() if t]  # in entity order, then any other target
    ordered: list[int | None] = sorted(touched, key=_row_order)
    return [table[row] for row in ordered for table in tables if row in table]


def _row_order(row: int | None) -> int:
    return -1 if row is None else row  # a problem with no row comes first


def count(results: Iterable[RowResult]) -> tuple[int, int, int]:
    """(sent, skipped, failed) counted by input row: a row counts once, by its worst target."""
    worst: dict[tuple[str | None, int | None], str] = {}
    for r in results:
        slot = (r.sheet, r.row)
        if slot not in worst or _RANK[r.status] > _RANK[worst[slot]]:
            worst[slot] = r.status
    values = list(worst.values())
    return values.count(SENT), values.count(SKIPPED), values.count(FAILED)


def write_report(path: Path, results: Sequence[RowResult], *, overwrite: bool = False) -> None:
    """Write the report atomically; workbooks get a leading ``sheet`` column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    sheets = any(r.sheet for r in results)
    writer.writerow(SHEET_COLUMNS if sheets else REPORT_COLUMNS)
    if sheets:
        writer.writerows(
            (r.sheet or "", "" if r.row is None else r.row, r.target, r.key, r.status, r.message)
            for r in results
        )
    else:
        writer.writerows(
            ("" if r.row is None else r.row, r.target, r.key, r.status, r.message) for r in results
        )
    with atomic_writer(path, overwrite=overwrite) as fh:
        fh.write(buffer.getvalue().encode("utf-8"))
        crash_point("during_report")


def write_error_note(
    path: Path, file_name: str, reason: str, what_to_do: str, *, overwrite: bool = False
) -> None:
    text = f"{file_name} could not be processed.\n\nWhy: {reason}\n\nWhat to do: {what_to_do}\n"
    write_atomic(path, text.encode("utf-8"), overwrite=overwrite)
