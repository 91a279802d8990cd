"""What an operator reads in the log after each ``run``, ``push``, ``pull`` and ``watch`` cycle.

:func:`log_outcome` writes, through logging (so to stderr and to ``state/logs/pipeline.log``):

- one line per file, starting with its name: INFO when it was imported cleanly, WARNING when
  rows were skipped or failed (with the counts and the first errors), ERROR when the file
  failed (with why, its report and the ``push`` that sends it again once fixed);
- one line for the pull (events fetched, exported, skipped, acknowledged, outbox files);
- a last line ``run finished, exit N``, with the reason when N is not 0.

The logger is ``pipeline.<command>`` (``pipeline.run``, ``pipeline.pull``, ``pipeline.watch``),
so ``grep 'pipeline.run:' state/logs/pipeline.log`` finds one command's lines. Messages come
from Centra and from reports; every handler of :mod:`pipeline.logs` carries the redacting
filter, so the password cannot reach these lines, whatever Centra wrote.

:func:`folder_problem` says why a workspace folder cannot be used (missing, a file, not
readable or writable), naming the folder, the cause and what to do.

Example::

    summary = run_batch(settings, client, journal)
    log_summary("run", summary)                      # the lines above; returns the exit code
    log_outcome("pull", events=pulled.to_json())     # a pull: its line and "pull finished, exit 0"
    log_outcome("run", error=exc)                    # a command that ended with an error
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError, PipelineError

if TYPE_CHECKING:  # not imported at run time: `pull` need not load the import side
    from pipeline.batch.run import FileResult, RunSummary

MAX_ERROR = 300  # characters of one row error in a log line
EXIT_WARNING = frozenset({1, 4, 130})  # exit codes whose last line is a WARNING, not an ERROR


def _logger(command: str) -> logging.Logger:
    return logging.getLogger(f"pipeline.{command.split()[0]}")


def error_text(exc: BaseException) -> str:
    """An error on one line: its message, then what to do."""
    if isinstance(exc, PipelineError):
        text = exc.message
        if exc.hint:
            text += f"; what to do: {exc.hint}"
    else:
        text = str(exc) or type(exc).__name__
    return " | ".join(part.strip() for part in text.splitlines() if part.strip())


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 3] + "..."


def _counts(f: FileResult) -> str:
    return f"{f.sent} sent, {f.skipped} skipped, {f.failed} failed"


def _entities(f: FileResult) -> str:
    return f" ({', '.join(f.entities)})" if f.entities else ""


def _first_errors(f: FileResult) -> str:
    if not f.errors:
        return ""
    shown = len(f.errors)
    if shown < f.failed:
        label = f"first {shown} of {f.failed} errors"
    else:
        label = "error" if shown == 1 else "errors"
    return f"; {label}: " + " | ".join(_short(e) for e in f.errors)


def file_line(f: FileResult) -> tuple[int, str]:
    """(level, text) of one file's log line."""
    report = f"; report {f.report}" if f.report else ""
    message = f"; {_short(f.message)}" if f.message else ""
    if f.status == "done":
        if f.failed or f.skipped:
            what = f"{f.failed} failed row(s)" if f.failed else f"{f.skipped} skipped row(s)"
            todo = (
                "; what to do: fix the failed rows (the report says why) and push a file with them"
                if f.failed
                else ""
            )
            return logging.WARNING, (
                f"{f.name}: imported with {what}{_entities(f)}: {_counts(f)}"
                f"{_first_errors(f)}{report}{todo}"
            )
        return logging.INFO, f"{f.name}: imported{_entities(f)}: {_counts(f)}{report}"
    if f.status == "failed":
        # archived: it is pushed again once fixed; not archived, its message says what next
        todo = (
            f"; what to do: fix it (or its mapping), then `centra-pipeline push {f.archived}`"
            if f.archived
            else ""
        )
        return logging.ERROR, (
            f"{f.name}: failed, not imported{_entities(f)}: {_counts(f)}{message}"
            f"{_first_errors(f)}{report}{todo}"
        )
    said = _short(f.message) or "no reason given"
    if f.status == "duplicate":
        return logging.WARNING, f"{f.name}: {said}"
    if f.status == "unmatched":
        return logging.WARNING, (
            f"{f.name}: {said}; what to do: add its name to the match globs of a mapping in "
            "mappings/, or take it out of the inbox"
        )
    if f.status == "waiting":
        return logging.INFO, f"{f.name}: not taken yet: {said}"
    if f.status == "claimed":
        return logging.WARNING, f"{f.name}{_entities(f)}: {said}"
    return logging.WARNING, f"{f.name}: {f.status}: {said}{report}"


def events_line(events: dict[str, Any]) -> tuple[int, str]:
    """(level, text) of a pull's log line, from ``PullSummary.to_json()``."""
    skipped = events.get("skipped", 0)
    reasons = events.get("skipped_by_reason") or {}
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    files = ", ".join(events.get("outbox_files") or []) or "none"
    text = (
        f"pulled {events.get('fetched', 0)} event(s): {events.get('exported', 0)} exported "
        f"({events.get('rows', 0)} row(s)), {skipped} skipped{f' ({why})' if why else ''}, "
        f"{events.get('acknowledged', 0)} acknowledged; outbox files: {files}"
    )
    if events.get("recovered"):
        text += f"; {events['recovered']} batch(es) of an interrupted pull completed"
    warnings = events.get("warnings") or []
    if warnings:
        return logging.WARNING, text + "; warnings: " + " | ".join(_short(w) for w in warnings)
    return logging.INFO, text


def _code(error: BaseException) -> int:
    return error.exit_code if isinstance(error, PipelineError) else 1


def _exit_code(
    files: Sequence[FileResult], error: BaseException | None, problems: Sequence[BaseException]
) -> int:
    if error is not None:
        return _code(error)
    bad = 1 if any(f.status == "failed" or f.failed for f in files) else 0
    return max([bad, *(_code(p) for p in problems)])


def _names(files: list[FileResult]) -> str:
    names = [f.name for f in files]
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _reason(
    files: Sequence[FileResult], error: BaseException | None, problems: Sequence[BaseException]
) -> str:
    if error is not None:
        return error_text(error)
    failed = [f for f in files if f.status == "failed"]
    rows = [f for f in files if f.status != "failed" and f.failed]
    parts = [error_text(p) for p in problems]
    if failed:
        parts.append(f"{len(failed)} file(s) failed: {_names(failed)}")
    if rows:
        parts.append(f"{len(rows)} file(s) with failed rows: {_names(rows)}")
    return "; ".join(parts)


def log_outcome(
    command: str,
    *,
    files: Sequence[FileResult] = (),
    events: dict[str, Any] | None = None,
    error: BaseException | None = None,
    problems: Sequence[BaseException] = (),
    code: int | None = None,
    shown: Sequence[FileResult] | None = None,
    then: str = "",
    quiet_when_idle: bool = False,
) -> int:
    """Log a command's files, its pull and its last line; the exit code.

    ``files`` decide the exit code (unless ``code`` or ``error`` does), with ``problems``:
    errors that stopped a part of the run only (a broken mapping, a failed pull), which the
    last line names too. ``shown`` (default:
    all of them) are the ones logged (``watch`` leaves out what it reported before). ``then``
    is added to the last line (``watch``: when it tries again). With ``quiet_when_idle``
    (``watch``), a cycle that found nothing to do logs its lines at DEBUG only.
    """
    log = _logger(command)
    shown = files if shown is None else shown
    code = _exit_code(files, error, problems) if code is None else code
    fetched = bool(events and (events.get("fetched") or events.get("recovered")))
    idle = quiet_when_idle and not shown and not fetched and code == 0
    if events is not None and (fetched or not quiet_when_idle or code != 0):
        log.log(*events_line(events))
    for f in shown:
        log.log(*file_line(f))
    last = f"{command} finished, exit {code}"
    reason = _reason(files, error, problems) if code != 0 else ""
    if reason:
        last += f": {reason}"
    if then:
        last += f"; {then}"
    level = (
        logging.DEBUG
        if idle
        else logging.INFO
        if code == 0
        else logging.WARNING
        if code in EXIT_WARNING
        else logging.ERROR
    )
    log.log(level, "%s", last)
    return code


def log_summary(command: str, summary: RunSummary, **options: Any) -> int:
    """:func:`log_outcome` for what ``run_batch`` returned; the exit code."""
    return log_outcome(
        command,
        files=summary.files,
        events=summary.events,
        error=summary.stopped,
        problems=summary.problems,
        code=summary.exit_code,
        **options,
    )


def folder_problem(path: Path, role: str = "inbox", *, write: bool = True) -> ConfigError | None:
    """Why ``path`` cannot be used as the workspace's ``role`` folder, or None when it can.

    It must be a folder the pipeline can list (and, with ``write``, create files in: the inbox
    holds ``.processing/`` while files are imported).
    """
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except FileNotFoundError:
        if path.is_symlink():
            return ConfigError(
                f"the {role} {path} is a symbolic link to {os.readlink(path)}, which does "
                "not exist",
                hint="mount the share it points to, or fix the link",
            )
        return ConfigError(
            f"the {role} {path} does not exist",
            hint="create it (or mount the share it lives on); the pipeline does not create "
            "it, so that an unmounted share is noticed",
        )
    except NotADirectoryError:
        return ConfigError(
            f"the {role} {path} is a file, not a folder",
            hint=f"move that file away and create the folder: mkdir {path}",
        )
    except PermissionError:
        return ConfigError(
            f"cannot read the {role} {path}: permission denied for the user {_user()}",
            hint=f"give {_user()} read, write and search permission on it (e.g. chown or "
            "chmod u+rwx), or run the pipeline as the user that owns it",
        )
    except OSError as exc:
        return ConfigError(
            f"cannot read the {role} {path}: {exc.strerror or exc}",
            hint="check the disk or the share it lives on (a stale network mount: remount it)",
        )
    if write and not os.access(path, os.W_OK | os.X_OK):
        return ConfigError(
            f"cannot write in the {role} {path}: permission denied for the user {_user()} "
            "(files are moved into .processing/ there while they are imported)",
            hint=f"give {_user()} write permission on it (e.g. chown or chmod u+rwx)",
        )
    return None


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "running the pipeline"
