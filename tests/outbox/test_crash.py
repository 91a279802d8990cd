"""Crash safety: a ``pull`` subprocess SIGKILLs itself at a named point (the test-only hook
``CENTRA_PIPELINE_CRASH_AT``); the next pull must leave every order in the outbox exactly once,
no partial file under a final name, no temp file, and the queue empty."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.sandbox import Sandbox
from pipeline.state.journal import Journal
from tests.outbox.conftest import ROOT, all_rows, env_for, outbox_files, run_pull
from tests.outbox.test_sandbox_e2e import place_orders

# Works before and after pipeline/cli/__init__.py imports the pull command itself.
BOOT = "import pipeline.cli.pull; from pipeline.cli import main; main()"


def pull_subprocess(ws: Path, sb: Sandbox, crash_at: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **env_for(sb),
        "CENTRA_PIPELINE_CRASH_AT": crash_at,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", BOOT, "--workspace", str(ws), "pull"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_final_files_complete(ws: Path) -> None:
    for path in outbox_files(ws):
        data = path.read_bytes()
        assert data.endswith(b"\r\n"), f"{path.name} is partial"
        widths = {len(line.split(b",")) for line in data.split(b"\r\n")[:1]}
        assert widths and all(line for line in data.split(b"\r\n")[:-1])


@pytest.mark.parametrize(
    "crash_at",
    [
        "after_fetch",
        "during_write",
        "during_write@2",
        "after_rename",
        "before_commit",
        "after_commit",
        "after_commit@2",
        "during_done",
    ],
)
def test_a_killed_pull_loses_nothing_and_doubles_nothing(
    ws: Path, shop: Sandbox, crash_at: str
) -> None:
    kinds = place_orders(shop, 150)
    queued = len(shop.events())
    assert queued > 100  # at least two batches

    killed = pull_subprocess(ws, shop, crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_final_files_complete(ws)
    temps = list((ws / "outbox").glob(".*.tmp"))
    if crash_at.startswith("during_write"):
        assert temps, "the crash should have left a partly written temp file"
    assert shop.events(), "the killed pull must not have emptied the queue"

    summary = run_pull(ws, shop)["events"]
    assert list((ws / "outbox").glob(".*")) == []
    assert shop.events() == []
    assert_final_files_complete(ws)
    if crash_at not in ("after_fetch",) and not crash_at.startswith("during_write"):
        assert summary["recovered"] >= 1

    rows = all_rows(ws)
    exported = {oid for oid, kind in kinds.items() if kind != "pending"}
    assert {r["order_id"] for r in rows} == exported
    per_line = Counter((r["order_id"], r["orderitem_id"], r["change"]) for r in rows)
    assert set(per_line.values()) == {1}, [k for k, v in per_line.items() if v > 1][:5]
    assert {r["change"] for r in rows} == {"new"}
    customers = Counter(r["customer_id"] for r in all_rows(ws, "customers"))
    assert set(customers.values()) == {1}

    with Journal.open(ws / "state" / "journal.sqlite") as journal:
        states = journal.db.execute("SELECT DISTINCT state FROM outbox_intents").fetchall()
        assert {s for (s,) in states} <= {"done", "discarded"}
