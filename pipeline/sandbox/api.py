"""The sandbox as a Python object: start it in a thread, place orders, inspect its state."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.sandbox import export as export_module
from pipeline.sandbox import orders, pricelists
from pipeline.sandbox.faults import Faults
from pipeline.sandbox.operations import Engine, Response, Settings, enqueue_synthetic
from pipeline.sandbox.server import SOAP_PATH, SandboxHTTPServer
from pipeline.sandbox.store import Store

LOGIN_FAILURE_MODES = ("fault", "result")


class Sandbox:
    """A local Centra SOAP API.

    Example::

        from pipeline.sandbox import Sandbox

        with Sandbox(db=":memory:", username="example", password="secret") as sb:
            print(sb.url)   # http://127.0.0.1:PORT/ams/system/service/module/soap/api
            ...             # send SOAP requests to sb.url
            order_id = sb.place_order(
                market="Retail-Sweden", pricelist="EUR-Retail", email="someone@example.com",
                lines=[{"product": "PWC", "variation": "PWC", "size": "OS", "qty": 1}],
            )
            print(sb.export("orders"))

    ``stop()`` stops the server and closes the database; a file database keeps its state for
    the next ``Sandbox(db=same_path)``.
    """

    def __init__(
        self,
        db: str = ":memory:",
        username: str = "example",
        password: str = "secret",  # noqa: S107 (the sandbox's own test credentials)
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        login_failure_mode: str = "fault",
        retail_auto_shipment: bool = True,
        prefix: str = "/ams",
    ) -> None:
        self.store = Store(str(db))
        pricelists.migrate(self.store)  # a database written before pricelist_entries
        self.settings = Settings(username=username, password=password)
        self.configure(
            login_failure_mode=login_failure_mode, retail_auto_shipment=retail_auto_shipment
        )
        self.engine = Engine(self.store, self.settings)
        self.faults = Faults()
        self.host = host
        self.port = port
        self.prefix = prefix.rstrip("/")
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- life cycle

    def start(self) -> Sandbox:
        """Serve in a background thread; ``url`` is valid afterwards."""
        if self._server is not None:
            return self
        self._server = SandboxHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="centra-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and close the database."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where the page and the admin calls (``/sandbox/...``) are."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The SOAP endpoint (append ``?wsdl`` for the WSDL)."""
        return f"{self.base_url}{self.prefix}{SOAP_PATH}"

    # -------------------------------------------------------------- settings

    def configure(
        self,
        *,
        login_failure_mode: str | None = None,
        retail_auto_shipment: bool | None = None,
        update_response: str | None = None,
    ) -> None:
        """Change how the sandbox answers (wrong credentials; DTC auto-shipments; a successful
        update as the guide's ``<result>`` or the reference's ``<xUpdateResponse>OK``)."""
        if update_response is not None:
            if update_response not in ("result", "ok"):
                raise ValueError(
                    f"update_response must be 'result' or 'ok', not {update_response!r}"
                )
            self.settings.update_response = update_response
        if login_failure_mode is not None:
            if login_failure_mode not in LOGIN_FAILURE_MODES:
                raise ValueError(
                    f"login_failure_mode must be one of {LOGIN_FAILURE_MODES}, "
                    f"not {login_failure_mode!r}"
                )
            self.settings.login_failure_mode = login_failure_mode
        if retail_auto_shipment is not None:
            self.settings.retail_auto_shipment = bool(retail_auto_shipment)

    def settings_dict(self) -> dict[str, Any]:
        return {
            "username": self.settings.username,
            "login_failure_mode": self.settings.login_failure_mode,
            "retail_auto_shipment": self.settings.retail_auto_shipment,
            "update_response": self.settings.update_response,
        }

    def set_faults(self, **config: Any) -> None:
        """E.g. ``set_faults(http_503=2, latency_ms=50, rates={"drop_after": 0.1}, seed=1)``.

        Kinds: ``drop_before``, ``http_500``, ``http_503``, ``soap_fault``, ``drop_after`` (a
        count: the next N SOAP calls); ``latency_ms`` applies to every SOAP call.
        """
        self.faults.set(config)

    def clear_faults(self) -> None:
        self.faults.clear()

    # -------------------------------------------------------------- test helpers

    def handle(self, body: bytes, soap_action: str | None = None) -> Response:
        """Answer one SOAP request without HTTP (no faults, no request log)."""
        return self.engine.handle(body, soap_action)

    def place_order(
        self,
        market: str,
        lines: Iterable[Mapping[str, Any] | Sequence[Any]],
        pricelist: str | None = None,
        **options: Any,
    ) -> str:
        """Place a test order the way a shopper or a showroom buyer would; returns its id.

        ``lines``: dicts with ``product``, ``variation``, ``size``, ``qty`` and optionally
        ``orderitem`` (explicit row id), ``warehouse`` (allocate from it), ``price`` and
        ``parts`` (a bundle: its parts as lines, qty per bundle); or tuples
        ``(product, variation, size, qty)``.

        Options: ``id`` (explicit order number), ``type`` (default: the market's),
        ``email`` and ``address`` (retail customer), ``account`` and ``buyer`` (wholesale;
        default: the first account in the market), ``shipping`` (amount), ``shipment_id`` and
        ``auto_shipment`` (retail), ``status``, ``capture_fails``, ``other``, ``ponumber``.
        Raises :class:`~pipeline.sandbox.orders.OrderError` listing every problem.
        """
        spec_lines = []
        for line in lines:
            if isinstance(line, Mapping):
                spec_lines.append(dict(line))
            else:
                product, variation, size, qty = line
                spec_lines.append(
                    {"product": product, "variation": variation, "size": size, "qty": qty}
                )
        unknown = set(options) - {
            "id", "type", "store", "email", "address", "account", "buyer", "shipping",
            "shipment_id", "auto_shipment", "status", "capture_fails", "other", "ponumber",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"unknown order option(s): {sorted(unknown)}")
        spec = {"market": market, "pricelist": pricelist, "lines": spec_lines, **options}
        return orders.place_order(self.store, self.settings, spec)

    def order(self, order_id: str) -> dict[str, Any] | None:
        """One order as stored (items, allocations, shipments, refunds)."""
        with self.store.lock:
            return self.store.get_order(str(order_id))

    def export(self, entity: str) -> str:
        """The entity's state as its ``*_Update`` request (every password shown as ``***``)."""
        return export_module.export(self.store, entity, self.settings.username)

    def enqueue_events(self, count: int, type_: str = "market") -> list[int]:
        """Queue ``count`` synthetic events of one type; their ids."""
        return enqueue_synthetic(self.store, count, type_)

    def events(self) -> list[dict[str, Any]]:
        """The event queue, oldest first (id, type, entry, mission, date, market, data)."""
        return self.store.events()

    def requests(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` SOAP requests, oldest first, passwords masked."""
        return self.store.requests(limit)
