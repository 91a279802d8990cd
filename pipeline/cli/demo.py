"""``centra-pipeline demo``."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from pipeline.cli import cli, fail
from pipeline.demo import DEFAULT_DIR, run_demo, start_sandbox, summary_lines
from pipeline.errors import PipelineError


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="The demo workspace; recreated on every run (only if a demo made it, or it is empty).",
)
@click.option(
    "--keep", is_flag=True, help="Keep the sandbox up (and print its address) until Ctrl-C."
)
def demo(directory: Path, keep: bool) -> None:
    """The whole job end to end on an embedded Centra sandbox.

    Starts a sandbox on 127.0.0.1 (a free port), creates a demo workspace, copies the sample
    ERP files into its inbox and imports them (as `run` does), places a retail order, a
    wholesale order and an order with a bundle, pulls them into the outbox, and prints where
    to look. Talks to nothing but its own sandbox (CENTRA_URL is ignored). Exit 0 done, 1 a
    sample file failed, 2 the folder is not a demo workspace.
    """
    sandbox = start_sandbox().start()
    try:
        try:
            result = run_demo(directory, sandbox)
        except PipelineError as exc:
            fail(exc)
            return
        for line in summary_lines(result, keep=keep):
            click.echo(line)
        if keep and result.exit_code == 0:
            click.echo("")
            click.echo(f"The sandbox stays up at {result.page} until Ctrl-C.")
            _wait_for_signal()
    finally:
        sandbox.stop()
    sys.exit(result.exit_code)


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
