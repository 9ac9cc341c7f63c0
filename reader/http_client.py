"""An asyncio HTTP client on libcurl's multi interface (pycurl): a conditional GET in C.

Why libcurl: a refresh is hundreds of small GETs, most answered 304. httpx spends about 2 ms
of Python per request; libcurl does the same work in well under 0.1 ms, and its multi handle
keeps connections alive across requests (newsboat is libcurl too). Measured on our own
feeds with tests/benchmarks/bench_http_clients.py.

What this module does, and nothing more: one GET per call, no redirects followed, no
decompression, headers and status as the server sent them. The callers (reader/fetch.py)
follow redirects by hand, check every hop, inflate bodies with a bound per step
(reader/body.py), and word the errors. The body goes to a sink the caller chooses once the
headers are in, so a body nobody wants (a redirect's, a 304's, an error page's) is never read.

libcurl is driven from the event loop: it tells us which sockets to watch
(M_SOCKETFUNCTION) and when to wake it (M_TIMERFUNCTION); the loop calls it back when a
socket is ready. Nothing blocks the loop, and no thread is used.
"""

from __future__ import annotations

import asyncio
import http
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import pycurl

# Bytes a body callback is handed at most at once: fewer Python calls per response than
# curl's 16 KB default, still small next to the 10 MB body cap.
BUFFER_SIZE = 128 * 1024
# libcurl's error codes (curl.h; stable across versions) by what they mean to a reader.
# Not all have a constant in every pycurl build, so they are spelled as numbers.
_WRITE_ERROR = 23  # a callback of ours stopped the transfer
_KINDS = {
    28: "timeout",  # OPERATION_TIMEDOUT
    6: "resolve",  # COULDNT_RESOLVE_HOST
    7: "connect",  # COULDNT_CONNECT
    35: "tls", 66: "tls",  # SSL_CONNECT_ERROR, SSL_ENGINE_INITFAILED
    60: "certificate", 58: "certificate", 83: "certificate",  # PEER_FAILED_VERIFICATION, CERTPROBLEM, ISSUER
    52: "broken", 55: "broken", 56: "broken", 18: "broken",  # GOT_NOTHING, SEND_, RECV_ERROR, PARTIAL_FILE
    16: "broken", 92: "broken",  # HTTP2, HTTP2_STREAM
    8: "protocol", 100: "protocol", 61: "protocol",  # WEIRD_SERVER_REPLY, TOO_LARGE, BAD_CONTENT_ENCODING
    3: "invalid-url", 1: "invalid-url",  # URL_MALFORMAT, UNSUPPORTED_PROTOCOL
}
# What a URL may hold as it is: RFC 3986's reserved and unreserved characters and "%".
# Anything else (spaces, non-ASCII, quotes) is percent-encoded, as browsers and httpx do.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_PLAIN_URL = re.compile(r"[A-Za-z0-9._~!#$%&'()*+,/:;=?@\[\]-]*")


class HTTPError(Exception):
    """A request that got no complete answer. `kind` says what went wrong in a word:
    "timeout", "resolve", "connect", "tls", "certificate", "broken", "protocol",
    "invalid-url" or "other"; str() is libcurl's own text (not yet cleaned)."""

    def __init__(self, kind: str, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class Sink(Protocol):
    def feed(self, data: bytes) -> None: ...


class Headers(dict[str, str]):
    """Response headers by lower-cased name; a repeated header's values joined by ", " (as httpx does)."""

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        self[key] = f"{self[key]}, {value}" if key in self else value


@dataclass(slots=True)
class Response:
    url: str
    status_code: int = 0
    reason_phrase: str = ""
    headers: Headers = field(default_factory=Headers)


def ascii_url(url: str) -> str:
    """`url` as libcurl takes it: an IDNA host name, and a path and query percent-encoded where
    they hold what a URL can't (httpx did this for us; this libcurl build has no IDN support).
    Raises ValueError for what can't be made a URL (a host name IDNA refuses)."""
    if _PLAIN_URL.fullmatch(url):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    netloc = parts.netloc
    if parts.hostname is not None:
        userinfo = netloc.rpartition("@")[0]
        port = f":{parts.port}" if parts.port is not None else ""
        host = f"[{host}]" if ":" in host else host
        netloc = (quote(userinfo, safe=_URL_SAFE) + "@" if userinfo else "") + host + port
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_URL_SAFE),
                       quote(parts.query, safe=_URL_SAFE), quote(parts.fragment, safe=_URL_SAFE)))


class _Transfer:
    """One GET in flight: its easy handle, the response as it arrives, and the future it ends."""

    __slots__ = ("_sink_for", "done", "error", "headers_done", "response", "sink")

    def __init__(self, response: Response, sink_for: Callable[[Response], Sink | None],
                 done: asyncio.Future[Response]) -> None:
        self.response = response
        self._sink_for = sink_for
        self.sink: Sink | None = None  # None: no body is wanted (or the headers are not in yet)
        self.headers_done = False
        self.error: BaseException | None = None  # raised by a sink (a cap, a corrupt body)
        self.done = done

    # Both callbacks run inside curl, called from the event loop. They never raise (pycurl
    # would print the traceback): a problem is kept in `error` and the transfer aborted.

    def on_header(self, line: bytes) -> int | None:
        text = line.decode("latin-1").rstrip("\r\n")
        if text.startswith("HTTP/"):
            # A status line: the first, or a new response after an interim 1xx.
            head = text.split(None, 2)
            response = self.response
            response.headers = Headers()
            try:
                response.status_code = int(head[1])
            except (IndexError, ValueError):
                response.status_code = 0
            response.reason_phrase = head[2].strip() if len(head) > 2 else ""
            self.headers_done = False
            return None
        if not text:
            if 100 <= self.response.status_code < 200:
                return None  # an interim response's end: the real one follows
            self.headers_done = True
            return self._start_body()
        name, sep, value = text.partition(":")
        if sep and name and not name[0].isspace():
            self.response.headers.add(name.strip(), value.strip())
        return None

    def _start_body(self) -> int | None:
        response = self.response
        if not response.reason_phrase:
            # HTTP/2 has no reason phrase: the standard one, as httpx gave.
            try:
                response.reason_phrase = http.HTTPStatus(response.status_code).phrase
            except ValueError:
                pass
        try:
            self.sink = self._sink_for(response)
        except Exception as exc:
            self.error = exc
            return 0  # aborts the transfer: the caller raises `error`
        return None

    def on_body(self, data: bytes) -> int | None:
        if self.sink is None:
            return 0  # a body nobody asked for: stop here, the response is complete enough
        try:
            self.sink.feed(data)
        except Exception as exc:
            self.error = exc
            return 0
        return None


class AsyncClient:
    """A pool of keep-alive connections (one libcurl multi handle) on the running event loop.

    Use as `async with AsyncClient(...) as client:` and `await client.get(url, headers, sink_for)`
    from tasks of that one loop. `connections` bounds the connections kept and open at once.
    """

    def __init__(
        self,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        connections: int = 16,
        cainfo: str | None = None,
    ) -> None:
        # By lower-cased name, so a request's own header of the same name replaces the default.
        self._headers = {name.lower(): f"{name}: {value}" for name, value in (headers or {}).items()}
        self._timeout_ms = max(1, int(timeout * 1000))
        self._connect_timeout_ms = max(1, int(connect_timeout * 1000))
        self._cainfo = cainfo
        self._connections = max(1, connections)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._multi: pycurl.CurlMulti | None = None
        self._transfers: dict[pycurl.Curl, _Transfer] = {}
        self._watched: dict[int, int] = {}  # fd -> the pycurl.POLL_* it is watched for
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _ensure_multi(self) -> pycurl.CurlMulti:
        if self._multi is None:
            if self._closed:
                raise RuntimeError("the HTTP client is closed")
            self._loop = asyncio.get_running_loop()
            multi = pycurl.CurlMulti()
            multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
            multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
            multi.setopt(pycurl.M_MAXCONNECTS, self._connections)
            multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, self._connections)
            self._multi = multi
        return self._multi

    async def get(self, url: str, headers: dict[str, str], sink_for: Callable[[Response], Sink | None]) -> Response:
        """GET `url` once (no redirect followed). When the headers are in, `sink_for(response)` says
        where the body goes: a Sink to feed, or None to read no body at all. Whatever `sink_for` or
        the sink raises ends the request and is raised here; network trouble raises HTTPError."""
        multi = self._ensure_multi()
        loop = self._loop
        assert loop is not None
        easy = pycurl.Curl()
        response = Response(url=url)
        transfer = _Transfer(response, sink_for, loop.create_future())
        try:
            self._configure(easy, ascii_url(url), headers, transfer)
        except (ValueError, UnicodeError, pycurl.error) as exc:
            easy.close()
            raise HTTPError("invalid-url", str(exc) or "malformed URL") from None
        self._transfers[easy] = transfer
        multi.add_handle(easy)
        try:
            return await transfer.done
        finally:
            # Done, failed or cancelled (a timeout, a stopped refresh): the handle leaves the
            # multi at once, so nothing more of this request is read.
            if self._transfers.pop(easy, None) is not None and self._multi is not None:
                self._multi.remove_handle(easy)
            easy.close()

    def _configure(self, easy: pycurl.Curl, url: str, headers: dict[str, str], transfer: _Transfer) -> None:
        easy.setopt(pycurl.URL, url)
        easy.setopt(pycurl.NOSIGNAL, 1)
        easy.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        easy.setopt(pycurl.FOLLOWLOCATION, 0)
        # Bodies come as sent: reader/body.py inflates them with a bound per step.
        easy.setopt(pycurl.HTTP_CONTENT_DECODING, 0)
        # The user's environment proxy settings are not ours to follow (httpx had trust_env off).
        easy.setopt(pycurl.PROXY, "")
        easy.setopt(pycurl.TIMEOUT_MS, self._timeout_ms)
        easy.setopt(pycurl.CONNECTTIMEOUT_MS, self._connect_timeout_ms)
        easy.setopt(pycurl.BUFFERSIZE, BUFFER_SIZE)
        if self._cainfo:
            easy.setopt(pycurl.CAINFO, self._cainfo)
        merged = dict(self._headers)
        for name, value in headers.items():
            merged[name.lower()] = f"{name}: {value}"
        easy.setopt(pycurl.HTTPHEADER, list(merged.values()))
        easy.setopt(pycurl.HEADERFUNCTION, transfer.on_header)
        easy.setopt(pycurl.WRITEFUNCTION, transfer.on_body)

    # --- driving libcurl from the loop ---------------------------------------------------

    def _on_socket(self, what: int, fd: int, multi: object, data: object) -> None:
        loop = self._loop
        if loop is None:
            return
        _unwatch(loop, fd, self._watched.pop(fd, pycurl.POLL_NONE))
        if what == pycurl.POLL_REMOVE:
            return
        if what in (pycurl.POLL_IN, pycurl.POLL_INOUT):
            loop.add_reader(fd, self._act, fd, pycurl.CSELECT_IN)
        if what in (pycurl.POLL_OUT, pycurl.POLL_INOUT):
            loop.add_writer(fd, self._act, fd, pycurl.CSELECT_OUT)
        self._watched[fd] = what

    def _on_timer(self, timeout_ms: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timeout_ms >= 0 and self._loop is not None:
            self._timer = self._loop.call_later(timeout_ms / 1000, self._on_timeout)

    def _on_timeout(self) -> None:
        self._timer = None
        self._act(pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, event: int) -> None:
        multi = self._multi
        if multi is None:
            return
        while True:
            try:
                status, _running = multi.socket_action(fd, event)
            except pycurl.error:
                break
            if status != pycurl.E_CALL_MULTI_PERFORM:
                break
        self._collect()

    def _collect(self) -> None:
        multi = self._multi
        while multi is not None:
            queued, succeeded, failed = multi.info_read()
            for easy in succeeded:
                self._finish(easy, None, "")
            for easy, code, message in failed:
                self._finish(easy, code, message)
            if not queued:
                break

    def _finish(self, easy: pycurl.Curl, code: int | None, message: str) -> None:
        transfer = self._transfers.pop(easy, None)
        if transfer is None:
            return
        if self._multi is not None:
            self._multi.remove_handle(easy)
        if transfer.done.done():
            return
        if transfer.error is not None:
            transfer.done.set_exception(transfer.error)
        elif code is None or (code == _WRITE_ERROR and transfer.headers_done and transfer.sink is None):
            # Complete, or stopped by us after the headers of a response whose body nobody wants.
            transfer.done.set_result(transfer.response)
        else:
            transfer.done.set_exception(_error(code, message))

    async def aclose(self) -> None:
        """Drop every connection; requests still in flight fail. Never waits on the network."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        multi, self._multi = self._multi, None
        if self._loop is not None:
            for fd, what in self._watched.items():
                _unwatch(self._loop, fd, what)
        self._watched.clear()
        for easy, transfer in list(self._transfers.items()):
            if multi is not None:
                multi.remove_handle(easy)
            if not transfer.done.done():
                transfer.done.set_exception(HTTPError("other", "the HTTP client was closed"))
        self._transfers.clear()
        if multi is not None:
            multi.close()


def _unwatch(loop: asyncio.AbstractEventLoop, fd: int, what: int) -> None:
    """Stop watching `fd` for what libcurl had asked (a pycurl.POLL_* value)."""
    if what in (pycurl.POLL_IN, pycurl.POLL_INOUT):
        loop.remove_reader(fd)
    if what in (pycurl.POLL_OUT, pycurl.POLL_INOUT):
        loop.remove_writer(fd)


def _error(code: int, message: str) -> HTTPError:
    return HTTPError(_KINDS.get(code, "other"), message or f"libcurl error {code}", code)
