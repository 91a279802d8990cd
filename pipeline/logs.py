"""Logging set-up: readable on a terminal, one line per event otherwise, and a log file.

- On a terminal: ``14:02:03 WARNING  message`` (time, level, message; tracebacks as usual).
- Not on a terminal (cron, systemd, a pipe): exactly one line per event,
  ``2026-11-27T14:02:03+0000 WARNING pipeline.watcher: message``; a multi-line message or a
  traceback is folded onto that line (newlines become `` | ``), so ``grep`` and journald see
  one record per event.
- ``state/logs/pipeline.log`` (:func:`log_to_file`): the same one-line format at INFO level
  whatever ``-v`` says, rotated by size (``pipeline.log.1`` ... ``.5``).

Every handler carries the redacting filter, so even a careless log call cannot print the
password (the code never logs it in the first place; this is the second lock on the door).

Example::

    setup_logging(verbose=1)                     # the CLI group does this
    protect(settings.credentials.password)       # once the settings are loaded
    log_to_file(settings.folder("state"))        # once the workspace is known
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.secrets import REDACTOR, RedactingFilter, Secret

LOG_FOLDER = "logs"
LOG_NAME = "pipeline.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
_MARK = "_centra_pipeline"


class OneLineFormatter(logging.Formatter):
    """One record, one line: newlines in the message or traceback become `` | ``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return " | ".join(part for part in text.splitlines() if part.strip())


class TerminalFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(message)s", "%H:%M:%S")


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that several processes may append to (``watch`` and a cron ``run``).

    Before each record it checks that the file it holds open is still the one on disk; when
    another process has rotated it, it reopens the new file instead of writing on into the
    rotated one.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is not None:
                on_disk = os.stat(self.baseFilename)
                held = os.fstat(self.stream.fileno())
                if (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino):
                    self.stream.close()
                    self.stream = self._open()
        except FileNotFoundError:
            if self.stream is not None:
                self.stream.close()
            self.stream = self._open()
        except OSError:
            pass  # RotatingFileHandler reports its own write errors below
        super().emit(record)


def _mark(handler: logging.Handler) -> logging.Handler:
    handler.addFilter(RedactingFilter())
    setattr(handler, _MARK, True)
    return handler


def _ours(kind: type[logging.Handler]) -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, _MARK, False) and type(h) is kind]


def setup_logging(verbose: int = 0) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug. Calling it again replaces it."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in _ours(logging.StreamHandler):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalFormatter() if sys.stderr.isatty() else OneLineFormatter())
    handler.setLevel(level)
    root.addHandler(_mark(handler))
    _set_root_level()
    if verbose < 3:
        logging.getLogger("urllib3").setLevel(max(level, logging.INFO))


def log_to_file(state_dir: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> Path:
    """Also log INFO and above to ``STATE/logs/pipeline.log``, rotated by size; its path.

    Calling it again (another workspace) replaces the earlier file handler. Raises ConfigError
    (exit 2) when the file cannot be written.
    """
    folder = state_dir / LOG_FOLDER
    path = folder / LOG_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass  # writable now, or said now: not a logging traceback on every line later
    except OSError as exc:
        raise ConfigError(
            f"cannot write the log file {path}: {exc.strerror or exc}",
            hint=f"give the user running the pipeline write permission on {state_dir} "
            "(it holds the journal, the lock and the logs)",
        ) from exc
    root = logging.getLogger()
    for old in _ours(SharedRotatingFileHandler):
        root.removeHandler(old)
        old.close()
    handler = SharedRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    formatter = OneLineFormatter()
    formatter.converter = time.gmtime  # the file may be read from another time zone
    handler.setFormatter(formatter)
    handler.setLevel(logging.INFO)
    root.addHandler(_mark(handler))
    _set_root_level()
    return path


def protect(secret: str | Secret | None) -> None:
    """Mask ``secret`` in every log line from now on, before anything could log it.

    The Centra client registers its password when it is created; a command calls this as soon
    as the settings are loaded, so that even a line logged before the client exists (an error,
    the last line of a run) cannot show it.
    """
    REDACTOR.add(secret)


def _set_root_level() -> None:
    levels = [h.level for h in logging.getLogger().handlers if getattr(h, _MARK, False)]
    logging.getLogger().setLevel(min(levels) if levels else logging.WARNING)
