"""The fast export paths (XSLT, then the Python walk) give exactly what the XPath path gives:
the same cells (text and numeric flag), the same digests and byte-identical outbox files, on
the guide's events, on shapes they hand back, and on sandbox orders with bundles,
cancellations, shipments and refunds."""

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
    compile_export_mapping,
    digest,
    load_export_mappings,
    strip_namespaces,
)
from pipeline.outbox.fast_export import Fallback, compile_fast
from pipeline.outbox.pull import pull_events
from pipeline.outbox.values import Cell
from pipeline.outbox.xslt_export import FIELD, ROW, compile_xslt
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
    assert_xslt_same(mapping, data)
    try:
        fast = fast_export.extract(data, lookup)
    except Fallback:
        return False
    assert_rows_same(mapping, fast, slow)
    assert fast_export.object_id(data) == mapping.object_id(strip_namespaces(data))
    return True


def assert_xslt_same(mapping: ExportMapping, data: etree._Element) -> bool:
    """XSLT and XPath rows of ``data`` agree; True if the XSLT path gave them."""
    xslt_export = compile_xslt(mapping)
    assert xslt_export is not None
    try:
        rows = xslt_export.extract(data, lookup)
    except Fallback:
        return False
    assert_rows_same(mapping, rows, mapping.extract(strip_namespaces(data), lookup))
    return True


def assert_rows_same(
    mapping: ExportMapping, fast: list[list[Cell | None]], slow: list[list[Cell | None]]
) -> None:
    assert cells(fast) == cells(slow)
    assert digest(fast) == digest(slow)

    def render(rows: list[list[Cell | None]]) -> bytes:
        filled = mapping.fill(rows, change="new", event_id="1", event_date="2026-11-27 02:00:00")
        guard = [c.neutralise for c in mapping.columns]
        return csvfile.render(mapping.header, filled, mapping.csv, guard)

    assert render(fast) == render(slow)


def event_data(event: str) -> etree._Element:
    found = etree.fromstring(envelope([event])).find(".//{*}data")
    assert found is not None
    return found[0]


def test_the_default_mappings_have_a_fast_path() -> None:
    assert all(compile_fast(m) is not None for m in MAPPINGS.values())
    assert all(compile_xslt(m) is not None for m in MAPPINGS.values())


@pytest.mark.parametrize("section", [DTC, WHOLESALE])
def test_the_guides_events(section: str) -> None:
    data = event_data(guide_event(section))
    assert assert_same(MAPPINGS["orders"], data)
    assert assert_xslt_same(MAPPINGS["orders"], data)
    assert assert_xslt_same(MAPPINGS["orders"], strip_namespaces(data))  # no namespace at all


@pytest.mark.parametrize(
    ("old", "new", "xslt"),
    [
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>2.5</ns1:qty>", True),
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>0.1</ns1:qty>", False),  # the product, inexact
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>1<ns1:b>2</ns1:b></ns1:qty>", True),
        ("<ns1:qty>1</ns1:qty>", "<ns1:qty>\n<ns1:b>2</ns1:b></ns1:qty>", True),
        ("<ns1:id>80</ns1:id>", "<ns1:id> 80 </ns1:id>", False),  # a sum key with spaces
        ("<ns1:id>", "<other:id xmlns:other='urn:o'>", False),  # another namespace
        ("</ns1:description>", f"{FIELD}</ns1:description>", False),  # a separator
        ("</ns1:description>", f"{ROW}x</ns1:description>", False),
        ("</ns1:description>", "</ns1:description><!-- note --><?pi x?>", True),
        ("</ns1:description>", "<!-- note -->after</ns1:description>", True),
        ("</ns1:description>", "<![CDATA[<b>]]>x</ns1:description>", True),
        ("</ns1:description>", " &amp; &lt;b&gt; \u00e9</ns1:description>", True),
    ],
)
def test_odd_shapes_in_xslt_are_identical_or_fall_back(old: str, new: str, xslt: bool) -> None:
    tried = 0
    for section in (DTC, WHOLESALE):
        event = guide_event(section)
        if old not in event:
            continue
        tried += 1
        if old == "<ns1:id>":
            event = event.replace("<ns1:id>", new).replace("</ns1:id>", "</other:id>")
        else:
            event = event.replace(old, new)
        assert assert_xslt_same(MAPPINGS["orders"], event_data(event)) is xslt
    assert tried


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
    ws: Path, events: list[str], monkeypatch: pytest.MonkeyPatch, *, fast: bool, xslt: bool = True
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
        if not xslt:
            patch.setattr(pull, "compile_xslt", lambda mapping: None)
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
    other, walk = tmp_path / "other", tmp_path / "walk"
    shutil.copytree(ws, other)
    shutil.copytree(ws, walk)
    fast = pull_files(ws, events, monkeypatch, fast=True)
    slow = pull_files(other, events, monkeypatch, fast=False)
    walked = pull_files(walk, events, monkeypatch, fast=True, xslt=False)
    assert fast and fast == slow == walked


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
    fast = xslt = 0
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
                    xslt += assert_xslt_same(mapping, event.data)
            if event.type == "order":
                for row in orders.extract(strip_namespaces(event.data), lookup):
                    for name, i in columns.items():
                        values[name].add(str(row[i]))
        centra.events_done([e.id for e in events])
    # the shapes were there: cancelled, shipped and refunded lines, bundles and their parts
    assert all(len(found) > 1 for found in values.values()), values
    assert {"bundle", "part", "none"} <= values["bundle_role"]
    assert cancelled and seen["order"] > 60 and seen["customer"] > 0
    assert fast == xslt == sum(seen.values())  # no sandbox order needed the XPath path


def test_other_column_shapes_in_xslt_are_identical() -> None:
    problems: list[tuple[str, str]] = []
    mapping = compile_export_mapping(
        {
            "event_type": "order",
            "rows": "products/product/sizes/size",
            "columns": [
                {"name": "object", "value": "object_id"},
                {"name": "fixed", "constant": "=1"},
                {"name": "retail", "path": "/order/type[. = 'retail']", "join": "|"},
                {"name": "sizes", "path": "../../sizes/size", "join": "/",
                 "item": "{id}={qty}-{id}"},
                {"name": "total", "path": "qty * /order/ordertotal", "format": "decimal"},
                {"name": "above", "path": "../../../../id"},
                {"name": "beyond", "path": "../../../../../id"},
                {"name": "lines", "path": "sum(/order/products/product[id = $p]/qty)",
                 "variables": {"p": "../../id"}, "format": "integer"},
                {"name": "when", "path": "/order/created", "format": "datetime"},
                {"name": "ean", "value": "ean"},
            ],
        },
        "odd",
        problems,
    )  # fmt: skip
    assert mapping is not None and not problems
    for section in (DTC, WHOLESALE):
        data = event_data(guide_event(section))
        assert assert_xslt_same(mapping, data)
        assert assert_xslt_same(mapping, strip_namespaces(data))
