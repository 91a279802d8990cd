"""The ``centra-pipeline`` command: a thin layer over the library.

Each command builds its settings, calls one library function, and turns the pipeline's errors
into exit codes through :func:`exit_code_for`. click is used here and nowhere else in the
library (the sandbox's own commands live in :mod:`pipeline.cli.sandbox`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import __version__
from pipeline.errors import PipelineError
from pipeline.logs import setup_logging
from pipeline.memory import keep_freed_memory

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_LOCKED = 0, 1, 2, 3, 4


def exit_code_for(exc: BaseException) -> int:
    """The one table from errors to exit codes (see errors.py for the tree)."""
    if isinstance(exc, PipelineError):
        return exc.exit_code
    return EXIT_FAILED


def fail(exc: PipelineError) -> None:
    """Print a pipeline error for a person and exit with its code."""
    click.echo(f"Error: {exc}", err=True)
    sys.exit(exit_code_for(exc))


class Context:
    def __init__(self, workspace: Path, config: Path | None, verbose: int, json_out: bool):
        self.workspace = workspace
        self.config = config
        self.verbose = verbose
        self.json = json_out


pass_ctx = click.make_pass_decorator(Context)

#: Each command and the module of ``pipeline.cli`` that defines it. A command's module (and so
#: the library parts it needs) is imported when the command is run, not on every start:
#: ``validate`` never loads the HTTP client, the sandbox or the watcher.
COMMAND_MODULES = {
    "demo": "demo",
    "init": "init",
    "ping": "ping",
    "pull": "pull",
    "push": "batch",
    "run": "batch",
    "sandbox": "sandbox",
    "status": "batch",
    "validate": "validate",
    "watch": "watch",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module when the command is looked up."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        # An unknown name loads them all, so that click can say which one was meant.
        for name in (cmd_name,) if cmd_name in COMMAND_MODULES else COMMAND_MODULES:
            self._load(name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> None:
        if name not in self.commands:
            loaded = importlib.import_module(f"pipeline.cli.{COMMAND_MODULES[name]}")
            if name not in self.commands:  # a group of its own (sandbox)
                self.add_command(getattr(loaded, name))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="centra-pipeline")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The workspace folder (pipeline.yaml, mappings/, inbox/, outbox/, archive/, state/).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file [default: WORKSPACE/pipeline.yaml].",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--json", "json_out", is_flag=True, help="Print a machine-readable summary on stdout."
)
@click.pass_context
def cli(
    ctx: click.Context, workspace: Path, config: Path | None, verbose: int, json_out: bool
) -> None:
    """Move ERP files into Centra, and Centra's orders back out as files.

    Exit codes: 0 done, 1 some file or row failed, 2 usage or configuration error,
    3 Centra unreachable or login refused, 4 another run holds the lock.
    """
    setup_logging(verbose)
    keep_freed_memory()
    ctx.obj = Context(workspace, config, verbose, json_out)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="centra-pipeline")
