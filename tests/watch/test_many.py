"""500 files dropped at once: each imported exactly once."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from tests.conftest import Workspace
from tests.watch.helpers import (
    Watch,
    claimed,
    configure,
    journal_files,
    markets_csv,
    markets_sent,
    wait_for,
)

COUNT = 500


def test_500_files_dropped_at_once_are_each_imported_once(
    workspace: Workspace, sandbox: Any
) -> None:
    configure(workspace, settle=0.2)
    staging = workspace.root / "staging"  # same file system: a rename is atomic
    staging.mkdir()
    names = [f"markets-{n:04d}.csv" for n in range(COUNT)]
    for n, name in enumerate(names):
        (staging / name).write_bytes(markets_csv(f"M{n:04d}"))
    watch = Watch(workspace, "--mode", "events", "--rescan", "1")
    try:
        watch.wait_started()
        for name in names:
            os.rename(staging / name, workspace.inbox / name)
        wait_for(
            lambda: len(list(workspace.archive.glob("*/markets-*.csv.result.csv"))) >= COUNT,
            90,
            f"{COUNT} result reports",
            interval=0.2,
        )
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    files = journal_files(workspace)
    assert Counter(f["name"] for f in files) == Counter(names)
    assert {f["status"] for f in files} == {"done"}
    sent = Counter(markets_sent(sandbox))
    assert sent == Counter(f"M{n:04d}" for n in range(COUNT))  # each market sent once
    archived = workspace.archive.glob("*/markets-*.csv")
    assert sorted(p.name for p in archived if not p.name.endswith(".result.csv")) == names
    assert [p.name for p in workspace.inbox.iterdir() if not p.name.startswith(".")] == []
    assert claimed(workspace) == []
