"""``centra-pipeline init DIR``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli import cli, fail
from pipeline.errors import PipelineError
from pipeline.workspace import init_workspace


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create a ready workspace in DIRECTORY (a new folder, or one without these files).

    Writes a commented pipeline.yaml, the default import mappings (mappings/) and export
    mappings (mappings/export/), the folders inbox/, outbox/, archive/ and state/, a
    .env.example for the credentials, a .gitignore, and sample ERP files in samples/.
    Never overwrites a file: if any of them exists, nothing is written (exit 2).
    """
    try:
        result = init_workspace(directory)
    except PipelineError as exc:
        fail(exc)
        return
    shown = _shown(directory)
    click.echo(f"Created a workspace in {shown} ({len(result.written)} files):")
    for name in ("pipeline.yaml", "mappings/", "samples/", ".env.example", ".gitignore"):
        click.echo(f"  {name}")
    click.echo("  inbox/  outbox/  archive/  state/")
    click.echo("")
    click.echo("Next:")
    click.echo(f"  cd {shown}")
    click.echo("  centra-pipeline validate samples/*      # the sample files, no network")
    click.echo("  cp .env.example .env                    # fill in; see centra.credentials_file")
    click.echo("  centra-pipeline ping                    # test the connection to centra.url")
    click.echo("  centra-pipeline run                     # import inbox/, pull orders to outbox/")
    click.echo("")
    click.echo(
        "Have the ERP write each export under a temp name (NAME.tmp) and rename it when done, or\n"
        "set inbox.done_marker: true and write NAME.done after NAME, so that a file still being\n"
        "written is never taken (pipeline.yaml, inbox section)."
    )


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return relative if not relative.startswith("..") else str(path.resolve())
