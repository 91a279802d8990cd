"""Fixtures for the sandbox tests: a sandbox on 127.0.0.1, a raw kept-alive SOAP client, and
the guide's examples read from centra-erp-guide.md at test time.

The client here is deliberately tiny and separate from both the sandbox and the pipeline's
client: it posts bytes and parses answers with lxml, nothing more.
"""

from __future__ import annotations

import http.client
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree

from pipeline.sandbox import Sandbox

NS = {
    "c": "http://www.centra.com/webservices/",
    "env": "http://schemas.xmlsoap.org/soap/envelope/",
}
#: The guide's examples log in as example / ??? (pricealterationdates uses ????: see test_guide).
GUIDE_USER, GUIDE_PASSWORD = "example", "???"


def guide_path() -> Path:
    override = os.environ.get("CENTRA_GUIDE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "centra-erp-guide.md"


@dataclass
class Example:
    heading: str
    kind: str  # "request" or "response"
    xml: str


def guide_examples() -> list[Example]:
    """Every ```xml block of the guide with its section heading, in the guide's order."""
    text = guide_path().read_text(encoding="utf-8")
    heading = ""
    out = []
    for m in re.finditer(r"^(## [^\n]*)$|^```xml\n(.*?)^```", text, re.S | re.M):
        if m.group(1):
            heading = m.group(1)[3:].strip()
            continue
        block = m.group(2)
        if "<soap:Envelope" in block:
            out.append(Example(heading, "request", block))
        elif "SOAP-ENV:Envelope" in block:
            out.append(Example(heading, "response", block))
    return out


def guide_requests() -> list[Example]:
    return [e for e in guide_examples() if e.kind == "request"]


def soap_action_of(xml: str | bytes) -> str | None:
    """The SOAPAction a client would send: the body's operation element, first letter upper."""
    text = xml.decode() if isinstance(xml, bytes) else xml
    m = re.search(r"<(?:soap|SOAP-ENV):Body>\s*<(?:\w+:)?(\w+)", text)
    if not m:
        return None
    name = m.group(1).removesuffix("Request")
    return f'"http://www.centra.com/webservices/{name[0].upper()}{name[1:]}"'


@dataclass
class Reply:
    status: int
    raw: bytes
    headers: dict[str, str]

    @property
    def root(self) -> Any:
        return etree.fromstring(self.raw)

    @property
    def success(self) -> bool:
        return self.root.findtext(".//c:result/c:success", namespaces=NS) == "true"

    @property
    def errors(self) -> list[str]:
        return [m.text or "" for m in self.root.findall(".//c:errors/c:message", NS)]

    @property
    def notices(self) -> list[str]:
        return [m.text or "" for m in self.root.findall(".//c:notices/c:message", NS)]

    @property
    def fault(self) -> tuple[str, str] | None:
        fault = self.root.find(".//env:Fault", NS)
        if fault is None:
            return None
        return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""

    @property
    def events(self) -> list[Any]:
        return self.root.findall(".//c:events_Get/c:events/c:event", NS)

    @property
    def event_ids(self) -> list[int]:
        return [int(e.findtext("c:id", namespaces=NS)) for e in self.events]


class SoapClient:
    """Raw SOAP over one kept-alive http.client connection."""

    def __init__(self, url: str, username: str = GUIDE_USER, password: str = GUIDE_PASSWORD):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.username, self.password = username, password
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def post(self, body: bytes | str, action: str | None = "auto") -> Reply:
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if action == "auto":
            action = soap_action_of(data)
        if action:
            headers["SOAPAction"] = action
        self.conn.request("POST", self.path, data, headers)
        response = self.conn.getresponse()
        return Reply(response.status, response.read(), dict(response.getheaders()))

    def envelope(self, operation: str, inner: str, password: str | None = None) -> str:
        """An envelope in the reference's form (SOAP-ENV + ns1 on every element)."""
        element = "events_GetRequest" if operation == "events_Get" else operation
        pw = self.password if password is None else password
        inner = re.sub(r"<(/?)(?!ns1:)(\w)", r"<\1ns1:\2", inner)
        return (
            '<?xml version="1.0"?>\n'
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body>'
            f"<ns1:{element}><ns1:login><ns1:username>{self.username}</ns1:username>"
            f"<ns1:password>{pw}</ns1:password></ns1:login>{inner}</ns1:{element}>"
            "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )

    def call(self, operation: str, inner: str = "", password: str | None = None) -> Reply:
        return self.post(self.envelope(operation, inner, password))

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def sb(tmp_path: Path) -> Any:
    """A fresh sandbox on 127.0.0.1 (file database in tmp_path), guide credentials."""
    sandbox = Sandbox(db=str(tmp_path / "sandbox.db"), username=GUIDE_USER, password=GUIDE_PASSWORD)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def client(sb: Sandbox) -> Any:
    c = SoapClient(sb.url)
    yield c
    c.close()


def load_catalog(client: SoapClient, upto: str = "Wholesale Accounts: Account Data") -> None:
    """Post the guide's setup examples (markets ... accounts), as printed, and check each."""
    for example in guide_requests():
        xml = example.xml.replace("<password>????</password>", "<password>???</password>")
        reply = client.post(xml)
        assert reply.status == 200 and reply.fault is None, (example.heading, reply.raw)
        if example.heading == upto:
            return
    raise AssertionError(f"no guide example {upto!r}")


SWEATER_STOCK = """<products><product><id>T001</id><variations>
<variation><id>T001_RED</id><sizes>
<size><id>S</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty></warehouse></warehouseitems></size>
<size><id>M</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty></warehouse></warehouseitems></size>
<size><id>L</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty></warehouse></warehouseitems></size>
</sizes></variation>
<variation><id>T001_BLUE</id><sizes>
<size><id>S</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty></warehouse></warehouseitems></size>
<size><id>M</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty></warehouse></warehouseitems></size>
</sizes></variation></variations></product></products>"""


@pytest.fixture
def catalog(client: SoapClient) -> SoapClient:
    """The guide's catalogue, terms and account, plus stock for the sweater (5 of each)."""
    load_catalog(client)
    reply = client.call("products_Update", SWEATER_STOCK)
    assert reply.success, reply.raw
    return client


def stock(sb: Sandbox, variation: str, size: str) -> dict[str, int]:
    rows = sb.store.query(
        "SELECT warehouse, qty FROM stock WHERE variation=? AND size=?", (variation, size)
    )
    return {w: q for w, q in rows}


def strip_ns(root: Any) -> Any:
    """The same tree with every element in no namespace, so plain XPath works."""
    for el in root.iter(etree.Element):
        el.tag = etree.QName(el).localname
    etree.cleanup_namespaces(root)
    return root


def export_root(sb: Sandbox, entity: str) -> Any:
    """The export parsed, namespaces stripped: ``export_root(sb, "markets").xpath(...)``."""
    return strip_ns(etree.fromstring(sb.export(entity).encode()))


def xt(node: Any, path: str) -> list[str]:
    """Texts of the elements at ``path``."""
    return [e.text or "" for e in node.xpath(path)]


def sandbox_cli() -> Any:
    """The ``sandbox`` click group, as ``centra-pipeline sandbox`` runs it."""
    from pipeline.cli.sandbox import sandbox

    return sandbox
