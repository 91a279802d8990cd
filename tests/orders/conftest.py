"""A shop for the order-update tests: one sandbox and one workspace for the package, with the
sample catalogue imported through the real ``run``, and the guide's orders 30 and 25.

Every step of a test drops an ERP file into the inbox and runs the real CLI in a subprocess
(``Workspace.cli_json``), then reads the sandbox's state and its request log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.batch.helpers import report_rows
from tests.conftest import FIXTURES, PASSWORD, USERNAME, Workspace, make_workspace
from tests.guide import ORDER_25, ORDER_30

CATALOGUE = [
    "markets.csv",
    "sizes.csv",
    "warehouses.csv",
    "setup.xlsx",
    "articles.csv",
    "prices.csv",
    "accounts.xlsx",
]
#: The samples stock too little for the guide's orders (none of the blue sweater in S, as in
#: the guide, which never sends it), so the shop stocks every size it sells in this file,
#: sent after the article file's stock.
SHOP_STOCK = "stock-shop.csv"
_STOCKED = [
    ("T001", "T001_RED", "S"),
    ("T001", "T001_RED", "M"),
    ("T001", "T001_RED", "L"),
    ("T001", "T001_BLUE", "S"),
    ("T001", "T001_BLUE", "M"),
    ("T001", "T001_BLUE", "L"),
    ("PWC", "PWC", "OS"),
]


@dataclass
class Shop:
    sandbox: Sandbox
    ws: Workspace

    def step(self, *files: str | tuple[str, str], expect_exit: int = 0) -> Step:
        """Drop ERP files (a sample name, or (name, content) for a file made by the test), run
        the real CLI once, and return what it reported and the orders_Update requests sent."""
        before = _last_request_id(self.sandbox)
        names = []
        for entry in files:
            if isinstance(entry, tuple):
                name, content = entry
                (self.ws.inbox / name).write_text(content, encoding="utf-8")
            else:
                name = entry
                self.ws.drop(name)
            names.append(name)
        code, out = self.ws.cli_json("run")
        assert code == expect_exit, out
        results = {f["name"]: f for f in out["files"]}
        assert sorted(results) == sorted(names), out
        sent = [
            r["request"]
            for r in self.sandbox.requests(500)
            if r["id"] > before and r["operation"] == "orders_Update"
        ]
        return Step(results, sent)

    def order(self, order_id: str) -> dict[str, Any]:
        order = self.sandbox.order(order_id)
        assert order is not None, order_id
        return order


@dataclass
class Step:
    files: dict[str, dict[str, Any]]
    requests: list[str]  # orders_Update requests as the sandbox logged them (password masked)

    def report(self, name: str) -> list[dict[str, str]]:
        return report_rows(self.files[name]["report"])


def _last_request_id(sandbox: Sandbox) -> int:
    last = sandbox.requests(1)
    return int(last[-1]["id"]) if last else 0


@pytest.fixture(scope="package")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with Sandbox(db=":memory:", username=USERNAME, password=PASSWORD) as sandbox:
        ws = make_workspace(tmp_path_factory.mktemp("orders") / "ws", sandbox.url)
        for age, name in enumerate(CATALOGUE):
            ws.drop(name)
            _age(ws.inbox / name, age)
        stock = ["Article;Variant;Size;Warehouse;Free to allocate"]
        stock += [f"{p};{v};{s};MainWarehouse;50" for p, v, s in _STOCKED]
        (ws.inbox / SHOP_STOCK).write_text("\r\n".join(stock) + "\r\n", encoding="utf-8")
        _age(ws.inbox / SHOP_STOCK, len(CATALOGUE))  # newest: it goes after articles.csv
        code, out = ws.cli_json("run")
        assert code == 0, out
        assert {f["status"] for f in out["files"]} == {"done"}, out
        yield Shop(sandbox, ws)


def _age(path: Path, order: int) -> None:
    stamp = time.time() - 1000 + order
    os.utime(path, (stamp, stamp))


def place_order_30(sandbox: Sandbox, **options: Any) -> str:
    """The guide's direct-to-consumer order 30 (see tests/guide.py)."""
    return sandbox.place_order(**{**ORDER_30, **options})


def place_order_25(sandbox: Sandbox) -> str:
    """The guide's wholesale order 25 (see tests/guide.py)."""
    return sandbox.place_order(**ORDER_25)


def sample(name: str) -> Path:
    return FIXTURES / "erp" / name
