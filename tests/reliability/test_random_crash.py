"""Randomised crash testing: ``run`` and ``pull`` SIGKILLed at random moments, many times.

Each round drops new ERP files and places or ships orders, then starts ``run`` or ``pull`` in a
subprocess and kills it after a random delay. After all rounds a last ``run`` goes through, and
the invariants are checked against the sandbox: every inbox row applied, every file archived
exactly once, every order change exported exactly once, no temp files, the journal consistent.

The files are not all clean: some fail as a whole, some repeat an older file's content (a
duplicate that must never be sent again: it would revert newer stock), some have a Latin-1
name (not UTF-8) or a name so long that its report's temp name would not fit.

``STRESS_KILLS`` sets the number of kills (20 in the normal suite; ``make stress`` runs 200).
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.batch.helpers import export_tree, texts
from tests.conftest import Workspace, make_workspace

KILLS = int(os.environ.get("STRESS_KILLS", "20"))
SETUP = ("markets.csv", "sizes.csv", "warehouses.csv", "articles.csv", "prices.csv")
CONFIG = "batch:\n  per_entity: {markets: 2, products: 2, stock: 3}\n"


def _markets_file(round_no: int) -> bytes:
    lines = ["Market,Store,Channel,Name"]
    lines += [f"M{round_no}-{n},1,B2C,Market {round_no}.{n}" for n in range(5)]
    return ("\n".join(lines) + "\n").encode()


def _stock_file(round_no: int) -> bytes:
    return (
        "Article;Variant;Size;Warehouse;Free to allocate\n"
        f"SC01;SC01_GREY;OS;MainWarehouse;{1000 + round_no}\n"
        f"PWC;PWC;OS;MainWarehouse;{1000 + round_no}\n"  # no order takes it: the round's mark
    ).encode()


BAD = b"Marknad,Butik\nX,1\n"  # no column the markets mapping reads: fails as a whole
CHAIR = "//product[id='PWC']/variations/variation[id='PWC']/sizes/size[id='OS']"


def _odd_name(round_no: int) -> tuple[str, str]:
    """(name on disk, name the pipeline reports) of an odd-named markets file."""
    if round_no % 2:
        return os.fsdecode(f"markets-M\xfcnchen-{round_no:03d}.csv".encode("latin-1")), (
            f"markets-München-{round_no:03d}.csv"
        )
    long_name = f"markets-{'x' * 224}-{round_no:03d}.csv"  # 240 bytes: its report's temp is not
    return long_name, long_name


def _main_stock(sandbox: Any) -> str:
    products = export_tree(sandbox, "products")
    ids = texts(products, f"{CHAIR}/warehouseitems/warehouse/id/text()")
    qtys = texts(products, f"{CHAIR}/warehouseitems/warehouse/qty/text()")
    return dict(zip(ids, qtys, strict=True))["MainWarehouse"]


def _start(ws: Workspace, command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--workspace", str(ws.root), command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ws.env(),
        cwd=ws.root,
    )


def _order_versions(outbox: Path) -> dict[str, list[tuple[str, tuple[tuple[str, ...], ...]]]]:
    """order id -> [(change, its rows without change/event columns)] in file order."""
    versions: dict[str, list[tuple[str, tuple[tuple[str, ...], ...]]]] = {}
    for path in sorted(outbox.glob("orders-*.csv"), key=lambda p: p.stem.rsplit("-", 1)[1]):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows: dict[str, list[dict[str, str]]] = {}
            for row in csv.DictReader(fh):
                rows.setdefault(row["order_id"], []).append(row)
        for order_id, lines in rows.items():
            ignored = ("change", "event_id", "event_date")
            body = tuple(tuple(v for k, v in line.items() if k not in ignored) for line in lines)
            versions.setdefault(order_id, []).append((lines[0]["change"], body))
    return versions


def test_random_kills_lose_nothing_and_double_nothing(tmp_path: Path, sandbox: Any) -> None:
    rng = random.Random(20261127)
    ws = make_workspace(tmp_path / "ws", sandbox.url, CONFIG)
    ws.drop(*SETUP)
    assert ws.cli("run").returncode == 0
    sandbox.set_faults(latency_ms=15)  # a run lasts long enough to be hit in its middle

    dropped: list[str] = []
    failed: list[str] = []  # expected in archive/failed/
    duplicates: list[str] = []
    market_rounds: list[int] = []
    last_stock = 0
    placed: list[str] = []
    kills = 0
    round_no = 0
    while kills < KILLS:
        round_no += 1
        name = f"markets-{round_no:03d}.csv"
        (ws.inbox / name).write_bytes(_markets_file(round_no))
        dropped.append(name)
        market_rounds.append(round_no)
        if round_no % 3 == 0:
            stock = f"stock-{round_no:03d}.csv"
            (ws.inbox / stock).write_bytes(_stock_file(round_no))
            dropped.append(stock)
            last_stock = round_no
        elif round_no % 4 == 1 and last_stock:
            # An older stock file's content again: archived as a duplicate, never sent.
            dup = f"stock-dup-{round_no:03d}.csv"
            (ws.inbox / dup).write_bytes(_stock_file(rng.choice(range(3, last_stock + 1, 3))))
            dropped.append(dup)
            duplicates.append(dup)
        if round_no % 5 == 0:
            bad = f"markets-bad-{round_no:03d}.csv"
            (ws.inbox / bad).write_bytes(BAD)
            dropped.append(bad)
            failed.append(bad)
        if round_no % 4 == 2:
            on_disk, reported = _odd_name(round_no)
            (ws.inbox / on_disk).write_bytes(_markets_file(1000 + round_no))
            dropped.append(reported)
            market_rounds.append(1000 + round_no)
        placed.append(
            sandbox.place_order(
                "Retail-Sweden",
                [("SC01", "SC01_GREY", "OS", 1)],
                pricelist="EUR-Retail",
                email=f"c{round_no}@example.com",
            )
        )
        command = "pull" if rng.random() < 0.3 else "run"
        process = _start(ws, command)
        deadline = time.monotonic() + rng.uniform(0.6, 2.0)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        assert process.wait(timeout=60) in (0, 1, -signal.SIGKILL)  # 1: a bad file failed

    sandbox.clear_faults()
    code, final = ws.cli_json("run")
    assert code in (0, 1), final
    assert all(f["name"] in failed for f in final["files"] if f["status"] == "failed"), final
    assert not any(f["rows_failed"] for f in final["files"] if f["name"] not in failed), final
    assert ws.cli("pull").returncode == 0

    # every inbox row applied
    markets = set(texts(export_tree(sandbox, "markets"), "//market/id/text()"))
    for r in market_rounds:
        assert {f"M{r}-{n}" for n in range(5)} <= markets, f"round {r} markets missing"
    # no duplicate was sent: the newest stock file's quantity stands
    assert _main_stock(sandbox) == str(1000 + last_stock)
    # every file archived exactly once, nothing left behind; failed ones in archive/failed/
    notes = (".result.csv", ".error.txt")
    archived = sorted(
        os.fsdecode(p.name)
        for p in ws.archive.rglob("*")
        if p.is_file() and not p.name.endswith(notes)
    )
    assert archived == sorted([*SETUP, *dropped])
    assert sorted(p.name for p in (ws.archive / "failed").glob("*") if p.suffix == ".csv") == (
        sorted(failed)
    )
    assert sorted(p.name for p in ws.archive.rglob("*") if p.name.endswith(notes)) == sorted(
        f"{n}.error.txt" if n in failed else f"{n}.result.csv" for n in [*SETUP, *dropped]
    )
    assert [p for p in ws.inbox.rglob("*") if p.is_file()] == []
    assert [p for p in ws.root.rglob("*.tmp")] == []
    # every order exported, each change exactly once
    assert sandbox.events() == []
    versions = _order_versions(ws.outbox)
    assert sorted(versions) == sorted(placed)
    for order_id, order_versions in versions.items():
        changes = [change for change, _ in order_versions]
        assert changes[0] == "new" and all(c == "update" for c in changes[1:]), order_id
        bodies = [body for _, body in order_versions]
        assert len(bodies) == len(set(bodies)), f"order {order_id} written twice unchanged"
    # the journal is consistent: nothing left claimed or half-written
    with sqlite3.connect(ws.root / "state" / "journal.sqlite") as db:
        assert db.execute("SELECT count(*) FROM files WHERE status = 'claimed'").fetchone() == (0,)
        statuses = dict(db.execute("SELECT name, status FROM files WHERE status != 'done'"))
        assert statuses == {
            **{n: "failed" for n in failed},
            **{n: "duplicate" for n in duplicates},
        }, "a failed file never counts as imported; a duplicate is never sent"
        unfinished = db.execute(
            "SELECT count(*) FROM outbox_intents WHERE state NOT IN ('done', 'discarded')"
        ).fetchone()
        assert unfinished == (0,)
    print(
        f"\n{kills} random kills over {round_no} rounds ({len(failed)} failed files, "
        f"{len(duplicates)} duplicates, {len(market_rounds) - round_no} odd names): "
        "0 invariant violations"
    )
