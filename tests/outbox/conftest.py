"""Fixtures for the outbox tests: a ws, the guide's two order events, and a fake
Centra event queue behind an injected transport (no sockets)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

import pipeline.cli.pull  # noqa: F401  (registers the command until pipeline.cli imports it)
from pipeline.centra.client import CentraClient, RetryPolicy
from pipeline.centra.transport import HandlerTransport, HTTPResponse
from pipeline.cli import cli
from pipeline.config import Settings, load_settings
from pipeline.sandbox import Sandbox
from pipeline.state.journal import Journal
from tests.guide import example
from tests.outbox.sandbox_setup import load_catalogue
from tests.scripted_server import ScriptedServer, scripted_server

ROOT = Path(__file__).resolve().parents[2]
ENV = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "secret"}
NS1 = "http://www.centra.com/webservices/"


def guide_event(section: str) -> str:
    """The <ns1:event> element of a guide response, as text (the DTC one repaired)."""
    xml = example(section, "response")
    xml = xml.replace("<ns1:ordernumber>30</ns1:id>", "<ns1:ordernumber>30</ns1:ordernumber>")
    match = re.search(r"<ns1:event>.*</ns1:event>", xml, re.S)
    assert match, section
    return match.group(0)


DTC = "Direct-to-Consumer orders: Event"
WHOLESALE = "Wholesale orders: Event By Markets"


def envelope(events: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
        'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns1="{NS1}"><SOAP-ENV:Body><ns1:events_Get><ns1:events>'
        + "".join(events)
        + "</ns1:events></ns1:events_Get></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


OK = (
    '<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/'
    f'envelope/" xmlns:ns1="{NS1}"><SOAP-ENV:Body><ns1:result><ns1:success>true</ns1:success>'
    "<ns1:errors/><ns1:notices/></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>"
).encode()


def with_id(event: str, event_id: int | str, **replace: str) -> str:
    """The event with another event id, and optional text replacements (old=new)."""
    out = re.sub(r"<ns1:id>\d+</ns1:id>", f"<ns1:id>{event_id}</ns1:id>", event, count=1)
    for old, new in replace.items():
        out = out.replace(old, new)
    return out


class FakeQueue:
    """Centra's event queue: events_Get gives the oldest 100 not done; events_Done removes."""

    def __init__(self, events: list[str] | None = None) -> None:
        self.events: list[str] = list(events or [])
        self.calls: list[str] = []
        self.done: list[str] = []
        self.updates: list[bytes] = []
        #: Called with the ids before each events_Done is applied (to check invariants).
        self.on_done: Any = None

    def add(self, *events: str) -> None:
        self.events.extend(events)

    def _id(self, event: str) -> str:
        match = re.search(r"<ns1:id>(\d+)</ns1:id>", event)
        assert match
        return match.group(1)

    def handle(self, url: str, body: bytes, headers: Any) -> HTTPResponse:
        root = etree.fromstring(body)
        op = etree.QName(
            root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        ).localname
        self.calls.append(op)
        if op in ("events_GetRequest", "events_GetByMarkets"):
            return HTTPResponse(200, envelope(self.events[:100]))
        if op == "events_Done":
            ids = [e.text for e in root.iter(f"{{{NS1}}}event")]
            if self.on_done is not None:
                self.on_done(ids)
            self.done.extend(i or "" for i in ids)
            self.events = [e for e in self.events if self._id(e) not in ids]
            return HTTPResponse(200, OK)
        self.updates.append(body)
        return HTTPResponse(200, OK)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "mappings").mkdir(parents=True)
    shutil.copytree(ROOT / "mappings" / "export", ws / "mappings" / "export")
    (ws / "pipeline.yaml").write_text(
        "centra:\n  url: http://127.0.0.1:9/ams/system/service/module/soap/api\n"
        "  retry: {attempts: 1}\n",
        encoding="utf-8",
    )
    return ws


def settings_for(ws: Path, **orders: Any) -> Settings:
    if orders:
        text = (ws / "pipeline.yaml").read_text(encoding="utf-8")
        lines = "".join(
            f"  {k}: {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in orders.items()
        )
        (ws / "pipeline.yaml").write_text(text + "orders:\n" + lines, encoding="utf-8")
    return load_settings(ws, env=ENV)


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def client(queue: FakeQueue) -> CentraClient:
    return CentraClient(
        "http://centra.test/ams/system/service/module/soap/api",
        "example",
        "secret",
        transport=HandlerTransport(queue.handle),
        retry=RetryPolicy(attempts=1),
    )


@pytest.fixture
def journal(ws: Path) -> Iterator[Journal]:
    j = Journal.open(ws / "state" / "journal.sqlite")
    yield j
    j.close()


def outbox_files(ws: Path, prefix: str = "") -> list[Path]:
    return sorted(p for p in (ws / "outbox").glob(f"{prefix}*.csv"))


def read_rows(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> list[dict[str, str]]:
    text = path.read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def all_rows(ws: Path, prefix: str = "orders") -> list[dict[str, str]]:
    return [row for f in outbox_files(ws, prefix) for row in read_rows(f)]


# -- the sandbox ------------------------------------------------------------------------

USER, PASSWORD = "example", "secret"


@pytest.fixture
def shop() -> Iterator[Sandbox]:
    """A sandbox on 127.0.0.1 with the catalogue of :mod:`tests.outbox.sandbox_setup`."""
    sb = Sandbox(db=":memory:", username=USER, password=PASSWORD).start()
    with CentraClient(sb.url, USER, PASSWORD) as client:
        load_catalogue(client)
    yield sb
    sb.stop()


@pytest.fixture
def centra(shop: Sandbox) -> Iterator[CentraClient]:
    with CentraClient(shop.url, USER, PASSWORD) as client:
        yield client


def env_for(sb: Sandbox) -> dict[str, str]:
    return {"CENTRA_URL": sb.url, "CENTRA_USERNAME": USER, "CENTRA_PASSWORD": PASSWORD}


def run_pull(ws: Path, sb: Sandbox) -> dict[str, Any]:
    """``centra-pipeline --json pull`` in process; its JSON output (asserting exit 0)."""
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "--json", "pull"], env=env_for(sb))
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    assert out["exit_code"] == 0
    return out


# -- the fake queue over real HTTP ------------------------------------------------------


@contextmanager
def queue_server(queue: FakeQueue) -> Iterator[ScriptedServer]:
    """``queue`` behind a real HTTP server on 127.0.0.1 (events_Get answers its raw XML)."""

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        response = queue.handle("", body, headers)
        return response.status, response.body

    with scripted_server([("call", answer)]) as server:
        yield server


def invoke_pull(ws: Path, url: str) -> tuple[int, dict[str, Any], str]:
    """``centra-pipeline --json pull`` in process against ``url``: (exit code, JSON, stderr)."""
    env = {**ENV, "CENTRA_URL": url}
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "--json", "pull"], env=env)
    out: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, out, result.stderr
