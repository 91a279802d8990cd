"""``centra-pipeline demo``: the whole job end to end, on an embedded Centra sandbox.

1. start a sandbox on 127.0.0.1 (a free port, in memory, demo-only credentials);
2. create a demo workspace (``init``) pointed at it, and copy the sample ERP files
   (markets, warehouses, sizes, terms, articles with a gift set, prices, stock, accounts,
   customers) into its inbox;
3. import them with :func:`~pipeline.batch.run.run_batch`, the same path as ``run``;
4. place test orders in the sandbox: a retail order, a confirmed wholesale order, and a retail
   order with a bundle, all of sample products;
5. pull Centra's events into the outbox with :func:`~pipeline.outbox.pull.pull_events`.

The demo never talks to anything but its own sandbox: ``CENTRA_URL`` and the credentials in
the environment are ignored. The workspace folder is recreated on every run, but only if it
is empty or was made by an earlier demo (it holds :data:`MARKER`); any other folder is refused.

Example::

    with start_sandbox() as sandbox:
        result = run_demo(Path("demo-workspace"), sandbox)
        print("\\n".join(summary_lines(result)))
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.batch.run import ORDER, FileResult, RunSummary, run_batch
from pipeline.centra.client import client_from_settings
from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError, PipelineError
from pipeline.outbox.pull import PullSummary, pull_events
from pipeline.sandbox import OrderError, Sandbox
from pipeline.state.journal import Journal
from pipeline.state.lock import WorkspaceLock
from pipeline.workspace import config_template, init_workspace

DEFAULT_DIR = Path("demo-workspace")
MARKER = ".centra-pipeline-demo"
#: Demo-only credentials of the embedded sandbox; they open nothing else.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-only-credentials"  # noqa: S105
#: The sample files the demo drops into the inbox: the catalogue side. The order updates in
#: samples/ (shipments, tracking, returns...) follow the guide's orders 25 and 30 and are left
#: for the user to try.
INBOX_SAMPLES = (
    "markets.csv",
    "warehouses.csv",
    "sizes.csv",
    "setup.xlsx",
    "articles.csv",
    "articles-giftset.csv",
    "prices.csv",
    "stock.csv",
    "stock-by-ean.xlsx",
    "accounts.xlsx",
    "customers.csv",
)


@dataclass(frozen=True)
class DemoOrder:
    id: str
    kind: str
    market: str
    lines: str


@dataclass
class DemoResult:
    workspace: Path
    page: str
    url: str
    run: RunSummary
    orders: list[DemoOrder] = field(default_factory=list)
    pull: PullSummary = field(default_factory=PullSummary)

    @property
    def exit_code(self) -> int:
        return self.run.exit_code


def start_sandbox() -> Sandbox:
    """A sandbox on 127.0.0.1 and a free port, in memory, with the demo's credentials."""
    return Sandbox(db=":memory:", username=DEMO_USERNAME, password=DEMO_PASSWORD, port=0)


def prepare_folder(directory: Path) -> None:
    """Remove an earlier demo workspace; refuse a folder the demo did not make."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a folder", hint="use --dir elsewhere")
    if (directory / MARKER).exists():
        shutil.rmtree(directory)
    elif any(directory.iterdir()):
        raise ConfigError(
            f"{directory} is not empty and was not made by `centra-pipeline demo`; "
            "nothing was changed",
            hint="use --dir with a new folder (the demo recreates its folder on every run)",
        )


def _demo_config(url: str) -> str:
    """The template pipeline.yaml, pointed at the sandbox and the demo's credentials."""
    text = config_template()
    replacements = [
        (r"(?m)^(  url: ).*$", rf"\g<1>{url}  # the demo's sandbox"),
        (r"(?m)^  # (credentials_file: \.env) .*$", r"  \g<1>  # the demo's credentials"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, count=1)
        if count != 1:  # pragma: no cover - the template and this code change together
            raise RuntimeError(f"the pipeline.yaml template has no line matching {pattern!r}")
    return text


def create_workspace(directory: Path, url: str) -> Settings:
    """A fresh demo workspace pointed at ``url``, with the samples in its inbox."""
    prepare_folder(directory)
    init_workspace(directory)
    (directory / MARKER).write_text("made by centra-pipeline demo; recreated on every run\n")
    (directory / "pipeline.yaml").write_text(_demo_config(url), encoding="utf-8")
    credentials = (
        "# The demo sandbox's own credentials (demo-only; they open nothing else).\n"
        f"CENTRA_USERNAME={DEMO_USERNAME}\nCENTRA_PASSWORD={DEMO_PASSWORD}\n"
    )
    fd = os.open(directory / ".env", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(credentials)
    for name in INBOX_SAMPLES:
        shutil.copyfile(directory / "samples" / name, directory / "inbox" / name)
    # An empty environment: CENTRA_URL or credentials set for real work must not leak in.
    settings = load_settings(directory, env={})
    # The demo copied complete files itself: no settle time for its own run (the workspace
    # keeps the default for anything dropped later).
    inbox = settings.file.inbox.model_copy(update={"settle_seconds": 0})
    return replace(settings, file=settings.file.model_copy(update={"inbox": inbox}))


def place_orders(sandbox: Sandbox) -> list[DemoOrder]:
    """A retail order, a confirmed wholesale order and a retail order with a bundle."""
    orders: list[DemoOrder] = []

    def place(kind: str, market: str, lines: list[dict[str, Any]], **options: Any) -> None:
        order_id = sandbox.place_order(market, lines, **options)
        shown = ", ".join(
            f"{line['variation']}/{line['size']} x{line['qty']}"
            + (
                " = " + " + ".join(f"{p['variation']}/{p['size']}" for p in line["parts"])
                if line.get("parts")
                else ""
            )
            for line in lines
        )
        orders.append(DemoOrder(order_id, kind, market, shown))

    # Order 30 with shipment 8, as in the guide, so samples/tracking.csv and returns.csv apply.
    place(
        "retail",
        "Retail-Sweden",
        [_line("T001", "T001_RED", "S", 1), _line("PWC", "PWC", "OS", 1)],
        pricelist="EUR-Retail",
        id=30,
        shipment_id=8,
        email="michael@example.com",
        address=_address("Michael", "Ständer", "Storgatan 1", "11122", "Stockholm", "SE"),
    )
    # Wholesale orders start `pending`, which the default export leaves out (as the guide
    # advises) until someone confirms them in Centra: this one is confirmed.
    place(
        "wholesale",
        "Wholesale-Market",
        [_line("T001", "T001_BLUE", "M", 2), _line("T001", "T001_RED", "M", 3)],
        account="12345",
        status="confirmed",
        ponumber="PO-1001",
    )
    gift_set = _line("SET01", "SET01_STD", "OS", 1)
    gift_set["parts"] = [_line("T001", "T001_RED", "L", 1), _line("SC01", "SC01_GREY", "OS", 1)]
    place(
        "retail, bundle",
        "Retail-Global",
        [gift_set],
        pricelist="EUR-Retail",
        email="nangula@example.com",
        address=_address("Nangula", "Shikongo", "Independence Ave 12", "10005", "Windhoek", "NA"),
    )
    return orders


def _line(product: str, variation: str, size: str, qty: int) -> dict[str, Any]:
    return {"product": product, "variation": variation, "size": size, "qty": qty}


def _address(
    first: str, last: str, street: str, zipcode: str, city: str, country: str
) -> dict[str, str]:
    return {
        "firstname": first,
        "lastname": last,
        "address1": street,
        "zipcode": zipcode,
        "city": city,
        "country": country,
    }


def run_demo(directory: Path, sandbox: Sandbox) -> DemoResult:
    """The whole job against a started ``sandbox``; the workspace stays for the user to read."""
    settings = create_workspace(directory, sandbox.url)
    state = settings.folder("state")
    with (
        WorkspaceLock(state, "demo"),
        Journal.open(state / "journal.sqlite") as journal,
        client_from_settings(settings) as client,
    ):
        summary = run_batch(
            settings, client, journal, pull=lambda: pull_events(settings, client, journal).to_json()
        )
        result = DemoResult(directory, sandbox.base_url + "/", sandbox.url, summary)
        if summary.stopped is None:
            try:
                result.orders = place_orders(sandbox)
            except OrderError as exc:
                raise PipelineError(
                    f"the demo could not place its test orders: {exc}",
                    hint="the sample files and the demo's orders disagree: "
                    "see pipeline/demo.py place_orders",
                ) from exc
            result.pull = pull_events(settings, client, journal)
    return result


# -- the summary ------------------------------------------------------------------------------


def shown_path(path: str | Path) -> str:
    """A path relative to the current folder when it lies below it, else absolute."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def command_name() -> str:
    """How the user started us, to repeat it in the hints (``.venv/bin/centra-pipeline``)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "centra-pipeline":
        found = shutil.which("centra-pipeline")
        if found and Path(found).resolve() == argv0.resolve():
            return "centra-pipeline"
        return shown_path(argv0)
    if argv0.name == "__main__.py":
        return f"{shown_path(sys.executable)} -m pipeline"
    return "centra-pipeline"


def summary_lines(result: DemoResult, *, keep: bool = False) -> list[str]:
    ws = shown_path(result.workspace)
    run = result.run
    lines = [
        f"Centra sandbox: {result.page}  (SOAP endpoint {result.url})",
        f"Demo workspace: {ws}/",
        "",
        f"1. ERP -> Centra: {len(run.files)} sample file(s) from {ws}/inbox/ imported in "
        f"dependency order ({run.requests} request(s), {run.seconds:.1f} s):",
    ]
    width = max((len(f.name) for f in run.files), default=4)
    for f in sorted(run.files, key=_dependency_order):
        lines.append(
            f"   {f.name:<{width}}  {f.status:<6}  {f.sent} sent, {f.skipped} skipped, "
            f"{f.failed} failed"
        )
        if f.report:
            lines.append(f"   {'':<{width}}  report: {shown_path(f.report)}")
        if f.message:
            lines.append(f"   {'':<{width}}  {f.message}")
    if run.stopped is not None:
        lines += ["", f"The import stopped: {run.stopped}"]
        return lines
    lines += ["", "2. Test orders placed in the sandbox (as a shopper and a showroom buyer would):"]
    for order in result.orders:
        lines.append(f"   order {order.id:<4} {order.kind:<15} {order.market:<17} {order.lines}")
    pull = result.pull
    lines += [
        "",
        f"3. Centra -> ERP: {pull.fetched} event(s) pulled, {pull.rows} row(s) written to the "
        "outbox, every event acknowledged once on disk:",
    ]
    for name in pull.outbox_files:
        path = result.workspace / "outbox" / name
        lines.append(f"   {shown_path(path)}  ({_data_rows(path)} row(s))")
    lines += ["", *_next_steps(result, keep)]
    return lines


def _dependency_order(f: FileResult) -> tuple[tuple[int, int], str]:
    return min((ORDER.get(e, (99, 0)) for e in f.entities), default=(99, 0)), f.name


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return max(0, sum(1 for _ in csv.reader(fh)) - 1)


def _next_steps(result: DemoResult, keep: bool) -> list[str]:
    cmd, ws = command_name(), shown_path(result.workspace)
    on = f"{cmd} --workspace {ws}"
    if not keep:
        steps = [
            ("the same, keeping the sandbox up to explore", f"{cmd} demo --keep"),
            ("what the demo workspace has done", f"{on} status"),
            ("your own workspace, with these mappings and samples", f"{cmd} init my-workspace"),
        ]
        head = "Try next (docs/operations.md: watch, nightly runs, exit codes, logs):"
    else:
        page = result.page.rstrip("/")
        steps = [
            ("the sandbox page: requests, event queue, products, orders", f"open {page}/"),
            (
                "ship order 30 with the tracking sample",
                f"cp {ws}/samples/tracking.csv {ws}/inbox/ && {on} run",
            ),
            (
                "a new order in the sandbox",
                f"{on} sandbox order --url {page} --market Retail-Sweden --pricelist EUR-Retail "
                "--line PWC PWC OS 1",
            ),
            ("the new order and the shipment to the outbox", f"{on} pull"),
            ("watch the inbox; then drop files into it", f"{on} watch"),
        ]
        head = "Try next, in another terminal while this one keeps the sandbox up:"
    lines = [head]
    for why, command in steps:
        lines += [f"  # {why}", f"  {command}"]
    return lines
