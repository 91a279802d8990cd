"""Orders rendered in the guide's structure, for order events and ``sandbox export orders``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pipeline.sandbox.soap import Pairs, render
from pipeline.sandbox.store import Store


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def plain(value: Decimal) -> str:
    """``1000`` for whole amounts, ``12.50`` otherwise (the guide's subtotals)."""
    if value == value.to_integral_value():
        return str(int(value))
    return money(value)


def yesno(flag: bool) -> str:
    return "yes" if flag else "no"


def shipment_total(order: dict[str, Any], shipment: dict[str, Any]) -> Decimal:
    prices = {i["orderitem"]: Decimal(i["price"]) for i in order["items"]}
    goods = sum((prices[oi] * q for oi, q in shipment["lines"]), Decimal(0))
    return goods + Decimal(shipment["shipping"])


def order_total(order: dict[str, Any]) -> Decimal:
    goods = sum(
        (Decimal(i["price"]) * (i["qty"] - i["cancelled"]) for i in order["items"]), Decimal(0)
    )
    return goods + Decimal(order["shipping"])


def _ref(value: dict[str, Any] | None) -> Pairs | str:
    if not value:
        return ""
    return [("id", value["id"]), ("description", value.get("description") or "")]


def _products(order: dict[str, Any], lines: list[tuple[dict[str, Any], int]], full: bool) -> Pairs:
    """Order rows grouped the guide's way: one <product> per product/variation/price."""
    groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], int]]] = {}
    for item, qty in lines:
        key = (item["product"], item["variation"], item["price"], json.dumps(item["bundle"]))
        groups.setdefault(key, []).append((item, qty))
    out: Pairs = []
    for group in groups.values():
        first = group[0][0]
        sizes: Pairs = []
        for item, qty in group:
            size: Pairs = [
                ("id", item["size"]),
                ("sku", item["size_sku"]),
                ("qty", str(qty)),
                ("preorder", "no"),
                ("description", item["size_description"]),
                ("orderitem", [("id", item["orderitem"])]),
            ]
            if full:
                allocations = [
                    ("warehouse", [("id", w), ("qty", str(q))]) for w, q in item["allocations"]
                ]
                size += [("warehouseitems", allocations), ("supplierorderitems", "")]
            sizes.append(("size", size))
        qty_total = sum(q for _, q in group)
        price = Decimal(first["price"])
        product: Pairs = [
            ("id", first["product"]),
            ("tax", first["tax"]),
            ("sku", first["sku"]),
            ("origprice", first["price"]),
            ("price", first["price"]),
            ("discount", "0"),
            ("qty", str(qty_total)),
            ("subtotal", plain(price * qty_total)),
            ("description", first["description"]),
            (
                "variation",
                [("id", first["variation"]), ("description", first["variation_description"])],
            ),
            ("brand", first["brand"] or ""),
            ("sizes", sizes),
            ("comment", ""),
        ]
        bundle = first.get("bundle")
        if bundle:
            info: Pairs = [("isbundle", "true" if bundle.get("isbundle") else "false")]
            if bundle.get("partof"):
                info.append(("partof", [("product", [("id", bundle["partof"])])]))
            product.append(("bundleinfo", info))
        out.append(("product", product))
    return out


def _carrier(carrier: dict[str, str]) -> Pairs:
    """A shipment's carrierinformation: carrier, service, tracking, packages always; account
    and taxid when they were sent."""
    out: Pairs = [("carrier", carrier.get("carrier", "")), ("service", carrier.get("service", ""))]
    out += [(k, carrier[k]) for k in ("account", "taxid") if k in carrier]
    out += [("tracking", carrier.get("tracking", "")), ("packages", carrier.get("packages", "0"))]
    return out


def _refund_pairs(
    order: dict[str, Any], items: dict[str, dict[str, Any]], refund: dict[str, Any]
) -> Pairs:
    """A refund in the reference's field order; fields sent by the ERP (shipping, voucher,
    comment, returnfee, handling, type) as they were sent."""
    kept = {name: value for name, value in refund.get("fields") or []}
    lines = [(items[oi], q) for oi, q in refund["lines"]]
    out: Pairs = [("id", refund["id"]), ("status", refund["status"])]
    out += [(k, _tuples(kept[k])) for k in ("shipping", "voucher") if k in kept]
    out += [("products", _products(order, lines, False)), ("comment", kept.get("comment", ""))]
    out += [(k, _tuples(kept[k])) for k in ("returnfee", "handling", "type") if k in kept]
    return out


def _tuples(value: Any) -> Any:
    """A stored value (JSON lists) back to pairs."""
    if isinstance(value, list):
        return [(n, _tuples(v)) for n, v in value]
    return value


def shipment_pairs(order: dict[str, Any], shipment: dict[str, Any]) -> Pairs:
    items = {i["orderitem"]: i for i in order["items"]}
    total = shipment_total(order, shipment)
    refunds = [("refund", _refund_pairs(order, items, r)) for r in shipment["refunds"]]
    carrier = shipment["carrier"]
    address = shipment.get("shippingaddress") or order["shippingaddress"]
    return [
        ("id", shipment["id"]),
        ("paid", yesno(shipment["paid"])),
        ("shipped", yesno(shipment["shipped"])),
        ("goodtogo", yesno(shipment["goodtogo"])),
        ("appendix", str(shipment["appendix"])),
        ("shipmenttotal", money(total)),
        ("paidtotal", money(total if shipment["paid"] else Decimal(0))),
        ("currency", order["currency"]),
        ("currencyrate", order["currencyrate"]),
        ("basecurrency", order["basecurrency"]),
        ("created", shipment["created"]),
        ("shippingaddress", list(map(tuple, address))),
        ("carrierinformation", _carrier(carrier)),
        ("products", _products(order, [(items[oi], q) for oi, q in shipment["lines"]], False)),
        ("refunds", refunds),
        ("shipping", [("subtotal", shipment["shipping"])]),
        ("handling", [("subtotal", "0.00")]),
        ("voucher", [("subtotal", "0")]),
    ]


def order_pairs(order: dict[str, Any]) -> Pairs:
    """The order's children in the guide's order-event structure."""
    retail = order["type"] == "retail"
    payment = order["payment"]
    total = order_total(order)
    out: Pairs = [
        ("id", order["id"]),
        ("ordernumber", str(order["number"])),
        ("type", order["type"]),
        ("store", order["store"]),
        ("status", order["status"]),
        ("locked", yesno(order["locked"])),
        ("ordertotal", money(total)),
        ("currency", order["currency"]),
        ("currencyrate", order["currencyrate"]),
        ("basecurrency", order["basecurrency"]),
        ("created", order["created"]),
        ("internal", order.get("internal", "false")),
        ("preferred_shipping_date", order.get("preferred_shipping_date", "")),
    ]
    salesrep = _tuples(order.get("salesrep")) or ""
    if not retail:
        out += [
            ("buyer", list(map(tuple, order["buyer"] or []))),
            ("salesrep", salesrep),
            ("account", [("id", order["account"])]),
            ("paymentterms", _ref(order.get("paymentterms"))),
            ("shippingterms", _ref(order.get("shippingterms"))),
        ]
    elif salesrep:
        out.append(("salesrep", salesrep))
    if order.get("deliverywindow"):
        out.append(("deliverywindow", _tuples(order["deliverywindow"])))
    entries = [
        (
            "payment",
            [
                ("type", p["type"]),
                ("value", p["value"]),
                ("created", p["created"]),
                ("transaction", p["transaction"]),
            ],
        )
        for p in order["payments"]
    ]
    captured = Decimal(payment["captured"])
    status = "complete" if captured and captured >= total else "incomplete"
    payments: Pairs = [("name", payment["name"])] if retail else []
    payments += [
        ("type", payment["type"]),
        ("total", plain(captured)),
        ("status", status),
        ("method", payment["method"]),
        *entries,
    ]
    collection = order.get("collection")
    warehouse = order.get("primary_warehouse")
    all_rows = [(i, i["qty"] - i["cancelled"]) for i in order["items"] if i["qty"] > i["cancelled"]]
    cancelled = [(i, i["cancelled"]) for i in order["items"] if i["cancelled"]]
    out += [
        ("collection", list(map(tuple, collection)) if collection else ""),
        (
            "additionals",
            [("additional", [("key", k), ("value", v)]) for k, v in order.get("additionals") or []]
            or None,
        ),
        ("primary_warehouse", [("warehouse", [("id", warehouse)])] if warehouse else ""),
        (
            "shipping",
            [
                ("subtotal", order["shipping"]),
                ("description", order["shipping_description"]),
                ("key", order["currency"].lower() if retail else ""),
            ],
        ),
        ("payments", payments),
        ("products", _products(order, all_rows, True)),
        ("cancelled", _products(order, cancelled, False)),
        ("shipments", [("shipment", shipment_pairs(order, s)) for s in order["shipments"]]),
        ("carrierinformation", _order_carrier(order)),
    ]
    if retail:
        out.append(("customer", [("id", order["customer"])] if order.get("customer") else ""))
    out += [
        ("shippingaddress", list(map(tuple, order["shippingaddress"]))),
        ("billingaddress", list(map(tuple, order["billingaddress"]))),
        ("internalinformation", order["internalinformation"]),
        ("other", order["other"]),
    ]
    if not retail:
        out.append(("ponumber", order["ponumber"]))
    out += [("market", _ref(order["market"])), ("pricelist", _ref(order["pricelist"]))]
    if "ecvatno" in order:
        out.append(("ecvatno", order["ecvatno"]))
    return out


def _order_carrier(order: dict[str, Any]) -> Pairs:
    """The order-level carrierinformation: as sent by orders_Update, else empty."""
    sent = dict(_tuples(order.get("carrierinformation") or []))
    out: Pairs = [(k, sent.get(k, "")) for k in ("carrier", "service", "account", "taxid")]
    out += [(k, sent[k]) for k in ("tracking", "packages") if k in sent]
    return out


def queue_order_event(store: Store, order: dict[str, Any]) -> int:
    data = "<ns1:order>" + render(order_pairs(order), "ns1:") + "</ns1:order>"
    return store.add_event("order", order["id"], data, market=order["market"]["id"])
