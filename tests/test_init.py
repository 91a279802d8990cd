"""``centra-pipeline init DIR``: a ready workspace from the templates shipped in the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner

import pipeline.cli.init  # noqa: F401  (registers the command)
from pipeline.cli import cli
from pipeline.config import load_settings
from pipeline.workspace import ENV_EXAMPLE, config_template, template_files
from tests.conftest import FIXTURES, ROOT

TEMPLATES = ROOT / "pipeline" / "templates"


def test_init_then_validate_the_samples_passes_with_no_edits(tmp_path: Path) -> None:
    target = tmp_path / "erp-sync"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    for folder in ("inbox", "outbox", "archive", "state", "mappings/export", "samples"):
        assert (target / folder).is_dir(), folder
    assert (target / "pipeline.yaml").read_text(encoding="utf-8") == config_template()
    assert (target / ".env.example").read_text(encoding="utf-8") == ENV_EXAMPLE
    assert ".env" in (target / ".gitignore").read_text().splitlines()
    # a file still being written must never be taken: init says how to make sure
    assert "inbox.done_marker: true" in result.output and "NAME.tmp" in result.output
    assert "done_marker: true, and the ERP writes" in config_template()

    samples = sorted(str(p.relative_to(target)) for p in (target / "samples").iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", *samples],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=target,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("file(s) valid.")
    checked = {line.split()[0] for line in done.stdout.splitlines() if line.endswith(": OK")}
    assert checked == {Path(s).name for s in samples}  # every sample read, mapped and OK

    # the commented configuration is valid as written, once credentials are given
    settings = load_settings(target, env={"CENTRA_USERNAME": "u", "CENTRA_PASSWORD": "p-123"})
    assert settings.url.startswith("http://127.0.0.1:8765/")
    assert settings.file.inbox.settle_seconds == 5


def test_init_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    target.mkdir()
    (target / "pipeline.yaml").write_text("# mine\n")
    (target / "notes.txt").write_text("keep")
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 2
    assert "pipeline.yaml" in result.output and "nothing was written" in result.output
    assert (target / "pipeline.yaml").read_text() == "# mine\n"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt", "pipeline.yaml"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["init", str(empty)]).exit_code == 0


def test_the_repository_links_to_the_one_copy_of_the_templates() -> None:
    for link, target in (
        (ROOT / "mappings", TEMPLATES / "mappings"),
        (ROOT / "examples", TEMPLATES / "samples"),
        (FIXTURES / "erp", TEMPLATES / "samples"),
    ):
        assert link.is_symlink() and link.resolve() == target.resolve(), link


def test_every_template_ships_in_the_wheel(tmp_path: Path) -> None:
    """Build the wheel as a release would, and find every template file in it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("pipeline/templates/")}
    expected = {
        f"pipeline/templates/{p.relative_to(TEMPLATES).as_posix()}"
        for p in TEMPLATES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len(expected) > 30
    assert shipped == expected
    assert {str(rel) for rel, _ in template_files("samples")} == {
        p.name for p in TEMPLATES.joinpath("samples").iterdir()
    }
