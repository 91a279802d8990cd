"""Running the real ``watch`` command in a subprocess, and waiting with deadlines."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import Workspace

T = TypeVar("T")

#: The CLI with this issue's commands registered (until pipeline/cli/__init__.py imports them).
CLI = (
    "import pipeline.cli.watch, pipeline.cli.init, pipeline.cli.demo; "
    "from pipeline.cli import cli; cli(prog_name='centra-pipeline')"
)


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def configure(ws: Workspace, *, settle: float, poll: float = 60, extra: str = "") -> None:
    """Rewrite the workspace's pipeline.yaml (make_workspace's has settle_seconds 0)."""
    (ws.root / "pipeline.yaml").write_text(
        f"centra:\n  url: {ws.url}\n"
        "  retry: {attempts: 3, backoff: 0.05, max_backoff: 0.2}\n"
        f"inbox:\n  settle_seconds: {settle}\n"
        f"orders:\n  poll_interval: {poll}\n" + extra,
        encoding="utf-8",
    )


def markets_csv(*ids: str) -> bytes:
    rows = ["Market,Store,Channel,Name"] + [f"{m},1,B2C,Market {m}" for m in ids]
    return ("\r\n".join(rows) + "\r\n").encode()


def without_root_powers() -> list[str]:
    """A command prefix under which ``chmod 000`` denies access, as it does to a service user.

    Tests often run as root, whom permissions do not stop: there the command runs under
    ``setpriv`` without the capabilities that override them. Skips when that is impossible.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod 000 cannot deny root anything")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here")
    return prefix


class Watch:
    """``centra-pipeline watch`` in a subprocess; its log (stderr) goes to a file.

    ``prefix`` goes before the command (e.g. :func:`without_root_powers`).
    """

    def __init__(self, ws: Workspace, *args: str, prefix: Sequence[str] = (), **env: str) -> None:
        self.ws = ws
        self.log_path = ws.root.parent / f"watch-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*prefix, *cli_argv("--workspace", str(ws.root), "watch", *args)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=ws.env(**env),
            cwd=ws.root,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_started(self, timeout: float = 20) -> None:
        started = lambda: "watching " in self.log() or self.proc.poll() is not None  # noqa: E731
        wait_for(started, timeout, "the watcher to start")
        assert self.proc.poll() is None, self.log()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def archived(ws: Workspace, name: str) -> list[Path]:
    return sorted(p for p in ws.archive.glob(f"*/{name}") if p.parent.name != "failed")


def claimed(ws: Workspace, name: str = "") -> list[Path]:
    """Files left claimed in inbox/.processing/ (whatever its layout), ending with ``name``."""
    processing = ws.inbox / ".processing"
    return sorted(p for p in processing.rglob("*") if p.is_file() and p.name.endswith(name))


def journal_files(ws: Workspace) -> list[dict[str, Any]]:
    db = sqlite3.connect(ws.root / "state" / "journal.sqlite")
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM files ORDER BY id")]
    finally:
        db.close()


def report_rows(path: str | Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def lock_holder(ws: Workspace) -> dict[str, Any]:
    try:
        raw = (ws.root / "state" / "lock").read_text()
    except FileNotFoundError:
        return {}
    return json.loads(raw) if raw.strip() else {}


def markets_sent(sandbox: Any) -> list[str]:
    """Every market id in every markets_Update the sandbox received, in order."""
    import re

    ids: list[str] = []
    for request in sandbox.requests(100_000):
        if request["operation"] == "markets_Update":
            ids += re.findall(r"<market>\s*<id>([^<]+)</id>", request["request"])
    return ids


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
