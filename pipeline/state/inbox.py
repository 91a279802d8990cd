"""Which inbox files are ready: complete, settled, and not someone's temp file.

Rules (the [batch-run] issue):

- ignored: names starting with ``.`` or ``~$``, ``*.tmp``, ``*.part``, ``*.crdownload``,
  ``*.filepart``, ``Thumbs.db``, ``desktop.ini``, ``*.done`` markers, folders, and symlinks
  (never followed: a link could point anywhere);
- a zero-byte file waits (a copy that has not started writing yet);
- a file is ready once its size and mtime have not changed for ``settle_seconds``, counted from
  when the pipeline first saw them (Windows copies keep the source's old mtime, so the mtime
  alone proves nothing);
- with ``done_marker`` on, ``NAME`` is ready only once ``NAME.done`` exists.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.state.journal import Journal

log = logging.getLogger(__name__)

IGNORED_PATTERNS = (
    ".*",
    "~$*",
    "*.tmp",
    "*.part",
    "*.crdownload",
    "*.filepart",
    "*.done",
    "*.result.csv",
    "thumbs.db",
    "desktop.ini",
)


def readable_name(name: str) -> str:
    """``name`` as text every part of the pipeline can store and print.

    A name that is not valid UTF-8 (a Latin-1 or Windows-1252 name from an SMB share or an old
    FTP server, ``stock-M\\xfcnchen.csv``) reaches Python with surrogate escapes, which SQLite,
    CSV reports and terminals refuse. Such a name is read as Windows-1252 (Latin-1 where that
    has no character): ``stock-München.csv``. A claimed file takes this name.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return name


def is_ignored(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in IGNORED_PATTERNS)


@dataclass
class Scan:
    ready: list[Path] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)  # name -> why it waits
    refused: dict[str, str] = field(default_factory=dict)  # name -> why it is never taken
    #: seconds until the next waiting file may become ready (None: nothing to wait for)
    next_due: float | None = None


def scan_inbox(
    inbox: Path,
    journal: Journal,
    *,
    settle_seconds: float,
    done_marker: bool = False,
    now: float | None = None,
) -> Scan:
    """Look at the inbox once; record sightings so the settle window survives between runs."""
    now = time.time() if now is None else now
    scan = Scan()
    try:
        entries = sorted(os.scandir(inbox), key=lambda e: e.name)
    except FileNotFoundError:
        return scan
    for entry in entries:
        name = readable_name(entry.name)
        if is_ignored(name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed while we looked
        if stat.S_ISLNK(info.st_mode):
            scan.refused[name] = "a symbolic link: not followed, for safety"
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if done_marker and not (inbox / f"{entry.name}.done").exists():
            scan.waiting[name] = f"waiting for its marker {name}.done"
            continue
        if info.st_size == 0:
            journal.forget_sighting(name)
            scan.waiting[name] = "empty (zero bytes): waiting for the copy to start"
            continue
        first_seen = journal.sighting(name, info.st_size, info.st_mtime_ns, now)
        remaining = settle_seconds - (now - first_seen)
        if remaining > 0:
            scan.waiting[name] = (
                f"settling: unchanged for {now - first_seen:.0f}s of {settle_seconds:.0f}s"
            )
            scan.next_due = remaining if scan.next_due is None else min(scan.next_due, remaining)
            continue
        scan.ready.append(inbox / entry.name)
    return scan
