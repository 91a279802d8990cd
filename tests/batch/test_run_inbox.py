"""What ``run`` takes from the inbox, when, and what it leaves: duplicates, new content under
an old name, unmatched and empty files, files still being written, lock and login."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from pipeline.state.lock import WorkspaceLock
from tests.batch.helpers import operations, report_rows
from tests.conftest import FIXTURES, Workspace, make_workspace

MARKETS = (FIXTURES / "erp" / "markets.csv").read_bytes()


def _updates(sandbox: Any) -> int:
    return sum(op.endswith("_Update") for op in operations(sandbox))


def test_same_content_again_is_not_resent_unless_forced(workspace: Workspace, sandbox: Any) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    assert workspace.cli("run").returncode == 0
    sent = _updates(sandbox)
    (workspace.inbox / "markets-copy.csv").write_bytes(MARKETS)
    code, out = workspace.cli_json("run")
    assert code == 0
    (dup,) = out["files"]
    assert dup["status"] == "duplicate"
    assert "same content as markets.csv" in dup["message"]
    assert _updates(sandbox) == sent, "nothing re-sent"
    assert Path(dup["archived"]).read_bytes() == MARKETS
    assert report_rows(dup["report"])[0]["status"] == "skipped"

    code, out = workspace.cli_json("push", dup["archived"], "--force")
    assert code == 0 and out["files"][0]["status"] == "done"
    assert _updates(sandbox) == sent + 1
    assert Path(dup["archived"]).exists(), "push leaves the original where it is"


def test_same_name_with_new_content_is_processed(workspace: Workspace, sandbox: Any) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    assert workspace.cli("run").returncode == 0
    changed = MARKETS.replace(b"Retail-Sweden,1,B2C,Sweden", b"Retail-Sweden,1,B2C,Sverige")
    (workspace.inbox / "markets.csv").write_bytes(changed)
    code, out = workspace.cli_json("run")
    assert code == 0 and out["files"][0]["status"] == "done"
    assert "<description>Sverige</description>" in sandbox.export("markets")
    archived = sorted(
        p.name for p in workspace.archive.rglob("markets*.csv") if ".result" not in p.name
    )
    assert archived == ["markets-2.csv", "markets.csv"], "nothing is overwritten in the archive"


def test_unmatched_and_empty_files_stay_in_the_inbox(workspace: Workspace) -> None:
    (workspace.inbox / "notes.txt").write_text("hello")
    (workspace.inbox / "markets.csv").write_bytes(b"")
    (workspace.inbox / "~$articles.xlsx").write_bytes(b"lock file of Excel")
    (workspace.inbox / "stock.csv.part").write_bytes(b"partial")
    code, out = workspace.cli_json("run")
    assert code == 0
    status = {f["name"]: f["status"] for f in out["files"]}
    assert status == {"notes.txt": "unmatched", "markets.csv": "waiting"}
    assert sorted(p.name for p in workspace.inbox.iterdir() if p.is_file()) == [
        "markets.csv",
        "notes.txt",
        "stock.csv.part",
        "~$articles.xlsx",
    ]
    shown = workspace.cli("status")
    assert shown.returncode == 0
    assert "notes.txt" in shown.stdout


def test_a_file_still_being_written_is_taken_once_complete(tmp_path: Path, sandbox: Any) -> None:
    ws = make_workspace(tmp_path / "ws", sandbox.url, "")
    (ws.root / "pipeline.yaml").write_text(
        (ws.root / "pipeline.yaml").read_text().replace("settle_seconds: 0", "settle_seconds: 1")
    )
    target = ws.inbox / "markets.csv"
    pieces = [MARKETS[i : i + 8] for i in range(0, len(MARKETS), 8)]

    def slow_writer() -> None:  # a copy that takes several seconds, never pausing 1 s
        with target.open("wb") as fh:
            for piece in pieces:
                fh.write(piece)
                fh.flush()
                time.sleep(0.4)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    time.sleep(0.3)
    runs = [ws.cli_json("run")]  # waits up to 3 x settle_seconds for the file to settle
    writer.join()
    if runs[0][1]["files"][0]["status"] == "waiting":
        runs.append(ws.cli_json("run"))
    assert len(pieces) * 0.4 > 3, "the copy outlasts the first run's wait"
    assert [code for code, _ in runs] == [0] * len(runs)
    done = [f for _, out in runs for f in out["files"] if f["status"] == "done"]
    assert len(done) == 1, runs
    assert done[0]["rows_sent"] == 3
    assert Path(done[0]["archived"]).read_bytes() == MARKETS
    assert sum(op == "markets_Update" for op in operations(sandbox)) == 1


def test_a_second_run_while_one_holds_the_lock_exits_4(workspace: Workspace) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    with WorkspaceLock(workspace.root / "state", "watch"):
        done = workspace.cli("run")
    assert done.returncode == 4
    assert "another run holds the workspace lock" in done.stderr
    assert (workspace.inbox / "markets.csv").exists()


def test_refused_login_exits_3_and_nothing_goes_to_failed(
    workspace: Workspace, sandbox: Any
) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    done = workspace.cli("run", CENTRA_PASSWORD="wrong-password")
    assert done.returncode == 3, done.stderr
    assert "refused the login" in done.stderr
    assert "wrong-password" not in done.stdout + done.stderr
    assert not (workspace.archive / "failed").exists()
    code, out = workspace.cli_json("run")
    assert code == 0
    assert [f["status"] for f in out["files"]] == ["done"]
    assert "Retail-Sweden" in sandbox.export("markets")


def test_a_missing_inbox_is_an_error_not_created(workspace: Workspace) -> None:
    workspace.inbox.rmdir()  # e.g. a share that is not mounted
    done = workspace.cli("run")
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "mount" in done.stderr
    assert not workspace.inbox.exists()


def test_a_claimed_file_whose_mapping_went_away_goes_to_failed(workspace: Workspace) -> None:
    (workspace.inbox / "markets.csv").write_bytes(MARKETS)
    killed = workspace.cli("run", CENTRA_PIPELINE_CRASH_AT="after_claim")
    assert killed.returncode == -9
    (workspace.root / "mappings" / "markets.yaml").unlink()
    code, out = workspace.cli_json("run")
    assert code == 1
    (entry,) = out["files"]
    assert entry["status"] == "failed" and "no mapping" in entry["message"]
    assert Path(entry["archived"]).read_bytes() == MARKETS
    assert Path(entry["archived"]).parent.name == "failed"
    assert "push the file" in Path(entry["report"]).read_text()
    assert [p for p in workspace.inbox.rglob("*") if p.is_file()] == []


def test_reports_name_the_column_and_value_and_are_readable_by_others(workspace: Workspace) -> None:
    (workspace.inbox / "markets.csv").write_bytes(
        MARKETS.replace(b"Retail-Sweden,1,", b"Retail-Sweden,abc,")
    )
    code, out = workspace.cli_json("run")
    assert code == 1
    report = Path(out["files"][0]["report"])
    (bad,) = [r for r in report_rows(report) if r["status"] == "failed"]
    assert bad["row"] == "3"
    assert bad["message"].startswith("column 'Store': ") and "(value 'abc')" in bad["message"]
    assert report.stat().st_mode & 0o044 == 0o044, "group and others may read the report"


def test_status_forgets_a_failure_once_the_file_is_pushed_fixed(workspace: Workspace) -> None:
    broken = MARKETS.replace(b"Retail-Sweden,1,", b"Retail-Sweden,abc,")
    (workspace.inbox / "markets.csv").write_bytes(broken)
    assert workspace.cli("run").returncode == 1
    assert "markets.csv: done, 1 row(s) failed" in workspace.cli("status").stdout
    fixed = workspace.root / "markets.csv"
    fixed.write_bytes(MARKETS)
    assert workspace.cli("push", str(fixed)).returncode == 0
    shown = workspace.cli("status").stdout
    assert "with failures: 0" in shown and "row(s) failed" not in shown
