"""The fast export path gives exactly what the XPath path gives: the same cells (text and
numeric flag), the same digests and byte-identical outbox files, on the guide's events, on
shapes it hands back to XPath, and on sandbox orders with bundles, cancellations, shipments
and refunds."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest
from lxml import etree

from pipeline.centra.client import CentraClient, RetryPolicy
from pipeline.centra.transport import HandlerTransport
from pipeline.outbox import csvfile, pull
from pipeline.outbox.export_mapping import (
    ExportMapping,
    digest,
    load_export_mappings,
    strip_namespaces,
)
from pipeline.outbox.fast_export import Fallback, compile_fast
from pipeline.outbox.pull import pull_events
from pipeline.outbox.values import Cell
from pipeline.sandbox import Sandbox
from pipeline.state.journal import Journal
from tests.outbox.conftest import (
    DTC,
    ROOT,
    WHOLESALE,
    FakeQueue,
    envelope,
    guide_event,
    outbox_files,
    settings_for,
    with_id,
)
from tests.outbox.test_sandbox_e2e import place_orders, ship_and_refund

MAPPINGS = {m.name: m for m in load_export_mappings(ROOT / "mappings" / "export")}
NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


def lookup(product: str, variation: str, size: str) -> tuple[str | None, str | None] | None:
    return None if product == "P3" else (f"{product}-{variation}-{size}", f"73{len(size)}")


def cells(rows: list[list[Cell | None]]) -> list[list[tuple[str, bool] | None]]:
    return [
        [None if c is None else (str(c), bool(getattr(c, "numeric", False))) for c in row]
        for row in rows
    ]


def assert_same(mapping: ExportMapping, data: etree._Element) -> bool:
    """Fast and XPath rows of ``data`` agree (cells, digest, rendered bytes); True if fast."""
    slow = mapping.extract(strip_namespaces(data), lookup)
    fast_export = compile_fast(mapping)
    assert fast_export is not None
    try:
        fast = fast_export.extract(data, lookup)
    except Fallback:
        return False
    assert cells(fast) == cells(slow)
    assert digest(fast) == digest(slow)
    assert fast_export.object_id(data) == mapping.object_id(strip_namespaces(data))

    def render(rows: list[list[Cell | None]]) -> bytes:
        filled = mapping.fill(rows, change="new", event_id="1", event_date="2026-11-27 02:00:00")
        guard = [c.neutralise for c in mapping.columns]
        return csvfile.render(mapping.header, filled, mapping.csv, guard)

    assert render(fast) == render(slow)
    return True


def event_data(event: str) -> etree._Element:
    found = etree.fromstring(envelope([event])).find(".//{*}data")
    assert found is not None
    return found[0]


def test_the_default_mappings_have_a_fast_path() -> None:
    assert all(compile_fast(m) is not None for m in MAPPINGS.values())


@pytest.mark.parametrize("section", [DTC, WHOLESALE])
def test_the_guides_events(section: str) -> None:
    assert assert_same(MAPPINGS["orders"], event_data(guide_event(section)))


@pytest.mark.parametrize(
    ("old", "new", "fast"),
    [
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>2.5</ns1:qty>", True),
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty> 7 </ns1:qty>", True),
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty></ns1:qty>", True),  # NaN
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>lots</ns1:qty>", True),  # NaN
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>1e3</ns1:qty>", False),
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>0.1</ns1:qty>", False),  # not a binary fraction
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>1<x:b xmlns:x='urn:x'>2</x:b></ns1:qty>", False),
        ("<ns1:id>", "<other:id xmlns:other='urn:o'>", True),
        ("</ns1:description>", "</ns1:description><!-- note -->", True),
        (
            "<ns1:shipments>",
            "<ns1:shipments><ns1:shipment><ns1:id>S9</ns1:id></ns1:shipment>",
            True,
        ),
    ],
)
def test_odd_shapes_are_identical_or_fall_back(old: str, new: str, fast: bool) -> None:
    for section in (DTC, WHOLESALE):
        event = guide_event(section)
        if old not in event:
            continue
        if old == "<ns1:id>":
            event = event.replace("<ns1:id>", new).replace("</ns1:id>", "</other:id>")
        else:
            event = event.replace(old, new)
        assert assert_same(MAPPINGS["orders"], event_data(event)) is fast


def test_an_order_whose_root_is_not_order_finds_no_absolute_paths() -> None:
    event = (
        guide_event(DTC).replace("<ns1:order>", "<ns1:sale>").replace("</ns1:order>", "</ns1:sale>")
    )
    assert assert_same(MAPPINGS["orders"], event_data(event))


def pull_files(
    ws: Path, events: list[str], monkeypatch: pytest.MonkeyPatch, *, fast: bool
) -> dict[str, bytes]:
    queue = FakeQueue(events)
    client = CentraClient(
        "http://centra.test/ams/system/service/module/soap/api",
        "example",
        "secret",
        transport=HandlerTransport(queue.handle),
        retry=RetryPolicy(attempts=1),
    )
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(pull, "compile_fast", lambda mapping: None)
        journal = Journal.open(ws / "state" / "journal.sqlite")
        try:
            pull_events(settings_for(ws), client, journal, now=NOW)
        finally:
            journal.close()
    return {p.name: p.read_bytes() for p in outbox_files(ws)}


def test_byte_identical_outbox_files(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dtc, wholesale = guide_event(DTC), guide_event(WHOLESALE)
    events = [
        with_id(dtc, 1),
        with_id(wholesale, 2),
        with_id(dtc, 3, **{"<ns1:qty>1<": "<ns1:qty>0.1<"}),
    ]
    events += [with_id(dtc, 4)]  # a redelivery: nothing written
    other = tmp_path / "other"
    shutil.copytree(ws, other)
    fast = pull_files(ws, events, monkeypatch, fast=True)
    slow = pull_files(other, events, monkeypatch, fast=False)
    assert fast and fast == slow


def cancel(centra: CentraClient, shop: Sandbox, order_id: str) -> bool:
    """Cancel one of a line's several pieces (the line stays, with a cancelled qty)."""
    order = shop.order(order_id)
    assert order is not None
    items = [
        i for i in order["items"] if i["qty"] >= 2 and not (i.get("bundle") or {}).get("isbundle")
    ]
    if not items:
        return False
    item = items[0]
    size = {"id": item["size"], "qty": "1", "orderitem": {"id": item["orderitem"]}}
    product = {"id": item["product"], "variation": {"id": item["variation"]},
               "sizes": {"size": [size]}}  # fmt: skip
    head = {"id": order_id, "type": order["type"], "store": order["store"]}
    centra.update("orders_Update", [{**head, "cancelled": {"product": [product]}}])
    return True


def test_sandbox_orders_with_bundles_cancellations_shipments_and_refunds(
    shop: Sandbox, centra: CentraClient
) -> None:
    kinds = place_orders(shop, 60)
    ids = sorted(kinds, key=int)
    rng = random.Random(5)
    cancelled = 0
    for n, order_id in enumerate(rng.sample([i for i in ids if kinds[i] != "pending"], 30)):
        if n % 3 == 0 and kinds[order_id] == "wholesale":  # retail orders ship at once
            cancelled += cancel(centra, shop, order_id)
        else:
            ship_and_refund(
                centra, shop, order_id, refund=n % 2 == 0 and kinds[order_id] == "retail"
            )
    seen = {"order": 0, "customer": 0}
    fast = 0
    orders = MAPPINGS["orders"]
    wanted = {"cancelled_qty", "shipped_qty", "refunded_qty", "bundle_role", "tracking"}
    columns = {c.name: i for i, c in enumerate(orders.columns) if c.name in wanted}
    values: dict[str, set[str]] = {name: set() for name in columns}
    while events := centra.events_get("all"):
        for event in events:
            if event.data is None or event.type not in seen:
                continue
            seen[event.type] += 1
            for mapping in MAPPINGS.values():
                if mapping.event_type == event.type:
                    fast += assert_same(mapping, event.data)
            if event.type == "order":
                for row in orders.extract(strip_namespaces(event.data), lookup):
                    for name, i in columns.items():
                        values[name].add(str(row[i]))
        centra.events_done([e.id for e in events])
    # the shapes were there: cancelled, shipped and refunded lines, bundles and their parts
    assert all(len(found) > 1 for found in values.values()), values
    assert {"bundle", "part", "none"} <= values["bundle_role"]
    assert cancelled and seen["order"] > 60 and seen["customer"] > 0
    assert fast == sum(seen.values())  # no sandbox order needed the XPath path
