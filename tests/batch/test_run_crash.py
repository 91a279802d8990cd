"""``run`` killed (SIGKILL) at each point of its work: the next run finishes the job.

After each crash and a normal second run: every row is applied (the sandbox's state equals a
clean run's), nothing is sent twice except a re-send of the one chunk that was sent but not
yet journaled (safe: updates are upserts), every file is archived exactly once with its
report, and nothing is left in the inbox or the processing area.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.batch.helpers import operations
from tests.conftest import PASSWORD, USERNAME, make_workspace

FILES = ("markets.csv", "sizes.csv", "articles.csv")
SMALL_CHUNKS = "batch:\n  per_entity: {products: 2, stock: 2, pricelists: 3}\n"
ENTITIES = ("markets", "sizes", "products", "pricelists")


def _updates(sandbox: Any) -> int:
    return sum(op.endswith("_Update") for op in operations(sandbox))


def _state(sandbox: Any) -> dict[str, str]:
    return {entity: sandbox.export(entity) for entity in ENTITIES}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], int]:
    """The state and the number of update requests of an uninterrupted run."""
    with Sandbox(db=":memory:", username=USERNAME, password=PASSWORD) as sb:
        ws = make_workspace(tmp_path_factory.mktemp("clean") / "ws", sb.url, SMALL_CHUNKS)
        ws.drop(*FILES)
        assert ws.cli("run").returncode == 0
        return _state(sb), _updates(sb)


@pytest.mark.parametrize(
    ("point", "extra_requests"),
    [
        ("after_claim", 0),
        ("before_chunk_journal@3", 1),  # the third chunk was sent, its answer not journaled
        ("after_chunk@4", 0),  # half-way through the chunks
        ("before_archive", 0),
        ("during_report@2", 0),  # the second report half-written under its temp name
        ("before_move@2", 0),  # the second file's report is written, the file not moved
        ("after_move@2", 0),  # the second file is archived, the journal not yet told
    ],
)
def test_killed_run_is_finished_by_the_next(
    tmp_path: Path,
    sandbox: Any,
    clean_run: tuple[dict[str, str], int],
    point: str,
    extra_requests: int,
) -> None:
    expected_state, expected_requests = clean_run
    ws = make_workspace(tmp_path / "ws", sandbox.url, SMALL_CHUNKS)
    ws.drop(*FILES)
    killed = ws.cli("run", CENTRA_PIPELINE_CRASH_AT=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    code, out = ws.cli_json("run")
    assert code == 0, out
    assert _state(sandbox) == expected_state, "every row applied"
    assert _updates(sandbox) <= expected_requests + extra_requests
    if extra_requests == 0:
        assert _updates(sandbox) == expected_requests, "nothing sent twice"

    archived = sorted(
        p.name for p in ws.archive.rglob("*") if p.is_file() and not p.name.endswith(".result.csv")
    )
    assert archived == sorted(FILES), "every file archived exactly once"
    reports = sorted(p.name for p in ws.archive.rglob("*.result.csv"))
    assert reports == sorted(f"{name}.result.csv" for name in FILES)
    assert not (ws.archive / "failed").exists()
    leftovers = [p.name for p in ws.inbox.rglob("*") if p.is_file()]
    assert leftovers == [], "nothing left in the inbox or the processing area"
    temp_files = [p for p in ws.root.rglob("*.tmp")]
    assert temp_files == []
    status = ws.cli("--json", "status")
    assert status.returncode == 0
