"""``pipeline.yaml``: loaded, validated (every problem at once, with its key path), frozen.

Example::

    settings = load_settings(Path("."))          # WORKSPACE/pipeline.yaml + environment
    settings.centra.url, settings.credentials.username

The environment wins over the file: ``CENTRA_URL`` replaces ``centra.url``,
``CENTRA_USERNAME``/``CENTRA_PASSWORD`` replace the credentials. The password never sits in
``pipeline.yaml``: it comes from ``CENTRA_PASSWORD`` or from the file named by
``centra.credentials_file`` (``KEY=VALUE`` lines, like a ``.env`` file).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError
from pipeline.secrets import Secret
from pipeline.vocabulary import ENTITY_ORDER

CONFIG_NAME = "pipeline.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeoutSettings(_Model):
    connect: float = Field(10.0, gt=0, description="seconds to open a connection")
    read: float = Field(120.0, gt=0, description="seconds to wait for data once sent")
    deadline: float | None = Field(
        None,
        gt=0,
        description="seconds one attempt may take in all, from connecting to the answer's last "
        "byte (default: 300, or 2.5 x read if that is more)",
    )

    @model_validator(mode="after")
    def _deadline_covers_read(self) -> TimeoutSettings:
        if self.deadline is not None and self.deadline < self.read:
            raise ValueError(
                f"deadline ({self.deadline:g} s) must not be shorter than read "
                f"({self.read:g} s): Centra sends nothing until it has applied the whole "
                "request, so the deadline must leave it the read timeout and more"
            )
        return self

    @property
    def request_deadline(self) -> float:
        """The deadline in force: the configured one, or one that leaves the read timeout room.

        The read timeout already bounds how long Centra may work on a batch before its first
        byte; the rest is for sending the request and reading an answer of up to
        ``max_response_mb`` on a slow link.
        """
        if self.deadline is not None:
            return self.deadline
        return max(300.0, 2.5 * self.read)


class RetrySettings(_Model):
    attempts: int = Field(5, ge=1, le=20)
    backoff: float = Field(0.5, ge=0, description="first backoff in seconds, doubled each time")
    max_backoff: float = Field(30.0, ge=0)


class CentraSettings(_Model):
    url: str | None = None
    username: str | None = None
    credentials_file: str | None = None
    timeouts: TimeoutSettings = TimeoutSettings()
    retry: RetrySettings = RetrySettings()
    max_response_mb: int = Field(64, ge=1, le=4096)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            problem = url_problem(value)
            if problem:
                raise ValueError(problem)
        return value


class FolderSettings(_Model):
    inbox: str = "inbox"
    outbox: str = "outbox"
    archive: str = "archive"
    state: str = "state"
    mappings: str = "mappings"


class BatchSettings(_Model):
    # 250: measured 25% faster than 100 against 5 ms of latency, while one refused object
    # still costs only ~8 extra requests to isolate (docs/performance.md).
    default: int = Field(250, ge=1, le=10000, description="objects per request")
    per_entity: dict[str, int] = Field(default_factory=dict)
    parallel: int = Field(1, ge=1, le=8, description="requests in flight at once")

    @field_validator("per_entity")
    @classmethod
    def _entities(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(ENTITY_ORDER))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; known: {', '.join(ENTITY_ORDER)}")
        bad = [k for k, v in value.items() if not 1 <= v <= 10000]
        if bad:
            raise ValueError(f"batch sizes must be between 1 and 10000: {bad}")
        return value

    def size_for(self, entity: str) -> int:
        return self.per_entity.get(entity, self.default)


class OrderSettings(_Model):
    poll_interval: float = Field(60.0, gt=0, description="seconds between event pulls (watch)")
    markets: list[str] = Field(default_factory=list)
    export_pending_wholesale: bool = False
    lock_after_export: bool = False


class InboxSettings(_Model):
    settle_seconds: float = Field(
        5.0, ge=0, description="a file must keep its size and mtime this long before it is taken"
    )
    done_marker: bool = Field(False, description="take NAME only once NAME.done exists")
    max_file_mb: int = Field(512, ge=1, description="larger files are refused, never read")


class FileSettings(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    centra: CentraSettings = CentraSettings()
    folders: FolderSettings = FolderSettings()
    inbox: InboxSettings = InboxSettings()
    batch: BatchSettings = BatchSettings()
    orders: OrderSettings = OrderSettings()


@dataclass(frozen=True)
class Credentials:
    username: str
    password: Secret

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one workspace."""

    workspace: Path
    config_file: Path | None
    file: FileSettings
    url: str
    credentials: Credentials

    @property
    def centra(self) -> CentraSettings:
        return self.file.centra

    def folder(self, name: str) -> Path:
        return self.workspace / getattr(self.file.folders, name)


def load_settings(
    workspace: Path,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    need_credentials: bool = True,
) -> Settings:
    """Read, validate and freeze the configuration, or raise one ConfigError listing everything."""
    env = os.environ if env is None else env
    if not workspace.is_dir():
        raise ConfigError(
            f"the workspace {workspace} does not exist",
            hint="check --workspace, or create one with `centra-pipeline init DIR`",
        )
    path = config_file or workspace / CONFIG_NAME
    raw: Any = {}
    problems: list[tuple[str, str]] = []
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings")
    elif config_file is not None:
        raise ConfigError(f"{path}: no such configuration file")
    centra_raw = raw.get("centra") if isinstance(raw.get("centra"), dict) else {}
    if "password" in centra_raw:
        problems.append(
            (
                "centra.password",
                "the password must not be written in pipeline.yaml; set CENTRA_PASSWORD or "
                "name a credentials_file",
            )
        )
        raw = {**raw, "centra": {k: v for k, v in centra_raw.items() if k != "password"}}
    try:
        parsed = FileSettings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
        parsed = None

    env_url = (env.get("CENTRA_URL") or "").strip()
    if env_url:
        problem = url_problem(env_url)
        if problem:
            problems.append(("CENTRA_URL (environment)", problem))
    url = env_url or (parsed.centra.url if parsed else None)
    if not url and parsed is not None:
        problems.append(("centra.url", "missing: set centra.url in pipeline.yaml or CENTRA_URL"))
    username, password = None, None
    if parsed is not None:
        username, password = _credentials(workspace, parsed.centra, env, problems)
    if need_credentials and parsed is not None:
        if not username:
            problems.append(("centra.username", "missing: set CENTRA_USERNAME or centra.username"))
        if not password:
            problems.append(
                ("centra.password", "missing: set CENTRA_PASSWORD or centra.credentials_file")
            )
    if problems or parsed is None:
        raise ConfigError(
            f"{path if path.exists() else 'the configuration'} has {len(problems)} problem(s):",
            problems=problems,
        )
    return Settings(
        workspace=workspace,
        config_file=path if path.exists() else None,
        file=parsed,
        url=url or "",
        credentials=Credentials(username or "", Secret(password or "")),
    )


def url_problem(url: str) -> str | None:
    """What is wrong with a Centra endpoint URL, said so that a person can fix it; None if fine.

    Example::

        url_problem("localhost:8080/soap")   # "the Centra URL must start with http:// ..."
    """
    shown = repr(re.sub(r"^([^/]*//)?[^/@]*@", r"\1***@", url))  # never echo a password
    if not url.startswith(("http://", "https://")):
        if "://" in url or "@" in url:
            fix = "write the whole endpoint, https://<instance>/<ams-path>/system/service/module/soap/api"
        else:
            fix = f"write https://{url} (or http:// for a local sandbox)"
        return f"the Centra URL must start with http:// or https:// (got {shown}): {fix}"
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return f"the Centra URL must not contain spaces or control characters (got {shown})"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError as exc:
        return f"the Centra URL is not a valid URL: {exc} (got {shown})"
    if "@" in parts.netloc:
        return (
            "the Centra URL must not contain a username or password; use CENTRA_USERNAME/PASSWORD"
        )
    if not parts.hostname:
        return f"the Centra URL names no host (got {shown}); e.g. https://<instance>/..."
    if not re.fullmatch(r"[\w.-]+", parts.hostname):
        try:
            ipaddress.IPv6Address(parts.hostname)
        except ValueError:
            return f"the Centra URL's host is not a host name or IP address (got {shown})"
    return None


def _credentials(
    workspace: Path,
    centra: CentraSettings,
    env: Mapping[str, str],
    problems: list[tuple[str, str]],
) -> tuple[str | None, str | None]:
    username = centra.username
    password = None
    if centra.credentials_file:
        cred_path = Path(centra.credentials_file).expanduser()
        if not cred_path.is_absolute():
            cred_path = workspace / cred_path
        try:
            values = _read_env_file(cred_path)
        except OSError as exc:
            problems.append(
                ("centra.credentials_file", f"cannot read {cred_path}: {exc.strerror or exc}")
            )
            values = {}
        username = values.get("CENTRA_USERNAME", username)
        password = values.get("CENTRA_PASSWORD")
    username = env.get("CENTRA_USERNAME") or username
    password = env.get("CENTRA_PASSWORD") or password
    return username, password


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting (misspelt?)"
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif "input" in error and not isinstance(error["input"], (dict, list)):
            message = f"{message} (got {error['input']!r})"
        problems.append((path, message))
    return problems
