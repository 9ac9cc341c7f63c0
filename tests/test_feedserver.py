"""Checks of the test HTTP server itself, so a broken server fails loudly here
rather than as mysterious failures in the fetcher tests."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from feedserver import FeedServer

DATA = Path(__file__).parent / "data"
SEED = "blog-hong-kong.xml"


def _raw_get(server: FeedServer, path: str) -> tuple[bytes, bytes]:
    """GET over a bare socket, returning (head, body-as-received) without any
    client-side framing checks, to see exactly what was put on the wire."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except ConnectionResetError:
            pass
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return head, body


def test_plain_file_has_validators(feed_server: FeedServer) -> None:
    data = (DATA / SEED).read_bytes()
    r = httpx.get(feed_server.url(SEED))
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "application/xml"
    assert r.headers["content-length"] == str(len(data))
    assert r.headers["etag"] == '"' + hashlib.sha1(data).hexdigest() + '"'
    assert r.headers["last-modified"].endswith(" GMT")
    assert feed_server.errors == []


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("atom.xml", "application/xml"),
        ("not-a-feed.html", "text/html"),
        ("junk.bin", "application/octet-stream"),
        ("ctype/text/html/atom.xml", "text/html"),
        ("charset/utf-8/latin1.xml", "application/xml; charset=utf-8"),
        ("ctype/text/plain/charset/koi8-r/atom.xml", "text/plain; charset=koi8-r"),
    ],
)
def test_content_type(feed_server: FeedServer, path: str, ctype: str) -> None:
    r = httpx.get(feed_server.url(path))
    assert r.status_code == 200
    assert r.headers["content-type"] == ctype


def test_conditional_requests_get_304(feed_server: FeedServer) -> None:
    first = httpx.get(feed_server.url(SEED))
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    r = httpx.get(feed_server.url(SEED), headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""

    r = httpx.get(feed_server.url(SEED), headers={"If-Modified-Since": modified})
    assert r.status_code == 304

    # A stale ETag wins over a fresh date: If-None-Match decides alone.
    r = httpx.get(feed_server.url(SEED), headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert r.status_code == 200

    r = httpx.get(feed_server.url("nocache/" + SEED), headers={"If-None-Match": etag})
    assert r.status_code == 200
    assert "etag" not in r.headers and "last-modified" not in r.headers


def test_gzip(feed_server: FeedServer) -> None:
    data = (DATA / SEED).read_bytes()
    with httpx.stream("GET", feed_server.url("gzip/" + SEED)) as r:
        raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == data
    assert httpx.get(feed_server.url("gzip/" + SEED)).content == data


def test_status_codes(feed_server: FeedServer) -> None:
    r = httpx.get(feed_server.url("status/503/" + SEED))
    assert r.status_code == 503
    assert r.headers["retry-after"] == "120"
    assert httpx.get(feed_server.url("status/429/x")).headers["retry-after"] == "120"
    assert "retry-after" not in httpx.get(feed_server.url("status/500/x")).headers

    r = httpx.get(feed_server.url("status/301/gzip/atom.xml"))
    assert r.status_code == 301
    assert r.headers["location"] == "/gzip/atom.xml"

    assert httpx.get(feed_server.url("no-such-file.xml")).status_code == 404
    assert httpx.get(feed_server.url("status/abc/x")).status_code == 400


def test_path_traversal_is_refused(feed_server: FeedServer) -> None:
    # http.client sends the path as-is; httpx would normalise the dots away.
    conn = http.client.HTTPConnection("127.0.0.1", feed_server.port, timeout=5)
    try:
        conn.request("GET", "/%2e%2e/conftest.py")
        assert conn.getresponse().status == 404
    finally:
        conn.close()


def test_redirects(feed_server: FeedServer) -> None:
    r = httpx.get(feed_server.url("redirect/" + SEED))
    assert r.status_code == 301
    assert r.headers["location"] == "/" + SEED

    r = httpx.get(feed_server.url("gzip/redirect/308/atom.xml?x=1"))
    assert r.status_code == 308
    assert r.headers["location"] == "/gzip/atom.xml?x=1"

    r = httpx.get(feed_server.url("redirect/302/" + SEED), follow_redirects=True)
    assert r.status_code == 200
    assert r.content == (DATA / SEED).read_bytes()

    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(feed_server.url("redirect-loop/" + SEED), follow_redirects=True)

    expected = {
        "file": "file:///etc/passwd",
        "javascript": "javascript:alert(1)",
        "ftp": "ftp://127.0.0.1/feed.xml",
        "data": "data:application/rss+xml;base64,",
    }
    # http.client, because httpx raises InvalidURL on the javascript: and
    # data: Locations even with follow_redirects=False.
    conn = http.client.HTTPConnection("127.0.0.1", feed_server.port, timeout=5)
    try:
        for scheme, prefix in expected.items():
            conn.request("GET", f"/redirect-to/{scheme}/")
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 302
            assert (resp.getheader("Location") or "").startswith(prefix)
    finally:
        conn.close()


def test_truncate_announces_more_than_it_sends(feed_server: FeedServer) -> None:
    size = (DATA / SEED).stat().st_size
    head, body = _raw_get(feed_server, "/truncate/100/" + SEED)
    assert f"Content-Length: {size}".encode() in head
    assert len(body) == 100
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(feed_server.url("truncate/100/" + SEED))


def test_reset_breaks_the_connection(feed_server: FeedServer) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(feed_server.url("reset/100/" + SEED))


def test_slow_is_honoured_and_does_not_block_others(feed_server: FeedServer) -> None:
    slow_elapsed: list[float] = []

    def slow() -> None:
        t0 = time.monotonic()
        httpx.get(feed_server.url("slow/600/" + SEED))
        slow_elapsed.append(time.monotonic() - t0)

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.1)  # let the slow request get in first
    t0 = time.monotonic()
    assert httpx.get(feed_server.url("atom.xml")).status_code == 200
    assert time.monotonic() - t0 < 0.4
    worker.join(5)
    assert slow_elapsed and slow_elapsed[0] >= 0.6


def test_stop_is_prompt_during_a_slow_request(tmp_path: Path) -> None:
    (tmp_path / "f.xml").write_bytes(b"<rss/>")
    server = FeedServer(tmp_path).start()
    errors: list[Exception] = []

    def slow() -> None:
        try:
            httpx.get(server.url("slow/30000/f.xml"), timeout=10)
        except httpx.TransportError as exc:
            errors.append(exc)  # the server hanging up on us is expected

    worker = threading.Thread(target=slow, daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while server.count("f.xml") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 1.0
    worker.join(5)
    assert not worker.is_alive()


def test_big_streams_chunked_without_length(feed_server: FeedServer) -> None:
    with httpx.stream("GET", feed_server.url("big/1/anything")) as r:
        assert "content-length" not in r.headers
        assert r.headers["transfer-encoding"] == "chunked"
        body = b"".join(r.iter_bytes())
    assert body.startswith(b'<?xml version="1.0"?>\n<rss version="2.0"><channel>')
    assert len(body) == 1024 * 1024

    # A capping client can walk away early without upsetting the server.
    with httpx.stream("GET", feed_server.url("big/500/x")) as r:
        got = 0
        for chunk in r.iter_bytes():
            got += len(chunk)
            if got > 256 * 1024:
                break
    assert feed_server.errors == []


def test_bomb_is_small_on_the_wire_and_huge_inflated(feed_server: FeedServer) -> None:
    with httpx.stream("GET", feed_server.url("bomb/")) as r:
        assert r.headers["content-encoding"] == "gzip"
        raw = b"".join(r.iter_raw())
    assert len(raw) < 200_000
    inflater = zlib.decompressobj(31)
    total = 0
    for i in range(0, len(raw), 4096):
        # max_length keeps this test's memory bounded too
        out = inflater.decompress(raw[i : i + 4096], 1 << 20)
        total += len(out)
        while inflater.unconsumed_tail:
            total += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
    assert total > 100 * 1024 * 1024


def test_requests_are_recorded_and_routes_work(feed_server: FeedServer) -> None:
    def teapot(req: BaseHTTPRequestHandler) -> None:
        body = b"short and stout"
        req.send_response(418)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    feed_server.route("/teapot", teapot)
    before = feed_server.count("/teapot")
    r = httpx.get(feed_server.url("teapot?brew=1"), headers={"X-Probe": "yes"})
    assert (r.status_code, r.content) == (418, b"short and stout")
    assert feed_server.count("/teapot") == before + 1

    target, headers = feed_server.requests[-1]
    assert target == "/teapot?brew=1"
    assert headers["x-probe"] == headers["X-Probe"] == "yes"
    assert "USER-AGENT" in headers
