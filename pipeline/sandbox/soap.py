"""The sandbox's own SOAP reading and writing (it shares no XML code with the client).

Reading is namespace-lenient: elements are matched by local name, so the guide's form
(``soap:`` prefix and a default ``xmlns`` on the operation element), the reference's form
(``SOAP-ENV:`` and ``ns1:`` on every element) and the guide's "Create Return" example (no
namespace at all below ``soap:Body``) all read the same. Unknown elements are ignored by the
handlers. Any DOCTYPE or entity declaration is refused before parsing.

Writing builds strings by hand from *pairs*: a list of ``(name, value)`` where ``value`` is a
string (the text; ``""`` gives an empty element), a list of pairs (child elements) or ``None``
(left out).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

CENTRA_NS = "http://www.centra.com/webservices/"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

#: Canonical operation names; ``events_GetRequest`` is the request element of events_Get.
OPERATIONS = (
    "accounts_Update",
    "customers_Update",
    "deliverywindows_Update",
    "events_Done",
    "events_Get",
    "events_GetByMarkets",
    "invoices_Update",
    "markets_Update",
    "orders_Update",
    "paymentterms_Update",
    "pricealterationdates_Update",
    "pricelists_Update",
    "products_Update",
    "salesreps_Update",
    "shippingterms_Update",
    "sizes_Update",
    "warehouses_Update",
)
_BY_LOWER = {name.lower(): name for name in OPERATIONS}
_BY_LOWER["events_getrequest"] = "events_Get"

_DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_PASSWORD = re.compile(
    r"(<(?:[\w.-]+:)?password\b[^>/]*>)(.*?)(</(?:[\w.-]+:)?password\s*>)", re.DOTALL
)
_local = threading.local()

Pairs = list[tuple[str, Any]]


class SoapFault(Exception):
    """A request that gets a SOAP Fault (``Client`` or ``Server``) and changes nothing."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SoapRequest:
    operation: str
    element: Any  # the operation element (lxml)
    username: str | None
    password: str | None


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


_LOCAL_NAMES: dict[str, str] = {}


def local(el: Any) -> str:
    """An element's name without its namespace (cached: the hot path of big imports)."""
    tag = el.tag
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag[tag.rfind("}") + 1 :] if tag[0] == "{" else tag
        if len(_LOCAL_NAMES) < 10_000:
            _LOCAL_NAMES[tag] = name
    return name


def children(el: Any, name: str | None = None) -> Iterator[Any]:
    """Element children of ``el`` (by local name when ``name`` is given), in any namespace."""
    if el is None:
        return
    for child in el.iterchildren(tag=etree.Element):
        if name is None or local(child) == name:
            yield child


def child(el: Any, name: str) -> Any:
    for c in children(el, name):
        return c
    return None


def text(el: Any, name: str) -> str | None:
    """The text of ``el``'s child ``name``: None when the child is absent, "" when empty."""
    c = child(el, name)
    if c is None:
        return None
    return c.text or ""


def fields(el: Any) -> dict[str, Any]:
    """First child element by local name (fast path for flat objects)."""
    out: dict[str, Any] = {}
    for c in el.iterchildren(tag=etree.Element):
        out.setdefault(local(c), c)
    return out


def to_pairs(el: Any, skip: Sequence[str] = ()) -> Pairs:
    """An element's children as pairs; a child without element children becomes its text."""
    out: Pairs = []
    for c in el.iterchildren(tag=etree.Element):
        name = local(c)
        if name in skip:
            continue
        if len(c):
            out.append((name, to_pairs(c)))
        else:
            out.append((name, c.text or ""))
    return out


def mask_password(xml: str) -> str:
    """Replace the content of every ``<password>`` element by ``***``."""
    return _PASSWORD.sub(r"\1***\3", xml)


def parse_request(raw: bytes, soap_action: str | None) -> SoapRequest:
    """Parse a SOAP 1.1 request safely; raise :class:`SoapFault` (Client) when it is unusable."""
    if _DTD_MARKERS.search(raw):
        raise SoapFault("Client", "DOCTYPE and entity declarations are not allowed in requests")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Client", f"Malformed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise SoapFault("Client", "DOCTYPE and entity declarations are not allowed in requests")
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise SoapFault("Client", f"Not a SOAP 1.1 envelope: root element is {root.tag}")
    body = None
    for c in root.iterchildren(tag=etree.Element):
        if c.tag == f"{{{SOAP_ENV_NS}}}Body":
            body = c
    if body is None:
        raise SoapFault("Client", "The envelope has no SOAP Body")
    ops = list(body.iterchildren(tag=etree.Element))
    if len(ops) != 1:
        raise SoapFault("Client", "The SOAP Body must hold exactly one operation element")
    op_el = ops[0]
    ns = etree.QName(op_el).namespace
    if ns not in (None, CENTRA_NS):
        raise SoapFault("Client", f"Unknown namespace {ns!r}: expected {CENTRA_NS!r}")
    name = local(op_el)
    operation = _BY_LOWER.get(name.lower())
    if operation is None:
        raise SoapFault("Client", f"Unknown operation {name!r}")
    if soap_action:
        action = soap_action.strip().strip('"').rstrip("/")
        action_name = re.split(r"[/#]", action)[-1]
        if action_name and _BY_LOWER.get(action_name.lower()) != operation:
            raise SoapFault(
                "Client",
                f"SOAPAction {soap_action!r} does not match the body's operation {name!r}",
            )
    login = child(op_el, "login")
    username = text(login, "username") if login is not None else None
    password = text(login, "password") if login is not None else None
    return SoapRequest(operation, op_el, username, password)


# ---------------------------------------------------------------- writing


def escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(pairs: Pairs, prefix: str = "", indent: int | None = None, level: int = 0) -> str:
    """Serialise pairs; ``prefix`` like ``"ns1:"``; ``indent`` spaces per level or compact."""
    out: list[str] = []
    _render(pairs, prefix, indent, level, out)
    return "".join(out)


def _render(pairs: Pairs, prefix: str, indent: int | None, level: int, out: list[str]) -> None:
    pad = "\n" + " " * (indent * level) if indent is not None else ""
    for name, value in pairs:
        if value is None:
            continue
        tag = prefix + name
        if isinstance(value, str):
            out.append(f"{pad}<{tag}>{escape(value)}</{tag}>" if value else f"{pad}<{tag}/>")
        elif not value:
            out.append(f"{pad}<{tag}/>")
        else:
            out.append(f"{pad}<{tag}>")
            _render(value, prefix, indent, level + 1, out)
            out.append(f"{pad}</{tag}>")


_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:ns1="{CENTRA_NS}">'
    "<SOAP-ENV:Body>"
)
_TAIL = "</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"


def _messages(name: str, messages: Sequence[str]) -> str:
    if not messages:
        return f"<ns1:{name}/>"
    inner = "".join(f"<ns1:message>{escape(m)}</ns1:message>" for m in messages)
    return f"<ns1:{name}>{inner}</ns1:{name}>"


def ok_element(operation: str) -> str:
    """The reference's answer element: ``accounts_Update`` -> ``accountsUpdateResponse``."""
    return operation.replace("_", "") + "Response"


def ok_response(operation: str) -> bytes:
    """The reference's form of a successful ``*_Update``/``events_Done``, exactly as printed:
    ``<accountsUpdateResponse>OK</accountsUpdateResponse>``, in no namespace."""
    name = ok_element(operation)
    return (
        '<?xml version="1.0"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}">'
        f"<SOAP-ENV:Body><{name}>OK</{name}>{_TAIL}"
    ).encode()


def result_response(
    success: bool,
    errors: Sequence[str] = (),
    notices: Sequence[str] = (),
    *,
    ok_for: str | None = None,
) -> bytes:
    """The guide's ``ns1:result``; with ``ok_for`` (an operation) a success is answered in the
    reference's OK form instead (notices are then not sent: that form has no room for them)."""
    if success and ok_for:
        return ok_response(ok_for)
    body = (
        f"<ns1:result><ns1:success>{'true' if success else 'false'}</ns1:success>"
        f"{_messages('errors', errors)}{_messages('notices', notices)}</ns1:result>"
    )
    return (_HEAD + body + _TAIL).encode()


def events_response(events: Sequence[str]) -> bytes:
    """``events``: each already rendered as ``<ns1:event>...</ns1:event>``."""
    inner = "".join(events)
    events_xml = f"<ns1:events>{inner}</ns1:events>" if inner else "<ns1:events/>"
    return (_HEAD + f"<ns1:events_Get>{events_xml}</ns1:events_Get>" + _TAIL).encode()


def fault_response(code: str, message: str) -> bytes:
    body = (
        f"<SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></SOAP-ENV:Fault>"
    )
    return (_HEAD + body + _TAIL).encode()


def request_envelope(operation: str, username: str, payload: Pairs) -> str:
    """An ``*_Update`` request in the guide's shape, password masked (for ``export``)."""
    login: Pairs = [("username", username), ("password", "***")]
    inner = render([("login", login), *payload], indent=2, level=3)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}">\n'
        "  <soap:Body>\n"
        f'    <{operation} xmlns="{CENTRA_NS}">{inner}\n'
        f"    </{operation}>\n"
        "  </soap:Body>\n"
        "</soap:Envelope>\n"
    )
