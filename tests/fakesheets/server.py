"""The fake Sheets API as a threaded HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import unquote

import gspread
import requests
from gspread.http_client import HTTPClient, HTTPClientType

from . import values
from .api import Answer, SheetsApi, Store
from .client import routed_client, routed_session
from .errors import ApiError, invalid
from .faults import Fault, Faults, error_body
from .model import Spreadsheet

# Google's front end refuses bodies above 10 MiB with this 400 (not a 413).
PAYLOAD_LIMIT = 10 * 1024 * 1024
_DRAIN_CHUNK = 64 * 1024
_JOIN_SECONDS = 5.0


class Call(NamedTuple):
    """One HTTP request the fake received (faulted ones included)."""

    method: str
    path: str  # decoded, without the query string
    bytes_in: int


class FakeSheets:
    """A running fake: state, HTTP server, call log and failure script.

    Use as a context manager or call ``start()``/``stop()``. Only binds
    127.0.0.1, on a port the OS picks.
    """

    def __init__(self, seed: int = 0) -> None:
        self.store = Store(seed)
        self.api = SheetsApi(self.store)
        self.faults = Faults()
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._stopping = threading.Event()
        self._handled = 0
        self._handled_cond = threading.Condition()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------

    def start(self) -> FakeSheets:
        """Bind an ephemeral loopback port and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("fake already started")
        self._httpd = _HttpServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakesheets-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake stalled handlers, close sockets, join threads."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)
        httpd.join_handlers(_JOIN_SECONDS)

    def __enter__(self) -> FakeSheets:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The loopback port the OS gave the server."""
        if self._httpd is None:
            raise RuntimeError("fake not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    # test-facing API -----------------------------------------------------------

    def create(
        self,
        title: str = "Untitled spreadsheet",
        sheets: list[str | dict[str, Any]] | None = None,
    ) -> str:
        """Create a spreadsheet directly (no HTTP); return its key.

        ``sheets`` lists tab titles or dicts ``{"title", "rows", "cols",
        "sheet_id"}``; by default one 1000x26 ``Sheet1`` with sheetId 0.
        """
        return self.store.create(title, sheets)

    def seed_values(
        self,
        key: str,
        range_a1: str,
        rows: list[list[Any]],
        *,
        user_entered: bool = False,
    ) -> None:
        """Write values directly (no HTTP, not logged in ``calls``).

        Same rules as values.update: RAW by default, ``None`` skips a cell,
        ``""`` clears it; raises ``ApiError`` for a bad range.
        """
        option = "USER_ENTERED" if user_entered else "RAW"
        with self.store.lock:
            book = self.store.book(key)
            write = values.plan_write(book, range_a1, rows, None, option, "values")
            values.apply_write(write)

    def spreadsheet(self, key: str) -> Spreadsheet:
        """Return a snapshot of a spreadsheet's stored state to inspect."""
        return self.store.snapshot(key)

    def session(self) -> requests.Session:
        """Return a requests session routed to the fake."""
        return routed_session(self.base_url)

    def client(
        self, http_client: HTTPClientType = HTTPClient, timeout: float | None = None
    ) -> gspread.Client:
        """Return a gspread client routed to the fake over HTTP."""
        client = routed_client(self.base_url, http_client)
        if timeout is not None:
            client.set_timeout(timeout)
        return client

    def count_calls(self, method: str | None = None, path: str | None = None) -> int:
        """Count calls, optionally by method and a regex searched in the path."""
        pattern = re.compile(path) if path is not None else None
        with self._calls_lock:
            return sum(
                1
                for call in self.calls
                if (method is None or call.method == method.upper())
                and (pattern is None or pattern.search(call.path))
            )

    def reset_calls(self) -> None:
        """Forget the calls recorded so far."""
        with self._calls_lock:
            self.calls.clear()

    @contextlib.contextmanager
    def counting(self) -> Iterator[list[Call]]:
        """Collect the calls made inside a ``with`` block into a list."""
        with self._calls_lock:
            mark = len(self.calls)
        made: list[Call] = []
        try:
            yield made
        finally:
            with self._calls_lock:
                made.extend(self.calls[mark:])

    def wait_handled(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the API has handled ``count`` requests in all.

        A stalled request (``timeout_next(..., apply=True)``) is applied while
        the client is still waiting; this lets a test wait for that without
        sleeping. Returns False if the count was not reached in ``timeout``.
        """
        with self._handled_cond:
            return self._handled_cond.wait_for(lambda: self._handled >= count, timeout)

    @property
    def handled(self) -> int:
        """How many requests the API has handled (faulted-before-apply excluded)."""
        with self._handled_cond:
            return self._handled

    # used by the handler -------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, raw_query: str, body: bytes
    ) -> Answer:
        answer = self.api.handle(method, raw_path, raw_query, body)
        with self._handled_cond:
            self._handled += 1
            self._handled_cond.notify_all()
        return answer

    def _record(self, call: Call) -> None:
        with self._calls_lock:
            self.calls.append(call)

    def _wait(self, seconds: float) -> None:
        """Sleep, but wake at once when the fake stops."""
        self._stopping.wait(seconds)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, fake: FakeSheets) -> None:
        self.fake = fake
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handlers: list[threading.Thread] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fakesheets-connection",
            daemon=True,
        )
        with self._lock:
            self._handlers = [t for t in self._handlers if t.is_alive()]
            self._handlers.append(thread)
        thread.start()

    def track(self, conn: socket.socket) -> None:
        """Remember an open connection so stop() can shut it."""
        with self._lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        """Forget a closed connection."""
        with self._lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut idle keep-alive sockets so their handler threads end."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def join_handlers(self, seconds: float) -> None:
        """Wait (bounded) for connection threads to end."""
        with self._lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection gives up after this
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle
        # and the client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest output is for the tests."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        raw_path, _, raw_query = self.path.partition("?")
        path = unquote(raw_path)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            fake._record(Call(self.command, path, 0))
            self._send(411, ApiError(411, "INVALID_ARGUMENT", "Length Required").body())
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        fake._record(Call(self.command, path, max(length, 0)))
        if length < 0:
            self._send(400, invalid("Bad Content-Length.").body())
            self.close_connection = True
            return
        if length > PAYLOAD_LIMIT:
            self._drain(length)
            message = f"Request payload size exceeds the limit: {PAYLOAD_LIMIT} bytes."
            self._send(400, invalid(message).body())
            return
        body = self.rfile.read(length) if length else b""
        fault = fake.faults.take(self.command, path)
        if fault is None:
            self._answer(fake._handle(self.command, raw_path, raw_query, body))
            return
        self._misbehave(fault, raw_path, raw_query, body)

    def _misbehave(
        self, fault: Fault, raw_path: str, raw_query: str, body: bytes
    ) -> None:
        fake = self.server.fake
        if fault.kind == "drop":
            self._drop()
        elif fault.kind == "status":
            self._send(fault.status, error_body(fault.status, self.command))
        elif fault.kind == "stall":
            answer = None
            if fault.apply:
                answer = fake._handle(self.command, raw_path, raw_query, body)
            fake._wait(fault.seconds)
            if answer is None:
                self._drop()
            else:
                self._answer(answer)
        else:  # after_apply
            answer = fake._handle(self.command, raw_path, raw_query, body)
            if answer.status < 300:
                self._send(fault.status, error_body(fault.status, self.command))
            else:
                self._answer(answer)

    def _drain(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(_DRAIN_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, answer: Answer) -> None:
        self._send(answer.status, answer.body)

    def _send(self, status: int, body: dict[str, Any] | None) -> None:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:  # the client gave up (a stalled answer after its timeout)
            self.close_connection = True
