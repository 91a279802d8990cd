"""HTTP for the Centra client: one kept-alive connection pool, timeouts, and a clean error door.

urllib3 is used here and nowhere else. Every urllib3 exception is translated into the pipeline's
tree (:mod:`pipeline.errors`) with the cause kept:

- the connection was refused, or the connect timed out: :class:`ConnectError` (never sent);
- the read timed out, or the connection broke after the request went out:
  :class:`OutcomeUnknown` (Centra may have applied it);
- the body is longer than allowed, or shorter than its Content-Length: :class:`ResponseError`
  / :class:`OutcomeUnknown`.

A transport is anything with ``post(url, body, headers) -> HTTPResponse``; unit tests pass a
:class:`HandlerTransport` wrapping a plain function instead of patching anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from pipeline.errors import ConnectError, OutcomeUnknown, ResponseError

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
    connect: float = 10.0
    read: float = 120.0


class HTTPTransport:
    """A kept-alive, thread-safe connection pool with connect and read timeouts.

    Example::

        transport = HTTPTransport(Timeouts(connect=5, read=60), pool_size=4)
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
        self._options = {
            "maxsize": pool_size,
            "block": False,
            "retries": False,  # retries are the client's decision, never urllib3's
            "timeout": urllib3.Timeout(connect=timeouts.connect, read=timeouts.read),
        }
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
                    target = urllib3.util.parse_url(url).request_uri
                    found = (urllib3.connection_from_url(url, **self._options), target)
                    self._pools[url] = found
        return found

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HTTPResponse:
        pool, target = self._pool_for(url)
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
            response.release_conn()

    def close(self) -> None:
        for pool, _ in self._pools.values():
            pool.close()
        self._pools.clear()


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
