"""One lock per workspace, shared by run, push, pull and watch.

The lock is an ``flock`` on ``state/lock``: the kernel releases it when its process dies, so a
lock can never be left stale by a crash. The file also records the holder's pid and start time;
finding a dead holder's pid there means the last run died without cleaning up, which is logged
as a warning when the lock is taken over.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from pathlib import Path
from types import TracebackType

from pipeline.errors import LockedError

log = logging.getLogger(__name__)


class WorkspaceLock:
    """Example::

    with WorkspaceLock(state_dir, "run"):
        ...  # LockedError (exit 4) if another run holds it
    """

    def __init__(self, state_dir: Path, command: str) -> None:
        self.path = state_dir / "lock"
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            who = f" ({holder.get('command', '?')}, pid {holder.get('pid', '?')})" if holder else ""
            raise LockedError(
                f"another run holds the workspace lock{who}",
                hint="wait for it to finish; nothing was changed by this attempt",
            ) from None
        previous = _read_holder(fd)
        if previous.get("pid") and previous.get("pid") != os.getpid():
            log.warning(
                "taking over the lock left by %s (pid %s), which ended without releasing it",
                previous.get("command", "a run"),
                previous["pid"],
            )
        record = json.dumps({"pid": os.getpid(), "command": self.command, "since": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, object]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw) if raw.strip() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
