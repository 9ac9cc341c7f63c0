"""Issue 8: what a hostile or broken server does outside the feed body, through real loopback servers.

A tiny raw-socket server (RawServer) answers each path with bytes the test writes
itself: reason phrases, headers and redirect targets no well-behaved server library
would send, bodies dripped a byte at a time, gzip with several members, raw deflate.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from feedserver import FeedServer

import reader.refresh as refresh_module
from reader.body import BodyError, Inflater
from reader.fetch import FetchOptions, fetch, make_client
from reader.refresh import POOL_THRESHOLD, refresh
from reader.store import Store
from reader.subscribe import SubscribeError, discover, normalize_url

DATA = Path(__file__).parent / "data"
FEED = (DATA / "blog-hong-kong.xml").read_bytes()  # 3 posts
FEED_POSTS = 3

# What a terminal acts on: ESC, C0 (but tab/newline), DEL, C1, bidi embeddings/overrides/isolates/marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Hostile payloads: OSC 52 (clipboard write), OSC 0 (window title), CSI, C1 CSI, bidi override.
OSC52 = "\x1b]52;c;cHduZWQ=\x07"
OSC0 = "\x1b]0;PWNED\x07"
CSI = "\x1b[31m"
C1 = "\x9b31m"
BIDI = "\u202etxt.exe\u202c"
HOSTILE = OSC52 + OSC0 + CSI + C1 + BIDI


def assert_clean(text: str) -> None:
    bad = _UNSAFE.search(text)
    assert bad is None, f"unsafe character {bad.group()!r} in {text!r}"
    assert "cHduZWQ" not in text and "PWNED" not in text, f"escape payload shown in {text!r}"


# --- the raw server -----------------------------------------------------------------------


@dataclass
class Request:
    conn: socket.socket
    path: str
    headers: dict[str, str]
    stopping: threading.Event

    def send(self, head: str | bytes, body: bytes = b"") -> None:
        """Send a status line and headers (str is UTF-8 encoded, so non-ASCII goes out as is) and body."""
        raw = head.encode() if isinstance(head, str) else head
        self.conn.sendall(raw.rstrip(b"\r\n") + b"\r\nConnection: close\r\n\r\n" + body)

    def drip(self, data: bytes, interval: float) -> None:
        """Send `data` one byte per `interval` until done, the client hangs up or the server stops."""
        for i in range(len(data)):
            self.conn.sendall(data[i : i + 1])
            if self.stopping.wait(interval):
                return


Handler = Callable[[Request], None]


class RawServer:
    """Loopback TCP server: one request per connection, answered by the handler for its path."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, name="RawServer", daemon=True).start()

    def url(self, path: str, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}/{path.lstrip('/')}"

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes["/" + path.lstrip("/")] = handler
            return handler

        return register

    def count(self, path: str) -> int:
        return sum(p.split("?")[0] == "/" + path.lstrip("/") for p, _ in list(self.requests))

    def stop(self) -> None:
        self.stopping.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                words = lines[0].split(" ")
                path = words[1] if len(words) > 1 else "/"
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                self.requests.append((path, headers))
                handler = self.routes.get(path.split("?")[0])
                request = Request(conn, path, headers, self.stopping)
                if handler is None:
                    request.send("HTTP/1.1 404 Not Found\r\nContent-Length: 0")
                else:
                    handler(request)
            except OSError:
                pass  # the client hung up (a timeout, a cap): that is what these tests provoke


@pytest.fixture(scope="module")
def raw() -> Iterator[RawServer]:
    server = RawServer()
    _routes(server)
    yield server
    server.stop()


def _ok(body: bytes, extra: str = "") -> str:
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {len(body)}\r\n{extra}"


def _routes(server: RawServer) -> None:
    route = server.route

    # Item 1: text from the server outside the body.
    @route("/reason")
    def reason(r: Request) -> None:
        r.send(f"HTTP/1.1 500 Oops {HOSTILE} broken\r\nContent-Length: 0")

    @route("/reason-c1-bytes")
    def reason_c1(r: Request) -> None:
        # Raw 8-bit C1 bytes (0x9b CSI, 0x9d OSC), not UTF-8: as a latin-1 server would.
        r.send(b"HTTP/1.1 502 Bad \x9b31m\x9d0;title\x07Gateway\r\nContent-Length: 0")

    @route("/encoding")
    def encoding(r: Request) -> None:
        r.send(_ok(FEED, f"Content-Encoding: br{HOSTILE}"), FEED)

    @route("/location-js")
    def location_js(r: Request) -> None:
        r.send(f"HTTP/1.1 302 Found\r\nLocation: javascript:{HOSTILE}alert(1)\r\nContent-Length: 0")

    @route("/location-controls")
    def location_controls(r: Request) -> None:
        r.send(f"HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:{server.port}/{HOSTILE}\r\nContent-Length: 0")

    @route("/location-bad-port")
    def location_bad_port(r: Request) -> None:
        r.send("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:99999/feed\r\nContent-Length: 0")

    @route("/validators")
    def validators(r: Request) -> None:
        long = "x" * 5000
        r.send(_ok(FEED, f'ETag: "{OSC0}abc"\r\nLast-Modified: {long}'), FEED)

    # Item 2: slow servers.
    @route("/drip-body")
    def drip_body(r: Request) -> None:
        r.send(_ok(FEED))
        r.drip(FEED, 0.2)  # well under httpx's per-read timeout, so only a whole-request bound stops it

    @route("/drip-head")
    def drip_head(r: Request) -> None:
        r.drip(_ok(FEED).encode() + b"\r\nConnection: close\r\n\r\n" + FEED, 0.2)

    # Item 4: bodies as real servers compress them.
    half = len(FEED) // 2
    two_members = gzip.compress(FEED[:half], mtime=0) + gzip.compress(FEED[half:], mtime=0)

    @route("/gzip-two-members")
    def gzip_two(r: Request) -> None:
        r.send(_ok(two_members, "Content-Encoding: gzip"), two_members)

    padded = two_members + b"\x00" * 8

    one_member = gzip.compress(FEED, mtime=0)

    @route("/gzip-listed-with-identity")
    def gzip_listed(r: Request) -> None:
        r.send(_ok(one_member, "Content-Encoding: identity, GZIP , identity"), one_member)

    @route("/gzip-padded")
    def gzip_padded(r: Request) -> None:
        r.send(_ok(padded, "Content-Encoding: gzip"), padded)

    raw_deflate = _deflate(FEED, wbits=-15)

    @route("/deflate-raw")
    def deflate_raw(r: Request) -> None:
        r.send(_ok(raw_deflate, "Content-Encoding: deflate"), raw_deflate)

    zlib_deflate = zlib.compress(FEED)

    @route("/deflate-zlib")
    def deflate_zlib(r: Request) -> None:
        r.send(_ok(zlib_deflate, "Content-Encoding: deflate"), zlib_deflate)

    bomb = b"".join(gzip.compress(b" " * (700 * 1024), mtime=0) for _ in range(3))  # 2.1 MB in 3 members

    @route("/gzip-member-bomb")
    def member_bomb(r: Request) -> None:
        r.send(_ok(bomb, "Content-Encoding: gzip"), bomb)

    raw_bomb = _deflate(b" " * (3 * 1024 * 1024), wbits=-15)

    @route("/deflate-raw-bomb")
    def deflate_bomb(r: Request) -> None:
        r.send(_ok(raw_bomb, "Content-Encoding: deflate"), raw_bomb)

    # Item 5: a feed behind basic auth.
    expected = "Basic " + base64.b64encode(b"alice:s3cretpass").decode()

    @route("/private/feed.xml")
    def private(r: Request) -> None:
        if r.headers.get("authorization") in (expected, "Basic " + base64.b64encode(b"admin:hunter2").decode()):
            r.send(_ok(FEED), FEED)
        else:
            r.send('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0')

    relative = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Rel</title><link>/home</link>'
                b'<item><title>One</title><guid>/g1</guid><link>/posts/1</link>'
                b'<description>&lt;a href="/x"&gt;x&lt;/a&gt;</description></item></channel></rss>')

    @route("/private/relative.xml")
    def private_relative(r: Request) -> None:
        r.send(_ok(relative), relative)

    @route("/moved-to-relative-with-password")
    def moved_to_relative(r: Request) -> None:
        r.send(f"HTTP/1.1 301 Moved\r\nLocation: http://admin:hunter2@127.0.0.1:{server.port}/private/relative.xml"
               "\r\nContent-Length: 0")

    @route("/moved-with-password")
    def moved_with_password(r: Request) -> None:
        r.send(f"HTTP/1.1 301 Moved\r\nLocation: http://admin:hunter2@127.0.0.1:{server.port}/private/feed.xml"
               "\r\nContent-Length: 0")

    @route("/private/redirect")
    def private_redirect(r: Request) -> None:
        r.send("HTTP/1.1 302 Found\r\nLocation: ftp://alice:s3cretpass@127.0.0.1/feed\r\nContent-Length: 0")


def _deflate(data: bytes, wbits: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return comp.compress(data) + comp.flush()


def _fetch(url: str, **options: float) -> object:
    async def go() -> object:
        opts = FetchOptions(**options)  # type: ignore[arg-type]
        async with make_client(opts) as client:
            return await fetch(client, url, options=opts)

    return asyncio.run(go())


# --- item 1: escapes from the server, not the feed -------------------------------------

HOSTILE_PATHS = ["reason", "reason-c1-bytes", "encoding", "location-js", "location-controls", "location-bad-port"]


def test_item1_server_text_is_cleaned_in_refresh_and_feeds(cli, raw: RawServer, tmp_path: Path) -> None:
    for path in HOSTILE_PATHS:
        assert cli("add", "--no-fetch", raw.url(path)).code == 0
    result = cli("refresh")
    assert result.code == 0
    assert_clean(result.out + result.err)
    assert result.err.count("failed:") == len(HOSTILE_PATHS)
    assert "HTTP 500 Oops" in result.err and "HTTP 502 Bad" in result.err  # the plain words stay
    assert "unsupported Content-Encoding: br" in result.err
    assert "redirect to an invalid URL refused" in result.err
    for args in (["feeds"], ["feeds", "--json"]):
        listing = cli(*args)
        assert listing.code == 0
        assert_clean(listing.out + listing.err)
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        errors = [f.last_error for f in store.list_feeds() if f.url.startswith(raw.url(""))]
    finally:
        store.close()
    assert len(errors) == len(HOSTILE_PATHS) and all(errors)
    for error in errors:
        assert_clean(error or "")


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_item1_add_prints_no_server_escapes(cli, raw: RawServer, path: str) -> None:
    result = cli("add", raw.url(path))
    assert result.code == 1
    assert "could not fetch" in result.err
    assert_clean(result.out + result.err)


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_item1_subscribe_error_and_fetch_error_are_clean(raw: RawServer, path: str) -> None:
    # The app's add dialog shows SubscribeError as it is: it must be clean at the source.
    with pytest.raises(SubscribeError) as caught:
        asyncio.run(discover(raw.url(path), FetchOptions(timeout=5)))
    assert_clean(str(caught.value))
    result = _fetch(raw.url(path), timeout=5)
    assert result.error  # type: ignore[attr-defined]
    assert_clean(result.error)  # type: ignore[attr-defined]


def test_item1_validators_are_kept_printable_and_bounded(store: Store, raw: RawServer) -> None:
    url = raw.url("validators")
    store.add_feed(url)
    outcome = refresh(store, [url]).outcomes[0]
    assert outcome.status == "new" and outcome.new_entries == FEED_POSTS
    [feed] = store.feeds_to_refresh([url])
    etag, last_modified, _ = feed.fetch_state
    for value in (etag, last_modified):
        assert value is None or (value.isascii() and value.isprintable() and len(value) <= 512)
    # The next request carries no junk header (a bad one would make every later refresh fail).
    assert refresh(store, [url]).outcomes[0].status == "unchanged"
    sent = [h for p, h in raw.requests if p == "/validators"][-1]
    assert all(_UNSAFE.search(v) is None and len(v) <= 512 for v in sent.values())


# --- item 2: the timeout bounds the whole request ---------------------------------------


def test_item2_dripping_servers_are_bounded_and_do_not_hold_back_the_rest(
    store: Store, raw: RawServer, feed_server: FeedServer
) -> None:
    good = [feed_server.url("blog-hong-kong.xml"), feed_server.url("atom.xml")]
    slow = [raw.url("drip-body?n=1"), raw.url("drip-body?n=2"), raw.url("drip-head?n=1"), raw.url("drip-head?n=2")]
    for url in good + slow:
        store.add_feed(url)
    finished: dict[str, float] = {}
    started = time.monotonic()

    def progress(done: int, total: int, outcome: refresh_module.FeedOutcome) -> None:
        finished[outcome.url] = time.monotonic() - started

    summary = refresh(store, options=FetchOptions(timeout=1.5), progress=progress)
    elapsed = time.monotonic() - started
    by_url = {o.url: o for o in summary.outcomes}
    assert all(by_url[u].status == "new" for u in good)
    assert all(by_url[u].error == "timed out after 1.5 s" for u in slow)
    # Unbounded, each drip takes len(FEED) * 0.2 s (minutes); bounded, the refresh takes about one
    # timeout (the slow feeds wait side by side, not one after another).
    assert elapsed < 1.5 + 3
    assert max(finished[u] for u in good) < min(finished[u] for u in slow)  # the good ones did not wait


def test_item2_add_is_bounded_by_the_timeout(raw: RawServer) -> None:
    for path in ("drip-body", "drip-head"):
        started = time.monotonic()
        with pytest.raises(SubscribeError, match="timed out after 1 s"):
            asyncio.run(discover(raw.url(path), FetchOptions(timeout=1)))
        assert time.monotonic() - started < 4  # unbounded: minutes


# --- item 3: one bad URL never kills a refresh -------------------------------------------

BAD_URLS = [
    "http://127.0.0.1:99999/feed",
    "http://localhost:65536/feed",
    "http://127.0.0.1:-1/feed",
    "http://127.0.0.1:1e3/feed",
    "http://[::1]:70000/feed",
    "http://127.0.0.1:0/feed",
]


def test_item3_import_skips_bad_ports_and_says_so(cli, feed_server: FeedServer, tmp_path: Path) -> None:
    good = feed_server.url("blog-hong-kong.xml")
    # Port 0 is a valid number (it just never answers): the other five are refused at import.
    refused = [u for u in BAD_URLS if not u.endswith(":0/feed")]
    outlines = "".join(f'<outline type="rss" text="bad" xmlUrl="{u}"/>' for u in refused)
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline type="rss" text="good" xmlUrl="{good}"/>{outlines}</body></opml>'
    )
    imported = cli("import", str(opml))
    assert imported.code == 0
    assert "imported 1 feeds (1 new)" in imported.out
    assert f"skipped {len(refused)} outline(s)" in imported.err and "Traceback" not in imported.err


def test_item3_bad_ports_land_on_their_feed_and_the_refresh_goes_on(
    cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    good = feed_server.url("blog-hong-kong.xml")
    assert cli("add", "--no-fetch", good).code == 0
    # As a cache written before URLs were checked holds them: straight into the table.
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        with store.transaction() as db:
            db.executemany(
                "INSERT INTO feeds (url, title, added) VALUES (?, 'bad', 0)", [(u,) for u in BAD_URLS]
            )
    finally:
        store.close()
    result = cli("refresh")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "TaskGroup" not in result.err
    assert "1 with new posts (3 new entries)" in result.out
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        feeds = {f.url: f for f in store.list_feeds()}
    finally:
        store.close()
    assert feeds[good].last_error is None and feeds[good].total == FEED_POSTS
    bad = [f for url, f in feeds.items() if url != good and url.startswith("http")]
    assert len(bad) == len(BAD_URLS)
    for feed in bad:
        assert feed.last_error, feed.url
        assert_clean(feed.last_error)
        assert "Error" not in feed.last_error  # a sentence, not an exception's class name
        assert result.err.count(f"failed: {feed.url}") == 1


def test_item3_any_exception_in_one_feed_lands_on_that_feed(
    store: Store, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever breaks for one feed (here: a bug that raises in the middle of its refresh) is that feed's error.
    good = feed_server.url("blog-hong-kong.xml")
    broken = [feed_server.url(f"atom.xml?broken={kind}") for kind in ("fetch", "store")]
    for url in [good, *broken]:
        store.add_feed(url)
    real_fetch, real_save = refresh_module.fetch, Store.save_parsed

    async def fetch_that_breaks(client, url, **kwargs):  # type: ignore[no-untyped-def]
        if "broken=fetch" in url:
            raise ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError(f"boom {OSC52}")])
        return await real_fetch(client, url, **kwargs)

    def save_that_breaks(self, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "broken=store" in url:
            raise RuntimeError(f"disk on fire {BIDI}")
        return real_save(self, url, *args, **kwargs)

    monkeypatch.setattr(refresh_module, "fetch", fetch_that_breaks)
    monkeypatch.setattr(Store, "save_parsed", save_that_breaks)
    summary = refresh(store)
    by_url = {o.url: o for o in summary.outcomes}
    assert by_url[good].status == "new" and by_url[good].new_entries == FEED_POSTS
    for url in broken:
        assert by_url[url].status == "error" and by_url[url].error
        assert_clean(by_url[url].error or "")
        feed = store.get_feed(url)
        assert feed is not None and feed.last_error == by_url[url].error


# --- item 4 (issue item 7): gzip with several members, raw deflate ------------------------


@pytest.mark.parametrize(
    "path", ["gzip-two-members", "gzip-padded", "deflate-raw", "deflate-zlib", "gzip-listed-with-identity"]
)
def test_item4_compressed_bodies_are_read_in_full(store: Store, raw: RawServer, path: str) -> None:
    url = raw.url(path)
    store.add_feed(url)
    outcome = refresh(store, [url]).outcomes[0]
    assert outcome.error is None
    assert outcome.status == "new" and outcome.new_entries == FEED_POSTS  # a cut body would lose posts


@pytest.mark.parametrize("step", [1, 2, 3, 7, 10, 64, 4096])
def test_item4_member_and_header_boundaries_anywhere_in_the_stream(step: int) -> None:
    # The network cuts a body anywhere: a gzip header, a member boundary or the zero padding
    # may be split across reads. Every cut must give the same bytes.
    half = len(FEED) // 3
    bodies = {
        "gzip, 3 members, padded, junk": b"".join(
            gzip.compress(FEED[i : i + half], mtime=0) for i in range(0, len(FEED), half)
        ) + b"\x00\x00\x00\x00trailing junk",
        "zlib": zlib.compress(FEED),
        "raw deflate": _deflate(FEED, wbits=-15),
        "gzip sent as deflate": gzip.compress(FEED, mtime=0),
    }
    for name, body in bodies.items():
        inflater = Inflater(len(FEED) * 2)
        out = b"".join(b"".join(inflater.feed(body[i : i + step])) for i in range(0, len(body), step))
        out += b"".join(inflater.finish())
        assert out == FEED, name


@pytest.mark.parametrize(
    "body",
    [
        zlib.compress(FEED[:1000]) + zlib.compress(FEED[1000:]),  # "deflate" as several zlib streams
        gzip.compress(FEED, mtime=0) + b"\x1f\x8bnot really a member",  # junk that starts like one
        zlib.compress(FEED) + b"trailing junk",
    ],
    ids=["zlib-streams", "gzip-then-fake-member", "zlib-then-junk"],
)
def test_item4_what_follows_a_complete_stream(body: bytes) -> None:
    # The second acceptance run: only the first of several zlib streams was kept (posts lost
    # silently), and junk starting with the gzip magic failed the whole feed as corrupt.
    inflater = Inflater(len(FEED) * 2)
    out = b"".join(b"".join(inflater.feed(body[i : i + 100])) for i in range(0, len(body), 100))
    assert out + b"".join(inflater.finish()) == FEED


def test_item4_a_body_of_many_small_members_is_read_in_a_loop() -> None:
    # The acceptance run: 1,500 members (a valid 80 KB feed) hit a RecursionError when each
    # member's decoding called the next one's.
    head, tail = FEED.split(b"<item>", 1)[0], b"</channel></rss>\n"
    items = [b"<item><title>m%d</title><guid>m%d</guid></item>" % (i, i) for i in range(1500)]
    body = b"".join(gzip.compress(part, mtime=0) for part in [head, *items, tail])
    inflater = Inflater(len(body) * 20)
    out = b"".join(inflater.feed(body)) + b"".join(inflater.finish())
    assert out == head + b"".join(items) + tail


def test_item4_too_many_members_are_refused_quickly() -> None:
    # 200,000 empty members (4 MB): each boundary copies the rest of the chunk, so past a
    # few thousand the work would grow with the square of the input; refused instead.
    body = gzip.compress(b"", mtime=0) * 200_000
    inflater = Inflater(10 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(BodyError, match=r"more than 4,096 members"):
        for i in range(0, len(body), 65536):
            for _ in inflater.feed(body[i : i + 65536]):
                pass
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("path", ["gzip-member-bomb", "deflate-raw-bomb"])
def test_item4_every_member_counts_towards_the_cap(raw: RawServer, path: str) -> None:
    result = _fetch(raw.url(path), max_body=1024 * 1024)
    assert "larger than 1 MB" in (result.error or "")  # type: ignore[attr-defined]
    whole = _fetch(raw.url(path), max_body=4 * 1024 * 1024)
    expected = {"gzip-member-bomb": 3 * 700 * 1024, "deflate-raw-bomb": 3 * 1024 * 1024}[path]
    assert whole.error is None and len(whole.body) == expected  # type: ignore[attr-defined]


def test_item5_a_redirect_that_adds_a_password_is_followed_but_not_stored(store: Store, raw: RawServer) -> None:
    # The acceptance run: a 301 to `http://admin:hunter2@host/...` replaced the stored URL,
    # so every later refresh sent a password the user never gave.
    url = raw.url("moved-with-password")
    store.add_feed(url)
    outcome = refresh(store, [url]).outcomes[0]
    assert outcome.status == "new" and outcome.new_entries == FEED_POSTS
    assert [feed.url for feed in store.list_feeds()] == [url]


def test_item5_links_never_resolve_against_credentials_a_redirect_added(cli, store: Store, raw: RawServer) -> None:
    # The second acceptance run: relative links, guids and the site URL resolved against the
    # redirect's `admin:hunter2@` URL, so the password was stored and printed by `show`.
    url = raw.url("moved-to-relative-with-password")
    store.add_feed(url)
    for _ in range(2):  # twice: keys must not change between refreshes (no duplicate posts)
        assert refresh(store, [url]).outcomes[0].error is None
    [row] = store.list_entries()
    entry = store.get_entry(row.id)
    assert entry is not None and entry.link == f"http://127.0.0.1:{raw.port}/posts/1"
    dump = "\n".join(str(r) for r in store.db.iterdump())
    assert "hunter2" not in dump
    shown = cli("show", str(row.id))
    assert "hunter2" not in shown.out and f"http://127.0.0.1:{raw.port}/x" in shown.out


# --- item 5: credentials in a feed URL are never shown -------------------------------------

SECRET = "s3cretpass"


def test_item5_credentials_are_masked_in_every_output(cli, raw: RawServer, tmp_path: Path) -> None:
    good = raw.url("private/feed.xml", "alice:s3cretpass@")
    wrong = raw.url("private/feed.xml", "alice:wrongs3cretpass@")
    redirect = raw.url("private/redirect", "alice:s3cretpass@")
    refused = f"http://alice:{SECRET}@127.0.0.1:1/feed.xml"  # nothing listens on port 1
    added = cli("add", good)
    assert added.code == 0, added.err
    assert SECRET not in added.out + added.err
    for url in (wrong, redirect, refused):
        failed = cli("add", url)
        assert failed.code == 1 and "could not fetch" in failed.err
        assert SECRET not in failed.out + failed.err
        assert cli("add", "--no-fetch", url).code == 0
    result = cli("refresh")
    assert result.code == 0
    assert "1 not modified" in result.out and "3 failed" in result.out
    assert result.err.count("failed:") == 3
    for args in (["feeds"], ["feeds", "--json"]):
        listing = cli(*args)
        assert listing.code == 0 and "alice" in listing.out
        assert SECRET not in listing.out + listing.err, args
    assert SECRET not in result.out + result.err
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        feeds = store.list_feeds()
    finally:
        store.close()
    private = [f for f in feeds if "alice" in f.url]
    assert len(private) == 4
    assert all(SECRET not in (f.last_error or "") for f in private)
    assert sum(bool(f.last_error) for f in private) == 3
    assert all(SECRET not in f.display_title for f in private)
    untitled = next(f for f in private if f.url == refused)
    assert untitled.display_title == untitled.display_url == "http://alice:***@127.0.0.1:1/feed.xml"


# --- item 6: Ctrl+C in `reader refresh` ------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and the forked parse pool are Linux here")
def test_item6_ctrl_c_in_refresh_is_one_line_and_exit_130(feed_server: FeedServer, tmp_path: Path) -> None:
    data = tmp_path / "interrupted"
    store = Store(data / "reader.sqlite")
    slow = [feed_server.url(f"slow/20000/atom.xml?ctrl-c={i}") for i in range(POOL_THRESHOLD + 2)]
    fast = [feed_server.url(f"nocache/blog-hong-kong.xml?ctrl-c={i}") for i in range(2)]
    for url in fast + slow:
        store.add_feed(url)
    store.close()
    before = feed_server.count("slow/20000/atom.xml")
    # A session of its own, so SIGINT can go to the whole process group, as a terminal's Ctrl+C does:
    # the parse workers get it too.
    proc = subprocess.Popen(
        [sys.executable, "-m", "reader", "--data-dir", str(data), "refresh"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while feed_server.count("slow/20000/atom.xml") < before + len(slow) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the refresh is in flight: workers forked, slow requests waiting
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len(err.strip().splitlines()) <= 2, err
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted" in err


_REFRESH_WITHOUT_CLI = r"""
import sys
from reader.refresh import refresh
from reader.store import Store

try:
    refresh(Store(sys.argv[1]))  # no stop event, no signal handler: asyncio.run takes the Ctrl+C
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)
"""


def test_item6_interrupted_refresh_leaves_nothing_for_asyncio_to_log(feed_server: FeedServer, tmp_path: Path) -> None:
    # asyncio.run cancels the refresh on Ctrl+C; lanes left running were logged, each with a long traceback.
    path = tmp_path / "core" / "reader.sqlite"
    store = Store(path)
    for i in range(POOL_THRESHOLD + 2):
        store.add_feed(feed_server.url(f"slow/20000/atom.xml?core={i}"))
    store.close()
    before = feed_server.count("slow/20000/atom.xml")
    proc = subprocess.Popen(
        [sys.executable, "-c", _REFRESH_WITHOUT_CLI, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while feed_server.count("slow/20000/atom.xml") < before + POOL_THRESHOLD + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert err.strip() == "interrupted", err
    assert proc.returncode == 130


_WORKERS_IGNORE_SIGINT = r"""
import asyncio, os, signal, sys, time
from reader.parse_pool import ParsePool

pool = ParsePool(enabled=True)
body = open(sys.argv[1], "rb").read()

async def parse():
    return await pool.parse(body, "http://127.0.0.1/feed.xml", {})

asyncio.run(parse())  # the workers are up
assert pool._executor is not None, "no process pool"
for pid in list(pool._executor._processes):
    os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl+C does to every process of the group
time.sleep(0.5)
parsed, encoded = asyncio.run(parse())
print(len(parsed.entries), encoded is not None)
pool.shutdown()
"""


@pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2, reason="the forked pool needs Linux, 2 cores")
def test_item6_parse_workers_ignore_ctrl_c(tmp_path: Path) -> None:
    # Only the main process answers Ctrl+C: a worker that took it would print a
    # KeyboardInterrupt traceback and die, breaking the pool.
    proc = subprocess.run(
        [sys.executable, "-c", _WORKERS_IGNORE_SIGINT, str(DATA / "blog-hong-kong.xml")],
        capture_output=True, text=True, timeout=30,
    )
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(FEED_POSTS), "True"]  # still parsed in a worker, not inline


# --- item 7: a URL without a scheme ------------------------------------------------------------


def test_item7_no_scheme_falls_back_to_http(cli, feed_server: FeedServer, tmp_path: Path) -> None:
    typed = f"127.0.0.1:{feed_server.port}/blog-hong-kong.xml"
    result = cli("add", typed)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    url = f"http://{typed}"
    assert url in result.out  # says which one worked
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        feed = store.get_feed(url)
    finally:
        store.close()
    assert feed is not None and feed.total == FEED_POSTS


def test_item7_a_port_silent_to_tls_falls_back_to_http_without_the_whole_timeout(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The acceptance run: a server that takes the connection but never answers a TLS
    # ClientHello held `reader add HOST:PORT/feed` for the full timeout (30 s), and http was never tried.
    import reader.subscribe as subscribe_module

    monkeypatch.setattr(subscribe_module, "HTTPS_PROBE_SECONDS", 1.0)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("timeout = 20\n")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the test is over
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    def answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            first = conn.recv(1)
            if first == b"\x16":  # a TLS handshake record: say nothing, hold the line
                stop.wait(30)
                return
            request = first
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(FEED), FEED))

    threading.Thread(target=serve, daemon=True).start()
    try:
        started = time.monotonic()
        result = cli("add", f"127.0.0.1:{port}/feed.xml")
        took = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
    assert result.code == 0, result.err
    assert f"http://127.0.0.1:{port}/feed.xml" in result.out
    assert took < 8, f"{took:.1f} s: the https guess should give up after the probe time"


def test_item7_typed_https_is_never_downgraded(feed_server: FeedServer) -> None:
    url = normalize_url(f"https://127.0.0.1:{feed_server.port}/blog-hong-kong.xml")
    with pytest.raises(SubscribeError) as caught:
        asyncio.run(discover(url, FetchOptions(timeout=5)))
    message = str(caught.value)
    assert "TLS handshake failed: the server does not speak https on this port" in message
    assert "SSL" not in message and "ssl" not in message and "[" not in message  # no raw OpenSSL text


def test_item7_scheme_less_input_is_refused_plainly_when_neither_works() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(SubscribeError) as caught:
        asyncio.run(discover(normalize_url(f"127.0.0.1:{port}/feed"), FetchOptions(timeout=5)))
    message = str(caught.value)
    assert f"https://127.0.0.1:{port}/feed" in message and f"http://127.0.0.1:{port}/feed" in message
    assert "connection refused" in message
    with pytest.raises(SubscribeError, match="not a valid URL"):
        normalize_url("127.0.0.1:99999/feed")


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """An https server on 127.0.0.1 whose certificate nobody trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(4096)
            except (OSError, ssl.SSLError):
                pass  # the client refuses the certificate: that is the point

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    stopping.set()
    listener.close()


def test_item7_untrusted_certificate_is_said_plainly(self_signed: int) -> None:
    result = _fetch(f"https://127.0.0.1:{self_signed}/feed.xml", timeout=5)
    error = result.error or ""  # type: ignore[attr-defined]
    assert error.startswith("certificate not trusted: "), error
    assert "self-signed" in error or "self signed" in error
    assert "SSL" not in error and "_ssl.c" not in error
    # No scheme typed, and https answered with a bad certificate: not silently downgraded to http.
    with pytest.raises(SubscribeError, match="certificate not trusted"):
        asyncio.run(discover(normalize_url(f"127.0.0.1:{self_signed}/feed.xml"), FetchOptions(timeout=5)))
