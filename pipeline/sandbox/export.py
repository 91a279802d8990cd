"""The sandbox's state of one entity, written as the ``*_Update`` request that would create it.

The envelope has the guide's shape (``soap:`` prefix, default ``xmlns`` on the operation
element) with ``<login>`` and the password shown as ``***``, so the output can be compared with
the guide's examples (and is never a credential leak). Every other non-empty ``<password>``
(an account's buyers', a customer's, at any depth) is shown as ``***`` too.
"""

from __future__ import annotations

from pipeline.sandbox import pricelists
from pipeline.sandbox.catalog import sizetable_sizes
from pipeline.sandbox.order_xml import order_pairs
from pipeline.sandbox.soap import Pairs, request_envelope
from pipeline.sandbox.store import Store, load_pairs

#: What an export shows instead of a password.
MASK = "***"

#: entity: (operation, collection element, item element, document type or None for special)
ENTITIES: dict[str, tuple[str, str, str, str | None]] = {
    "markets": ("markets_Update", "markets", "market", "market"),
    "warehouses": ("warehouses_Update", "warehouses", "warehouse", "warehouse"),
    "sizes": ("sizes_Update", "sizes", "size", None),
    "products": ("products_Update", "products", "product", None),
    "stock": ("products_Update", "products", "product", None),
    "pricelists": ("pricelists_Update", "pricelists", "pricelist", "pricelist"),
    "pricealterationdates": (
        "pricealterationdates_Update",
        "pricealterationdates",
        "pricealterationdate",
        "pricealterationdate",
    ),
    "paymentterms": ("paymentterms_Update", "paymentterms", "paymentterms", "paymentterms"),
    "shippingterms": ("shippingterms_Update", "shippingterms", "shippingterms", "shippingterms"),
    "accounts": ("accounts_Update", "accounts", "account", "account"),
    "customers": ("customers_Update", "customers", "customer", "customer"),
    "salesreps": ("salesreps_Update", "salesreps", "salesrep", "salesrep"),
    "deliverywindows": (
        "deliverywindows_Update",
        "deliverywindows",
        "deliverywindow",
        "deliverywindow",
    ),
    "orders": ("orders_Update", "orders", "order", None),
    "invoices": ("invoices_Update", "invoices", "invoice", "invoice"),
}


def export(store: Store, entity: str, username: str) -> str:
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}: use one of {', '.join(sorted(ENTITIES))}")
    operation, collection, item, doc_type = ENTITIES[entity]
    with store.lock:
        if doc_type is not None:
            docs = pricelists.documents(store) if entity == "pricelists" else store.docs(doc_type)
            items: Pairs = [(item, [("id", id_), *doc]) for id_, doc in docs]
        elif entity == "sizes":
            items = _sizes(store)
        elif entity in ("products", "stock"):
            items = _products(store, stock_only=entity == "stock")
        else:
            items = [("order", order_pairs(order)) for order in store.orders()]
    return request_envelope(operation, username, [(collection, mask_passwords(items))])


def mask_passwords(pairs: Pairs) -> Pairs:
    """``pairs`` with the value of every non-empty ``password`` element, at any depth, masked."""
    out: Pairs = []
    for name, value in pairs:
        if name.rpartition(":")[2].lower() == "password":
            value = MASK if value else value
        elif value and not isinstance(value, str):  # nested pairs (render's rule)
            value = mask_passwords(list(value))
        out.append((name, value))
    return out


def _sizes(store: Store) -> Pairs:
    out: Pairs = []
    tables = store.db.execute("SELECT id, data FROM sizetables ORDER BY rowid").fetchall()
    for tid, tdata in tables:
        table: Pairs = [("id", tid), *load_pairs(tdata)]
        for sid, sdata in store.db.execute(
            "SELECT id, data FROM sizes WHERE sizetable=? ORDER BY rowid", (tid,)
        ).fetchall():
            out.append(("size", [("id", sid), *load_pairs(sdata), ("sizetable", table)]))
    return out


def _products(store: Store, stock_only: bool) -> Pairs:
    db = store.db
    out: Pairs = []
    warehouse_order = {
        r[0]: r[1] for r in db.execute("SELECT id, rowid FROM objects WHERE type='warehouse'")
    }
    for pid, pdata in db.execute("SELECT id, data FROM products ORDER BY rowid").fetchall():
        variations: Pairs = []
        for vid, table, vdata in db.execute(
            "SELECT id, sizetable, data FROM variations WHERE product=? ORDER BY rowid", (pid,)
        ).fetchall():
            items = {
                r[0]: r[1:]
                for r in db.execute(
                    "SELECT size, sku, ean, preorder, description, comment FROM items "
                    "WHERE variation=?",
                    (vid,),
                )
            }
            stock: dict[str, list[tuple[str, int, str | None]]] = {}
            for sid, wid, qty, cog in db.execute(
                "SELECT size, warehouse, qty, cog FROM stock WHERE variation=?", (vid,)
            ):
                stock.setdefault(sid, []).append((wid, qty, cog))
            sizes: Pairs = []
            for sid, _ in sizetable_sizes(store, table):
                if sid not in items:
                    continue
                size: Pairs = [("id", sid)]
                if not stock_only:
                    for name, value in zip(
                        ("sku", "ean", "preorder", "description", "comment"),
                        items[sid],
                        strict=True,
                    ):
                        if value is not None:
                            size.append((name, value))
                rows = sorted(
                    stock.get(sid, []), key=lambda r: (warehouse_order.get(r[0], 0), r[0])
                )
                if rows:
                    size.append(
                        (
                            "warehouseitems",
                            [("warehouse", _warehouse(w, q, cog)) for w, q, cog in rows],
                        )
                    )
                elif stock_only:
                    continue
                sizes.append(("size", size))
            if stock_only and not sizes:
                continue
            vpairs: Pairs = [("id", vid)]
            if not stock_only:
                vpairs += load_pairs(vdata)
            variations.append(("variation", [*vpairs, ("sizes", sizes)]))
        if stock_only and not variations:
            continue
        product: Pairs = [("id", pid)]
        if not stock_only:
            product += load_pairs(pdata)
        out.append(("product", [*product, ("variations", variations)]))
    return out


def _warehouse(wid: str, qty: int, cog: str | None) -> Pairs:
    pairs: Pairs = [("id", wid), ("qty", str(qty))]
    if cog is not None:
        pairs.append(("cog", cog))
    return pairs
