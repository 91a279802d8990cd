"""``centra-pipeline validate FILE...``: read, map and check files without any network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.cli import EXIT_USAGE, Context, cli, pass_ctx
from pipeline.errors import MappingError, shorten
from pipeline.mapping import validate_files
from pipeline.mapping.validate import XmlOutError
from pipeline.memory import collector_paused

#: A problem printed is cut to this many characters, whatever a file or Centra put in it.
MAX_LINE = 4_000


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Use this mapping file for every FILE instead of matching WORKSPACE/mappings.",
)
@click.option(
    "--xml-out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the request XML that would be sent, one file per request (password masked).",
)
@pass_ctx
def validate(
    ctx: Context, files: tuple[Path, ...], mapping_file: Path | None, xml_out: Path | None
) -> None:
    """Read, map and check FILE... against the mappings; nothing is sent.

    Prints every problem as `file, row N, column 'X': message (value '...')`, rows numbered as
    a spreadsheet shows them, and a `warning:` line for each size table held back whole
    because a row feeding it has a problem (Centra cannot change one once created). Exit
    codes: 0 valid, 1 problems found, 2 a mapping is wrong (or --xml-out cannot be written).
    """
    try:
        # A one-shot command that makes millions of objects in no cycle: the cycle collector
        # would only walk them again and again (a tenth of validate's time at catalogue size).
        with collector_paused():
            report = validate_files(
                ctx.workspace, list(files), xml_out=xml_out, mapping_file=mapping_file
            )
    except (MappingError, XmlOutError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if ctx.json:
        click.echo(
            json.dumps(
                {"exit_code": report.exit_code, "files": [f.as_dict() for f in report.files]},
                indent=2,
            )
        )
        sys.exit(report.exit_code)
    for file in report.files:
        sheet = f" [{file.sheet}]" if file.sheet else ""
        via = f" (mapping {file.mapping})" if file.mapping else ""
        made = ", ".join(f"{n} {entity}" for entity, n in file.objects.items()) or "nothing to send"
        status = "OK" if file.ok else "PROBLEMS"
        click.echo(f"{file.path.name}{sheet}{via}: {file.rows_total} rows -> {made}: {status}")
        for problem in file.problems:  # (each message cuts what it echoes of the file)
            click.echo(f"  {shorten(str(problem), MAX_LINE)}")
        for held in file.held_back:
            click.echo(f"  warning: {shorten(held, MAX_LINE)}")
        if file.rejected:
            click.echo(f"  the whole file would be rejected: {shorten(file.rejected, MAX_LINE)}")
        for path in file.xml_files:
            click.echo(f"  wrote {path}")
    total = sum(len(f.problems) for f in report.files)
    if report.ok:
        click.echo(f"{len(report.files)} file(s) valid.")
    else:
        click.echo(f"{total} problem(s) found.")
    sys.exit(report.exit_code)
