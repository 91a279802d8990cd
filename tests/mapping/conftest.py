"""Small factories: a mapping file and a data file in tmp_path, mapped in one call."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.mapping import MappedFile, load_mapping_file, map_file
from pipeline.mapping.catalogue import Catalogue

Mapper = Callable[..., MappedFile]


@pytest.fixture
def run_mapping(tmp_path: Path) -> Mapper:
    """run_mapping(yaml_text, csv_text, name="data.csv", lookups=None) -> MappedFile."""

    def run(
        mapping: str,
        data: str | bytes,
        *,
        name: str = "data.csv",
        lookups: Catalogue | None = None,
    ) -> MappedFile:
        mapping_path = tmp_path / "mapping.yaml"
        mapping_path.write_text(textwrap.dedent(mapping), encoding="utf-8")
        data_path = tmp_path / name
        if isinstance(data, str):
            data_path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
        else:
            data_path.write_bytes(data)
        return map_file(load_mapping_file(mapping_path), data_path, lookups=lookups)

    return run


def messages(mapped: MappedFile) -> list[str]:
    return [str(p) for p in mapped.problems]
