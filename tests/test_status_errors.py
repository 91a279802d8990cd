"""``status``, ``run`` and ``pull`` on an inbox that cannot be used: a message naming the folder,
the cause and what to do; never a traceback. The real CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Workspace
from tests.watch.helpers import without_root_powers


def _cli(ws: Workspace, *args: str, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pipeline", "--workspace", str(ws.root), *args],
        capture_output=True,
        text=True,
        env=ws.env(),
        timeout=120,
    )


@pytest.fixture(params=["a file", "no permission", "missing", "dangling link"])
def broken_inbox(request: Any, workspace: Workspace) -> Iterator[tuple[list[str], str]]:
    """(command prefix, what the message must say) with the inbox made unusable."""
    inbox, how, prefix = workspace.inbox, request.param, []
    if how == "a file":
        inbox.rmdir()
        inbox.write_text("not a folder\n", encoding="utf-8")
        cause = f"the inbox {inbox} is a file, not a folder"
    elif how == "no permission":
        prefix = without_root_powers()
        inbox.chmod(0)
        cause = f"cannot read the inbox {inbox}: permission denied for the user"
    elif how == "missing":
        inbox.rmdir()
        cause = f"the inbox {inbox} does not exist"
    else:
        inbox.rmdir()
        inbox.symlink_to(workspace.root / "unmounted-share")
        cause = f"the inbox {inbox} is a symbolic link to {workspace.root / 'unmounted-share'}"
    yield prefix, cause
    if inbox.is_dir() and not inbox.is_symlink():
        inbox.chmod(0o755)


def test_status_says_what_is_wrong_with_the_inbox_and_exits_2(
    workspace: Workspace, broken_inbox: tuple[list[str], str]
) -> None:
    prefix, cause = broken_inbox
    assert _cli(workspace, "pull", prefix=prefix).returncode == 0  # a run to show
    shown = _cli(workspace, "status", prefix=prefix)
    assert shown.returncode == 2, shown.stdout + shown.stderr
    assert "Traceback" not in shown.stderr
    assert f"Error: {cause}" in shown.stderr
    assert "What to do: " in shown.stderr
    assert "last runs:" in shown.stdout  # the rest is still shown
    assert f"inbox: {cause}" in shown.stdout
    as_json = _cli(workspace, "--json", "status", prefix=prefix)
    assert as_json.returncode == 2
    report = json.loads(as_json.stdout)
    assert cause in report["inbox_error"] and "What to do: " in report["inbox_error"]
    assert report["waiting"] == []


def test_run_and_pull_on_an_inbox_that_cannot_be_used(
    workspace: Workspace, broken_inbox: tuple[list[str], str]
) -> None:
    prefix, _ = broken_inbox
    ran = _cli(workspace, "run", prefix=prefix)
    assert ran.returncode in (1, 2), ran.stdout + ran.stderr  # the inbox message is run's own
    assert "Traceback" not in ran.stderr
    assert "run finished, exit" in ran.stderr and "Error: " in ran.stderr
    pulled = _cli(workspace, "pull", prefix=prefix)  # the pull needs no inbox
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert "Traceback" not in pulled.stderr
    log = (workspace.root / "state" / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert log.rstrip().endswith("INFO pipeline.pull: pull finished, exit 0")


def test_status_of_a_healthy_workspace_exits_0(workspace: Workspace, tmp_path: Path) -> None:
    workspace.drop("markets.csv")
    shown = _cli(workspace, "status")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip().endswith("waiting in the inbox: 1: markets.csv")
    assert json.loads(_cli(workspace, "--json", "status").stdout)["inbox_error"] is None
