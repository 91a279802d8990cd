"""The command line: help for every command, version, and ping's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline import __version__
from pipeline.cli import cli
from tests.scripted_server import OK_EVENTS, fault, scripted_server

ENV = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "secret-pw"}


def _command(path: tuple[str, ...]) -> click.Command:
    """The command at ``path``, looked up as click looks it up (loading its module)."""
    command: click.Command = cli
    with click.Context(cli) as ctx:
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(ctx, name)
            assert found is not None, f"{name!r} is listed but not found"
            command = found
    return command


def _commands(prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    group = _command(prefix)
    assert isinstance(group, click.Group)
    found = []
    with click.Context(group) as ctx:
        for name in group.list_commands(ctx):
            found.append((*prefix, name))
            if isinstance(group.get_command(ctx, name), click.Group):
                found.extend(_commands((*prefix, name)))
    return found


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = CliRunner().invoke(cli, ["valdate"])
    assert result.exit_code == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.output


def test_every_command_module_is_listed_and_lists_only_its_commands() -> None:
    # A command added to a module of pipeline.cli must be named in COMMAND_MODULES, or
    # `centra-pipeline NAME` would not find it.
    import importlib
    import pkgutil

    import pipeline.cli

    for module in pkgutil.iter_modules(pipeline.cli.__path__):
        importlib.import_module(f"pipeline.cli.{module.name}")
    for name, module_name in pipeline.cli.COMMAND_MODULES.items():
        defined = importlib.import_module(f"pipeline.cli.{module_name}")
        assert _command((name,)) is getattr(defined, name)
    assert set(cli.commands) == set(pipeline.cli.COMMAND_MODULES)


@pytest.mark.parametrize("path", [(), *_commands()], ids=lambda p: " ".join(p) or "main")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert _command(path).help, f"{' '.join(path)} has no help text"


def test_version_via_module_and_script() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"centra-pipeline, version {__version__}"
    script = Path(sys.executable).with_name("centra-pipeline")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


def _workspace(tmp_path: Path, url: str) -> Path:
    (tmp_path / "pipeline.yaml").write_text(
        f"centra:\n  url: {url}\n  retry: {{attempts: 2, backoff: 0.01, max_backoff: 0.01}}\n"
    )
    return tmp_path


def test_ping_ok_prints_queued_events(tmp_path: Path) -> None:
    with scripted_server([("respond", 200, OK_EVENTS)]) as server:
        ws = _workspace(tmp_path, server.url)
        result = CliRunner().invoke(cli, ["--workspace", str(ws), "ping"], env=ENV)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"OK: {server.url} answered as user 'example'; 0 event(s)")
        result = CliRunner().invoke(cli, ["--workspace", str(ws), "--json", "ping"], env=ENV)
        assert json.loads(result.output) == {
            "ok": True,
            "url": server.url,
            "queued_events": 0,
            "exit_code": 0,
        }


def test_ping_unreachable_exits_3(tmp_path: Path) -> None:
    with scripted_server([("respond", 200, OK_EVENTS)]) as server:
        url = server.url
    result = CliRunner().invoke(
        cli, ["--workspace", str(_workspace(tmp_path, url)), "ping"], env=ENV
    )
    assert result.exit_code == 3
    assert "Connection refused" in result.output


def test_ping_login_refused_exits_3_without_retry(tmp_path: Path) -> None:
    script = [("respond", 500, fault("Client", "Login failed: wrong username or password"))]
    with scripted_server(script) as server:
        ws = _workspace(tmp_path, server.url)
        result = CliRunner().invoke(cli, ["--workspace", str(ws), "ping"], env=ENV)
        assert result.exit_code == 3
        assert "refused the login" in result.output
        assert len(server.requests) == 1
        assert "secret-pw" not in result.output


def test_ping_config_error_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "ping"], env={"CENTRA_URL": ""})
    assert result.exit_code == 2
    assert "centra.url" in result.output
