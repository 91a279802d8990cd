"""``centra-pipeline watch``: import inbox files as they become complete, pull events on a timer.

How it works:

- **A full rescan of the inbox is the source of truth**, every ``rescan`` seconds. watchdog's
  file-system events only wake the loop early; an event that never comes (a network share, a
  queue overflow, a dead observer thread) costs at most one rescan interval, never a file.
- **Modes**: ``events`` (watchdog's observer wakes the loop), ``polling`` (rescans only) and
  ``auto``: polling when the inbox lies on a network or FUSE mount (cifs, smb, nfs, 9p,
  fuse...), where inotify sees nothing of what other machines write; events otherwise.
- **The readiness rules of** :mod:`pipeline.state.inbox` apply (settle time, markers, temp
  names ignored): a file written slowly is taken once it stopped changing; ``x.csv.tmp``
  renamed to ``x.csv`` is taken once, as ``x.csv``.
- **Each cycle is a** ``run``: take the workspace lock, :func:`~pipeline.batch.run.run_batch`
  (pull events first, then import every ready file in dependency order), release the lock. So
  a cron ``run`` while a cycle is busy exits 4 and changes nothing, and a ``run`` can go
  between cycles. When no file waits, events are pulled every ``orders.poll_interval``.
- **Nothing stops the watcher but a signal or a refused login**: the observer thread dying
  (an exception in it, the inbox folder vanishing) is logged and the observer restarted; a
  missing inbox (share unmounted) or one that cannot be used (a file, no permission) is
  logged once and rescanned until it is back, while events are still pulled; a broken
  mapping is logged (once per change of ``mappings/``) and only the files it would read wait;
  Centra unreachable or an I/O error is logged and retried with backoff. A refused login
  stops with exit 3, so retries cannot lock the account. None of these stops it at start
  either: only a wrong ``pipeline.yaml`` (exit 2) or another ``watch`` (exit 4) does.
- **What it logs** (:mod:`pipeline.batch.logsummary`, as ``run`` does): each cycle that did
  something logs one line per file (INFO imported, WARNING with failed or skipped rows, ERROR
  failed), one for the events pulled, and ``watch cycle finished, exit N``; an idle cycle
  (nothing ready, no events) logs nothing above DEBUG.
- **Stopping**: :meth:`Watcher.request_stop` (SIGTERM or SIGINT in :func:`serve`) lets the
  requests in flight finish and sends no more (``run_batch(should_stop=...)``): files sent
  completely are archived with their reports, the others stay claimed; then the lock is
  released and :func:`serve` returns 0. A second signal stops at once; files it leaves
  claimed are finished by the next run or watch, as after a crash.

Example::

    code = serve(load_settings(Path(".")), mode="auto", rescan=10)   # blocks until SIGTERM
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from pipeline.batch.logsummary import (
    error_text,
    folder_problem,
    log_outcome,
    log_summary,
)
from pipeline.batch.run import FileResult, RunSummary, run_batch
from pipeline.centra.client import CentraClient, client_from_settings
from pipeline.config import Settings
from pipeline.errors import ConfigError, LockedError, LoginRefused, MappingError, PipelineError
from pipeline.mapping.schema import load_mappings
from pipeline.outbox.pull import pull_events
from pipeline.state.inbox import readable_name, scan_inbox
from pipeline.state.journal import Journal
from pipeline.state.lock import WorkspaceLock

log = logging.getLogger(__name__)

MODES = ("auto", "events", "polling")
DEFAULT_RESCAN = 10.0
#: File systems where inotify does not see what other machines (or the host) write.
NETWORK_FILESYSTEMS = frozenset(
    {
        "cifs", "smb", "smb2", "smb3", "smbfs", "nfs", "nfs4", "afs", "ncpfs", "9p", "v9fs",
        "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "davfs", "coda", "vboxsf", "vmhgfs",
        "drvfs", "prl_fs",
    }
)  # fmt: skip
HEALTH_CHECK = 0.5  # seconds between checks of the observer thread and of signals
MIN_SCAN_GAP = 0.25  # seconds between scans woken by events
LOCKED_RETRY = 2.0  # seconds before trying again when another run holds the lock
MAX_BACKOFF = 60.0
EXIT_OK, EXIT_LOGIN, EXIT_INTERRUPTED = 0, 3, 130
CYCLE = "watch cycle"  # how a cycle's last log line starts: "watch cycle finished, exit N"


# -- choosing the mode --------------------------------------------------------------------------


def _unescape_mount(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash as \040, \011, \012, \134
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: Path, mounts: str | None = None) -> str | None:
    """The type of the file system ``path`` lies on (from ``/proc/mounts``), or None.

    ``mounts`` is the text of ``/proc/mounts`` (read when not given); the longest mount point
    that contains the path wins. The path need not exist yet.
    """
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None  # not Linux: watchdog uses FSEvents, kqueue or ReadDirectoryChangesW
    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point, fstype = _unescape_mount(fields[1]), fields[2]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), fstype)
    return best[1] if best else None


def choose_mode(mode: str, inbox: Path, mounts: str | None = None) -> tuple[str, str]:
    """(``events`` or ``polling``, why) for the mode asked (``auto``, ``events``, ``polling``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "auto":
        return mode, "as asked"
    fstype = filesystem_type(inbox, mounts)
    if fstype and (fstype in NETWORK_FILESYSTEMS or fstype.startswith("fuse")):
        return "polling", f"the inbox is on a {fstype} mount, where file events do not arrive"
    return "events", f"the inbox is on a local file system ({fstype or 'unknown type'})"


# -- the observer ----------------------------------------------------------------------------------


class _Wake(FileSystemEventHandler):
    """Any change in the inbox wakes the loop; what it means is decided by the rescan."""

    def __init__(self, wake: threading.Event) -> None:
        super().__init__()
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("opened", "closed_no_write"):
            self.wake.set()


class _Observer(Observer):  # type: ignore[misc,valid-type]
    """watchdog's platform observer, logging what kills its thread instead of printing it."""

    def run(self) -> None:
        try:
            super().run()
        except Exception:
            log.exception("the file-system observer thread failed; the watcher restarts it")


class _BenignStopRace(logging.Filter):
    """watchdog logs an ERROR when its inotify thread finds, mid-read, that it was stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_BenignStopRace())


def _stamp(folder: Path) -> frozenset[tuple[str, int, int]]:
    """Names, sizes and mtimes of the files in ``folder`` (to notice an edit)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return frozenset()
    stamps = set()
    for entry in entries:
        try:
            info = entry.stat()
        except OSError:
            continue
        stamps.add((entry.name, info.st_size, info.st_mtime_ns))
    return frozenset(stamps)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


# -- the loop -------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What one look at the inbox did."""

    pulled: bool = False
    busy: bool = False  # files were processed: look again at once
    next_due: float | None = None  # seconds until a settling file may be ready


@dataclass
class Counters:
    """What the watcher did (for tests and the final log line)."""

    scans: int = 0
    cycles: int = 0  # finished
    pulls: int = 0
    files: int = 0
    observer_restarts: int = 0
    errors: int = 0


class Watcher:
    """The watch loop over one workspace; the caller opens the journal and the client.

    Example::

        with Journal.open(state / "journal.sqlite") as journal, client_from_settings(s) as c:
            watcher = Watcher(s, c, journal, mode="events", rescan=10)
            threading.Thread(target=watcher.run).start()
            ...
            watcher.request_stop()
    """

    def __init__(
        self,
        settings: Settings,
        client: CentraClient,
        journal: Journal,
        *,
        mode: str = "auto",
        rescan: float = DEFAULT_RESCAN,
    ) -> None:
        if rescan <= 0:
            raise ValueError("rescan must be a positive number of seconds")
        self.settings = settings
        self.client = client
        self.journal = journal
        self.inbox = settings.folder("inbox")
        self.state = settings.folder("state")
        self.rescan = rescan
        self.mode, self.mode_reason = choose_mode(mode, self.inbox)
        self.counters = Counters()
        self.fatal: PipelineError | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._watched: tuple[int, int] | None = None
        self._next_observer_try = 0.0
        self._retry_at = 0.0
        self._backoff = 0.0
        # Files a cycle left in the inbox (no mapping matches them, or theirs is broken): report
        # each once and start no cycle for it on every rescan, until the file or a mapping
        # changes.
        self._left: dict[str, tuple[int, int]] = {}  # readable name -> (size, mtime_ns)
        self._mappings_seen: frozenset[tuple[str, int, int]] = frozenset()
        # What was last said about the mappings, the inbox and the observer: each problem is
        # logged when it appears or changes, not on every rescan.
        self._mappings_checked: frozenset[tuple[str, int, int]] | None = None
        self._mapping_problem = False
        self._inbox_problem: str | None = None
        self._observer_problem: str | None = None
        self._signal: str | None = None

    # -- control --------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the cycle in progress, then return from :meth:`run` (thread- and signal-safe)."""
        self._stop.set()
        self._wake.set()

    def signalled(self, name: str) -> None:
        """Stop like :meth:`request_stop`, from a signal handler.

        It only sets an attribute: taking a lock (``Event.set``) or logging in a signal handler
        can deadlock the main thread it interrupts. The loop notices within ``HEALTH_CHECK``.
        """
        self._signal = name

    @property
    def observer_alive(self) -> bool:
        return self._observer_ok()

    def run(self) -> int:
        """Watch until :meth:`request_stop`; 0, or 3 when Centra refused the login."""
        poll = self.settings.file.orders.poll_interval
        log.info(
            "watching %s (%s mode: %s); full rescan every %g s; events pulled every %g s",
            self.inbox,
            self.mode,
            self.mode_reason,
            self.rescan,
            poll,
        )
        next_scan = next_pull = last_scan = time.monotonic()
        force = True  # the first cycle resumes whatever a killed run left claimed
        try:
            while not self._stop_requested():
                now = time.monotonic()
                if self.mode == "events":
                    self._check_observer(now)
                if self._wake.is_set():
                    self._wake.clear()
                    # a burst of events (a file being written) gives one scan per MIN_SCAN_GAP
                    next_scan = min(next_scan, max(now, last_scan + MIN_SCAN_GAP))
                next_tick = max(min(next_scan, next_pull), self._retry_at)
                if now < next_tick:
                    self._wake.wait(min(next_tick - now, HEALTH_CHECK))
                    continue
                outcome = self._tick(pull_due=now >= next_pull, force=force)
                if self.fatal is not None:
                    break
                force = False
                last_scan = time.monotonic()
                if outcome.pulled:
                    next_pull = last_scan + poll
                next_scan = last_scan + self.rescan
                if outcome.busy:
                    next_scan = last_scan  # files may have arrived while we worked
                elif outcome.next_due is not None:  # a file is settling: look when it may be
                    next_scan = min(next_scan, last_scan + outcome.next_due + 0.05)
        finally:
            self._stop_observer()
        c = self.counters
        restarts = f", {c.observer_restarts} observer restart(s)" if self.mode == "events" else ""
        log.info(
            "watch stopped: %d cycle(s), %d file(s), %d pull(s)%s",
            c.cycles,
            c.files,
            c.pulls,
            restarts,
        )
        if self.fatal is not None:
            return self.fatal.exit_code
        return EXIT_OK

    def _stop_requested(self) -> bool:
        if self._signal is not None and not self._stop.is_set():
            log.warning("%s received: finishing what is in flight, then stopping", self._signal)
            self._stop.set()
        return self._stop.is_set()

    # -- one look at the inbox ------------------------------------------------------------

    def _tick(self, *, pull_due: bool, force: bool) -> _Outcome:
        outcome = _Outcome()
        self.counters.scans += 1
        self._check_mappings()
        opts = self.settings.file.inbox
        problem = folder_problem(self.inbox)
        if problem is None:
            try:
                scan = scan_inbox(
                    self.inbox,
                    self.journal,
                    settle_seconds=opts.settle_seconds,
                    done_marker=opts.done_marker,
                )
            except OSError as exc:  # it changed since folder_problem looked
                problem = folder_problem(self.inbox) or ConfigError(
                    f"cannot read the inbox {self.inbox}: {exc.strerror or exc}",
                    hint="check the disk or the share it lives on",
                )
        if problem is not None:
            self._inbox_unusable(problem)
            if pull_due or force:  # orders still go out while the inbox is away
                outcome.pulled = self._cycle(import_files=False)
            return outcome
        if self._inbox_problem is not None:
            log.warning("the inbox %s is back; importing its files again", self.inbox)
            self._inbox_problem = None
        outcome.next_due = scan.next_due
        if self._left and _stamp(self.settings.folder("mappings")) != self._mappings_seen:
            self._left.clear()  # a mapping changed: the files left may be imported now
        ready = [p for p in scan.ready if not self._known_left(p)]
        leftovers = bool(self.journal.unfinished_files())
        if ready or leftovers or force:
            processed = self.counters.files
            outcome.pulled = self._cycle(import_files=True)
            outcome.busy = self.counters.files > processed
        elif pull_due:
            outcome.pulled = self._cycle(import_files=False)
        return outcome

    def _inbox_unusable(self, problem: ConfigError) -> None:
        """Log why the inbox cannot be used: once, and again only when the reason changes."""
        text = error_text(problem)
        if text == self._inbox_problem:
            return
        self._inbox_problem = text
        poll = self.settings.file.orders.poll_interval
        if not self.inbox.exists() and not self.inbox.is_symlink():
            log.warning(
                "the inbox %s is not there (share unmounted?); rescanning every %g s until it "
                "is back; events are still pulled every %g s",
                self.inbox,
                self.rescan,
                poll,
            )
            return
        log.error(
            "%s; watch keeps running: it rescans the inbox every %g s and imports again once "
            "it can be used, and pulls events every %g s meanwhile",
            text,
            self.rescan,
            poll,
        )

    def _check_mappings(self) -> None:
        """Say when a mapping is broken (at start, and whenever mappings/ changes).

        The watcher goes on: ``run_batch`` leaves only the files a broken mapping would read.
        """
        folder = self.settings.folder("mappings")
        stamp = _stamp(folder)
        if stamp == self._mappings_checked:
            return
        self._mappings_checked = stamp
        try:
            load_mappings(folder)
        except MappingError as exc:
            self._mapping_problem = True
            log.error(
                "%s; watch keeps running: the files a broken mapping would read wait in the "
                "inbox until it is fixed, other files are imported and events pulled as usual; "
                "a fixed mapping is used from the next rescan",
                error_text(exc),
            )
            return
        if self._mapping_problem:
            log.warning("the mappings in %s are valid again", folder)
            self._mapping_problem = False

    def _known_left(self, path: Path) -> bool:
        known = self._left.get(readable_name(path.name))
        if known is None:
            return False
        try:
            info = path.stat()
        except OSError:
            return False
        return known == (info.st_size, info.st_mtime_ns)

    # -- one cycle: the same path and lock as `run` -----------------------------------------

    def _cycle(self, *, import_files: bool) -> bool:
        """One ``run`` (or pull only) under the workspace lock; True if it ran."""
        try:
            with WorkspaceLock(self.state, "watch"):
                try:
                    if import_files:
                        summary = run_batch(
                            self.settings,
                            self.client,
                            self.journal,
                            pull=self._pull,
                            wait_for_settle=False,
                            should_stop=self._stop_requested,
                            command="watch",
                        )
                        shown = self._count(summary)
                        if summary.stopped is not None:
                            self._failed(summary.stopped, summary, shown)
                            return True
                        log_summary(CYCLE, summary, shown=shown, quiet_when_idle=True)
                    else:
                        log_outcome(CYCLE, events=self._pull(), quiet_when_idle=True)
                finally:
                    self.counters.cycles += 1  # completed (or failed) cycles
        except LockedError:
            log.info("another run holds the workspace lock; trying again in %g s", LOCKED_RETRY)
            self._retry_at = time.monotonic() + LOCKED_RETRY
            return False
        except (PipelineError, OSError) as exc:
            self._failed(exc)
            return True
        except Exception as exc:  # a bug must not end a service that runs for months
            log.exception("unexpected error in a watch cycle")
            self._failed(exc)
            return True
        self._backoff = 0.0
        return True

    def _pull(self) -> dict[str, Any]:
        self.counters.pulls += 1
        return pull_events(self.settings, self.client, self.journal).to_json()

    def _failed(
        self,
        exc: BaseException,
        summary: RunSummary | None = None,
        shown: list[FileResult] | None = None,
    ) -> None:
        """A cycle that stopped: log what it did and why, then retry later (or stop)."""
        self.counters.errors += 1
        if isinstance(exc, LoginRefused):
            self.fatal = exc
            then = "Centra refused the login: watch stops (retrying could lock the account)"
        else:
            self._backoff = min(MAX_BACKOFF, max(2.0, self._backoff * 2))
            self._retry_at = time.monotonic() + self._backoff
            then = (
                f"trying again in {self._backoff:g} s (claimed files stay claimed and are resumed)"
            )
        log_outcome(
            CYCLE,
            files=summary.files if summary else (),
            events=summary.events if summary else None,
            error=exc,
            shown=shown,
            then=then,
        )

    def _count(self, summary: RunSummary) -> list[FileResult]:
        """Count the cycle's files; those to log (not settling ones, none left twice).

        A file the cycle left in the inbox (no mapping matches it, or its mapping is broken)
        is remembered: it starts no cycle and is not logged again until it or a mapping
        changes. Without that, each rescan would run a cycle for it, at once and forever.
        """
        shown: list[FileResult] = []
        inbox: dict[str, tuple[int, int]] | None = None
        for f in summary.files:
            if f.status in ("unmatched", "failed") and not f.archived:
                inbox = self._inbox_files() if inbox is None else inbox
                stamp = inbox.get(f.name)
                if stamp is not None:  # still in the inbox: left there
                    said = self._left.get(f.name) == stamp
                    self._left[f.name] = stamp
                    self._mappings_seen = _stamp(self.settings.folder("mappings"))
                    if not said:
                        shown.append(f)
                    continue
                if f.status == "unmatched":
                    continue  # gone meanwhile
            if f.status in ("done", "failed", "duplicate"):
                self.counters.files += 1
            elif f.status == "waiting":
                continue  # settling: looked at again when it may be ready
            shown.append(f)
        return shown

    def _inbox_files(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of each file in the inbox, by its readable name."""
        try:
            entries = list(os.scandir(self.inbox))
        except OSError:
            return {}
        found: dict[str, tuple[int, int]] = {}
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[readable_name(entry.name)] = (info.st_size, info.st_mtime_ns)
        return found

    # -- the observer ---------------------------------------------------------------------

    def _observer_ok(self) -> bool:
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        if not all(emitter.is_alive() for emitter in observer.emitters):
            return False
        return _identity(self.inbox) == self._watched

    def _check_observer(self, now: float) -> None:
        if self._observer_ok() or now < self._next_observer_try:
            return
        if self._observer is not None:
            log.warning("the file-system observer stopped; restarting it and rescanning now")
            self._stop_observer()
            self.counters.observer_restarts += 1
            self._wake.set()  # whatever happened meanwhile is found by the rescan
        self._start_observer(now)

    def _start_observer(self, now: float) -> None:
        identity = _identity(self.inbox)
        if identity is None:  # the rescan reports the missing inbox; look again shortly
            self._next_observer_try = now + min(self.rescan, 2.0)
            return
        observer = _Observer()
        try:
            observer.schedule(_Wake(self._wake), str(self.inbox), recursive=False)
            observer.start()
        except OSError as exc:  # the inbox vanished meanwhile, no permission, inotify's limit
            # said once (and again when the reason changes), not every rescan
            level = logging.DEBUG if str(exc) == self._observer_problem else logging.WARNING
            self._observer_problem = str(exc)
            log.log(
                level,
                "cannot watch %s for events (%s); rescanning every %g s and trying again",
                self.inbox,
                exc,
                self.rescan,
            )
            self._next_observer_try = now + self.rescan
            return
        self._observer_problem = None
        self._observer, self._watched = observer, identity
        self._wake.set()  # rescan: files may have arrived while nothing watched

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        try:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=5)
        except Exception:  # stopping a broken observer must not break the watcher
            log.debug("stopping the old observer failed", exc_info=True)


# -- the entry point ------------------------------------------------------------------------------


@contextmanager
def _signals(watcher: Watcher) -> Iterator[None]:
    """First SIGTERM/SIGINT: finish the current cycle and stop. Second: stop at once."""
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            watcher.signalled(signal.Signals(signum).name)
        else:
            raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(settings: Settings, *, mode: str = "auto", rescan: float = DEFAULT_RESCAN) -> int:
    """Run ``watch`` in this process until SIGTERM/SIGINT; the exit code.

    Raises LockedError (exit 4) when another ``watch`` runs on the workspace. A broken mapping
    or an unusable inbox does not stop it, at start or later: it is logged, and the watcher
    goes on with what it can do (see :class:`Watcher`).
    """
    state = settings.folder("state")
    with ExitStack() as stack:
        # One watcher per workspace; the workspace lock itself is taken per cycle.
        stack.enter_context(WorkspaceLock(state / "watch", "watch"))
        journal = stack.enter_context(Journal.open(state / "journal.sqlite"))
        client = stack.enter_context(client_from_settings(settings))
        watcher = Watcher(settings, client, journal, mode=mode, rescan=rescan)
        stack.enter_context(_signals(watcher))
        try:
            return watcher.run()
        except KeyboardInterrupt:
            log.warning("stopped at once; files left claimed are finished by the next run or watch")
            return EXIT_INTERRUPTED
    raise AssertionError("unreachable")  # pragma: no cover
