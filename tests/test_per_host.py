"""At most `per_host` feeds are fetched from one host at once, whatever `concurrency` is (issue 11's
polite-refresh item, done early: 30 feeds on one small server must not flood it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reader.config import load_settings
from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.store import Store

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
    '<item><title>Post {n}</title><guid isPermaLink="false">p{n}</guid>'
    "<description>A post with no link, so no article page is asked of the server: {n}</description></item>"
    "</channel></rss>"
)


class CountingServer(ThreadingHTTPServer):
    """Answers each feed after a pause, counting the requests in progress at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0


class _Handler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_GET(self) -> None:
        # Counted from the request to just before the answer: the client can't ask again for
        # that slot before it has the answer, so this never counts one slot twice.
        with self.server.lock:
            self.server.now += 1
            self.server.most = max(self.server.most, self.server.now)
        time.sleep(0.05)
        with self.server.lock:
            self.server.now -= 1
        body = FEED.format(n=self.path.strip("/").split(".")[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("per_host", [4, 1])
def test_at_most_per_host_feeds_of_one_host_at_once(
    store: Store, counting_server: CountingServer, per_host: int
) -> None:
    port = counting_server.server_address[1]
    for n in range(30):
        store.add_feed(f"http://127.0.0.1:{port}/{n}.xml", "")
    summary = refresh(store, options=FetchOptions(timeout=10, concurrency=16, per_host=per_host))
    assert len(summary.outcomes) == 30 and not summary.failed
    assert summary.new_entries == 30 and summary.articles_fetched == 0  # only feeds asked of the server
    assert counting_server.most == per_host  # reached, never passed


def test_per_host_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("per_host = 2\n")
    settings = load_settings(path)
    assert settings.per_host == 2 and FetchOptions.of(settings).per_host == 2
    path.write_text("per_host = 0\n")
    settings = load_settings(path)
    assert settings.per_host == 4 and settings.error and "per_host" in settings.error


def test_two_servers_on_one_address_are_two_hosts() -> None:
    """Loopback (or a home box) may run several servers: each port is a server of its own."""
    import asyncio

    from reader.hosts import HostLimiter

    async def both() -> None:
        limiter = HostLimiter(1)
        async with limiter.slot("http://127.0.0.1:8001/a.xml"):
            # The same address on another port is not held up by the slot above...
            await asyncio.wait_for(_enter(limiter, "http://127.0.0.1:8002/b.xml"), 1)
            # ...the same server is.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(_enter(limiter, "http://127.0.0.1:8001/c.xml"), 0.1)

    async def _enter(limiter: HostLimiter, url: str) -> None:
        async with limiter.slot(url):
            pass

    asyncio.run(both())
