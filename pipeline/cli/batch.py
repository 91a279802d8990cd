"""``centra-pipeline run``, ``push`` and ``status``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from pipeline.batch.logsummary import folder_problem, log_outcome, log_summary
from pipeline.batch.run import Progress, RunSummary, os_error_advice, run_batch
from pipeline.batch.status import workspace_status
from pipeline.centra.client import client_from_settings
from pipeline.cli import EXIT_USAGE, Context, cli, fail, pass_ctx
from pipeline.config import Settings, load_settings
from pipeline.errors import PipelineError
from pipeline.logs import log_to_file, protect
from pipeline.outbox.pull import pull_events
from pipeline.state.journal import Journal
from pipeline.state.lock import WorkspaceLock
from pipeline.vocabulary import ORDER


def _pull_step(settings: Settings, client: Any, journal: Journal) -> Callable[[], dict[str, Any]]:
    """The Centra -> outbox step of ``run``: events before stock."""

    def pull() -> dict[str, Any]:
        return pull_events(settings, client, journal).to_json()

    return pull


class TerminalProgress(Progress):
    """A progress line on a terminal (stderr); nothing when output goes to a log (cron)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.total = 0
        self.done = 0
        self.started = time.monotonic()

    def start(self, objects: int) -> None:
        self.total = objects

    def chunk(self, file: str, entity: str, objects: int) -> None:
        self.done += objects
        if self.enabled:
            rate = self.done / max(time.monotonic() - self.started, 1e-6)
            sys.stderr.write(
                f"\r{file}: {entity}  {self.done:,}/{self.total:,} objects  {rate:,.0f}/s   "
            )
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\n")


def _execute(ctx: Context, command: str, push: Path | None = None, force: bool = False) -> None:
    settings: Settings | None = None
    try:
        settings = load_settings(ctx.workspace, ctx.config)
        protect(settings.credentials.password)
        log_to_file(settings.folder("state"))
        with ExitStack() as stack:
            stack.enter_context(WorkspaceLock(settings.folder("state"), command))
            journal = stack.enter_context(Journal.open(settings.folder("state") / "journal.sqlite"))
            client = stack.enter_context(client_from_settings(settings))
            pull = None if push is not None else _pull_step(settings, client, journal)
            progress = TerminalProgress()
            summary = run_batch(
                settings, client, journal, pull=pull, push=push, force=force, progress=progress
            )
            progress.finish()
    except (PipelineError, OSError) as caught:
        exc = caught if isinstance(caught, PipelineError) else _os_error(settings, caught)
        log_outcome(command, error=exc)
        if ctx.json:
            click.echo(json.dumps({"exit_code": exc.exit_code, "error": str(exc), "files": []}))
        fail(exc)
        return
    log_summary(command, summary)
    _print(ctx, summary)
    sys.exit(summary.exit_code)


def _os_error(settings: Settings | None, exc: OSError) -> PipelineError:
    """An OSError that escaped the run, as a message naming the cause and what to do."""
    if settings is not None and exc.filename is not None:
        inbox = settings.folder("inbox")
        if Path(os.fsdecode(exc.filename)).is_relative_to(inbox):
            problem = folder_problem(inbox)
            if problem is not None:  # the inbox itself: say what is wrong with it (exit 2)
                return problem
    return os_error_advice(exc)


def _print(ctx: Context, summary: RunSummary) -> None:
    if ctx.json:
        payload = {
            "exit_code": summary.exit_code,
            "files": [f.to_json() for f in summary.files],
            "events": summary.events,
            "requests": summary.requests,
            "seconds": round(summary.seconds, 3),
        }
        if summary.stopped is not None:
            payload["error"] = str(summary.stopped)
        if summary.problems:
            payload["problems"] = [str(p) for p in summary.problems]
        click.echo(json.dumps(payload))
        return
    if summary.events:
        e = summary.events
        click.echo(
            f"events: {e.get('fetched', 0)} fetched, {e.get('exported', 0)} exported, "
            f"{e.get('acknowledged', 0)} acknowledged"
        )
    if not summary.files and summary.stopped is None:
        click.echo("nothing to do: no ready files in the inbox")
    width = max((len(f.name) for f in summary.files), default=4)
    # In the order they were sent: their first entity's place in the dependency order.
    in_order = sorted(
        summary.files,
        key=lambda f: min((ORDER.get(e, (99, 0)) for e in f.entities), default=(99, 0)),
    )
    for f in in_order:
        counts = f"sent {f.sent:>6}  skipped {f.skipped:>6}  failed {f.failed:>6}"
        line = (
            f"{f.name:<{width}}  {f.status:<9}  {counts if f.status in ('done', 'failed') else ''}"
        )
        click.echo(line.rstrip())
        if f.report:
            click.echo(f"{'':<{width}}  report: {f.report}")
        for errors in f.errors_files:
            click.echo(f"{'':<{width}}  rows to fix: {errors}")
        if f.message:
            click.echo(f"{'':<{width}}  {f.message}")
    totals: dict[str, list[int]] = {}
    for f in summary.files:
        for entity, entity_counts in f.by_entity.items():
            slot = totals.setdefault(entity, [0, 0, 0])
            for n in range(3):
                slot[n] += entity_counts[n]
    if totals:
        click.echo(f"\n{'rows by entity':<22}{'sent':>8}{'skipped':>9}{'failed':>8}")
        for entity, (sent, skipped, failed) in sorted(
            totals.items(), key=lambda kv: ORDER.get(kv[0], (99, 0))
        ):
            click.echo(f"{entity:<22}{sent:>8}{skipped:>9}{failed:>8}")
    click.echo(
        f"{summary.requests} request(s) in {summary.seconds:.1f} s; exit code {summary.exit_code}"
    )
    for problem in summary.problems:
        click.echo(f"Error: {problem}", err=True)
    if summary.stopped is not None:
        click.echo(f"Error: {summary.stopped}", err=True)


@cli.command()
@pass_ctx
def run(ctx: Context) -> None:
    """One batch: pull events to the outbox, then import every ready inbox file.

    Files are sent in dependency order (markets, warehouses, sizes, terms -> products ->
    prices, stock -> accounts, customers -> order updates -> invoices), archived under
    archive/YYYY-MM-DD/ with a per-row NAME.result.csv, or under archive/failed/ when they
    cannot be processed at all. Exit 0 done, 1 some file or row failed, 2 configuration,
    3 Centra unreachable or login refused, 4 another run holds the lock.
    """
    _execute(ctx, "run")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Send it even if the same content was imported before.")
@pass_ctx
def push(ctx: Context, file: Path, force: bool) -> None:
    """Import one FILE now, wherever it lies (e.g. from archive/failed/).

    A copy of FILE is imported and archived; the original stays where it is. Exit codes as
    for run.
    """
    _execute(ctx, "push", push=file, force=force)


@cli.command()
@pass_ctx
def status(ctx: Context) -> None:
    """Last runs, files waiting or failed and why, last pull, events exported.

    Exit 0; 2 when the inbox cannot be used (missing, a file, not readable or writable: the
    message says why and what to do) or the configuration is wrong.
    """
    try:
        settings = load_settings(ctx.workspace, ctx.config, need_credentials=False)
        report = workspace_status(settings)
    except PipelineError as exc:
        fail(exc)
        return
    if ctx.json:
        click.echo(json.dumps(report, default=str))
    else:
        for line in report["lines"]:
            click.echo(line)
    if report["inbox_error"]:  # the rest is shown; the exit code says something is wrong
        click.echo(f"Error: {report['inbox_error']}", err=True)
        sys.exit(EXIT_USAGE)
