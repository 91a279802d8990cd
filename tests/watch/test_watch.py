"""``watch`` with real files, a real sandbox and the real command in a subprocess."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from typing import Any

from pipeline.state.lock import WorkspaceLock
from tests.conftest import Workspace
from tests.watch.helpers import (
    Watch,
    archived,
    claimed,
    configure,
    journal_files,
    lock_holder,
    markets_csv,
    markets_sent,
    report_rows,
    wait_for,
)


def test_a_file_written_slowly_is_imported_once_after_it_is_complete(
    workspace: Workspace, sandbox: Any
) -> None:
    configure(workspace, settle=1.0)
    ids = [f"SLOW{n:02d}" for n in range(12)]
    content = markets_csv(*ids)
    lines = content.splitlines(keepends=True)
    watch = Watch(workspace, "--mode", "events", "--rescan", "0.5")
    try:
        watch.wait_started()
        path = workspace.inbox / "markets-slow.csv"
        with path.open("wb") as fh:  # one line every 0.25 s: about 3 s, never 1 s unchanged
            for line in lines:
                fh.write(line)
                fh.flush()
                time.sleep(0.25)
                assert archived(workspace, "markets-slow.csv") == [], "taken while written"
        wait_for(lambda: archived(workspace, "markets-slow.csv"), 15, "the slow file's import")
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    (copy,) = archived(workspace, "markets-slow.csv")
    assert copy.read_bytes() == content
    report = report_rows(copy.with_name(copy.name + ".result.csv"))
    assert [(r["key"], r["status"]) for r in report] == [(m, "sent") for m in ids]
    assert [f["name"] for f in journal_files(workspace)] == ["markets-slow.csv"]
    assert markets_sent(sandbox) == ids  # one request, all rows, once


def test_renamed_in_and_temp_renamed_files_are_seen_once_by_events(
    workspace: Workspace, sandbox: Any
) -> None:
    configure(workspace, settle=0.3)
    staging = workspace.root / "staging"
    staging.mkdir()
    # a long rescan interval: only file-system events can make these prompt
    watch = Watch(workspace, "--mode", "events", "--rescan", "60")
    try:
        watch.wait_started()
        (staging / "markets-moved.csv").write_bytes(markets_csv("MOVED"))
        os.rename(staging / "markets-moved.csv", workspace.inbox / "markets-moved.csv")
        wait_for(lambda: archived(workspace, "markets-moved.csv"), 10, "the renamed-in file")

        temp = workspace.inbox / "markets-final.csv.tmp"
        temp.write_bytes(markets_csv("FINAL"))
        time.sleep(1.0)  # three settle periods: a temp name is never taken
        assert temp.exists() and archived(workspace, "markets-final.csv.tmp") == []
        os.rename(temp, workspace.inbox / "markets-final.csv")
        wait_for(lambda: archived(workspace, "markets-final.csv"), 10, "the final name")

        # `run` can go between watch cycles: the lock is held per cycle only
        done = workspace.cli("run")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "nothing to do" in done.stdout
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    files = journal_files(workspace)
    assert [f["name"] for f in files] == ["markets-moved.csv", "markets-final.csv"]
    assert {f["status"] for f in files} == {"done"}
    assert sorted(markets_sent(sandbox)) == ["FINAL", "MOVED"]
    assert not list(workspace.archive.rglob("*.tmp"))


def test_polling_mode_finds_files_without_events(workspace: Workspace, sandbox: Any) -> None:
    configure(workspace, settle=0.2)
    watch = Watch(workspace, "--mode", "polling", "--rescan", "0.3")
    try:
        watch.wait_started()
        workspace.drop("markets.csv")
        wait_for(lambda: archived(workspace, "markets.csv"), 10, "the polled file")
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    assert "(polling mode: as asked)" in watch.log()
    assert "observer" not in watch.log()  # none started, none restarted
    assert sorted(markets_sent(sandbox)) == ["Retail-Global", "Retail-Sweden", "Wholesale-Market"]


def test_cron_run_while_watch_is_busy_exits_4_and_sigterm_leaves_nothing_half_done(
    workspace: Workspace, sandbox: Any
) -> None:
    configure(workspace, settle=0)
    names = [f"markets-{n:02d}.csv" for n in range(12)]
    staging = workspace.root / "staging"
    staging.mkdir()
    for n, name in enumerate(names):
        (staging / name).write_bytes(markets_csv(f"BUSY{n:02d}"))
    sandbox.set_faults(latency_ms=400)  # about 5 s for the 12 files: a busy cycle
    watch = Watch(workspace, "--mode", "events", "--rescan", "60")
    try:
        watch.wait_started()
        for name in names:
            os.rename(staging / name, workspace.inbox / name)
        wait_for(lambda: lock_holder(workspace).get("command") == "watch", 10, "a busy cycle")
        cron = workspace.cli("run")
        assert cron.returncode == 4, cron.stdout + cron.stderr
        assert "another run holds the workspace lock (watch" in cron.stderr
        assert _run_pids(workspace) == {watch.proc.pid}  # cron's run changed nothing

        wait_for(lambda: claimed(workspace), 10, "claimed files")
        assert watch.proc.poll() is None
        code = watch.stop(signal.SIGTERM)
        assert code == 0, watch.log()
    finally:
        watch.kill()
    assert "SIGTERM received" in watch.log()
    assert lock_holder(workspace) == {}
    with WorkspaceLock(workspace.root / "state", "test"):
        pass  # released: nobody holds it
    # Each file is archived with its report, or still claimed for the next run: never half.
    for name in names:
        copies = archived(workspace, name)
        left = claimed(workspace, name)
        assert len(copies) + len(left) == 1, (name, copies, left)
        for copy in copies:
            assert copy.with_name(copy.name + ".result.csv").exists()
    sandbox.clear_faults()
    after = workspace.cli("run")
    assert after.returncode == 0, after.stdout + after.stderr
    for name in names:
        (copy,) = archived(workspace, name)
        assert report_rows(copy.with_name(copy.name + ".result.csv"))[0]["status"] == "sent"
    assert {f["status"] for f in journal_files(workspace)} == {"done"}
    assert sorted(set(markets_sent(sandbox))) == [f"BUSY{n:02d}" for n in range(12)]


def _run_pids(ws: Workspace) -> set[int]:
    db = sqlite3.connect(ws.root / "state" / "journal.sqlite")
    try:
        return {int(row[0]) for row in db.execute("SELECT pid FROM runs")}
    finally:
        db.close()
