"""Atomic writes, the workspace lock and the journal's durable records."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import LockedError
from pipeline.state.atomic import (
    SymlinkedFolder,
    fit_name,
    move_durably,
    temp_prefix,
    unique_path,
    write_atomic,
)
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
        fid = journal.claim_file("abc", "a.csv", 3, run, "/x/a.csv").id
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


def test_a_journal_of_an_older_version_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:  # the files table as the first release made it
        db.execute(
            "CREATE TABLE files (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, name TEXT NOT NULL,"
            " size INTEGER NOT NULL, run_id INTEGER, status TEXT NOT NULL, claimed_path TEXT,"
            " mapping TEXT, entities TEXT, archive_path TEXT, report_path TEXT, message TEXT,"
            " rows_sent INTEGER DEFAULT 0, rows_skipped INTEGER DEFAULT 0,"
            " rows_failed INTEGER DEFAULT 0, claimed_at REAL NOT NULL, finished_at REAL)"
        )
        db.execute(
            "INSERT INTO files (sha256, name, size, status, claimed_path, claimed_at) "
            "VALUES ('abc', 'old.csv', 3, 'claimed', '/x/old.csv', 0)"
        )
    with Journal.open(path) as journal:
        (old,) = journal.unfinished_files()
        assert (old.name, old.forced, old.planned_status) == ("old.csv", False, None)
        new = journal.claim_file("def", "new.csv", 3, 1, "/x/new.csv", forced=True)
        journal.plan_archive(new.id, "/a/new.csv", "/a/new.csv.result.csv", status="failed")
        assert [(f.name, f.forced, f.planned_status) for f in journal.unfinished_files()] == [
            ("old.csv", False, None),
            ("new.csv", True, "failed"),
        ]


def test_journal_messages_are_capped(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        record = journal.claim_file("abc", "a.csv", 3, 1, "/x/a.csv")
        journal.finish_file(
            record.id, status="failed", archive_path=None, report_path=None, message="x" * 10**7
        )
        (row,) = journal.recent_files()
        assert len(row["message"]) < 5000 and row["message"].endswith("more characters)")


def test_long_names_are_shortened_to_distinct_valid_names(tmp_path: Path) -> None:
    a, b = "a" * 250 + "1.csv", "a" * 250 + "2.csv"  # 255 bytes each: valid as they are
    assert fit_name(a) == a
    short_a, short_b = fit_name(a + ".result.csv"), fit_name(b + ".result.csv")
    assert short_a != short_b and short_a.endswith(".csv.result.csv")
    assert max(len(short_a.encode()), len(short_b.encode())) <= 255
    umlauts = "ü" * 127 + ".csv"  # 258 bytes: cut between characters, never inside one
    assert fit_name(umlauts).encode().decode() == fit_name(umlauts)
    assert len(temp_prefix(a).encode()) + 12 <= 255
    write_atomic(tmp_path / a, b"x")  # its temp name fits too
    assert (tmp_path / a).read_bytes() == b"x"
    assert len(unique_path(tmp_path, a).name.encode()) <= 255


def test_a_move_killed_between_link_and_unlink_is_finished(tmp_path: Path) -> None:
    source, target = tmp_path / "in" / "a.csv", tmp_path / "archive" / "day" / "a.csv"
    source.parent.mkdir()
    source.write_bytes(b"rows")
    target.parent.mkdir(parents=True)
    os.link(source, target)  # where the kill left it
    move_durably(source, target, resume=True)
    assert not source.exists() and target.read_bytes() == b"rows"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]


def test_moves_refuse_symlinked_folders(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "failed").symlink_to(tmp_path / "elsewhere")
    source = tmp_path / "a.csv"
    source.write_bytes(b"x")
    with pytest.raises(SymlinkedFolder, match="symbolic link"):
        move_durably(source, tmp_path / "archive" / "failed" / "a.csv")
    assert source.exists() and list((tmp_path / "elsewhere").iterdir()) == []
