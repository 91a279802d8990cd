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
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from pipeline.testhooks import crash_point

TEMP_SUFFIX = ".tmp"
#: The longest file name (in bytes) of the file systems we write to (ext4, xfs, btrfs, NTFS via
#: SMB all allow 255).
NAME_MAX = 255
#: mkstemp's random part: ``.`` + 8 characters, then TEMP_SUFFIX.
_TEMP_EXTRA = 1 + 8 + len(TEMP_SUFFIX)


class SymlinkedFolder(OSError):
    """A working folder of the pipeline is a symbolic link: never followed."""


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of its file-system encoding, never mid-character."""
    raw = os.fsencode(text)
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore") if _is_utf8(raw) else os.fsdecode(raw[:limit])


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def fit_name(name: str) -> str:
    """``name``, shortened when it is longer than NAME_MAX bytes.

    The stem is cut and a short hash of the whole name put in, so that two long names that
    differ only at their end stay two names: ``<stem cut>~<8 hex><.ext>``.
    """
    limit = NAME_MAX
    if len(os.fsencode(name)) <= limit:
        return name
    stem, dot, ext = name.partition(".")
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    tail = _cut(dot + ext, limit // 2)  # an absurd extension is cut too
    return _cut(stem, limit - len(os.fsencode(tag + tail))) + tag + tail


def temp_prefix(name: str) -> str:
    """The prefix of the temp names :func:`atomic_writer` uses for ``name`` (fits NAME_MAX)."""
    return "." + _cut(name, NAME_MAX - 2 - _TEMP_EXTRA) + "."


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` and missing parents durably (each new folder fsynced in its parent).

    Refuses (:class:`SymlinkedFolder`) when ``folder`` is a symbolic link.
    """
    refuse_symlink(folder)
    if folder.is_dir():
        return
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):
            new.mkdir()
        fsync_dir(new.parent)
    refuse_symlink(folder)


def refuse_symlink(folder: Path) -> None:
    """Raise :class:`SymlinkedFolder` when ``folder`` is a symbolic link (files would be read
    from or moved to wherever it points)."""
    if folder.is_symlink():
        target = os.readlink(folder)
        raise SymlinkedFolder(
            errno.ELOOP,
            f"{folder} is a symbolic link (to {target}); the pipeline does not follow links in "
            "its working folders, since files would be read from or moved to another place",
            str(folder),
        )


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
    ensure_folder(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=TEMP_SUFFIX, dir=folder)
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


def unique_path(folder: Path, name: str, beside: Sequence[str] = ()) -> Path:
    """``folder/name``, or ``folder/stem-2.ext``, ``-3``... whichever does not exist yet, nor
    its companions ``name + suffix`` for each of ``beside`` (a report, an errors file).

    Names longer than a file system allows are shortened (:func:`fit_name`).
    """

    def free(candidate: Path) -> bool:
        companions = (folder / fit_name(candidate.name + suffix) for suffix in beside)
        return not candidate.exists() and not any(c.exists() for c in companions)

    candidate = folder / fit_name(name)
    stem, dot, ext = name.partition(".")
    n = 2
    while not free(candidate):
        candidate = folder / fit_name(f"{stem}-{n}{dot}{ext}")
        n += 1
    return candidate


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same file (hard links) or hold the same bytes."""
    try:
        if os.path.samefile(a, b):
            return True
        if a.stat().st_size != b.stat().st_size:
            return False
    except OSError:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(1 << 20)
            if block != fb.read(1 << 20):
                return False
            if not block:
                return True


def move_durably(source: Path, target: Path, *, resume: bool = False) -> None:
    """Move ``source`` to ``target``, never overwriting, durably.

    On one volume: a hard link, an fsync of the target's folder, then the unlink of the source
    (the file is never absent). Across volumes (an archive on another disk or share): a copy
    under a temp name, fsync, link to the final name, then the unlink of the source. Either
    way the source is removed only once the target is complete on disk.

    ``resume``: a move killed between the link and the unlink is finished: a ``target`` that
    is already ``source`` (or holds the same bytes, across volumes) is kept and the source
    unlinked.
    """
    ensure_folder(target.parent)
    refuse_symlink(source.parent)
    if resume and target.exists() and same_file(source, target):
        pass
    else:
        try:
            os.link(source, target)  # fails if target exists
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with source.open("rb") as fh, atomic_writer(target, overwrite=False) as out:
                shutil.copyfileobj(fh, out, 1 << 20)
        fsync_dir(target.parent)
    crash_point("during_move")
    source.unlink()
    fsync_dir(source.parent)
