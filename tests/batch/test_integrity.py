"""Edges where files were lost, doubled or wrongly counted (issue #15): odd and long names,
failed files and duplicates across kills, half-finished moves, symlinked working folders,
files still being written, broken mappings.

Every test runs the real CLI against the real sandbox over HTTP, with real files.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.batch.helpers import export_tree, operations, texts
from tests.conftest import FIXTURES, Workspace, make_workspace

MARKETS = (FIXTURES / "erp" / "markets.csv").read_bytes()


def _markets(*ids: str) -> bytes:
    return ("Market,Store,Channel,Name\n" + "".join(f"{i},1,B2C,{i}\n" for i in ids)).encode()


def _market_updates(sandbox: Any) -> int:
    return operations(sandbox).count("markets_Update")


def _archived(ws: Workspace) -> list[str]:
    """Names of archived ERP files (reports and error notes left out), sorted."""
    return sorted(
        os.fsdecode(p.name)
        for p in ws.archive.rglob("*")
        if p.is_file() and not p.name.endswith((".result.csv", ".error.txt"))
    )


def _journal(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(ws.root / "state" / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def _left_in_processing(ws: Workspace) -> list[Path]:
    return [p for p in (ws.inbox / ".processing").rglob("*") if p.is_file()]


# -- 1. a file name that is not UTF-8 --------------------------------------------------------


def test_a_latin1_file_name_is_imported_and_stops_nothing(
    workspace: Workspace, sandbox: Any
) -> None:
    raw = os.fsdecode(b"markets-M\xfcnchen.csv")  # as an SMB share hands a Latin-1 name over
    (workspace.inbox / raw).write_bytes(_markets("MUC"))
    (workspace.inbox / "markets-other.csv").write_bytes(_markets("OTHER"))

    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert sorted(f["name"] for f in out["files"]) == ["markets-München.csv", "markets-other.csv"]
    assert {"MUC", "OTHER"} <= set(texts(export_tree(sandbox, "markets"), "//market/id/text()"))
    assert _archived(workspace) == ["markets-München.csv", "markets-other.csv"]
    muc = next(f for f in out["files"] if f["name"] == "markets-München.csv")
    assert "not valid UTF-8" in muc["message"]
    assert not (workspace.inbox / raw).exists()
    (workspace.inbox / os.fsdecode(b"notes-\xe9t\xe9.txt")).write_bytes(b"no mapping")
    status = workspace.cli("status")
    assert status.returncode == 0, status.stderr
    assert "notes-été.txt" in status.stdout


# -- 2. a long file name ---------------------------------------------------------------------


def test_a_long_file_name_is_archived_with_its_report(workspace: Workspace, sandbox: Any) -> None:
    long_name = "markets-" + "x" * 236 + ".csv"  # 248 bytes: valid, but NAME.result.csv is not
    assert len(long_name.encode()) == 248
    (workspace.inbox / long_name).write_bytes(_markets("LONG1"))
    (workspace.inbox / "markets-z.csv").write_bytes(_markets("Z"))
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert [f["status"] for f in out["files"]] == ["done", "done"]
    assert _archived(workspace) == sorted([long_name, "markets-z.csv"])
    report = Path(next(f["report"] for f in out["files"] if f["name"] == long_name))
    assert report.exists() and len(report.name.encode()) <= 255
    assert "LONG1" in report.read_text(encoding="utf-8")

    # The same long name again the same day: a second, shortened unique name.
    (workspace.inbox / long_name).write_bytes(_markets("LONG2"))
    code, out = workspace.cli_json("run")
    assert code == 0 and out["files"][0]["status"] == "done", out
    archived = Path(out["files"][0]["archived"])
    assert archived.read_bytes() == _markets("LONG2") and len(archived.name.encode()) <= 255
    assert len(_archived(workspace)) == 3
    assert _left_in_processing(workspace) == []
    assert [p for p in workspace.root.rglob("*.tmp")] == []


def test_os_errors_are_explained_by_their_cause() -> None:
    from pipeline.batch.run import os_error_advice

    def advice(code: int) -> str:
        exc = OSError(code, os.strerror(code), "/ws/archive/x.csv")
        return str(os_error_advice(exc))

    assert "disk space" in advice(errno.ENOSPC)
    assert "permission" in advice(errno.EACCES) and "disk space" not in advice(errno.EACCES)
    assert "name" in advice(errno.ENAMETOOLONG) and "disk space" not in advice(errno.ENAMETOOLONG)
    assert "read-only" in advice(errno.EROFS)


def test_an_archive_that_is_not_a_folder_is_named_as_the_cause(
    workspace: Workspace, sandbox: Any
) -> None:
    workspace.archive.rmdir()
    workspace.archive.write_text("not a folder")
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    done = workspace.cli("run")
    assert done.returncode != 0
    assert "disk space" not in done.stderr
    assert "not a folder" in done.stderr and "Traceback" not in done.stderr


# -- 3. a failed file never counts as imported -----------------------------------------------


def test_a_failed_file_killed_after_its_move_stays_failed(
    workspace: Workspace, sandbox: Any
) -> None:
    bad = b"Marknad,Butik\nX,1\n"  # no column the markets mapping reads: fails as a whole
    (workspace.inbox / "markets-bad.csv").write_bytes(bad)
    killed = workspace.cli("run", CENTRA_PIPELINE_CRASH_AT="after_move")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert workspace.cli("run").returncode == 0
    assert _journal(workspace, "SELECT name, status FROM files") == [("markets-bad.csv", "failed")]

    (workspace.inbox / "markets-bad-again.csv").write_bytes(bad)
    code, out = workspace.cli_json("run")
    assert code == 1
    (again,) = out["files"]
    assert again["status"] == "failed", "not skipped as 'already imported'"
    assert "already imported" not in again["message"]


# -- 4. duplicate content: on resume, and within one run -------------------------------------


def test_duplicate_content_resumed_after_a_kill_is_not_sent(
    workspace: Workspace, sandbox: Any
) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    assert workspace.cli("run").returncode == 0
    sent = _market_updates(sandbox)
    (workspace.inbox / "markets-again.csv").write_bytes(MARKETS)
    killed = workspace.cli("run", CENTRA_PIPELINE_CRASH_AT="after_claim")
    assert killed.returncode == -signal.SIGKILL
    code, out = workspace.cli_json("run")
    assert code == 0, out
    (again,) = out["files"]
    assert again["status"] == "duplicate", again
    assert _market_updates(sandbox) == sent, "the resumed duplicate sent nothing"


def test_a_resumed_forced_push_is_finished(workspace: Workspace, sandbox: Any) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    assert workspace.cli("run").returncode == 0
    sent = _market_updates(sandbox)
    source = workspace.root / "markets-force.csv"
    source.write_bytes(MARKETS)
    killed = workspace.cli("push", str(source), "--force", CENTRA_PIPELINE_CRASH_AT="after_claim")
    assert killed.returncode == -signal.SIGKILL
    code, out = workspace.cli_json("run")
    assert code == 0
    assert [f["status"] for f in out["files"]] == ["done"], "--force holds on resume"
    assert _market_updates(sandbox) == sent + 1


def test_two_files_with_the_same_content_in_one_run_are_sent_once(
    workspace: Workspace, sandbox: Any
) -> None:
    (workspace.inbox / "markets-a.csv").write_bytes(MARKETS)
    (workspace.inbox / "markets-b.csv").write_bytes(MARKETS)
    code, out = workspace.cli_json("run")
    assert code == 0, out
    statuses = {f["name"]: f["status"] for f in out["files"]}
    assert statuses == {"markets-a.csv": "done", "markets-b.csv": "duplicate"}
    assert _market_updates(sandbox) == 1
    dup = next(f for f in out["files"] if f["name"] == "markets-b.csv")
    assert "markets-a.csv" in dup["message"]
    assert _archived(workspace) == ["markets-a.csv", "markets-b.csv"]


# -- 5. a kill between link and unlink when archiving ---------------------------------------


@pytest.mark.parametrize("point", ["during_move", "during_move@2"])
def test_a_move_killed_half_way_leaves_one_archived_copy(
    workspace: Workspace, sandbox: Any, point: str
) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    (workspace.inbox / "markets-b.csv").write_bytes(_markets("B"))
    killed = workspace.cli("run", CENTRA_PIPELINE_CRASH_AT=point)
    assert killed.returncode == -signal.SIGKILL
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert _archived(workspace) == ["markets-b.csv", "markets.csv"], "each file archived once"
    assert sorted(p.name for p in workspace.archive.rglob("*.result.csv")) == [
        "markets-b.csv.result.csv",
        "markets.csv.result.csv",
    ]
    assert _left_in_processing(workspace) == []
    assert _journal(workspace, "SELECT status FROM files") == [("done",), ("done",)]


# -- 8. symlinked working folders ------------------------------------------------------------


def test_a_symlinked_processing_folder_is_refused(
    workspace: Workspace, sandbox: Any, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "7").mkdir(parents=True)
    (elsewhere / "7" / "markets-evil.csv").write_bytes(_markets("EVIL"))
    (workspace.inbox / ".processing").symlink_to(elsewhere)
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    done = workspace.cli("run")
    assert done.returncode == 2, done.stderr
    assert ".processing" in done.stderr and "symbolic link" in done.stderr
    assert (elsewhere / "7" / "markets-evil.csv").exists(), "nothing moved from elsewhere"
    assert _market_updates(sandbox) == 0, "nothing sent"
    assert (workspace.inbox / "markets.csv").exists()


def test_a_symlinked_archive_day_folder_is_refused(
    workspace: Workspace, sandbox: Any, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace.archive / "failed").symlink_to(elsewhere)
    (workspace.inbox / "markets-bad.csv").write_bytes(b"Marknad,Butik\nX,1\n")
    done = workspace.cli("run")
    assert done.returncode != 0
    assert "symbolic link" in done.stderr
    assert list(elsewhere.iterdir()) == [], "nothing written through the link"


# -- 9. a file still being written when it was claimed ---------------------------------------


def _start_run(ws: Workspace, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--workspace", str(ws.root), "--json", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ws.env(**env),
        cwd=ws.root,
    )


@pytest.mark.parametrize("point", ["after_map", "before_archive"])
def test_a_file_that_grows_after_its_claim_is_failed_clearly(
    workspace: Workspace, sandbox: Any, point: str
) -> None:
    half = _markets("HALF1", "HALF2")
    (workspace.inbox / "markets.csv").write_bytes(half)
    process = _start_run(workspace, CENTRA_PIPELINE_PAUSE_AT=f"{point}=3")
    deadline = time.monotonic() + 30
    claimed: list[Path] = []
    while not claimed and time.monotonic() < deadline:
        claimed = _left_in_processing(workspace)
        time.sleep(0.01)
    assert claimed, "the file was claimed"
    time.sleep(0.5)  # the run is now paused at the point
    with claimed[0].open("ab") as fh:  # the ERP's copy goes on into the renamed file
        fh.write(b"LATE,1,B2C,late\n")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    import json

    (result,) = json.loads(stdout)["files"]
    assert result["status"] == "failed"
    assert "changed while" in result["message"] and "done_marker" in result["message"]
    archived = Path(result["archived"])
    assert archived.parent.name == "failed" and archived.read_bytes().endswith(b"late\n")
    ids = set(texts(export_tree(sandbox, "markets"), "//market/id/text()"))
    assert "LATE" not in ids
    if point == "after_map":
        assert _market_updates(sandbox) == 0, "nothing of a changing file is sent"
    # Pushed again once complete, it is imported, not skipped as a duplicate.
    code, out = workspace.cli_json("push", str(archived))
    assert code == 0 and out["files"][0]["status"] == "done", out
    assert "LATE" in set(texts(export_tree(sandbox, "markets"), "//market/id/text()"))


# -- 7. a file over max_file_mb is refused before it is read ----------------------------------


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, sandbox: Any) -> None:
    ws = make_workspace(tmp_path / "ws", sandbox.url, "  max_file_mb: 1\n")
    big = _markets("BIG") + b"\n" * (2 << 20)
    (ws.inbox / "markets-big.csv").write_bytes(big)
    code, out = ws.cli_json("run")
    assert code == 1
    (result,) = out["files"]
    assert result["status"] == "failed" and "max_file_mb" in result["message"]
    import hashlib

    ((sha,),) = _journal(ws, "SELECT sha256 FROM files")
    assert sha != hashlib.sha256(big).hexdigest(), "not hashed: refused by its size first"
    assert _market_updates(sandbox) == 0


# -- 11. a broken mapping fails only its own files -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'match: "broken*.csv"\ntargets:\n  - entity: markets\n    fields: {market.nope: A}\n',
        'match: "broken*.csv"\ntargets: [unclosed\n',
    ],
    ids=["unknown-field", "not-yaml"],
)
def test_a_broken_mapping_stops_only_its_own_files(
    workspace: Workspace, sandbox: Any, text: str
) -> None:
    workspace.drop("markets.csv", "sizes.csv", "warehouses.csv", "articles.csv", "prices.csv")
    assert workspace.cli("run").returncode == 0
    (workspace.root / "mappings" / "broken.yaml").write_text(text, encoding="utf-8")
    (workspace.inbox / "markets-new.csv").write_bytes(_markets("NEW"))
    (workspace.inbox / "broken-1.csv").write_bytes(b"A\n1\n")
    order = sandbox.place_order(
        "Retail-Sweden", [("SC01", "SC01_GREY", "OS", 1)], pricelist="EUR-Retail"
    )
    code, out = workspace.cli_json("run")
    assert code == 2, out
    statuses = {f["name"]: f["status"] for f in out["files"]}
    assert statuses["markets-new.csv"] == "done"
    broken = next(f for f in out["files"] if f["name"] == "broken-1.csv")
    assert broken["status"] == "failed" and "broken.yaml" in broken["message"]
    assert (workspace.inbox / "broken-1.csv").exists(), "it waits for the mapping's fix"
    assert any(order in p.read_text(encoding="utf-8") for p in workspace.outbox.glob("*.csv"))

    (workspace.root / "mappings" / "broken.yaml").unlink()
    (workspace.root / "mappings" / "broken.yaml").write_text(
        'match: "broken*.csv"\ntargets:\n  - entity: markets\n'
        "    fields: {market.id: A, market.store: {constant: 1}}\n",
        encoding="utf-8",
    )
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert [f["status"] for f in out["files"]] == ["done"]
