"""Shared fixtures: a real sandbox on 127.0.0.1 and workspaces in temporary folders.

End-to-end tests run the real CLI (``python -m pipeline``) in a subprocess against the sandbox
over real HTTP, with real files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
USERNAME, PASSWORD = "example", "Sandbox-Pa55word!"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from pipeline.sandbox import Sandbox

    with Sandbox(db=":memory:", username=USERNAME, password=PASSWORD) as sb:
        yield sb


@dataclass
class Workspace:
    root: Path
    url: str

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRA_")}
        env.update({"CENTRA_USERNAME": USERNAME, "CENTRA_PASSWORD": PASSWORD, **extra})
        return env

    def cli(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``python -m pipeline --workspace ROOT ARGS`` for real."""
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "--workspace", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**env),
            cwd=self.root,
        )

    def cli_json(self, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
        done = self.cli("--json", *args, **env)
        try:
            return done.returncode, json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not JSON: {done.stdout!r}\nstderr: {done.stderr}") from exc

    def drop(self, *names: str, source: Path = FIXTURES / "erp") -> None:
        for name in names:
            shutil.copyfile(source / name, self.inbox / name)


def make_workspace(root: Path, url: str, extra_yaml: str = "") -> Workspace:
    for folder in ("inbox", "outbox", "archive", "state"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "mappings", root / "mappings", dirs_exist_ok=True)
    (root / "pipeline.yaml").write_text(
        "centra:\n"
        f"  url: {url}\n"
        "  retry: {attempts: 3, backoff: 0.05, max_backoff: 0.2}\n"
        "inbox:\n  settle_seconds: 0\n" + extra_yaml,
        encoding="utf-8",
    )
    return Workspace(root, url)


@pytest.fixture
def workspace(tmp_path: Path, sandbox: Any) -> Workspace:
    return make_workspace(tmp_path / "ws", sandbox.url)
