"""A loopback reverse proxy that can make chosen requests fail (stdlib only).

It sits in front of a real server (the suite's FreshRSS) and forwards every
request (method, path, query, headers including Authorization, body) and
relays the answer, until a test asks for a fault:

    with FaultProxy("http://127.0.0.1:8711") as proxy:
        proxy.fail("stream/contents", "500")          # the next matching request answers 500
        proxy.fail("edit-tag", "timeout", times=2)    # the next two are held, then dropped unanswered
        client = GReaderClient(proxy.greader_url, token)
        assert ("POST", "/api/greader.php/reader/api/0/edit-tag") in proxy.requests

Fault modes (see MODES):
  "500"      status 500, a short text body
  "400"      status 400, a short text body (the server refusing the request as such)
  "timeout"  hold the request `timeout_seconds` (default 5), then close the connection without answering
  "badjson"  200, application/json, a truncated body `{"items": [`
  "html"     200, text/html, a FreshRSS-like login page (what a proxy or an expired session shows)

`down()` closes the listening socket (connections are refused) and `up()` listens again on the same port.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

MODES = ("500", "400", "timeout", "badjson", "html")

# Hop-by-hop headers (RFC 9110 7.6.1) are for one connection only; a proxy never forwards them.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)

# A request body bigger than this is refused: the proxy is for API calls, and a typo must not eat memory.
MAX_BODY = 64 * 1024 * 1024

LOGIN_PAGE = b"""<!DOCTYPE html>
<html lang="en" xml:lang="en">
<head>
<meta charset="UTF-8" />
<title>Login \xc2\xb7 FreshRSS</title>
</head>
<body class="login">
<main class="prompt">
<h1>Login</h1>
<form id="crypto-form" method="post" action="./?c=auth&amp;a=login">
<div><label for="username">Username</label><input type="text" id="username" name="username" /></div>
<div><label for="passwordPlain">Password</label><input type="password" id="passwordPlain" required="required" /></div>
<div><button type="submit" class="btn btn-important">Login</button></div>
</form>
</main>
</body>
</html>
"""


@dataclass
class _Fault:
    path_contains: str
    mode: str
    times: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # up() rebinds the same port at once, despite TIME_WAIT

    def __init__(self, proxy: FaultProxy, port: int) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (timeouts are the point here) is not an error worth a traceback.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server; every answer has a Content-Length
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.proxy._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                size += n
                if size > MAX_BODY:
                    return None
                parts.append(self.rfile.read(n))
                self.rfile.readline(1024)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        proxy = self.server.proxy
        try:
            body = self._read_body()
        except ValueError:
            self._answer(400, "text/plain", b"bad request body\n")
            return
        if body is None:
            self._answer(413, "text/plain", b"request body too large\n")
            return
        fault = proxy._record_and_match(self.command, self.path)
        if fault == "500":
            self._answer(500, "text/plain; charset=utf-8", b"Internal Server Error (fault proxy)\n")
        elif fault == "400":
            self._answer(400, "text/plain; charset=utf-8", b"Bad Request (fault proxy)\n")
        elif fault == "badjson":
            self._answer(200, "application/json; charset=UTF-8", b'{"items": [')
        elif fault == "html":
            self._answer(200, "text/html; charset=UTF-8", LOGIN_PAGE)
        elif fault == "timeout":
            # Hold the request (interruptibly, so close() never waits), then drop it unanswered.
            proxy._closing.wait(proxy.timeout_seconds)
            self.close_connection = True
        else:
            self._forward(body)

    def _answer(self, status: int, ctype: str, body: bytes, extra: list[tuple[str, str]] | None = None) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", ctype)
        for key, value in extra or []:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self, body: bytes) -> None:
        proxy = self.server.proxy
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host", "content-length"}}
        headers["Host"] = proxy.upstream_netloc
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout)
        try:
            conn.request(
                self.command,
                self.path,
                body=body if (body or self.command in ("POST", "PUT", "PATCH")) else None,
                headers=headers,
            )
            resp = conn.getresponse()
            data = resp.read()
            status, reason, resp_headers = resp.status, resp.reason, resp.getheaders()
        except OSError as exc:
            self._answer(502, "text/plain; charset=utf-8", f"fault proxy: upstream unreachable ({exc})\n".encode())
            return
        finally:
            conn.close()
        self.send_response_only(status, reason)
        for key, value in resp_headers:
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class FaultProxy:
    """A threaded loopback HTTP/1.1 reverse proxy in front of `upstream` (e.g. "http://127.0.0.1:8711").

    `requests` lists (method, request target with query) of every request received, faulted or not,
    in arrival order.
    """

    def __init__(
        self,
        upstream: str,
        *,
        timeout_seconds: float = 5.0,
        upstream_timeout: float = 60.0,
        greader_path: str = "/api/greader.php",
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"FaultProxy needs an http:// upstream, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_netloc = parts.netloc
        self.upstream_timeout = upstream_timeout
        self.timeout_seconds = timeout_seconds
        self.greader_path = greader_path
        self.requests: list[tuple[str, str]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._conns: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        self._closing.clear()
        self._listen(0)
        return self

    def close(self) -> None:
        self._closing.set()  # wakes held "timeout" requests
        self._stop_listening()

    def down(self) -> None:
        """Refuse connections: close the listening socket and drop open connections."""
        self._stop_listening()

    def up(self) -> None:
        """Listen again on the same port."""
        if self._httpd is None:
            self._listen(self._port)

    @property
    def is_up(self) -> bool:
        return self._httpd is not None

    def _listen(self, port: int) -> None:
        if self._httpd is not None:
            raise RuntimeError("FaultProxy already listening")
        self._httpd = _Server(self, port)
        self._port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FaultProxy:{self._port}",
            daemon=True,
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # keep-alive connections would otherwise go on being served
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- public helpers ----------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def greader_url(self) -> str:
        return self.base_url + self.greader_path

    def fail(self, path_contains: str, mode: str, times: int = 1) -> None:
        """Answer the next `times` requests whose target (path and query) contains `path_contains` with `mode`."""
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {MODES}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(path_contains, mode, times))

    def clear(self) -> None:
        """Forget pending faults and recorded requests."""
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def count(self, path_contains: str) -> int:
        with self._lock:
            return sum(1 for _, target in self.requests if path_contains in target)

    # --- used by the handler -----------------------------------------------

    def _record_and_match(self, method: str, target: str) -> str | None:
        with self._lock:
            self.requests.append((method, target))
            for fault in self._faults:
                if fault.path_contains in target:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault.mode
        return None

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)
