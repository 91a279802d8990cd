"""The Centra SOAP client: every operation, built from Python data, with safe retries.

Example::

    client = CentraClient(
        "http://127.0.0.1:8765/ams/system/service/module/soap/api", "example", "secret"
    )
    client.update("markets_Update", [{"id": "Retail-Global", "store": "1", "type": "retail"}])
    events = client.events_get("order")
    client.events_done([e.id for e in events])

Retries: refused or reset connections, read timeouts, HTTP 500/502/503/504 without a SOAP
Client fault, and SOAP ``Server`` faults are retried with exponential backoff and full jitter.
A read timeout after the body was sent leaves the outcome unknown: retrying is safe only because
every *_Update is an upsert (applying the same body twice gives the same state) and the event
operations are idempotent (events_Get reads; events_Done of an id already done is a no-op).
A refused login is never retried: retries could lock the account.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.centra.operations import OPERATIONS, Operation
from pipeline.centra.responses import (
    Event,
    EventsResult,
    Result,
    UpdateResult,
    parse_response,
)
from pipeline.centra.transport import HTTPResponse, HTTPTransport, Timeouts, Transport
from pipeline.centra.xmlbuild import envelope
from pipeline.errors import (
    CentraError,
    CentraUnreachable,
    ConfigError,
    HTTPStatusError,
    LoginRefused,
    ResponseError,
    SoapFault,
)
from pipeline.secrets import REDACTOR, Secret, mask_password_elements

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a call that failed in a retriable way."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff before attempt number ``attempt + 1``."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True)
class Exchange:
    """One request/response pair as the history hook keeps it (password masked)."""

    operation: str
    request: str
    status: int | None
    response: str
    error: str | None = None


class History:
    """Keeps the last ``size`` exchanges, password masked (cf. zeep's HistoryPlugin)."""

    def __init__(self, size: int = 10) -> None:
        self.exchanges: deque[Exchange] = deque(maxlen=size)

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


class CentraClient:
    """Talks to one Centra SOAP endpoint with one username and password."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str | Secret,
        *,
        transport: Transport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy = RetryPolicy(),
        history: History | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"the Centra URL must start with http:// or https://, got {url!r}")
        self.url = url
        self.username = username
        self._password = password if isinstance(password, Secret) else Secret(password)
        REDACTOR.add(self._password)
        self.transport: Transport = transport or HTTPTransport(timeouts or Timeouts())
        self.retry = retry
        self.history = history
        self._sleep = sleep
        self._rng = rng or random.Random()
        #: Attempts made by the last call (1 when it succeeded at once).
        self.last_attempts = 0

    def __repr__(self) -> str:
        return f"CentraClient(url={self.url!r}, username={self.username!r}, password=***)"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> CentraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the operations -------------------------------------------------------------------

    def update(self, operation: str, items: Sequence[Mapping[str, Any]]) -> UpdateResult:
        """Send a *_Update with ``items`` inside its collection (e.g. ``<markets><market>``)."""
        op = _operation(operation)
        if op.collection is None or op.item is None:
            raise ValueError(f"{operation} is not an update operation")
        result = self.call(operation, {op.collection: {op.item: list(items)}})
        assert isinstance(result, UpdateResult)
        return result

    def events_get(self, type: str = "all") -> list[Event]:
        """The oldest (at most 100) events not yet done, of ``type`` (``all`` for every type)."""
        result = self.call("events_Get", {"type": type})
        assert isinstance(result, EventsResult)
        return list(result.events)

    def events_get_by_markets(self, markets: Iterable[str], type: str = "all") -> list[Event]:
        """Like :meth:`events_get`, only for the given market ids."""
        payload = {"type": type, "markets": {"market": [{"id": m} for m in markets]}}
        result = self.call("events_GetByMarkets", payload)
        assert isinstance(result, EventsResult)
        return list(result.events)

    def events_done(self, ids: Iterable[str]) -> UpdateResult:
        """Remove events from the queue: call this only once they are stored for good."""
        result = self.call("events_Done", {"event": [str(i) for i in ids]})
        assert isinstance(result, UpdateResult)
        return result

    # -- the machinery --------------------------------------------------------------------

    def build(self, operation: str, payload: Mapping[str, Any]) -> str:
        """The request document for ``operation`` (with the real password: do not log it)."""
        op = _operation(operation)
        login = {"username": self.username, "password": self._password.reveal()}
        return envelope(op.root, login, payload)

    def call(self, operation: str, payload: Mapping[str, Any]) -> Result:
        """Send one operation and return its parsed result, retrying where that is safe."""
        op = _operation(operation)
        body = self.build(operation, payload).encode("utf-8")
        return self.send(op, body)

    def send(self, op: Operation, body: bytes) -> Result:
        """Send a prepared request body for ``op`` with retries (see the module docstring)."""
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": op.soap_action,
            "Connection": "keep-alive",
        }
        attempt = 0
        while True:
            attempt += 1
            self.last_attempts = attempt
            try:
                return self._attempt(op, body, headers)
            except CentraError as exc:
                if not exc.retriable:
                    raise
                if attempt >= self.retry.attempts:
                    raise CentraUnreachable(
                        f"gave up after {attempt} attempts: {exc.message}",
                        hint="check that Centra is up and the URL in pipeline.yaml "
                        "(or CENTRA_URL) is right; nothing is lost, the next run retries",
                    ) from exc
                delay = self.retry.delay(attempt, self._rng)
                log.warning(
                    "%s: attempt %d of %d failed (%s); retrying in %.1f s%s",
                    op.name,
                    attempt,
                    self.retry.attempts,
                    exc.message,
                    delay,
                    " (safe: every update is an upsert)" if not op.read_only else "",
                )
                self._sleep(delay)

    def _attempt(self, op: Operation, body: bytes, headers: Mapping[str, str]) -> Result:
        log.debug("%s: sending %d bytes to %s", op.name, len(body), self.url)
        response: HTTPResponse | None = None
        try:
            response = self.transport.post(self.url, body, headers)
            result = self._interpret(op, response)
        except CentraError as exc:
            self._record(op, body, response, exc)
            raise
        self._record(op, body, response, None)
        return result

    def _interpret(self, op: Operation, response: HTTPResponse) -> Result:
        status = response.status
        if status in (401, 403):
            raise LoginRefused(
                f"Centra answered HTTP {status}", operation=op.name, hint="check the credentials"
            )
        looks_xml = response.body.lstrip()[:1] == b"<"
        if status != 200 and not looks_xml:
            raise HTTPStatusError(
                status, f"HTTP {status} from Centra{_snippet(response.body)}", operation=op.name
            )
        try:
            return parse_response(response.body, operation=op.name, redact=REDACTOR)
        except SoapFault:
            raise
        except ResponseError as exc:
            if status != 200:
                # An HTTP error carrying something that is not SOAP (an HTML error page):
                # report the status, which is what a person can act on.
                raise HTTPStatusError(
                    status, f"HTTP {status} from Centra: {exc.message}", operation=op.name
                ) from exc
            raise

    def _record(
        self, op: Operation, body: bytes, response: HTTPResponse | None, exc: Exception | None
    ) -> None:
        if self.history is None:
            return
        self.history.record(
            Exchange(
                operation=op.name,
                request=REDACTOR(mask_password_elements(body.decode("utf-8", "replace"))),
                status=response.status if response else None,
                response=REDACTOR(response.body.decode("utf-8", "replace")) if response else "",
                error=str(exc) if exc else None,
            )
        )


def _operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown Centra operation {name!r}") from None


def _snippet(body: bytes) -> str:
    text = REDACTOR(body[:200].decode("utf-8", "replace")).strip()
    return f": {text}" if text else ""


def client_from_settings(settings: Any, *, history: History | None = None) -> CentraClient:
    """A client configured from :class:`pipeline.config.Settings`."""
    centra = settings.centra
    transport = HTTPTransport(
        Timeouts(centra.timeouts.connect, centra.timeouts.read, centra.timeouts.request_deadline),
        max_response_bytes=centra.max_response_mb * 1024 * 1024,
    )
    return CentraClient(
        settings.url,
        settings.credentials.username,
        settings.credentials.password,
        transport=transport,
        retry=RetryPolicy(centra.retry.attempts, centra.retry.backoff, centra.retry.max_backoff),
        history=history,
    )
