"""A tiny HTTP/1.1 server on 127.0.0.1 that answers each request by a script, for transport tests.

Each request pops the next action: ``("respond", status, body)``, ``("sleep", seconds, status,
body)``, ``("reset",)`` (RST after reading the request), ``("close",)`` (FIN, no answer),
``("truncate", status, body)`` (Content-Length says more than is sent). When the script is
empty, the last action repeats.

``("call", handler)`` answers by ``handler(headers, body)``, which returns ``(status, body)``:
a stateful fake (an event queue) over real HTTP.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ScriptedServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, script: list[tuple[Any, ...]]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.connections = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/ams/system/service/module/soap/api"

    def next_action(self) -> tuple[Any, ...]:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class _Handler(socketserver.StreamRequestHandler):
    server: ScriptedServer

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
        while True:
            try:
                request_line = self.rfile.readline()
            except OSError:
                return
            if not request_line:
                return
            headers: dict[str, str] = {}
            while True:
                line = self.rfile.readline().decode("latin-1").strip()
                if not line:
                    break
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            body = self.rfile.read(int(headers.get("content-length", "0")))
            with self.server.lock:
                self.server.requests.append((headers, body))
            action = self.server.next_action()
            kind = action[0]
            if kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return
            if kind == "close":
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if kind == "sleep":
                time.sleep(action[1])
                action = ("respond", *action[2:])
            if kind == "call":
                action = ("respond", *action[1](headers, body))
            status, payload = action[1], action[2]
            payload = payload.encode() if isinstance(payload, str) else payload
            length = len(payload) * 2 if kind == "truncate" else len(payload)
            head = (
                f"HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
            try:
                self.wfile.write(head + payload)
                self.wfile.flush()
            except OSError:
                return
            if kind == "truncate":
                self.connection.shutdown(socket.SHUT_RDWR)
                return


@contextmanager
def scripted_server(script: list[tuple[Any, ...]]) -> Iterator[ScriptedServer]:
    server = ScriptedServer(script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


OK_EVENTS = (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
    'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body><ns1:events_Get>'
    "<ns1:events/></ns1:events_Get></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def fault(code: str, string: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
        'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
        f"<SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode><faultstring>{string}"
        "</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
