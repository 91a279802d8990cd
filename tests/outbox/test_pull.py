"""The pull with the guide's two order events over an injected transport: rows, changes,
acknowledgement, pending wholesale orders, locks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from pipeline.centra.client import CentraClient
from pipeline.errors import PipelineError
from pipeline.outbox import pull_events
from pipeline.outbox.pull import PullSummary
from pipeline.state.journal import Journal
from tests.outbox.conftest import (
    DTC,
    NS1,
    WHOLESALE,
    FakeQueue,
    all_rows,
    guide_event,
    outbox_files,
    read_rows,
    settings_for,
    with_id,
)

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


def pull(ws: Path, client: CentraClient, journal: Journal, **orders: object) -> PullSummary:
    return pull_events(settings_for(ws, **orders), client, journal, now=NOW)


def test_dtc_order_becomes_one_row_per_orderitem(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    queue.add(guide_event(DTC))
    summary = pull(ws, client, journal)

    files = outbox_files(ws)
    assert [f.name for f in files] == ["orders-20261127T020000Z-0001.csv"]
    rows = read_rows(files[0])
    assert len(rows) == 2
    order = {
        "order_id": "30", "order_number": "30", "change": "new", "event_id": "115",
        "event_date": "2019-03-27T12:52:20", "status": "processing", "order_type": "retail",
        "store": "1", "market": "Retail-Sweden", "pricelist": "EUR-Retail", "currency": "EUR",
        "created": "2019-03-27T12:52:20+01:00", "customer_id": "20", "account_id": "",
        "buyer_id": "", "buyer_email": "", "po_number": "", "order_note": "",
        "shipping_firstname": "Example", "shipping_lastname": "Person",
        "shipping_address1": "Teststreet 123", "shipping_zipcode": "12345",
        "shipping_city": "Testcity", "shipping_country": "SE",
        "shipping_email": "someone@example.com", "shipping_telephone": "123456789",
        "billing_firstname": "Example", "billing_country": "SE", "shipping_cost": "12",
        "order_total": "1135.00",
    }  # fmt: skip
    for row in rows:
        assert {k: row[k] for k in order} == order
    lines = [
        {
            k: r[k]
            for k in (
                "orderitem_id",
                "product_id",
                "variation_id",
                "size_id",
                "size_name",
                "qty",
                "price",
                "tax_percent",
                "subtotal",
                "warehouse_allocation",
                "bundle_role",
                "bundle_parent",
                "full_sku",
                "ean",
            )
        }
        for r in rows
    ]
    assert lines == [
        {"orderitem_id": "80", "product_id": "PWC", "variation_id": "PWC", "size_id": "OS",
         "size_name": "", "qty": "1", "price": "1000.00", "tax_percent": "25.000",
         "subtotal": "1000.00", "warehouse_allocation": "OtherWarehouse:1", "bundle_role": "none",
         "bundle_parent": "", "full_sku": "", "ean": ""},
        {"orderitem_id": "81", "product_id": "T001", "variation_id": "T001_RED", "size_id": "S",
         "size_name": "Small", "qty": "1", "price": "123.00", "tax_percent": "25.000",
         "subtotal": "123.00", "warehouse_allocation": "MainWarehouse:1", "bundle_role": "none",
         "bundle_parent": "", "full_sku": "", "ean": ""},
    ]  # fmt: skip
    assert queue.done == ["115"] and queue.events == []
    assert summary.to_json() | {"skipped_by_reason": {}} == {
        "fetched": 1, "exported": 1, "objects": 1, "rows": 2, "skipped": 0,
        "skipped_by_reason": {}, "acknowledged": 1, "locked": 0, "recovered": 0, "held": 0,
        "outbox_files": ["orders-20261127T020000Z-0001.csv"], "warnings": [],
    }  # fmt: skip
    event = journal.db.execute(
        "SELECT outcome, outbox_file, acknowledged_at IS NOT NULL FROM events WHERE event_id='115'"
    ).fetchone()
    assert event == ("exported", "orders-20261127T020000Z-0001.csv", 1)


def test_pending_wholesale_order_is_acknowledged_not_exported_then_new_once_confirmed(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    pending = guide_event(WHOLESALE)
    queue.add(pending)
    summary = pull(ws, client, journal)
    assert outbox_files(ws) == []
    assert queue.done == ["121"] and summary.reasons == {"pending wholesale order": 1}

    confirmed = with_id(pending, 130, **{"<ns1:status>pending<": "<ns1:status>confirmed<"})
    queue.add(confirmed)
    pull(ws, client, journal)
    rows = all_rows(ws)
    assert [
        (r["change"], r["status"], r["orderitem_id"], r["qty"], r["subtotal"]) for r in rows
    ] == [
        ("new", "confirmed", "67", "2", "1400.00"),
        ("new", "confirmed", "68", "1", "67.00"),
        ("new", "confirmed", "69", "2", "134.00"),
        ("new", "confirmed", "70", "3", "135.00"),
        ("new", "confirmed", "71", "4", "180.00"),
    ]
    assert {r["account_id"] for r in rows} == {"12345"}
    assert {r["buyer_id"] for r in rows} == {"12345_buyer1"}
    assert {r["shipping_company"] for r in rows} == {"Example Warehouse"}
    assert {r["order_note"] for r in rows} == {
        "The buyer can leave a message or special instructions here."
    }


def test_pending_wholesale_can_be_exported_by_setting(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    queue.add(guide_event(WHOLESALE))
    pull(ws, client, journal, export_pending_wholesale=True)
    assert len(all_rows(ws)) == 5


def test_redelivery_writes_nothing_and_a_change_is_an_update(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(DTC)
    queue.add(event)
    pull(ws, client, journal)
    queue.add(with_id(event, 200))  # same content again (e.g. an event nothing we export saw)
    summary = pull(ws, client, journal)
    assert summary.reasons == {"unchanged": 1} and summary.outbox_files == []
    assert queue.done == ["115", "200"]

    changes = {"<ns1:shipped>no<": "<ns1:shipped>yes<", ">processing<": ">completed<"}
    shipped = with_id(event, 201, **changes)
    queue.add(shipped)
    pull(ws, client, journal)
    rows = all_rows(ws)
    assert [(r["change"], r["status"], r["event_id"]) for r in rows] == [
        ("new", "processing", "115"),
        ("new", "processing", "115"),
        ("update", "completed", "201"),
        ("update", "completed", "201"),
    ]
    versions = journal.db.execute("SELECT versions FROM exported_objects WHERE object_id='30'")
    assert versions.fetchone() == (2,)


def test_several_events_of_one_order_in_a_batch_give_the_latest_once(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(DTC)
    queue.add(event, with_id(event, 116, **{">processing<": ">completed<"}))
    summary = pull(ws, client, journal)
    rows = all_rows(ws)
    assert [(r["change"], r["status"], r["event_id"]) for r in rows] == [
        ("new", "completed", "116"),
        ("new", "completed", "116"),
    ]
    assert summary.reasons == {"superseded": 1} and queue.done == ["115", "116"]


def test_unhandled_types_and_deletes_are_journaled_and_acknowledged(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    market = (
        "<ns1:event><ns1:id>7</ns1:id><ns1:type>market</ns1:type><ns1:entry>M</ns1:entry>"
        "<ns1:mission>update</ns1:mission><ns1:date>2019-10-14T09:02:49+02:00</ns1:date>"
        "<ns1:data><ns1:market><ns1:id>M</ns1:id><ns1:new-thing>x</ns1:new-thing></ns1:market>"
        "</ns1:data></ns1:event>"
    )
    deleted = with_id(guide_event(DTC), 8, **{">update<": ">delete<"})
    queue.add(market, deleted)
    summary = pull(ws, client, journal)
    assert outbox_files(ws) == [] and queue.done == ["7", "8"]
    assert summary.reasons == {"no export for type market": 1, "mission delete": 1}
    outcomes = journal.db.execute("SELECT event_id, outcome FROM events ORDER BY event_id")
    assert outcomes.fetchall() == [
        ("7", "skipped: no export for type market"),
        ("8", "skipped: mission delete"),
    ]


def test_done_only_after_the_file_is_durable_and_journaled(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    def check(ids: list[str]) -> None:
        assert [p.name for p in (ws / "outbox").iterdir()] == ["orders-20261127T020000Z-0001.csv"]
        state = journal.db.execute("SELECT state FROM outbox_intents").fetchall()
        assert state == [("committed",)]
        journaled = journal.db.execute("SELECT count(*) FROM events").fetchone()
        assert journaled == (1,)

    queue.on_done = check
    queue.add(guide_event(DTC))
    pull(ws, client, journal)
    assert queue.done == ["115"]


def test_many_events_are_pulled_in_batches_of_100_until_the_queue_is_empty(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(DTC)
    for n in range(230):
        queue.add(with_id(event, 1000 + n, **{"<ns1:id>30<": f"<ns1:id>{5000 + n}<"}))
    summary = pull(ws, client, journal)
    assert summary.fetched == 230 and summary.acknowledged == 230 and queue.events == []
    assert len(summary.outbox_files) == 3
    assert [f.name[-8:] for f in outbox_files(ws)] == ["0001.csv", "0002.csv", "0003.csv"]
    rows = all_rows(ws)
    assert len(rows) == 460 and len({r["order_id"] for r in rows}) == 230
    assert queue.calls.count("events_Done") == 3  # one call per batch: 100 + 100 + 30


def test_markets_setting_uses_events_get_by_markets(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    queue.add(guide_event(DTC))
    pull(ws, client, journal, markets="[Retail-Sweden]")
    assert queue.calls[0] == "events_GetByMarkets"


def test_lock_after_export_locks_each_exported_order_before_done(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    queue.add(guide_event(DTC))
    summary = pull(ws, client, journal, lock_after_export=True)
    assert queue.calls == ["events_GetRequest", "orders_Update", "events_Done", "events_GetRequest"]
    body = etree.fromstring(queue.updates[0])
    order = body.find(f".//{{{NS1}}}orders/{{{NS1}}}order")
    assert order is not None
    assert [(c.tag.split("}")[1], c.text) for c in order] == [
        ("id", "30"), ("type", "retail"), ("store", "1"), ("locked", "yes"),
    ]  # fmt: skip
    assert summary.locked == 1


def test_free_text_formulas_are_neutralised_but_numbers_are_not(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(WHOLESALE).replace(
        "The buyer can leave a message or special instructions here.", "=HYPERLINK(&quot;x&quot;)"
    )
    event = event.replace("<ns1:ponumber>Example1<", "<ns1:ponumber>@SUM(A1)<")
    event = event.replace("<ns1:discount>0</ns1:discount>", "<ns1:discount>-5</ns1:discount>", 1)
    event = event.replace("<ns1:city>City</ns1:city>", "<ns1:city>\tTab</ns1:city>", 1)
    queue.add(event)
    pull(ws, client, journal, export_pending_wholesale=True)
    row = all_rows(ws)[0]
    assert row["order_note"] == '\'=HYPERLINK("x")'
    assert row["po_number"] == "'@SUM(A1)"
    assert row["discount"] == "-5"  # numeric column: never touched


def test_bundle_lines_and_catalogue_lookups(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(WHOLESALE)
    first_comment = "<ns1:comment/>\n                </ns1:product>"
    event = event.replace(
        first_comment,
        "<ns1:comment/><ns1:bundleinfo><ns1:isbundle>true</ns1:isbundle></ns1:bundleinfo>"
        "</ns1:product>",
        1,
    ).replace(
        first_comment,
        "<ns1:comment/><ns1:bundleinfo><ns1:isbundle>false</ns1:isbundle><ns1:partof>"
        "<ns1:product><ns1:id>PWC</ns1:id></ns1:product></ns1:partof></ns1:bundleinfo>"
        "</ns1:product>",
        1,
    )
    journal.index_catalogue([("7350000000017", "TURTLE001BLUE01", "T001", "T001_BLUE", "S")])
    queue.add(event)
    pull(ws, client, journal, export_pending_wholesale=True)
    rows = all_rows(ws)
    assert [(r["orderitem_id"], r["bundle_role"], r["bundle_parent"]) for r in rows] == [
        ("67", "bundle", ""),
        ("68", "part", "PWC"),
        ("69", "part", "PWC"),
        ("70", "none", ""),
        ("71", "none", ""),
    ]
    assert [(r["full_sku"], r["ean"]) for r in rows][1:3] == [
        ("TURTLE001BLUE01", "7350000000017"),
        ("", ""),
    ]


def test_a_queue_that_ignores_events_done_stops_the_pull(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    event = guide_event(DTC)
    queue.add(event)
    original = queue.handle

    def sticky(url: str, body: bytes, headers: object) -> object:
        response = original(url, body, headers)
        queue.events = [event]
        return response

    queue.handle = sticky  # type: ignore[method-assign]
    client.transport.handler = sticky  # type: ignore[attr-defined]
    with pytest.raises(PipelineError, match="already marked done"):
        pull(ws, client, journal)
    assert len(outbox_files(ws)) == 1
