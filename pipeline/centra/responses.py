"""Centra's answers, parsed safely into plain result types.

Safety: responses are parsed with no DTD, no entity expansion and no network access, and a
response that carries a DOCTYPE or an entity declaration is refused before it reaches the
parser. A body that is cut short or malformed is an error; it is never "recovered".

Tolerance: elements are matched by local name, so ``SOAP-ENV:``/``soap:`` envelopes, ``ns1:``
prefixes, default namespaces and unqualified children all parse alike, and elements this code
does not know are ignored (Centra adds fields over time and promises nothing else).

The shapes understood::

    <ns1:result><ns1:success>true</ns1:success><ns1:errors/><ns1:notices/></ns1:result>
    <productsUpdateResponse>OK</productsUpdateResponse>      (also eventsDoneResponse)
    <ns1:events_Get><ns1:events><ns1:event>...</ns1:event></ns1:events></ns1:events_Get>
    <SOAP-ENV:Fault><faultcode>...</faultcode><faultstring>...</faultstring></SOAP-ENV:Fault>
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from pipeline.errors import CentraRejected, LoginRefused, ResponseError, SoapFault

# A refused login, recognised in a Fault's faultstring or in success=false errors.
_LOGIN_REFUSED = re.compile(
    r"\b(login (failed|refused|incorrect)|authenticat\w* failed|invalid (username|password|login|"
    r"credentials)|wrong (username|password)|access denied|unauthori[sz]ed)",
    re.IGNORECASE,
)
_EVENT_READS = ("events_Get", "events_GetByMarkets")
_FORBIDDEN_MARKUP = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )


def local(el: etree._Element) -> str:
    """The element's name without namespace or prefix."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def child(el: etree._Element, name: str) -> etree._Element | None:
    """The first child element whose local name is ``name``."""
    for c in el:
        if local(c) == name:
            return c
    return None


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if local(c) == name]


def text(el: etree._Element | None, name: str | None = None) -> str:
    """Text of ``el`` (or of its child ``name``), "" when absent."""
    if el is not None and name is not None:
        el = child(el, name)
    if el is None:
        return ""
    return (el.text or "").strip()


@dataclass(frozen=True)
class UpdateResult:
    """The answer to a *_Update or events_Done: Centra's ``success`` with its messages."""

    success: bool
    errors: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """One event from the queue. ``data`` is the object inside ``<data>`` (e.g. ``<order>``)."""

    id: str
    type: str
    entry: str
    mission: str
    date: str
    data: etree._Element | None = field(default=None, compare=False, repr=False)

    def data_xml(self) -> bytes:
        """The event's data element as XML bytes (for the journal), or b"" when there is none."""
        if self.data is None:
            return b""
        return etree.tostring(self.data, encoding="utf-8")


@dataclass(frozen=True)
class EventsResult:
    events: tuple[Event, ...]


Result = UpdateResult | EventsResult


def parse_xml(body: bytes, *, operation: str | None = None) -> etree._Element:
    """Parse a response body safely, or raise ResponseError saying why it cannot be used."""
    if not body.strip():
        raise ResponseError("Centra sent an empty response", operation=operation)
    if any(marker in body for marker in _FORBIDDEN_MARKUP):
        raise ResponseError(
            "the response contains a DOCTYPE or entity declaration, which is refused for safety",
            operation=operation,
        )
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ResponseError(
            f"the response is not well-formed XML (truncated or malformed): {exc.msg}",
            operation=operation,
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise ResponseError(
            "the response contains a DOCTYPE, which is refused", operation=operation
        )
    return root


def body_payload(root: etree._Element, *, operation: str | None = None) -> etree._Element:
    """The first element inside the SOAP Body."""
    if local(root) != "Envelope":
        name = local(root) or "?"
        if name.lower() == "html":
            raise ResponseError(
                "the server answered with an HTML page, not a SOAP response: "
                "check the endpoint URL",
                operation=operation,
            )
        raise ResponseError(f"not a SOAP envelope (root element <{name}>)", operation=operation)
    body = child(root, "Body")
    if body is None or len(body) == 0:
        raise ResponseError("the SOAP envelope has no Body content", operation=operation)
    return body[0]


def parse_response(
    body: bytes,
    *,
    operation: str | None = None,
    redact: Callable[[str], str] = lambda s: s,
) -> Result:
    """Turn a response body into a result, or raise the matching error.

    A Fault raises :class:`SoapFault` (or :class:`LoginRefused`); ``success=false`` raises
    :class:`CentraRejected` (or :class:`LoginRefused`). ``redact`` cleans every message taken
    from the response, so a server that echoes the password cannot leak it into our errors.
    """
    payload = body_payload(parse_xml(body, operation=operation), operation=operation)
    name = local(payload)
    if name == "Fault":
        code = redact(text(payload, "faultcode")) or "Server"
        string = redact(text(payload, "faultstring")) or "(no faultstring)"
        if _LOGIN_REFUSED.search(string):
            raise LoginRefused(
                f"Centra refused the login ({string})",
                operation=operation,
                hint="check CENTRA_USERNAME/CENTRA_PASSWORD (or the credentials file); "
                "the pipeline does not retry a refused login, so the account is not locked",
            )
        raise SoapFault(code, string, operation=operation)
    if name == "result":
        result = _update_result(payload, operation=operation, redact=redact)
        _not_for_a_read(name, operation)
        return result
    if name == "events_Get":
        return EventsResult(tuple(_event(e) for e in _events(payload)))
    if name.endswith("Response") and text(payload).upper() == "OK":
        # The reference's form: success, without messages, for every object of the request.
        _not_for_a_read(name, operation)
        return UpdateResult(success=True)
    raise ResponseError(f"unexpected response element <{name}>", operation=operation)


def _not_for_a_read(name: str, operation: str | None) -> None:
    """An update's success answer to an event read would lose the events: refuse it."""
    if operation in _EVENT_READS:
        raise ResponseError(
            f"<{name}> answers an update, not {operation} (expected <events_Get>)",
            operation=operation,
        )


def _update_result(
    payload: etree._Element, *, operation: str | None, redact: Callable[[str], str]
) -> UpdateResult:
    success_text = text(payload, "success").lower()
    if success_text not in ("true", "false", "1", "0", "yes", "no"):
        raise ResponseError(
            f"<success> holds {success_text!r}, expected true or false", operation=operation
        )
    errors = tuple(redact(text(m)) for m in _messages(payload, "errors"))
    notices = tuple(redact(text(m)) for m in _messages(payload, "notices"))
    if success_text in ("true", "1", "yes"):
        return UpdateResult(True, errors, notices)
    if any(_LOGIN_REFUSED.search(e) for e in errors):
        raise LoginRefused(
            f"Centra refused the login ({'; '.join(errors)})",
            operation=operation,
            hint="check CENTRA_USERNAME/CENTRA_PASSWORD (or the credentials file)",
        )
    raise CentraRejected(errors, notices, operation=operation)


def _messages(payload: etree._Element, name: str) -> list[etree._Element]:
    holder = child(payload, name)
    if holder is None:
        return []
    found = children(holder, "message")
    if not found and text(holder):
        return [holder]  # <errors>text</errors> without <message>
    return found


def _events(payload: etree._Element) -> list[etree._Element]:
    holder = child(payload, "events")
    return [] if holder is None else children(holder, "event")


def _event(el: etree._Element) -> Event:
    """An event; its ``data`` is the child of ``<data>`` named by its ``<type>``.

    Centra's reference template lists a placeholder child per type (``<account/>``,
    ``<customer/>``... ``<stock/>``): the first child is not necessarily the event's object.
    Without a type, the one child that has content (or the first one) is taken.
    """
    data = child(el, "data")
    type_ = text(el, "type")
    inner = None
    if data is not None:
        elements = [c for c in data if isinstance(c.tag, str)]
        named = [c for c in elements if local(c) == type_]
        filled = [c for c in elements if len(c) or (c.text or "").strip()]
        inner = next(iter(named or filled or elements), None)
    return Event(
        id=text(el, "id"),
        type=type_,
        entry=text(el, "entry"),
        mission=text(el, "mission"),
        date=text(el, "date"),
        data=inner,
    )
