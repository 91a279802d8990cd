"""`centra-pipeline status`: what a person (and a script, with --json) learns of the runs."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.sandbox import Sandbox
from tests.conftest import PASSWORD, USERNAME, make_workspace


def test_status_json_gives_runs_and_pulls_as_objects(tmp_path: Path) -> None:
    with Sandbox(db=":memory:", username=USERNAME, password=PASSWORD) as sb:
        ws = make_workspace(tmp_path / "ws", sb.url)
        ws.drop("markets.csv")
        assert ws.cli("run").returncode == 0
        status = ws.cli("--json", "status")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    summary = report["runs"][0]["summary"]
    assert isinstance(summary, dict), summary  # not JSON inside a JSON string
    assert summary["files"][0]["name"] == "markets.csv"
    assert isinstance(report["pull"]["files"], list)
    assert any("last pull:" in line for line in report["lines"])
