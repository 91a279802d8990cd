"""Export mappings: YAML files in ``mappings/export/`` that turn event objects into CSV rows.

Each file names the event type it handles, the outbox file prefix, which element is one row,
and the columns in order, each with a path into the event's object (XPath over the object with
namespaces stripped: relative to the row element, or absolute from the object such as
``/order/id``), a format, or a computed value. Every problem in every file is collected before
one :class:`~pipeline.errors.MappingError` lists them all; the XPaths are compiled once.

Example::

    mappings = load_export_mappings(workspace / "mappings" / "export")
    obj, why = event_object(event.data, event.type)  # the <data> child named by the type
    order = strip_namespaces(obj)  # (obj None: unreadable, never acknowledged; see pull.py)
    rows = mappings[0].extract(order, lookup)  # stable cells; volatile ones are None
    mappings[0].fill(rows, change="new", event_id=event.id, event_date=event.date)

See ``docs/outbox.md`` for every key.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from pipeline.errors import MappingError
from pipeline.outbox.values import FORMATS, NUMERIC_FORMATS, Cell, iso_datetime, make_format

#: (product, variation, size) -> (full sku, ean), either possibly None; None when unknown.
Lookup = Callable[[str, str, str], "tuple[str | None, str | None] | None"]
Problems = list[tuple[str, str]]
Getter = Callable[[etree._Element, Lookup], Cell]

MAPPING_KEYS = (
    "export",
    "description",
    "event_type",
    "file_prefix",
    "key",
    "rows",
    "csv",
    "columns",
)
CSV_KEYS = (
    "delimiter",
    "encoding",
    "encoding_errors",
    "bom",
    "line_ending",
    "header",
    "done_marker",
    "neutralise_formulas",
)
COLUMN_KEYS = ("name", "path", "value", "constant", "format", "places", "decimal_separator",
               "join", "item", "neutralise", "variables")  # fmt: skip
#: Computed values; the first three change from one delivery to the next (not in the digest).
VOLATILE = ("change", "event_id", "event_date")
COMPUTED = (*VOLATILE, "object_id", "bundle_role", "bundle_parent", "full_sku", "ean")
EVENT_TYPES = ("account", "customer", "invoice", "market", "order", "paymentterm", "pricelist",
               "salesrep", "shippingterm", "size", "warehouse")  # fmt: skip
LINE_ENDINGS = {"crlf": "\r\n", "lf": "\n"}
_EMPTY = Cell("")


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    encoding: str = "utf-8"
    encoding_errors: str = "replace"
    bom: bool = False
    line_ending: str = "\r\n"
    header: bool = True
    done_marker: bool = False
    neutralise_formulas: bool = True


@dataclass(frozen=True)
class Column:
    name: str
    numeric: bool
    neutralise: bool
    volatile: str | None  # "change", "event_id" or "event_date": filled in at write time
    absolute: bool  # computed once per object, not per row
    get: Getter = field(repr=False)
    #: What the column was compiled from, for :mod:`pipeline.outbox.fast_export`.
    spec: ColumnSpec | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ColumnSpec:
    """A column's source as written: one of constant, computed value or path."""

    fmt: Callable[[str], Cell]
    constant: str | None = None
    computed: str | None = None
    path: str | None = None
    variables: tuple[tuple[str, str], ...] = ()
    join: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class ExportMapping:
    """One export, compiled: ``extract`` gives the rows of one object."""

    name: str
    source: str
    event_type: str
    file_prefix: str
    key: etree.XPath = field(repr=False)
    rows_path: etree.XPath | None = field(repr=False)
    columns: tuple[Column, ...]
    csv: CsvOptions

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def object_id(self, obj: etree._Element, fallback: str = "") -> str:
        return _first_text(self.key(obj)) or fallback

    def extract(self, obj: etree._Element, lookup: Lookup) -> list[list[Cell | None]]:
        """The object's rows; volatile cells are None. At least one row per object."""
        elements = list(self.rows_path(obj)) if self.rows_path is not None else [obj]
        if not elements:
            elements = [obj]  # an object without lines still reaches the ERP
        fixed = {
            i: c.get(obj, lookup)
            for i, c in enumerate(self.columns)
            if c.absolute and not c.volatile
        }
        rows: list[list[Cell | None]] = []
        for element in elements:
            if not isinstance(element, etree._Element):
                continue
            row: list[Cell | None] = []
            for i, column in enumerate(self.columns):
                if column.volatile:
                    row.append(None)
                elif i in fixed:
                    row.append(fixed[i])
                else:
                    row.append(column.get(element, lookup))
            rows.append(row)
        return rows

    def fill(
        self, rows: Sequence[Sequence[Cell | None]], *, change: str, event_id: str, event_date: str
    ) -> list[list[Cell]]:
        values = {"change": change, "event_id": event_id, "event_date": iso_datetime(event_date)}
        volatile = [(i, Cell(values[c.volatile])) for i, c in enumerate(self.columns) if c.volatile]
        width = len(self.columns)
        filled = []
        for row in rows:
            if len(row) != width:
                raise ValueError(f"a row of {len(row)} cells for {width} columns")
            cells = [_EMPTY if cell is None else cell for cell in row]
            for i, value in volatile:
                cells[i] = value
            filled.append(cells)
        return filled


def digest(rows: Sequence[Sequence[str | None]]) -> str:
    """What identifies a version of an object's rows (volatile cells are None, so ignored)."""
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def local_name(tag: object) -> str:
    """``{urn:x}order`` -> ``order``; "" for a comment or processing instruction."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _is_empty(element: etree._Element) -> bool:
    """A placeholder: no child element, no text."""
    if next(element.iterchildren(etree.Element), None) is not None:
        return False
    return not (element.text or "").strip()


def event_object(data: etree._Element | None, type_: str) -> tuple[etree._Element | None, str]:
    """The object of an event: the child of ``<data>`` named by the event's ``<type>``.

    Centra may send empty placeholder siblings (the reference's template lists account,
    customer, invoice, market, order, pricelist, salesrep, size, warehouse, stock), in any
    order: they are ignored. ``data`` is ``<data>`` itself, or any of its children (the parsed
    event keeps its first one; its parent is ``<data>``). Returns (object, "") or
    (None, what is wrong), for an event that must not be acknowledged.
    """
    if data is None:
        return None, f"<data> is empty or absent: no <{type_}>"
    if local_name(data.tag) != "data":
        holder = data.getparent()
        if holder is not None and local_name(holder.tag) == "data":
            data = holder
    if local_name(data.tag) == "data":
        candidates = [c for c in data if isinstance(c.tag, str)]
    else:
        candidates = [data]  # a bare object, as given
    named = [c for c in candidates if local_name(c.tag) == type_]
    if not named:
        found = ", ".join(f"<{local_name(c.tag)}>" for c in candidates) or "nothing"
        return None, f"no <{type_}> in <data> (it holds {found})"
    filled = [c for c in named if not _is_empty(c)]
    if not filled:
        return None, f"<{type_}> in <data> is empty"
    if len(filled) > 1:
        return None, f"{len(filled)} <{type_}> elements in <data>: which one is meant is unknown"
    return filled[0], ""


_NS_DECLARATION = re.compile(rb' xmlns(?::[A-Za-z_][\w.-]*)?="[^"]*"')
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def strip_namespaces(element: etree._Element) -> etree._Element:
    """A copy of ``element`` as the root of its own tree, every tag by its local name only.

    Fast path: serialise, drop the namespace declarations and the tag prefixes they bind, and
    parse again (a fraction of the time of renaming element by element in Python). Where bytes
    other than tags could carry such a prefix (a CDATA section, a comment, a processing
    instruction) or an attribute has a prefix (it would lose its namespace, so the parse
    fails), element by element.
    """
    data = etree.tostring(element, with_tail=False)
    if b"<![CDATA[" not in data and b"<!--" not in data and b"<?" not in data:
        stripped = data
        for declaration in set(_NS_DECLARATION.findall(data)):
            stripped = stripped.replace(declaration, b"")
            prefix = declaration.partition(b":")[2].partition(b"=")[0]
            if prefix:
                stripped = stripped.replace(b"<" + prefix + b":", b"<")
                stripped = stripped.replace(b"</" + prefix + b":", b"</")
        try:
            root = etree.fromstring(stripped, _PARSER)
        except etree.XMLSyntaxError:
            pass  # a prefixed attribute lost its declaration: the slow path keeps it
        else:
            root.tail = element.tail  # as a deep copy keeps it
            return root
    root = copy.deepcopy(element)
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[:1] == "{":
            el.tag = tag.rpartition("}")[2]
    etree.cleanup_namespaces(root)
    return root


# -------------------------------------------------------------------------- loading


def load_export_mappings(folder: Path) -> list[ExportMapping]:
    """Every ``*.yaml`` export mapping in ``folder``, or one MappingError listing all problems."""
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if not files:
        raise MappingError(
            f"no export mappings in {folder}",
            hint="copy mappings/export/orders.yaml and customers.yaml from the project into "
            "this workspace; without them orders would be acknowledged and never written",
        )
    problems: Problems = []
    mappings: list[ExportMapping] = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append((path.name, f"cannot be read as YAML: {exc}"))
            continue
        found: Problems = []
        mapping = compile_export_mapping(data, path.stem, found)
        problems.extend((f"{path.name}: {where}", msg) for where, msg in found)
        if mapping is not None and not found:
            mappings.append(mapping)
    for attr in ("name", "file_prefix"):
        seen: dict[str, str] = {}
        for m in mappings:
            value = getattr(m, attr)
            if value in seen:
                problems.append((m.source, f"{attr} {value!r} is also used by {seen[value]}"))
            seen[value] = m.source
    if problems:
        raise MappingError(f"{len(problems)} problem(s) in the export mappings:", problems=problems)
    return mappings


def compile_export_mapping(data: Any, source: str, problems: Problems) -> ExportMapping | None:
    """Check one parsed YAML document; problems go to ``problems`` as (key path, message)."""
    if not isinstance(data, Mapping):
        problems.append(("(top level)", "must be a mapping of keys (export, event_type, ...)"))
        return None
    _unknown_keys(data, MAPPING_KEYS, "", problems)
    event_type = _text(data, "event_type", "", problems, required=True)
    if event_type and event_type not in EVENT_TYPES:
        problems.append(
            ("event_type", f"unknown event type {event_type!r}" + _near(event_type, EVENT_TYPES))
        )
    name = _text(data, "export", "", problems) or source
    prefix = _text(data, "file_prefix", "", problems) or name
    if not prefix.replace("-", "").replace("_", "").isalnum():
        problems.append(("file_prefix", f"{prefix!r}: use letters, digits, - and _ only"))
    key = _xpath(_text(data, "key", "", problems) or "id", "key", problems)
    rows_text = _text(data, "rows", "", problems)
    rows = _xpath(rows_text, "rows", problems) if rows_text else None
    options = _csv_options(data.get("csv") or {}, problems)
    columns = _columns(data.get("columns"), options, problems)
    if key is None or (rows_text and rows is None) or columns is None:
        return None
    return ExportMapping(name, source, event_type, prefix, key, rows, tuple(columns), options)


def _csv_options(data: Any, problems: Problems) -> CsvOptions:
    if not isinstance(data, Mapping):
        problems.append(("csv", "must be a mapping (delimiter, encoding, bom, ...)"))
        return CsvOptions()
    _unknown_keys(data, CSV_KEYS, "csv.", problems)
    defaults = CsvOptions()
    delimiter = str(data.get("delimiter", defaults.delimiter))
    if len(delimiter) != 1 or delimiter in '"\r\n':
        problems.append(("csv.delimiter", f"{delimiter!r}: must be one character, not a quote"))
    encoding = str(data.get("encoding", defaults.encoding))
    try:
        "".encode(encoding)
    except LookupError:
        problems.append(("csv.encoding", f"unknown encoding {encoding!r}"))
    errors = str(data.get("encoding_errors", defaults.encoding_errors))
    if errors not in ("strict", "replace"):
        problems.append(("csv.encoding_errors", f"{errors!r}: use strict or replace"))
    ending = str(data.get("line_ending", "crlf")).lower()
    if ending not in LINE_ENDINGS:
        problems.append(("csv.line_ending", f"{ending!r}: use crlf or lf"))
    flags = {}
    for key in ("bom", "header", "done_marker", "neutralise_formulas"):
        value = data.get(key, getattr(defaults, key))
        if not isinstance(value, bool):
            problems.append((f"csv.{key}", f"{value!r}: use true or false"))
            value = getattr(defaults, key)
        flags[key] = value
    return CsvOptions(
        delimiter=delimiter,
        encoding=encoding,
        encoding_errors=errors,
        line_ending=LINE_ENDINGS.get(ending, "\r\n"),
        **flags,
    )


def _columns(data: Any, options: CsvOptions, problems: Problems) -> list[Column] | None:
    if not isinstance(data, list) or not data:
        problems.append(("columns", "must be a list of columns (name and path or value)"))
        return None
    columns: list[Column] = []
    names: set[str] = set()
    for i, raw in enumerate(data):
        where = f"columns[{i}]"
        if not isinstance(raw, Mapping):
            problems.append((where, "must be a mapping with name and path, value or constant"))
            continue
        column = _column(raw, where, options, problems)
        name = str(raw.get("name"))
        if name in names:
            problems.append((f"{where}.name", f"{name!r} is used twice"))
        names.add(name)
        if column is not None:
            columns.append(column)
    return columns if len(columns) == len(data) else None


def _column(
    raw: Mapping[str, Any], where: str, options: CsvOptions, problems: Problems
) -> Column | None:
    _unknown_keys(raw, COLUMN_KEYS, f"{where}.", problems)
    name = _text(raw, "name", where + ".", problems, required=True)
    sources = [k for k in ("path", "value", "constant") if k in raw]
    if len(sources) != 1:
        problems.append((where, "needs exactly one of path, value or constant"))
        return None
    fmt_name = str(raw.get("format", "text"))
    if fmt_name not in FORMATS:
        problems.append(
            (f"{where}.format", f"unknown format {fmt_name!r}" + _near(fmt_name, FORMATS))
        )
        return None
    places = raw.get("places")
    if places is not None and (
        not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 10
    ):
        problems.append((f"{where}.places", f"{places!r}: a whole number from 0 to 10"))
        places = None
    separator = str(raw.get("decimal_separator", "."))
    if separator not in (".", ","):
        problems.append((f"{where}.decimal_separator", f"{separator!r}: use . or ,"))
    if separator == options.delimiter and fmt_name == "decimal":
        problems.append((f"{where}.decimal_separator", "is the same as csv.delimiter"))
    fmt = make_format(fmt_name, places=places, decimal_separator=separator)
    neutralise_cell = raw.get("neutralise", options.neutralise_formulas)
    if not isinstance(neutralise_cell, bool):
        problems.append((f"{where}.neutralise", f"{neutralise_cell!r}: use true or false"))
    numeric = fmt_name in NUMERIC_FORMATS
    if "constant" in raw:
        value = Cell(str(raw["constant"]))
        spec = ColumnSpec(fmt, constant=value)
        return Column(name, numeric, bool(neutralise_cell), None, True, lambda el, lk: value, spec)
    if "value" in raw:
        computed = str(raw["value"])
        if computed not in COMPUTED:
            problems.append(
                (f"{where}.value", f"unknown value {computed!r}; known: {', '.join(COMPUTED)}")
            )
            return None
        volatile = computed if computed in VOLATILE else None
        getter = _COMPUTED_GETTERS.get(computed, lambda el, lk: Cell(""))
        spec = ColumnSpec(fmt, computed=computed)
        absolute = computed == "object_id"
        return Column(name, False, bool(neutralise_cell), volatile, absolute, getter, spec)
    path_text = str(raw["path"])
    path = _xpath(path_text, f"{where}.path", problems)
    if path is None:
        return None
    join = raw.get("join")
    item = raw.get("item")
    if item is not None and join is None:
        problems.append((f"{where}.item", "only with join (the separator between items)"))
    if item is not None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(str(item)) if f is not None]
        except ValueError as exc:
            problems.append((f"{where}.item", f"not a valid template: {exc}"))
            return None
        if any(not f.isidentifier() for f in fields):
            problems.append(
                (f"{where}.item", "fields must be child element names, like {id}:{qty}")
            )
            return None
    variables = _variables(raw.get("variables"), f"{where}.variables", problems)
    if variables is None:
        return None
    evaluate = _evaluator(path, variables)
    absolute = path_text.startswith("/") and not variables
    spec = ColumnSpec(
        fmt,
        path=path_text,
        variables=tuple((k, v.path) for k, v in variables.items()),
        join=None if join is None else str(join),
        item=None if item is None else str(item),
    )
    if join is not None:
        getter = _joined(evaluate, str(join), None if item is None else str(item), fmt)
        return Column(name, False, bool(neutralise_cell), None, absolute, getter, spec)
    getter = _single(evaluate, fmt)
    return Column(name, numeric, bool(neutralise_cell), None, absolute, getter, spec)


def _variables(raw: Any, where: str, problems: Problems) -> dict[str, etree.XPath] | None:
    """``{orderitem: orderitem/id}``: $orderitem in the path is that text, found from the row."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append((where, "must map variable names to paths, like {orderitem: orderitem/id}"))
        return None
    compiled = {}
    for name, text in raw.items():
        if not str(name).isidentifier():
            problems.append((f"{where}.{name}", "a variable name must be a plain word"))
        found = _xpath(str(text), f"{where}.{name}", problems)
        if found is not None:
            compiled[str(name)] = found
    return compiled if len(compiled) == len(raw) else None


# -------------------------------------------------------------------------- evaluation


def _first_text(result: Any) -> str:
    if isinstance(result, list):
        return _node_text(result[0]) if result else ""
    return _node_text(result)


def _node_text(node: Any) -> str:
    if isinstance(node, etree._Element):
        return (node.text or "").strip()
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float):
        if not math.isfinite(node):
            return ""  # NaN (a number of an empty or absent value) is no number: no "nan" cell
        return str(int(node)) if node.is_integer() else str(node)
    return str(node).strip()


Evaluate = Callable[[etree._Element], Any]


_STEP = r"[A-Za-z_][\w.-]*"
_SIMPLE_PATH = re.compile(rf"(?P<abs>/)?(?P<up>(?:\.\./)*)(?P<down>{_STEP}(?:/{_STEP})*)")


def _simple(text: str) -> Evaluate | None:
    """A plain-Python evaluator for the common paths (``/order/id``, ``../../id``,
    ``orderitem/id``): child steps, optionally after ``..`` steps or from the root. It gives
    the same nodes in the same (document) order as the XPath, without the XPath engine's
    per-call cost. None for anything else."""
    match = _SIMPLE_PATH.fullmatch(text.strip())
    if match is None or (match["abs"] and match["up"]):
        return None
    ups = match["up"].count("..")
    first, *steps = match["down"].split("/")
    if match["abs"]:

        def start(element: etree._Element) -> list[etree._Element]:
            root = element.getroottree().getroot()
            return [root] if root.tag == first else []

    else:
        steps = [first, *steps]

        def start(element: etree._Element) -> list[etree._Element]:
            for _ in range(ups):
                parent = element.getparent()
                if parent is None:
                    return []
                element = parent
            return [element]

    def evaluate(element: etree._Element) -> list[etree._Element]:
        nodes = start(element)
        for step in steps:
            if not nodes:
                break
            nodes = [child for node in nodes for child in node.iterchildren(step)]
        return nodes

    return evaluate


def _evaluator(path: etree.XPath, variables: Mapping[str, etree.XPath]) -> Evaluate:
    if not variables:
        return _simple(path.path) or path
    return lambda element: path(
        element, **{name: _first_text(var(element)) for name, var in variables.items()}
    )


def _single(evaluate: Evaluate, fmt: Callable[[str], Cell]) -> Getter:
    return lambda element, lookup: fmt(_first_text(evaluate(element)))


def _joined(
    evaluate: Evaluate, separator: str, item: str | None, fmt: Callable[[str], Cell]
) -> Getter:
    def get(element: etree._Element, lookup: Lookup) -> Cell:
        result = evaluate(element)
        nodes = result if isinstance(result, list) else [result]
        parts = []
        for node in nodes:
            if item is not None and isinstance(node, etree._Element):
                parts.append(item.format_map(_ChildTexts(node)))
            else:
                parts.append(fmt(_node_text(node)))
        return Cell(separator.join(parts))

    return get


class _ChildTexts(dict[str, str]):
    def __init__(self, node: etree._Element) -> None:
        super().__init__()
        self.node = node

    def __missing__(self, key: str) -> str:
        for child in self.node:
            if child.tag == key:
                return (child.text or "").strip()
        return ""


_LINE = etree.XPath("ancestor-or-self::product[1]")
_SIZE = etree.XPath("ancestor-or-self::size[1]")


def _line(element: etree._Element) -> etree._Element | None:
    found = _LINE(element)
    return found[0] if isinstance(found, list) and found else None


def _child_text(element: etree._Element | None, *names: str) -> str:
    for name in names:
        if element is None:
            return ""
        element = next((c for c in element if c.tag == name), None)
    return "" if element is None else (element.text or "").strip()


def _bundle_role(element: etree._Element, lookup: Lookup) -> Cell:
    line = _line(element)
    flag = _child_text(line, "bundleinfo", "isbundle").lower()
    if flag in ("true", "yes", "1"):
        return Cell("bundle")
    if flag and _bundle_parent(element, lookup):
        return Cell("part")
    return Cell("none")


def _bundle_parent(element: etree._Element, lookup: Lookup) -> Cell:
    line = _line(element)
    return Cell(_child_text(line, "bundleinfo", "partof", "product", "id"))


def _catalogue(element: etree._Element, lookup: Lookup) -> tuple[str | None, str | None] | None:
    line = _line(element)
    sizes = _SIZE(element)
    size = sizes[0] if isinstance(sizes, list) and sizes else None
    if line is None or size is None:
        return None
    return lookup(
        _child_text(line, "id"), _child_text(line, "variation", "id"), _child_text(size, "id")
    )


def _full_sku(element: etree._Element, lookup: Lookup) -> Cell:
    found = _catalogue(element, lookup)
    return Cell((found[0] if found else None) or "")


def _ean(element: etree._Element, lookup: Lookup) -> Cell:
    found = _catalogue(element, lookup)
    return Cell((found[1] if found else None) or "")


def _object_id(element: etree._Element, lookup: Lookup) -> Cell:
    return Cell(_child_text(element.getroottree().getroot(), "id"))


_COMPUTED_GETTERS: dict[str, Getter] = {
    "object_id": _object_id,
    "bundle_role": _bundle_role,
    "bundle_parent": _bundle_parent,
    "full_sku": _full_sku,
    "ean": _ean,
}


# -------------------------------------------------------------------------- checking helpers


def _xpath(text: str, where: str, problems: Problems) -> etree.XPath | None:
    try:
        return etree.XPath(text)
    except etree.XPathSyntaxError as exc:
        problems.append((where, f"{text!r} is not a valid XPath: {exc}"))
        return None


def _text(
    data: Mapping[str, Any], key: str, prefix: str, problems: Problems, *, required: bool = False
) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.append((f"{prefix}{key}", "missing"))
        return ""
    if isinstance(value, (dict, list)):
        problems.append((f"{prefix}{key}", "must be a single value"))
        return ""
    return str(value)


def _unknown_keys(
    data: Mapping[str, Any], known: Sequence[str], prefix: str, problems: Problems
) -> None:
    for key in data:
        if key not in known:
            problems.append((f"{prefix}{key}", "unknown key (misspelt?)" + _near(str(key), known)))


def _near(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
