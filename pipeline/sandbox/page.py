"""The read-only page at ``/``: what Centra's admin shows for the SOAP module (request log,
event queue, conversion table) plus products with stock and orders. Everything is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.sandbox.api import Sandbox

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
pre { max-width: 60rem; max-height: 12rem; overflow: auto; margin: 0; font-size: 0.8rem; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], pre: Sequence[int] = ()) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = escape("" if value is None else str(value))
            cells.append(f"<td><pre>{text}</pre></td>" if i in pre else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render(sandbox: Sandbox) -> str:
    store = sandbox.store
    requests = sandbox.requests(50)
    events = store.events(limit=200)
    stock = store.query(
        "SELECT v.product, s.variation, s.size, s.warehouse, s.qty FROM stock s "
        "JOIN variations v ON v.id = s.variation ORDER BY v.product, s.variation, s.size, "
        "s.warehouse LIMIT 1000"
    )
    products = store.query(
        "SELECT p.id, count(v.id) FROM products p LEFT JOIN variations v ON v.product = p.id "
        "GROUP BY p.id ORDER BY p.rowid LIMIT 1000"
    )
    orders = sandbox.store.orders()
    order_rows = [
        (
            o["id"],
            o["type"],
            o["market"]["id"],
            o["status"],
            "yes" if o["locked"] else "no",
            sum(i["qty"] - i["cancelled"] for i in o["items"]),
            len(o["shipments"]),
            sum(len(s["refunds"]) for s in o["shipments"]),
        )
        for o in orders
    ]
    sections = [
        ("Request log (last 50, passwords masked)",
         _table(["#", "at", "operation", "HTTP", "ms", "request", "response"],
                [tuple(r.values()) for r in requests], pre=(5, 6))),
        (f"Event queue ({len(events)} shown)",
         _table(["id", "type", "entry", "mission", "date", "market", "data"],
                [tuple(e.values()) for e in events], pre=(6,))),
        ("ID conversion table", _table(["type", "your id", "Centra id"], store.conversion())),
        ("Products", _table(["product", "variations"], products)),
        ("Stock (free to allocate)",
         _table(["product", "variation", "size", "warehouse", "qty"], stock)),
        ("Orders",
         _table(["id", "type", "market", "status", "locked", "qty", "shipments", "refunds"],
                order_rows)),
    ]  # fmt: skip
    body = "".join(f"<h2>{escape(title)}</h2>{html}" for title, html in sections)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<title>Centra sandbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Centra sandbox</h1><p>SOAP endpoint: <code>{escape(sandbox.url)}</code> "
        f"(<a href='{escape(sandbox.url)}?wsdl'>WSDL</a>). Read-only.</p>"
        f"{body}</body></html>"
    )
