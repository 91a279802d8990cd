"""Pull speed: orders/s from Centra's queue into outbox CSV files, beside a floor measured in
the same run (a bare events_Get + events_Done loop with lxml parsing and no writing).

    .venv/bin/python benchmarks/bench_pull.py [--orders 10000] [--lines 5]

The sandbox runs as its own process with a file database. The orders are placed once through
its admin API (POST /sandbox/orders); the database is then copied, so the floor and the pull
each drain an identical queue.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.centra.client import CentraClient
from pipeline.config import load_settings
from pipeline.outbox import pull_events
from pipeline.state.journal import Journal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.outbox.sandbox_setup import PRODUCTS, SIZES, load_catalogue  # noqa: E402

USER, PASSWORD = "example", "secret"
SERVE = (
    "import sys; from pipeline.sandbox import Sandbox; "
    "sb = Sandbox(db=sys.argv[1], username='example', password='secret').start(); "
    "print(sb.url, flush=True); sys.stdin.read(); sb.stop()"
)


@contextlib.contextmanager
def sandbox(db: Path) -> Iterator[str]:
    """A sandbox process on ``db``; its SOAP URL. It stops when its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def place_orders(url: str, count: int, lines: int) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
    skus = [(p, f"{p}_{c}", s) for p in PRODUCTS for c in ("RED", "BLUE") for s in SIZES]
    for n in range(count):
        chosen = [skus[(n + k * 7) % len(skus)] for k in range(lines)]
        body = {
            "market": "Retail-SE",
            "pricelist": "SEK-Retail",
            "lines": [
                {"product": p, "variation": v, "size": s, "qty": 1, "warehouse": "MainWarehouse"}
                for p, v, s in chosen
            ],
        }
        conn.request(
            "POST", "/sandbox/orders", json.dumps(body), {"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        answer = response.read()
        if response.status != 201:
            raise SystemExit(f"placing order {n} failed: {answer.decode()}")
    conn.close()


def floor(url: str) -> tuple[int, float]:
    """events_Get (parsed with lxml by the client) and events_Done until empty; no writing."""
    events = 0
    started = time.perf_counter()
    with CentraClient(url, USER, PASSWORD) as client:
        while batch := client.events_get("all"):
            events += len(batch)
            client.events_done([e.id for e in batch])
    return events, time.perf_counter() - started


def pull(url: str, workspace: Path) -> tuple[int, int, float]:
    shutil.copytree(ROOT / "mappings" / "export", workspace / "mappings" / "export")
    (workspace / "pipeline.yaml").write_text(f"centra:\n  url: {url}\n", encoding="utf-8")
    env = {"CENTRA_USERNAME": USER, "CENTRA_PASSWORD": PASSWORD}
    settings = load_settings(workspace, env=env)
    started = time.perf_counter()
    with (
        CentraClient(url, USER, PASSWORD) as client,
        Journal.open(workspace / "state" / "journal.sqlite") as journal,
    ):
        summary = pull_events(settings, client, journal, now=dt.datetime.now(dt.UTC))
    return summary.objects, summary.rows, time.perf_counter() - started


def measure(orders: int, lines: int, log: Callable[[str], None] = print) -> dict[str, float]:
    """Place ``orders`` orders, then time the floor and the pull on identical copies."""
    with tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp:
        base = Path(tmp) / "base.db"
        started = time.perf_counter()
        with sandbox(base) as url:
            with CentraClient(url, USER, PASSWORD) as client:
                load_catalogue(client)
            place_orders(url, orders, lines)
        log(f"placed {orders} orders of {lines} lines in "
            f"{time.perf_counter() - started:.1f} s (admin API)")  # fmt: skip
        for name in ("floor.db", "pull.db"):
            shutil.copyfile(base, Path(tmp) / name)
        with sandbox(Path(tmp) / "floor.db") as url:
            events, floor_s = floor(url)
        with sandbox(Path(tmp) / "pull.db") as url:
            objects, rows, pull_s = pull(url, Path(tmp) / "ws")
        outbox = Path(tmp) / "ws" / "outbox"
        size_mb = sum(p.stat().st_size for p in outbox.glob("*.csv")) / 1e6
    return {"events": events, "floor_s": floor_s, "objects": objects, "rows": rows,
            "pull_s": pull_s, "csv_mb": size_mb}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5)
    args = parser.parse_args()
    f = measure(args.orders, args.lines)
    rate = f["events"] / f["floor_s"]
    print(f"floor (events_Get + parse + events_Done, no writing): "
          f"{rate:8.0f} events/s ({f['floor_s']:.1f} s for {f['events']})")  # fmt: skip
    print(f"pull into the outbox:                                 "
          f"{f['objects'] / f['pull_s']:8.0f} orders/s ({f['pull_s']:.1f} s, {f['rows']} rows, "
          f"{f['csv_mb']:.1f} MB of CSV)")  # fmt: skip
    print(f"pull / floor: {f['pull_s'] / f['floor_s']:.2f}x the time")


if __name__ == "__main__":
    main()
