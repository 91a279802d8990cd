"""``centra-pipeline sandbox``: run the local Centra sandbox and talk to a running one.

``serve`` runs it in the foreground; ``order``, ``export``, ``faults``, ``events`` and
``settings`` call a running sandbox's admin API (``--url`` takes the SOAP endpoint URL that
``serve`` printed, or just ``http://host:port``).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from pipeline.sandbox import FAULT_KINDS, Sandbox

_FAULT_OPTIONS = [
    click.option("--latency-ms", type=click.IntRange(min=0), help="Delay every SOAP call."),
    click.option("--http-500", type=click.IntRange(min=0),
                 help="Answer HTTP 500 to the next N calls."),
    click.option("--http-503", type=click.IntRange(min=0),
                 help="Answer HTTP 503 to the next N calls."),
    click.option("--drop-before", type=click.IntRange(min=0),
                 help="Drop the connection before reading the next N request bodies."),
    click.option("--drop-after", type=click.IntRange(min=0),
                 help="Apply the next N requests, then drop the connection without answering."),
    click.option("--soap-fault", type=click.IntRange(min=0),
                 help="Answer a SOAP Fault (faultcode Server) to the next N calls."),
    click.option("--fault-rate", "fault_rates", multiple=True, metavar="KIND=P",
                 help=f"Fire a fault at random with probability P; KIND is one of "
                      f"{', '.join(FAULT_KINDS)}. Repeatable."),
    click.option("--fault-seed", type=int, help="Seed for --fault-rate (repeatable runs)."),
]  # fmt: skip


def _fault_options(func: Any) -> Any:
    for option in reversed(_FAULT_OPTIONS):
        func = option(func)
    return func


def _fault_config(options: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key in ("latency_ms", *FAULT_KINDS):
        if options.get(key) is not None:
            config[key] = options[key]
    rates: dict[str, float] = {}
    for item in options.get("fault_rates") or ():
        kind, sep, value = item.partition("=")
        if not sep or kind not in FAULT_KINDS:
            raise click.BadParameter(
                f"{item!r}: expected KIND=P with KIND one of {', '.join(FAULT_KINDS)}",
                param_hint="--fault-rate",
            )
        try:
            rates[kind] = float(value)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a number", param_hint="--fault-rate"
            ) from None
    if rates:
        config["rates"] = rates
    if options.get("fault_seed") is not None:
        config["seed"] = options["fault_seed"]
    return config


def _admin_base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{url!r} is not an http URL", param_hint="--url")
    return f"{parts.scheme}://{parts.netloc}"


def _call(url: str, method: str, path: str, data: Any = None) -> tuple[int, bytes]:
    body = None if data is None else json.dumps(data).encode()
    # _admin_base() accepts only scheme://host, so no file: or other scheme reaches urlopen.
    request = urllib.request.Request(  # noqa: S310
        _admin_base(url) + path, data=body, method=method,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # noqa: S310 (http URL checked)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(
            f"cannot reach the sandbox at {_admin_base(url)}: {exc}. "
            "Is `centra-pipeline sandbox serve` running there?"
        ) from exc


def _json_call(url: str, method: str, path: str, data: Any = None) -> Any:
    status, body = _call(url, method, path, data)
    try:
        answer = json.loads(body)
    except ValueError:
        raise click.ClickException(f"the sandbox answered HTTP {status}: {body[:200]!r}") from None
    if status >= 400:
        errors = answer.get("errors") if isinstance(answer, dict) else None
        raise click.ClickException("; ".join(errors or [f"HTTP {status}"]))
    return answer


url_option = click.option(
    "--url",
    envvar="CENTRA_URL",
    required=True,
    help="The running sandbox: the SOAP endpoint URL `serve` printed, or http://HOST:PORT "
    "(env CENTRA_URL).",
)


@click.group("sandbox")
def sandbox() -> None:
    """Run the local Centra sandbox, place test orders, inspect and break it on purpose."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--db",
    default=":memory:",
    show_default=True,
    help="SQLite file for the state (kept across restarts), or :memory:.",
)
@click.option(
    "--username",
    envvar="CENTRA_USERNAME",
    default="example",
    show_default=True,
    help="Accepted username (env CENTRA_USERNAME).",
)
@click.option(
    "--password",
    envvar="CENTRA_PASSWORD",
    default="secret",
    help="Accepted password (env CENTRA_PASSWORD) [default: secret].",
)
@click.option(
    "--prefix",
    default="/ams",
    show_default=True,
    help="Path before /system/service/module/soap/api in the printed URL.",
)
@click.option(
    "--login-failure-mode",
    type=click.Choice(["fault", "result"]),
    default="fault",
    show_default=True,
    help="Wrong credentials: a SOAP Fault, or success=false with 'Login failed...'.",
)
@click.option(
    "--no-auto-shipment",
    is_flag=True,
    help="Do not create a shipment when a retail (DTC) order is placed.",
)
@click.option(
    "--update-response",
    type=click.Choice(["result", "ok"]),
    default="result",
    show_default=True,
    help="A successful *_Update/events_Done: the guide's ns1:result, or the reference's "
    "<xUpdateResponse>OK</xUpdateResponse>.",
)
@_fault_options
def serve(**options: Any) -> None:
    """Run the sandbox until SIGTERM or Ctrl-C; the first line printed is its SOAP URL."""
    faults = _fault_config(options)
    sb = Sandbox(
        db=options["db"],
        username=options["username"],
        password=options["password"],
        host=options["host"],
        port=options["port"],
        login_failure_mode=options["login_failure_mode"],
        retail_auto_shipment=not options["no_auto_shipment"],
        prefix=options["prefix"],
    )
    sb.settings.update_response = options["update_response"]
    try:
        sb.set_faults(**faults)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sb.start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {options['host']}:{options['port']}: {exc}"
        ) from exc
    click.echo(sb.url)
    click.echo(f"page: {sb.base_url}/  admin: {sb.base_url}/sandbox/  db: {options['db']}")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
    click.echo("sandbox stopped")


@sandbox.command("order")
@url_option
@click.option("--market", required=True, help="Market id, e.g. Retail-Sweden.")
@click.option("--pricelist", help="Pricelist id (wholesale: default the account's).")
@click.option(
    "--line",
    "lines",
    nargs=4,
    multiple=True,
    metavar="PRODUCT VARIATION SIZE QTY",
    help="An order line. Repeatable.",
)
@click.option(
    "--spec",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file with more lines or options (bundles: lines with 'parts').",
)
@click.option("--id", "order_id", help="Explicit order number (tests).")
@click.option(
    "--type",
    "order_type",
    type=click.Choice(["retail", "wholesale"]),
    help="Default: the market's type.",
)
@click.option("--email", help="Retail customer e-mail (a new e-mail creates a customer).")
@click.option("--account", help="Wholesale account id (default: first account of the market).")
@click.option("--shipping", help="Shipping amount.")
@click.option("--shipment-id", help="Id of the auto-created retail shipment.")
@click.option("--no-auto-shipment", is_flag=True, help="No shipment for this retail order.")
@click.option("--status", help="Initial status (default processing/pending).")
def order(url: str, market: str, pricelist: str | None, lines: tuple[tuple[str, ...], ...],
          spec: Path | None, order_id: str | None, order_type: str | None, email: str | None,
          account: str | None, shipping: str | None, shipment_id: str | None,
          no_auto_shipment: bool, status: str | None) -> None:  # fmt: skip
    """Place a test order in a running sandbox (allocates stock, queues events); print its id."""
    data: dict[str, Any] = json.loads(spec.read_text()) if spec else {}
    data["market"] = market
    data.setdefault("lines", [])
    data["lines"] += [{"product": p, "variation": v, "size": s, "qty": q} for p, v, s, q in lines]
    if not data["lines"]:
        raise click.UsageError("give at least one --line PRODUCT VARIATION SIZE QTY (or --spec)")
    options = {
        "pricelist": pricelist, "id": order_id, "type": order_type, "email": email,
        "account": account, "shipping": shipping, "shipment_id": shipment_id, "status": status,
    }  # fmt: skip
    data.update({k: v for k, v in options.items() if v is not None})
    if no_auto_shipment:
        data["auto_shipment"] = False
    click.echo(_json_call(url, "POST", "/sandbox/orders", data)["id"])


@sandbox.command("export")
@url_option
@click.argument("entity")
def export(url: str, entity: str) -> None:
    """Print ENTITY's state as the body of its *_Update request.

    ENTITY: markets, warehouses, sizes, products, stock, pricelists, pricealterationdates,
    paymentterms, shippingterms, accounts, customers, salesreps, deliverywindows, orders,
    invoices.
    """
    status, body = _call(url, "GET", f"/sandbox/export/{entity}")
    if status != 200:
        try:
            message = "; ".join(json.loads(body).get("errors", []))
        except ValueError:
            message = body.decode(errors="replace")
        raise click.ClickException(message or f"HTTP {status}")
    click.echo(body.decode(), nl=False)


@sandbox.command("faults")
@url_option
@click.option("--clear", is_flag=True, help="Remove every fault (before applying the others).")
@_fault_options
def faults(url: str, clear: bool, **options: Any) -> None:
    """Show or change the faults of a running sandbox; prints them as JSON."""
    if clear:
        _json_call(url, "DELETE", "/sandbox/faults")
    config = _fault_config(options)
    if config:
        answer = _json_call(url, "POST", "/sandbox/faults", config)
    else:
        answer = _json_call(url, "GET", "/sandbox/faults")
    click.echo(json.dumps(answer, indent=1))


@sandbox.command("events")
@url_option
@click.option("--add", type=click.IntRange(min=1), help="Queue N synthetic events.")
@click.option(
    "--type",
    "event_type",
    default="market",
    show_default=True,
    help="Type of the synthetic events.",
)
def events(url: str, add: int | None, event_type: str) -> None:
    """List the event queue (id, type, entry, market), or queue synthetic events."""
    if add:
        answer = _json_call(url, "POST", "/sandbox/events", {"count": add, "type": event_type})
        click.echo(" ".join(str(i) for i in answer["ids"]))
        return
    for event in _json_call(url, "GET", "/sandbox/events"):
        click.echo(f"{event['id']}\t{event['type']}\t{event['entry']}\t{event['market'] or ''}")


@sandbox.command("settings")
@url_option
@click.option("--login-failure-mode", type=click.Choice(["fault", "result"]))
@click.option(
    "--auto-shipment/--no-auto-shipment",
    default=None,
    help="Create a shipment when a retail order is placed.",
)
@click.option(
    "--update-response",
    type=click.Choice(["result", "ok"]),
    help="Answer a successful update with the guide's <result> or the reference's OK form.",
)
def settings(
    url: str,
    login_failure_mode: str | None,
    auto_shipment: bool | None,
    update_response: str | None,
) -> None:
    """Show or change how a running sandbox answers; prints the settings as JSON."""
    data: dict[str, Any] = {}
    if login_failure_mode:
        data["login_failure_mode"] = login_failure_mode
    if update_response:
        data["update_response"] = update_response
    if auto_shipment is not None:
        data["retail_auto_shipment"] = auto_shipment
    answer = _json_call(url, "POST" if data else "GET", "/sandbox/settings", data or None)
    click.echo(json.dumps(answer, indent=1))


if __name__ == "__main__":
    sandbox()
