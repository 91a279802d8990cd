"""Hostile file contents (not names): refused early and cheaply, with short messages.

A header of hundreds of thousands of columns, a file of NUL bytes, a column list or a cell
value echoed into a message: each ends in exit code 1 (a refused file, not a crash), short
output on the terminal, and a small report or error note in archive/failed/ naming the cause.
Every case runs the real CLI, ``validate`` offline and ``run`` against the sandbox.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.batch.report import RowResult, write_error_note, write_report
from tests.batch.helpers import operations
from tests.conftest import Workspace, make_workspace

#: The stock mapping's columns (mappings/stock.yaml matches stock*.csv).
STOCK_HEADER = b"Article;Variant;Size;Warehouse;Free to allocate\n"
#: Printed output and archived notes stay this small whatever the file holds.
MAX_OUTPUT = 20_000
MAX_NOTE = 64_000

#: Python, pandas and the pipeline take 100-200 MB; reading the hostile file whole took 537+ MB.
MAX_PEAK_KB = 320_000
#: Runs the CLI in-process and prints its peak memory (KB) last on stderr.
_MEASURED = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('peak-kb', resource.getrusage(resource.RUSAGE_SELF)"
    ".ru_maxrss, file=sys.stderr))\n"
    "from pipeline.cli import main\n"
    "sys.argv[0] = 'centra-pipeline'\n"
    "main()\n"
)


def _wide_header(columns: int) -> bytes:
    return ",".join(f"c{i}" for i in range(columns)).encode() + b"\n" + b"1," * 5 + b"\n"


def _nuls(path: Path, megabytes: int) -> Path:
    with path.open("wb") as fh:
        for _ in range(megabytes):
            fh.write(b"\0" * 1_000_000)
    return path


def _validate(ws: Workspace, path: Path) -> tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, seconds, peak KB) of ``validate PATH``."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--workspace", str(ws.root), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ws.env(),
        cwd=ws.root,
    )
    seconds = time.monotonic() - start
    stderr, _, peak = done.stderr.rpartition("peak-kb ")
    return done.returncode, done.stdout, stderr, seconds, int(peak)


def _run(ws: Workspace) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = ws.cli("run")
    return done, time.monotonic() - start


def _failed_note(ws: Workspace, name: str) -> str:
    """The error note or report of ``name`` in archive/failed/, checked to be small."""
    (note,) = [
        p
        for p in (ws.archive / "failed").glob(f"{name}.*")
        if p.name.endswith((".result.csv", ".error.txt"))
    ]
    assert note.stat().st_size < MAX_NOTE, f"{note.name} is {note.stat().st_size:,} bytes"
    return note.read_text(encoding="utf-8")


def _offline(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", "http://127.0.0.1:9")  # validate sends nothing


# -- a header with far too many columns -----------------------------------------------------


def test_validate_refuses_a_header_of_200000_columns_quickly(tmp_path: Path) -> None:
    ws = _offline(tmp_path)
    path = tmp_path / "stock-wide.csv"
    path.write_bytes(_wide_header(200_000))
    code, out, err, seconds, peak_kb = _validate(ws, path)
    assert code == 1, (out[:2000], err[-2000:])
    assert "Traceback" not in err
    assert len(out) + len(err) < MAX_OUTPUT, f"{len(out) + len(err):,} characters printed"
    assert "the header row has 200,000 columns; at most 16,384 are read" in out, out[:2000]
    assert seconds < 10, f"{seconds:.1f} s"
    assert peak_kb < MAX_PEAK_KB, f"peak {peak_kb:,} KB"


def test_run_refuses_a_header_of_a_million_columns_with_a_short_note(
    workspace: Workspace, sandbox: Any
) -> None:
    (workspace.inbox / "stock-wide.csv").write_bytes(_wide_header(1_000_000))
    done, seconds = _run(workspace)
    assert done.returncode == 1, (done.stdout[:2000], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert len(done.stdout) + len(done.stderr) < MAX_OUTPUT
    note = _failed_note(workspace, "stock-wide.csv")
    assert "stock-wide.csv, line 1: the header row has more than 16,384 columns" in note, note[
        :2000
    ]
    assert "What to do:" in note
    assert seconds < 20, f"{seconds:.1f} s"
    assert not any(op.endswith("_Update") for op in operations(sandbox))


# -- NUL bytes ------------------------------------------------------------------------------


def test_validate_refuses_20_mb_of_nul_bytes_without_reading_them(tmp_path: Path) -> None:
    ws = _offline(tmp_path)
    path = _nuls(tmp_path / "stock-nul.csv", 20)
    code, out, err, seconds, peak_kb = _validate(ws, path)
    assert code == 1, (out[:2000], err[-2000:])
    assert "Traceback" not in err
    assert len(out) + len(err) < MAX_OUTPUT, f"{len(out) + len(err):,} characters printed"
    assert "stock-nul.csv: the file contains NUL bytes" in out, out[:2000]
    assert "not a text export" in out
    assert seconds < 5, f"{seconds:.1f} s"
    assert peak_kb < MAX_PEAK_KB, f"peak {peak_kb:,} KB"


def test_run_refuses_nul_bytes_with_a_short_note(workspace: Workspace, sandbox: Any) -> None:
    _nuls(workspace.inbox / "stock-nul.csv", 20)
    done, seconds = _run(workspace)
    assert done.returncode == 1, (done.stdout[:2000], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert len(done.stdout) + len(done.stderr) < MAX_OUTPUT
    note = _failed_note(workspace, "stock-nul.csv")
    assert "the file contains NUL bytes" in note, note[:2000]
    assert seconds < 5, f"{seconds:.1f} s"
    assert not any(op.endswith("_Update") for op in operations(sandbox))


# -- content echoed in messages -------------------------------------------------------------


def test_a_missing_column_names_only_the_first_columns_of_a_wide_header(
    tmp_path: Path,
) -> None:
    ws = _offline(tmp_path)
    path = tmp_path / "stock-many.csv"
    path.write_bytes(_wide_header(16_000))  # within the limit, but no mapped column
    code, out, err, _, _ = _validate(ws, path)
    assert code == 1, (out[:2000], err[-2000:])
    assert len(out) + len(err) < MAX_OUTPUT, f"{len(out) + len(err):,} characters printed"
    assert "the header row has no column 'Article'" in out
    assert "'c0', 'c1'" in out and "... and 15,9" in out, out[:2000]


def test_a_huge_cell_is_echoed_cut_short(workspace: Workspace, sandbox: Any) -> None:
    huge = b"9" * 100 + b"x" * 2_000_000
    rows = b"PWC;PWC;OS;MainWarehouse;" + huge + b"\n"
    (workspace.inbox / "stock-huge.csv").write_bytes(STOCK_HEADER + rows)
    code, out, err, _, _ = _validate(_offline(workspace.root.parent / "v"),
                                     workspace.inbox / "stock-huge.csv")  # fmt: skip
    assert code == 1, (out[:2000], err[-2000:])
    assert len(out) + len(err) < MAX_OUTPUT, f"{len(out) + len(err):,} characters printed"
    assert "is not a whole number (value '999" in out and "…')" in out, out[:2000]
    done, _ = _run(workspace)
    assert done.returncode == 1, (done.stdout[:2000], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert len(done.stdout) + len(done.stderr) < MAX_OUTPUT
    report = _failed_note(workspace, "stock-huge.csv")
    assert "is not a whole number" in report and "…" in report, report[:2000]


def test_reports_and_error_notes_never_grow_with_what_they_are_given(tmp_path: Path) -> None:
    huge = "x" * 5_000_000  # a key or a message from a cell, or from Centra
    write_report(tmp_path / "r.csv", [RowResult(2, "products", huge, "failed", huge)] * 3)
    assert (tmp_path / "r.csv").stat().st_size < MAX_NOTE
    text = (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert "(cut: 5,000,000 characters in all)" in text
    write_error_note(tmp_path / "e.txt", "f.csv", huge, huge)
    assert (tmp_path / "e.txt").stat().st_size < MAX_NOTE
    assert "What to do: xxx" in (tmp_path / "e.txt").read_text(encoding="utf-8")
