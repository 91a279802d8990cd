"""The fast path of an export: the rows of an object read straight from the namespaced event,
in one walk per element, with no namespace-stripped copy and no XPath engine.

:func:`compile_fast` turns a compiled :class:`~pipeline.outbox.export_mapping.ExportMapping`
into a :class:`FastExport` when every column is one of the shapes below (the default mappings
are), else None and the pull keeps the XPath path. Tags are matched by their local name, which
is what the XPath over the stripped copy sees. The shapes:

- plain child paths (``id``, ``../../id``, ``/order/shippingaddress/company``), single or joined
  (with or without ``item``); constants and computed values;
- ``/a/b[. != 'x']`` and ``/a/b[. = 'x']`` (a filter on the node's text);
- ``p * q`` of two plain paths;
- ``sum(/a/b[k/id = $v]/q)`` with ``$v`` a plain path from the row.

Numbers follow XPath 1.0; where the C library's arithmetic could differ from Python's (a number
with more than 15 digits, or one not exactly a binary fraction, a node with child elements)
:class:`Fallback` is raised and the caller extracts that object through the XPath path, so both
paths give byte-identical files (``tests/outbox/test_fast_export.py``).

Example::

    fast = compile_fast(mapping)
    obj, why = event_object(event.data, event.type)  # the <data> child named by the type
    try:
        rows = fast.extract(obj, lookup)
    except Fallback:
        rows = mapping.extract(strip_namespaces(obj), lookup)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from lxml import etree

from pipeline.outbox.export_mapping import (
    Column,
    ExportMapping,
    Lookup,
    _node_text,
)
from pipeline.outbox.values import Cell

Path = tuple[str, ...]
Trie = dict[str, "Trie"]
Found = dict[Path, list[etree._Element]]


class Fallback(Exception):
    """This object has a shape the fast path does not reproduce exactly: use the XPath path."""


_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    name = _LOCAL.get(tag)
    if name is None:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
    return name


def _walk(start: etree._Element | None, trie: Trie) -> Found:
    """Every path of ``trie`` from ``start``: its element children in document order."""
    found: Found = {}
    if start is None or not trie:
        return found  # (iterchildren() with no tag would give every child)
    level: list[tuple[Path, list[etree._Element], Trie]] = [((), [start], trie)]
    while level:
        deeper = []
        for prefix, nodes, sub in level:
            lists: dict[str, list[etree._Element]] = {name: [] for name in sub}
            wanted = [f"{{*}}{name}" for name in sub]  # any namespace or none, filtered in C
            for node in nodes:
                for child in node.iterchildren(*wanted):
                    tag = child.tag
                    lists[_LOCAL.get(tag) or local(tag)].append(child)
            for name, hit in lists.items():
                path = (*prefix, name)
                found[path] = hit
                if sub[name] and hit:
                    deeper.append((path, hit, sub[name]))
        level = deeper
    return found


def _add(trie: Trie, path: Path) -> None:
    for step in path:
        trie = trie.setdefault(step, {})


_STEP = r"[A-Za-z_][\w.-]*"
_PLAIN = re.compile(rf"(?P<abs>/{_STEP}/)?(?P<up>(?:\.\./)*)(?P<down>{_STEP}(?:/{_STEP})*)")
_FILTER = re.compile(r"(?P<path>[^\[\]]+)\[\s*\.\s*(?P<op>!=|=)\s*'(?P<literal>[^']*)'\s*\]")
_PRODUCT = re.compile(r"(?P<left>[^*\s]+)\s+\*\s+(?P<right>[^*\s]+)")
_SUM = re.compile(
    r"sum\((?P<path>[^$]+)\[\s*(?P<key>[^\[\]=\s]+)\s*=\s*\$(?P<var>\w+)\s*\]/(?P<tail>[^\[\]]+)\)"
)
_HOLDERS = re.compile(
    r"(?P<head>[^\[\]]+)\[\s*(?P<key>[^\[\]=\s]+)\s*=\s*'(?P<literal>[^']*)'\s*\]/(?P<rest>[^\[\]]+)"
)
_NUMBER = re.compile(r"[ \t\r\n]*(-?(?:\d+(?:\.\d*)?|\.\d+))[ \t\r\n]*")


class _Plain:
    """A plain path: (root name or None, ups, steps)."""

    def __init__(self, root: str | None, ups: int, steps: Path) -> None:
        self.root, self.ups, self.steps = root, ups, steps


def _plain(text: str) -> _Plain | None:
    match = _PLAIN.fullmatch(text.strip())
    if match is None or (match["abs"] and match["up"]):
        return None
    steps = tuple(match["down"].split("/"))
    if match["abs"]:
        return _Plain(match["abs"].strip("/"), 0, steps)
    return _Plain(None, match["up"].count(".."), steps)


def _below(text: str) -> tuple[Path, Trie]:
    """A plain path down from a node (no ``..``, not absolute), and its trie."""
    plain = _plain(text)
    if plain is None or plain.root is not None or plain.ups:
        raise ValueError(text)
    trie: Trie = {}
    _add(trie, plain.steps)
    return plain.steps, trie


def _string_value(node: etree._Element) -> str:
    if len(node):
        raise Fallback("a node with children")
    return node.text or ""


def _number(text: str) -> float:
    """XPath's number() of a string, where Python computes the same double."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        if any(c.isdigit() for c in text):
            raise Fallback(f"number {text!r}")
        return math.nan
    literal = match[1]
    value = float(literal)
    if len(literal.replace("-", "").replace(".", "").lstrip("0")) > 15 or Decimal(value) != Decimal(
        literal
    ):
        raise Fallback(f"number {text!r}")
    return value


class _Object:
    """One object being extracted: the nodes of every absolute path, found in one walk."""

    __slots__ = ("found", "lookup", "memo", "obj")

    def __init__(self, obj: etree._Element, found: Found, lookup: Lookup) -> None:
        self.obj, self.found, self.lookup = obj, found, lookup
        self.memo: dict[object, Any] = {}


class _Row:
    __slots__ = ("element", "found", "line", "size")

    def __init__(self, element: etree._Element, found: dict[int, Found]) -> None:
        self.element, self.found = element, found
        self.line: Any = None  # (line, the first child of each name), once looked up
        self.size: Any = False


ObjectGetter = Callable[[_Object], Cell]
RowGetter = Callable[[_Object, _Row], Cell]


def _first(nodes: list[etree._Element] | None) -> str:
    return (nodes[0].text or "").strip() if nodes else ""


def _up(element: etree._Element, obj: etree._Element, ups: int) -> etree._Element | None:
    for _ in range(ups):
        if element is obj:
            return None
        element = element.getparent()
    return element


def _ancestor(element: etree._Element, obj: etree._Element, name: str) -> etree._Element | None:
    node: etree._Element | None = element
    while node is not None:
        if local(node.tag) == name:
            return node
        if node is obj:
            return None
        node = node.getparent()
    return None


def _child(element: etree._Element | None, *names: str) -> etree._Element | None:
    for name in names:
        if element is None:
            return None
        element = next(element.iterchildren(f"{{*}}{name}"), None)
    return element


def _index(element: etree._Element | None) -> dict[str, etree._Element]:
    """The first child of each local name."""
    index: dict[str, etree._Element] = {}
    if element is not None:
        for c in element.iterchildren(etree.Element):
            tag = c.tag
            index.setdefault(_LOCAL.get(tag) or local(tag), c)
    return index


def child_text(element: etree._Element | None, *names: str) -> str:
    found = _child(element, *names)
    return "" if found is None else (found.text or "").strip()


class _ChildTexts(dict[str, str]):
    def __init__(self, node: etree._Element) -> None:
        super().__init__()
        self.node = node

    def __missing__(self, key: str) -> str:
        return child_text(self.node, key)


class FastExport:
    """An export mapping compiled to one walk per element; ``extract`` as the mapping's."""

    def __init__(self, mapping: ExportMapping) -> None:
        self.mapping = mapping
        self.root: str | None = None  # every absolute path starts at this name
        self.abs_trie: Trie = {}
        self.rel_tries: dict[int, Trie] = {}
        self.rows: Path | None = None
        self.object_getters: list[tuple[int, ObjectGetter]] = []
        self.row_getters: list[tuple[int, RowGetter]] = []
        self.width = len(mapping.columns)
        self.key: Path | None = None
        self._key_trie: Trie = {}
        self._rows_trie: Trie = {}

    # -- compiling ----------------------------------------------------------------------

    def _abs(self, plain: _Plain) -> Path:
        if self.root not in (None, plain.root):
            raise ValueError("two roots")
        self.root = plain.root
        _add(self.abs_trie, plain.steps)
        return plain.steps

    def _rel(self, plain: _Plain) -> tuple[int, Path]:
        _add(self.rel_tries.setdefault(plain.ups, {}), plain.steps)
        return plain.ups, plain.steps

    def _nodes_getter(self, text: str) -> tuple[bool, Callable[..., list[etree._Element]]]:
        """(absolute, a function giving the path's nodes) for a plain or filtered path."""
        filtered = _FILTER.fullmatch(text.strip())
        if filtered is not None:
            absolute, inner = self._nodes_getter(filtered["path"])
            literal, equal = filtered["literal"], filtered["op"] == "="

            def keep(*args: Any) -> list[etree._Element]:
                return [n for n in inner(*args) if (_string_value(n) == literal) == equal]

            return absolute, keep
        plain = _plain(text)
        if plain is None:
            raise ValueError(text)
        if plain.root is not None:
            path = self._abs(plain)
            return True, lambda o: o.found.get(path, [])
        ups, steps = self._rel(plain)
        return False, lambda o, r: r.found[ups].get(steps, [])

    def _column(self, i: int, column: Column) -> None:
        spec = column.spec
        if spec is None:
            raise ValueError("no spec")
        fmt = spec.fmt
        if spec.constant is not None:
            value = Cell(spec.constant)
            self.object_getters.append((i, lambda o: value))
            return
        if spec.computed is not None:
            if spec.computed in _COMPUTED:
                self.row_getters.append((i, _COMPUTED[spec.computed]))
            elif spec.computed == "object_id":
                self.object_getters.append((i, lambda o: Cell(child_text(o.obj, "id"))))
            # volatile ones stay None
            return
        assert spec.path is not None
        text = spec.path.strip()
        if spec.variables:
            self.row_getters.append((i, self._sum(text, spec.variables, fmt)))
            return
        product = _PRODUCT.fullmatch(text)
        if product is not None and spec.join is None and not text.startswith("/"):
            left = self._number_getter(product["left"])
            right = self._number_getter(product["right"])
            self.row_getters.append((i, lambda o, r: fmt(_node_text(left(o, r) * right(o, r)))))
            return
        absolute, nodes = self._nodes_getter(text)
        if absolute != text.startswith("/"):
            raise ValueError(text)  # the XPath path evaluates it from the object or the row
        getter: Callable[..., Cell]
        if spec.join is None:

            def getter(*args: Any) -> Cell:
                return fmt(_first(nodes(*args)))

        else:
            separator, item = spec.join, spec.item

            def getter(*args: Any) -> Cell:
                parts: list[str]
                if item is None:
                    parts = [fmt((n.text or "").strip()) for n in nodes(*args)]
                else:
                    parts = [item.format_map(_ChildTexts(n)) for n in nodes(*args)]
                return Cell(separator.join(parts))

        if absolute:
            self.object_getters.append((i, getter))
        else:
            self.row_getters.append((i, getter))

    def _number_getter(self, text: str) -> Callable[[_Object, _Row], float]:
        absolute, nodes = self._nodes_getter(text)
        if "[" in text:
            raise ValueError(text)

        def number(o: _Object, r: _Row) -> float:
            found = nodes(o) if absolute else nodes(o, r)
            return _number(_string_value(found[0])) if found else math.nan

        return number

    def _sum(self, text: str, variables: tuple[tuple[str, str], ...], fmt: Any) -> RowGetter:
        match = _SUM.fullmatch(text)
        if match is None or len(variables) != 1 or variables[0][0] != match["var"]:
            raise ValueError(text)
        holders = self._holders(match["path"])
        var = _plain(variables[0][1])
        if var is None or var.root:
            raise ValueError(text)
        key, key_trie = _below(match["key"])
        tail, tail_trie = _below(match["tail"])
        var_ups, var_steps = self._rel(var)
        slot = object()  # this column's key in the object's memo

        def index(o: _Object) -> list[tuple[set[str], list[float]]]:
            found = o.memo.get(slot)
            if found is None:
                found = o.memo[slot] = [
                    (
                        {_string_value(k) for k in _walk(h, key_trie).get(key, [])},
                        [_number(_string_value(q)) for q in _walk(h, tail_trie).get(tail, [])],
                    )
                    for h in holders(o)
                ]
            return found

        def get(o: _Object, r: _Row) -> Cell:
            value = _first(r.found[var_ups].get(var_steps))
            total = 0.0
            for keys, numbers in index(o):
                if value in keys:
                    for n in numbers:
                        total += n
            return fmt(_node_text(total))

        return get

    def _holders(self, text: str) -> Callable[[_Object], list[etree._Element]]:
        """``/a/b`` or ``/a/b[c = 'x']/d``: the nodes, from the object's absolute paths."""
        match = _HOLDERS.fullmatch(text)
        if match is None:
            plain = _plain(text)
            if plain is None or plain.root is None:
                raise ValueError(text)
            path = self._abs(plain)
            return lambda o: o.found.get(path, [])
        head = _plain(match["head"])
        if head is None or head.root is None:
            raise ValueError(text)
        path = self._abs(head)
        key, key_trie = _below(match["key"])
        rest, rest_trie = _below(match["rest"])
        literal = match["literal"]

        def holders(o: _Object) -> list[etree._Element]:
            found = []
            for node in o.found.get(path, []):
                if any(_string_value(k) == literal for k in _walk(node, key_trie).get(key, [])):
                    found.extend(_walk(node, rest_trie).get(rest, []))
            return found

        return holders

    # -- extracting ---------------------------------------------------------------------

    def object_id(self, obj: etree._Element, fallback: str = "") -> str:
        assert self.key is not None
        if len(self.key) == 1:  # the first such child is the first node in document order
            return child_text(obj, self.key[0]) or fallback
        return _first(_walk(obj, self._key_trie).get(self.key)) or fallback

    def extract(self, obj: etree._Element, lookup: Lookup) -> list[list[Cell | None]]:
        """As ``ExportMapping.extract`` on the stripped copy; raises Fallback on odd shapes."""
        if self.root is None or local(obj.tag) == self.root:
            o = _Object(obj, _walk(obj, self.abs_trie), lookup)  # holds the rows' path too
            found = o.found
        else:
            o = _Object(obj, {}, lookup)  # the absolute paths find nothing
            found = _walk(obj, self._rows_trie)
        elements = [obj] if self.rows is None else found.get(self.rows) or [obj]
        fixed: list[Cell | None] = [None] * self.width
        for i, get in self.object_getters:
            fixed[i] = get(o)
        tries = self.rel_tries.items()
        rows: list[list[Cell | None]] = []
        for element in elements:
            r = _Row(element, {ups: _walk(_up(element, obj, ups), t) for ups, t in tries})
            row = fixed.copy()
            for i, getr in self.row_getters:
                row[i] = getr(o, r)
            rows.append(row)
        return rows


def _line(o: _Object, r: _Row) -> tuple[etree._Element | None, dict[str, etree._Element]]:
    if r.line is None:
        line = _ancestor(r.element, o.obj, "product")
        r.line = (line, _index(line))
    return r.line


def _line_text(o: _Object, r: _Row, name: str, *names: str) -> str:
    return child_text(_line(o, r)[1].get(name), *names)


def _catalogue(o: _Object, r: _Row) -> tuple[str | None, str | None] | None:
    if r.size is False:
        r.size = _ancestor(r.element, o.obj, "size")
    if _line(o, r)[0] is None or r.size is None:
        return None
    return o.lookup(
        _line_text(o, r, "id"), _line_text(o, r, "variation", "id"), child_text(r.size, "id")
    )


def _bundle_parent(o: _Object, r: _Row) -> Cell:
    return Cell(_line_text(o, r, "bundleinfo", "partof", "product", "id"))


def _bundle_role(o: _Object, r: _Row) -> Cell:
    flag = _line_text(o, r, "bundleinfo", "isbundle").lower()
    if flag in ("true", "yes", "1"):
        return Cell("bundle")
    if flag and _bundle_parent(o, r):
        return Cell("part")
    return Cell("none")


def _full_sku(o: _Object, r: _Row) -> Cell:
    found = _catalogue(o, r)
    return Cell((found[0] if found else None) or "")


def _ean(o: _Object, r: _Row) -> Cell:
    found = _catalogue(o, r)
    return Cell((found[1] if found else None) or "")


_COMPUTED: dict[str, RowGetter] = {
    "bundle_role": _bundle_role,
    "bundle_parent": _bundle_parent,
    "full_sku": _full_sku,
    "ean": _ean,
}


def compile_fast(mapping: ExportMapping) -> FastExport | None:
    """The fast path of ``mapping``, or None when a column has a shape it does not know."""
    fast = FastExport(mapping)
    try:
        for i, column in enumerate(mapping.columns):
            fast._column(i, column)
        key = _plain(mapping.key.path)
        if key is None or key.root is not None or key.ups:
            return None
        fast.key = key.steps
        _add(fast._key_trie, key.steps)
        if mapping.rows_path is not None:
            rows = _plain(mapping.rows_path.path)
            if rows is None or rows.root is not None or rows.ups:
                return None
            fast.rows = rows.steps
            _add(fast._rows_trie, rows.steps)
            _add(fast.abs_trie, rows.steps)
    except ValueError:
        return None
    return fast
