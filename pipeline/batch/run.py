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
import glob
import hashlib
import logging
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
    RowResult,
    RowResults,
    row_results,
    tally,
    write_error_note,
    write_report,
)
from pipeline.batch.sender import FailureBook, Outcome, send_chunk
from pipeline.centra.client import CentraClient
from pipeline.config import Settings
from pipeline.errors import CentraError, ConfigError, InputError, LoginRefused, PipelineError
from pipeline.mapping.engine import MappedFile, MappedObject, map_file
from pipeline.mapping.problems import RowProblem
from pipeline.mapping.schema import CompiledMapping, load_mappings
from pipeline.state.atomic import move_durably, unique_path
from pipeline.state.inbox import is_ignored, scan_inbox
from pipeline.state.journal import FileRecord, Journal
from pipeline.testhooks import crash_point
from pipeline.vocabulary import ORDER

log = logging.getLogger(__name__)

PROCESSING = ".processing"


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
        }


@dataclass
class RunSummary:
    files: list[FileResult] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    events: dict[str, Any] | None = None
    stopped: PipelineError | None = None

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        bad = any(f.status == "failed" or f.failed for f in self.files)
        return 1 if bad else 0


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


@dataclass
class _Work:
    record: FileRecord
    path: Path  # the claimed copy in inbox/.processing/
    parts: list[_Part]
    error: str | None = None
    hint: str = ""

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
    mappings = load_mappings(settings.folder("mappings"))
    if not settings.folder("inbox").is_dir():
        raise ConfigError(
            f"the inbox {settings.folder('inbox')} does not exist",
            hint="create it (or mount the share it lives on); the pipeline does not create it, "
            "so that an unmounted share is noticed",
        )
    run_id = journal.start_run(command or ("push" if push else "run"))
    try:
        if pull is not None:
            summary.events = pull()  # events before stock: stock is free-to-allocate
        work = _resume(settings, journal, mappings, summary)
        if push is not None:
            work += _claim_pushed(settings, journal, mappings, push, run_id, force, summary)
        else:
            work += _claim_ready(
                settings,
                journal,
                mappings,
                run_id,
                force,
                summary,
                wait_for_settle,
                sleep,
                should_stop,
            )
        _map_all(work, journal)
        progress.start(sum(len(p.mapped.objects) for w in work for p in w.parts if p.mapped))
        _send_all(settings, client, journal, work, summary, progress, should_stop)
    except (LoginRefused, CentraError) as exc:
        summary.stopped = exc
        log.error("the run stopped: %s (claimed files stay claimed; the next run resumes)", exc)
    except OSError as exc:
        # Disk full or no permission in the archive (or the processing area): stop cleanly.
        summary.stopped = PipelineError(
            f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}",
            hint="free disk space (or fix permissions); files not yet archived stay claimed in "
            "inbox/.processing/ and the next run finishes them without re-sending",
        )
        log.error("the run stopped: %s", summary.stopped)
    finally:
        summary.seconds = time.monotonic() - started
        journal.finish_run(
            run_id, summary.exit_code, {"files": [f.to_json() for f in summary.files]}
        )
    return summary


# -- claiming ---------------------------------------------------------------------------------


def _processing(settings: Settings) -> Path:
    folder = settings.folder("inbox") / PROCESSING
    folder.mkdir(exist_ok=True)  # never the inbox itself: see run_batch
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parts(mappings: list[CompiledMapping], name: str) -> list[_Part]:
    return [_Part(m) for m in mappings if m.matches(name)]


def _resume(
    settings: Settings, journal: Journal, mappings: list[CompiledMapping], summary: RunSummary
) -> list[_Work]:
    """Files a killed run left claimed, and claimed copies the journal never heard of."""
    work: list[_Work] = []
    known: set[str] = set()
    for record in journal.unfinished_files():
        known.add(record.claimed_path or "")
        path = Path(record.claimed_path or "")
        if not path.exists() and record.archive_path and Path(record.archive_path).exists():
            # Killed after the move to the archive: only the journal entry is missing.
            journal.finish_file(
                record.id,
                status="done",
                archive_path=record.archive_path,
                report_path=record.report_path,
            )
            continue
        parts = _parts(mappings, record.name)
        if not path.exists():
            message = f"the claimed copy {path} disappeared before it was archived"
            journal.finish_file(
                record.id, status="failed", archive_path=None, report_path=None, message=message
            )
            summary.files.append(FileResult(record.name, "failed", message=message))
            continue
        if not parts:
            summary.files.append(_unmatched_claim(settings, journal, record, path))
            continue
        log.warning("resuming %s, left unfinished by an earlier run", record.name)
        work.append(_Work(record, path, parts))
    # Claimed (renamed into inbox/.processing/<run>/) but killed before the journal heard of it.
    for folder in sorted(_processing(settings).iterdir()):
        for orphan in sorted(folder.iterdir()) if folder.is_dir() else ():
            if str(orphan) in known or is_ignored(orphan.name):
                continue
            parts = _parts(mappings, orphan.name)
            record = _record(journal, orphan, orphan.name, 0)
            if parts:
                work.append(_Work(record, orphan, parts))
            else:
                summary.files.append(_unmatched_claim(settings, journal, record, orphan))
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
    return work


def _unmatched_claim(
    settings: Settings, journal: Journal, record: FileRecord, path: Path
) -> FileResult:
    """A claimed file no mapping matches any more (a mapping was renamed): to archive/failed/."""
    message = "no mapping in mappings/ matches this file any more; nothing of it was sent"
    hint = "fix the mapping's match globs, then push the file from archive/failed/"
    target = unique_path(settings.folder("archive") / "failed", record.name)
    note = target.with_name(target.name + ".error.txt")
    journal.plan_archive(record.id, str(target), str(note))
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
    folder.mkdir(exist_ok=True)
    return folder / name


def _record(journal: Journal, path: Path, name: str, run_id: int) -> FileRecord:
    sha = _sha256(path)
    fid = journal.claim_file(sha, name, path.stat().st_size, run_id, str(path))
    return FileRecord(
        fid, sha, name, path.stat().st_size, "claimed", str(path), None, None, None, run_id
    )


def _claim_ready(
    settings: Settings,
    journal: Journal,
    mappings: list[CompiledMapping],
    run_id: int,
    force: bool,
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
        parts = _parts(mappings, path.name)
        if not parts:
            summary.files.append(
                FileResult(
                    path.name,
                    "unmatched",
                    message="no mapping in mappings/ matches this name; left in the inbox",
                )
            )
            continue
        size_limit = settings.file.inbox.max_file_mb * 1024 * 1024
        claimed = _claim_path(settings, run_id, path.name)
        try:
            path.rename(claimed)
        except FileNotFoundError:
            log.info("%s disappeared before it could be claimed; skipping it", path.name)
            continue
        journal.forget_sighting(path.name)
        if opts.done_marker:
            (inbox / f"{path.name}.done").unlink(missing_ok=True)
        record = _record(journal, claimed, path.name, run_id)
        crash_point("after_claim")
        item = _Work(record, claimed, parts)
        if claimed.stat().st_size > size_limit:
            item.error = (
                f"the file is larger than inbox.max_file_mb ({settings.file.inbox.max_file_mb} MB)"
            )
            item.hint = "split it, or raise inbox.max_file_mb in pipeline.yaml, then push it again"
        elif not force and (earlier := journal.done_with_content(record.sha256)) is not None:
            _archive_duplicate(settings, journal, item, earlier, summary)
            continue
        work.append(item)
    return work


def _claim_pushed(
    settings: Settings,
    journal: Journal,
    mappings: list[CompiledMapping],
    source: Path,
    run_id: int,
    force: bool,
    summary: RunSummary,
) -> list[_Work]:
    """push FILE: a copy of the file is claimed; the original stays where it is."""
    parts = _parts(mappings, source.name)
    if not parts:
        raise InputError(
            f"{source.name}: no mapping in mappings/ matches this file name",
            hint="add its name to the match globs of a mapping, or rename the file",
        )
    claimed = _claim_path(settings, run_id, source.name)
    shutil.copyfile(source, claimed)
    record = _record(journal, claimed, source.name, run_id)
    item = _Work(record, claimed, parts)
    if not force and (earlier := journal.done_with_content(record.sha256)) is not None:
        _archive_duplicate(settings, journal, item, earlier, summary)
        return []
    return [item]


def _archive_duplicate(
    settings: Settings, journal: Journal, item: _Work, earlier: FileRecord, summary: RunSummary
) -> None:
    message = (
        f"same content as {earlier.name}, already imported (archived at {earlier.archive_path}); "
        "nothing sent. Use `centra-pipeline push FILE --force` to send it again"
    )
    folder = settings.folder("archive") / _today()
    target = unique_path(folder, item.record.name)
    note = target.with_name(target.name + ".result.csv")
    journal.plan_archive(item.record.id, str(target), str(note))
    write_report(note, [RowResult(None, ",".join(item.entities), "", "skipped", message)])
    move_durably(item.path, target)
    journal.finish_file(
        item.record.id,
        status="duplicate",
        archive_path=str(target),
        report_path=str(note),
        message=message,
    )
    summary.files.append(
        FileResult(
            item.record.name, "duplicate", report=str(note), archived=str(target), message=message
        )
    )


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
                part.mapped = map_file(part.mapping, item.path, lookups=catalogue)
            except InputError as exc:
                item.error = exc.message
                item.hint = exc.hint or "fix the file (or its mapping) and push it again"
                break
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
            chunks = [objs[start : start + size] for start in range(0, len(objs), size)]
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
    parts: list[RowResults] = []
    for part in item.parts:
        mapped = part.mapped
        if mapped is None:
            continue
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
            )
        )
    results = FileResults(parts)
    sent, skipped, failed, by_entity = tally(results)
    whole_file_failed = item.error is not None or (results and sent == 0 and failed > 0)
    planned = item.record.archive_path
    resuming = bool(planned) and not Path(planned or "").exists()
    if resuming:
        # A killed run chose these names already; its report may be half-way: rewrite it,
        # and remove the temp files it was writing when it died.
        target, report = Path(planned or ""), Path(item.record.report_path or "")
        for name in (target.name, report.name):
            for stale in target.parent.glob(f".{glob.escape(name)}.*.tmp"):
                stale.unlink(missing_ok=True)
    else:
        folder = settings.folder("archive") / ("failed" if whole_file_failed else _today())
        target = unique_path(folder, name)
        suffix = ".error.txt" if item.error and not results else ".result.csv"
        report = target.with_name(target.name + suffix)
        journal.plan_archive(item.record.id, str(target), str(report))
    if item.error and not results:
        write_error_note(report, name, item.error, item.hint, overwrite=resuming)
    else:
        write_report(report, results, overwrite=resuming)
    crash_point("before_move")
    move_durably(item.path, target)
    with contextlib.suppress(OSError):
        item.path.parent.rmdir()  # the run's claim folder, once empty
    crash_point("after_move")
    status = "failed" if whole_file_failed else "done"
    message = item.error or ""
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
    )


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
