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
        # Newest first: a failure whose file name was imported cleanly later is fixed.
        fixed: set[str] = set()
        failed = []
        for f in report["files"]:
            if f["status"] == "failed" or f["rows_failed"]:
                if f["name"] not in fixed:
                    failed.append(f)
            elif f["status"] == "done":
                fixed.add(f["name"])
        lines.append(f"recent files: {len(report['files'])}, with failures: {len(failed)}")
        for f in failed:
            lines.append(
                f"  {f['name']}: {f['status']}, {f['rows_failed']} row(s) failed; "
                f"{(f['message'] + '; ') if f['message'] else ''}report: {f['report_path']}"
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
