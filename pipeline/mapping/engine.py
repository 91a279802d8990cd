"""Mapping one file: rows -> grouped Centra objects, with every bad row reported.

Rows that share a key become one object (a product with its variations and sizes; a pricelist
with its products), in order of first appearance. Every target of a mapping feeds the entity
it names; two targets of the same entity (stock in two warehouses) fill the same objects.

A row with any problem contributes nothing. The *unit* it belongs to (the object; for
pricelists one product inside the pricelist) is dropped as a whole, and its other rows are
reported as not sent, so Centra never gets half a product. Under ``on_invalid: skip_row`` a
bad cell at or below a level of :data:`ROW_LEVELS` costs only that node (a size, a variation),
the rows that fed it, and the file's stock and prices that need it (:meth:`_Mapper._row`,
:meth:`_Mapper._drop_failed_nodes`).

Some objects Centra refuses to change once created (:data:`FROZEN`: size tables). Such an
object is sent whole or not at all: when any row that feeds it has a problem, all of it is held
back (:meth:`_Mapper._hold_frozen`), and so are the products of the file that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, cast

from pipeline.errors import ReadError, listed, shorten
from pipeline.mapping.catalogue import Catalogue, Unsent
from pipeline.mapping.entities import Child, Entity, Group, Leaf, Level
from pipeline.mapping.problems import RowProblem
from pipeline.mapping.rules import Bad, Value, has_bad
from pipeline.mapping.schema import CompiledMapping, Target
from pipeline.memory import collector_paused
from pipeline.readers import Table, column_letter, read_table

Key = tuple[str, ...]


@dataclass(slots=True)
class MappedObject:
    """One collection item of a Centra request, e.g. one ``<product>`` of products_Update.

    ``item`` is the payload of the item element for :mod:`pipeline.centra.xmlbuild`; ``rows``
    the spreadsheet row numbers that contributed; ``depends_on`` the (entity, key) pairs that
    must exist in Centra first (a pricelist entry needs its product).
    """

    entity: str
    operation: str
    key: str
    item: Mapping[str, Any]
    rows: tuple[int, ...]
    depends_on: tuple[tuple[str, str], ...] = ()


#: Entities whose objects Centra cannot change once created, so they must be sent whole:
#: entity -> (level, sub path naming the frozen object, what a person calls it). A size table
#: (sizes_Update) is created by the request that first names it and refuses any later change,
#: including a size added afterwards (the SOAP reference: "Sizetables cannot be changed once
#: created").
FROZEN: dict[str, tuple[str, str, str]] = {"sizes": ("size", "sizetable.id", "size table")}

#: Under ``on_invalid: skip_row``, the levels whose node alone a bad row costs: a problem at
#: or below one of them (a size's EAN, a warehouse's quantity) costs only the deepest such
#: node on its path; a problem above them (a product's name) costs the object, as ``skip``.
ROW_LEVELS: dict[str, tuple[str, ...]] = {
    "products": ("variation", "size"),
    "stock": ("variation", "size"),
    "pricelists": ("variation",),
}

#: Entities whose nodes need a product's variation or size (skip_row): a dropped products
#: node drops the same node of these in the same file (a pricelist's under every pricelist).
DEPENDANTS = ("stock", "pricelists")

#: What :meth:`_Mapper._row_levels` says of a row whose only problem is another row's (a code
#: of a product an earlier file does not send): skipped, not failed.
_SKIPPED = "skipped"

#: What :meth:`_Mapper._unsent` reads of a products row.
_SIZE_PATHS = ("product.id", "variation.id", "size.id", "size.ean", "product.sku", "variation.sku",
               "size.sku")  # fmt: skip

#: Objects of other entities that need a frozen object: entity -> (level, sub path, frozen
#: entity). A product's variation names its size table.
FROZEN_USERS: dict[str, tuple[str, str, str]] = {"products": ("variation", "sizetable.id", "sizes")}


_FIELDS = attrgetter("entity", "operation", "key", "item", "rows", "depends_on")


class LazyObject(MappedObject):
    """A MappedObject of the bulk path whose ``rows`` and ``depends_on`` are asked of its item
    (:class:`~pipeline.mapping.columnar.ColumnarItem`) when first read.

    ``validate`` reads neither; at catalogue size they were a tenth of its mapping time. The
    two slots stay empty until then, so reading one ends in ``__getattr__``.
    """

    __slots__ = ()

    def __init__(
        self,
        entity: str,
        operation: str,
        key: str,
        item: Mapping[str, Any],
        rows: tuple[int, ...] | None = None,
        depends_on: tuple[tuple[str, str], ...] | None = None,
    ) -> None:
        self.entity = entity
        self.operation = operation
        self.key = key
        self.item = item
        if rows is not None:
            self.rows = rows
        if depends_on is not None:
            self.depends_on = depends_on

    def __eq__(self, other: object) -> bool:
        """Equal to any MappedObject with equal fields (the general path's twin too)."""
        if not isinstance(other, MappedObject):
            return NotImplemented
        return _FIELDS(self) == _FIELDS(other)

    __hash__ = None  # type: ignore[assignment]  # (as MappedObject: mutable, so unhashable)

    def __getattr__(self, name: str) -> Any:
        if name == "rows":
            value = self.item.rows()  # type: ignore[attr-defined]
        elif name == "depends_on":
            value = self.item.depends_on()  # type: ignore[attr-defined]
        else:
            raise AttributeError(name)
        setattr(self, name, value)
        return value


@dataclass
class MappedFile:
    """The result of :func:`map_file`: objects ready to send and the rows that failed."""

    path: Path
    mapping: CompiledMapping
    objects: list[MappedObject]
    problems: list[RowProblem]
    rows_total: int
    sheet: str | None = None
    #: Why nothing of the file may be sent (on_invalid: reject, max_invalid_rows), or None.
    rejected: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    row_numbers: list[int] = field(default_factory=list)
    #: One message per frozen object (size table) held back because a row feeding it has a
    #: problem; its rows are among ``problems`` too.
    held_back: list[str] = field(default_factory=list)
    #: The product sizes the file holds but does not send (a row with a problem, the product
    #: it costs, a rejected file), with why: a run's catalogue learns them
    #: (``learn_unsent``) so that a later file's row naming one is skipped with the reason.
    unsent: list[Unsent] = field(default_factory=list)

    def by_entity(self) -> dict[str, list[MappedObject]]:
        out: dict[str, list[MappedObject]] = {}
        for obj in self.objects:
            out.setdefault(obj.entity, []).append(obj)
        return out

    @property
    def failed_rows(self) -> set[int]:
        """Row numbers with a problem of their own (not counting rows skipped with them)."""
        return {p.row for p in self.problems if p.row is not None and not p.collateral}


class _Node:
    __slots__ = ("children", "fields", "rows")

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.children: dict[str, dict[Key, _Node]] | None = None
        self.rows: list[int] | None = None


@dataclass
class _LevelPlan:
    level: Level
    rules: list[tuple[str, list[Value], str | None]]  # (sub path, values per row, column label)
    key_labels: dict[str, str | None]
    is_top: bool

    def __post_init__(self) -> None:
        # A top level needs every key part (sizes: sizetable and size); a child the first one.
        parts = self.level.key if self.is_top else self.level.key[:1]
        if len(parts) == 1:
            only = parts[0]
            self.key_given: Callable[[dict[str, str]], bool] = lambda f: bool(f.get(only))
        else:
            self.key_given = lambda f: all(f.get(k) for k in parts)
        # For the row loop: (sub, values) pairs, and whether any value of the level is Bad (a
        # level without any can skip the per-cell check).
        self.pairs = tuple((sub, values) for sub, values, _ in self.rules)
        self.may_be_bad = any(has_bad(values) for _, values, _ in self.rules)
        self.name = self.level.name
        self.key_parts = self.level.key
        self.parent = self.level.parent


@dataclass
class _TargetPlan:
    target: Target
    entity: Entity
    levels: list[_LevelPlan]  # parents before children

    @property
    def unit_chain(self) -> tuple[str, ...]:
        return self._unit_chain

    def __post_init__(self) -> None:
        self._unit_chain = tuple(lv.name for lv in self.entity.chain(self.entity.unit))


def map_file(
    mapping: CompiledMapping,
    path: Path,
    *,
    lookups: Catalogue | None = None,
    table: Table | None = None,
    bulk: bool = True,
) -> MappedFile:
    """Read ``path`` with ``mapping`` and turn its rows into Centra objects.

    Raises :class:`~pipeline.errors.ReadError` when the file cannot be used at all (encoding,
    missing column, duplicate header, missing sheet); row problems are returned, not raised.
    A file without a bad cell goes through the bulk path (:mod:`pipeline.mapping.columnar`);
    ``bulk=False`` forces the general one (the tests compare the two)::

        mapped = map_file(mapping, Path("inbox/articles.csv"))
        for obj in mapped.objects: ...        # obj.entity, obj.key, obj.item, obj.rows
        for problem in mapped.problems: print(problem)
    """
    owns_table = table is None
    if table is None:
        table = read_table(path, mapping.read)
    index = _column_index(table, mapping)
    with collector_paused():
        return _Mapper(mapping, path, table, index, lookups, bulk=bulk, drop_cells=owns_table).run()


def _column_index(table: Table, mapping: CompiledMapping) -> dict[str, int]:
    index: dict[str, int] = {}
    missing: list[str] = []
    duplicates: list[str] = []
    for name in sorted(mapping.columns):
        found = table.positions(name)
        if not found:
            missing.append(name)
        elif len(found) > 1:
            letters = " and ".join(column_letter(c) for c in found[:5])
            if len(found) > 5:
                letters += f" and {len(found) - 5:,} more"
            duplicates.append(f"{name!r} (columns {letters})")
        else:
            index[name] = found[0]
    if missing:
        import difflib

        parts = []
        for name in missing:
            close = difflib.get_close_matches(name, table.header, n=1)
            parts.append(f"{name!r}" + (f" (the file has {shorten(close[0])!r})" if close else ""))
        hint = (
            f"fix the column names in mapping {mapping.source.name}, or set read.header_row "
            "if the header is not on the first row"
        )
        others = [s for s in table.sheets if s != table.sheet]
        if others:
            hint += (
                f", or set `sheet:` if the columns are on another sheet (this is sheet "
                f"{shorten(table.sheet or '')!r}; the workbook also has {listed(others)})"
            )
        raise ReadError(
            f"the header row has no column {', '.join(parts)}; it has: "
            + listed([h for h in table.header if h]),
            file=table.where,
            line=table.header_line,
            hint=hint,
        )
    if duplicates:
        raise ReadError(
            f"the header names column {', '.join(duplicates)} more than once, so the mapping "
            "cannot tell which one to use",
            file=table.where,
            line=table.header_line,
            hint="rename one of the columns in the ERP export",
        )
    return index


class _Mapper:
    def __init__(
        self,
        mapping: CompiledMapping,
        path: Path,
        table: Table,
        index: dict[str, int],
        lookups: Catalogue | None,
        *,
        bulk: bool = True,
        drop_cells: bool = False,
    ) -> None:
        self.bulk = bulk
        self.drop_cells = drop_cells  # free the table's cells once every rule has its values
        self.mapping = mapping
        self.path = path
        self.table = table
        self.index = index
        self.lookups = lookups
        self.problems: list[RowProblem] = []
        self.failed_rows: set[int] = set()
        self.failed_units: dict[tuple[str, Key], int] = {}  # unit -> first failed row index
        self.unit_reasons: dict[tuple[str, Key], str] = {}  # unit -> why, when not its own row
        self.unit_causes: dict[tuple[str, Key], int] = {}  # unit -> the row to fix, likewise
        self.causes: dict[tuple[str | None, int], int] = {}  # (entity, row) -> the row to fix
        self.skip_row = mapping.on_invalid == "skip_row"
        # skip_row: (entity, path of (level, key) from the top) -> the row with the problem
        self.failed_nodes: dict[tuple[str, tuple[tuple[str, Key], ...]], int] = {}
        self.kept_rows: set[int] = set()  # skip_row: failed rows whose other targets were kept
        self.held_back: list[str] = []
        self.store: dict[str, dict[Key, _Node]] = {}
        self.plans: list[_TargetPlan] = []
        self.seen: set[tuple[int | None, str, str | None]] = set()

    # -- problems ---------------------------------------------------------------------------

    def _bad_cell(
        self, i: int, value: Bad, label: str | None, entity: str, key: str | None
    ) -> None:
        """A cell a rule refused (``value``), as a problem of row ``i``."""
        self._problem(
            i,
            value.message,
            value.column or label,
            value.value,
            hint=value.hint,
            entity=entity,
            key=key,
            collateral=value.collateral,
        )

    def _problem(
        self,
        i: int | None,
        message: str,
        column: str | None = None,
        value: str | None = None,
        *,
        hint: str | None = None,
        entity: str | None = None,
        key: str | None = None,
        collateral: bool = False,
        cause: int | None = None,
    ) -> None:
        seen = (i, message, column)
        if seen in self.seen:  # two targets reading the same cell report it once
            return
        self.seen.add(seen)
        if i is not None and (cause is not None or not collateral):
            self.causes.setdefault((entity, i), i if cause is None else cause)
        self.problems.append(
            RowProblem(
                message,
                file=self.table.file,
                sheet=self.table.sheet,
                row=self.table.row_numbers[i] if i is not None else None,
                column=column,
                value=value,
                hint=hint,
                entity=entity,
                key=key,
                collateral=collateral,
            )
        )

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> MappedFile:
        resolve_missing = self._plan()
        if resolve_missing:
            return self._result(rejected=resolve_missing)
        if self.drop_cells:
            # Every rule has its values now; the cells are not read again (memory).
            self.table.columns = []
        if (
            self.bulk
            and not self.table.row_errors
            and not any(lp.may_be_bad for plan in self.plans for lp in plan.levels)
        ):
            # Nothing wrong in any cell: the bulk path, unless it finds something to report.
            from pipeline.mapping.columnar import map_columnar

            table = self.table
            found = map_columnar(self.plans, table.n_rows, table.row_numbers, self.lookups)
            if found is not None:
                return self._result(objects=found)
        for i in range(self.table.n_rows):
            self._row(i)
        self._drop_failed_units()
        if "products" in self.store:
            self._check_products()
            self._drop_failed_units()
        self._hold_frozen()
        objects = self._objects()
        rejected = self._rejection()
        return self._result(
            objects=[] if rejected else objects, rejected=rejected, unsent=self._unsent(rejected)
        )

    def _result(
        self,
        objects: list[MappedObject] | None = None,
        rejected: str | None = None,
        unsent: list[Unsent] | None = None,
    ) -> MappedFile:
        self.problems.sort(key=lambda p: (p.row if p.row is not None else 0, p.collateral))
        return MappedFile(
            path=self.path,
            mapping=self.mapping,
            objects=objects or [],
            problems=self.problems,
            rows_total=self.table.n_rows,
            sheet=self.table.sheet,
            rejected=rejected,
            encoding=self.table.encoding,
            delimiter=self.table.delimiter,
            row_numbers=self.table.row_numbers,
            held_back=self.held_back,
            unsent=unsent or [],
        )

    def _plan(self) -> str | None:
        # Rules that read the same column the same way (product.id of every target) share one
        # list of values.
        evaluated: dict[tuple[object, ...], list[Value]] = {}
        for target in self.mapping.targets:
            entity = target.entity
            by_level: dict[str, list[tuple[str, list[Value], str | None]]] = {}
            for rule in target.rules:
                same = rule.evaluation_key
                values = evaluated.get(same)
                if values is None:
                    values = evaluated[same] = rule.evaluate(self.table, self.index)
                by_level.setdefault(rule.level, []).append((rule.sub, values, rule.label))
            if target.resolve is not None:
                message = self._resolve(target, by_level)
                if message:
                    return message
            used: dict[str, None] = {}
            for name in by_level:
                for lv in entity.chain(name):
                    used[lv.name] = None
            levels = []
            for name in entity.levels:  # declaration order: parents first
                if name not in used:
                    continue
                level = entity.levels[name]
                rules = by_level.get(name, [])
                labels = {sub: label for sub, _, label in rules}
                levels.append(
                    _LevelPlan(
                        level,
                        rules,
                        {k: labels.get(k) for k in level.key},
                        level.parent is None,
                    )
                )
            self.plans.append(_TargetPlan(target, entity, levels))
            self.store.setdefault(entity.name, {})
        return None

    def _resolve(
        self, target: Target, by_level: dict[str, list[tuple[str, list[Value], str | None]]]
    ) -> str | None:
        assert target.resolve is not None
        by = target.resolve.by
        rule = target.resolve.rule
        what = "EAN" if by == "ean" else "SKU"
        if self.lookups is None:
            self._problem(
                None,
                f"{what} codes are turned into product, variation and size ids through the "
                "catalogue of products sent before, and no catalogue is available here",
                rule.label,
                hint="`validate` resolves codes from the article files given in the same call: "
                "add the article file to the command; `run` uses the catalogue in its journal",
            )
            return f"{what} resolution needs the catalogue"
        codes = rule.evaluate(self.table, self.index)
        find = self.lookups.by_ean if by == "ean" else self.lookups.by_sku
        # A catalogue may know the codes of this run that are not sent (KnowsUnsent).
        unsent = getattr(self.lookups, "unsent_by_ean" if by == "ean" else "unsent_by_sku", None)
        products: list[Value] = []
        variations: list[Value] = []
        sizes: list[Value] = []
        for code in codes:
            if code is None or isinstance(code, Bad) or code == "":
                products.append(code if code != "" else None)
                variations.append(None)
                sizes.append(None)
                continue
            ref = find(code)
            gone = unsent(code) if ref is None and unsent is not None else None
            if gone is not None:
                products.append(
                    Bad(
                        f"not sent: {what} {shorten(code)} belongs to {gone.what}, which was not "
                        f"sent because {gone.because}",
                        rule.label,
                        code,
                        hint="fix that row and push its file again, then push this row again",
                        collateral=True,
                        key=gone.product,
                    )
                )
                variations.append(None)
                sizes.append(None)
            elif ref is None:
                products.append(
                    Bad(
                        f"{what} {shorten(code)} is not in the catalogue: no product sent so far "
                        "has it",
                        rule.label,
                        code,
                        hint="send (or validate together) the article file that defines it, or "
                        "fix the code",
                    )
                )
                variations.append(None)
                sizes.append(None)
            else:
                products.append(ref.product)
                variations.append(ref.variation)
                sizes.append(ref.size)
        label = rule.label
        by_level.setdefault("product", []).insert(0, ("id", products, label))
        by_level.setdefault("variation", []).insert(0, ("id", variations, label))
        by_level.setdefault("size", []).insert(0, ("id", sizes, label))
        return None

    def _row(self, i: int) -> None:
        row_has_problem = False
        ragged = self.table.row_errors.get(i)
        if ragged is not None:
            # Its cells are not where the header says: the row's problem is that, not what
            # its cells hold (a short row's missing cells would each be "empty").
            self._problem(i, ragged, hint="check the delimiter and the quoting of this row")
            self.failed_rows.add(i)
            for plan in self.plans:
                unit_key = self._unit_of(plan, i)
                if unit_key is not None:
                    self.failed_units.setdefault((plan.entity.name, unit_key), i)
            return
        contributions: list[tuple[_TargetPlan, list[tuple[_LevelPlan, Key, dict[str, str]]]]] = []
        units: list[tuple[str, Key]] = []
        skipped = False  # only because of another row (a code of a product not sent)
        nodes: list[tuple[str, tuple[tuple[str, Key], ...]]] | None = [] if self.skip_row else None
        for plan in self.plans:
            present, unit, bad = self._row_levels(plan, i)
            if unit is not None:
                units.append(unit)
            if bad == _SKIPPED:
                skipped = True
            elif bad:
                row_has_problem = True
                path = self._pending_path
                if nodes is not None and path is not None:
                    nodes.append((plan.entity.name, path))
                else:
                    nodes = None
            elif present:
                contributions.append((plan, present))
        if skipped and not row_has_problem:
            return  # contributes nothing, costs no other row, and is no invalid row of its own
        if row_has_problem and nodes:
            # skip_row: only the bad targets' own nodes go; the row feeds its other targets.
            self.failed_rows.add(i)
            self.kept_rows.add(i)
            for node in nodes:
                self.failed_nodes.setdefault(node, i)
            row_has_problem = False
        if not row_has_problem:
            for plan, present in contributions:
                if not self._merge(plan, present, i):
                    row_has_problem = True
        if row_has_problem:
            self.failed_rows.add(i)
            self.kept_rows.discard(i)
            for unit in units:
                self.failed_units.setdefault(unit, i)

    def _row_levels(
        self, plan: _TargetPlan, i: int
    ) -> tuple[list[tuple[_LevelPlan, Key, dict[str, str]]], tuple[str, Key] | None, bool | str]:
        """The row's levels in ``plan``, its unit, and whether it has a problem: True, False,
        or :data:`_SKIPPED` (only because of another row)."""
        entity = plan.entity
        present: list[tuple[_LevelPlan, Key, dict[str, str]]] = []
        present_names: dict[str, Key] = {}
        bad = False
        skipped = False
        pending: list[tuple[str, Bad, str | None]] = []  # skip_row: (level, bad cell, label)
        self._pending_path = None
        missing_keys: list[tuple[_LevelPlan, dict[str, str]]] = []
        for lp in plan.levels:
            if not lp.may_be_bad:
                # The common case: the level's values are all text (no Bad anywhere).
                fields = cast(
                    "dict[str, str]",
                    {sub: v for sub, values in lp.pairs if (v := values[i]) is not None},
                )
                if not lp.key_given(fields):
                    if fields:
                        missing_keys.append((lp, fields))
                    continue
                key = tuple([fields.get(k, "") for k in lp.key_parts])
                if lp.parent is not None and lp.parent not in present_names:
                    missing_keys.append((lp, fields))
                    continue
                present_names[lp.name] = key
                present.append((lp, key, fields))
                continue
            fields = {}
            for sub, values, label in lp.rules:
                value = values[i]
                if value is None:
                    continue
                if isinstance(value, Bad):
                    if self.skip_row and not value.collateral:
                        pending.append((lp.name, value, label))
                        bad = True
                        continue
                    self._bad_cell(
                        i, value, label, entity.name, value.key or self._unit_text(plan, i)
                    )
                    if value.collateral:
                        skipped = True
                    else:
                        bad = True
                    continue
                fields[sub] = value
            if not lp.key_given(fields):
                if fields:
                    missing_keys.append((lp, fields))
                continue
            key = tuple(fields.get(k, "") for k in lp.level.key)
            parent = lp.level.parent
            if parent is not None and parent not in present_names:
                missing_keys.append((lp, fields))
                continue
            present_names[lp.level.name] = key
            present.append((lp, key, fields))
        if missing_keys and not bad and not skipped:
            reported: set[str] = set()
            for lp, _fields in missing_keys:
                upper = next(
                    lv for lv in entity.chain(lp.level.name) if lv.name not in present_names
                )
                keys = upper.key if upper.parent is None else upper.key[:1]
                for k in keys:
                    path = f"{upper.name}.{k}"
                    if path in reported:
                        continue
                    reported.add(path)
                    label = next(
                        (p.key_labels.get(k) for p in plan.levels if p.level.name == upper.name),
                        None,
                    )
                    self._problem(
                        i,
                        f"{path} is empty, so the row's values cannot be placed",
                        label,
                        hint="fill the id column, or leave the row's other columns empty",
                        entity=entity.name,
                        key=self._unit_text(plan, i),
                    )
            bad = True
        unit = None
        chain_keys: list[str] = []
        for name in plan.unit_chain:
            if name not in present_names:
                break
            chain_keys.extend(present_names[name])
        else:
            unit = (entity.name, tuple(chain_keys))
        if pending:
            self._pending_path = node = self._row_node(entity, pending, present_names)
            node_key = "/".join(k for _, part in node for k in part) if node else None
            for _, value, label in pending:
                self._bad_cell(i, value, label, entity.name, node_key or self._unit_text(plan, i))
            if missing_keys:
                self._pending_path = None  # the row cannot be placed: its object goes
        result: bool | str = bad or (_SKIPPED if skipped else False)
        if not present:
            return [], unit, result
        return present, unit, result

    def _merge(
        self, plan: _TargetPlan, present: list[tuple[_LevelPlan, Key, dict[str, str]]], i: int
    ) -> bool:
        entity = plan.entity
        nodes: dict[str, _Node] = {}
        ok = True
        for lp, key, fields in present:
            level = lp.level
            if level.parent is None:
                container = self.store[entity.name]
            else:
                parent = nodes[level.parent]
                if parent.children is None:
                    parent.children = {}
                container = parent.children.setdefault(level.name, {})
            node = container.get(key)
            if node is None:
                node = container[key] = _Node()
                if level.name == entity.unit:
                    node.rows = [i]
                node.fields = dict(fields)
                nodes[level.name] = node
                continue
            if level.name == entity.unit:
                if node.rows is None:
                    node.rows = [i]
                elif node.rows[-1] != i:
                    node.rows.append(i)
            if node.fields == fields:
                nodes[level.name] = node
                continue
            for sub, value in fields.items():
                old = node.fields.get(sub)
                if old is None:
                    node.fields[sub] = value
                elif old != value:
                    ok = False
                    top_key = "/".join(present[0][1])
                    origin = self._origin_row(entity, present[0][1], level.name, sub, old)
                    where = (
                        f"row {self.table.row_numbers[origin]}"
                        if origin is not None
                        else "an earlier row"
                    )
                    label = next((lb for s, _, lb in lp.rules if s == sub), None)
                    self._problem(
                        i,
                        f"conflicts with {shorten(old)!r} given for {level.name}.{sub} of "
                        f"{entity.name} {shorten(top_key)!r} in {where}",
                        label,
                        value,
                        hint="rows of the same object must agree; correct one of the two rows",
                        entity=entity.name,
                        key=top_key,
                    )
            nodes[level.name] = node
        return ok

    def _unit_rows(self, entity: Entity, top: Key) -> list[int]:
        node = self.store.get(entity.name, {}).get(top)
        if node is None:
            return []
        if entity.unit == entity.root:
            return node.rows or []
        rows: list[int] = []
        for units in (node.children or {}).values():
            for unit in units.values():
                rows.extend(unit.rows or [])
        return sorted(set(rows))

    def _origin_row(self, entity: Entity, top: Key, level: str, sub: str, value: str) -> int | None:
        for j in self._unit_rows(entity, top):
            for plan in self.plans:
                if plan.entity is not entity:
                    continue
                for lp in plan.levels:
                    if lp.level.name != level:
                        continue
                    for s, values, _ in lp.rules:
                        if s == sub and values[j] == value:
                            return j
        return None

    # -- after the rows ---------------------------------------------------------------------

    def _drop_failed_units(self) -> None:
        reported: set[int] = {p_row for p_row in self.failed_rows}
        for (entity_name, key), first_bad in list(self.failed_units.items()):
            entity = next(p.entity for p in self.plans if p.entity.name == entity_name)
            node, container, container_key = self._find_unit(entity, key)
            if node is None or container is None:
                continue
            del container[container_key]
            label = "/".join(key)
            reason = self.unit_reasons.get((entity_name, key)) or (
                f"not sent: {entity_name} {shorten(label)!r} also has row "
                f"{self.table.row_numbers[first_bad]}, which has a problem"
            )
            hint = None
            if (entity_name, key) not in self.unit_reasons and self._constants_only(entity_name):
                hint = (
                    f"every row feeds {entity_name} {shorten(label)!r}, as its target gives "
                    "only constants: add `if_filled: COLUMN` to its rules so that only the rows "
                    "with that column filled feed it, or send it from a file of its own"
                )
            cause = self.unit_causes.get((entity_name, key), first_bad)
            for j in node.rows or []:
                if j in reported:
                    continue
                reported.add(j)
                self._problem(
                    j,
                    reason,
                    hint=hint,
                    entity=entity_name,
                    key=label,
                    collateral=True,
                    cause=cause,
                )
            if entity.unit != entity.root:
                top = key[: len(entity.top.key)]
                parent = self.store[entity_name].get(top)
                if parent is not None and not any((parent.children or {}).values()):
                    del self.store[entity_name][top]
        self.failed_units.clear()
        self.unit_reasons.clear()
        self.unit_causes.clear()
        if self.failed_nodes:
            self._drop_failed_nodes()

    def _row_node(
        self, entity: Entity, pending: list[tuple[str, Bad, str | None]], names: dict[str, Key]
    ) -> tuple[tuple[str, Key], ...] | None:
        """skip_row: the path of the node a row's bad cells cost (the deepest level of
        :data:`ROW_LEVELS` above the shallowest bad cell), or None when they cost the object."""
        allowed = ROW_LEVELS.get(entity.name, ())
        shallowest = min((level for level, _, _ in pending), key=lambda n: len(entity.chain(n)))
        chain = entity.chain(shallowest)
        drop = next((lv.name for lv in reversed(chain) if lv.name in allowed), None)
        if drop is None:
            return None
        path = []
        for lv in entity.chain(drop):
            key = names.get(lv.name)
            if key is None:
                return None  # its own key is bad: the row cannot be placed
            path.append((lv.name, key))
        return tuple(path)

    def _drop_failed_nodes(self) -> None:
        """skip_row: drop each node a bad row costs, the rows that fed it, and the nodes of
        the file's stock and pricelists that need it."""
        failed, self.failed_nodes = self.failed_nodes, {}
        for (entity_name, path), cause in failed.items():
            what = " of ".join(f"{name} {shorten('/'.join(key))!r}" for name, key in reversed(path))
            n = self.table.row_numbers[cause]
            self._drop_node(
                entity_name, path, cause, f"not sent: {what} also has row {n}, which has a problem"
            )
            if entity_name != "products":
                continue
            for dependant in DEPENDANTS:
                entity = next((p.entity for p in self.plans if p.entity.name == dependant), None)
                if entity is None or not all(name in entity.levels for name, _ in path):
                    continue
                reason = f"not sent: {dependant} needs {what}, which is not sent because row {n} "
                reason += "has a problem"
                tops = [()] if path[0][0] == entity.root else list(self.store.get(dependant, {}))
                for top in tops:
                    full = path if not top else ((entity.root, top), *path)
                    self._drop_node(dependant, full, cause, reason)

    def _drop_node(
        self, entity_name: str, path: tuple[tuple[str, Key], ...], cause: int, reason: str
    ) -> None:
        container = self.store.get(entity_name)
        unit_rows: list[int] = []
        entity = next(p.entity for p in self.plans if p.entity.name == entity_name)
        for depth, (name, key) in enumerate(path):
            node = container.get(key) if container is not None else None
            if node is None:
                return
            if name == entity.unit:
                unit_rows = node.rows or []
            if depth < len(path) - 1:
                container = (node.children or {}).get(path[depth + 1][0])
        assert container is not None
        del container[path[-1][1]]
        label = "/".join(k for _, key in path for k in key)
        plans = [p for p in self.plans if p.entity.name == entity_name]
        for j in unit_rows:
            if any(self._feeds(plan, j, path) for plan in plans):
                self._problem(
                    j, reason, entity=entity_name, key=label, collateral=True, cause=cause
                )

    def _feeds(self, plan: _TargetPlan, j: int, path: tuple[tuple[str, Key], ...]) -> bool:
        levels = {lp.name: lp for lp in plan.levels}
        for name, key in path:
            lp = levels.get(name)
            if lp is None:
                return False
            values = dict(lp.pairs)
            got = tuple(
                v if k in values and isinstance(v := values[k][j], str) else ""
                for k in lp.key_parts
            )
            if got != key:
                return False
        return True

    def _unit_text(self, plan: _TargetPlan, i: int) -> str | None:
        """The key of the object row ``i`` feeds in ``plan``, as objects are keyed, or None."""
        unit = self._unit_of(plan, i)
        return "/".join(unit) if unit else None

    def _unsent(self, rejected: str | None) -> list[Unsent]:
        """The product sizes of the file's rows that are not sent, with why (for the run's
        catalogue: a later file naming one by EAN or SKU is told which row to fix)."""
        plans = [p for p in self.plans if p.entity.name == "products"]
        if not plans or not (self.failed_rows or self.causes or rejected):
            return []
        table = self.table
        where = table.file if table.sheet is None else f"{table.file} (sheet {table.sheet!r})"
        store = self.store.get("products", {})
        out: dict[tuple[str | None, str | None], Unsent] = {}
        for plan in plans:
            cols = {name: self._values(plan, *name.split(".", 1)) for name in _SIZE_PATHS}

            def text(name: str, j: int, cols: dict[str, list[Value] | None] = cols) -> str | None:
                values = cols[name]
                value = values[j] if values is not None else None
                if isinstance(value, Bad):
                    return value.value or None
                return value or None

            for j in range(table.n_rows):
                pid = cols["product.id"][j] if cols["product.id"] is not None else None
                if not isinstance(pid, str) or not pid:
                    continue
                ean = text("size.ean", j)
                parts = [text(n, j) for n in ("product.sku", "variation.sku", "size.sku")]
                sku = "".join(cast("list[str]", parts)) if all(parts) else None
                if not ean and not sku:
                    continue
                what = f"product {shorten(pid)!r}"
                if rejected:
                    because = f"{where} was not sent: {rejected}"
                else:
                    product = store.get((pid,))
                    vid, sid = text("variation.id", j) or "", text("size.id", j) or ""
                    if product is not None:
                        variation = ((product.children or {}).get("variation") or {}).get((vid,))
                        if variation is None:
                            what = f"variation {shorten(vid)!r} of {what}"
                        elif ((variation.children or {}).get("size") or {}).get((sid,)) is None:
                            what = f"size {shorten(sid)!r} of {what}"
                        else:
                            continue  # sent
                    cause = (
                        j
                        if j in self.failed_rows
                        else self.causes.get(("products", j), self.causes.get((None, j), j))
                    )
                    because = f"row {table.row_numbers[cause]} of {where} has a problem"
                out.setdefault((ean, sku), Unsent(ean, sku, pid, what, because))
        return list(out.values())

    def _constants_only(self, entity_name: str) -> bool:
        """Whether every target of ``entity_name`` gives only constants on every row (so every
        row of the file feeds its one object)."""
        return all(
            rule.source.kind == "constant" and not (rule.if_filled or rule.if_empty)
            for plan in self.plans
            if plan.entity.name == entity_name
            for rule in plan.target.rules
        )

    # -- frozen objects ---------------------------------------------------------------------

    def _values(self, plan: _TargetPlan, level: str, sub: str) -> list[Value] | None:
        """The values of the rule for ``level.sub`` in ``plan`` (None when it has none)."""
        for lp in plan.levels:
            if lp.name == level:
                for s, values, _ in lp.rules:
                    if s == sub:
                        return values
        return None

    def _unit_of(self, plan: _TargetPlan, i: int) -> Key | None:
        """The key of the unit row ``i`` feeds in ``plan`` (as the row loop finds it), or None."""
        levels = {lp.name: lp for lp in plan.levels}
        key: list[str] = []
        for name in plan.unit_chain:
            lp = levels.get(name)
            if lp is None:
                return None
            fields = {
                sub: v
                for sub, values in lp.pairs
                if sub in lp.key_parts and isinstance(v := values[i], str)
            }
            if not lp.key_given(fields):
                return None
            key.extend(fields.get(k, "") for k in lp.key_parts)
        return tuple(key)

    def _hold_frozen(self) -> None:
        """Hold back each frozen object (size table) that a row with a problem feeds.

        Centra refuses any change to a size table once created, so a table sent without the
        size of a bad row would lack that size for good. Every row of such a table is reported
        (as not sent, naming the row to fix), and the file's products that need the table are
        not sent either (Centra would refuse them: their table does not exist). A table the
        catalogue already knows exists in Centra as it is; nothing is held back for it.
        """
        failed_rows = self.failed_rows - self.kept_rows  # (skip_row: their sizes target fed)
        if not failed_rows:
            return
        for plan in self.plans:
            frozen = FROZEN.get(plan.entity.name)
            if frozen is None:
                continue
            level, sub, _ = frozen
            ids = self._values(plan, level, sub)
            if ids is None:
                continue
            users = [
                values
                for user in self.plans
                if (ref := FROZEN_USERS.get(user.entity.name)) is not None
                and ref[2] == plan.entity.name
                and (values := self._values(user, ref[0], ref[1])) is not None
            ]
            bad: dict[str, list[int]] = {}
            for i in sorted(failed_rows):
                # The object the row feeds: its own cell, or (that cell bad or empty) the one
                # a user of the object names on the same row.
                found = next(
                    (v for values in (ids, *users) if isinstance(v := values[i], str) and v), None
                )
                if found is not None:
                    bad.setdefault(found, []).append(i)
            if self.lookups is not None:
                # Created before (a run's journal, an earlier file): frozen as it is already.
                bad = {k: rows for k, rows in bad.items() if self.lookups.sizes_of(k) is None}
            if bad:
                self._hold(plan, ids, bad)
        self._drop_failed_units()

    def _size_of(self, i: int) -> str | None:
        """The size id row ``i`` names in any target, for messages."""
        for plan in self.plans:
            values = self._values(plan, "size", "id")
            if values is not None and isinstance(v := values[i], str) and v:
                return v
        return None

    def _hold(self, plan: _TargetPlan, ids: list[Value], bad: dict[str, list[int]]) -> None:
        """Drop the frozen objects ``bad`` (id -> failed rows) of ``plan``, report each of
        their rows, and mark the units of the objects that need them."""
        entity = plan.entity.name
        level, _, noun = FROZEN[entity]
        row_numbers = self.table.row_numbers
        reasons: dict[str, str] = {}
        for frozen_id, rows in bad.items():
            first = rows[0]
            size = self._size_of(first)
            which = f"row {row_numbers[first]}" + (f" ({level} {shorten(size)})" if size else "")
            if len(rows) == 1:
                which += " has a problem; fix that row"
            else:
                more = len(rows) - 1
                which += f" and {more} more row{'s' if more > 1 else ''} have problems; fix them"
            reasons[frozen_id] = (
                f"{noun} {shorten(frozen_id)!r} is not sent: Centra cannot change a {noun} "
                f"once created, and {which} and push the file again"
            )
            if reasons[frozen_id] not in self.held_back:
                self.held_back.append(reasons[frozen_id])
        store = self.store.get(entity, {})
        for key in [k for k in store if k[0] in bad]:  # (a size's key: sizetable id first)
            del store[key]
        sizes = self._values(plan, level, "id")
        for j, held in enumerate(ids):
            if isinstance(held, str) and held in reasons:
                size_id = sizes[j] if sizes is not None else None
                self._problem(
                    j,
                    reasons[held],
                    entity=entity,
                    key=f"{held}/{size_id}" if isinstance(size_id, str) and size_id else held,
                    collateral=True,
                    cause=bad[held][0],
                )
        for user_entity, (user_level, sub, of) in FROZEN_USERS.items():
            if of != entity:
                continue
            for top, node in self.store.get(user_entity, {}).items():
                needed = _needed(node, user_level, sub, bad)
                if needed is None:
                    continue
                reason = (
                    f"not sent: {user_entity} {shorten('/'.join(top))!r} needs {noun} "
                    f"{shorten(needed)!r}, which is not sent because row "
                    f"{row_numbers[bad[needed][0]]} has a problem"
                )
                for j in node.rows or []:
                    for other in self.plans:
                        if other.entity.name in FROZEN:
                            continue
                        unit = self._unit_of(other, j)
                        if unit is not None:
                            self.failed_units.setdefault((other.entity.name, unit), j)
                            self.unit_reasons.setdefault((other.entity.name, unit), reason)
                            self.unit_causes.setdefault((other.entity.name, unit), bad[needed][0])

    def _find_unit(
        self, entity: Entity, key: Key
    ) -> tuple[_Node | None, dict[Key, _Node] | None, Key]:
        chain = entity.chain(entity.unit)
        container: dict[Key, _Node] | None = self.store.get(entity.name)
        node: _Node | None = None
        pos = 0
        part: Key = ()
        for depth, level in enumerate(chain):
            width = len(level.key)
            part = key[pos : pos + width]
            pos += width
            if container is None:
                return None, None, part
            node = container.get(part)
            if node is None:
                return None, None, part
            if depth < len(chain) - 1:
                container = (node.children or {}).get(chain[depth + 1].name)
        return node, container, part

    def _check_products(self) -> None:
        entity = next(p.entity for p in self.plans if p.entity.name == "products")
        owners: dict[str, str] = {}
        for (pid,), product in self.store["products"].items():
            names: dict[str, str] = {}
            for (vid,), variation in ((product.children or {}).get("variation") or {}).items():
                row = self._origin_row(entity, (pid,), "variation", "id", vid)
                owner = owners.setdefault(vid, pid)
                if owner != pid:
                    self._flag(
                        entity,
                        (pid,),
                        row,
                        f"variation id {shorten(vid)!r} is already used by product "
                        f"{shorten(owner)!r}: variation ids must be unique across all products",
                        "variation",
                        "id",
                        vid,
                    )
                name = variation.fields.get("description")
                if name:
                    first = names.setdefault(name, vid)
                    if first != vid:
                        self._flag(
                            entity,
                            (pid,),
                            self._origin_row(entity, (pid,), "variation", "description", name),
                            f"variation {shorten(vid)!r} has the same name {shorten(name)!r} as "
                            f"variation {shorten(first)!r}: variant names must be unique within a "
                            "product",
                            "variation",
                            "description",
                            name,
                        )
                self._check_sizetable(entity, pid, vid, variation)

    def _check_sizetable(self, entity: Entity, pid: str, vid: str, variation: _Node) -> None:
        table_id = variation.fields.get("sizetable.id")
        if not table_id or self.lookups is None:
            return
        known = self.lookups.sizes_of(table_id)
        if known is None:
            return
        for (sid,) in (variation.children or {}).get("size") or {}:
            if sid not in known:
                row = self._origin_row(entity, (pid,), "size", "id", sid)
                self._flag(
                    entity,
                    (pid,),
                    row,
                    f"size {shorten(sid)!r} is not in sizetable {shorten(table_id)!r} (it has "
                    f"{listed(list(known), quote=False)}); sizetables cannot change once created",
                    "size",
                    "id",
                    sid,
                )

    def _flag(
        self,
        entity: Entity,
        key: Key,
        row: int | None,
        message: str,
        level: str,
        sub: str,
        value: str,
    ) -> None:
        label = None
        for plan in self.plans:
            for lp in plan.levels:
                if lp.level.name == level:
                    label = next((lb for s, _, lb in lp.rules if s == sub), label)
        self._problem(row, message, label, value, entity=entity.name, key="/".join(key))
        if row is not None:
            self.failed_rows.add(row)
        self.failed_units.setdefault((entity.name, key), row if row is not None else 0)

    def _objects(self) -> list[MappedObject]:
        objects: list[MappedObject] = []
        row_numbers = self.table.row_numbers
        for entity_name, nodes in self.store.items():
            entity = next(p.entity for p in self.plans if p.entity.name == entity_name)
            build = _builder(entity, [p for p in self.plans if p.entity is entity])
            deps = DEPENDENCIES.get(entity_name)
            for key, node in nodes.items():
                for unit_key, unit_node, unit_rows in self._units(entity, key, node):
                    item = build(unit_node)
                    if item is None:
                        continue
                    objects.append(
                        MappedObject(
                            entity=entity_name,
                            operation=entity.operation,
                            key="/".join(unit_key),
                            item=item,
                            rows=tuple(row_numbers[j] for j in unit_rows),
                            depends_on=deps(item) if deps else (),
                        )
                    )
        return objects

    def _units(
        self, entity: Entity, key: Key, node: _Node
    ) -> Iterator[tuple[Key, _Node, list[int]]]:
        """The units of an object: the object itself, or (pricelists) one per product.

        A pricelist unit is the pricelist's header with one product, keyed
        ``pricelist/product``, so that a product Centra refuses (or that failed earlier in the
        run) costs only its own price rows; the sender merges units of one pricelist back into
        one ``<pricelist>`` per request.
        """
        if entity.unit == entity.root or not node.children:
            yield key, node, self._unit_rows(entity, key)
            return
        for level, units in node.children.items():
            for unit_key, unit_node in units.items():
                single = _Node()
                single.fields = node.fields
                single.rows = unit_node.rows
                single.children = {level: {unit_key: unit_node}}
                yield (*key, *unit_key), single, sorted(set(unit_node.rows or []))

    def _rejection(self) -> str | None:
        invalid = len(self.failed_rows)
        if not invalid:
            return None
        m = self.mapping
        total = self.table.n_rows
        if m.on_invalid == "reject":
            return (
                f"{invalid} of {total} rows have problems and the mapping says on_invalid: reject"
            )
        if m.max_invalid_rows is not None and invalid > m.max_invalid_rows:
            return (
                f"{invalid} of {total} rows have problems, "
                f"more than max_invalid_rows ({m.max_invalid_rows})"
            )
        if m.max_invalid_percent is not None and invalid * 100 > m.max_invalid_percent * total:
            return (
                f"{invalid} of {total} rows ({invalid * 100 / total:.1f}%) have problems, "
                f"more than max_invalid_rows ({m.max_invalid_percent:g}%)"
            )
        return None


def _needed(node: _Node, level: str, sub: str, held: Mapping[str, object]) -> str | None:
    """The first held-back frozen id that a child at ``level`` of ``node`` names in ``sub``
    (a product's variation its size table), or None."""
    for child in ((node.children or {}).get(level) or {}).values():
        found = child.fields.get(sub)
        if found is not None and found in held:
            return found
    return None


# -- building payloads ----------------------------------------------------------------------

_Plan = list[tuple[int, str, Any]]
_LEAF, _GROUP, _CHILD = 0, 1, 2


def _builder(
    entity: Entity, plans: Sequence[_TargetPlan]
) -> Callable[[_Node], dict[str, Any] | None]:
    """A function building a node's item dict in Centra's element order (used paths only)."""
    used: dict[str, set[str]] = {}
    for plan in plans:
        for lp in plan.levels:
            subs = used.setdefault(lp.level.name, set())
            subs.update(sub for sub, _, _ in lp.rules)
            subs.update(lp.level.key)
    builders: dict[str, Callable[[_Node], dict[str, Any] | None]] = {}

    def entries_plan(entries: Iterable[Any], level: Level) -> _Plan:
        out: _Plan = []
        for entry in entries:
            if isinstance(entry, Leaf):
                if entry.path in used[level.name]:
                    out.append((_LEAF, entry.name, entry.path))
            elif isinstance(entry, Group):
                sub = entries_plan(entry.entries, level)
                if sub:
                    out.append((_GROUP, entry.name, sub))
            elif isinstance(entry, Child) and entry.level in used:
                level_builder(entry.level)
                out.append((_CHILD, entity.levels[entry.level].element, entry.level))
        return out

    def fill(node: _Node, steps: _Plan, out: dict[str, Any], built: set[str]) -> None:
        for kind, element, arg in steps:
            if kind == _LEAF:
                value = node.fields.get(arg)
                if value is not None:
                    out[element] = value
            elif kind == _GROUP:
                group: dict[str, Any] = {}
                fill(node, arg, group, built)
                if group:
                    out[element] = group
            else:
                kids = (node.children or {}).get(arg)
                if kids:
                    make = builders[arg]
                    items = [b for b in map(make, kids.values()) if b is not None]
                    if items:
                        out[element] = items
                        built.add(arg)

    def level_builder(name: str) -> None:
        level = entity.levels[name]
        plan = entries_plan(level.entries, level)
        prune = level.prune_unless

        def build(node: _Node) -> dict[str, Any] | None:
            out: dict[str, Any] = {}
            built: set[str] = set()
            fill(node, plan, out, built)
            if prune and not any(node.fields.get(p) is not None or p in built for p in prune):
                return None
            return out

        builders[name] = build

    level_builder(entity.root)
    return builders[entity.root]


# -- dependencies ---------------------------------------------------------------------------


def _items(item: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    current: Any = item
    for part in path[:-1]:
        current = current.get(part, {}) if isinstance(current, dict) else {}
    found = current.get(path[-1], []) if isinstance(current, dict) else []
    return found if isinstance(found, list) else [found]


def _product_deps(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    deps: dict[tuple[str, str], None] = {}
    for variation in _items(item, "variations", "variation"):
        table = variation.get("sizetable", {}).get("id")
        if table:
            for size in _items(variation, "sizes", "size"):
                deps[("sizes", f"{table}/{size['id']}")] = None
    return tuple(deps)


def _stock_deps(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return (("products", item["id"]),)


def _pricelist_deps(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(dict.fromkeys(("products", p["id"]) for p in _items(item, "items", "product")))


def _account_deps(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    deps: dict[tuple[str, str], None] = {}
    refs = (("market", "markets"), ("pricelist", "pricelists"), ("salesrep", "salesreps"),
            ("paymentterms", "paymentterms"), ("shippingterms", "shippingterms"))  # fmt: skip
    for owner in [item, *_items(item, "buyers", "buyer")]:
        for element, entity in refs:
            ref = owner.get(element)
            if isinstance(ref, dict) and ref.get("id"):
                deps[(entity, ref["id"])] = None
    return tuple(deps)


def _salesrep_deps(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(("salesreps", s["id"]) for s in _items(item, "mastersalesrep", "salesrep"))


DEPENDENCIES: dict[str, Callable[[dict[str, Any]], tuple[tuple[str, str], ...]]] = {
    "products": _product_deps,
    "stock": _stock_deps,
    "pricelists": _pricelist_deps,
    "accounts": _account_deps,
    "salesreps": _salesrep_deps,
}
