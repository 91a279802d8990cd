"""End to end against the sandbox over HTTP on 127.0.0.1: the issue's acceptance for pull.

250 orders (retail and wholesale, some with bundles) are pulled once each; shipments and
refunds of 40 of them give ``update`` rows; the queue ends empty; the outbox's latest rows of
every order equal the sandbox's order line by line.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.centra.client import CentraClient
from pipeline.sandbox import Sandbox
from tests.outbox.conftest import all_rows, outbox_files, read_rows, run_pull
from tests.outbox.sandbox_setup import random_lines


def place_orders(sb: Sandbox, count: int, seed: int = 7) -> dict[str, str]:
    """``count`` orders, two in five wholesale (a few left pending), one in six with a bundle.

    Returns order id -> "retail", "wholesale" or "pending".
    """
    rng = random.Random(seed)
    kinds = {}
    for n in range(count):
        bundle = n % 6 == 0
        if n % 5 < 2:
            status = "pending" if n % 25 == 1 else "confirmed"
            oid = sb.place_order("Wholesale-EU", random_lines(rng, bundle), status=status)
            kinds[oid] = "pending" if status == "pending" else "wholesale"
        else:
            email = f"shopper{n % 40}@example.com"
            oid = sb.place_order(
                "Retail-SE", random_lines(rng, bundle), pricelist="SEK-Retail", email=email,
                address={"firstname": "Åsa", "lastname": "=Lund", "country": "SE"},
                shipping="49",
            )  # fmt: skip
            kinds[oid] = "retail"
    return kinds


def expected_lines(order: dict[str, Any]) -> list[tuple[str, ...]]:
    """The sandbox's order, line by line, as the default export writes it."""
    shipped: Counter[str] = Counter()
    refunded: Counter[str] = Counter()
    for shipment in order["shipments"]:
        for orderitem, qty in shipment["lines"]:
            if shipment["shipped"]:
                shipped[orderitem] += qty
        for refund in shipment["refunds"]:
            for orderitem, qty in refund["lines"]:
                refunded[orderitem] += qty
    lines = []
    for item in order["items"]:
        if item["qty"] <= item["cancelled"]:
            continue
        bundle = item.get("bundle") or {}
        role = "bundle" if bundle.get("isbundle") else "part" if bundle.get("partof") else "none"
        lines.append(
            (order["id"], order["status"], item["orderitem"], item["product"], item["variation"],
             item["size"], str(item["qty"] - item["cancelled"]), item["price"], role,
             bundle.get("partof") or "", str(shipped[item["orderitem"]]),
             str(refunded[item["orderitem"]]))
        )  # fmt: skip
    return sorted(lines)


def row_line(row: dict[str, str]) -> tuple[str, ...]:
    keys = ("order_id", "status", "orderitem_id", "product_id", "variation_id", "size_id", "qty",
            "price", "bundle_role", "bundle_parent", "shipped_qty", "refunded_qty")  # fmt: skip
    return tuple(row[k] for k in keys)


def latest_rows(ws: Path) -> dict[str, list[dict[str, str]]]:
    """Each order's rows from the last file that holds it (files sort by sequence)."""
    latest: dict[str, list[dict[str, str]]] = {}
    for path in sorted(outbox_files(ws, "orders"), key=lambda p: p.name[-8:]):
        by_order: dict[str, list[dict[str, str]]] = {}
        for row in read_rows(path):
            by_order.setdefault(row["order_id"], []).append(row)
        latest.update(by_order)
    return latest


def ship_and_refund(centra: CentraClient, sb: Sandbox, order_id: str, refund: bool) -> None:
    order = sb.order(order_id)
    assert order is not None
    head = {"id": order_id, "type": order["type"], "store": order["store"]}
    item = next(i for i in order["items"] if not (i.get("bundle") or {}).get("isbundle"))
    size = {"id": item["size"], "qty": "1", "orderitem": {"id": item["orderitem"]}}
    product = {"id": item["product"], "variation": {"id": item["variation"]},
               "sizes": {"size": [size]}}  # fmt: skip
    if order["type"] == "wholesale":
        shipment_id = f"shipment-{order_id}-1"
        shipment = {"id": shipment_id, "shipped": "no", "goodtogo": "yes", "appendix": "1",
                    "products": {"product": [product]}}  # fmt: skip
        centra.update("orders_Update", [{**head, "shipments": {"shipment": [shipment]}}])
    else:
        shipment_id = order["shipments"][0]["id"]
    shipped = {"id": shipment_id, "shipped": "yes", "capture": "yes",
               "carrierinformation": {"carrier": "DHL", "tracking": f"TRK{order_id}"}}  # fmt: skip
    centra.update("orders_Update", [{**head, "shipments": {"shipment": [shipped]}}])
    if refund:
        returned = {
            "id": shipment_id,
            "refunds": {
                "refund": [
                    {
                        "id": f"R-{order_id}",
                        "status": "confirmed",
                        "products": {"product": [product]},
                    }
                ]
            },
        }
        centra.update("orders_Update", [{**head, "shipments": {"shipment": [returned]}}])


def test_250_orders_each_once_then_40_updates_and_the_outbox_equals_the_sandbox(
    ws: Path, shop: Sandbox, centra: CentraClient
) -> None:
    kinds = place_orders(shop, 250)
    assert Counter(kinds.values()) == {"retail": 150, "wholesale": 90, "pending": 10}
    first = run_pull(ws, shop)["events"]
    assert shop.events() == []
    customers = all_rows(ws, "customers")
    assert len(customers) == 24 and {r["change"] for r in customers} == {"new"}
    assert first["acknowledged"] == first["fetched"] == 250 + 24  # orders and customers
    assert first["skipped_by_reason"] == {"pending wholesale order": 10}
    rows = all_rows(ws)
    exported = {oid for oid, kind in kinds.items() if kind != "pending"}
    assert {r["order_id"] for r in rows} == exported
    assert {r["change"] for r in rows} == {"new"}
    assert max(Counter((r["order_id"], r["orderitem_id"]) for r in rows).values()) == 1
    retail_row = next(r for r in rows if r["order_type"] == "retail")
    assert retail_row["shipping_lastname"] == "'=Lund"  # neutralised free text
    assert retail_row["shipping_firstname"] == "Åsa"

    # Shipments (and refunds for half) on 40 orders; the 10 pending orders are confirmed.
    rng = random.Random(3)
    changed = rng.sample(sorted(exported, key=int), 40)
    for n, order_id in enumerate(changed):
        ship_and_refund(centra, shop, order_id, refund=n % 2 == 0 and kinds[order_id] == "retail")
    pending = [oid for oid, kind in kinds.items() if kind == "pending"]
    centra.update(
        "orders_Update",
        [{"id": oid, "type": "wholesale", "store": "2", "status": "confirmed"} for oid in pending],
    )
    second = run_pull(ws, shop)["events"]
    assert shop.events() == []
    assert second["skipped_by_reason"].get("pending wholesale order") is None
    new_files = second["outbox_files"]
    later = [r for name in new_files for r in read_rows(ws / "outbox" / name)]
    assert {r["order_id"] for r in later if r["change"] == "update"} == set(changed)
    assert {r["order_id"] for r in later if r["change"] == "new"} == set(pending)
    assert any(r["refunded_qty"] == "1" for r in later) and any(r["tracking"] for r in later)

    # A third pull finds nothing; every order's latest rows equal the sandbox's order.
    third = run_pull(ws, shop)["events"]
    assert third["fetched"] == 0 and third["outbox_files"] == []
    latest = latest_rows(ws)
    assert set(latest) == set(kinds)
    for order_id in kinds:
        order = shop.order(order_id)
        assert order is not None
        assert sorted(row_line(r) for r in latest[order_id]) == expected_lines(order), order_id
