"""The sandbox's state in SQLite (a file, or ``:memory:``).

One connection guarded by one lock: requests are applied one at a time, each inside one
transaction, so a request that fails validation leaves no trace. Simple objects (markets,
terms, accounts, pricelist headers...) are stored as documents (their XML children as pairs, in
JSON) and merged field by field on update; the catalogue (sizetables, products, variations,
sizes, stock), the products of each pricelist (``pricelists.py``) and the event queue have their
own tables for speed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pipeline.sandbox.soap import Pairs, mask_password

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conversion (
    type TEXT NOT NULL, ext_id TEXT NOT NULL, internal_id INTEGER NOT NULL, created TEXT,
    PRIMARY KEY (type, ext_id));
CREATE INDEX IF NOT EXISTS conversion_internal ON conversion (type, internal_id);
CREATE TABLE IF NOT EXISTS objects (
    type TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS pricelist_entries (
    pricelist TEXT NOT NULL, product TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (pricelist, product));
CREATE TABLE IF NOT EXISTS sizetables (
    id TEXT PRIMARY KEY, description TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sizes (
    sizetable TEXT NOT NULL, id TEXT NOT NULL, description TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (sizetable, id));
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS variations (
    id TEXT PRIMARY KEY, product TEXT NOT NULL, description TEXT, sizetable TEXT,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS variations_product ON variations (product, description);
CREATE TABLE IF NOT EXISTS items (
    variation TEXT NOT NULL, size TEXT NOT NULL, sku TEXT, ean TEXT, preorder TEXT,
    comment TEXT, description TEXT, PRIMARY KEY (variation, size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stock (
    variation TEXT NOT NULL, size TEXT NOT NULL, warehouse TEXT NOT NULL, qty INTEGER NOT NULL,
    cog TEXT, PRIMARY KEY (variation, size, warehouse)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL, type TEXT, market TEXT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (id TEXT PRIMARY KEY, order_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, entry TEXT, mission TEXT,
    date TEXT, market TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_type ON events (type, id);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, operation TEXT, status INTEGER,
    millis REAL, request TEXT, response TEXT);
"""

#: (table, column) added to the schema later: added to older database files when opened.
MIGRATIONS = (("items", "description"), ("stock", "cog"))

#: Longest request or response text kept in the request log (a 30,000-row import is MBs).
LOG_LIMIT = 100_000

_NUMERIC_ID = re.compile(r"[1-9][0-9]*")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def merge(old: Pairs, new: Pairs) -> Pairs:
    """Partial update of a document: fields in ``new`` replace or merge into ``old``.

    A leaf replaces the first leaf of that name. A container with an ``<id>`` merges into the
    container of that name with the same id (buyers, pricelist products...), or is appended;
    one without an id merges into the first of its name. An empty element that names a
    container (``<buyers/>``) leaves the container unchanged.

    Entries are found through indexes built once per call, so merging k products into a
    pricelist of n costs k + n, not k x n.
    """
    result: list[list[Any]] = [[n, v] for n, v in old]
    leaves: dict[str, list[Any]] = {}  # name -> first leaf entry
    empties: dict[str, list[list[Any]]] = {}  # name -> empty leaves a container may fill
    by_id: dict[tuple[str, str | None], list[Any]] = {}  # (name, id) -> first container entry
    for entry in result:
        name, value = entry
        if isinstance(value, str):
            leaves.setdefault(name, entry)
            if value == "":
                empties.setdefault(name, []).append(entry)
        else:
            by_id.setdefault((name, doc_id(value)), entry)
            by_id.setdefault((name, None), entry)  # the first container of that name
    for name, value in new:
        if isinstance(value, str):
            leaf = leaves.get(name)
            if leaf is not None:
                leaf[1] = value
            elif not (value == "" and (name, None) in by_id):
                entry = [name, value]
                result.append(entry)
                leaves[name] = entry
            continue
        key = doc_id(value)
        match = by_id.get((name, key))
        if match is None and empties.get(name):
            match = empties[name].pop(0)
            match[1] = []
            if leaves.get(name) is match:
                del leaves[name]
        if match is None:
            entry = [name, value]
            result.append(entry)
            by_id.setdefault((name, key), entry)
            by_id.setdefault((name, None), entry)
        else:
            match[1] = merge(match[1], value)
            by_id.setdefault((name, key), match)
            by_id.setdefault((name, None), match)
    return [(n, v) for n, v in result]


def remove_listed(doc: Pairs, container: str, item: str, removals: Any) -> Pairs:
    """``doc`` without the ``container/item`` entries a remove list names (by ``<id>``).

    ``removals`` is the remove list's content (``variationsremove``, ``categoriesremove``,
    ``marketsremove``: each ``item`` with an ``<id>``); ids that are not there are ignored, so
    a resent removal is a no-op.
    """
    ids = {doc_id(v) for n, v in removals or [] if n == item and isinstance(v, list)}
    ids.discard(None)
    if not ids:
        return doc
    out: Pairs = []
    for name, value in doc:
        if name == container and isinstance(value, list):
            value = [
                (n, v)
                for n, v in value
                if not (n == item and isinstance(v, list) and doc_id(v) in ids)
            ]
        out.append((name, value))
    return out


def without(doc: Pairs, *names: str) -> tuple[Pairs, dict[str, Any]]:
    """``doc`` without the fields ``names`` (e.g. remove lists), and those fields' values."""
    kept: Pairs = []
    taken: dict[str, Any] = {}
    for name, value in doc:
        if name in names:
            if isinstance(value, list):
                taken.setdefault(name, []).extend(value)
        else:
            kept.append((name, value))
    return kept, taken


#: The reference's typed fields (its WSDL placeholders ``int`` and ``boolean``; everything else
#: is ``string``), by (parent element, field).
FIELD_TYPES = {
    ("customer", "store"): "int",
    ("buyer", "store"): "int",
    ("order", "store"): "int",
    ("carrierinformation", "packages"): "int",
    ("variation", "productlimit"): "int",
    ("variation", "variationlimit"): "int",
    ("deliverywindow", "atonce"): "boolean",
    ("order", "internal"): "boolean",
}
_INT = re.compile(r"[+-]?[0-9]+")
#: An XML Schema boolean's literals (any case here); yes/no is not one.
BOOLEANS = ("true", "false", "1", "0")


def type_errors(label: str, parent: str, pairs: Pairs) -> list[str]:
    """A message for each typed field of ``pairs`` (at any depth) whose value is not its type.

    An empty element is allowed (it clears the field, as for any other field).
    """
    errors: list[str] = []
    for name, value in pairs:
        if isinstance(value, list):
            errors += type_errors(label, name, value)
            continue
        kind = FIELD_TYPES.get((parent, name))
        value = value.strip()
        if kind is None or value == "":
            continue
        if kind == "int" and not _INT.fullmatch(value):
            errors.append(f"{label}: {name} must be a whole number, not {value!r}")
        elif kind == "boolean" and value.lower() not in BOOLEANS:
            errors.append(f"{label}: {name} must be a boolean (true, false, 1 or 0), not {value!r}")
    return errors


def doc_id(pairs: Pairs) -> str | None:
    for name, value in pairs:
        if name == "id" and isinstance(value, str):
            return value
    return None


def doc_get(pairs: Pairs | None, *path: str) -> Any:
    """``doc_get(doc, "market", "id")``: the first value at that path, or None."""
    value: Any = pairs
    for name in path:
        if not isinstance(value, list):
            return None
        for n, v in value:
            if n == name:
                value = v
                break
        else:
            return None
    return value


def doc_all(pairs: Pairs | None, name: str) -> list[Any]:
    if not isinstance(pairs, list):
        return []
    return [v for n, v in pairs if n == name]


def load_pairs(text: str) -> Pairs:
    """A stored document (JSON) back to the (name, value) pairs the XML reader makes."""
    return [(n, _tuplify(v)) for n, v in json.loads(text)]


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return [(n, _tuplify(v)) for n, v in value]
    return value


class Store:
    """SQLite state. Use ``with store.transaction():`` around anything that writes."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MB: big imports stay in memory
        self.db.executescript(SCHEMA)
        # Columns added after a database file may have been created (issue #17).
        for table, column in MIGRATIONS:
            names = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in names:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        # Request-log rows wait here and are written 100 at a time (a commit per small
        # request would halve the request rate); reading the log writes them first.
        self._log: list[tuple[Any, ...]] = []

    def close(self) -> None:
        with self.lock:
            self.flush_log()
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    # -------------------------------------------------------------- counters and ids

    def next_number(self, name: str, at_least: int = 0) -> int:
        """The next value of a counter (orders, orderitems, shipments...), above ``at_least``."""
        row = self.db.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
        value = max((row[0] if row else 0) + 1, at_least)
        self.bump(name, value)
        return value

    def bump(self, name: str, value: int) -> None:
        self.db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value=max(value, excluded.value)",
            (name, value),
        )

    def convert(self, type_: str, ext_id: str) -> int:
        """The internal id of an external id (the ID conversion table), created when new.

        A numeric account id (digits, not starting with 0) is taken as the internal id, as the
        reference describes for accounts_Update.
        """
        row = self.db.execute(
            "SELECT internal_id FROM conversion WHERE type=? AND ext_id=?", (type_, ext_id)
        ).fetchone()
        if row:
            return int(row[0])
        internal = None
        if type_ in ("account", "order") and _NUMERIC_ID.fullmatch(ext_id):
            taken = self.db.execute(
                "SELECT 1 FROM conversion WHERE type=? AND internal_id=?", (type_, int(ext_id))
            ).fetchone()
            if not taken:
                internal = int(ext_id)
        if internal is None:
            top = self.db.execute(
                "SELECT max(internal_id) FROM conversion WHERE type=?", (type_,)
            ).fetchone()[0]
            internal = (top or 0) + 1
        self.db.execute(
            "INSERT INTO conversion (type, ext_id, internal_id, created) VALUES (?, ?, ?, ?)",
            (type_, ext_id, internal, now().isoformat()),
        )
        return internal

    def convert_many(self, type_: str, ext_ids: list[str]) -> None:
        """Conversion-table entries for many new objects at once (bulk imports)."""
        if not ext_ids:
            return
        top = self.db.execute(
            "SELECT max(internal_id) FROM conversion WHERE type=?", (type_,)
        ).fetchone()[0]
        created = now().isoformat()
        self.db.executemany(
            "INSERT OR IGNORE INTO conversion (type, ext_id, internal_id, created) "
            "VALUES (?, ?, ?, ?)",
            [(type_, ext, (top or 0) + n, created) for n, ext in enumerate(ext_ids, 1)],
        )

    # -------------------------------------------------------------- documents

    def get_doc(self, type_: str, id_: str) -> Pairs | None:
        row = self.db.execute(
            "SELECT data FROM objects WHERE type=? AND id=?", (type_, id_)
        ).fetchone()
        return load_pairs(row[0]) if row else None

    def put_doc(self, type_: str, id_: str, doc: Pairs) -> bool:
        """Merge ``doc`` into the stored document; True when the object was created."""
        old = self.get_doc(type_, id_)
        if old is None:
            self.convert(type_, id_)
            self.db.execute(
                "INSERT INTO objects (type, id, data) VALUES (?, ?, ?)",
                (type_, id_, json.dumps(merge([], doc))),
            )
            return True
        merged = merge(old, doc)
        if merged != old:
            self.db.execute(
                "UPDATE objects SET data=? WHERE type=? AND id=?",
                (json.dumps(merged), type_, id_),
            )
        return False

    def replace_doc(self, type_: str, id_: str, doc: Pairs) -> None:
        """Store ``doc`` as the whole document (after a merge the caller made, e.g. removals)."""
        if not self.has_doc(type_, id_):
            self.convert(type_, id_)
        self.db.execute(
            "INSERT INTO objects (type, id, data) VALUES (?, ?, ?) "
            "ON CONFLICT(type, id) DO UPDATE SET data=excluded.data",
            (type_, id_, json.dumps(doc)),
        )

    def docs(self, type_: str) -> list[tuple[str, Pairs]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT id, data FROM objects WHERE type=? ORDER BY rowid", (type_,)
            ).fetchall()
        return [(r[0], load_pairs(r[1])) for r in rows]

    def has_doc(self, type_: str, id_: str) -> bool:
        return bool(
            self.db.execute("SELECT 1 FROM objects WHERE type=? AND id=?", (type_, id_)).fetchone()
        )

    # -------------------------------------------------------------- orders

    def get_order(self, order_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM orders WHERE id=?", (order_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_order(self, order: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO orders (id, number, type, market, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data=excluded.data",
            (
                order["id"],
                order["number"],
                order["type"],
                order["market"]["id"],
                json.dumps(order),
            ),
        )

    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute("SELECT data FROM orders ORDER BY number").fetchall()
        return [json.loads(r[0]) for r in rows]

    # -------------------------------------------------------------- events

    def add_event(self, type_: str, entry: str, data_xml: str, market: str | None = None) -> int:
        date = now().strftime("%Y-%m-%d %H:%M:%S")
        cur = self.db.execute(
            "INSERT INTO events (type, entry, mission, date, market, data) "
            "VALUES (?, ?, 'update', ?, ?, ?)",
            (type_, entry, date, market, data_xml),
        )
        return int(cur.lastrowid or 0)

    def events(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, type, entry, mission, date, market, data FROM events ORDER BY id"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        keys = ("id", "type", "entry", "mission", "date", "market", "data")
        return [dict(zip(keys, row, strict=True)) for row in self.query(sql, params)]

    # -------------------------------------------------------------- request log

    def log_request(
        self, operation: str, status: int, millis: float, request: str, response: str
    ) -> None:
        row = (
            now().isoformat(),
            operation,
            status,
            round(millis, 3),
            mask_and_cut(request),
            response[:LOG_LIMIT],
        )
        with self.lock:
            self._log.append(row)
            if len(self._log) >= 100 and not self.db.in_transaction:
                self.flush_log()

    def flush_log(self) -> None:
        with self.lock:
            if not self._log or self.db.in_transaction:
                return
            with self.transaction():
                self.db.executemany(
                    "INSERT INTO requests (at, operation, status, millis, request, response) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    self._log,
                )
            self._log.clear()

    def requests(self, limit: int = 100) -> list[dict[str, Any]]:
        self.flush_log()
        rows = self.query(
            "SELECT id, at, operation, status, millis, request, response FROM requests "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        keys = ("id", "at", "operation", "status", "millis", "request", "response")
        return [dict(zip(keys, row, strict=True)) for row in reversed(rows)]

    def conversion(self) -> list[tuple[str, str, int]]:
        return [
            (r[0], r[1], r[2])
            for r in self.query(
                "SELECT type, ext_id, internal_id FROM conversion ORDER BY type, internal_id"
            )
        ]


_OPEN_PASSWORD = re.compile(r"<(?:[\w.-]+:)?password\b[^>/]*>")
_CLOSE_PASSWORD = re.compile(r"</(?:[\w.-]+:)?password\s*>")


def mask_and_cut(request: str) -> str:
    """The first LOG_LIMIT characters with every password masked, even one the cut splits."""
    text = mask_password(request[:LOG_LIMIT])
    last = None
    for last in _OPEN_PASSWORD.finditer(text):  # noqa: B007 (the last match is wanted)
        pass
    if last is not None and not _CLOSE_PASSWORD.search(text, last.end()):
        text = text[: last.end()] + "***"
    return text
