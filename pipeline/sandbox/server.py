"""HTTP for the sandbox: the SOAP endpoint, the WSDL, the read-only page and the admin calls.

HTTP/1.1 with keep-alive, one thread per connection, TCP_NODELAY on every accepted socket
(without it a small response waits ~40 ms for the delayed ACK of the previous write).

Routes::

    POST .../system/service/module/soap/api         SOAP (any prefix)
    GET  .../system/service/module/soap/api?wsdl    the WSDL
    GET  /                                          the read-only page
    POST /sandbox/orders          JSON order spec -> {"id": "30"}
    POST /sandbox/events          {"count": N, "type": "market"} -> {"ids": [...]}
    GET  /sandbox/events          the queue (JSON)
    GET  /sandbox/export/ENTITY   the entity as its *_Update request (XML)
    GET  /sandbox/orders/ID       one order as stored (JSON)
    GET|POST|DELETE /sandbox/faults
    GET|POST /sandbox/settings    {"login_failure_mode": "fault"|"result",
                                   "update_response": "result"|"ok", ...}
    GET  /sandbox/requests?limit=N   the request log, passwords masked (JSON)
    GET  /sandbox/conversion      the ID conversion table (JSON)

Browsers on other origins are kept out. Every request must name this sandbox in its Host
header (a loopback name or address, or the host it was bound to; see :func:`host_allowed`),
else 403: a DNS-rebound name cannot reach the page, the admin calls or SOAP. Admin calls that
change state (POST, DELETE) must send ``Content-Type: application/json``, else 415: a page on
another origin can only send that after a CORS preflight, which the sandbox never approves
(it has no OPTIONS), so it cannot place orders or set faults through a "simple" text/plain or
form POST.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pipeline.sandbox import page, wsdl
from pipeline.sandbox.export import ENTITIES
from pipeline.sandbox.orders import OrderError
from pipeline.sandbox.soap import fault_response
from pipeline.sandbox.store import LOG_LIMIT

if TYPE_CHECKING:
    from pipeline.sandbox.api import Sandbox

log = logging.getLogger(__name__)

SOAP_PATH = "/system/service/module/soap/api"
MAX_BODY = 256 * 1024 * 1024
#: A refused request's body up to this size is read and dropped, so the connection stays usable;
#: a larger one closes the connection instead.
DRAIN_LIMIT = 1024 * 1024
#: The only content type of an admin call that changes state.
ADMIN_CONTENT_TYPE = "application/json"
#: Bind addresses meaning "every interface": any IP address literal in Host is then accepted.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (names compared, not bound)


def host_name(value: str) -> str | None:
    """The host in a Host header value, lower case, without port, brackets or trailing dot.

    ``None`` when the value is malformed (a port that is not a number, an unclosed bracket).
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
        return name
    if value.count(":") == 1:
        value, _, port = value.partition(":")
        if not port.isdigit():
            return None
    return value.rstrip(".")


def host_allowed(value: str, bound: Iterable[str]) -> bool:
    """Whether a Host header value names this sandbox.

    Accepted: ``localhost``, any address in 127.0.0.0/8, ``[::1]``, and the hosts in ``bound``
    (what the server was bound to); when bound to every interface, any IP address literal.
    Each with or without a port. A DNS-rebound name (``evil.example`` resolving to 127.0.0.1)
    is none of these.
    """
    name = host_name(value)
    if not name:
        return False
    if name == "localhost":
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and address.is_loopback:
        return True
    names = {host_name(b) if b.startswith("[") else b.strip().lower().rstrip(".") for b in bound}
    if name in names:
        return True
    return address is not None and bool(names & WILDCARD_HOSTS)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)
        #: What the server was bound to: the name asked for and the address it resolved to.
        self.bound_hosts = (address[0], str(self.server_address[0]))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (killed, timed out) is normal here: say nothing.

        Anything else is printed as socketserver does, so real bugs stay visible.
        """
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CentraSandbox/1.0"
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    # -------------------------------------------------------------- plumbing

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def _send(self, status: int, body: bytes, content_type: str, extra: Any = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Centra-Request-ID", uuid.uuid4().hex)
        for name, value in extra:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write (one TCP segment for a small answer): the body joins
        # http.server's header buffer, which end_headers() would flush on its own.
        self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
        self.flush_headers()

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data, indent=1).encode()
        self._send(status, body, "application/json")

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._send(411, b"Content-Length required\n", "text/plain")
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._send(413, b"Request body too large\n", "text/plain")
            return None
        return self.rfile.read(int(length))

    def _refuse(self, status: int, message: str, as_json: bool) -> None:
        """Answer ``status`` with ``message`` without handling the request (its body dropped)."""
        length = self.headers.get("Content-Length")
        if length is not None or self.headers.get("Transfer-Encoding"):
            if length is not None and length.isdigit() and int(length) <= DRAIN_LIMIT:
                self.rfile.read(int(length))
            else:
                self.close_connection = True
        if as_json:
            self._json(status, {"errors": [message]})
        else:
            self._send(status, (message + "\n").encode(), "text/plain; charset=utf-8")

    def _host_ok(self, as_json: bool) -> bool:
        """False (after a 403) when the Host header names another server: DNS rebinding.

        A request without Host (HTTP/1.0 tools; a browser always sends one) is accepted.
        """
        value = self.headers.get("Host")
        if value is None or host_allowed(value, self.server.bound_hosts):
            return True
        bound = ", ".join(dict.fromkeys(self.server.bound_hosts))
        self._refuse(
            403,
            f"Host {value!r} is not this sandbox: it answers only to localhost, 127.0.0.0/8, "
            f"[::1] and the host it listens on ({bound}), so that a web page cannot reach it "
            "through a DNS name of its own",
            as_json,
        )
        return False

    def _json_type_ok(self) -> bool:
        """False (after a 415) unless the admin call that changes state is sent as JSON."""
        value = self.headers.get("Content-Type")
        if value is not None and value.partition(";")[0].strip().lower() == ADMIN_CONTENT_TYPE:
            return True
        got = "none" if value is None else repr(value)
        self._refuse(
            415,
            f"admin calls that change the sandbox need Content-Type: {ADMIN_CONTENT_TYPE} "
            f"(got {got}); other content types are refused so that a web page on another "
            "origin cannot send them",
            True,
        )
        return False

    def _drop(self) -> None:
        """Close the connection without an answer (an injected fault)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _split(self) -> tuple[str, dict[str, list[str]]]:
        path, _, query = self.path.partition("?")
        return path, parse_qs(query, keep_blank_values=True)

    # -------------------------------------------------------------- methods

    def do_POST(self) -> None:
        path, _ = self._split()
        admin = path.startswith("/sandbox/")
        if not self._host_ok(as_json=admin):
            return
        if path.endswith(SOAP_PATH):
            self._soap()
        elif admin:
            if not self._json_type_ok():
                return
            body = self._read_body()
            if body is not None:
                self._admin("POST", path, body)
        else:
            self._refuse(404, "Not found", as_json=False)

    def do_GET(self) -> None:
        path, query = self._split()
        if not self._host_ok(as_json=path.startswith("/sandbox/")):
            return
        if path.endswith(SOAP_PATH) and "wsdl" in {k.lower() for k in query}:
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            self._send(
                200, wsdl.document(f"http://{host}{path}").encode(), "text/xml; charset=utf-8"
            )
        elif path == "/":
            html = page.render(self.sandbox)
            self._send(200, html.encode(), "text/html; charset=utf-8")
        elif path.startswith("/sandbox/"):
            self._admin("GET", path, b"", query)
        else:
            self._send(404, b"Not found\n", "text/plain")

    def do_DELETE(self) -> None:
        path, _ = self._split()
        if not self._host_ok(as_json=True):
            return
        if not path.startswith("/sandbox/"):
            self._refuse(404, f"no admin call DELETE {path}", as_json=True)
            return
        if not self._json_type_ok():
            return
        body = self._read_body() if self.headers.get("Content-Length") else b""
        if body is not None:
            self._admin("DELETE", path, b"")

    # -------------------------------------------------------------- SOAP

    def _soap(self) -> None:
        sandbox = self.sandbox
        faults = sandbox.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if faults.take("drop_before"):
            sandbox.store.log_request("(fault: drop_before)", 0, 0.0, "", "")
            self._drop()
            return
        raw = self._read_body()
        if raw is None:
            return
        started = time.perf_counter()
        request_text = raw[: LOG_LIMIT + 4].decode("utf-8", "replace")  # the log keeps no more
        for kind, status in (("http_500", 500), ("http_503", 503)):
            if faults.take(kind):
                message = f"Injected fault: HTTP {status}\n".encode()
                sandbox.store.log_request(f"(fault: {kind})", status, 0.0, request_text, "")
                extra = [("Retry-After", "1")] if status == 503 else []
                self._send(status, message, "text/plain", extra)
                return
        if faults.take("soap_fault"):
            body = fault_response("Server", "Injected fault: the server could not process it")
            sandbox.store.log_request("(fault: soap_fault)", 500, 0.0, request_text, "")
            self._send(500, body, "text/xml; charset=utf-8")
            return
        response = sandbox.engine.handle(raw, self.headers.get("SOAPAction"))
        millis = (time.perf_counter() - started) * 1000
        sandbox.store.log_request(
            response.operation, response.status, millis, request_text, response.body.decode()
        )
        if faults.take("drop_after"):
            self._drop()
            return
        self._send(response.status, response.body, "text/xml; charset=utf-8")

    # -------------------------------------------------------------- admin

    def _admin(
        self, method: str, path: str, body: bytes, query: dict[str, list[str]] | None = None
    ) -> None:
        sandbox = self.sandbox
        parts = [p for p in path.split("/") if p][1:]  # after "sandbox"
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            self._json(400, {"errors": [f"the body is not JSON: {exc}"]})
            return
        route = (method, parts[0] if parts else "")
        try:
            if route == ("POST", "orders"):
                self._json(201, {"id": sandbox.place_order(**data)})
            elif route == ("GET", "orders") and len(parts) == 2:
                order = sandbox.order(parts[1])
                self._json(200 if order else 404, order or {"errors": ["no such order"]})
            elif route == ("POST", "events"):
                ids = sandbox.enqueue_events(int(data.get("count", 1)), data.get("type", "market"))
                self._json(201, {"ids": ids})
            elif route == ("GET", "events"):
                self._json(
                    200,
                    [
                        {k: e[k] for k in ("id", "type", "entry", "mission", "date", "market")}
                        for e in sandbox.store.events()
                    ],
                )
            elif route == ("GET", "export") and len(parts) == 2:
                if parts[1] not in ENTITIES:
                    self._json(
                        404,
                        {"errors": [f"unknown entity {parts[1]!r}"], "entities": sorted(ENTITIES)},
                    )
                else:
                    xml = sandbox.export(parts[1]).encode()
                    self._send(200, xml, "text/xml; charset=utf-8")
            elif route == ("GET", "faults"):
                self._json(200, sandbox.faults.snapshot())
            elif route == ("POST", "faults"):
                sandbox.set_faults(**data)
                self._json(200, sandbox.faults.snapshot())
            elif route == ("DELETE", "faults"):
                sandbox.clear_faults()
                self._json(200, sandbox.faults.snapshot())
            elif route == ("GET", "settings"):
                self._json(200, sandbox.settings_dict())
            elif route == ("POST", "settings"):
                sandbox.configure(**data)
                self._json(200, sandbox.settings_dict())
            elif route == ("GET", "requests"):
                limit = int((query or {}).get("limit", ["100"])[0])
                self._json(200, sandbox.requests(limit))
            elif route == ("GET", "conversion"):
                rows = sandbox.store.conversion()
                self._json(200, [{"type": t, "id": e, "internal": i} for t, e, i in rows])
            else:
                self._json(404, {"errors": [f"no admin call {method} {path}"]})
        except OrderError as exc:
            self._json(400, {"errors": exc.errors})
        except (TypeError, ValueError) as exc:
            self._json(400, {"errors": [str(exc)]})
