"""pipeline.yaml: validated before anything runs, every problem at once with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError

ENV = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "secret-pw"}


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pipeline.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_repository_workspace_config_is_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    settings = load_settings(root, env=ENV)
    assert settings.url.endswith("/system/service/module/soap/api")
    assert settings.file.batch.size_for("products") == 250
    assert settings.folder("inbox") == root / "inbox"


def test_every_problem_is_reported_at_once_with_its_path(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
centra:
  url: ftp://example.com/api
  password: oops
  timeouts: {connect: -1, raed: 5}
batch:
  default: 0
  per_entity: {prodcts: 5}
orders:
  poll_interval: soon
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env={})
    paths = [path for path, _ in caught.value.problems]
    assert paths == [
        "centra.password",
        "centra.url",
        "centra.timeouts.connect",
        "centra.timeouts.raed",
        "batch.default",
        "batch.per_entity",
        "orders.poll_interval",
    ]
    text = str(caught.value)
    assert "unknown setting (misspelt?)" in text
    assert "oops" not in text, "a password written in the file is never echoed"
    assert caught.value.exit_code == 2


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "centra:\n  url: http://127.0.0.1:1/a/system/service/module/soap/api\n  username: filed\n",
    )
    settings = load_settings(
        tmp_path, env={**ENV, "CENTRA_URL": "http://127.0.0.1:2/b/system/service/module/soap/api"}
    )
    assert settings.url == "http://127.0.0.1:2/b/system/service/module/soap/api"
    assert settings.credentials.username == "example"


def test_credentials_file(tmp_path: Path) -> None:
    (tmp_path / "creds.env").write_text(
        "# creds\nCENTRA_USERNAME=fromfile\nexport CENTRA_PASSWORD='p w'\n"
    )
    _write(tmp_path, "centra:\n  url: http://127.0.0.1:1/api\n  credentials_file: creds.env\n")
    settings = load_settings(tmp_path, env={})
    assert settings.credentials.username == "fromfile"
    assert settings.credentials.password.reveal() == "p w"


def test_missing_credentials_and_url(tmp_path: Path) -> None:
    _write(tmp_path, "centra:\n  credentials_file: nowhere.env\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env={})
    assert [p for p, _ in caught.value.problems] == [
        "centra.url",
        "centra.credentials_file",
        "centra.username",
        "centra.password",
    ]


def test_url_with_userinfo_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "centra:\n  url: http://user:pw@127.0.0.1/api\n")
    with pytest.raises(ConfigError, match=r"centra\.url"):
        load_settings(tmp_path, env=ENV)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "centra: [unclosed\n")
    with pytest.raises(ConfigError, match=r"pipeline\.yaml: not valid YAML"):
        load_settings(tmp_path, env=ENV)


def test_a_missing_workspace_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_settings(tmp_path / "typo", env=ENV)
    assert "centra-pipeline init" in str(caught.value)
    assert not (tmp_path / "typo").exists()
