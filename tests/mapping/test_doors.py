"""One door per library: click only in the CLI, the spreadsheet libraries only in readers/
(and pandas, for its hash table, in the bulk mapping path)."""

from __future__ import annotations

import re
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


def imports(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found[str(path.relative_to(PIPELINE))] = set(
            re.findall(r"^\s*(?:from|import)\s+([\w]+)", text, re.M)
        )
    return found


def test_mapping_and_readers_use_their_libraries_only_where_allowed() -> None:
    for name, mods in {**imports(PIPELINE / "mapping"), **imports(PIPELINE / "readers")}.items():
        assert "click" not in mods, name
        assert "lxml" not in mods, name
        if not name.startswith("readers"):
            assert not {"openpyxl", "python_calamine"} & mods, name
        if not name.startswith("readers") and name != "mapping/columnar.py":
            # (The bulk path uses pandas' hash table to number keys, never to read a file.)
            assert "pandas" not in mods, name
    assert "python_calamine" in imports(PIPELINE / "readers")["readers/excel.py"]


def test_library_never_exits() -> None:
    for folder in ("mapping", "readers"):
        for path in (PIPELINE / folder).rglob("*.py"):
            assert "sys.exit" not in path.read_text(encoding="utf-8"), path
