"""Order updates Centra refuses, reported on their rows: a failed capture (a possible fraud
attempt: the shipment must not be marked shipped) and a return id another order already
uses. The real CLI against the sandbox; the other rows of the same file still go through."""

from __future__ import annotations

from pipeline.sandbox import Sandbox
from tests.conftest import PASSWORD, USERNAME
from tests.orders.conftest import Shop

TRACKING_HEADER = "Order,Channel,Order status,Shipment,Carrier,Service,Tracking"
RETURNS_HEADER = "Order;Channel;Shipment;Appendix;Return;Article;Variant;Size;Qty;Order line"


def place_retail(sandbox: Sandbox, order_id: int, *, capture_fails: bool = False) -> str:
    """A card-paid order for one blue sweater in S, with its automatic shipment (same id)."""
    return sandbox.place_order(
        market="Retail-Sweden",
        pricelist="EUR-Retail",
        id=order_id,
        email=f"shopper{order_id}@example.com",
        shipment_id=str(order_id),
        capture_fails=capture_fails,
        lines=[("T001", "T001_BLUE", "S", 1)],
    )


def tracking_file(*orders: int) -> str:
    rows = [f"{o},B2C,completed,{o},UPS,STANDARD,1Z{o}" for o in orders]
    return "\r\n".join([TRACKING_HEADER, *rows]) + "\r\n"


def ship_directly(sandbox: Sandbox, order_id: int) -> None:
    """Mark the order's shipment shipped with a request of our own (set-up, not under test)."""
    reply = sandbox.handle(
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<orders_Update xmlns="http://www.centra.com/webservices/">'
        f"<login><username>{USERNAME}</username><password>{PASSWORD}</password></login>"
        f"<orders><order><id>{order_id}</id><shipments><shipment><id>{order_id}</id>"
        "<shipped>yes</shipped><capture>yes</capture></shipment></shipments></order></orders>"
        "</orders_Update></soap:Body></soap:Envelope>".encode()
    )
    assert b"<ns1:success>true</ns1:success>" in reply.body, reply.body


def test_failed_capture_is_a_fraud_signal_and_the_shipment_stays_unshipped(shop: Shop) -> None:
    place_retail(shop.sandbox, 90, capture_fails=True)
    place_retail(shop.sandbox, 91)

    step = shop.step(("tracking-0090.csv", tracking_file(90, 91)), expect_exit=1)

    result = step.files["tracking-0090.csv"]
    assert (result["rows_sent"], result["rows_failed"]) == (1, 1)
    fraud, fine = step.report("tracking-0090.csv")
    assert (fraud["row"], fraud["key"], fraud["status"]) == ("2", "90", "failed")
    assert fraud["message"].startswith(
        "capture failed for shipment 90 of order 90: possible fraud — do not ship; "
        "check the payment in Centra."
    ), fraud["message"]
    assert "not marked shipped" in fraud["message"]
    assert "(Centra: Order 90 shipment 90: capture failed" in fraud["message"]  # Centra's words
    assert (fine["row"], fine["key"], fine["status"]) == ("3", "91", "sent")

    # Order 90: not shipped, not captured, no tracking, still processing.
    order = shop.order("90")
    (shipment,) = order["shipments"]
    assert (shipment["shipped"], shipment["paid"]) == (False, False)
    assert shipment["carrier"]["tracking"] == ""
    assert (order["status"], order["payment"]["captured"]) == ("processing", "0")
    assert [p["type"] for p in order["payments"]] == ["auth"]
    # Order 91 of the same file went through: shipped and captured.
    order = shop.order("91")
    (shipment,) = order["shipments"]
    assert (shipment["shipped"], shipment["paid"]) == (True, True)
    assert (order["status"], shipment["carrier"]["tracking"]) == ("completed", "1Z91")


def test_a_return_id_used_by_another_order_is_refused_on_its_row(shop: Shop) -> None:
    place_retail(shop.sandbox, 92)
    place_retail(shop.sandbox, 93)
    for order_id in (92, 93):  # a return needs a shipped shipment
        ship_directly(shop.sandbox, order_id)

    # Channel as the outbox writes it (order_type), not the ERP code the samples use.
    rows = [f"{o};retail;{o};1;R-500;T001;T001_BLUE;S;1;" for o in (92, 93)]
    returns = "\r\n".join([RETURNS_HEADER, *rows]) + "\r\n"
    step = shop.step(("returns-0092.csv", returns), expect_exit=1)

    first, again = step.report("returns-0092.csv")
    assert (first["row"], first["key"], first["status"]) == ("2", "92", "sent")
    assert (again["row"], again["key"], again["status"]) == ("3", "93", "failed")
    assert again["message"].startswith(
        "return id R-500 is already used by order 92: return ids must be unique across all "
        "orders — give this return a new id"
    ), again["message"]
    assert shop.order("92")["shipments"][0]["refunds"] == [
        {"id": "R-500", "status": "confirmed", "lines": [[_row(shop, "92"), 1]]}
    ]
    assert shop.order("93")["shipments"][0]["refunds"] == []


def _row(shop: Shop, order_id: str) -> str:
    (item,) = shop.order(order_id)["items"]
    return str(item["orderitem"])
