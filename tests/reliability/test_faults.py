"""Imports and pulls under the sandbox's faults: retries where safe, a clear failure otherwise,
never a row reported ``sent`` that Centra does not hold, never an event acknowledged that is not
in the outbox."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.batch.helpers import export_tree, operations, report_rows
from tests.conftest import PASSWORD, USERNAME, Workspace, make_workspace

FILES = ("markets.csv", "sizes.csv", "articles.csv")
ENTITIES = ("markets", "sizes", "products", "pricelists")
FAST_RETRY = (
    "centra:\n  url: {url}\n  timeouts: {{connect: 2, read: 0.5}}\n"
    "  retry: {{attempts: 4, backoff: 0.02, max_backoff: 0.1}}\n"
    "inbox:\n  settle_seconds: 0\nbatch:\n  per_entity: {{products: 2, pricelists: 2, stock: 2}}\n"
)


def _workspace(root: Path, url: str) -> Workspace:
    ws = make_workspace(root, url)
    (root / "pipeline.yaml").write_text(FAST_RETRY.format(url=url), encoding="utf-8")
    return ws


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    with Sandbox(db=":memory:", username=USERNAME, password=PASSWORD) as sb:
        ws = _workspace(tmp_path_factory.mktemp("clean") / "ws", sb.url)
        ws.drop(*FILES)
        assert ws.cli("run").returncode == 0
        return {e: sb.export(e) for e in ENTITIES}


def assert_sent_rows_are_held(ws: Workspace, sandbox: Any) -> int:
    """Every row a report calls ``sent`` is in the sandbox; returns how many were checked."""
    products = export_tree(sandbox, "products")
    pricelists = export_tree(sandbox, "pricelists")
    markets = export_tree(sandbox, "markets")
    sizes = export_tree(sandbox, "sizes")
    checked = 0
    for report in ws.archive.rglob("*.result.csv"):
        for row in report_rows(report):
            if row["status"] != "sent":
                continue
            key, target = row["key"], row["target"]
            if target in ("products", "stock"):
                found = products.xpath(f"//product[id='{key}']")
            elif target == "pricelists":
                pricelist, product = key.split("/")
                found = pricelists.xpath(
                    f"//pricelist[id='{pricelist}']/items/product[id='{product}']"
                )
            elif target == "markets":
                found = markets.xpath(f"//market[id='{key}']")
            elif target == "sizes":
                table, size = key.split("/")
                found = sizes.xpath(f"//size[id='{size}'][sizetable/id='{table}']")
            else:
                continue
            assert found, f"{report.name} row {row['row']} says sent, Centra lacks {target} {key}"
            checked += 1
    return checked


@pytest.mark.parametrize(
    "faults",
    [
        {"http_503": 3},
        {"http_500": 3},
        {"drop_before": 3},
        {"drop_after": 3},
        {"soap_fault": 3},
        {
            "rates": {"http_503": 0.25, "drop_before": 0.15, "drop_after": 0.15, "soap_fault": 0.1},
            "seed": 7,
        },
    ],
    ids=["503-streak", "500-streak", "drop-before", "drop-after", "server-fault", "random-mix"],
)
def test_import_under_faults(
    tmp_path: Path, sandbox: Any, clean_state: dict[str, str], faults: dict[str, Any]
) -> None:
    ws = _workspace(tmp_path / "ws", sandbox.url)
    ws.drop(*FILES)
    sandbox.set_faults(**faults)
    code, out = ws.cli_json("run")
    assert code in (0, 3), out
    if "drop_after" not in faults:  # a drop after applying is logged as the request itself
        assert _faults_fired(sandbox) >= 3
    assert_sent_rows_are_held(ws, sandbox)
    if code == 3:  # retries ran out: a clear failure, nothing half-done, the next run finishes
        assert "gave up after 4 attempts" in out["error"]
        assert not (ws.archive / "failed").exists()
    sandbox.clear_faults()
    if code == 3:
        code, out = ws.cli_json("run")
    assert code == 0, out
    assert {e: sandbox.export(e) for e in ENTITIES} == clean_state
    assert assert_sent_rows_are_held(ws, sandbox) > 30
    assert sum(1 for op in operations(sandbox) if op.endswith("_Update")) >= 9


def test_streak_longer_than_the_retries_stops_the_run_with_exit_3(
    tmp_path: Path, sandbox: Any, clean_state: dict[str, str]
) -> None:
    ws = _workspace(tmp_path / "ws", sandbox.url)
    ws.drop(*FILES)
    sandbox.set_faults(http_503=50)
    code, out = ws.cli_json("run")
    assert code == 3
    assert "gave up after 4 attempts" in out["error"] and "HTTP 503" in out["error"]
    assert [p for p in ws.archive.rglob("*") if p.is_file()] == []
    sandbox.clear_faults()
    assert ws.cli("run").returncode == 0
    assert {e: sandbox.export(e) for e in ENTITIES} == clean_state


def test_latency_beyond_the_read_timeout(
    tmp_path: Path, sandbox: Any, clean_state: dict[str, str]
) -> None:
    ws = _workspace(tmp_path / "ws", sandbox.url)
    ws.drop("markets.csv")
    sandbox.set_faults(latency_ms=800)  # read timeout is 0.5 s: every call times out
    code, out = ws.cli_json("run")
    assert code == 3
    assert "read timeout" in out["error"] and "may have been applied" in out["error"]
    sandbox.clear_faults()
    ws.drop("sizes.csv", "articles.csv")
    assert ws.cli("run").returncode == 0
    assert {e: sandbox.export(e) for e in ENTITIES} == clean_state
    assert_sent_rows_are_held(ws, sandbox)


def test_login_refused_in_the_middle_of_a_run(
    tmp_path: Path, sandbox: Any, clean_state: dict[str, str]
) -> None:
    ws = _workspace(tmp_path / "ws", sandbox.url)
    ws.drop(*FILES)
    sandbox.set_faults(latency_ms=150)

    def change_password_after_two_updates() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(op.endswith("_Update") for op in operations(sandbox)) >= 2:
                sandbox.settings.password = "rotated-by-an-admin"
                return
            time.sleep(0.02)

    spy = threading.Thread(target=change_password_after_two_updates)
    spy.start()
    code, out = ws.cli_json("run")
    spy.join()
    assert code == 3, out
    assert "refused the login" in out["error"]
    assert not (ws.archive / "failed").exists()
    assert_sent_rows_are_held(ws, sandbox)
    sandbox.settings.password = PASSWORD
    sandbox.clear_faults()
    assert ws.cli("run").returncode == 0
    assert {e: sandbox.export(e) for e in ENTITIES} == clean_state


def _outbox_orders(ws: Workspace) -> dict[str, list[str]]:
    """order id -> the `change` values of its rows' versions, in file order."""
    versions: dict[str, list[str]] = {}
    for path in sorted(ws.outbox.glob("orders-*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            seen = set()
            for row in csv.DictReader(fh):
                if row["order_id"] not in seen:
                    seen.add(row["order_id"])
                    versions.setdefault(row["order_id"], []).append(row["change"])
    return versions


def test_pull_under_faults_acknowledges_only_what_is_in_the_outbox(
    tmp_path: Path, sandbox: Any
) -> None:
    ws = _workspace(tmp_path / "ws", sandbox.url)
    ws.drop(*FILES, "stock.csv", "prices.csv")
    assert ws.cli("run").returncode == 0
    placed = [
        sandbox.place_order(
            "Retail-Sweden",
            [("SC01", "SC01_GREY", "OS", 1)],
            pricelist="EUR-Retail",
            email=f"buyer{n}@example.com",
        )
        for n in range(8)
    ]
    queued = {e["id"]: e for e in sandbox.events()}
    assert {e["entry"] for e in queued.values() if e["type"] == "order"} == {str(o) for o in placed}
    sandbox.set_faults(rates={"http_503": 0.3, "drop_after": 0.3, "drop_before": 0.2}, seed=3)
    for _ in range(6):
        code, out = ws.cli_json("pull")
        assert code in (0, 3), out
        remaining = {e["id"] for e in sandbox.events()}
        acknowledged = [e for i, e in queued.items() if i not in remaining]
        exported = _outbox_orders(ws)
        for event in acknowledged:
            if event["type"] == "order":
                assert event["entry"] in exported, f"event {event['id']} acknowledged, not exported"
        if code == 0:
            break
    assert _faults_fired(sandbox) >= 1
    sandbox.clear_faults()
    assert ws.cli("pull").returncode == 0
    assert sandbox.events() == []
    exported = _outbox_orders(ws)
    assert sorted(exported) == sorted(str(o) for o in placed)
    assert all(changes == ["new"] for changes in exported.values()), exported


def _faults_fired(sandbox: Any) -> int:
    return sum(op.startswith("(fault") for op in operations(sandbox))
