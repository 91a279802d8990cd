"""Outbox files: CSV bytes as an export's options say, written durably in two steps.

``write_temp`` puts the bytes under ``.<name>.tmp`` and fsyncs them; ``publish`` renames that to
the final name and fsyncs the folder; ``write_marker`` adds the optional empty ``<name>.done``.
The pull journals between the steps, so after a crash it knows which step was reached: the ERP
never sees a partial file under a final name (it must ignore names starting with a dot).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.outbox.export_mapping import CsvOptions
from pipeline.outbox.values import FORMULA_START, neutralise
from pipeline.state.atomic import fsync_dir, write_atomic
from pipeline.testhooks import crash_point

MARKER_SUFFIX = ".done"
_FORMULA_START = frozenset(FORMULA_START)
_CELL_START = re.compile("\0[" + re.escape("".join(FORMULA_START)) + "]")


def render(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    options: CsvOptions,
    guard: Sequence[bool] | None = None,
) -> bytes:
    """The file's bytes. ``guard[i]`` says whether column i gets the formula guard."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=options.delimiter, lineterminator=options.line_ending)
    if options.header:
        writer.writerow(header)
    if guard is None:
        writer.writerows(rows)
    else:
        _write_guarded(buffer, writer, rows, options, guard)
    data = buffer.getvalue().encode(options.encoding, options.encoding_errors)
    if options.bom:
        data = _bom(options.encoding) + data
    return data


def _write_guarded(
    buffer: io.StringIO,
    writer: Any,
    rows: Iterable[Sequence[str]],
    options: CsvOptions,
    guard: Sequence[bool],
) -> None:
    """The rows, with the formula guard. Each row is joined once in C with NULs between the
    cells: a row where no cell starts like a formula, and none holds a NUL, the delimiter, a
    quote or a line break, is written as it is joined (what ``csv`` writes for it); any other
    row goes through the per-cell guard and ``csv`` as before."""
    guarded = [i for i, g in enumerate(guard) if g]
    width = len(guard)
    delimiter, end = options.delimiter, options.line_ending
    needs_csv = re.compile("[" + re.escape(delimiter + '"\r\n') + "]")
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} cells for {width} columns")
        try:
            joined: str | None = "\0".join(row)
        except TypeError:  # a cell that is not text: the loop below looks at it
            joined = None
        if joined is None or _CELL_START.search("\0" + joined):
            cells = list(row)
            for i in guarded:
                cell = cells[i]
                if cell[:1] in _FORMULA_START:
                    cells[i] = neutralise(cell)
            writer.writerow(cells)
        elif width > 1 and joined.count("\0") == width - 1 and not needs_csv.search(joined):
            buffer.write(joined.replace("\0", delimiter) + end)
        else:
            writer.writerow(row)


def _bom(encoding: str) -> bytes:
    return "\ufeff".encode(encoding.replace("-sig", ""), "strict")


def temp_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp")


def write_temp(final: Path, data: bytes) -> None:
    """Write ``data`` to the file's temp name and fsync it (the crash hook may stop us halfway)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    with open(tmp, "wb") as fh:
        half = len(data) // 2
        fh.write(data[:half])
        fh.flush()
        crash_point("during_write")
        fh.write(data[half:])
        fh.flush()
        os.fsync(fh.fileno())


def publish(final: Path) -> None:
    """Rename the temp file to its final name, durably. A final name is never overwritten."""
    if final.exists():
        raise FileExistsError(f"{final} already exists; the outbox counter must have gone back")
    os.rename(temp_path(final), final)
    fsync_dir(final.parent)


def write_marker(final: Path) -> None:
    """The empty ``<name>.done`` beside a published file."""
    marker = final.with_name(final.name + MARKER_SUFFIX)
    if not marker.exists():
        write_atomic(marker, b"")


def discard_temp(final: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        temp_path(final).unlink()


def stale_temps(folder: Path) -> list[Path]:
    """Temp files a killed pull left in the outbox (ours all start with a dot and end .tmp)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(".*.tmp") if p.is_file())
