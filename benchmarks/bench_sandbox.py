"""Sandbox speed: small SOAP requests per second on one kept-alive connection, and
products_Update ingest in size rows per second. Prints figures; takes well under a minute.

    .venv/bin/python benchmarks/bench_sandbox.py [--requests 3000] [--rows 30000] [--memory]
                                                 [--in-process]

By default the sandbox runs as its own process (``sandbox serve``), as it does for a user;
``--in-process`` embeds it in this process (as the demo does), where client and server share
one interpreter. Small requests are timed twice: a bare kept-alive http.client loop, and the
pipeline's own client (request building, retries machinery, safe parsing included).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.centra.client import CentraClient
from pipeline.sandbox import Sandbox

NS = "http://www.centra.com/webservices/"


def envelope(operation: str, inner: str) -> bytes:
    element = "events_GetRequest" if operation == "events_Get" else operation
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{element} xmlns="{NS}"><login><username>example</username>'
        f"<password>secret</password></login>{inner}</{element}></soap:Body></soap:Envelope>"
    ).encode()


def send(conn: http.client.HTTPConnection, path: str, operation: str, body: bytes) -> bytes:
    """POST one SOAP request on a kept-alive connection; the response body."""
    action = f'"{NS}{operation[0].upper()}{operation[1:]}"'
    conn.request(
        "POST", path, body, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action}
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200 or b"<ns1:success>false" in data:
        raise RuntimeError(f"{operation} failed: HTTP {response.status} {data[:300]!r}")
    return data


def catalogue(products: int, variations: int, sizes: int, batch: int) -> bytes:
    size_ids = [f"S{n}" for n in range(sizes)]
    out = ["<products>"]
    for p in range(products):
        pid = f"B{batch}P{p}"
        out.append(
            f"<product><id>{pid}</id><status>active</status><description>Bench {p}"
            "</description><variations>"
        )
        for v in range(variations):
            out.append(
                f"<variation><id>{pid}V{v}</id><description>Colour {v}</description>"
                "<sizetable><id>BENCH</id></sizetable><sizes>"
            )
            for s in size_ids:
                out.append(
                    f"<size><id>{s}</id><ean>{p:07d}{v:03d}{s[1:]:>03}</ean>"
                    "<warehouseitems><warehouse><id>W1</id><qty>5</qty></warehouse>"
                    "</warehouseitems></size>"
                )
            out.append("</sizes></variation>")
        out.append("</variations></product>")
    out.append("</products>")
    return envelope("products_Update", "".join(out))


@contextlib.contextmanager
def running_sandbox(db: str, in_process: bool) -> Iterator[str]:
    """A sandbox (username example, password secret); yields its SOAP URL."""
    if in_process:
        with Sandbox(db=db, username="example", password="secret") as sb:
            yield sb.url
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "sandbox", "serve", "--port", "0", "--db", db,
         "--username", "example", "--password", "secret"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def measure(
    requests: int = 3000,
    rows: int = 30000,
    batches: int = 3,
    memory: bool = False,
    in_process: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Time small requests (bare and through the pipeline's client) and products_Update ingest;
    print each figure through ``log`` and return them."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = ":memory:" if memory else str(Path(tmp) / "bench.db")
        where = "in-process" if in_process else "own process"
        where += ", memory db" if memory else ", file db"
        with running_sandbox(db, in_process) as soap_url:
            url = urlsplit(soap_url)
            conn = http.client.HTTPConnection(url.hostname, url.port)
            sizes = "".join(
                f"<size><id>S{n}</id><description>Size {n}</description><sizetable><id>BENCH"
                "</id><description>Bench</description></sizetable></size>"
                for n in range(6)
            )
            send(
                conn, url.path, "sizes_Update", envelope("sizes_Update", f"<sizes>{sizes}</sizes>")
            )

            small = envelope("events_Get", "<type>all</type>")
            for _ in range(100):  # warm-up
                send(conn, url.path, "events_Get", small)
            started = time.perf_counter()
            for _ in range(requests):
                send(conn, url.path, "events_Get", small)
            elapsed = time.perf_counter() - started
            figures["bare_requests_per_s"] = requests / elapsed
            log(
                f"small requests (events_Get, one kept-alive connection; sandbox {where}): "
                f"{requests / elapsed:,.0f} requests/s "
                f"({elapsed / requests * 1000:.2f} ms each)"
            )

            client = CentraClient(soap_url, "example", "secret")
            for _ in range(100):  # warm-up
                client.events_get("all")
            started = time.perf_counter()
            for _ in range(requests):
                client.events_get("all")
            elapsed = time.perf_counter() - started
            figures["client_requests_per_s"] = requests / elapsed
            log(
                f"small requests with the pipeline's client (events_Get, build + send + parse): "
                f"{requests / elapsed:,.0f} requests/s "
                f"({elapsed / requests * 1000:.2f} ms each)"
            )
            client.close()

            products = max(1, rows // 30)
            per_request = products * 5 * 6
            bodies = [catalogue(products, 5, 6, b) for b in range(batches)]
            started = time.perf_counter()
            for body in bodies:
                send(conn, url.path, "products_Update", body)
            elapsed = time.perf_counter() - started
            total = per_request * batches
            mb = sum(len(b) for b in bodies) / 1e6
            figures["ingest_rows_per_s"] = total / elapsed
            log(
                f"products_Update ingest: {total / elapsed:,.0f} size rows/s "
                f"({batches} requests x {per_request:,} size rows with EAN and stock, "
                f"{mb:.1f} MB, {elapsed:.2f} s)"
            )
            resend_started = time.perf_counter()
            send(conn, url.path, "products_Update", bodies[0])
            resend = time.perf_counter() - resend_started
            figures["resend_rows_per_s"] = per_request / resend
            log(f"products_Update identical resend: {per_request / resend:,.0f} size rows/s")
            conn.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="small requests to time")
    parser.add_argument("--rows", type=int, default=30000, help="size rows per products_Update")
    parser.add_argument("--batches", type=int, default=3, help="products_Update calls to time")
    parser.add_argument("--memory", action="store_true", help="use :memory: instead of a file")
    parser.add_argument("--in-process", action="store_true", help="embed the sandbox")
    args = parser.parse_args()
    measure(args.requests, args.rows, args.batches, args.memory, args.in_process)


if __name__ == "__main__":
    main()
