"""``centra-pipeline watch``."""

from __future__ import annotations

import sys

import click

from pipeline.batch.logsummary import log_outcome
from pipeline.cli import Context, cli, fail, pass_ctx
from pipeline.config import load_settings
from pipeline.errors import PipelineError
from pipeline.logs import log_to_file, protect, setup_logging
from pipeline.watcher import DEFAULT_RESCAN, MODES, serve


@cli.command()
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="events: file-system events wake the watcher early; polling: rescans only; "
    "auto: polling when the inbox is on a network or FUSE mount (cifs, smb, nfs, fuse).",
)
@click.option(
    "--rescan",
    type=click.FloatRange(min=0.05),
    default=DEFAULT_RESCAN,
    show_default=True,
    help="Seconds between full rescans of the inbox (the source of truth in every mode).",
)
@pass_ctx
def watch(ctx: Context, mode: str, rescan: float) -> None:
    """Import inbox files as they become complete; pull events every orders.poll_interval.

    Each cycle is a `run` under the workspace lock (pull events, then import every ready
    file), so a cron `run` while a cycle is busy exits 4, and can go between cycles. Files
    are taken once they settled (inbox.settle_seconds) or, with inbox.done_marker, once
    NAME.done exists. An observer crash or a vanished share is logged and recovered from; an
    inbox it cannot read and a broken mapping are logged, and it keeps running (events are
    still pulled, other files imported) until they are fixed.
    SIGTERM or SIGINT (Ctrl-C) lets the requests in flight finish and sends no more (files
    not fully sent stay claimed for the next run), releases the lock and exits 0; a second
    signal stops at once (exit 130; the next run finishes what was claimed). Logs go
    to stderr (INFO unless -v asks for more) and to state/logs/pipeline.log: per cycle, a line
    per file and `watch cycle finished, exit N`. Exit 2 pipeline.yaml wrong, 3 login refused,
    4 another watch runs on this workspace.
    """
    setup_logging(max(ctx.verbose, 1))  # a service's output is its log
    try:
        settings = load_settings(ctx.workspace, ctx.config)
        protect(settings.credentials.password)
        log_to_file(settings.folder("state"))
        code = serve(settings, mode=mode, rescan=rescan)
    except PipelineError as exc:
        log_outcome("watch", error=exc)
        fail(exc)
        return
    log_outcome("watch", code=code, then=_WHY.get(code, ""))
    sys.exit(code)


_WHY = {
    3: "Centra refused the login (see the line above); fix the credentials, then start it again",
    130: "stopped at once by a second signal; the next run or watch finishes what was claimed",
}
