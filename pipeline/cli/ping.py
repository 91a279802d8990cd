"""``centra-pipeline ping``."""

from __future__ import annotations

import json

import click

from pipeline.centra.client import client_from_settings
from pipeline.centra.ping import ping as ping_centra
from pipeline.cli import EXIT_UNREACHABLE, Context, cli, fail, pass_ctx
from pipeline.config import load_settings
from pipeline.errors import CentraError, ConfigError


@cli.command()
@pass_ctx
def ping(ctx: Context) -> None:
    """Test the connection to Centra with events_Get (read-only).

    Prints OK and the number of queued events, or the reason it failed.
    Exit 0 when Centra answered, 2 on a configuration problem,
    3 when Centra is unreachable or the login is refused.
    """
    try:
        settings = load_settings(ctx.workspace, ctx.config)
    except ConfigError as exc:
        fail(exc)
        return
    try:
        with client_from_settings(settings) as client:
            result = ping_centra(client)
    except ConfigError as exc:  # a URL the configuration let through but the client cannot use
        fail(exc)
        return
    except CentraError as exc:
        if ctx.json:
            click.echo(json.dumps({"ok": False, "error": str(exc), "exit_code": EXIT_UNREACHABLE}))
        click.echo(f"FAILED: {exc}", err=True)
        raise SystemExit(EXIT_UNREACHABLE) from None
    if ctx.json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "url": result.url,
                    "queued_events": result.queued_events,
                    "exit_code": 0,
                }
            )
        )
    else:
        click.echo(result.summary)
