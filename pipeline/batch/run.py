"""One batch: claim ready inbox files, send them in dependency order, archive with reports.

Example::

    with WorkspaceLock(state, "run"), Journal.open(state / "journal.sqlite") as journal:
        summary = run_batch(settings, client, journal, pull=lambda: pull_events(...))

The folders are the state machine. A ready file is claimed by an atomic rename into
``inbox/.processing/`` (same volume) and recorded in the journal with its content hash; each
request chunk's outcomes are journaled as soon as Centra answers; the report is written and the
file moved to ``archive/YYYY-MM-DD/`` (or ``archive/failed/``) last. A run killed at any point
leaves the file claimed: the next run maps it again (mapping is deterministic), skips the chunks
already answered and sends the rest. Only a chunk that was sent but not yet journaled is sent
again, which is safe because every *_Update is an upsert.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.batch.catalogue import RunCatalogue, remember_sent
from pipeline.batch.report import (
    FileResults,
    KeyEcho,
    RowResult,
    RowResults,
    errors_suffix,
    key_columns,
    row_results,
    rows_to_fix,
    tally,
    write_error_note,
    write_errors_file,
    write_report,
)
from pipeline.batch.sender import FailureBook, Outcome, send_chunk
from pipeline.centra.client import CentraClient
from pipeline.config import Settings
from pipeline.errors import CentraError, ConfigError, InputError, LoginRefused, PipelineError
from pipeline.mapping.batches import cut_whole, frozen_group
from pipeline.mapping.engine import MappedFile, MappedObject, map_file
from pipeline.mapping.problems import RowProblem
from pipeline.mapping.schema import BrokenMapping, CompiledMapping, load_mappings_leniently
from pipeline.readers import read_table
from pipeline.state.atomic import (
    SymlinkedFolder,
    ensure_folder,
    fit_name,
    move_durably,
    refuse_symlink,
    same_file,
    temp_prefix,
    unique_path,
)
from pipeline.state.inbox import is_ignored, readable_name, scan_inbox
from pipeline.state.journal import FileRecord, Journal
from pipeline.testhooks import crash_point
from pipeline.vocabulary import ORDER

log = logging.getLogger(__name__)

PROCESSING = ".processing"
#: What a file that changed after its claim is told (a writer was still copying it).
_CHANGED_HINT = (
    "push the file again from archive/failed/ once it is complete. So that the pipeline never "
    "takes a file that is still being written, set inbox.done_marker: true (the ERP writes "
    "NAME.done when NAME is complete), or have the ERP write under a temp name (NAME.tmp) and "
    "rename it when done"
)


@dataclass
class FileResult:
    name: str
    status: str  # done, failed, duplicate, unmatched, waiting
    entities: list[str] = field(default_factory=list)
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    report: str | None = None
    archived: str | None = None
    message: str = ""
    #: entity -> [rows sent, skipped, failed] (a row counts once per entity it feeds)
    by_entity: dict[str, list[int]] = field(default_factory=dict)
    #: the first few failed rows, "row N (target key): message", for logs and summaries
    errors: list[str] = field(default_factory=list)
    #: the errors file(s): the rows not sent, to fix and drop back into the inbox
    errors_files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entity": ",".join(self.entities),
            "status": self.status,
            "rows_sent": self.sent,
            "rows_skipped": self.skipped,
            "rows_failed": self.failed,
            "report": self.report,
            "archived": self.archived,
            "message": self.message,
            "by_entity": self.by_entity,
            "errors": self.errors,
            "errors_files": self.errors_files,
        }


@dataclass
class RunSummary:
    files: list[FileResult] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    events: dict[str, Any] | None = None
    stopped: PipelineError | None = None
    #: errors that stopped a part of the run, not all of it (a broken mapping, a failed pull)
    problems: list[PipelineError] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        bad = any(f.status == "failed" or f.failed for f in self.files)
        return max([1 if bad else 0, *(p.exit_code for p in self.problems)])


class Progress:
    """Where the run is: the CLI shows it on a terminal; the default does nothing."""

    def start(self, objects: int) -> None:
        """``objects`` objects are about to be sent."""

    def chunk(self, file: str, entity: str, objects: int) -> None:
        """A chunk of ``objects`` objects of ``entity`` from ``file`` has its answer."""


@dataclass
class _Part:
    """One mapping applied to the file (a workbook may have one mapping per sheet)."""

    mapping: CompiledMapping
    mapped: MappedFile | None = None
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # object index -> outcome
    echo: KeyEcho | None = None  # the key cells of each row, for the report


@dataclass
class _Work:
    record: FileRecord
    path: Path  # the claimed copy in inbox/.processing/
    parts: list[_Part]
    error: str | None = None
    hint: str = ""
    #: why the file was claimed under another name than it had in the inbox
    renamed: str = ""
    #: it changed after its claim: what lies there now is not what was mapped
    changed: bool = False

    @property
    def entities(self) -> list[str]:
        return list(dict.fromkeys(e for p in self.parts for e in p.mapping.entities))

    @property
    def resolves(self) -> bool:
        return any(t.resolve for p in self.parts for t in p.mapping.targets)


def run_batch(
    settings: Settings,
    client: CentraClient,
    journal: Journal,
    *,
    pull: Callable[[], dict[str, Any]] | None = None,
    push: Path | None = None,
    force: bool = False,
    wait_for_settle: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    command: str | None = None,
) -> RunSummary:
    """Import every ready inbox file (or only ``push``) into Centra; the caller holds the lock.

    ``should_stop`` is asked before each claim and between chunks (``watch`` sets it on
    SIGTERM): files already sent completely are archived, the others stay claimed for the
    next run. ``command`` names the run in the journal (default ``run`` or ``push``).
    """
    started = time.monotonic()
    summary = RunSummary()
    progress = progress or Progress()
    mappings, broken = load_mappings_leniently(settings.folder("mappings"))
    if not settings.folder("inbox").is_dir():
        raise ConfigError(
            f"the inbox {settings.folder('inbox')} does not exist",
            hint="create it (or mount the share it lives on); the pipeline does not create it, "
            "so that an unmounted share is noticed",
        )
    _check_working_folders(settings)
    run_id = journal.start_run(command or ("push" if push else "run"))
    try:
        summary.problems.extend(mapping.error() for mapping in broken)  # logged by the caller
        if pull is not None:
            _pull(pull, summary)  # events before stock: stock is free-to-allocate
        work = _resume(settings, journal, mappings, broken, summary)
        if push is not None:
            work += _claim_pushed(settings, journal, mappings, broken, push, run_id, force)
        else:
            work += _claim_ready(
                settings,
                journal,
                mappings,
                broken,
                run_id,
                summary,
                wait_for_settle,
                sleep,
                should_stop,
            )
        work = _drop_duplicates(settings, journal, work, summary)
        _map_all(work, journal)
        crash_point("after_map")
        for item in work:
            _check_unchanged(item, hash_it=False)
        progress.start(sum(len(p.mapped.objects) for w in work for p in w.parts if p.mapped))
        _send_all(settings, client, journal, work, summary, progress, should_stop)
    except (LoginRefused, CentraError) as exc:
        summary.stopped = exc
        log.error("the run stopped: %s (claimed files stay claimed; the next run resumes)", exc)
    except OSError as exc:
        # Disk full, no permission, a name too long, a symlinked folder: stop cleanly.
        summary.stopped = os_error_advice(exc)
        log.error("the run stopped: %s", summary.stopped)
    finally:
        summary.seconds = time.monotonic() - started
        journal.finish_run(
            run_id, summary.exit_code, {"files": [f.to_json() for f in summary.files]}
        )
    return summary


def _pull(pull: Callable[[], dict[str, Any]], summary: RunSummary) -> None:
    """Pull events; an export mapping's problem stops the pull, not the imports."""
    try:
        summary.events = pull()
    except (LoginRefused, CentraError):
        raise
    except PipelineError as exc:
        summary.problems.append(exc)
        log.error("the pull stopped (the imports go on): %s", exc)
        return
    held = int((summary.events or {}).get("held") or 0)
    if held:  # never acknowledged: the run must not look clean (exit 1)
        summary.problems.append(
            PipelineError(
                f"{held} event(s) whose data cannot be read were left in Centra's queue",
                hint="the pull's warnings name them; fix them in Centra (docs/outbox.md)",
            )
        )


def os_error_advice(exc: OSError) -> PipelineError:
    """An OSError while working on files, as an error that names its real cause and the fix."""
    what = f"{exc.filename}" if exc.filename else "a file"
    after = (
        "; files not yet archived stay claimed in inbox/.processing/ and the next run finishes "
        "them without re-sending"
    )
    if isinstance(exc, SymlinkedFolder):
        return ConfigError(
            exc.strerror or str(exc),
            hint=f"remove the link (rm {exc.filename}); the next run creates a real folder{after}",
        )
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        cause, hint = "the disk is full", "free disk space (or raise the quota)"
    elif code in (errno.EACCES, errno.EPERM):
        user = _user()
        cause = "permission denied"
        hint = f"give the user {user} permission to write there (the folder's owner or mode)"
    elif code == errno.EROFS:
        cause, hint = "the file system is read-only", "remount it writable, or move the folder"
    elif code == errno.ENAMETOOLONG:
        cause = "the file name is too long for the file system"
        hint = "rename the file to a shorter name and drop it again"
    elif code == errno.ENOTDIR:
        cause = "a part of the path is not a folder"
        hint = "make it a folder (a file has its name), or point the setting elsewhere"
    elif code == errno.EEXIST:
        cause, hint = "it exists and is not a folder", "remove or rename what has its name"
    elif code in (errno.EIO, errno.ESTALE, errno.ENOTCONN, errno.EHOSTDOWN):
        cause, hint = "the disk or network share failed", "check the mount and the share"
    else:
        cause, hint = exc.strerror or str(exc), "fix the cause named here"
    if exc.strerror and exc.strerror != cause:
        cause += f" ({exc.strerror})"
    return PipelineError(f"cannot write {what}: {cause}", hint=hint + after)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())


# -- claiming ---------------------------------------------------------------------------------


def _check_working_folders(settings: Settings) -> None:
    """Refuse to work through symbolic links in the folders the pipeline makes itself."""
    inbox, archive = settings.folder("inbox"), settings.folder("archive")
    processing = inbox / PROCESSING
    try:
        for folder in (processing, archive / "failed", archive / _today()):
            refuse_symlink(folder)
        if processing.is_dir():
            for run_folder in processing.iterdir():
                refuse_symlink(run_folder)
    except OSError as exc:  # a symbolic link, or a folder that cannot be listed
        raise os_error_advice(exc) from None


def _processing(settings: Settings) -> Path:
    folder = settings.folder("inbox") / PROCESSING
    ensure_folder(folder)  # never the inbox itself: see run_batch
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parts(mappings: list[CompiledMapping], name: str) -> list[_Part]:
    return [_Part(m) for m in mappings if m.matches(name)]


def _broken_for(broken: list[BrokenMapping], name: str) -> BrokenMapping | None:
    return next((b for b in broken if b.matches(name)), None)


def _waits_for_mapping(name: str, mapping: BrokenMapping) -> FileResult:
    message = (
        f"not imported: its mapping {mapping.file} has problems ({mapping.summary()}); "
        "it waits until the mapping is fixed, and nothing of it was sent"
    )
    return FileResult(name, "failed", message=message)


def _unmatched_message(broken: list[BrokenMapping], where: str) -> str:
    message = f"no mapping in mappings/ matches this name; {where}"
    unknown = [b.file for b in broken if not b.match]
    if unknown:
        message += f" (the broken {', '.join(unknown)} may be the one for it: fix it)"
    return message


def _resume(
    settings: Settings,
    journal: Journal,
    mappings: list[CompiledMapping],
    broken: list[BrokenMapping],
    summary: RunSummary,
) -> list[_Work]:
    """Files a killed run left claimed, and claimed copies the journal never heard of."""
    work: list[_Work] = []
    known: set[str] = set()
    for record in journal.unfinished_files():
        known.add(record.claimed_path or "")
        path = Path(record.claimed_path or "")
        if _finish_interrupted_move(journal, record, path):
            continue
        if not path.exists():
            message = f"the claimed copy {path} disappeared before it was archived"
            journal.finish_file(
                record.id, status="failed", archive_path=None, report_path=None, message=message
            )
            summary.files.append(FileResult(record.name, "failed", message=message))
            continue
        if (mapping := _broken_for(broken, record.name)) is not None:
            summary.files.append(_waits_for_mapping(record.name, mapping))
            continue  # stays claimed: the run after the fix finishes it
        parts = _parts(mappings, record.name)
        if not parts:
            summary.files.append(_unmatched_claim(settings, journal, record, path, broken))
            continue
        log.warning("resuming %s, left unfinished by an earlier run", record.name)
        work.append(_Work(record, path, parts))
    # Claimed (renamed into inbox/.processing/<run>/) but killed before the journal heard of it.
    for folder in sorted(_processing(settings).iterdir()):
        for orphan in sorted(folder.iterdir()) if folder.is_dir() else ():
            if str(orphan) in known or is_ignored(orphan.name):
                continue
            if orphan.is_symlink() or not orphan.is_file():
                log.warning("%s: not a regular file; left alone, not followed", orphan)
                continue
            name = readable_name(orphan.name)
            if name != orphan.name:  # claimed by an older version under its raw name
                renamed = unique_path(folder, name)
                orphan.rename(renamed)
                orphan = renamed
            record, error = _record(settings, journal, orphan, name, 0, forced=False)
            if (mapping := _broken_for(broken, name)) is not None:
                summary.files.append(_waits_for_mapping(name, mapping))
                continue
            parts = _parts(mappings, name)
            if parts:
                work.append(_Work(record, orphan, parts, *error))
            else:
                summary.files.append(_unmatched_claim(settings, journal, record, orphan, broken))
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
    return work


def _finish_interrupted_move(journal: Journal, record: FileRecord, path: Path) -> bool:
    """A run killed during or after the move to the archive: finish the move and the journal.

    The status is the one planned before the move (a failed file stays failed); journals of
    older versions did not record it, so there the archive folder tells.
    """
    if not record.archive_path or not Path(record.archive_path).exists():
        return False
    planned = Path(record.archive_path)
    if path.exists():
        if not same_file(path, planned):
            return False  # not ours: _finish picks another name
        move_durably(path, planned, resume=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()
    status = record.planned_status or ("failed" if planned.parent.name == "failed" else "done")
    journal.finish_file(
        record.id,
        status=status,
        archive_path=record.archive_path,
        report_path=record.report_path,
        message=record.message,
    )
    return True


def _unmatched_claim(
    settings: Settings,
    journal: Journal,
    record: FileRecord,
    path: Path,
    broken: list[BrokenMapping],
) -> FileResult:
    """A claimed file no mapping matches any more (a mapping was renamed): to archive/failed/."""
    message = _unmatched_message(broken, "nothing of it was sent")
    hint = "fix the mapping's match globs, then push the file from archive/failed/"
    target = unique_path(settings.folder("archive") / "failed", record.name)
    note = _beside(target, ".error.txt")
    journal.plan_archive(record.id, str(target), str(note), status="failed", message=message)
    write_error_note(note, record.name, message, hint)
    move_durably(path, target)
    journal.finish_file(
        record.id, status="failed", archive_path=str(target), report_path=str(note), message=message
    )
    return FileResult(
        record.name, "failed", report=str(note), archived=str(target), message=message
    )


def _claim_path(settings: Settings, run_id: int, name: str) -> Path:
    """Where a file is claimed: a folder per run keeps the user's own file name."""
    folder = _processing(settings) / str(run_id)
    ensure_folder(folder)
    return unique_path(folder, name)


def _record(
    settings: Settings, journal: Journal, path: Path, name: str, run_id: int, *, forced: bool
) -> tuple[FileRecord, tuple[str, str] | tuple[()]]:
    """Journal a claimed file with its content hash; a file over inbox.max_file_mb is not even
    hashed (nor read): it comes back with its error and hint."""
    size = path.stat().st_size
    limit_mb = settings.file.inbox.max_file_mb
    if size > limit_mb * 1024 * 1024:
        record = journal.claim_file(f"unread:{size}", name, size, run_id, str(path), forced=forced)
        error = (
            f"the file is larger than inbox.max_file_mb ({limit_mb} MB): {size / 2**20:,.1f} MB; "
            "it was not read and nothing of it was sent",
            "split it, or raise inbox.max_file_mb in pipeline.yaml, then push it again",
        )
        return record, error
    sha = _sha256(path)
    return journal.claim_file(sha, name, size, run_id, str(path), forced=forced), ()


def _claim_ready(
    settings: Settings,
    journal: Journal,
    mappings: list[CompiledMapping],
    broken: list[BrokenMapping],
    run_id: int,
    summary: RunSummary,
    wait_for_settle: bool,
    sleep: Callable[[float], None],
    should_stop: Callable[[], bool],
) -> list[_Work]:
    inbox = settings.folder("inbox")
    opts = settings.file.inbox
    scan = scan_inbox(
        inbox, journal, settle_seconds=opts.settle_seconds, done_marker=opts.done_marker
    )
    deadline = time.monotonic() + opts.settle_seconds * 3
    while wait_for_settle and scan.next_due is not None and time.monotonic() < deadline:
        sleep(min(scan.next_due + 0.05, max(0.0, deadline - time.monotonic())))
        scan = scan_inbox(
            inbox, journal, settle_seconds=opts.settle_seconds, done_marker=opts.done_marker
        )
    for name, why in {**scan.waiting, **scan.refused}.items():
        summary.files.append(
            FileResult(name, "waiting" if name in scan.waiting else "refused", message=why)
        )
    work: list[_Work] = []
    for path in scan.ready:
        if should_stop():
            break
        name = readable_name(path.name)
        if (mapping := _broken_for(broken, name)) is not None:
            summary.files.append(_waits_for_mapping(name, mapping))
            continue
        parts = _parts(mappings, name)
        if not parts:
            message = _unmatched_message(broken, "left in the inbox")
            summary.files.append(FileResult(name, "unmatched", message=message))
            continue
        claimed = _claim_path(settings, run_id, name)
        try:
            path.rename(claimed)
        except FileNotFoundError:
            log.info("%s disappeared before it could be claimed; skipping it", name)
            continue
        journal.forget_sighting(name)
        if opts.done_marker:
            (inbox / f"{path.name}.done").unlink(missing_ok=True)
        record, error = _record(settings, journal, claimed, name, run_id, forced=False)
        crash_point("after_claim")
        item = _Work(record, claimed, parts, *error)
        if name != path.name:
            item.renamed = _renamed_note(path.name, name)
            log.warning("%s: %s", name, item.renamed)
        work.append(item)
    return work


def _renamed_note(raw: str, name: str) -> str:
    shown = os.fsencode(raw).decode("utf-8", "backslashreplace")
    return (
        f"the file's name {shown!r} is not valid UTF-8 (a Latin-1 or Windows-1252 name, from an "
        f"SMB share or an old FTP server?): it was read as Windows-1252 and kept as {name!r}"
    )


def _claim_pushed(
    settings: Settings,
    journal: Journal,
    mappings: list[CompiledMapping],
    broken: list[BrokenMapping],
    source: Path,
    run_id: int,
    force: bool,
) -> list[_Work]:
    """push FILE: a copy of the file is claimed; the original stays where it is."""
    name = readable_name(source.name)
    if (mapping := _broken_for(broken, name)) is not None:
        raise mapping.error()
    parts = _parts(mappings, name)
    if not parts:
        raise InputError(
            f"{name}: no mapping in mappings/ matches this file name",
            hint="add its name to the match globs of a mapping, or rename the file",
        )
    claimed = _claim_path(settings, run_id, name)
    shutil.copyfile(source, claimed)
    record, error = _record(settings, journal, claimed, name, run_id, forced=force)
    crash_point("after_claim")
    return [_Work(record, claimed, parts, *error)]


def _drop_duplicates(
    settings: Settings, journal: Journal, work: list[_Work], summary: RunSummary
) -> list[_Work]:
    """Content already imported, or claimed twice in this run, is archived, not sent again.

    Also on resume: a file claimed just before a kill is checked like a new one. Not for a
    forced push, nor for a file part of which was already sent (that one is finished).
    """
    kept: list[_Work] = []
    first: dict[str, _Work] = {}
    for item in work:
        sha = item.record.sha256
        if item.error or item.record.forced or journal.has_chunks(item.record.id):
            kept.append(item)
            if not item.error:
                first.setdefault(sha, item)
            continue
        earlier = journal.done_with_content(sha)
        if earlier is not None:
            message = (
                f"same content as {earlier.name}, already imported (archived at "
                f"{earlier.archive_path}); nothing sent. Use `centra-pipeline push FILE --force` "
                "to send it again"
            )
        elif sha in first:
            message = (
                f"same content as {first[sha].record.name}, imported in this same run; nothing "
                "of this copy was sent (its twin's report says how the rows went)"
            )
        else:
            first[sha] = item
            kept.append(item)
            continue
        _archive_duplicate(settings, journal, item, message, summary)
    return kept


def _remove_stale_temps(*paths: Path) -> None:
    """The temp files a killed run was writing for these archive paths."""
    for path in paths:
        for stale in path.parent.glob(f"{glob.escape(temp_prefix(path.name))}*.tmp"):
            stale.unlink(missing_ok=True)


def _archive_duplicate(
    settings: Settings, journal: Journal, item: _Work, message: str, summary: RunSummary
) -> None:
    if item.record.archive_path and item.record.report_path:  # a killed run began archiving it
        _remove_stale_temps(Path(item.record.archive_path), Path(item.record.report_path))
    folder = settings.folder("archive") / _today()
    target = unique_path(folder, item.record.name)
    note = _beside(target, ".result.csv")
    journal.plan_archive(
        item.record.id, str(target), str(note), status="duplicate", message=message
    )
    write_report(note, [RowResult(None, ",".join(item.entities), "", "skipped", message)])
    move_durably(item.path, target)
    with contextlib.suppress(OSError):
        item.path.parent.rmdir()  # the run's claim folder, once empty
    journal.finish_file(
        item.record.id,
        status="duplicate",
        archive_path=str(target),
        report_path=str(note),
        message=message,
    )
    log.info("%s: %s", item.record.name, message)
    summary.files.append(
        FileResult(
            item.record.name, "duplicate", report=str(note), archived=str(target), message=message
        )
    )


def _beside(target: Path, suffix: str) -> Path:
    """The report or note of an archived file: its name plus ``suffix`` (shortened when that
    would be too long a name: the archived file keeps its own name)."""
    return target.with_name(fit_name(target.name + suffix))


def _check_unchanged(item: _Work, *, hash_it: bool) -> None:
    """A file that changed after it was claimed (a writer still copying it) fails clearly.

    After mapping, before anything is sent, its size is compared; before archiving, its size and
    content hash, so that the report never claims the archived bytes were what was sent.
    """
    if item.error:
        return
    size = item.path.stat().st_size
    if size == item.record.size and not (hash_it and _sha256(item.path) != item.record.sha256):
        return
    sent = (
        "rows of the earlier, incomplete version were sent (see the report)"
        if hash_it
        else ("nothing of it was sent")
    )
    item.error = (
        f"the file changed while it was being imported ({item.record.size:,} bytes when it was "
        f"taken from the inbox, {size:,} bytes now): a writer was still copying it; {sent}. "
        "Push the complete file again from archive/failed/, and set inbox.done_marker: true "
        "(or have the ERP write NAME.tmp and rename it) so that this cannot happen"
    )
    item.hint = _CHANGED_HINT
    item.changed = True
    log.error("%s: %s", item.record.name, item.error)


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


# -- mapping and sending --------------------------------------------------------------------


def _map_all(work: list[_Work], journal: Journal) -> None:
    """Map files; those that resolve EANs/SKUs go last, so they see this run's products."""
    catalogue = RunCatalogue(journal)
    for item in sorted(work, key=lambda w: w.resolves):
        if item.error:
            continue
        for part in item.parts:
            try:
                table = read_table(item.path, part.mapping.read)
                part.mapped = map_file(part.mapping, item.path, lookups=catalogue, table=table)
            except InputError as exc:
                item.error = exc.message
                item.hint = exc.hint or "fix the file (or its mapping) and push it again"
                break
            # The report echoes each row's key cells; the other cells are freed now.
            part.echo = KeyEcho(table, key_columns(part.mapping))
            table.columns = []
            catalogue.learn_unsent(part.mapped.unsent)
            if part.mapped.rejected:
                item.error = part.mapped.rejected
                item.hint = "fix the rows listed in the report and push the file again"
                break
            catalogue.learn(part.mapped.objects)


def _groups(
    work: list[_Work],
) -> Iterator[tuple[_Work, int, _Part, str, list[tuple[int, MappedObject]]]]:
    """(file, part, entity, indexed objects) in dependency order; files oldest first."""
    groups = []
    for order, item in enumerate(work):
        if item.error:
            continue
        for number, part in enumerate(item.parts):
            if part.mapped is None:
                continue
            by_entity: dict[str, list[tuple[int, MappedObject]]] = {}
            for index, obj in enumerate(part.mapped.objects):
                by_entity.setdefault(obj.entity, []).append((index, obj))
            for entity, objs in by_entity.items():
                groups.append((ORDER.get(entity, (99, 0)), order, number, item, part, entity, objs))
    groups.sort(key=lambda g: (g[0], g[1], g[2]))
    for _, _, number, item, part, entity, objs in groups:
        yield item, number, part, entity, objs


def _send_all(
    settings: Settings,
    client: CentraClient,
    journal: Journal,
    work: list[_Work],
    summary: RunSummary,
    progress: Progress,
    should_stop: Callable[[], bool],
) -> None:
    failures = FailureBook()
    unfinished: set[int] = set()  # files with chunks left unsent after a stop request
    for item in work:
        for part in item.parts:
            for problem in part.mapped.problems if part.mapped else ():
                if problem.entity and problem.key:
                    failures.fail(problem.entity, problem.key, problem.reason)
    lock = threading.Lock()

    def counted(n: int) -> None:
        with lock:
            summary.requests += 1

    parallel = settings.file.batch.parallel
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="send") as pool:
        for item, number, part, entity, objs in _groups(work):
            if should_stop():
                unfinished.add(item.record.id)
                continue
            size = settings.file.batch.size_for(entity)
            target = f"{number}:{entity}"
            done = journal.chunk_outcomes(item.record.id, target)
            # never a size table cut in two: Centra cannot change one once created
            chunks = cut_whole(objs, size, lambda pair: frozen_group(pair[1]))
            todo: list[int] = []
            for chunk_no, chunk in enumerate(chunks):
                if chunk_no in done:
                    outcomes = [Outcome(status, message) for status, message in done[chunk_no]]
                    for (_, obj), outcome in zip(chunk, outcomes, strict=True):
                        if outcome.status != "sent":
                            failures.fail(obj.entity, obj.key, outcome.message)
                    _apply(part, chunk, outcomes)
                else:
                    todo.append(chunk_no)
            # Chunks of one group are independent (their dependencies were sent by earlier
            # groups): up to batch.parallel are in flight, and no more, so a killed run leaves
            # at most that many chunks sent but not journaled (re-sent next time: upserts).
            pending: dict[Future[list[Outcome]], int] = {}
            try:
                while todo or pending:
                    if todo and should_stop():
                        unfinished.add(item.record.id)
                        todo.clear()  # let the chunks in flight finish, send no more
                    while todo and len(pending) < parallel:
                        chunk_no = todo.pop(0)
                        objects = [obj for _, obj in chunks[chunk_no]]
                        future = pool.submit(
                            send_chunk, client, objects, failures, on_request=counted
                        )
                        pending[future] = chunk_no
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        chunk_no = pending.pop(future)
                        chunk = chunks[chunk_no]
                        outcomes = future.result()
                        crash_point("before_chunk_journal")
                        journal.record_chunk(
                            item.record.id,
                            target,
                            chunk_no,
                            [(o.status, o.message) for o in outcomes],
                        )
                        sent = [
                            obj
                            for (_, obj), o in zip(chunk, outcomes, strict=True)
                            if o.status == "sent"
                        ]
                        remember_sent(journal, sent)
                        _apply(part, chunk, outcomes)
                        progress.chunk(item.record.name, entity, len(chunk))
                        crash_point("after_chunk")
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
            log.info("%s: %s sent (%d objects)", item.record.name, entity, len(objs))
    crash_point("before_archive")
    for item in work:
        if item.record.id in unfinished:
            log.warning(
                "%s: stopped before all of it was sent; the next run finishes it", item.record.name
            )
            summary.files.append(
                FileResult(
                    item.record.name,
                    "claimed",
                    item.entities,
                    message="stopped before it was sent completely; the next run finishes it",
                )
            )
            continue
        summary.files.append(_finish(settings, journal, item))


def _problem_text(problem: RowProblem) -> str:
    """A row problem for the report: the column and the value, as validate prints them."""
    text = problem.reason
    if problem.column:
        text = f"column {problem.column!r}: {text}"
    if problem.value is not None:
        text += f" (value {problem.value!r})"
    if problem.hint:
        text += f"; {problem.hint}"
    return text


def _apply(part: _Part, chunk: list[tuple[int, MappedObject]], outcomes: list[Outcome]) -> None:
    for (index, _), outcome in zip(chunk, outcomes, strict=True):
        part.outcomes[index] = outcome


def _finish(settings: Settings, journal: Journal, item: _Work) -> FileResult:
    name = item.record.name
    entities = item.entities
    _check_unchanged(item, hash_it=True)
    parts: list[RowResults] = []
    read: list[_Part] = []
    for part in item.parts:
        mapped = part.mapped
        if mapped is None:
            continue
        read.append(part)
        not_sent = Outcome("skipped", f"not sent: {item.error}" if item.error else "not sent")
        objects = [
            (obj.entity, obj.key, obj.rows, part.outcomes.get(i, not_sent))
            for i, obj in enumerate(mapped.objects)
        ]
        problems = [
            (p.row, p.entity, p.key, _problem_text(p), p.collateral) for p in mapped.problems
        ]
        parts.append(
            row_results(
                list(part.mapping.entities),
                objects,
                problems,
                mapped.row_numbers,
                sheet=mapped.sheet,
                source=part.echo,
            )
        )
    results = FileResults(parts)
    sent, skipped, failed, by_entity = tally(results)
    whole_file_failed = item.error is not None or (results and sent == 0 and failed > 0)
    status = "failed" if whole_file_failed else "done"
    message = item.error or item.renamed
    planned = item.record.archive_path
    resuming = (
        bool(planned)
        and not Path(planned or "").exists()
        and item.record.planned_status in (None, status)
    )
    # Rows to fix: only a file with rows not sent is read again for them (never a clean one).
    to_fix = _rows_to_fix(name, read, parts) if (failed or skipped) and not item.changed else []
    if resuming:
        # A killed run chose these names already; its report may be half-way: rewrite it,
        # and remove the temp files it was writing when it died.
        target, report = Path(planned or ""), Path(item.record.report_path or "")
        errors = [_beside(target, suffix) for suffix, _, _ in to_fix]
        _remove_stale_temps(target, report, *errors)
    else:
        folder = settings.folder("archive") / ("failed" if whole_file_failed else _today())
        suffix = ".error.txt" if item.error and not results else ".result.csv"
        # its report and errors file names free too: an errors file dropped back and archived
        # the same day has the name the next errors file would take
        target = unique_path(folder, name, [suffix, *(s for s, _, _ in to_fix)])
        report = _beside(target, suffix)
        errors = [_beside(target, suffix) for suffix, _, _ in to_fix]
        journal.plan_archive(
            item.record.id,
            str(target),
            str(report),
            status=status,
            message=message,
            errors_paths=[str(e) for e in errors],
        )
    if item.error and not results:
        write_error_note(report, name, item.error, item.hint, overwrite=resuming)
    else:
        write_report(report, results, overwrite=resuming)
    for path, (_, part, rows) in zip(errors, to_fix, strict=True):
        write_errors_file(path, item.path, part.mapping.read, rows, overwrite=resuming)
    crash_point("before_move")
    move_durably(item.path, target)
    with contextlib.suppress(OSError):
        item.path.parent.rmdir()  # the run's claim folder, once empty
    crash_point("after_move")
    journal.finish_file(
        item.record.id,
        status=status,
        archive_path=str(target),
        report_path=str(report),
        message=message,
        mapping=",".join(p.mapping.name for p in item.parts),
        entities=entities,
        counts=(sent, skipped, failed),
    )
    return FileResult(
        name,
        status,
        entities,
        sent,
        skipped,
        failed,
        str(report),
        str(target),
        message,
        by_entity,
        _first_errors(results),
        [str(e) for e in errors],
    )


def _rows_to_fix(
    name: str, parts: list[_Part], results: list[RowResults]
) -> list[tuple[str, _Part, dict[int, tuple[str, str]]]]:
    """(errors file suffix, the part whose read options read it, rows to fix) per errors file:
    one for a text file (its mappings read the same rows), one per sheet of a workbook."""
    by_sheet: dict[str | None, tuple[_Part, dict[int, tuple[str, str]]]] = {}
    for part, part_results in zip(parts, results, strict=True):
        rows = rows_to_fix(part_results)
        if not rows:
            continue
        sheet = part_results.sheet
        if sheet not in by_sheet:
            by_sheet[sheet] = (part, rows)
            continue
        known = by_sheet[sheet][1]
        for row, (status, text) in rows.items():
            old = known.get(row)
            if old is None:
                known[row] = (status, text)
            else:
                worst = "failed" if "failed" in (status, old[0]) else status
                known[row] = (worst, f"{old[1]} | {text}")
    several = len(by_sheet) > 1
    return [
        (errors_suffix(name, sheet if several else None), part, rows)
        for sheet, (part, rows) in by_sheet.items()
    ]


def _first_errors(results: FileResults, limit: int = 3) -> list[str]:
    """The first ``limit`` failed rows of a report, as one line each."""
    found: list[str] = []
    for r in results:
        if r.status == "failed":
            where = "file" if r.row is None else f"row {r.row}"
            if r.sheet:
                where = f"sheet {r.sheet!r} {where}"
            key = f" {r.key}" if r.key else ""
            found.append(f"{where} ({r.target}{key}): {r.message}")
            if len(found) == limit:
                break
    return found
