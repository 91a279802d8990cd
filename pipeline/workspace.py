"""``centra-pipeline init DIR``: a ready workspace from the templates shipped in the package.

A new workspace holds a commented ``pipeline.yaml``, the default import mappings
(``mappings/``) and export mappings (``mappings/export/``), the folders (``inbox/``,
``outbox/``, ``archive/``, ``state/``), a ``.env.example`` for the credentials, a
``.gitignore``, and sample ERP files in ``samples/``, so that ``centra-pipeline validate
samples/*`` passes at once.

The files come from ``pipeline/templates/`` (package data, so an installed package has them
too). They are the one copy: the repository's ``mappings/``, ``examples/`` and
``tests/fixtures/erp/`` are links to ``templates/mappings/`` and ``templates/samples/``.

Example::

    result = init_workspace(Path("erp-sync"))
    print(result.written)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from pipeline.errors import ConfigError

FOLDERS = ("inbox", "outbox", "archive", "state")
#: The template sets and where they go in a workspace.
TEMPLATE_SETS = {"mappings": "mappings", "samples": "samples"}

ENV_EXAMPLE = """\
# Credentials for Centra's SOAP API. Copy this file to .env (never commit .env), fill it in,
# and point pipeline.yaml at it with `centra.credentials_file: .env`; or set the same names
# in the environment of the service (systemd EnvironmentFile=, cron, your shell).
CENTRA_USERNAME=
CENTRA_PASSWORD=
# The endpoint can come from here too; it then overrides centra.url in pipeline.yaml.
# CENTRA_URL=https://example.centra.com/ams/system/service/module/soap/api
"""

GITIGNORE = """\
# Credentials and the pipeline's own state never go into version control.
.env
/state/
# The data moving through: the ERP's files in, Centra's events out, what was processed.
/inbox/*
/outbox/*
/archive/*
"""


@dataclass
class InitResult:
    root: Path
    written: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)


def template_files(name: str) -> Iterator[tuple[PurePosixPath, bytes]]:
    """The files of one template set (``mappings``, ``samples``), as (relative path, bytes)."""
    yield from _walk(files("pipeline").joinpath("templates").joinpath(name), PurePosixPath())


def _walk(folder: Traversable, relative: PurePosixPath) -> Iterator[tuple[PurePosixPath, bytes]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "__")) or entry.name.endswith((".py", ".pyc")):
            continue
        if entry.is_dir():
            yield from _walk(entry, relative / entry.name)
        else:
            yield relative / entry.name, entry.read_bytes()


def config_template() -> str:
    """The commented ``pipeline.yaml`` that ``init`` writes."""
    return (
        files("pipeline")
        .joinpath("templates")
        .joinpath("pipeline.yaml")
        .read_text(encoding="utf-8")
    )


def init_workspace(root: Path) -> InitResult:
    """Create a workspace in ``root`` (new or existing folder); never overwrites a file.

    Raises ConfigError (exit 2) listing every file that is already there, before writing
    anything.
    """
    plan: list[tuple[Path, bytes]] = [
        (root / "pipeline.yaml", config_template().encode("utf-8")),
        (root / ".env.example", ENV_EXAMPLE.encode("utf-8")),
        (root / ".gitignore", GITIGNORE.encode("utf-8")),
    ]
    for name, target in TEMPLATE_SETS.items():
        plan += [(root / target / rel, data) for rel, data in template_files(name)]
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder", hint="choose another name")
    present = [path for path, _ in plan if path.exists()]
    if present:
        shown = ", ".join(str(p.relative_to(root)) for p in present[:5])
        more = f" and {len(present) - 5} more" if len(present) > 5 else ""
        raise ConfigError(
            f"{root} already holds workspace files ({shown}{more}); nothing was written",
            hint="choose a new or empty folder: init never overwrites a file",
        )
    result = InitResult(root)
    for folder in FOLDERS:
        path = root / folder
        if not path.exists():
            path.mkdir(parents=True)
            result.folders.append(path)
    for path, data in plan:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as fh:  # "x": never overwrite, even if one appeared meanwhile
            fh.write(data)
        result.written.append(path)
    return result
