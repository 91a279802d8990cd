"""``centra-pipeline sandbox``: serve (as a process), order, export, faults, events, settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from lxml import etree

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient, sandbox_cli, strip_ns, xt


def run(*args: str) -> Any:
    return CliRunner().invoke(sandbox_cli(), list(args), catch_exceptions=False)


def serve(db: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "???"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "sandbox", "serve",
         "--port", "0", "--db", str(db), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    return out


def test_serve_prints_url_first_stops_on_sigterm_and_keeps_state(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    proc, url = serve(db, "--login-failure-mode", "result")
    try:
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/ams/system/service/module/soap/api")
        client = SoapClient(url)  # password from CENTRA_PASSWORD
        assert client.call(
            "markets_Update", "<markets><market><id>M1</id></market></markets>"
        ).success
        refused = client.call("events_Get", "<type>all</type>", password="nope")
        assert refused.status == 200 and refused.errors == [
            "Login failed: wrong username or password"
        ]
        client.close()
    finally:
        out = stop(proc)
    assert "sandbox stopped" in out

    proc, url = serve(db)  # a restart on the same file
    try:
        exported = run("export", "markets", "--url", url)
        assert exported.exit_code == 0
        assert xt(strip_ns(etree.fromstring(exported.output.encode())), "//market/id") == ["M1"]
    finally:
        stop(proc)


def test_serve_with_fault_flags(tmp_path: Path) -> None:
    proc, url = serve(tmp_path / "f.db", "--http-503", "1", "--fault-rate", "drop_after=0")
    try:
        client = SoapClient(url)
        assert client.call("events_Get", "<type>all</type>").status == 503
        assert client.call("events_Get", "<type>all</type>").status == 200
        client.close()
    finally:
        stop(proc)


def test_order_export_faults_events_settings_commands(sb: Sandbox, catalog: SoapClient) -> None:
    result = run(
        "order",
        "--url",
        sb.url,
        "--market",
        "Retail-Global",
        "--pricelist",
        "EUR-Retail",
        "--line",
        "PWC",
        "PWC",
        "OS",
        "1",
        "--email",
        "cli@example.com",
        "--id",
        "700",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "700"
    assert sb.order("700")["items"][0]["allocations"] == [["OtherWarehouse", 1]]

    bad = CliRunner().invoke(
        sandbox_cli(),
        [
            "order",
            "--url",
            sb.url,
            "--market",
            "Retail-Global",
            "--pricelist",
            "EUR-Retail",
            "--line",
            "PWC",
            "PWC",
            "OS",
            "99",
        ],
    )
    assert bad.exit_code == 1 and "not enough stock for PWC/OS" in bad.output

    orders = run("export", "orders", "--url", sb.base_url)
    root = strip_ns(etree.fromstring(orders.output.encode()))
    assert xt(root, "//order/id") == ["700"]
    assert xt(root, "/Envelope/Body/orders_Update/login/password") == ["***"]
    unknown = CliRunner().invoke(sandbox_cli(), ["export", "nothing", "--url", sb.url])
    assert unknown.exit_code == 1 and "unknown entity" in unknown.output

    faults = run("faults", "--url", sb.url, "--soap-fault", "2", "--latency-ms", "1")
    assert '"soap_fault": 2' in faults.output
    assert sb.faults.snapshot()["soap_fault"] == 2
    assert '"soap_fault": 0' in run("faults", "--url", sb.url, "--clear").output

    events = run("events", "--url", sb.url, "--add", "3", "--type", "warehouse")
    assert len(events.output.split()) == 3
    listing = run("events", "--url", sb.url).output.splitlines()
    assert [line.split("\t")[1] for line in listing] == [
        "customer",
        "order",
        "warehouse",
        "warehouse",
        "warehouse",
    ]

    settings = run("settings", "--url", sb.url, "--login-failure-mode", "result")
    assert '"login_failure_mode": "result"' in settings.output
    assert sb.settings.login_failure_mode == "result"


def test_commands_have_help_and_unreachable_url_is_clear() -> None:
    group = sandbox_cli()
    for name in group.commands:
        result = run(name, "--help")
        assert result.exit_code == 0 and "Usage" in result.output
    result = CliRunner().invoke(group, ["export", "markets", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach the sandbox" in result.output
