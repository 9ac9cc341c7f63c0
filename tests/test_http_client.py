"""reader/http_client.py, libcurl driven from the event loop, against real loopback servers.

The fetch behaviours (caps, redirects, wording) are covered through fetch() in test_hostile_server.py
and test_refresh.py; these are the client's own promises: connections kept alive, a cancelled
request gone at once, interim responses skipped, an unwanted body never read, URLs libcurl takes.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from feedserver import FeedServer

from reader.fetch import FetchOptions, fetch, make_client
from reader.http_client import AsyncClient, HTTPError, Response, ascii_url


def _sink_none(response: Response) -> None:
    return None


class Collect:
    def __init__(self) -> None:
        self.data = bytearray()

    def feed(self, data: bytes) -> None:
        self.data += data


def test_issue12_connections_are_kept_alive_across_requests_and_lanes(feed_server: FeedServer) -> None:
    peers: list[tuple[str, int]] = []

    def answer(request: Any) -> None:
        peers.append(request.client_address)
        body = b"<rss><channel><title>t</title></channel></rss>"
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    feed_server.route("/keepalive.xml", answer)

    async def run() -> list[int]:
        async with make_client(FetchOptions(), connections=4) as client:
            gate = asyncio.Semaphore(4)

            async def one() -> int:
                async with gate:
                    result = await fetch(client, feed_server.url("keepalive.xml"))
                    assert result.error is None, result.error
                    return result.status or 0

            return await asyncio.gather(*(one() for _ in range(40)))

    assert asyncio.run(run()) == [200] * 40
    assert len(peers) == 40
    assert len(set(peers)) <= 4, f"{len(set(peers))} connections for 40 requests, 4 at a time"


def test_issue12_a_cancelled_request_ends_at_once_and_the_client_goes_on(feed_server: FeedServer) -> None:
    async def run() -> tuple[float, int]:
        async with make_client() as client:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await client.get(feed_server.url("slow/20000/blog-hong-kong.xml"), {}, lambda r: Collect())
            took = time.monotonic() - started
            after = await fetch(client, feed_server.url("blog-hong-kong.xml"))
            assert client._transfers == {}  # nothing of the cancelled request is left in the multi handle
            return took, after.status or 0

    took, status = asyncio.run(run())
    assert took < 2 and status == 200


def test_issue12_a_body_nobody_wants_is_not_read(feed_server: FeedServer) -> None:
    async def run() -> Response:
        async with make_client() as client:
            return await client.get(feed_server.url("big/50/x.xml"), {}, _sink_none)

    started = time.monotonic()
    response = asyncio.run(run())
    assert response.status_code == 200 and response.headers["content-type"]
    assert time.monotonic() - started < 5  # 50 MB would take longer, and be read for nothing


@pytest.fixture
def interim_server() -> Iterator[int]:
    """Answers every request with a 100 Continue, then a 103, then the real response."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                body = b"<rss/>"
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x.css>\r\n\r\n"
                             b"HTTP/1.1 200 Fine\r\nX-Real: yes\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
                             + body)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_issue12_interim_responses_are_skipped(interim_server: int) -> None:
    sink = Collect()

    async def run() -> Response:
        async with make_client() as client:
            return await client.get(f"http://127.0.0.1:{interim_server}/feed", {}, lambda r: sink)

    response = asyncio.run(run())
    assert (response.status_code, response.reason_phrase) == (200, "Fine")
    assert response.headers.get("x-real") == "yes" and "link" not in response.headers
    assert bytes(sink.data) == b"<rss/>"


def test_issue12_a_closed_client_fails_what_is_in_flight_without_waiting(feed_server: FeedServer) -> None:
    async def run() -> BaseException | None:
        client = make_client()
        task = asyncio.ensure_future(client.get(feed_server.url("slow/20000/blog-hong-kong.xml"), {}, _sink_none))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await client.aclose()
        try:
            await task
        except HTTPError as exc:
            assert time.monotonic() - started < 1
            return exc
        return None

    error = asyncio.run(run())
    assert isinstance(error, HTTPError)


def test_issue12_connection_refused_and_no_such_host_are_kinds() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]

    async def run(url: str) -> HTTPError:
        async with AsyncClient(timeout=5) as client:
            with pytest.raises(HTTPError) as caught:
                await client.get(url, {}, _sink_none)
            return caught.value

    assert asyncio.run(run(f"http://127.0.0.1:{port}/")).kind == "connect"
    assert asyncio.run(run("http://no-such-host.invalid/")).kind == "resolve"


def test_issue12_urls_are_made_ascii_for_libcurl() -> None:
    assert ascii_url("http://example.org/a b/ü?q=ä ö") == "http://example.org/a%20b/%C3%BC?q=%C3%A4%20%C3%B6"
    assert ascii_url("http://bücher.example:8080/x") == "http://xn--bcher-kva.example:8080/x"
    assert ascii_url("https://u:p@h.example/%41?x=1#f") == "https://u:p@h.example/%41?x=1#f"  # already fine: as is


@pytest.fixture(scope="module")
def trusted_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """An https server on 127.0.0.1 and the certificate file that trusts it."""
    import http.server
    import os
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make a certificate")
        pytest.skip("openssl is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls-ok")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = b"<rss><channel><title>over TLS</title></channel></rss>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], str(cert)
    server.shutdown()


def test_issue12_https_with_a_trusted_certificate_reads_and_keeps_the_connection(
    trusted_https: tuple[int, str]
) -> None:
    port, cert = trusted_https
    sink = Collect()

    async def run() -> list[int]:
        async with AsyncClient(cainfo=cert) as client:
            return [(await client.get(f"https://127.0.0.1:{port}/feed", {}, lambda r: sink)).status_code
                    for _ in range(3)]

    assert asyncio.run(run()) == [200, 200, 200]
    assert bytes(sink.data).count(b"over TLS") == 3
