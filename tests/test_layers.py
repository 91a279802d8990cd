"""Each third-party library sits behind one door (STYLE.md), and the sandbox shares no XML code
with the client."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# library -> the modules (paths relative to pipeline/) allowed to import it
DOORS = {
    "click": ("cli/",),
    "urllib3": ("centra/transport.py",),
    "openpyxl": ("readers/",),
    "python_calamine": ("readers/",),
    "watchdog": ("watcher.py", "watch/"),
    "pydantic": ("config.py", "mapping/"),
    "numpy": ("readers/", "mapping/columnar.py", "mapping/rules.py"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, set[str]]]:
    return [(str(p.relative_to(PACKAGE)), _imports(p)) for p in sorted(PACKAGE.rglob("*.py"))]


def test_each_library_has_one_door() -> None:
    offenders = []
    for rel, names in _modules():
        for library, allowed in DOORS.items():
            imported = any(n == library or n.startswith(library + ".") for n in names)
            if imported and not rel.startswith(allowed):
                offenders.append(f"{rel} imports {library}")
    assert offenders == []


def test_sandbox_does_not_import_the_clients_xml_code() -> None:
    offenders = []
    for rel, names in _modules():
        if rel.startswith("sandbox/"):
            for name in names:
                if name.startswith(("pipeline.centra", "pipeline.mapping", "pipeline.readers")):
                    offenders.append(f"{rel} imports {name}")
    assert offenders == []
