"""HTTP for the Centra client: one kept-alive connection pool, timeouts, and a clean error door.

urllib3 is used here and nowhere else. Every urllib3 exception is translated into the pipeline's
tree (:mod:`pipeline.errors`) with the cause kept:

- the connection was refused, or the connect timed out: :class:`ConnectError` (never sent);
- the read timed out, the attempt passed its deadline, or the connection broke after the
  request went out: :class:`OutcomeUnknown` (Centra may have applied it);
- the body is longer than allowed, or shorter than its Content-Length: :class:`ResponseError`
  / :class:`OutcomeUnknown`.

A socket timeout bounds each wait for data, not a whole answer: a server sending one byte
every few seconds would hold a request (and the workspace lock) forever. So every attempt also
has a deadline, from connecting to the answer's last byte; a watchdog thread cuts the
connection of an attempt that passes it (see :class:`_Watchdog`).

A transport is anything with ``post(url, body, headers) -> HTTPResponse``; unit tests pass a
:class:`HandlerTransport` wrapping a plain function instead of patching anything.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from pipeline.errors import CentraError, ConfigError, ConnectError, OutcomeUnknown, ResponseError

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class HTTPResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HTTPResponse: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect, to wait for each piece of the answer, and for a whole attempt."""

    connect: float = 10.0
    read: float = 120.0
    deadline: float = 300.0


class HTTPTransport:
    """A kept-alive, thread-safe connection pool with connect and read timeouts and a deadline.

    Example::

        transport = HTTPTransport(Timeouts(connect=5, read=60, deadline=180), pool_size=4)
        response = transport.post(url, body, {"Content-Type": "text/xml; charset=utf-8"})
    """

    def __init__(
        self,
        timeouts: Timeouts = Timeouts(),
        *,
        pool_size: int = 4,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.deadline = timeouts.deadline
        self._options = {
            "maxsize": pool_size,
            "block": False,
            "retries": False,  # retries are the client's decision, never urllib3's
            "timeout": urllib3.Timeout(
                # The watchdog cannot cut a connection that has no socket yet.
                connect=min(timeouts.connect, timeouts.deadline),
                read=timeouts.read,
            ),
        }
        self._watchdog = _Watchdog()
        # One kept-alive pool per endpoint, found by the URL as given: no URL parsing and no
        # pool-key normalisation on every request (this is the hot path of small requests).
        self._pools: dict[str, tuple[urllib3.HTTPConnectionPool, str]] = {}
        self._lock = threading.Lock()

    def _pool_for(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        found = self._pools.get(url)
        if found is None:
            with self._lock:  # parallel chunks may ask at the same moment
                found = self._pools.get(url)
                if found is None:
                    try:
                        target = urllib3.util.parse_url(url).request_uri
                        pool = urllib3.connection_from_url(url, **self._options)
                    except LocationValueError as exc:  # the config refuses these first
                        raise ConfigError(
                            f"the Centra URL is not a valid URL ({exc})",
                            hint="fix centra.url in pipeline.yaml (or CENTRA_URL)",
                        ) from exc
                    pool.ConnectionCls = (
                        _WatchedHTTPSConnection
                        if issubclass(pool.ConnectionCls, HTTPSConnection)
                        else _WatchedHTTPConnection
                    )
                    found = (pool, target)
                    self._pools[url] = found
        return found

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HTTPResponse:
        pool, target = self._pool_for(url)
        watch = self._watchdog.watch(time.monotonic() + self.deadline)
        _attempt.watch = watch
        error: CentraError | None = None
        try:
            response = self._exchange(pool, target, url, body, headers, watch)
        except CentraError as exc:
            error = exc
        finally:
            _attempt.watch = None
            cut = self._watchdog.release(watch)
        if cut:
            # Even an answer that seems whole may have been cut short (one without a length).
            raise OutcomeUnknown(
                f"no complete answer from {_where(url)} within the {self.deadline:g} s deadline "
                "for one request (centra.timeouts.deadline); the request may have been applied"
            ) from error
        if error is not None:
            raise error
        return response

    def _exchange(
        self,
        pool: urllib3.HTTPConnectionPool,
        target: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        watch: _Watch,
    ) -> HTTPResponse:
        try:
            response = pool.urlopen(
                "POST",
                target,
                body=body,
                headers=dict(headers),
                redirect=False,
                preload_content=False,
                retries=False,
            )
        except (NewConnectionError, ConnectTimeoutError) as exc:
            raise ConnectError(f"cannot connect to {_where(url)}: {_reason(exc)}") from exc
        except ReadTimeoutError as exc:
            raise OutcomeUnknown(
                f"no answer from {_where(url)} within the read timeout; the request was sent "
                "and may have been applied"
            ) from exc
        except MaxRetryError as exc:  # pragma: no cover - retries=False makes this rare
            raise ConnectError(f"cannot reach {_where(url)}: {_reason(exc.reason)}") from exc
        except (ProtocolError, HTTPError, OSError) as exc:
            raise OutcomeUnknown(
                f"the connection to {_where(url)} broke ({_reason(exc)}); the request may have "
                "been applied"
            ) from exc
        try:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
                raise ResponseError(
                    f"the response is {int(declared):,} bytes, more than the "
                    f"{self.max_response_bytes:,} allowed (centra.max_response_mb)"
                )
            data = response.read(self.max_response_bytes + 1)
            if len(data) > self.max_response_bytes:
                raise ResponseError(
                    f"the response is larger than the {self.max_response_bytes:,} bytes allowed "
                    "(centra.max_response_mb)"
                )
            return HTTPResponse(response.status, data, dict(response.headers))
        except ReadTimeoutError as exc:
            raise OutcomeUnknown(
                f"{_where(url)} stopped sending its answer (read timeout); the request may have "
                "been applied"
            ) from exc
        except (ProtocolError, HTTPError, OSError) as exc:
            raise OutcomeUnknown(
                f"the answer from {_where(url)} was cut short ({_reason(exc)}); the request may "
                "have been applied"
            ) from exc
        finally:
            # Before the connection goes back to the pool, where another attempt may take it.
            self._watchdog.release(watch)
            response.release_conn()

    def close(self) -> None:
        for pool, _ in self._pools.values():
            pool.close()
        self._pools.clear()
        self._watchdog.stop()


class _Watch:
    """One attempt under watch: its deadline, and its connection once it has one."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: HTTPConnection | None = None
        self.cut = False


class _Watchdog:
    """One thread per transport that cuts the connection of every attempt past its deadline.

    Shutting a socket down ends a send or receive blocked on it at once, whatever thread it is
    in, so no phase of an attempt (sending, waiting, headers or body arriving a byte at a time)
    outlives the deadline. The thread starts with the first attempt and sleeps until the
    earliest deadline; an attempt costs two lock round-trips, no thread of its own.
    """

    # An attempt past its deadline that is still connecting has no socket to cut yet (the
    # connect timeout, capped at the deadline, bounds that wait): look again this soon.
    RECHECK = 0.05

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._generation = 0
        self._running = False
        self._wakes_at = math.inf  # when the thread looks next

    def watch(self, deadline: float) -> _Watch:
        watch = _Watch(deadline)
        with self._cond:
            self._watches.add(watch)
            if not self._running:
                self._running = True
                self._wakes_at = -math.inf  # until the new thread has looked
                threading.Thread(
                    target=self._run,
                    args=(self._generation,),
                    name="centra-deadline-watchdog",
                    daemon=True,
                ).start()
            elif deadline < self._wakes_at:
                # Only then: waking the thread for every request would cost each one a
                # thread switch. Later deadlines are found when it wakes for an earlier one.
                self._cond.notify()
        return watch

    def release(self, watch: _Watch) -> bool:
        """Stop watching (again is fine); True if the attempt's connection was cut."""
        with self._cond:
            self._watches.discard(watch)
            return watch.cut

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._running = False
            self._cond.notify()

    def _run(self, generation: int) -> None:
        with self._cond:
            while generation == self._generation:
                now = time.monotonic()
                wait: float | None = None
                for watch in list(self._watches):
                    left = watch.deadline - now
                    if left <= 0:
                        watch.cut = True
                        if _shut(watch.connection):
                            self._watches.discard(watch)
                            continue
                        left = self.RECHECK
                    wait = left if wait is None else min(wait, left)
                self._wakes_at = math.inf if wait is None else now + wait
                self._cond.wait(wait)


def _shut(connection: HTTPConnection | None) -> bool:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return False
    # socket.socket's own shutdown, also for a TLS socket: it only shuts the descriptor down,
    # leaving the TLS object to the thread that is using it. An error: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    return True


# The attempt this thread is making, so that its connection can be handed to the watchdog.
_attempt = threading.local()


def _hand_to_watchdog(connection: HTTPConnection) -> None:
    watch: _Watch | None = getattr(_attempt, "watch", None)
    if watch is not None:
        watch.connection = connection


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _hand_to_watchdog(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _hand_to_watchdog(self)
        super().request(*args, **kwargs)


class HandlerTransport:
    """A transport that calls a function: for unit tests, no sockets involved.

    Example::

        def handler(url, body, headers):
            return HTTPResponse(200, b"<Envelope>...</Envelope>")

        client = CentraClient(url, "user", "secret", transport=HandlerTransport(handler))
    """

    def __init__(self, handler: Callable[[str, bytes, Mapping[str, str]], HTTPResponse]):
        self.handler = handler

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HTTPResponse:
        return self.handler(url, body, headers)

    def close(self) -> None:
        pass


def _where(url: str) -> str:
    parsed = urllib3.util.parse_url(url)
    # Never echo userinfo from a URL, even though the config refuses it.
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path or ''}"


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown reason"
    # urllib3 wraps the socket error; the innermost OSError says it best ("Connection refused").
    inner: BaseException | None = exc
    while inner is not None:
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
        inner = inner.__cause__ or inner.__context__
    text = str(exc)
    if "): " in text:
        text = text.rsplit("): ", 1)[1]
    return text or type(exc).__name__
