"""``centra-pipeline demo``: the whole job on an embedded sandbox, in a real subprocess."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.demo import DEMO_PASSWORD, INBOX_SAMPLES, prepare_folder
from pipeline.errors import ConfigError
from tests.watch.helpers import cli_argv, wait_for


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=_env(), cwd=cwd)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRA_")}
    # Settings for real work must not leak into the demo: it talks only to its own sandbox.
    env.update(
        CENTRA_URL="http://127.0.0.1:9/not-this-one",
        CENTRA_USERNAME="someone",
        CENTRA_PASSWORD="Real-Secret-42",
    )
    return env


def _outbox_rows(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("orders-*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def test_demo_imports_the_samples_and_puts_the_orders_in_the_outbox(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    done = _run(cli_argv("demo", "--dir", str(target)), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Centra sandbox: http://127.0.0.1:" in out
    for secret in (DEMO_PASSWORD, "Real-Secret-42"):
        assert secret not in out + done.stderr

    # every sample imported, archived with its result report, and the report's path printed
    for name in INBOX_SAMPLES:
        (copy,) = target.glob(f"archive/*/{name}")
        report = copy.with_name(name + ".result.csv")
        assert report.exists(), name
        rows = list(csv.DictReader(report.open(encoding="utf-8")))
        assert rows and {r["status"] for r in rows} == {"sent"}, (name, rows)
        assert f"report: demo/archive/{copy.parent.name}/{name}.result.csv" in out
    assert not [p for p in (target / "inbox").iterdir() if p.is_file()]

    # the orders in the outbox, and the outbox files named in the summary
    outbox_files = sorted((target / "outbox").glob("orders-*.csv"))
    assert outbox_files
    for path in outbox_files:
        assert f"demo/outbox/{path.name}" in out
    rows = _outbox_rows(target / "outbox")
    orders = {r["order_id"]: r for r in rows}
    assert len(orders) == 3
    assert {r["order_type"] for r in orders.values()} == {"retail", "wholesale"}
    assert {r["change"] for r in rows} == {"new"}
    wholesale = next(r for r in orders.values() if r["order_type"] == "wholesale")
    assert (wholesale["account_id"], wholesale["status"]) == ("12345", "confirmed")
    retail = orders["30"]
    assert retail["customer_id"] == "C-1001"  # from customers.csv, imported before
    bundle = [r for r in rows if r["bundle_role"] in ("bundle", "part")]
    assert sorted((r["bundle_role"], r["product_id"]) for r in bundle) == [
        ("bundle", "SET01"),
        ("part", "SC01"),
        ("part", "T001"),
    ]
    assert {r["bundle_parent"] for r in bundle if r["bundle_role"] == "part"} == {"SET01"}
    lines = {(r["order_id"], r["variation_id"], r["size_id"], r["qty"]) for r in rows}
    assert ("30", "T001_RED", "S", "1") in lines
    assert ("30", "PWC", "OS", "1") in lines

    # running it again starts from scratch
    (target / "outbox" / "left-over.csv").write_text("x\n")
    again = _run(cli_argv("demo", "--dir", str(target)), tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not (target / "outbox" / "left-over.csv").exists()
    assert len(_outbox_rows(target / "outbox")) == len(rows)


def test_demo_keep_serves_the_sandbox_page_until_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "demo.out"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cli_argv("demo", "--dir", str(tmp_path / "demo"), "--keep"),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=_env(),
            cwd=tmp_path,
        )
    try:
        line = wait_for(
            lambda: (
                next(
                    (
                        x
                        for x in log.read_text().splitlines()
                        if x.startswith("The sandbox stays up")
                    ),
                    None,
                )
                or proc.poll() is not None
            ),
            60,
            "the sandbox address",
        )
        assert isinstance(line, str), log.read_text()
        page = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(page, timeout=10) as answer:
            assert answer.status == 200
            assert "order" in answer.read().decode().lower()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not made by `centra-pipeline demo`"):
        prepare_folder(precious)

    import pipeline.cli.demo  # noqa: F401  (registers the command)
    from pipeline.cli import cli

    result = CliRunner().invoke(cli, ["demo", "--dir", str(precious)])
    assert result.exit_code == 2, result.output
    assert (precious / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in precious.iterdir()) == ["notes.txt"]


def test_demo_runs_from_the_installed_script(tmp_path: Path) -> None:
    """The console script finds the templates as package data (no repository paths)."""
    script = Path(sys.executable).with_name("centra-pipeline")
    done = _run([str(script), "demo", "--dir", "d"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((tmp_path / "d" / "outbox").glob("orders-*.csv"))
