"""Sizetables, products, variations, sizes and stock: sizes_Update and products_Update.

A sizetable is frozen by the request that created it: later requests may only repeat what is
stored (omitting fields is fine). products_Update writes its size rows and stock with
``executemany`` so a 30,000-row import stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pipeline.sandbox.soap import CENTRA_NS, Pairs, child, children, fields, local, to_pairs
from pipeline.sandbox.store import Store, doc_get, load_pairs, merge, remove_listed, without

if TYPE_CHECKING:
    from pipeline.sandbox.operations import Ctx

_ITEM_UPSERT = (
    "INSERT INTO items (variation, size, sku, ean, preorder, comment, description) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(variation, size) DO UPDATE SET sku=coalesce(excluded.sku, sku), "
    "ean=coalesce(excluded.ean, ean), preorder=coalesce(excluded.preorder, preorder), "
    "comment=coalesce(excluded.comment, comment), "
    "description=coalesce(excluded.description, description)"
)
_STOCK_UPSERT = (
    "INSERT INTO stock (variation, size, warehouse, qty, cog) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(variation, size, warehouse) DO UPDATE SET qty=excluded.qty, "
    "cog=coalesce(excluded.cog, cog)"
)


def _text(el: Any) -> str | None:
    return None if el is None else (el.text or "")


# ------------------------------------------------------------------ sizes_Update


def sizes_update(ctx: Ctx, el: Any) -> None:
    db = ctx.store.db
    created_now: set[str] = set()
    for size in children(child(el, "sizes"), "size"):
        f = fields(size)
        sid = _text(f.get("id"))
        table_el = f.get("sizetable")
        tid = _text(fields(table_el).get("id")) if table_el is not None else None
        if not sid or not tid:
            ctx.error(f"Size {sid or '(no id)'}: a size needs an <id> and a <sizetable><id>")
            continue
        table_fields = to_pairs(table_el, skip=("id",))
        size_fields = to_pairs(size, skip=("id", "sizetable"))
        row = db.execute("SELECT description, data FROM sizetables WHERE id=?", (tid,)).fetchone()
        if row is None:
            description = dict(table_fields).get("description", "")
            db.execute(
                "INSERT INTO sizetables (id, description, data) VALUES (?, ?, ?)",
                (tid, description, json.dumps(table_fields)),
            )
            ctx.store.convert("sizetable", tid)
            created_now.add(tid)
            table_description = description
        else:
            table_description = row[0]
            stored = dict(json.loads(row[1]))
            for name, value in table_fields:
                if stored.get(name, "") != value:
                    ctx.error(
                        f"Sizetable {tid} cannot be changed once created: its {name} is "
                        f"{stored.get(name, '')!r}, not {value!r}"
                    )
        srow = db.execute(
            "SELECT data FROM sizes WHERE sizetable=? AND id=?", (tid, sid)
        ).fetchone()
        if srow is None:
            if tid not in created_now:
                ctx.error(
                    f"Sizetable {tid} cannot be changed once created: size {sid} is not in it"
                )
                continue
            description = dict(size_fields).get("description", "")
            db.execute(
                "INSERT INTO sizes (sizetable, id, description, data) VALUES (?, ?, ?, ?)",
                (tid, sid, description, json.dumps(size_fields)),
            )
            ctx.store.convert("size", f"{tid}/{sid}")
            ctx.notices.append(f"Added new size: {sid}: {description} to: {table_description}!")
            continue
        stored = dict(json.loads(srow[0]))
        for name, value in size_fields:
            if stored.get(name, "") != value:
                ctx.error(
                    f"Sizetable {tid} cannot be changed once created: size {sid} has "
                    f"{name} {stored.get(name, '')!r}, not {value!r}"
                )


def sizetable_sizes(store: Store, table: str) -> list[tuple[str, str]]:
    """(size id, description) of a sizetable, in its order."""
    return [
        (r[0], r[1])
        for r in store.db.execute(
            "SELECT id, description FROM sizes WHERE sizetable=? ORDER BY rowid", (table,)
        )
    ]


# ------------------------------------------------------------------ products_Update


def product_exists(store: Store, pid: str) -> bool:
    return bool(store.db.execute("SELECT 1 FROM products WHERE id=?", (pid,)).fetchone())


def variation_product(store: Store, vid: str) -> str | None:
    row = store.db.execute("SELECT product FROM variations WHERE id=?", (vid,)).fetchone()
    return row[0] if row else None


def products_update(ctx: Ctx, el: Any) -> None:
    _ProductsWriter(ctx).write(el)


class _ProductsWriter:
    """One products_Update: rows are collected and written with executemany at the end."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.db = ctx.store.db
        self.tables: dict[str, set[str] | None] = {}
        self.item_rows: list[tuple[Any, ...]] = []
        self.stock_rows: list[tuple[Any, ...]] = []
        self.warehouses: set[str] = set()
        self.new_ids: dict[str, list[str]] = {"product": [], "variation": []}

    def table_sizes(self, tid: str) -> set[str] | None:
        if tid not in self.tables:
            exists = self.db.execute("SELECT 1 FROM sizetables WHERE id=?", (tid,)).fetchone()
            sizes = {s for s, _ in sizetable_sizes(self.ctx.store, tid)}
            self.tables[tid] = sizes if exists else None
        return self.tables[tid]

    def write(self, el: Any) -> None:
        ctx, db = self.ctx, self.db
        for product in children(child(el, "products"), "product"):
            pf = fields(product)
            pid = _text(pf.get("id"))
            if not pid:
                ctx.error("A product without <id> cannot be stored")
                continue
            doc = to_pairs(product, skip=("id", "variations"))
            row = db.execute("SELECT data FROM products WHERE id=?", (pid,)).fetchone()
            if row is None:
                db.execute("INSERT INTO products (id, data) VALUES (?, ?)", (pid, json.dumps(doc)))
                self.new_ids["product"].append(pid)
            elif doc:
                old = load_pairs(row[0])
                merged = merge(old, doc)
                if merged != old:
                    db.execute("UPDATE products SET data=? WHERE id=?", (json.dumps(merged), pid))
            variations = pf.get("variations")
            if variations is None:
                continue
            names = {
                r[1]: r[0]
                for r in db.execute(
                    "SELECT id, description FROM variations WHERE product=?", (pid,)
                )
                if r[1] is not None
            }
            for variation in children(variations, "variation"):
                self.variation(pid, variation, names)
        if ctx.errors:
            return
        db.executemany(_ITEM_UPSERT, self.item_rows)
        db.executemany(_STOCK_UPSERT, self.stock_rows)
        for type_, ids in self.new_ids.items():
            ctx.store.convert_many(type_, ids)
        for wid in sorted(self.warehouses):
            if not ctx.store.has_doc("warehouse", wid):
                ctx.store.put_doc("warehouse", wid, [])

    def variation(self, pid: str, variation: Any, names: dict[str, str]) -> None:
        ctx, db = self.ctx, self.db
        vf = fields(variation)
        vid = _text(vf.get("id"))
        if not vid:
            ctx.error(f"Product {pid}: a variation without <id>")
            return
        row = db.execute(
            "SELECT product, description, sizetable, data FROM variations WHERE id=?", (vid,)
        ).fetchone()
        if row is not None and row[0] != pid:
            ctx.error(
                f"Variation {vid} belongs to product {row[0]}, not {pid}: "
                "variation ids must be unique across all products"
            )
            return
        table_el = vf.get("sizetable")
        tid = _text(fields(table_el).get("id")) if table_el is not None else None
        if row is None and not tid:
            ctx.error(f"Variation {vid} of product {pid} is new and needs a <sizetable><id>")
            return
        if row is not None and tid and tid != row[2]:
            ctx.error(f"Variation {vid}: its sizetable is {row[2]} and cannot be changed to {tid}")
            return
        tid = tid or row[2]
        sizes = self.table_sizes(tid)
        if sizes is None:
            ctx.error(
                f"Variation {vid}: sizetable {tid} does not exist (send it with sizes_Update)"
            )
            return
        description = _text(vf.get("description"))
        if description is None and row is not None:
            description = row[1]
        if description is not None:
            clash = names.get(description)
            if clash is not None and clash != vid:
                ctx.error(
                    f"Variation {vid}: product {pid} already has a variation named "
                    f"{description!r} ({clash}); variant names must be unique within a product"
                )
                return
            if row is not None and row[1] is not None:
                names.pop(row[1], None)
            names[description] = vid
        doc = to_pairs(variation, skip=("id", "sizes", "displays"))
        displays = vf.get("displays")
        if row is None:
            if displays is not None:
                doc = with_displays(doc, to_pairs(displays))
            db.execute(
                "INSERT INTO variations (id, product, description, sizetable, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (vid, pid, description, tid, json.dumps(doc)),
            )
            self.new_ids["variation"].append(vid)
        elif doc or displays is not None:
            old = load_pairs(row[3])
            merged = merge(old, doc)
            if displays is not None:
                merged = with_displays(merged, to_pairs(displays))
            if merged != old:
                db.execute(
                    "UPDATE variations SET description=?, data=? WHERE id=?",
                    (description, json.dumps(merged), vid),
                )
        self.sizes(vid, tid, sizes, vf.get("sizes"))

    def sizes(self, vid: str, tid: str, sizes: set[str], sizes_el: Any) -> None:
        # The hot loop of a big import, kept flat on purpose: tags are looked up in dicts
        # (the namespaced and the plain form), not parsed. The parser removed comments and
        # PIs and refused entities, so every child is an element.
        if sizes_el is None:
            return
        known = _FIELDS.get
        item_rows, stock_rows, warehouses = self.item_rows, self.stock_rows, self.warehouses
        for size in sizes_el:
            if (known(size.tag) or _tag(size)) != "size":
                continue
            sid = sku = ean = preorder = comment = description = size_qty = warehouse_el = None
            for c in size:
                name = known(c.tag) or _tag(c)
                if name == "id":
                    sid = c.text or ""
                elif name == "ean":
                    ean = c.text or ""
                elif name == "sku":
                    sku = c.text or ""
                elif name == "warehouseitems":
                    warehouse_el = c
                elif name == "preorder":
                    preorder = c.text or ""
                elif name == "comment":
                    comment = c.text or ""
                elif name == "description":
                    description = c.text or ""
                elif name == "qty":
                    size_qty = (c.text or "").strip()
            if sid is None or sid not in sizes:
                self.ctx.error(f"Variation {vid}: size {sid} is not in its sizetable {tid}")
                continue
            item_rows.append((vid, sid, sku, ean, preorder, comment, description))
            total = 0
            if warehouse_el is not None:
                for warehouse in warehouse_el:
                    if (known(warehouse.tag) or _tag(warehouse)) != "warehouse":
                        continue
                    wid = qty = cog = None
                    for c in warehouse:
                        name = known(c.tag) or _tag(c)
                        if name == "id":
                            wid = c.text or ""
                        elif name == "qty":
                            qty = c.text or ""
                        elif name == "cog":
                            cog = c.text or ""
                    try:
                        stock_rows.append((vid, sid, wid or "", int(qty or ""), cog))
                    except ValueError:
                        self.ctx.error(
                            f"Variation {vid} size {sid} warehouse {wid}: qty {qty!r} is not a "
                            "whole number"
                        )
                        continue
                    total += stock_rows[-1][3]
                    if not wid:
                        self.ctx.error(f"Variation {vid} size {sid}: a warehouse without <id>")
                    warehouses.add(wid or "")
            if size_qty and (warehouse_el is None or _int(size_qty) != total):
                # The reference's size-level <qty> names no warehouse: storing it nowhere and
                # answering success would lose the stock, so it is refused unless it is the
                # total of the warehouses sent with it.
                self.ctx.error(
                    f"Variation {vid} size {sid}: <qty> directly in <size> ({size_qty}) is not "
                    "stored: Centra keeps stock per warehouse, send it as <warehouseitems>"
                    "<warehouse><id>..</id><qty>..</qty></warehouse></warehouseitems>"
                )


#: A display's remove lists: (remove list, the list it removes from, its item element).
DISPLAY_REMOVE_LISTS = (
    ("categoriesremove", "categories", "category"),
    ("marketsremove", "markets", "market"),
)


def with_displays(doc: Pairs, displays: Pairs) -> Pairs:
    """A variation's document with the request's ``<displays>`` applied.

    A display is one store's (matched by ``<store>``; the reference gives it no id), merged
    field by field; its ``categoriesremove`` and ``marketsremove`` remove those categories and
    markets (by id) from it and are not stored. An empty ``<displays/>`` changes nothing.
    """
    stored = doc_get(doc, "displays")
    current: list[Pairs] = [
        v for n, v in (stored if isinstance(stored, list) else []) if n == "display"
    ]
    for name, display in displays:
        if name != "display" or not isinstance(display, list):
            continue
        fields_, removed = without(display, *(r[0] for r in DISPLAY_REMOVE_LISTS))
        store = doc_get(display, "store")
        index = next((i for i, d in enumerate(current) if doc_get(d, "store") == store), None)
        merged = merge(current[index] if index is not None else [], fields_)
        for remove, container, item in DISPLAY_REMOVE_LISTS:
            merged = remove_listed(merged, container, item, removed.get(remove))
        if index is None:
            current.append(merged)
        else:
            current[index] = merged
    if not current:
        return doc
    value: Pairs = [("display", d) for d in current]
    if stored is not None:
        return [(n, value if n == "displays" else v) for n, v in doc]
    return [*doc, ("displays", value)]


#: Tag (in Centra's namespace or none) -> local name, for the names the hot loop needs.
_FIELDS = {
    tag: name
    for name in ("size", "id", "sku", "ean", "preorder", "comment", "description",
                 "warehouseitems", "warehouse", "qty", "cog")
    for tag in (name, f"{{{CENTRA_NS}}}{name}")
}  # fmt: skip


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _tag(el: Any) -> str:
    """An element in another namespace: matched by local name (lenient, and rare)."""
    return local(el)


# ------------------------------------------------------------------ reading for orders/export


def product_doc(store: Store, pid: str) -> Pairs | None:
    row = store.db.execute("SELECT data FROM products WHERE id=?", (pid,)).fetchone()
    return load_pairs(row[0]) if row else None


def variation_row(store: Store, vid: str) -> dict[str, Any] | None:
    row = store.db.execute(
        "SELECT product, description, sizetable, data FROM variations WHERE id=?", (vid,)
    ).fetchone()
    if row is None:
        return None
    return {"product": row[0], "description": row[1] or "", "sizetable": row[2], "data": row[3]}


def stock_of(store: Store, vid: str, sid: str) -> list[tuple[str, int]]:
    """(warehouse, free to allocate) for one size, most stock first."""
    return [
        (r[0], r[1])
        for r in store.db.execute(
            "SELECT warehouse, qty FROM stock WHERE variation=? AND size=? "
            "ORDER BY qty DESC, warehouse",
            (vid, sid),
        )
    ]


def add_stock(store: Store, vid: str, sid: str, warehouse: str, delta: int) -> None:
    store.db.execute(
        "INSERT INTO stock (variation, size, warehouse, qty) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(variation, size, warehouse) DO UPDATE SET qty=qty+excluded.qty",
        (vid, sid, warehouse, delta),
    )
