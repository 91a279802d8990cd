"""``centra-pipeline pull``: exit codes and the --json object."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.state.lock import WorkspaceLock
from tests.outbox.conftest import ENV


def invoke(
    ws: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "--json", "pull", *args], env=env)
    return result.exit_code, json.loads(result.stdout)


def test_help() -> None:
    result = CliRunner().invoke(cli, ["pull", "--help"])
    assert result.exit_code == 0 and "outbox" in result.output


def test_missing_credentials_is_exit_2(ws: Path) -> None:
    code, out = invoke(ws, env={"CENTRA_USERNAME": "", "CENTRA_PASSWORD": ""})
    assert code == 2 and out["exit_code"] == 2 and "centra.password" in str(out["error"])


def test_broken_export_mapping_is_exit_2(ws: Path) -> None:
    (ws / "mappings" / "export" / "orders.yaml").write_text("event_type: nonsense\n", "utf-8")
    code, out = invoke(ws, env=ENV)
    assert code == 2 and "event_type" in str(out["error"])


def test_unreachable_centra_is_exit_3(ws: Path) -> None:
    code, out = invoke(ws, env=ENV)  # the workspace points at port 9, where nothing listens
    assert code == 3 and out["events"]["fetched"] == 0  # type: ignore[index]


def test_a_held_lock_is_exit_4(ws: Path) -> None:
    with WorkspaceLock(ws / "state", "run"):
        code, out = invoke(ws, env=ENV)
    assert code == 4 and "lock" in str(out["error"])
