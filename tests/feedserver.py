"""Loopback HTTP/1.1 server for the test suite (stdlib only).

Serves the files under one directory on 127.0.0.1 (port chosen by the OS),
with HTTP caching validators and fault modes chosen by URL path prefixes,
so fetcher tests can exercise hostile or broken servers without a network.

    with FeedServer(Path("tests/data")) as server:
        httpx.get(server.url("/slow/200/gzip/atom.xml"))
        assert server.count("atom.xml") == 1

Plain files get 200 with Content-Type (by extension), Content-Length, ETag
(quoted sha1 of the bytes) and Last-Modified (file mtime).  If-None-Match
matching the ETag gives 304; without If-None-Match, an If-Modified-Since not
older than the mtime gives 304.

Fault modes are path prefixes applied left to right, e.g. /slow/250/gzip/x.xml:

  /slow/<ms>/...            wait <ms> (capped) before answering
  /status/<code>/...        answer <code> with a plain body; 429/503 carry
                            Retry-After: 120, 3xx carry Location: /<rest>
  /gzip/...                 Content-Encoding: gzip
  /redirect[/<code>]/...    redirect (default 301) to the path without this prefix
  /redirect-loop/...        302 to exactly the requested URL, forever
  /redirect-to/<scheme>/... 302 to a non-HTTP URL: file, javascript, ftp or data
  /nocache/...              no ETag/Last-Modified, never 304
  /truncate/<bytes>/...     full Content-Length, only <bytes> sent, then close
  /reset/<bytes>/...        <bytes> sent, then a TCP reset (SO_LINGER 0)
  /ctype/<type>/<sub>/...   override Content-Type
  /charset/<name>/...       append "; charset=<name>" to Content-Type
  /big/<megabytes>/...      ignore the rest; stream that many MiB, chunked, no
                            Content-Length
  /bomb/...                 ignore the rest; ~100 KB gzip expanding to ~100 MiB
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import hashlib
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

RouteHandler = Callable[[BaseHTTPRequestHandler], None]

CONTENT_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CODES = frozenset({429, 503})
RETRY_AFTER_SECONDS = "120"

# Caps keep a typo in a test URL from hanging or flooding the suite.
SLOW_CAP_MS = 60_000
BIG_CAP_MB = 1024

MIB = 1024 * 1024
STREAM_CHUNK = 64 * 1024

# A tiny but valid feed, so a client that wrongly follows a data: redirect
# "succeeds" visibly instead of failing for some unrelated reason.
_DATA_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>data: feed</title>'
    b"<item><title>from a data: URL</title></item></channel></rss>"
)


def _redirect_to_target(scheme: str, rest: str) -> str | None:
    """The Location for /redirect-to/<scheme>/<rest>, or None if unknown."""
    if scheme == "file":
        return "file:///etc/passwd"
    if scheme == "javascript":
        return "javascript:alert(1)"
    if scheme == "ftp":
        return "ftp://127.0.0.1/" + (rest or "feed.xml")
    if scheme == "data":
        return "data:application/rss+xml;base64," + base64.b64encode(_DATA_FEED).decode()
    return None


# --- gzip bomb -------------------------------------------------------------

BOMB_MB = 100
_BOMB_HEAD = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>bomb</title>\n'
_BOMB_TAIL = b"\n</channel></rss>\n"
_bomb_lock = threading.Lock()
_bomb_body: bytes | None = None


def gzip_bomb() -> bytes:
    """~100 KB of gzip that inflates to ~100 MiB of well-formed RSS.

    Built once, lazily, by feeding 1 MiB of spaces at a time to one
    compressor, so the expanded document never exists in memory here.
    """
    global _bomb_body
    with _bomb_lock:
        if _bomb_body is None:
            # wbits 31 = gzip container (header mtime 0, so the bytes are stable)
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)
            spaces = b" " * MIB
            parts = [comp.compress(_BOMB_HEAD)]
            parts.extend(comp.compress(spaces) for _ in range(BOMB_MB))
            parts.append(comp.compress(_BOMB_TAIL))
            parts.append(comp.flush())
            _bomb_body = b"".join(parts)
        return _bomb_body


# --- request bookkeeping ---------------------------------------------------


class RequestHeaders(dict[str, str]):
    """Request headers as a dict, keys stored lower-case, lookups case-insensitive.

    Clients differ in the case they send header names in; tests should not care.
    """

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(slots=True)
class _Options:
    """What the fault-mode prefixes asked for, applied when the file is sent."""

    gzip: bool = False
    nocache: bool = False
    truncate: int | None = None
    reset: int | None = None
    ctype: str | None = None
    charset: str | None = None


class _BadArgument(ValueError):
    """A fault-mode prefix had an argument we can't use; answered with 400."""


def _int_arg(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _BadArgument(text) from None
    if not low <= value <= high:
        raise _BadArgument(text)
    return value


def _quote_path(parts: list[str]) -> str:
    # Re-quote because the parts were unquoted for parsing; a Location header
    # must stay ASCII and keep "%2F"-style segments intact.
    return "/" + "/".join(urllib.parse.quote(p, safe="!$&'()*+,;=:@~") for p in parts)


# --- server ----------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # Daemon threads and no join on close: a slow or stuck request must never
    # keep stop() or the test process waiting.
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, feed: FeedServer) -> None:
        self.feed = feed
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # A thread per connection. Starting one can fail for a moment when the test process is
        # short of threads or memory (a CI machine running two workers); the base class then
        # closes the connection unanswered, and the client under test reports a server that
        # "disconnected without sending a response". Try again briefly instead.
        for attempt in range(50):
            try:
                super().process_request(request, client_address)
                return
            except RuntimeError:
                if attempt == 49:
                    raise
                time.sleep(0.02)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Quiet: clients hanging up mid-response is normal here.  Anything else
        # is kept on FeedServer.errors so a test can still see server bugs.
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (ConnectionError, TimeoutError)):
            with self.feed._lock:
                self.feed.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reader-test-feedserver/1"
    # Idle keep-alive connections give their thread back soon: a whole test run's clients
    # must not pile up threads waiting on connections nobody will use again.
    timeout = 10

    @property
    def feed(self) -> FeedServer:
        return cast(_Server, self.server).feed

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle
        # plus the client's delayed ACK adds ~40 ms to every keep-alive reply.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.feed._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.feed._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read FeedServer.requests instead of a log on stderr

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    # --- dispatch ----------------------------------------------------------

    def _handle(self, head: bool) -> None:
        feed = self.feed
        feed._record(self.path, self.headers.items())
        target = urllib.parse.urlsplit(self.path)

        custom = feed._route_for(target.path)
        if custom is not None:
            custom(self)
            return

        parts = [p for p in urllib.parse.unquote(target.path).split("/") if p]
        opts = _Options()
        i = 0
        try:
            while i < len(parts):
                word = parts[i]
                arg = parts[i + 1] if i + 1 < len(parts) else None
                if word == "slow" and arg is not None:
                    ms = _int_arg(arg, 0, SLOW_CAP_MS)
                    # Event.wait instead of sleep: stop() wakes us at once.
                    if feed._stopping.wait(ms / 1000):
                        self.close_connection = True
                        return
                    i += 2
                elif word == "status" and arg is not None:
                    code = _int_arg(arg, 100, 599)
                    extra: dict[str, str] = {}
                    if code in RETRY_AFTER_CODES:
                        extra["Retry-After"] = RETRY_AFTER_SECONDS
                    if 300 <= code < 400:
                        extra["Location"] = _quote_path(parts[i + 2 :])
                    self._send_simple(code, f"status {code} requested", head, extra)
                    return
                elif word == "gzip":
                    opts.gzip = True
                    i += 1
                elif word == "redirect":
                    code, j = 301, i + 1
                    if arg is not None and arg.isdigit():
                        code, j = int(arg), i + 2
                    if code not in REDIRECT_CODES:
                        raise _BadArgument(str(code))
                    # Keep the prefixes before this one, drop only this one.
                    location = _quote_path(parts[:i] + parts[j:])
                    if target.query:
                        location += "?" + target.query
                    self._send_simple(code, "moved", head, {"Location": location})
                    return
                elif word == "redirect-loop":
                    self._send_simple(302, "round and round", head, {"Location": self.path})
                    return
                elif word == "redirect-to" and arg is not None:
                    location = _redirect_to_target(arg, "/".join(parts[i + 2 :]))
                    if location is None:
                        raise _BadArgument(arg)
                    self._send_simple(302, "elsewhere", head, {"Location": location})
                    return
                elif word == "nocache":
                    opts.nocache = True
                    i += 1
                elif word == "truncate" and arg is not None:
                    opts.truncate = _int_arg(arg, 0, sys.maxsize)
                    i += 2
                elif word == "reset" and arg is not None:
                    opts.reset = _int_arg(arg, 0, sys.maxsize)
                    i += 2
                elif word == "ctype" and i + 2 < len(parts):
                    opts.ctype = f"{parts[i + 1]}/{parts[i + 2]}"
                    i += 3
                elif word == "charset" and arg is not None:
                    opts.charset = arg
                    i += 2
                elif word == "big" and arg is not None:
                    self._send_big(_int_arg(arg, 0, BIG_CAP_MB), head)
                    return
                elif word == "bomb":
                    self._send_bomb(head)
                    return
                else:
                    break
        except _BadArgument as exc:
            self._send_simple(400, f"bad fault-mode argument: {exc}", head)
            return

        self._send_file(parts[i:], opts, head)

    # --- responses ---------------------------------------------------------

    def _send_simple(self, code: int, text: str, head: bool, extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head and code >= 200 and code not in (204, 304):
            self._write(body)

    def _send_file(self, parts: list[str], opts: _Options, head: bool) -> None:
        found = self.feed._load(parts)
        if found is None:
            self._send_simple(404, "not found", head)
            return
        path, data, etag, mtime = found
        last_modified = email.utils.formatdate(mtime, usegmt=True)

        if not opts.nocache and self._not_modified(etag, mtime):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return

        ctype = opts.ctype or CONTENT_TYPES.get(path.suffix.lower(), DEFAULT_CONTENT_TYPE)
        if opts.charset:
            ctype += "; charset=" + opts.charset
        body = gzip.compress(data, mtime=0) if opts.gzip else data

        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if opts.gzip:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        if opts.nocache:
            self.send_header("Cache-Control", "no-store")
        else:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
        if opts.truncate is not None or opts.reset is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return

        if opts.reset is not None:
            self._write(body[: opts.reset])
            self._reset_connection()
        elif opts.truncate is not None:
            self._write(body[: opts.truncate])
        else:
            self._write(body)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110).
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or "W/" + etag in tags
        ims = self.headers.get("If-Modified-Since")
        if not ims:
            return False
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return mtime <= since

    def _send_big(self, megabytes: int, head: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        # Chunked with no Content-Length: the client only learns the size by
        # reading, so it has to enforce its own cap.
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if head:
            return
        remaining = megabytes * MIB
        start = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>big</title>\n'
        line = b"<!-- filler filler filler filler filler filler filler filler -->\n"
        filler = (line * (STREAM_CHUNK // len(line) + 1))[:STREAM_CHUNK]
        try:
            piece = start[:remaining]
            while piece and not self.feed._stopping.is_set():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                remaining -= len(piece)
                piece = filler[:remaining]
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up, which is what a capping client does

    def _send_bomb(self, head: bool) -> None:
        body = gzip_bomb()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if not head:
            self._write(body)

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # client went away; nothing to report

    def _reset_connection(self) -> None:
        # SO_LINGER on with a zero timeout makes close() send RST, not FIN.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile (a makefile()) holds a reference to the socket, so the
        # descriptor, and with it the RST, only goes once both are closed.
        # wfile stays open: it holds no reference, and the base class still
        # flushes it after this request.
        self.rfile.close()
        self.connection.close()
        self.close_connection = True


class FeedServer:
    """A threaded loopback HTTP server over the files under `root`.

    `requests` lists (request target, headers) for every request received,
    in arrival order; header lookups are case-insensitive.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.requests: list[tuple[str, dict[str, str]]] = []
        # Unexpected exceptions raised while handling requests (not hang-ups).
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._routes: dict[str, RouteHandler] = {}
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._files: dict[Path, tuple[tuple[int, int], bytes, str]] = {}

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("FeedServer already started")
        self._stopping.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # short, so stop() returns quickly
            name=f"FeedServer:{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes /slow/ waits and ends /big/ streams
        httpd.shutdown()
        # Keep-alive connections would otherwise sit in recv() until timeout.
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- public helpers ----------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FeedServer not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def count(self, path_suffix: str) -> int:
        """How many requests' path (query ignored, or the full target) ends with the suffix."""
        with self._lock:
            targets = [t for t, _ in self.requests]
        return sum(1 for t in targets if urllib.parse.urlsplit(t).path.endswith(path_suffix) or t.endswith(path_suffix))

    def reset(self) -> None:
        """Forget recorded requests (handy with a session-wide server)."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()

    def route(self, path: str, handler: RouteHandler) -> None:
        """Answer requests for exactly `path` (query ignored) with `handler(request)`.

        The handler gets the BaseHTTPRequestHandler and must write a full
        response itself (send_response, headers incl. Content-Length or
        "Connection: close", end_headers, wfile.write).  Routes win over files
        and fault-mode prefixes.
        """
        with self._lock:
            self._routes["/" + path.lstrip("/")] = handler

    # --- used by the handler -----------------------------------------------

    def _record(self, target: str, headers: Any) -> None:
        merged = RequestHeaders()
        for name, value in headers:
            key = name.lower()
            # Repeated header lines combine into one list value, as HTTP allows.
            merged[key] = f"{dict.get(merged, key)}, {value}" if key in merged else value
        with self._lock:
            self.requests.append((target, merged))

    def _route_for(self, path: str) -> RouteHandler | None:
        with self._lock:
            return self._routes.get(path)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _load(self, parts: list[str]) -> tuple[Path, bytes, str, int] | None:
        """(path, bytes, etag, mtime) of a file under root, or None.

        Cached per file and refreshed when its mtime or size changes, so
        tests may rewrite files under a tmp_path root between requests.
        """
        path = self.root.joinpath(*parts).resolve() if parts else self.root
        # resolve() follows "..", so this also refuses path traversal.
        if path == self.root or self.root not in path.parents or not path.is_file():
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._files.get(path)
        if cached is None or cached[0] != key:
            data = path.read_bytes()
            etag = '"' + hashlib.sha1(data).hexdigest() + '"'
            cached = (key, data, etag)
            with self._lock:
                self._files[path] = cached
        return path, cached[1], cached[2], int(st.st_mtime)
