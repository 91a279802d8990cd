"""``validate``: read and map files without any network, and say what would be sent.

Files are mapped in the order the pipeline would send them (sizes before products, products
before stock), so a stock file keyed by EAN resolves against the article files of the same
call (:class:`~pipeline.mapping.catalogue.MemoryCatalogue`), and product sizes are checked
against the sizetables of a sizes file of the same call.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from pathlib import Path

from pipeline.errors import PipelineError, ReadError
from pipeline.mapping.batches import batches
from pipeline.mapping.catalogue import MemoryCatalogue
from pipeline.mapping.engine import MappedFile, map_file
from pipeline.mapping.entities import ENTITY_ORDER
from pipeline.mapping.schema import CompiledMapping, load_mapping_file, load_mappings

MASKED_PASSWORD = "***"  # noqa: S105 - what archived XML shows instead of the password


@dataclass
class FileReport:
    """What validate found for one file (and, for a workbook, one sheet's mapping)."""

    path: Path
    mapping: str | None = None
    sheet: str | None = None
    rows_total: int = 0
    objects: dict[str, int] = field(default_factory=dict)
    #: Row problems (RowProblem) or a file-level ReadError.
    problems: list[PipelineError] = field(default_factory=list)
    rejected: str | None = None
    xml_files: list[Path] = field(default_factory=list)
    mapped: MappedFile | None = None
    #: Frozen objects (size tables) held back whole because a row feeding them has a problem.
    held_back: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.rejected is None

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "mapping": self.mapping,
            "sheet": self.sheet,
            "rows": self.rows_total,
            "objects": self.objects,
            "rejected": self.rejected,
            "held_back": self.held_back,
            "problems": [
                {
                    "row": getattr(p, "row", None) or getattr(p, "line", None),
                    "column": getattr(p, "column", None),
                    "value": getattr(p, "value", None),
                    "message": getattr(p, "reason", None) or p.message,
                    "hint": p.hint,
                    "text": str(p),
                }
                for p in self.problems
            ],
            "xml_files": [str(x) for x in self.xml_files],
        }


@dataclass
class ValidationReport:
    files: list[FileReport]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def find_mappings(mappings: list[CompiledMapping], path: Path) -> list[CompiledMapping]:
    """Every mapping whose ``match`` globs take ``path`` (a workbook may have one per sheet)."""
    return [m for m in mappings if m.matches(path)]


def find_mapping(
    mappings: list[CompiledMapping], path: Path, sheet: str | int | None = None
) -> CompiledMapping | None:
    """The first mapping for ``path`` (and ``sheet``, when given), or None."""
    for mapping in find_mappings(mappings, path):
        if sheet is None or mapping.sheet == sheet:
            return mapping
    return None


def _send_rank(mapping: CompiledMapping) -> tuple[int, int]:
    resolves = any(t.resolve is not None for t in mapping.targets)
    first = min(ENTITY_ORDER.index(e) for e in mapping.entities)
    return (1 if resolves else 0, first)


class XmlOutError(PipelineError):
    """``--xml-out`` cannot be written (not a folder, no permission, disk full)."""

    exit_code = 2


def validate_files(
    workspace: Path,
    files: list[Path],
    *,
    xml_out: Path | None = None,
    mapping_file: Path | None = None,
    batch_size: int = 100,
) -> ValidationReport:
    """Map every file with its mapping (or ``mapping_file``) and collect every problem.

    Raises :class:`~pipeline.errors.MappingError` when a mapping is wrong (exit 2); file and row
    problems are in the report (exit 1). With ``xml_out`` the request bodies that would be sent
    are written there, one file per request, password masked::

        report = validate_files(Path("."), [Path("inbox/articles.csv")], xml_out=Path("out"))
        report.exit_code
    """
    if mapping_file is not None:
        mappings = [load_mapping_file(mapping_file)]
    else:
        mappings = load_mappings(workspace / "mappings")
    jobs: list[tuple[Path, CompiledMapping | None, str | None]] = []
    reports: list[FileReport] = []
    for path in files:
        found = mappings if mapping_file is not None else find_mappings(mappings, path)
        if not found:
            report = FileReport(path)
            patterns = "; ".join(f"{m.source.name}: {', '.join(m.match)}" for m in mappings)
            report.problems.append(
                ReadError(
                    "no mapping matches this file name",
                    file=path.name,
                    hint="rename the file or add a match pattern to a mapping "
                    f"({patterns or 'there are no mappings'})",
                )
            )
            reports.append(report)
            continue
        sheets = [m.sheet for m in found]
        if len(found) > 1 and len(set(map(str, sheets))) != len(sheets):
            report = FileReport(path)
            report.problems.append(
                ReadError(
                    "more than one mapping matches this file: "
                    + ", ".join(m.source.name for m in found),
                    file=path.name,
                    hint="make the match patterns distinct, or give each mapping its own sheet",
                )
            )
            reports.append(report)
            continue
        jobs.extend((path, m, None) for m in found)
    jobs.sort(key=lambda job: _send_rank(job[1]) if job[1] is not None else (0, 0))
    catalogue = MemoryCatalogue()
    login = {
        "username": os.environ.get("CENTRA_USERNAME") or "username",
        "password": MASKED_PASSWORD,
    }
    for path, mapping, _ in jobs:
        assert mapping is not None
        report = FileReport(path, mapping=mapping.source.name)
        reports.append(report)
        if not path.is_file():
            report.problems.append(ReadError("the file does not exist", file=str(path)))
            continue
        needs_catalogue = any(t.resolve is not None for t in mapping.targets)
        try:
            mapped = map_file(
                mapping,
                path,
                lookups=catalogue if (len(catalogue) or not needs_catalogue) else None,
            )
        except ReadError as exc:
            report.problems.append(exc)
            continue
        report.mapped = mapped
        report.sheet = mapped.sheet
        report.rows_total = mapped.rows_total
        report.problems.extend(mapped.problems)
        report.rejected = mapped.rejected
        report.held_back = mapped.held_back
        # Count Centra objects as a person sees them: a pricelist once, not once per product.
        names: dict[str, set[str]] = {}
        for entity, group in groupby(mapped.objects, key=attrgetter("entity")):
            distinct = names.setdefault(entity, set())
            if entity == "pricelists":
                distinct.update(obj.item.get("id", obj.key) for obj in group)
            else:
                distinct.update(map(attrgetter("key"), group))
        for entity, distinct in names.items():
            report.objects[entity] = len(distinct)
        catalogue.learn(mapped.objects)
        catalogue.learn_unsent(mapped.unsent)
        if xml_out is not None and mapped.objects:
            stem = path.stem + (f".{mapped.sheet}" if mapped.sheet else "")
            stem = re.sub(r"[^\w.-]+", "-", stem)
            target = xml_out
            try:
                xml_out.mkdir(parents=True, exist_ok=True)
                # Written here, one after the other: a writer thread was slower on a quiet
                # disk, its writes waiting for the interpreter while the requests were made.
                for n, batch in enumerate(batches(mapped.objects, batch_size), start=1):
                    entity = batch.objects[0].entity
                    target = xml_out / f"{stem}.{n:03d}.{entity}.{batch.operation}.xml"
                    target.write_bytes(batch.xml(login).encode("utf-8"))
                    report.xml_files.append(target)
            except OSError as exc:
                raise XmlOutError(
                    f"cannot write the request XML to {target}: {exc.strerror or exc}",
                    hint="give --xml-out a folder that can be written to",
                ) from exc
    order = {p: i for i, p in enumerate(files)}
    reports.sort(key=lambda r: order.get(r.path, 0))
    return ValidationReport(reports)
