"""The sandbox shares no XML code with the client: it imports nothing from the pipeline's
centra, mapping or readers packages (nor click: that stays in the CLI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pipeline.sandbox

FORBIDDEN = ("pipeline.centra", "pipeline.mapping", "pipeline.readers", "click")


def test_sandbox_imports_nothing_from_the_client_side() -> None:
    package = Path(pipeline.sandbox.__file__).parent
    files = sorted(package.glob("*.py"))
    assert len(files) >= 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
