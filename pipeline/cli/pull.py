"""``centra-pipeline pull``."""

from __future__ import annotations

import json

import click

from pipeline.batch.logsummary import log_outcome
from pipeline.centra.client import client_from_settings
from pipeline.cli import EXIT_FAILED, EXIT_OK, Context, cli, exit_code_for, pass_ctx
from pipeline.config import load_settings
from pipeline.errors import PipelineError
from pipeline.logs import log_to_file, protect
from pipeline.outbox.pull import PullSummary, pull_events
from pipeline.state.journal import Journal
from pipeline.state.lock import WorkspaceLock


@cli.command()
@pass_ctx
def pull(ctx: Context) -> None:
    """Pull Centra's events into outbox CSV files (the Centra -> ERP side only).

    Fetches events until the queue is empty, writes each order change once to
    outbox/<prefix>-<UTC time>-<seq>.csv, and acknowledges every event (handled or not)
    only after its file is durable and journaled. An event whose data cannot be read is
    not acknowledged: it stays in Centra's queue, is named in a warning, and the pull exits 1
    once every other event is done. A pull killed halfway is completed by the next one.
    Exit 0 done, 1 failed (or events left unreadable), 2 configuration or mapping error,
    3 Centra unreachable or login refused, 4 another run holds the lock.
    """
    summary = PullSummary()
    error: PipelineError | None = None
    try:
        settings = load_settings(ctx.workspace, ctx.config)
        protect(settings.credentials.password)
        log_to_file(settings.folder("state"))
        state = settings.folder("state")
        with WorkspaceLock(state, "pull"), Journal.open(state / "journal.sqlite") as journal:
            run_id = journal.start_run("pull")
            code = EXIT_OK
            try:
                pull_events(
                    settings,
                    client_from_settings(settings),
                    journal,
                    run_id=run_id,
                    summary=summary,
                )
                if summary.held:
                    code = EXIT_FAILED  # unreadable events are left in the queue
            except PipelineError as exc:
                error, code = exc, exit_code_for(exc)
                raise
            finally:
                journal.finish_run(run_id, code, {"events": summary.to_json()})
    except PipelineError as exc:
        error = exc
    code = EXIT_OK if error is None else exit_code_for(error)
    if code == EXIT_OK and summary.held:
        code = EXIT_FAILED
    pulled = error is None or summary.fetched or summary.recovered
    log_outcome("pull", events=summary.to_json() if pulled else None, error=error, code=code)
    if ctx.json:
        out: dict[str, object] = {"exit_code": code, "files": [], "events": summary.to_json()}
        if error is not None:
            out["error"] = str(error)
        click.echo(json.dumps(out))
    elif error is None:
        click.echo(summary.text())  # its warnings are logged (stderr and the log file)
    if error is not None:
        if summary.fetched or summary.recovered:
            click.echo(f"Before the error: {summary.text()}", err=True)
        click.echo(f"Error: {error}", err=True)
    raise SystemExit(code)
