"""A Centra URL that is not one is a configuration error (exit 2) for every command, never a crash.

The real CLI runs in a subprocess, with the URL from pipeline.yaml or from CENTRA_URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.centra.transport import HTTPTransport
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from tests.conftest import make_workspace

GOOD = "http://127.0.0.1:9/ams/system/service/module/soap/api"


@pytest.mark.parametrize("where", ["file", "environment"])
def test_ping_with_a_url_without_its_scheme_is_a_configuration_error(
    tmp_path: Path, where: str
) -> None:
    bad = "localhost:8080/soap"
    ws = make_workspace(tmp_path / "ws", bad if where == "file" else GOOD)
    env = {"CENTRA_URL": bad} if where == "environment" else {}
    done = ws.cli("ping", timeout=60, **env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    setting = "centra.url" if where == "file" else "CENTRA_URL (environment)"
    assert (
        f"{setting}: the Centra URL must start with http:// or https:// "
        f"(got '{bad}'): write https://{bad}"
    ) in done.stderr


@pytest.mark.parametrize("command", ["pull", "run", "status"])
def test_every_command_that_reads_the_config_says_so(tmp_path: Path, command: str) -> None:
    ws = make_workspace(tmp_path / "ws", GOOD)
    done = ws.cli(command, timeout=60, CENTRA_URL="example.com/soap")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "the Centra URL must start with http:// or https://" in done.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://", "names no host"),
        ("https:///soap/api", "names no host"),
        ("http://centra.example:99999/api", "Port out of range"),
        ("http://centra.example:port/api", "not a valid URL"),
        ("https://centra example.com/api", "must not contain spaces"),
        ("http://someone:Pa55word@centra.example/api", "must not contain a username"),
        ("someone:Pa55word@centra.example/api", "must start with http://"),
        ("ftp://centra.example/api", "must start with http://"),
        ("http://centra%zz.example/api", "host is not a host name or IP address"),
        ("http://[centra::x]/api", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused_with_what_to_fix(tmp_path: Path, url: str, says: str) -> None:
    (tmp_path / "pipeline.yaml").write_text(f"centra:\n  url: {GOOD}\n", encoding="utf-8")
    env = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "pw", "CENTRA_URL": url}
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env=env)
    assert [path for path, _ in caught.value.problems] == ["CENTRA_URL (environment)"]
    assert says in str(caught.value)
    assert "Pa55word" not in str(caught.value)
    (tmp_path / "pipeline.yaml").write_text(f"centra:\n  url: '{url}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env={**env, "CENTRA_URL": ""})
    assert [path for path, _ in caught.value.problems] == ["centra.url"]
    assert says in str(caught.value)
    assert "Pa55word" not in str(caught.value)


def test_surrounding_whitespace_in_centra_url_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("centra: {}\n", encoding="utf-8")
    env = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "pw", "CENTRA_URL": f" {GOOD}\n"}
    assert load_settings(tmp_path, env=env).url == GOOD


def test_the_transport_refuses_a_url_it_cannot_parse_as_a_configuration_error() -> None:
    # The configuration refuses it first; the transport's own check keeps a traceback out of
    # the way for a caller that builds a client by hand.
    with pytest.raises(ConfigError, match="not a valid URL"):
        HTTPTransport().post("http://centra%zz.example/api", b"", {})
