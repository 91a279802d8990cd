"""One handler per SOAP operation, and the engine that routes a raw request to it.

Every ``*_Update`` runs in one transaction. Handlers record problems in ``ctx.errors`` (each
naming the object's id) and carry on, so one answer lists every problem; if there is any, the
whole request is rolled back and answered ``success=false``: nothing of it is applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pipeline.sandbox import catalog, orders, pricelists
from pipeline.sandbox.soap import (
    SoapFault,
    SoapRequest,
    child,
    children,
    escape,
    events_response,
    fault_response,
    parse_request,
    result_response,
    text,
    to_pairs,
)
from pipeline.sandbox.store import (
    Store,
    doc_all,
    doc_get,
    merge,
    remove_listed,
    type_errors,
    without,
)

log = logging.getLogger(__name__)

#: The reference's ``type`` list, plus ``stock``: the reference's event ``data`` has a ``<stock>``
#: child although its type list omits it, so a client asking for stock events gets the queue's.
EVENT_TYPES = (
    "all",
    "account",
    "customer",
    "invoice",
    "market",
    "order",
    "paymentterm",
    "pricelist",
    "salesrep",
    "shippingterm",
    "size",
    "warehouse",
    "stock",
)
LOGIN_FAILED = "Login failed: wrong username or password"


@dataclass
class Settings:
    username: str = "example"
    password: str = "secret"  # noqa: S105 (the sandbox's own test credentials)
    #: "fault": wrong credentials give a SOAP Fault; "result": success=false.
    login_failure_mode: str = "fault"
    #: Retail (direct-to-consumer) orders get a shipment when placed, as in the guide.
    retail_auto_shipment: bool = True
    update_response: str = "result"  # "ok": a success is <xUpdateResponse>OK</...> (reference)


@dataclass
class Ctx:
    store: Store
    settings: Settings
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)


class Rejected(Exception):
    """The request is answered success=false and rolled back."""


@dataclass
class Response:
    status: int
    body: bytes
    operation: str


# ------------------------------------------------------------------ simple documents


def _decimal_ok(value: str | None) -> bool:
    if value is None or value == "":
        return True
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _check_market(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    type_ = doc_get(doc, "type")
    if type_ not in (None, "", "retail", "wholesale"):
        ctx.error(f"Market {id_}: type must be retail or wholesale, not {type_!r}")


def _check_account(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    refs = (
        ("market", "market"),
        ("pricelist", "pricelist"),
        ("paymentterms", "paymentterms"),
        ("shippingterms", "shippingterms"),
        ("salesrep", "salesrep"),
    )
    for name, type_ in refs:
        ref = doc_get(doc, name, "id")
        if ref and not ctx.store.has_doc(type_, ref):
            ctx.error(f"Account {id_}: {name} {ref} does not exist")
    buyers = [b for group in doc_all(doc, "buyers") if isinstance(group, list) for b in group]
    for name, buyer in buyers:
        if name == "buyer" and not doc_get(buyer, "id"):
            ctx.error(f"Account {id_}: every buyer needs an <id>")
    if doc_get(doc, "status") in (None, "active") and not any(n == "buyer" for n, _ in buyers):
        ctx.notices.append(
            f"Account {id_} has no buyer, so it is not active: send at least one buyer"
        )


def _check_pricelist(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    type_ = doc_get(doc, "type")
    if type_ not in (None, "", "retail", "wholesale"):
        ctx.error(f"Pricelist {id_}: type must be retail or wholesale, not {type_!r}")
    # Only the products this request sends: the stored ones were checked when they came.
    for items in doc_all(request, "items"):
        for product in doc_all(items, "product"):
            pid = doc_get(product, "id")
            if not pid:
                ctx.error(f"Pricelist {id_}: a product without <id>")
                continue
            if not catalog.product_exists(ctx.store, pid):
                ctx.error(f"Pricelist {id_}: product {pid} does not exist")
                continue
            prices = [product, *doc_all(product, "variation")]
            for variation in doc_all(product, "variation"):
                vid = doc_get(variation, "id")
                owner = catalog.variation_product(ctx.store, vid or "")
                if owner != pid:
                    ctx.error(f"Pricelist {id_}: variation {vid} is not a variation of {pid}")
            for entry in prices:
                for key in ("price", "priceb", "alteredprice", "alteredpriceb"):
                    value = doc_get(entry, key)
                    if not isinstance(value, list) and not _decimal_ok(value):
                        ctx.error(f"Pricelist {id_}: {key} {value!r} of {pid} is not a number")


def _check_deliverywindow(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    for group in doc_all(doc, "variations"):
        for variation in doc_all(group, "variation"):
            vid = doc_get(variation, "id")
            if not vid or catalog.variation_product(ctx.store, vid) is None:
                ctx.error(f"Delivery window {id_}: variation {vid} does not exist")


def _check_terms(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    duedays = doc_get(doc, "duedays")
    if isinstance(duedays, str) and duedays and not duedays.isdigit():
        ctx.error(f"Terms {id_}: duedays must be a whole number, not {duedays!r}")


def _check_invoice(ctx: Ctx, id_: str, doc: list[Any], request: list[Any]) -> None:
    order = doc_get(doc, "order", "id")
    if isinstance(order, str) and order and ctx.store.get_order(order) is None:
        ctx.error(f"Invoice {id_}: order {order} does not exist")


#: How messages name an object of each item element (default: the element, capitalised).
LABELS = {"deliverywindow": "Delivery window", "paymentterms": "Terms", "shippingterms": "Terms"}

#: check(ctx, id, the stored document merged with the request, the request's document)
Check = Callable[[Ctx, str, list[Any], list[Any]], None]

#: operation: (collection element, item element, document type, check of the merged document)
DOCUMENTS: dict[str, tuple[str, str, str, Check | None]] = {
    "markets_Update": ("markets", "market", "market", _check_market),
    "warehouses_Update": ("warehouses", "warehouse", "warehouse", None),
    "paymentterms_Update": ("paymentterms", "paymentterms", "paymentterms", _check_terms),
    "shippingterms_Update": ("shippingterms", "shippingterms", "shippingterms", _check_terms),
    "pricealterationdates_Update": (
        "pricealterationdates",
        "pricealterationdate",
        "pricealterationdate",
        None,
    ),
    "salesreps_Update": ("salesreps", "salesrep", "salesrep", None),
    "customers_Update": ("customers", "customer", "customer", None),
    "deliverywindows_Update": (
        "deliverywindows",
        "deliverywindow",
        "deliverywindow",
        _check_deliverywindow,
    ),
    "invoices_Update": ("invoices", "invoice", "invoice", _check_invoice),
    "accounts_Update": ("accounts", "account", "account", _check_account),
    "pricelists_Update": ("pricelists", "pricelist", "pricelist", _check_pricelist),
}


#: document type: (remove list, the list it removes from, its item element). The reference's
#: other remove lists (a display's categoriesremove and marketsremove) are in catalog.py.
REMOVE_LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "deliverywindow": (("variationsremove", "variations", "variation"),),
}


def update_documents(ctx: Ctx, operation: str, el: Any) -> None:
    collection, item, type_, check = DOCUMENTS[operation]
    for obj in children(child(el, collection), item):
        id_ = text(obj, "id")
        if not id_:
            ctx.error(f"A {item} without <id> cannot be stored")
            continue
        pairs = to_pairs(obj, skip=("id",))
        typing_errors = type_errors(f"{LABELS.get(item, item.capitalize())} {id_}", item, pairs)
        if typing_errors:
            ctx.errors.extend(typing_errors)
            continue
        removals = REMOVE_LISTS.get(type_, ())
        pairs, removed = without(pairs, *(r[0] for r in removals))
        if check is not None:
            # A pricelist's check sees its stored header (its products are rows of their own).
            merged_with = pricelists.split(pairs)[0] if type_ == "pricelist" else pairs
            errors_before = len(ctx.errors)
            check(ctx, id_, merge(ctx.store.get_doc(type_, id_) or [], merged_with), pairs)
            if len(ctx.errors) > errors_before:
                continue
        if type_ == "pricelist":
            pricelists.put(ctx.store, id_, pairs)
        elif removed:
            # A remove list is an action, not data: applied to the merged document, not stored.
            doc = merge(ctx.store.get_doc(type_, id_) or [], pairs)
            for remove, container, element in removals:
                doc = remove_listed(doc, container, element, removed.get(remove))
            ctx.store.replace_doc(type_, id_, doc)
        else:
            ctx.store.put_doc(type_, id_, pairs)


# ------------------------------------------------------------------ events


def _event_xml(event: dict[str, Any]) -> str:
    return (
        f"<ns1:event><ns1:id>{event['id']}</ns1:id><ns1:type>{event['type']}</ns1:type>"
        f"<ns1:entry>{escape(event['entry'] or '')}</ns1:entry>"
        f"<ns1:mission>{event['mission']}</ns1:mission><ns1:date>{event['date']}</ns1:date>"
        f"<ns1:data>{event['data']}</ns1:data></ns1:event>"
    )


def _event_type(el: Any) -> str:
    type_ = (text(el, "type") or "all").strip()
    if type_ not in EVENT_TYPES:
        raise SoapFault(
            "Client", f"Unknown event type {type_!r}: expected one of {', '.join(EVENT_TYPES)}"
        )
    return type_


def events_get(store: Store, type_: str, markets: list[str] | None = None) -> bytes:
    sql = "SELECT id, type, entry, mission, date, data FROM events"
    where: list[str] = []
    params: list[Any] = []
    if type_ != "all":
        where.append("type=?")
        params.append(type_)
    if markets is not None:
        where.append(f"market IN ({','.join('?' * len(markets))})")
        params.extend(markets)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id LIMIT 100"
    keys = ("id", "type", "entry", "mission", "date", "data")
    rows = store.query(sql, tuple(params))
    return events_response([_event_xml(dict(zip(keys, r, strict=True))) for r in rows])


def events_done(store: Store, el: Any) -> None:
    ids = []
    for e in children(el, "event"):
        value = (e.text or "").strip()
        if value.isdigit():
            ids.append((int(value),))
    with store.transaction() as db:
        db.executemany("DELETE FROM events WHERE id=?", ids)


def enqueue_synthetic(store: Store, count: int, type_: str = "market") -> list[int]:
    """Queue ``count`` placeholder events (for queue tests and benchmarks)."""
    if type_ not in EVENT_TYPES or type_ == "all":
        raise ValueError(f"unknown event type {type_!r}")
    ids = []
    with store.transaction():
        for _ in range(count):
            n = store.next_number("synthetic_event")
            data = f"<ns1:{type_}><ns1:id>synthetic-{n}</ns1:id></ns1:{type_}>"
            ids.append(store.add_event(type_, f"synthetic-{n}", data))
    return ids


# ------------------------------------------------------------------ the engine

UPDATES: dict[str, Callable[[Ctx, Any], None]] = {
    "sizes_Update": catalog.sizes_update,
    "products_Update": catalog.products_update,
    "orders_Update": orders.orders_update,
}


class Engine:
    """Turns one raw SOAP request into a response; knows nothing about HTTP."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def handle(self, raw: bytes, soap_action: str | None) -> Response:
        operation = "?"
        try:
            request = parse_request(raw, soap_action)
            operation = request.operation
            if not self._login_ok(request):
                if self.settings.login_failure_mode == "result":
                    return Response(200, result_response(False, [LOGIN_FAILED]), operation)
                raise SoapFault("Client", LOGIN_FAILED)
            return Response(200, self._dispatch(request), operation)
        except SoapFault as fault:
            return Response(500, fault_response(fault.code, fault.message), operation)
        except Exception as exc:  # a sandbox bug must still answer like a server would
            log.exception("sandbox error in %s", operation)
            message = f"Internal sandbox error: {type(exc).__name__}: {exc}"
            return Response(500, fault_response("Server", message), operation)

    def _login_ok(self, request: SoapRequest) -> bool:
        return (
            request.username == self.settings.username
            and request.password == self.settings.password
        )

    def _dispatch(self, request: SoapRequest) -> bytes:
        op, el = request.operation, request.element
        if op == "events_Get":
            return events_get(self.store, _event_type(el))
        if op == "events_GetByMarkets":
            markets = [text(m, "id") or "" for m in children(child(el, "markets"), "market")]
            return events_get(self.store, _event_type(el), markets)
        if op == "events_Done":
            events_done(self.store, el)
            return result_response(True, ok_for=self._ok_for(op))
        ctx = Ctx(self.store, self.settings)
        try:
            with self.store.transaction():
                if op in DOCUMENTS:
                    update_documents(ctx, op, el)
                else:
                    UPDATES[op](ctx, el)
                if ctx.errors:
                    raise Rejected
        except Rejected:
            return result_response(False, ctx.errors, ctx.notices)
        return result_response(True, (), ctx.notices, ok_for=self._ok_for(op))

    def _ok_for(self, operation: str) -> str | None:
        return operation if self.settings.update_response == "ok" else None
