"""The fastest path of an export: every cell of an object read by one XSLT run inside lxml's C
code, so no Python object is built per element visited.

:func:`compile_xslt` turns an export mapping whose columns :mod:`pipeline.outbox.fast_export`
understands into a stylesheet per namespace of the objects it meets (``c:id`` name tests are
fast; ``local-name()`` tests are not). The stylesheet evaluates each column's own XPath (with
the namespace added) and prints the raw text of every cell, separated by private-use
characters; Python only splits, strips and formats. What the C code cannot reproduce exactly
raises :class:`~pipeline.outbox.fast_export.Fallback` and the caller uses the fast path:

- an element of another namespace anywhere in the object (the XPath path strips them all);
- a separator character in the object's text;
- a sum that is not a whole number of at most 9 digits (libxml2 prints other numbers unlike
  Python), or a sum key with spaces around it; a product :func:`fast_export._number` refuses.

A cell's text is the element's ``.text`` (its first child node when that is text), stripped,
as on the other paths (``tests/outbox/test_fast_export.py`` compares all three).

Example::

    export = compile_xslt(mapping)
    obj, why = event_object(event.data, event.type)  # the <data> child named by the type
    try:
        rows = export.extract(obj, lookup)
    except Fallback:
        rows = compile_fast(mapping).extract(obj, lookup)
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from xml.sax.saxutils import quoteattr

from lxml import etree

from pipeline.outbox.export_mapping import Column, ExportMapping, Lookup, _node_text
from pipeline.outbox.fast_export import (
    _FILTER,
    _HOLDERS,
    _PRODUCT,
    _SUM,
    Fallback,
    _number,
    _Plain,
    _plain,
)
from pipeline.outbox.values import Cell

FIELD, JOIN, ITEM, ROW = "\ue000", "\ue001", "\ue002", "\ue003"
_SEPARATORS = FIELD + JOIN + ITEM + ROW
_WHOLE = re.compile(r"-?\d{1,9}")
_ACCESS = etree.XSLTAccessControl.DENY_ALL
_MEMO_LIMIT = 4096

Fields = list[str]
#: Finishes one cell from the printed fields of its object (header) or row.
Finish = Callable[[Fields, Lookup], "Cell | None"]


def _text(expr: str, *, first: bool = False) -> str:
    """XPath for the ``.text`` of the first node of ``expr`` (``first``: it finds one at most,
    which spares the engine a node-set)."""
    if first:
        return f"string({expr}/node()[1][self::text()])"
    return f"string(({expr})[1]/node()[1][self::text()])"


class _Memo(dict[str, Cell]):
    """A column's format of raw (unstripped) texts, remembered: numbers, dates and flags
    repeat and cost a parse each."""

    def __init__(self, fmt: Callable[[str], Cell]) -> None:
        super().__init__()
        self.fmt = fmt

    def __missing__(self, text: str) -> Cell:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        found = self[text] = self.fmt(text)
        return found


class _Level:
    """The XSLT of one level (the object or a row): variables, then the printed fields."""

    def __init__(self, prefix: str, name: str, top: _Level | None = None) -> None:
        self.p, self.name, self.top = prefix, name, top
        self.variables: dict[str, str] = {}  # expression -> variable name
        self.body: list[str] = []
        self.count = 0  # fields printed
        self.printed: dict[str, int] = {}  # select -> its field

    def var(self, expr: str) -> str:
        if expr not in self.variables:
            self.variables[expr] = f"{self.name}{len(self.variables)}"
        return "$" + self.variables[expr]

    def steps(self, steps: tuple[str, ...]) -> str:
        return "/".join(self.p + s for s in steps)

    def chain(self, *names: str) -> str:
        """The first child of each name in turn (``child_text``), not XPath's first of all."""
        return "/".join(f"{self.p}{n}[1]" for n in names)

    def path(self, plain: _Plain) -> str:
        """A plain path as XPath, its parent steps in a variable (shared by the columns)."""
        if plain.root is not None and self.top is not None:
            return self.top.path(plain)  # declared once per object
        if plain.root is not None:
            parent = "/" + self.p + plain.root
            if plain.steps[:-1]:
                parent += "/" + self.steps(plain.steps[:-1])
        elif plain.ups or len(plain.steps) > 1:
            parent = "/".join([".."] * plain.ups + [self.p + s for s in plain.steps[:-1]])
        else:
            return self.p + plain.steps[0]
        return f"{self.var(parent)}/{self.p}{plain.steps[-1]}"

    def text(self, plain: _Plain) -> str:
        """XPath for the ``.text`` of the path's first node in document order."""
        if len(plain.steps) == 1:
            # one parent (the context, an ancestor or the root): its first such child
            return _text(f"{self.path(plain)}[1]", first=True)
        return _text(self.path(plain))

    def print(self, select: str) -> int:
        """Print ``select`` once (columns that read the same text share the field)."""
        if select not in self.printed:
            self.printed[select] = self.raw(f"<xsl:value-of select={quoteattr(select)}/>")
        return self.printed[select]

    def raw(self, xslt: str) -> int:
        self.body.append(f"{xslt}<xsl:text>{FIELD}</xsl:text>")
        self.count += 1
        return self.count - 1

    def xslt(self) -> str:
        names = [
            f"<xsl:variable name={quoteattr(name)} select={quoteattr(expr)}/>"
            for expr, name in self.variables.items()
        ]
        return "".join(names) + "".join(self.body)


class XsltExport:
    """An export mapping run as one stylesheet per object; ``extract`` as the mapping's."""

    def __init__(self, mapping: ExportMapping, rows: tuple[str, ...] | None) -> None:
        self.mapping = mapping
        self.rows = rows
        self.width = len(mapping.columns)
        self._sheets: dict[str, etree.XSLT | None] = {}
        # (column index, finish) per level; filled again for each namespace, identically
        self.object_cells: list[tuple[int, Finish]] = []
        self.row_cells: list[tuple[int, Finish]] = []
        self.constants: list[tuple[int, Cell]] = []
        # single paths, the bulk of the columns: (column index, field) for plain text, and
        # (column index, field, formatted texts) for the other formats
        self.object_text: list[tuple[int, int]] = []
        self.row_text: list[tuple[int, int]] = []
        self.object_simple: list[tuple[int, int, _Memo]] = []
        self.row_simple: list[tuple[int, int, _Memo]] = []

    # -- compiling ----------------------------------------------------------------------

    def _compile(self, namespace: str) -> str:
        """The stylesheet for objects whose every element is in ``namespace`` ("": none).
        It also sets the finishers, whose layout does not depend on the namespace."""
        prefix = "c:" if namespace else ""
        top = _Level(prefix, "o")
        row = _Level(prefix, "r", top)
        self.object_cells, self.row_cells, self.constants = [], [], []
        self.object_simple, self.row_simple = [], []
        self.object_text, self.row_text = [], []
        for i, column in enumerate(self.mapping.columns):
            self._column(i, column, top, row)
        p = prefix
        rows = "/".join(p + s for s in self.rows) if self.rows is not None else None
        check = (
            f"count(descendant-or-self::*) != count(descendant-or-self::{p}*)"
            if p
            else "boolean(descendant-or-self::*[namespace-uri() != ''])"
        )
        separators = " or ".join(f"contains($all, '{c}')" for c in _SEPARATORS)
        one = f"<xsl:text>{ROW}</xsl:text>{row.xslt()}"  # inline: it sees the object's variables
        each_row = (
            f"<xsl:variable name='rows' select={quoteattr(rows)}/>"
            f"<xsl:choose><xsl:when test='$rows'><xsl:for-each select='$rows'>{one}"
            f"</xsl:for-each></xsl:when><xsl:otherwise>{one}</xsl:otherwise></xsl:choose>"
            if rows is not None
            else one
        )
        return (
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"'
            + (f" xmlns:c={quoteattr(namespace)}" if namespace else "")
            + ">"
            '<xsl:output method="text" encoding="utf-8"/>'
            "<xsl:template match='/'><xsl:for-each select='*'>"
            "<xsl:variable name='all' select='string(.)'/>"
            f"<xsl:choose><xsl:when test={quoteattr(check)}>!</xsl:when>"
            f"<xsl:when test={quoteattr(separators)}>!</xsl:when>"
            f"<xsl:otherwise><xsl:text>{FIELD}</xsl:text>{top.xslt()}{each_row}"
            "</xsl:otherwise></xsl:choose></xsl:for-each></xsl:template></xsl:stylesheet>"
        )

    def _column(self, i: int, column: Column, top: _Level, row: _Level) -> None:
        spec = column.spec
        if spec is None:
            raise ValueError("no spec")
        if spec.constant is not None:
            self.constants.append((i, Cell(spec.constant)))
            return
        if spec.computed is not None:
            if spec.computed == "object_id":
                at = top.print(_text(f"{top.p}id[1]", first=True))
                self.object_cells.append((i, lambda f, lookup: Cell(f[at].strip())))
            elif spec.computed in ("bundle_role", "bundle_parent"):
                self.row_cells.append((i, self._bundle(row, spec.computed)))
            elif spec.computed in ("full_sku", "ean"):
                self.row_cells.append((i, self._catalogue(row, spec.computed == "ean")))
            return  # volatile ones stay None
        assert spec.path is not None
        text = spec.path.strip()
        fmt = _Memo(lambda text: spec.fmt(text.strip()))
        if spec.variables:
            self.row_cells.append((i, self._sum(row, text, spec.variables, spec.fmt)))
            return
        product = _PRODUCT.fullmatch(text)
        if product is not None and spec.join is None and not text.startswith("/"):
            left, right = _plain(product["left"]), _plain(product["right"])
            if left is None or right is None:
                raise ValueError(text)
            a = row.print(f"string(({row.path(left)})[1])")  # number() reads string-values
            b = row.print(f"string(({row.path(right)})[1])")
            self.row_cells.append((i, _product(a, b, spec.fmt)))
            return
        level = top if text.startswith("/") else row
        nodes = self._nodes(level, text)
        plain = _plain(text)
        if spec.join is None:
            at = level.print(_text(nodes) if plain is None else level.text(plain))
            if spec.fmt is Cell:  # plain text: nothing to remember
                (self.object_text if level is top else self.row_text).append((i, at))
            else:
                (self.object_simple if level is top else self.row_simple).append((i, at, fmt))
            return
        finish: Finish
        if spec.item is None:
            at = level.raw(
                f"<xsl:for-each select={quoteattr(nodes)}>"
                f"<xsl:value-of select={quoteattr(_text('.', first=True))}/>"
                f"<xsl:text>{JOIN}</xsl:text>"
                "</xsl:for-each>"
            )
            finish = _joined(at, spec.join, fmt)
        else:
            names = _item_names(spec.item)
            parts = "".join(
                f"<xsl:value-of select={quoteattr(_text(f'{level.p}{n}[1]', first=True))}/>"
                f"<xsl:text>{ITEM}</xsl:text>"
                for n in names
            )
            at = level.raw(
                f"<xsl:for-each select={quoteattr(nodes)}>{parts}<xsl:text>{JOIN}</xsl:text>"
                "</xsl:for-each>"
            )
            finish = _items(at, spec.join, spec.item, names)
        (self.object_cells if level is top else self.row_cells).append((i, finish))

    def _nodes(self, level: _Level, text: str) -> str:
        """A plain or filtered path as XPath (``/a/b[. != 'x']``: XPath compares the same)."""
        filtered = _FILTER.fullmatch(text)
        if filtered is not None:
            literal = filtered["literal"]
            return f"{self._nodes(level, filtered['path'])}[. {filtered['op']} '{literal}']"
        plain = _plain(text)
        if plain is None or (plain.root is not None) != text.strip().startswith("/"):
            raise ValueError(text)
        return level.path(plain)

    def _below(self, level: _Level, text: str) -> str:
        plain = _plain(text)
        if plain is None or plain.root is not None or plain.ups:
            raise ValueError(text)
        return level.steps(plain.steps)

    def _sum(
        self,
        row: _Level,
        text: str,
        variables: tuple[tuple[str, str], ...],
        fmt: Callable[[str], Cell],
    ) -> Finish:
        match = _SUM.fullmatch(text)
        if match is None or len(variables) != 1 or variables[0][0] != match["var"]:
            raise ValueError(text)
        var = _plain(variables[0][1])
        if var is None or var.root is not None:
            raise ValueError(text)
        holders = _HOLDERS.fullmatch(match["path"])
        if holders is None:
            head = _plain(match["path"])
            if head is None or head.root is None:
                raise ValueError(text)
            path = row.path(head)
        else:
            head = _plain(holders["head"])
            if head is None or head.root is None:
                raise ValueError(text)
            key = self._below(row, holders["key"])
            path = f"{row.path(head)}[{key} = '{holders['literal']}']/"
            path += self._below(row, holders["rest"])
        name = row.var(_text(row.path(var)))
        at = row.print(name)
        sums = row.print(
            f"sum({path}[{self._below(row, match['key'])} = {name}]/"
            f"{self._below(row, match['tail'])})"
        )
        cache: dict[str, Cell] = {}

        def finish(f: Fields, lookup: Lookup) -> Cell:
            value, total = f[at], f[sums]
            if value != value.strip() or not _WHOLE.fullmatch(total):
                raise Fallback(f"sum {total!r} of {value!r}")
            found = cache.get(total)
            if found is None:
                if len(cache) > _MEMO_LIMIT:
                    cache.clear()
                found = cache[total] = fmt(str(int(total)))
            return found

        return finish

    def _bundle(self, row: _Level, which: str) -> Finish:
        line = row.var(f"ancestor-or-self::{row.p}product[1]")
        flag = row.print(_text(f"{line}/{row.chain('bundleinfo', 'isbundle')}", first=True))
        parent = row.print(
            _text(f"{line}/{row.chain('bundleinfo', 'partof', 'product', 'id')}", first=True)
        )
        if which == "bundle_parent":
            return lambda f, lookup: Cell(f[parent].strip())

        def role(f: Fields, lookup: Lookup) -> Cell:
            found = f[flag].strip().lower()
            if found in ("true", "yes", "1"):
                return Cell("bundle")
            if found and f[parent].strip():
                return Cell("part")
            return Cell("none")

        return role

    def _catalogue(self, row: _Level, ean: bool) -> Finish:
        line = row.var(f"ancestor-or-self::{row.p}product[1]")
        size = row.var(f"ancestor-or-self::{row.p}size[1]")
        both = row.print(f"boolean({line}) and boolean({size})")
        product = row.print(_text(f"{line}/{row.chain('id')}", first=True))
        variation = row.print(_text(f"{line}/{row.chain('variation', 'id')}", first=True))
        size_id = row.print(_text(f"{size}/{row.chain('id')}", first=True))

        def finish(f: Fields, lookup: Lookup) -> Cell:
            if f[both] != "true":
                return Cell("")
            found = lookup(f[product].strip(), f[variation].strip(), f[size_id].strip())
            return Cell((found[ean] if found else None) or "")

        return finish

    # -- extracting ---------------------------------------------------------------------

    def _sheet(self, namespace: str) -> etree.XSLT | None:
        """The stylesheet for ``namespace``; None for one it cannot be written for."""
        if namespace not in self._sheets:
            try:
                root = etree.fromstring(self._compile(namespace))
                self._sheets[namespace] = etree.XSLT(root, access_control=_ACCESS)
            except (etree.XMLSyntaxError, etree.XSLTParseError):
                self._sheets[namespace] = None
        return self._sheets[namespace]

    def extract(self, obj: etree._Element, lookup: Lookup) -> list[list[Cell | None]]:
        """As ``ExportMapping.extract`` on the stripped copy; raises Fallback on odd shapes."""
        tag = obj.tag
        namespace = tag[1:].partition("}")[0] if tag[:1] == "{" else ""
        sheet = self._sheet(namespace)
        if sheet is None:
            raise Fallback(f"no stylesheet for the namespace {namespace!r}")
        try:
            out = str(sheet(obj))
        except etree.XSLTApplyError as exc:
            raise Fallback(f"the stylesheet failed: {exc}") from exc
        if out[:1] != FIELD:
            raise Fallback("another namespace or a separator character in the object")
        head, *lines = out[1:].split(ROW)
        fields = head.split(FIELD)
        fixed: list[Cell | None] = [None] * self.width
        for i, value in self.constants:
            fixed[i] = value
        for i, at in self.object_text:
            fixed[i] = Cell(fields[at].strip())
        for i, at, memo in self.object_simple:
            fixed[i] = memo[fields[at]]
        for i, finish in self.object_cells:
            fixed[i] = finish(fields, lookup)
        rows = []
        row_text, row_simple, row_cells = self.row_text, self.row_simple, self.row_cells
        for line in lines:
            f = line.split(FIELD)
            row = fixed.copy()
            for i, at in row_text:
                row[i] = Cell(f[at].strip())
            for i, at, memo in row_simple:
                row[i] = memo[f[at]]
            for i, finish in row_cells:
                row[i] = finish(f, lookup)
            rows.append(row)
        return rows


def _joined(at: int, separator: str, fmt: _Memo) -> Finish:
    def finish(f: Fields, lookup: Lookup) -> Cell:
        return Cell(separator.join([fmt[part] for part in f[at].split(JOIN)[:-1]]))

    return finish


def _items(at: int, separator: str, item: str, names: list[str]) -> Finish:
    def joined(raw: str) -> Cell:
        parts = []
        for node in raw.split(JOIN)[:-1]:
            texts = [t.strip() for t in node.split(ITEM)]
            parts.append(item.format_map(dict(zip(names, texts, strict=False))))
        return Cell(separator.join(parts))

    memo = _Memo(joined)  # a line's warehouses, usually one of a few
    return lambda f, lookup: memo[f[at]]


def _product(a: int, b: int, fmt: Callable[[str], Cell]) -> Finish:
    cache: dict[tuple[str, str], Cell] = {}

    def finish(f: Fields, lookup: Lookup) -> Cell:
        key = (f[a], f[b])
        found = cache.get(key)
        if found is None:
            left, right = _number(key[0]), _number(key[1])
            value = left * right
            if len(cache) > _MEMO_LIMIT:
                cache.clear()
            found = cache[key] = fmt(_node_text(value))
        return found

    return finish


def _item_names(item: str) -> list[str]:
    """The child names an ``item`` template reads (``{id}:{qty}``); ValueError for others."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(item):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(item)
        names.append(name)
    return names


def compile_xslt(mapping: ExportMapping) -> XsltExport | None:
    """The XSLT path of ``mapping``, or None when a column has a shape it does not know."""
    rows = None
    if mapping.rows_path is not None:
        plain = _plain(mapping.rows_path.path)
        if plain is None or plain.root is not None or plain.ups:
            return None
        rows = plain.steps
    export = XsltExport(mapping, rows)
    try:
        if export._sheet("") is None:  # compiles every column once
            return None
    except ValueError:  # a column of a shape this path does not know
        return None
    return export
