"""The client reads an event's object from the ``<data>`` child its ``<type>`` names (#17)."""

from __future__ import annotations

from lxml import etree

from pipeline.centra.responses import EventsResult, local, parse_response

PLACEHOLDERS = ("account", "customer", "invoice", "market")
AFTER = ("pricelist", "salesrep", "size", "warehouse", "stock")


def _answer(type_: str | None, data: str) -> bytes:
    typed = f"<type>{type_}</type>" if type_ else ""
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Body><events_Get><events><event><id>7</id>"
        f"{typed}<entry>30</entry><data>{data}</data></event></events></events_Get>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def _data(type_: str | None, data: str) -> etree._Element | None:
    result = parse_response(_answer(type_, data), operation="events_Get")
    assert isinstance(result, EventsResult)
    (event,) = result.events
    return event.data


def test_the_child_named_by_the_type_is_read_among_placeholders() -> None:
    empty = "".join(f"<{name}/>" for name in PLACEHOLDERS)
    after = "".join(f"<{name}/>" for name in AFTER)
    data = _data("order", f"{empty}<order><id>30</id></order>{after}")
    assert data is not None and local(data) == "order" and data.findtext("id") == "30"


def test_without_a_type_the_child_with_content_is_read() -> None:
    data = _data(None, "<account/><customer><id>5</id></customer><order/>")
    assert data is not None and local(data) == "customer"


def test_a_lone_child_is_read_as_before() -> None:
    data = _data("order", "<order><id>30</id></order>")
    assert data is not None and data.findtext("id") == "30"
