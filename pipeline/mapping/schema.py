"""Mapping files: YAML -> checked -> compiled, frozen :class:`CompiledMapping`.

Every problem in every mapping file is collected before anything is raised, each with the file
and the key path (``mappings/articles.yaml: targets[1].fields["size.ean"].type: unknown type
'gtin14'``), then one :class:`~pipeline.errors.MappingError` lists them all.

YAML is read with YAML 1.2-style scalars: only ``true``/``false`` are booleans (so ``NO``,
Norway, stays a string), numbers with leading zeros (``007``) and anything with a dot stay
strings, dates are not converted.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import MappingError
from pipeline.mapping import types as T
from pipeline.mapping.entities import ENTITIES, Entity
from pipeline.mapping.rules import (
    ClearSource,
    ColumnSource,
    ConstantSource,
    Rule,
    Source,
    TemplateSource,
    map_values,
    template_fields,
)
from pipeline.readers import EXCEL_SUFFIXES, ReadOptions

MAPPING_KEYS = (
    "match",
    "sheet",
    "description",
    "read",
    "targets",
    "on_invalid",
    "max_invalid_rows",
)
#: What a row with a problem costs: ``skip`` its whole object (a product with all its
#: variations), ``skip_row`` only its own size or variation where the entity allows it (see
#: :data:`pipeline.mapping.engine.ROW_LEVELS`), ``reject`` the whole file.
ON_INVALID = ("skip", "skip_row", "reject")

READ_KEYS = (
    "encoding",
    "delimiter",
    "quotechar",
    "header_row",
    "skip_rows",
    "decimal",
    "thousands",
    "date_format",
    "datetime_format",
)
TARGET_KEYS = ("entity", "name", "description", "fields", "resolve")
RULE_KEYS = (
    "column",
    "constant",
    "template",
    "clear",
    "required",
    "default",
    "clear_if",
    "map",
    "map_default",
    "type",
    "decimal",
    "thousands",
    "places",
    "date_format",
    "date_output",
    "check_digit",
    "pad_to",
    "trim",
    "case",
    "ascii",
    "max_length",
    "truncate",
    "if_filled",
    "if_empty",
)
SOURCES = ("column", "constant", "template", "clear")
TYPE_OPTIONS = {
    "decimal": ("decimal",),
    "thousands": ("decimal", "integer"),
    "places": ("decimal",),
    "date_format": ("date",),
    "date_output": ("date",),
    "check_digit": ("ean",),
    "pad_to": ("ean",),
}
DEFAULT_DATE_INPUTS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y%m%d")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like implicit types (see the module docstring)."""


_DROPPED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*))$"), list("-+0123456789")
)


@dataclass(frozen=True)
class Resolve:
    """Ids of a stock row looked up in the catalogue by EAN or by full SKU."""

    by: str  # "ean" or "sku"
    rule: Rule


@dataclass(frozen=True)
class Target:
    index: int
    entity: Entity
    rules: tuple[Rule, ...]
    resolve: Resolve | None = None
    name: str = ""


@dataclass(frozen=True)
class CompiledMapping:
    """A checked mapping file, ready to map files: see :func:`pipeline.mapping.map_file`."""

    name: str
    source: Path
    match: tuple[str, ...]
    read: ReadOptions
    targets: tuple[Target, ...]
    sheet: str | int | None = None
    description: str = ""
    on_invalid: str = "skip"
    max_invalid_rows: int | None = None
    max_invalid_percent: float | None = None
    columns: frozenset[str] = field(default=frozenset())

    @property
    def entities(self) -> tuple[str, ...]:
        """The entities this mapping produces, in target order, each once."""
        return tuple(dict.fromkeys(t.entity.name for t in self.targets))

    def matches(self, path: Path | str) -> bool:
        """Whether the file name matches one of the ``match`` globs (case-insensitive)."""
        name = Path(path).name.casefold()
        return any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.match)


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((f"{self.file}: {path}" if path else self.file, message))


def _key(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_]\w*", key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def _unknown_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...], path: str, out: _Problems
) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
            out.add(_key(path, str(key)), f"unknown key{hint}")


def load_mapping_file(path: Path, display: str | None = None) -> CompiledMapping:
    """Load and compile one mapping file; MappingError lists every problem in it."""
    problems = _Problems(display or path.name)
    mapping = _load(path, problems)
    if problems.items or mapping is None:
        raise MappingError(f"{problems.file} is not a valid mapping", problems=problems.items)
    return mapping


@dataclass(frozen=True)
class BrokenMapping:
    """A mapping file with problems: the files it would match wait until it is fixed.

    ``match`` holds its globs where they could still be read (a syntax error elsewhere in the
    file leaves the ``match:`` line readable); empty when not.
    """

    file: str
    problems: tuple[tuple[str, str], ...]
    match: tuple[str, ...]

    def matches(self, path: Path | str) -> bool:
        name = Path(path).name.casefold()
        return any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.match)

    def error(self) -> MappingError:
        return MappingError(
            f"{self.file} has problems; the files it matches wait in the inbox until it is fixed",
            problems=list(self.problems),
            hint="fix the keys named above (docs/mappings.md lists every key and path); the "
            "next run imports the waiting files",
        )

    def summary(self) -> str:
        where, what = self.problems[0] if self.problems else (self.file, "cannot be compiled")
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        return f"{where}: {what}{more}"


def load_mappings_leniently(folder: Path) -> tuple[list[CompiledMapping], list[BrokenMapping]]:
    """Like :func:`load_mappings`, but a mapping file with problems does not stop the others:
    it is returned as a :class:`BrokenMapping`, so that only the files it matches wait.

    A missing mappings folder still raises :class:`MappingError`.
    """
    compiled: list[CompiledMapping] = []
    broken: list[BrokenMapping] = []
    for file in _mapping_files(folder):
        problems = _Problems(f"{folder.name}/{file.name}")
        mapping = _load(file, problems)
        if mapping is not None and not problems.items:
            compiled.append(mapping)
        else:
            broken.append(BrokenMapping(problems.file, tuple(problems.items), _globs_of(file)))
    return compiled, broken


def _globs_of(path: Path) -> tuple[str, ...]:
    """The ``match`` globs of a mapping file that may not even be valid YAML (best effort)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ()
    try:
        data = yaml.safe_load(text)
        match = data.get("match") if isinstance(data, dict) else None
    except yaml.YAMLError:
        line = re.search(r"^match:[ \t]*(.+)$", text, re.MULTILINE)
        try:
            match = yaml.safe_load(line.group(1)) if line else None
        except yaml.YAMLError:
            match = None
    if isinstance(match, str):
        match = [match]
    if isinstance(match, list):
        return tuple(m for m in match if isinstance(m, str) and m)
    return ()


def _mapping_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise MappingError(
            f"the mappings folder {folder} does not exist",
            hint="create it (centra-pipeline init) or pass --workspace",
        )
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_mappings(folder: Path) -> list[CompiledMapping]:
    """Every mapping in ``folder`` (``*.yaml``, ``*.yml``, by file name), checked and compiled.

    Raises one :class:`MappingError` listing the problems of all files at once::

        mappings = load_mappings(Path("mappings"))
    """
    files = _mapping_files(folder)
    compiled: list[CompiledMapping] = []
    all_problems: list[tuple[str, str]] = []
    for file in files:
        problems = _Problems(f"{folder.name}/{file.name}")
        mapping = _load(file, problems)
        all_problems.extend(problems.items)
        if mapping is not None and not problems.items:
            compiled.append(mapping)
    if all_problems:
        count = len({p.split(":", 1)[0] for p, _ in all_problems})
        raise MappingError(
            f"{count} mapping file{'s' if count != 1 else ''} in {folder} "
            f"{'have' if count != 1 else 'has'} problems",
            problems=all_problems,
            hint="fix the keys named above; docs/mappings.md lists every key and path",
        )
    return compiled


def _load(path: Path, out: _Problems) -> CompiledMapping | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        out.add("", f"cannot be read: {exc}")
        return None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        out.add(where, f"is not valid YAML: {reason}")
        return None
    if not isinstance(data, dict):
        out.add("", "must be a YAML mapping with match, read and targets")
        return None
    return _compile_mapping(path, data, out)


def _compile_mapping(path: Path, data: dict[str, Any], out: _Problems) -> CompiledMapping | None:
    _unknown_keys(data, MAPPING_KEYS, "", out)
    match = data.get("match")
    patterns: tuple[str, ...] = ()
    if isinstance(match, str) and match.strip():
        patterns = (match,)
    elif isinstance(match, list) and match and all(isinstance(m, str) and m for m in match):
        patterns = tuple(match)
    else:
        out.add("match", "is required: a file-name glob or a list of them, e.g. 'articles*.csv'")
    sheet = data.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        out.add("sheet", "must be a sheet name or a 0-based sheet number")
        sheet = None
    if (
        sheet is not None
        and patterns
        and not any(p.casefold().endswith(EXCEL_SUFFIXES) or p.endswith("*") for p in patterns)
    ):
        out.add("sheet", "is set but match names no Excel file (.xlsx, .xlsm)")
    read, decimal, thousands = _read_options(data.get("read"), sheet, out)
    on_invalid = data.get("on_invalid", "skip")
    if on_invalid not in ON_INVALID:
        out.add(
            "on_invalid",
            "must be 'skip' (leave out each bad row's object), 'skip_row' (leave out only a bad "
            "row's own size or variation) or 'reject' (send nothing)",
        )
    max_count, max_percent = _max_invalid(data.get("max_invalid_rows"), out)
    targets_data = data.get("targets")
    targets: list[Target] = []
    if targets_data is None or targets_data == []:
        out.add("targets", "is required: a list of targets, each with an entity and fields")
    elif not isinstance(targets_data, list):
        out.add("targets", "must be a list of targets, each item starting with '- entity:'")
    else:
        for i, target in enumerate(targets_data):
            compiled = _compile_target(i, target, f"targets[{i}]", decimal, thousands, out)
            if compiled is not None:
                targets.append(compiled)
    description = data.get("description", "")
    if out.items:
        return None
    columns = frozenset(
        c
        for t in targets
        for rule in (*t.rules, *([t.resolve.rule] if t.resolve else []))
        for c in rule.columns
    )
    return CompiledMapping(
        name=path.stem,
        source=path,
        match=patterns,
        read=read,
        targets=tuple(targets),
        sheet=sheet,
        description=str(description or ""),
        on_invalid=on_invalid,
        max_invalid_rows=max_count,
        max_invalid_percent=max_percent,
        columns=columns,
    )


def _read_options(
    data: Any, sheet: str | int | None, out: _Problems
) -> tuple[ReadOptions, str | None, str | None]:
    if data is None:
        return ReadOptions(sheet=sheet), None, None
    if not isinstance(data, dict):
        out.add("read", "must be a mapping of read options")
        return ReadOptions(sheet=sheet), None, None
    _unknown_keys(data, READ_KEYS, "read", out)
    options: dict[str, Any] = {"sheet": sheet}
    encoding = data.get("encoding")
    if encoding is not None and encoding != "auto":
        import codecs

        try:
            codecs.lookup(str(encoding))
            options["encoding"] = str(encoding)
        except LookupError:
            out.add("read.encoding", f"unknown encoding {encoding!r} (try utf-8, cp1252, latin-1)")
    delimiter = data.get("delimiter")
    if delimiter is not None and delimiter != "auto":
        named = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
        delimiter = named.get(str(delimiter), delimiter)
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            out.add(
                "read.delimiter", "must be one character (or tab, semicolon, comma, pipe, auto)"
            )
        else:
            options["delimiter"] = delimiter
    if "quotechar" in data:
        if not isinstance(data["quotechar"], str) or len(data["quotechar"]) != 1:
            out.add("read.quotechar", "must be one character")
        else:
            options["quotechar"] = data["quotechar"]
    for key, minimum in (("header_row", 1), ("skip_rows", 0)):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                out.add(f"read.{key}", f"must be a whole number >= {minimum}")
            else:
                options[key] = value
    for key in ("date_format", "datetime_format"):
        if key in data:
            if not isinstance(data[key], str) or "%" not in data[key]:
                out.add(f"read.{key}", "must be a strftime format such as '%d.%m.%Y'")
            else:
                options[key] = data[key]
    decimal = data.get("decimal")
    if decimal is not None and decimal not in (",", "."):
        out.add("read.decimal", "must be ',' or '.'")
        decimal = None
    thousands = data.get("thousands")
    if thousands is not None and thousands not in (",", ".", " ", "'"):
        out.add("read.thousands", "must be ',', '.', ' ' or \"'\"")
        thousands = None
    return ReadOptions(**options), decimal, thousands


def _max_invalid(value: Any, out: _Problems) -> tuple[int | None, float | None]:
    if value is None:
        return None, None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value)
        if m:
            return None, float(m.group(1))
    out.add("max_invalid_rows", "must be a count (e.g. 10) or a percentage (e.g. '5%')")
    return None, None


def _compile_target(
    index: int, data: Any, path: str, decimal: str | None, thousands: str | None, out: _Problems
) -> Target | None:
    if not isinstance(data, dict):
        out.add(path, "must be a mapping with entity and fields")
        return None
    _unknown_keys(data, TARGET_KEYS, path, out)
    entity_name = data.get("entity")
    entity = ENTITIES.get(str(entity_name)) if entity_name is not None else None
    if entity is None:
        close = difflib.get_close_matches(str(entity_name), list(ENTITIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if entity_name is None:
            out.add(f"{path}.entity", "is required: one of " + ", ".join(ENTITIES))
        else:
            out.add(
                f"{path}.entity",
                f"unknown entity {entity_name!r}{hint}; one of " + ", ".join(ENTITIES),
            )
        return None
    fields = data.get("fields")
    rules: list[Rule] = []
    if not isinstance(fields, dict) or not fields:
        out.add(f"{path}.fields", "is required: a mapping from a field path to a rule")
        fields = {}
    for field_path, spec in fields.items():
        rule_path = _key(f"{path}.fields", str(field_path))
        split = entity.split_path(str(field_path))
        if split is None:
            suggestion = entity.suggest(str(field_path))
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            out.add(rule_path, f"unknown field path for {entity.name}{hint}")
            continue
        rule = _compile_rule(
            str(field_path), split[0], split[1], spec, rule_path, decimal, thousands, out
        )
        if rule is not None:
            rules.append(rule)
    resolve = None
    if "resolve" in data:
        resolve = _compile_resolve(entity, data["resolve"], f"{path}.resolve", out)
    _check_keys(entity, rules, resolve, path, out)
    return Target(index, entity, tuple(rules), resolve, str(data.get("name") or entity.name))


def _compile_resolve(entity: Entity, data: Any, path: str, out: _Problems) -> Resolve | None:
    if not entity.resolvable:
        out.add(path, f"is only for stock (ids looked up by EAN or SKU), not for {entity.name}")
        return None
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in ("ean", "sku"):
        out.add(path, "must be `ean: <rule>` or `sku: <rule>` (the column holding the code)")
        return None
    by, spec = next(iter(data.items()))
    rule = _compile_rule(f"resolve.{by}", "", by, spec, f"{path}.{by}", None, None, out)
    return Resolve(by, rule) if rule is not None else None


def _check_keys(
    entity: Entity, rules: list[Rule], resolve: Resolve | None, path: str, out: _Problems
) -> None:
    """Every level that receives a field needs its id, and so do the levels above it."""
    mapped = {r.path for r in rules}
    if resolve is not None:
        for p in entity.resolvable:
            if p in mapped:
                out.add(
                    _key(f"{path}.fields", p), f"comes from resolve.{resolve.by}; remove this rule"
                )
        mapped |= set(entity.resolvable)
    used = {r.level for r in rules} | {entity.root}
    needed: dict[str, None] = {}
    for level in used:
        for lv in entity.chain(level):
            keys = lv.key if lv.name == entity.root else lv.key[:1]
            for key in keys:
                needed[f"{lv.name}.{key}"] = None
    for key_path in needed:
        if key_path not in mapped:
            out.add(
                _key(f"{path}.fields", key_path),
                f"is missing: {entity.name} need the Centra id {key_path!r} to know which object "
                "a row updates",
            )


def _compile_rule(
    path: str,
    level: str,
    sub: str,
    spec: Any,
    where: str,
    decimal: str | None,
    thousands: str | None,
    out: _Problems,
) -> Rule | None:
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        out.add(where, "must be a column name or a rule (column, constant, template, clear, ...)")
        return None
    before = len(out.items)
    _unknown_keys(spec, RULE_KEYS, where, out)
    given = [k for k in SOURCES if k in spec and not (k == "clear" and spec[k] is False)]
    source: Source | None = None
    if len(given) != 1:
        out.add(
            where,
            "needs exactly one of column, constant, template, clear"
            + (f" (has {', '.join(given)})" if given else ""),
        )
    else:
        kind = given[0]
        value = spec[kind]
        if kind == "column":
            if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
                out.add(f"{where}.column", "must be a column name from the header row")
            else:
                source = ColumnSource(str(value))
        elif kind == "constant":
            if value is None or isinstance(value, (dict, list)):
                out.add(
                    f"{where}.constant",
                    "must be a text or a number (use `clear: true` for an empty element)",
                )
            else:
                source = ConstantSource(_scalar(value))
        elif kind == "template":
            if not isinstance(value, str):
                out.add(f"{where}.template", "must be a text such as '{Article} {Colour}'")
            else:
                try:
                    names = template_fields(value)
                except ValueError as exc:
                    out.add(f"{where}.template", str(exc))
                else:
                    if not names:
                        out.add(
                            f"{where}.template", "names no column; use constant for a fixed value"
                        )
                    else:
                        source = TemplateSource(value, tuple(dict.fromkeys(names)))
        elif value is not True:
            out.add(f"{where}.clear", "must be true (always write an empty element)")
        else:
            source = ClearSource()

    def flag(key: str, default: bool) -> bool:
        value = spec.get(key, default)
        if not isinstance(value, bool):
            out.add(f"{where}.{key}", "must be true or false")
            return default
        return value

    required = flag("required", False)
    trim = flag("trim", True)
    fold = flag("ascii", False)
    truncate = flag("truncate", False)
    default = spec.get("default")
    if default is not None:
        if isinstance(default, (dict, list)):
            out.add(f"{where}.default", "must be a text or a number")
            default = None
        else:
            default = _scalar(default)
    clear_if_raw = spec.get("clear_if")
    clear_if: frozenset[str] = frozenset()
    if clear_if_raw is not None:
        values = clear_if_raw if isinstance(clear_if_raw, list) else [clear_if_raw]
        if any(isinstance(v, (dict, list)) or v is None for v in values):
            out.add(f"{where}.clear_if", 'must be a text or a list of texts ("" = an empty cell)')
        else:
            clear_if = frozenset(_scalar(v) for v in values)
    steps: list[T.Converter] = []
    if "map" in spec:
        table = spec["map"]
        if (
            not isinstance(table, dict)
            or not table
            or any(isinstance(v, (dict, list)) for v in table.values())
        ):
            out.add(
                f"{where}.map",
                "must map cell values to Centra values, e.g. {A: active, I: inactive} "
                "(null leaves the field out)",
            )
        else:
            md = spec.get("map_default")
            steps.append(
                map_values(
                    {_scalar(k): None if v is None else _scalar(v) for k, v in table.items()},
                    _scalar(md) if md is not None else None,
                    None,
                )
            )
    elif "map_default" in spec:
        out.add(f"{where}.map_default", "only makes sense with map")
    type_name = spec.get("type", "string")
    type_name = T.TYPE_ALIASES.get(str(type_name), type_name)
    if type_name not in T.TYPES:
        close = difflib.get_close_matches(str(type_name), T.TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; one of {', '.join(T.TYPES)}"
        out.add(f"{where}.type", f"unknown type {spec.get('type')!r}{hint}")
        type_name = "string"
    for option, allowed in TYPE_OPTIONS.items():
        if option in spec and type_name not in allowed:
            out.add(f"{where}.{option}", f"only applies to type {' or '.join(allowed)}")
    converter = _type_converter(type_name, spec, where, decimal, thousands, out)
    if converter is not None:
        steps.append(converter)
    case = spec.get("case")
    if case is not None:
        if case == "upper":
            steps.append(str.upper)
        elif case == "lower":
            steps.append(str.lower)
        else:
            out.add(f"{where}.case", "must be upper or lower")
    if fold:
        steps.append(T.ascii_fold)
    if "max_length" in spec:
        limit = spec["max_length"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            out.add(f"{where}.max_length", "must be a whole number >= 1")
        else:
            steps.append(T.max_length(limit, truncate))
    conditions: dict[str, str | None] = {}
    for key in ("if_filled", "if_empty"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool)):
            out.add(f"{where}.{key}", "must be a column name")
            value = None
        conditions[key] = str(value) if value is not None else None
    if len(out.items) > before or source is None:
        return None
    return Rule(
        path=path,
        level=level,
        sub=sub,
        source=source,
        required=required,
        default=default,
        clear_if=clear_if,
        trim=trim,
        if_filled=conditions["if_filled"],
        if_empty=conditions["if_empty"],
        convert=T.chain(steps),
    )


def _type_converter(
    type_name: str,
    spec: dict[str, Any],
    where: str,
    decimal: str | None,
    thousands: str | None,
    out: _Problems,
) -> T.Converter | None:
    if type_name == "string":
        return None
    if type_name == "integer":
        base = T.integer()
        sep = spec.get("thousands", thousands)
        if sep:
            return lambda text: base(text.replace(str(sep), ""))
        return base
    if type_name == "decimal":
        sep = spec.get("decimal", decimal)
        if sep is not None and sep not in (",", "."):
            out.add(f"{where}.decimal", "must be ',' or '.'")
            sep = None
        th = spec.get("thousands", thousands)
        places = spec.get("places")
        if places is not None and (
            isinstance(places, bool) or not isinstance(places, int) or places < 0
        ):
            out.add(f"{where}.places", "must be a whole number >= 0")
            places = None
        return T.decimal(sep, th, places)
    if type_name == "yesno":
        return T.boolean("yes", "no")
    if type_name == "truefalse":
        return T.boolean("true", "false")
    if type_name == "date":
        inputs = spec.get("date_format", list(DEFAULT_DATE_INPUTS))
        inputs = inputs if isinstance(inputs, list) else [inputs]
        output = spec.get("date_output", "%Y-%m-%d")
        if not all(isinstance(f, str) and "%" in f for f in [*inputs, output]):
            out.add(f"{where}.date_format", "must be strftime formats such as '%d.%m.%Y'")
            return None
        return T.date(tuple(inputs), output)
    if type_name == "ean":
        check = spec.get("check_digit", True)
        pad = spec.get("pad_to")
        if not isinstance(check, bool):
            out.add(f"{where}.check_digit", "must be true or false")
            check = True
        if pad is not None and pad not in (8, 12, 13, 14):
            out.add(f"{where}.pad_to", "must be 8, 12, 13 or 14")
            pad = None
        return T.ean(check, pad)
    if type_name == "country":
        return T.country()
    return None  # pragma: no cover - TYPES is exhaustive


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
