"""Every response example of Centra's guide parses into the client's result types."""

from __future__ import annotations

import pytest

from pipeline.centra.operations import OPERATIONS
from pipeline.centra.responses import (
    EventsResult,
    UpdateResult,
    child,
    children,
    parse_response,
    text,
)
from pipeline.errors import CentraRejected, LoginRefused, ResponseError
from tests.guide import example, examples

DTC = "Direct-to-Consumer orders: Event"
WHOLESALE = "Wholesale orders: Event By Markets"
BROKEN_TAG = "<ns1:ordernumber>30</ns1:id>"


def dtc_event_corrected() -> str:
    """The guide's DTC order event with its mismatched end tag corrected."""
    xml = example(DTC, "response")
    assert xml.count(BROKEN_TAG) == 1, "the guide's defect is where we expect it"
    return xml.replace(BROKEN_TAG, "<ns1:ordernumber>30</ns1:ordernumber>")


def test_the_dtc_event_as_printed_is_not_well_formed() -> None:
    with pytest.raises(ResponseError, match="not well-formed"):
        parse_response(example(DTC, "response").encode(), operation="events_Get")


def test_every_response_example_is_covered() -> None:
    sections = [(e.section, e.index) for e in examples() if e.kind == "response"]
    assert sections == [
        ("Connection test", 0),
        ("Markets", 0),
        ("Product Data: Sizetables", 0),
        ("Product Data: Sizetables", 1),
        ("Product Data: A Sweater example", 0),
        (DTC, 0),
        (WHOLESALE, 0),
    ]


def test_connection_test_response_is_an_empty_queue() -> None:
    result = parse_response(example("Connection test", "response").encode())
    assert result == EventsResult(events=())


@pytest.mark.parametrize("section", ["Markets", "Product Data: A Sweater example"])
def test_update_results(section: str) -> None:
    assert parse_response(example(section, "response").encode()) == UpdateResult(True, (), ())


def test_sizes_notices_exactly_as_printed() -> None:
    first = parse_response(example("Product Data: Sizetables", "response", 0).encode())
    assert first == UpdateResult(
        True,
        (),
        (
            "Added new size: S: Small to: Small Medium Large!",
            "Added new size: M: Medium to: Small Medium Large!",
            "Added new size: L: Large to: Small Medium Large!",
            "Added new size: OS:  to: One Size!",
        ),
    )
    again = parse_response(example("Product Data: Sizetables", "response", 1).encode())
    assert again == UpdateResult(True, (), ())


def test_dtc_order_event_after_correction() -> None:
    result = parse_response(dtc_event_corrected().encode(), operation="events_Get")
    assert isinstance(result, EventsResult)
    (event,) = result.events
    assert (event.id, event.type, event.entry, event.mission, event.date) == (
        "115",
        "order",
        "30",
        "update",
        "2019-03-27 12:52:20",
    )
    order = event.data
    assert order is not None
    assert text(order, "ordernumber") == "30"
    assert text(order, "ordertotal") == "1135.00"
    products = children(child(order, "products"), "product")  # type: ignore[arg-type]
    assert [text(p, "id") for p in products] == ["PWC", "T001"]
    shipment = child(child(order, "shipments"), "shipment")  # type: ignore[arg-type]
    assert text(shipment, "id") == "8"
    assert b"<ns1:ordernumber>30</ns1:ordernumber>" in event.data_xml()


def test_wholesale_event_by_markets() -> None:
    result = parse_response(
        example(WHOLESALE, "response").encode(), operation="events_GetByMarkets"
    )
    assert isinstance(result, EventsResult)
    (event,) = result.events
    assert event.id == "121" and event.entry == "25"
    order = event.data
    assert order is not None
    assert text(order, "status") == "pending"
    items = [text(child(s, "orderitem"), "id") for s in order.iter("{*}size")]
    assert items == ["67", "68", "69", "70", "71"]


def test_reference_template_ok_response() -> None:
    body = (
        b'<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/'
        b'envelope/"><SOAP-ENV:Body><accountsUpdateResponse>OK</accountsUpdateResponse>'
        b"</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    assert parse_response(body) == UpdateResult(True)


def _result(success: str, errors: str = "", notices: str = "") -> bytes:
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body><ns1:result>'
        f"<ns1:success>{success}</ns1:success><ns1:errors>{errors}</ns1:errors>"
        f"<ns1:notices>{notices}</ns1:notices></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def test_success_false_carries_centras_messages() -> None:
    body = _result(
        "false",
        "<ns1:message>Sizetable SML cannot be changed</ns1:message>",
        "<ns1:message>note</ns1:message>",
    )
    with pytest.raises(CentraRejected) as caught:
        parse_response(body, operation="sizes_Update")
    assert caught.value.errors == ["Sizetable SML cannot be changed"]
    assert caught.value.notices == ["note"]
    assert "sizes_Update" in str(caught.value)


def test_success_false_for_a_refused_login_is_a_login_error() -> None:
    body = _result("false", "<ns1:message>Login failed: wrong username or password</ns1:message>")
    with pytest.raises(LoginRefused):
        parse_response(body)


def test_unknown_elements_are_ignored() -> None:
    body = _result("true").replace(
        b"<ns1:success>", b"<ns1:brandnew><ns1:x>1</ns1:x></ns1:brandnew><ns1:success>"
    )
    assert parse_response(body) == UpdateResult(True)


# -- the reference's OK form, as the sandbox sends it with update_response="ok" ------------

UPDATE_OPERATIONS = sorted(
    name for name in OPERATIONS if name.endswith("_Update") or name == "events_Done"
)


@pytest.mark.parametrize("operation", UPDATE_OPERATIONS)
def test_the_ok_form_is_success_for_every_update(operation: str) -> None:
    from pipeline.sandbox.soap import ok_response

    body = ok_response(operation)
    assert f"<{operation.replace('_', '')}Response>OK<".encode() in body
    assert parse_response(body, operation=operation) == UpdateResult(True, (), ())


@pytest.mark.parametrize("operation", ["events_Get", "events_GetByMarkets"])
def test_an_update_answer_to_an_event_read_is_an_error(operation: str) -> None:
    from pipeline.sandbox.soap import ok_response

    with pytest.raises(ResponseError, match="answers an update"):
        parse_response(ok_response("markets_Update"), operation=operation)
    with pytest.raises(ResponseError, match="answers an update"):
        parse_response(_result("true"), operation=operation)
    # A refused login in result mode is still a login error, whatever was asked.
    refused = _result(
        "false", "<ns1:message>Login failed: wrong username or password</ns1:message>"
    )
    with pytest.raises(LoginRefused):
        parse_response(refused, operation=operation)


def test_the_client_sends_a_chunk_to_a_sandbox_answering_ok() -> None:
    from pipeline.centra.client import CentraClient
    from pipeline.sandbox import Sandbox

    with Sandbox(username="u", password="p") as sb:
        sb.settings.update_response = "ok"
        with CentraClient(sb.url, "u", "p") as client:
            markets = [
                {"id": f"M{n}", "store": "1", "type": "retail", "description": f"Market {n}"}
                for n in range(3)
            ]
            assert client.update("markets_Update", markets) == UpdateResult(True, (), ())
            assert b"<marketsUpdateResponse>OK<" in sb.requests(1)[-1]["response"].encode()
            stored = sb.store.query("SELECT id FROM objects WHERE type='market' ORDER BY id")
            assert [r[0] for r in stored] == ["M0", "M1", "M2"]
            assert client.events_get() == []
            sb.enqueue_events(2)
            events = client.events_get()
            assert client.events_done(e.id for e in events) == UpdateResult(True)
            assert sb.events() == []
