"""Atomic file writes: a temp name in the same folder, fsync, rename, fsync the folder.

A reader (the ERP, a person, the next run) either sees the whole file under its final name or
nothing; a crash leaves at most a ``.*.tmp`` file, which every scan of ours ignores.

Example::

    with atomic_writer(outbox / "orders-20261127T020000Z-0001.csv") as fh:
        fh.write(b"...")
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: mkstemp creates files readable by their owner only; a report or an outbox file must be as
#: readable as any other file the process writes (the ERP may run as another user).
FILE_MODE = 0o666 & ~_umask()


def fsync_dir(folder: Path) -> None:
    """Make a rename or create in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path, *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically. With ``overwrite=False`` an existing file is an error."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target exists: never overwrite by accident.
            os.link(tmp, path)
            tmp.unlink()
        fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    with atomic_writer(path, overwrite=overwrite) as fh:
        fh.write(data)


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem-2.ext``, ``-3``... whichever does not exist yet."""
    candidate = folder / name
    if not candidate.exists():
        return candidate
    stem, dot, ext = name.partition(".")
    n = 2
    while True:
        candidate = folder / f"{stem}-{n}{dot}{ext}"
        if not candidate.exists():
            return candidate
        n += 1


def move_durably(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, never overwriting, durably.

    On one volume: a hard link then an unlink (the file is never absent). Across volumes (an
    archive on another disk or share): a copy under a temp name, fsync, link to the final
    name, then the unlink of the source. Either way the source is removed only once the
    target is complete on disk.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # fails if target exists
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with source.open("rb") as fh, atomic_writer(target, overwrite=False) as out:
            shutil.copyfileobj(fh, out, 1 << 20)
    source.unlink()
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)
