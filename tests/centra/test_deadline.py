"""Every attempt has a deadline: a server trickling its answer a byte at a time cannot hold one.

A real trickle server on 127.0.0.1 answers each request with its headers (or only its status
line) and then one byte every 0.2 s: each byte restarts a socket read timeout, so only a deadline
over the whole attempt ends it. The server stops by itself after ``LIFETIME`` seconds, so a
client without a deadline fails these tests by their time bounds instead of hanging the suite.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.centra.client import CentraClient, RetryPolicy
from pipeline.centra.transport import HTTPTransport, Timeouts
from pipeline.config import load_settings
from pipeline.errors import CentraUnreachable, ConfigError, OutcomeUnknown
from tests.conftest import make_workspace

LIFETIME = 20.0  # seconds the trickle server serves before it stops by itself
BYTE_EVERY = 0.2
HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 100000\r\n\r\n"
)


class TrickleServer:
    """Sends HEADERS at once (``body``) or byte by byte (``headers``), then a byte every 0.2 s."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/ams/system/service/module/soap/api"
        self.requests = 0
        self._stop = threading.Event()
        self._until = time.monotonic() + LIFETIME
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._until

    def _accept(self) -> None:
        while self._running():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()
        self._listener.close()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            try:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    received += chunk
                self.requests += 1
                if self.mode == "body":
                    conn.sendall(HEADERS)
                    pieces = [b"<"] * 100000
                else:
                    pieces = [HEADERS[i : i + 1] for i in range(len(HEADERS))]
                for piece in pieces:
                    if not self._running():
                        return
                    conn.sendall(piece)
                    self._stop.wait(BYTE_EVERY)
            except OSError:
                return  # the client hung up: what the deadline is for

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


@contextmanager
def trickle_server(mode: str = "body") -> Iterator[TrickleServer]:
    server = TrickleServer(mode)
    try:
        yield server
    finally:
        server.stop()


def _fails_within(call: Callable[[], object], bound: float) -> tuple[BaseException, float]:
    """Run ``call`` in a thread: the error it ended with and its time; fail past ``bound``."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"still running after {bound} s"
    assert outcome, "it succeeded against a server that never finishes its answer"
    return outcome[0], elapsed


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_a_trickled_answer_fails_at_the_deadline(mode: str) -> None:
    transport = HTTPTransport(Timeouts(connect=1.0, read=0.5, deadline=1.0))
    with trickle_server(mode) as server:
        url = server.url.replace("http://", "http://someone:Pa55word@")
        error, elapsed = _fails_within(
            lambda: transport.post(url, b"<Envelope/>", {"Content-Type": "text/xml"}), bound=5.0
        )
    transport.close()
    assert isinstance(error, OutcomeUnknown), repr(error)
    assert error.retriable
    message = str(error)
    assert f"no complete answer from {server.url} within the 1 s deadline" in message
    assert "centra.timeouts.deadline" in message
    assert "Pa55word" not in message and "someone" not in message
    assert 0.9 <= elapsed < 3.0, f"cut after {elapsed:.2f} s, not at the 1 s deadline"


def test_the_deadline_is_a_timeout_for_the_retries() -> None:
    with trickle_server() as server:
        client = CentraClient(
            server.url,
            "example",
            "s3cret-Pa55word",
            transport=HTTPTransport(Timeouts(connect=1.0, read=0.5, deadline=0.8)),
            retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.05),
        )
        error, _ = _fails_within(client.events_get, bound=6.0)
        client.close()
    assert isinstance(error, CentraUnreachable), repr(error)
    assert server.requests == 2
    assert client.last_attempts == 2
    assert "gave up after 2 attempts" in str(error)
    assert "0.8 s deadline" in str(error)
    assert error.exit_code == 3


def test_the_deadline_leaves_the_read_timeout_room(tmp_path: Path) -> None:
    env = {"CENTRA_USERNAME": "example", "CENTRA_PASSWORD": "pw"}
    url = "http://127.0.0.1:1/api"
    (tmp_path / "pipeline.yaml").write_text(f"centra:\n  url: {url}\n", encoding="utf-8")
    assert load_settings(tmp_path, env=env).centra.timeouts.request_deadline == 300
    assert Timeouts().deadline == 300
    (tmp_path / "pipeline.yaml").write_text(
        f"centra:\n  url: {url}\n  timeouts: {{read: 600}}\n", encoding="utf-8"
    )
    assert load_settings(tmp_path, env=env).centra.timeouts.request_deadline == 1500
    (tmp_path / "pipeline.yaml").write_text(
        f"centra:\n  url: {url}\n  timeouts: {{read: 2, deadline: 5}}\n", encoding="utf-8"
    )
    assert load_settings(tmp_path, env=env).centra.timeouts.request_deadline == 5
    (tmp_path / "pipeline.yaml").write_text(
        f"centra:\n  url: {url}\n  timeouts: {{deadline: 60}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env=env)
    assert [path for path, _ in caught.value.problems] == ["centra.timeouts"]
    assert "deadline (60 s) must not be shorter than read (120 s)" in str(caught.value)


def test_ping_against_a_trickling_server_exits_3_in_bounded_time(tmp_path: Path) -> None:
    with trickle_server() as server:
        ws = make_workspace(tmp_path / "ws", server.url)
        (ws.root / "pipeline.yaml").write_text(
            "centra:\n"
            f"  url: {server.url}\n"
            "  timeouts: {connect: 1, read: 0.5, deadline: 1}\n"
            "  retry: {attempts: 2, backoff: 0.05, max_backoff: 0.1}\n",
            encoding="utf-8",
        )
        started = time.monotonic()
        try:
            done = ws.cli("ping", timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("ping was still running after 15 s against a trickling server")
        elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert "FAILED: gave up after 2 attempts" in done.stderr
    assert f"no complete answer from {server.url} within the 1 s deadline" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 10, f"ping took {elapsed:.1f} s for two attempts of 1 s"
