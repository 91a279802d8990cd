"""A full disk while writing the outbox or the archive: a clean failure, nothing acknowledged
that is not on disk, the input recoverable, and the next run finishes once there is room.

The small disk is a real tmpfs (the tests run as root, as CI does)."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batch.helpers import operations
from tests.conftest import Workspace, make_workspace


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=16m", str(mount)], check=True)


def _orders_in_outbox(folder: Path) -> dict[str, int]:
    """order id -> number of versions written."""
    versions: dict[str, int] = {}
    for path in sorted(folder.glob("orders-*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for order in {row["order_id"] for row in csv.DictReader(fh)}:
                versions[order] = versions.get(order, 0) + 1
    return versions


def test_outbox_disk_full(tmp_path: Path, sandbox: Any, small_disk: Path) -> None:
    ws = make_workspace(tmp_path / "ws", sandbox.url, f"folders:\n  outbox: {small_disk}\n")
    ws.drop("markets.csv", "sizes.csv", "articles.csv")
    assert ws.cli("run").returncode in (0, 1)  # the catalogue; the outbox is still empty
    stock = "Article;Variant;Size;Warehouse;Free to allocate\nSC01;SC01_GREY;OS;MainWarehouse;500\n"
    (ws.inbox / "stock.csv").write_text(stock, encoding="utf-8")
    assert ws.cli("run").returncode == 0
    placed = {
        sandbox.place_order(
            "Retail-Sweden",
            [("SC01", "SC01_GREY", "OS", 1)],
            pricelist="EUR-Retail",
            email=f"customer{n}@example.com",
            address={"address1": "Long Street " + "x" * 800, "city": "Stockholm"},
        )
        for n in range(60)
    }
    queued = {e["id"]: e for e in sandbox.events()}
    code, out = ws.cli_json("pull")
    assert code == 1, out
    assert "No space left on device" in out["error"]
    remaining = {e["id"] for e in sandbox.events()}
    written = _orders_in_outbox(small_disk)
    for event_id, event in queued.items():
        if event_id not in remaining and event["type"] == "order":
            assert event["entry"] in written, "acknowledged but not in the outbox"
    assert not [p for p in small_disk.iterdir() if p.name.startswith(".")], "temp files left"

    _grow(small_disk)
    code, out = ws.cli_json("pull")
    assert code == 0, out
    assert sandbox.events() == []
    assert _orders_in_outbox(small_disk) == {str(o): 1 for o in placed}


def test_archive_disk_full(tmp_path: Path, sandbox: Any, small_disk: Path) -> None:
    ws: Workspace = make_workspace(
        tmp_path / "ws", sandbox.url, f"folders:\n  archive: {small_disk}\n"
    )
    filler = small_disk / "filler.bin"
    filler.write_bytes(b"\0" * 40_000)
    ws.drop("markets.csv", "sizes.csv", "articles.csv")
    code, out = ws.cli_json("run")
    assert code == 1, out
    assert "No space left on device" in out["error"]
    assert "the next run" in out["error"]
    updates = sum(op.endswith("_Update") for op in operations(sandbox))
    claimed = [p.name for p in (ws.inbox / ".processing").rglob("*") if p.is_file()]
    archived = [p.name for p in small_disk.rglob("*.csv")]
    assert sorted(claimed + [a for a in archived if not a.endswith(".result.csv")]) == sorted(
        ["markets.csv", "sizes.csv", "articles.csv"]
    ), "every file is either archived or still claimed: nothing lost"
    assert not [p for p in small_disk.rglob(".*") if p.is_file()], "temp files left"

    filler.unlink()
    code, out = ws.cli_json("run")
    assert code == 0, out
    assert sum(op.endswith("_Update") for op in operations(sandbox)) == updates, "not re-sent"
    names = sorted(p.name for p in small_disk.rglob("*.csv") if not p.name.endswith(".result.csv"))
    assert names == ["articles.csv", "markets.csv", "sizes.csv"]
    assert [p for p in (ws.inbox / ".processing").rglob("*") if p.is_file()] == []
