"""What ``centra-pipeline status`` shows: last runs, waiting and failed files, last pull.

An inbox that cannot be used (missing, a file, not readable or writable) is reported in the
lines and as ``inbox_error`` (the CLI then exits 2); everything else is still shown.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pipeline.batch.logsummary import folder_problem
from pipeline.config import Settings
from pipeline.state.inbox import is_ignored, readable_name
from pipeline.state.journal import Journal, json_value


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _failed(f: dict[str, Any]) -> bool:
    return f["status"] == "failed" or bool(f["rows_failed"])


def workspace_status(settings: Settings) -> dict[str, Any]:
    lines: list[str] = []
    journal_path = settings.folder("state") / "journal.sqlite"
    inbox = settings.folder("inbox")
    waiting: list[str] = []
    problem = folder_problem(inbox)
    if problem is None:
        try:
            waiting = sorted(
                readable_name(p.name)
                for p in inbox.iterdir()
                if p.is_file() and not is_ignored(readable_name(p.name))
            )
        except OSError:  # it went away (or its permissions changed) since we looked
            problem = folder_problem(inbox)
    report: dict[str, Any] = {"runs": [], "waiting": waiting, "files": [], "pull": None}
    report["inbox_error"] = str(problem) if problem is not None else None
    if not journal_path.exists():
        lines.append("no runs yet")
    else:
        with Journal.open(journal_path) as journal:
            report["runs"] = journal.last_runs(5)
            report["files"] = journal.recent_files(20)
            for f in report["files"]:
                # A failure is resolved once a later file imported its rows cleanly: the same
                # name again, or its errors file fixed and dropped back.
                f["errors_files"] = (f.pop("errors_path") or "").splitlines()
                found = _failed(f) and journal.resolved_by(f["id"])
                f["resolved_by"], f["resolved_at"] = found or (None, None)
            row = journal.db.execute(
                "SELECT started, finished, fetched, exported, acknowledged, files FROM pulls "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row:
                report["pull"] = dict(
                    zip(
                        ("started", "finished", "fetched", "exported", "acknowledged", "files"),
                        row,
                        strict=True,
                    )
                )
                report["pull"]["files"] = json_value(report["pull"]["files"])
            report["events_exported"] = journal.db.execute(
                "SELECT count(*) FROM events WHERE outcome = 'exported'"
            ).fetchone()[0]
        lines.append("last runs:")
        for r in report["runs"]:
            lines.append(
                f"  #{r['id']} {r['command']:<5} {_when(r['started'])}  exit {r['exit_code']}"
            )
        failed = [f for f in report["files"] if _failed(f) and not f["resolved_by"]]
        resolved = [f for f in report["files"] if f["resolved_by"]]
        lines.append(
            f"recent files: {len(report['files'])}, with failures: {len(failed)}"
            + (f", resolved: {len(resolved)}" if resolved else "")
        )
        for f in failed:
            errors = "".join(f"; errors file: {e}" for e in f["errors_files"])
            lines.append(
                f"  {f['name']}: {f['status']}, {f['rows_failed']} row(s) failed; "
                f"{(f['message'] + '; ') if f['message'] else ''}report: {f['report_path']}"
                f"{errors}"
            )
        for f in resolved:
            what = "failed" if f["status"] == "failed" else f"{f['rows_failed']} failed row(s)"
            lines.append(
                f"  {f['name']}: {what} (resolved by {f['resolved_by']}, {_when(f['resolved_at'])})"
            )
        pull = report["pull"]
        lines.append(
            f"last pull: {_when(pull['started'])}, {pull['exported']} exported, "
            f"{pull['acknowledged']} acknowledged"
            if pull
            else "last pull: never"
        )
        lines.append(f"events exported in total: {report['events_exported']}")
    if problem is not None:
        lines.append(f"inbox: {problem.message}")
    else:
        lines.append(
            f"waiting in the inbox: {len(waiting)}" + (": " + ", ".join(waiting) if waiting else "")
        )
    report["lines"] = lines
    report["generated"] = time.time()
    return report
