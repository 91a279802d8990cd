"""Atomic writes, the workspace lock and the journal's durable records."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import LockedError
from pipeline.state.atomic import move_durably, unique_path, write_atomic
from pipeline.state.journal import Journal
from pipeline.state.lock import WorkspaceLock


def test_write_atomic_leaves_no_temp_file_and_never_overwrites_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "out" / "orders.csv"
    write_atomic(target, b"a,b\n")
    assert target.read_bytes() == b"a,b\n"
    with pytest.raises(FileExistsError):
        write_atomic(target, b"other", overwrite=False)
    assert target.read_bytes() == b"a,b\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["orders.csv"]


def test_failed_write_removes_the_temp_file(tmp_path: Path) -> None:
    from pipeline.state.atomic import atomic_writer

    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "x.csv") as fh:
        fh.write(b"half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_unique_path_and_move(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    (tmp_path / "a-2.csv").write_text("2")
    assert unique_path(tmp_path, "a.csv").name == "a-3.csv"
    src = tmp_path / "src.txt"
    src.write_text("x")
    move_durably(src, tmp_path / "sub" / "dst.txt")
    assert not src.exists() and (tmp_path / "sub" / "dst.txt").read_text() == "x"
    with pytest.raises(FileExistsError):
        (tmp_path / "again.txt").write_text("y")
        move_durably(tmp_path / "again.txt", tmp_path / "sub" / "dst.txt")


def test_lock_excludes_a_second_holder_and_survives_a_dead_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with WorkspaceLock(tmp_path, "run"):
        with pytest.raises(LockedError) as caught:
            WorkspaceLock(tmp_path, "watch").acquire()
        assert caught.value.exit_code == 4
        assert f"pid {os.getpid()}" in str(caught.value)
    # A process that dies holding the lock: the kernel frees it, the next taker warns.
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from pipeline.state.lock import WorkspaceLock
        WorkspaceLock(Path({str(tmp_path)!r}), "run").acquire()
        os._exit(9)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    with WorkspaceLock(tmp_path, "run"):
        pass
    assert "taking over the lock" in caplog.text


def test_journal_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        run = journal.start_run("run")
        fid = journal.claim_file("abc", "a.csv", 3, run, "/x/a.csv")
        journal.record_chunk(fid, "0:products", 0, [("sent", ""), ("failed", "bad size")])
        journal.index_catalogue([("1234567890123", "TURTLE001RED01", "T001", "T001_RED", "S")])
    with Journal.open(path) as journal:
        assert journal.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert [f.name for f in journal.unfinished_files()] == ["a.csv"]
        assert journal.chunk_outcomes(fid, "0:products") == {
            0: [["sent", ""], ["failed", "bad size"]]
        }
        assert journal.lookup_ean("1234567890123") == ("T001", "T001_RED", "S")
        journal.finish_file(fid, status="done", archive_path="arch", report_path="rep")
        assert journal.done_with_content("abc") is not None
        assert journal.unfinished_files() == []
        assert journal.next_counter("outbox") == 1 and journal.next_counter("outbox") == 2


def test_sighting_restarts_the_settle_window_when_the_file_changes(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        assert journal.sighting("a.csv", 10, 1, now=100.0) == 100.0
        assert journal.sighting("a.csv", 10, 1, now=105.0) == 100.0
        assert journal.sighting("a.csv", 20, 2, now=106.0) == 106.0
