"""Test orders and their lifecycle: placing, orders_Update, and the order events.

An order is stored as one JSON document (header, items with their stock allocations,
shipments with their refunds) and rendered in the guide's structure for events and export.
Every change to an order queues one ``order`` event with the whole order.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pipeline.sandbox import catalog, pricelists
from pipeline.sandbox.order_xml import (
    money,
    order_pairs,
    order_total,
    plain,
    queue_order_event,
    shipment_pairs,
    shipment_total,
)
from pipeline.sandbox.soap import (
    Pairs,
    child,
    children,
    fields,
    local,
    render,
    text,
    to_pairs,
)
from pipeline.sandbox.store import Store, doc_all, doc_get, merge, now, type_errors

if TYPE_CHECKING:
    from pipeline.sandbox.operations import Ctx, Settings

STATUSES = ("pending", "confirmed", "processing", "completed", "archived", "cancelled")
BASE_CURRENCY = "SEK"
#: Exchange rates to the base currency (the guide's EUR and USD figures).
RATES = {"SEK": "1.00000", "EUR": "10.43100", "USD": "9.18707", "GBP": "12.10000"}
TAX = {"retail": "25.000", "wholesale": "0.000"}
RETAIL_ADDRESS = (
    "firstname",
    "lastname",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "email",
    "telephone",
)
WHOLESALE_ADDRESS = (
    "company",
    "attn",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "email",
    "telephone",
    "fax",
)
_YES = {"yes", "true", "1"}
_NO = {"no", "false", "0"}


class OrderError(ValueError):
    """A test order cannot be placed; ``errors`` lists every reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# ------------------------------------------------------------------ placing an order


def place_order(store: Store, settings: Settings, spec: dict[str, Any]) -> str:
    """Place a test order (see :meth:`pipeline.sandbox.Sandbox.place_order`); its id."""
    with store.transaction():
        return _place(store, settings, spec)


def _place(store: Store, settings: Settings, spec: dict[str, Any]) -> str:
    errors: list[str] = []
    market_id = str(spec.get("market") or "")
    market = store.get_doc("market", market_id) if market_id else None
    if market is None:
        raise OrderError([f"market {market_id!r} does not exist"])
    type_ = spec.get("type") or doc_get(market, "type") or "retail"
    if type_ not in ("retail", "wholesale"):
        raise OrderError([f"order type must be retail or wholesale, not {type_!r}"])
    retail = type_ == "retail"
    account_id = spec.get("account")
    account = None
    if not retail:
        if not account_id:
            for aid, doc in store.docs("account"):
                if doc_get(doc, "market", "id") == market_id:
                    account_id = aid
                    break
        account = store.get_doc("account", str(account_id)) if account_id else None
        if account is None:
            raise OrderError([f"a wholesale order needs an account in market {market_id}"])
    pricelist_id = spec.get("pricelist") or (
        doc_get(account, "pricelist", "id") if account else None
    )
    pricelist = store.get_doc("pricelist", str(pricelist_id)) if pricelist_id else None
    if pricelist is None:
        raise OrderError([f"pricelist {pricelist_id!r} does not exist"])
    lines = spec.get("lines") or []
    if not lines:
        raise OrderError(["an order needs at least one line"])

    number = _order_number(store, spec.get("id"), errors)
    items: list[dict[str, Any]] = []
    for n, line in enumerate(lines, 1):
        parts = line.get("parts") or []
        bundle_item = _item(store, type_, str(pricelist_id), line, f"line {n}", errors)
        if bundle_item is None:
            continue
        if parts:
            bundle_item["bundle"] = {"isbundle": True}
            for m, part in enumerate(parts, 1):
                part = {**part, "qty": int(part.get("qty", 1)) * bundle_item["qty"], "price": "0"}
                where = f"line {n} part {m}"
                part_item = _item(store, type_, str(pricelist_id), part, where, errors)
                if part_item is not None:
                    part_item["bundle"] = {"partof": bundle_item["product"]}
                    items.append(part_item)
        items.append(bundle_item)
    for item in items:
        if not (item.get("bundle") or {}).get("isbundle"):
            _allocate(store, item, errors)
    if errors:
        raise OrderError(errors)
    for item in items:
        explicit = item.pop("explicit_orderitem", None)
        if explicit is not None:
            store.bump("orderitem", int(explicit))
            item["orderitem"] = str(explicit)
        else:
            item["orderitem"] = str(store.next_number("orderitem"))

    currency = doc_get(pricelist, "currency") or BASE_CURRENCY
    created = now().isoformat()
    shipping = Decimal(str(spec.get("shipping", "0")))
    order: dict[str, Any] = {
        "id": str(number),
        "number": number,
        "type": type_,
        "store": str(spec.get("store") or doc_get(market, "store") or ("1" if retail else "2")),
        "status": spec.get("status") or ("processing" if retail else "pending"),
        "locked": False,
        "currency": currency,
        "currencyrate": RATES.get(currency, "1.00000"),
        "basecurrency": BASE_CURRENCY,
        "created": created,
        "market": {"id": market_id, "description": doc_get(market, "description") or ""},
        "pricelist": {
            "id": str(pricelist_id),
            "description": doc_get(pricelist, "description") or "",
        },
        "shipping": plain(shipping),
        "shipping_description": doc_get(market, "description") or "",
        "items": items,
        "shipments": [],
        "payment": {
            "name": "sandbox" if retail else "",
            "type": "cc" if retail else "inv",
            "method": "test" if retail else "",
            "captured": "0",
        },
        "payments": [],
        "capture_fails": bool(spec.get("capture_fails")),
        "internalinformation": "",
        "other": str(spec.get("other") or ""),
        "ponumber": str(spec.get("ponumber") or ""),
        "collection": items[0]["collection"],
        "primary_warehouse": next(
            (item["allocations"][0][0] for item in items if item["allocations"]), None
        ),
        "customer": None,
        "buyer": None,
        "account": None,
    }
    if order["status"] not in STATUSES:
        raise OrderError([f"status must be one of {', '.join(STATUSES)}"])
    total = order_total(order)
    if retail:
        email = str(spec.get("email") or (spec.get("address") or {}).get("email") or "")
        address = {**(spec.get("address") or {}), "email": email}
        order["shippingaddress"] = [(k, str(address.get(k, ""))) for k in RETAIL_ADDRESS]
        order["billingaddress"] = order["shippingaddress"]
        order["payments"].append(
            {
                "type": "auth",
                "value": plain(total),
                "created": created,
                "transaction": str(1_000_000_000 + number),
            }
        )
        if email:
            order["customer"] = _customer_for(store, order, address)
        auto = spec.get("auto_shipment")
        if auto if auto is not None else settings.retail_auto_shipment:
            _auto_shipment(store, order, spec.get("shipment_id"))
    else:
        assert account is not None
        _wholesale_header(store, order, str(account_id), account, spec.get("buyer"))
    store.put_order(order)
    store.convert("order", order["id"])
    queue_order_event(store, order)
    return str(order["id"])


def _order_number(store: Store, explicit: Any, errors: list[str]) -> int:
    if explicit is None or explicit == "":
        number = store.next_number("order")
        while store.get_order(str(number)) is not None:
            number = store.next_number("order")
        return number
    if not re.fullmatch(r"[1-9][0-9]*", str(explicit)):
        raise OrderError([f"order id {explicit!r} must be a positive whole number"])
    if store.get_order(str(explicit)) is not None:
        raise OrderError([f"order {explicit} already exists"])
    store.bump("order", int(explicit))
    return int(explicit)


def _item(
    store: Store,
    type_: str,
    pricelist_id: str,
    line: dict[str, Any],
    where: str,
    errors: list[str],
) -> dict[str, Any] | None:
    pid, vid, sid = (str(line.get(k) or "") for k in ("product", "variation", "size"))
    product = catalog.product_doc(store, pid)
    if product is None:
        errors.append(f"{where}: product {pid!r} does not exist")
        return None
    variation = catalog.variation_row(store, vid)
    if variation is None or variation["product"] != pid:
        errors.append(f"{where}: variation {vid!r} is not a variation of {pid}")
        return None
    sizes = dict(catalog.sizetable_sizes(store, variation["sizetable"]))
    if sid not in sizes:
        errors.append(f"{where}: size {sid!r} is not in sizetable {variation['sizetable']}")
        return None
    try:
        qty = int(line.get("qty", 1))
    except (TypeError, ValueError):
        qty = 0
    if qty <= 0:
        errors.append(f"{where}: qty must be a positive whole number")
        return None
    price = line.get("price")
    if price is None:
        price = pricelists.price(store, pricelist_id, pid, vid)
    if price is None:
        errors.append(f"{where}: pricelist has no price for {pid}/{vid}")
        return None
    try:
        price_value = Decimal(str(price))
    except InvalidOperation:
        errors.append(f"{where}: price {price!r} is not a number")
        return None
    size_row = store.db.execute(
        "SELECT sku FROM items WHERE variation=? AND size=?", (vid, sid)
    ).fetchone()
    vdata = dict(json.loads(variation["data"]))
    collection = doc_get(product, "collection")
    brand = doc_get(product, "brand")
    return {
        "orderitem": None,
        "explicit_orderitem": line.get("orderitem"),
        "product": pid,
        "variation": vid,
        "size": sid,
        "qty": qty,
        "cancelled": 0,
        "price": money(price_value),
        "tax": TAX[type_],
        "sku": doc_get(product, "sku") or "",
        "description": doc_get(product, "description") or "",
        "variation_description": variation["description"] or "",
        "variation_sku": vdata.get("sku") or "",
        "brand": brand if isinstance(brand, list) else None,
        "collection": collection if isinstance(collection, list) else None,
        "size_sku": (size_row[0] if size_row else None) or "",
        "size_description": sizes[sid],
        "allocations": [],
        "warehouse": line.get("warehouse"),
        "bundle": None,
    }


def _allocate(store: Store, item: dict[str, Any], errors: list[str]) -> None:
    """Reserve the qty (FTA decreases), most stocked warehouse first (or the one asked for)."""
    need = item["qty"]
    stock = catalog.stock_of(store, item["variation"], item["size"])
    if item.get("warehouse"):
        stock = [(w, q) for w, q in stock if w == item["warehouse"]]
    free = sum(max(q, 0) for _, q in stock)
    if free < need:
        errors.append(
            f"not enough stock for {item['variation']}/{item['size']}: {free} free to "
            f"allocate, {need} ordered"
        )
        return
    for warehouse, qty in stock:
        take = min(need, max(qty, 0))
        if take:
            catalog.add_stock(store, item["variation"], item["size"], warehouse, -take)
            item["allocations"].append([warehouse, take])
            need -= take
        if not need:
            break


def _release(store: Store, item: dict[str, Any], qty: int) -> None:
    """Give ``qty`` back to the warehouses it was allocated from (last allocation first)."""
    for allocation in reversed(item["allocations"]):
        if not qty:
            break
        give = min(qty, allocation[1])
        catalog.add_stock(store, item["variation"], item["size"], allocation[0], give)
        allocation[1] -= give
        qty -= give
    item["allocations"] = [a for a in item["allocations"] if a[1] > 0]


def _customer_for(store: Store, order: dict[str, Any], address: dict[str, Any]) -> str:
    """The customer with this e-mail; a new one (and its event) on a first order."""
    email = address["email"]
    for cid, existing in store.docs("customer"):
        if str(doc_get(existing, "email") or "").lower() == email.lower():
            return cid
    number = store.next_number("customer")
    while store.has_doc("customer", str(number)):
        number = store.next_number("customer")
    cid = str(number)
    doc: Pairs = [("store", order["store"]), ("type", "retail"), ("status", "active")]
    doc += [(k, str(address.get(k, ""))) for k in RETAIL_ADDRESS]
    store.put_doc("customer", cid, doc)
    data = "<ns1:customer>" + render([("id", cid), *doc], "ns1:") + "</ns1:customer>"
    store.add_event("customer", cid, data, market=order["market"]["id"])
    return cid


def _wholesale_header(
    store: Store, order: dict[str, Any], account_id: str, account: Pairs, buyer_id: Any
) -> None:
    buyers = [b for g in doc_all(account, "buyers") for n, b in g if n == "buyer"]
    buyer = next((b for b in buyers if doc_get(b, "id") == buyer_id), buyers[0] if buyers else None)
    if buyer is None:
        raise OrderError([f"account {account_id} has no buyer, so it is not active"])
    order["account"] = account_id
    order["buyer"] = [
        (k, str(doc_get(buyer, k) or "")) for k in ("id", "firstname", "lastname", "email")
    ]
    for terms in ("paymentterms", "shippingterms"):
        ref = doc_get(account, terms, "id")
        name = doc_get(store.get_doc(terms, ref), "name") if ref else None
        order[terms] = {"id": ref, "description": name or ""} if ref else None
    for key, source in (
        ("shippingaddress", "shippingaddress"),
        ("billingaddress", "invoiceaddress"),
    ):
        address = doc_get(account, source) or []
        order[key] = [(k, str(doc_get(address, k) or "")) for k in WHOLESALE_ADDRESS]


def _auto_shipment(store: Store, order: dict[str, Any], shipment_id: Any) -> None:
    if shipment_id is None:
        shipment_id = store.next_number("shipment")
    else:
        store.bump("shipment", int(shipment_id) if str(shipment_id).isdigit() else 0)
    lines = [[item["orderitem"], item["qty"]] for item in order["items"]]
    order["shipments"].append(_new_shipment(order, str(shipment_id), 1, lines, order["shipping"]))
    order["shipments"][0]["goodtogo"] = True


def _new_shipment(
    order: dict[str, Any], sid: str, appendix: int, lines: list[list[Any]], shipping: str
) -> dict[str, Any]:
    return {
        "id": sid,
        "appendix": appendix,
        "lines": lines,
        "shipping": shipping,
        "shipped": False,
        "goodtogo": False,
        "paid": False,
        "created": now().isoformat(),
        "carrier": {"carrier": "", "service": "", "tracking": ""},
        "refunds": [],
    }


# ------------------------------------------------------------------ orders_Update


def orders_update(ctx: Ctx, el: Any) -> None:
    for order_el in children(child(el, "orders"), "order"):
        oid = text(order_el, "id")
        order = ctx.store.get_order(oid or "")
        if order is None:
            ctx.error(
                f"Order {oid} does not exist: orders are created in Centra "
                "(place one with the sandbox's order command)"
            )
            continue
        typing_errors = type_errors(f"Order {oid}", "order", to_pairs(order_el))
        if typing_errors:
            ctx.errors.extend(typing_errors)
            continue
        before = json.dumps(order, sort_keys=True)
        errors_before = len(ctx.errors)
        _update_order(ctx, order, order_el)
        if len(ctx.errors) == errors_before and json.dumps(order, sort_keys=True) != before:
            ctx.store.put_order(order)
            queue_order_event(ctx.store, order)


#: orders_Update fields the sandbox keeps as sent (merged into what is stored) and shows in the
#: order's XML (export, events): leaves, and containers merged field by field.
KEPT_LEAVES = ("preferred_shipping_date", "ecvatno")
KEPT_CONTAINERS = ("salesrep", "deliverywindow", "carrierinformation")
#: The reference's order fields that orders_Update does not change here (Centra's own data:
#: totals, payments, rows, links): each one sent is named in a notice, unless it repeats the
#: order's own value (a client echoing the order event back).
IGNORED = (
    "ordernumber",
    "ordertotal",
    "currency",
    "currencyrate",
    "basecurrency",
    "created",
    "buyer",
    "mastersalesrep",
    "account",
    "paymentterms",
    "shippingterms",
    "collection",
    "primary_warehouse",
    "shipping",
    "handling",
    "voucher",
    "payments",
    "products",
    "customer",
    "market",
    "pricelist",
)
SHIPMENT_IGNORED = (
    "paid",
    "shipmenttotal",
    "paidtotal",
    "currency",
    "currencyrate",
    "basecurrency",
    "created",
    "shipping",
    "handling",
    "voucher",
)
#: A refund's fields kept as sent (besides id, status and products).
REFUND_KEPT = ("shipping", "voucher", "comment", "returnfee", "handling", "type")


def _ignored(ctx: Ctx, where: str, el: Any, names: tuple[str, ...], shown: Pairs) -> None:
    """A notice for each field of ``names`` sent in ``el`` that differs from the XML shown."""
    current = dict(shown)
    for c in children(el):
        name = local(c)
        if name not in names:
            continue
        sent = to_pairs(c) if len(c) else (c.text or "")
        if _same(sent, current.get(name)):
            continue
        ctx.notices.append(
            f"{where}: <{name}> was ignored: the sandbox does not change it with orders_Update"
        )


def _same(sent: Any, shown: Any) -> bool:
    """Whether a sent field repeats the shown one (empty, absent and ``<x/>`` are the same)."""
    if not sent and not shown:
        return True
    if isinstance(sent, str) or isinstance(shown, str) or shown is None:
        return isinstance(sent, str) and isinstance(shown, str) and _same_text(sent, shown)
    names = [n for n, _ in sent]
    if len(set(names)) == len(names):  # a partial echo: each sent child matches the shown one
        first: dict[str, Any] = {}
        for n, v in shown:
            first.setdefault(n, v)
        return all(_same(v, first.get(n)) for n, v in sent)
    if len(sent) != len(shown):
        return False
    return all(a[0] == b[0] and _same(a[1], b[1]) for a, b in zip(sent, shown, strict=True))


def _same_text(a: str, b: str) -> bool:
    """Equal texts, or equal amounts (``12`` and ``12.00``)."""
    if a.strip() == b.strip():
        return True
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


def _keep(order: dict[str, Any], f: dict[str, Any]) -> None:
    for key in KEPT_LEAVES:
        if key in f:
            order[key] = f[key].text or ""
    if "internal" in f:
        value = (f["internal"].text or "").strip().lower()
        order["internal"] = "true" if value in ("true", "1") else "false"
    for key in KEPT_CONTAINERS:
        if key in f and len(f[key]):
            order[key] = merge([tuple(p) for p in order.get(key) or []], to_pairs(f[key]))
    if "additionals" in f:
        additionals = {k: v for k, v in order.get("additionals") or []}
        for additional in children(f["additionals"], "additional"):
            name = text(additional, "key")
            if name:
                additionals[name] = text(additional, "value") or ""
        order["additionals"] = [[k, v] for k, v in additionals.items()]


def _update_order(ctx: Ctx, order: dict[str, Any], el: Any) -> None:
    oid = order["id"]
    f = fields(el)
    for key in ("type", "store"):
        sent = f.get(key)
        if sent is not None and (sent.text or "") != str(order[key]):
            ctx.error(f"Order {oid}: its {key} is {order[key]}, not {sent.text!r}")
            return
    _ignored(ctx, f"Order {oid}", el, IGNORED, order_pairs(order))
    _keep(order, f)
    if "locked" in f:
        value = (f["locked"].text or "").strip().lower()
        if value not in _YES | _NO:
            ctx.error(f"Order {oid}: locked must be yes or no, not {value!r}")
        order["locked"] = value in _YES
    for key in ("internalinformation", "other", "ponumber"):
        if key in f:
            order[key] = f[key].text or ""
    for key in ("shippingaddress", "billingaddress"):
        if key in f:
            order[key] = merge([(k, v) for k, v in order[key]], to_pairs(f[key]))
    if "cancelled" in f:
        for product in children(f["cancelled"], "product"):
            for size in children(child(product, "sizes"), "size"):
                _cancel(ctx, order, product, size)
    if "shipments" in f:
        for shipment in children(f["shipments"], "shipment"):
            _shipment(ctx, order, shipment)
    if "status" in f:
        status = (f["status"].text or "").strip()
        if status not in STATUSES:
            ctx.error(f"Order {oid}: status must be one of {', '.join(STATUSES)}, not {status!r}")
        elif status != order["status"]:
            if status == "cancelled":
                for item in order["items"]:
                    _cancel_qty(ctx.store, item, _open_qty(order, item))
            order["status"] = status


def _shipped_qty(order: dict[str, Any], orderitem: str) -> int:
    return sum(q for s in order["shipments"] for oi, q in s["lines"] if oi == orderitem)


def _open_qty(order: dict[str, Any], item: dict[str, Any]) -> int:
    return item["qty"] - item["cancelled"] - _shipped_qty(order, item["orderitem"])


def _qty(ctx: Ctx, where: str, value: str | None) -> int | None:
    try:
        qty = int((value or "").strip())
    except ValueError:
        qty = 0
    if qty <= 0:
        ctx.error(f"{where}: qty must be a positive whole number, not {value!r}")
        return None
    return qty


def _find_item(
    ctx: Ctx, order: dict[str, Any], product: Any, size: Any, where: str, candidates: Any = None
) -> dict[str, Any] | None:
    """The order row a ``<size>`` refers to: by its orderitem id, else by product/variation/size."""
    orderitem = text(child(size, "orderitem"), "id")
    pid = text(product, "id")
    vid = text(child(product, "variation"), "id")
    sid = text(size, "id")
    pool = [i for i in order["items"] if candidates is None or i["orderitem"] in candidates]
    if orderitem:
        found = [i for i in pool if i["orderitem"] == orderitem]
        if not found:
            ctx.error(f"{where}: order {order['id']} has no orderitem {orderitem}")
            return None
        item = found[0]
        for key, sent in (("product", pid), ("variation", vid), ("size", sid)):
            if sent and sent != item[key]:
                ctx.error(f"{where}: orderitem {orderitem} is {key} {item[key]}, not {sent}")
                return None
        return item
    found = [
        i
        for i in pool
        if i["product"] == pid and (not vid or i["variation"] == vid) and i["size"] == sid
    ]
    if not found:
        ctx.error(f"{where}: order {order['id']} has no row for {pid}/{vid}/{sid}")
        return None
    return found[0]


def _cancel(ctx: Ctx, order: dict[str, Any], product: Any, size: Any) -> None:
    where = f"Order {order['id']} cancel"
    item = _find_item(ctx, order, product, size, where)
    qty = _qty(ctx, where, text(size, "qty"))
    if item is None or qty is None:
        return
    if qty > _open_qty(order, item):
        ctx.error(
            f"{where}: orderitem {item['orderitem']} has {_open_qty(order, item)} left to "
            f"cancel, not {qty}"
        )
        return
    _cancel_qty(ctx.store, item, qty)


def _cancel_qty(store: Store, item: dict[str, Any], qty: int) -> None:
    if qty <= 0:
        return
    item["cancelled"] += qty
    if not (item.get("bundle") or {}).get("isbundle"):
        _release(store, item, qty)


def _resolve_shipment(
    order: dict[str, Any], sid: str, appendix: str | None, has_lines: bool
) -> Any:
    for shipment in order["shipments"]:
        if shipment["id"] == sid:
            return shipment
    for shipment in order["shipments"]:
        if sid == f"{order['id']}-{shipment['appendix']}":
            return shipment
        if not has_lines and appendix and appendix == str(shipment["appendix"]):
            return shipment
    return None


def _shipment(ctx: Ctx, order: dict[str, Any], el: Any) -> None:
    f = fields(el)
    sid = (f["id"].text or "") if "id" in f else ""
    where = f"Order {order['id']} shipment {sid}"
    if not sid:
        ctx.error(f"Order {order['id']}: a shipment without <id>")
        return
    appendix = f["appendix"].text if "appendix" in f else None
    products = list(children(f.get("products"), "product"))
    shipment = _resolve_shipment(order, sid, appendix, bool(products))
    lines = _shipment_lines(ctx, order, products, where, shipment) if products else None
    if lines is None and products:
        return
    shipment_existed = shipment is not None
    if shipment is None:
        if not lines:
            ctx.error(f"{where} does not exist and has no products to create it with")
            return
        number = int(appendix) if appendix and appendix.isdigit() else len(order["shipments"]) + 1
        subtotal = text(f.get("shipping"), "subtotal")
        shipment = _new_shipment(order, sid, number, lines, plain(Decimal(subtotal or "0")))
        order["shipments"].append(shipment)
        ctx.store.convert("shipment", f"{order['id']}/{sid}")
    elif lines is not None and sorted(lines) != sorted(shipment["lines"]):
        ctx.error(f"{where} already exists; its products cannot be changed")
        return
    if shipment_existed:
        _ignored(ctx, where, el, SHIPMENT_IGNORED, shipment_pairs(order, shipment))
    if "shippingaddress" in f and len(f["shippingaddress"]):
        address = shipment.get("shippingaddress") or order["shippingaddress"]
        shipment["shippingaddress"] = merge(
            [tuple(p) for p in address], to_pairs(f["shippingaddress"])
        )
    for key in ("shipped", "goodtogo"):
        if key in f:
            shipment[key] = (f[key].text or "").strip().lower() in _YES
    if "carrierinformation" in f:
        for name, value in to_pairs(f["carrierinformation"]):
            if isinstance(value, str):
                shipment["carrier"][name] = value
    if "capture" in f and (f["capture"].text or "").strip().lower() in _YES:
        _capture(ctx, order, shipment, where)
    for refund in children(f.get("refunds"), "refund"):
        _refund(ctx, order, shipment, refund)


def _shipment_lines(
    ctx: Ctx,
    order: dict[str, Any],
    products: list[Any],
    where: str,
    existing: dict[str, Any] | None,
) -> list[list[Any]] | None:
    lines: dict[str, int] = {}
    ok = True
    for product in products:
        for size in children(child(product, "sizes"), "size"):
            item = _find_item(ctx, order, product, size, where)
            qty = _qty(ctx, where, text(size, "qty"))
            if item is None or qty is None:
                ok = False
                continue
            lines[item["orderitem"]] = lines.get(item["orderitem"], 0) + qty
    if not ok:
        return None
    result = [[oi, q] for oi, q in lines.items()]
    if existing is not None:
        return result  # compared with the stored lines by the caller
    for orderitem, qty in lines.items():
        item = next(i for i in order["items"] if i["orderitem"] == orderitem)
        if qty > _open_qty(order, item):
            ctx.error(
                f"{where}: orderitem {orderitem} has {_open_qty(order, item)} left to ship, "
                f"not {qty}"
            )
            ok = False
    return result if ok else None


def _capture(ctx: Ctx, order: dict[str, Any], shipment: dict[str, Any], where: str) -> None:
    """Capture if possible; a no-op when already captured or when nothing can be captured."""
    if shipment["paid"] or order["payment"]["type"] != "cc":
        return
    if order.get("capture_fails"):
        ctx.error(f"{where}: capture failed: the payment provider declined the capture")
        return
    total = shipment_total(order, shipment)
    shipment["paid"] = True
    order["payment"]["captured"] = plain(Decimal(order["payment"]["captured"]) + total)
    order["payments"].append(
        {
            "type": "capture",
            "value": plain(total),
            "created": now().isoformat(),
            "transaction": f"{1_000_000_000 + order['number']}-{shipment['appendix']}",
        }
    )


def _refund(ctx: Ctx, order: dict[str, Any], shipment: dict[str, Any], el: Any) -> None:
    rid = text(el, "id")
    where = f"Order {order['id']} refund {rid}"
    if not rid:
        ctx.error(f"Order {order['id']}: a refund without <id>")
        return
    owner = ctx.store.db.execute("SELECT order_id FROM refunds WHERE id=?", (rid,)).fetchone()
    if owner and owner[0] != order["id"]:
        ctx.error(
            f"{where}: refund id {rid} is already used by order {owner[0]}; refund ids "
            "must be unique across all orders"
        )
        return
    status = text(el, "status")
    kept = [(n, v) for n, v in to_pairs(el) if n in REFUND_KEPT]
    existing = next((r for r in shipment["refunds"] if r["id"] == rid), None)
    if existing is not None:
        if status:
            existing["status"] = status
        if kept:
            existing["fields"] = merge([tuple(p) for p in existing.get("fields") or []], kept)
        return
    if owner:
        ctx.error(f"{where}: refund {rid} belongs to another shipment of this order")
        return
    if not shipment["shipped"]:
        ctx.error(f"{where}: shipment {shipment['id']} is not shipped, so it cannot be refunded")
        return
    in_shipment = {oi for oi, _ in shipment["lines"]}
    lines: dict[str, int] = {}
    for product in children(child(el, "products"), "product"):
        for size in children(child(product, "sizes"), "size"):
            item = _find_item(ctx, order, product, size, where, candidates=in_shipment)
            qty = _qty(ctx, where, text(size, "qty"))
            if item is None or qty is None:
                return
            lines[item["orderitem"]] = lines.get(item["orderitem"], 0) + qty
    if not lines:
        ctx.error(f"{where}: a refund needs products")
        return
    for orderitem, qty in lines.items():
        shipped = sum(q for oi, q in shipment["lines"] if oi == orderitem)
        refunded = sum(q for r in shipment["refunds"] for oi, q in r["lines"] if oi == orderitem)
        if qty > shipped - refunded:
            ctx.error(f"{where}: orderitem {orderitem} has {shipped - refunded} left to refund")
            return
    refund: dict[str, Any] = {
        "id": rid,
        "status": status or "confirmed",
        "lines": [[k, v] for k, v in lines.items()],
    }
    if kept:
        refund["fields"] = merge([], kept)
    shipment["refunds"].append(refund)
    ctx.store.db.execute("INSERT INTO refunds (id, order_id) VALUES (?, ?)", (rid, order["id"]))
    ctx.store.convert("refund", rid)
