"""Declarative YAML mappings: an ERP's CSV and Excel files into Centra request payloads.

The API the batch run uses::

    from pipeline.mapping import load_mappings, find_mappings, map_file, batches

    mappings = load_mappings(workspace / "mappings")   # MappingError lists every problem
    for mapping in find_mappings(mappings, path):       # one per sheet for a workbook
        mapped = map_file(mapping, path, lookups=catalogue)   # ReadError: file unusable
        mapped.problems       # [RowProblem]: file, sheet, row, column, value, message, hint
        mapped.rejected       # None, or why nothing of the file may be sent
        for batch in batches(mapped.objects, max_items=100):
            batch.operation, batch.payload(), batch.xml(login), batch.rows

- :func:`load_mappings` ``(folder) -> list[CompiledMapping]``: every ``*.yaml`` checked and
  compiled once (frozen); :func:`load_mapping_file` for one file.
- :func:`find_mappings` ``(mappings, path) -> list[CompiledMapping]`` by ``match`` globs;
  :func:`find_mapping` ``(mappings, path, sheet=None) -> CompiledMapping | None``.
- :func:`map_file` ``(mapping, path, *, lookups=None) -> MappedFile``: ``objects`` (each a
  :class:`MappedObject` with ``entity``, ``operation``, ``key``, ``item``, ``rows``,
  ``depends_on``) grouped by entity in target order, within an entity in order of first
  appearance; ``problems``; ``rows_total``; ``rejected``.
- ``lookups``: a :class:`Catalogue` (``by_ean``, ``by_sku``, ``sizes_of``) for stock files
  keyed by EAN or full SKU and for checking sizes against sizetables.
- :func:`batches` ``(objects, max_items) -> Iterator[Batch]``; :func:`split_object`.
- :func:`validate_files` ``(workspace, files, *, xml_out=None, mapping_file=None)``: the
  ``validate`` command without click.
- :data:`ENTITIES`, :data:`ENTITY_ORDER`: every entity's structure and the sending order.
"""

from __future__ import annotations

from pipeline.mapping.batches import Batch, batches, split_object
from pipeline.mapping.catalogue import Catalogue, MemoryCatalogue, SizeRef
from pipeline.mapping.engine import MappedFile, MappedObject, map_file
from pipeline.mapping.entities import ENTITIES, ENTITY_ORDER
from pipeline.mapping.problems import RowProblem
from pipeline.mapping.schema import CompiledMapping, load_mapping_file, load_mappings
from pipeline.mapping.validate import (
    FileReport,
    ValidationReport,
    find_mapping,
    find_mappings,
    validate_files,
)

__all__ = [
    "ENTITIES",
    "ENTITY_ORDER",
    "Batch",
    "Catalogue",
    "CompiledMapping",
    "FileReport",
    "MappedFile",
    "MappedObject",
    "MemoryCatalogue",
    "RowProblem",
    "SizeRef",
    "ValidationReport",
    "batches",
    "find_mapping",
    "find_mappings",
    "load_mapping_file",
    "load_mappings",
    "map_file",
    "split_object",
    "validate_files",
]
