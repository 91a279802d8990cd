"""The password never reaches a file the pipeline writes, nor its console output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, Workspace


def _scan(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def test_no_file_and_no_output_holds_the_password(workspace: Workspace, sandbox: Any) -> None:
    needles = [PASSWORD.encode(), PASSWORD.replace("!", "&#33;").encode()]
    output: list[str] = []

    def cli(*args: str, **env: str) -> Any:
        done = workspace.cli("-vv", *args, **env)
        output.append(done.stdout + done.stderr)
        return done

    workspace.drop("markets.csv", "sizes.csv", "articles.csv", "stock.csv", "prices.csv")
    assert cli("run").returncode == 0
    sandbox.place_order(
        "Retail-Sweden", [("SC01", "SC01_GREY", "OS", 1)], pricelist="EUR-Retail", email="a@b.se"
    )
    assert cli("pull").returncode == 0
    assert cli("ping").returncode == 0
    xml_out = workspace.root / "xml"
    for name in ("markets.csv", "articles.csv"):
        archived = next(workspace.archive.rglob(name))
        assert cli("validate", str(archived), "--xml-out", str(xml_out)).returncode == 0
    assert cli("status").returncode == 0
    workspace.drop("warehouses.csv")
    refused = cli("run", CENTRA_PASSWORD=PASSWORD + "-wrong")
    assert refused.returncode == 3
    sandbox.set_faults(http_503=1, soap_fault=1)
    assert cli("run").returncode == 0

    assert list(xml_out.glob("*.xml")), "validate wrote its XML"
    assert any(workspace.outbox.glob("orders-*.csv"))
    assert (workspace.root / "state" / "journal.sqlite").exists()
    assert "DEBUG" in "".join(output), "debug logging was on"
    assert _scan(workspace.root, needles) == []
    assert [n for n in needles if any(n.decode() in text for text in output)] == []
    wrong = (PASSWORD + "-wrong").encode()
    assert _scan(workspace.root, [wrong]) == []
