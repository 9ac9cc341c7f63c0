"""Issue 10: a refresh's summary keeps the feeds' time apart from the full articles' and images'."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer
from tui_support import make_app, screen_text, wait_for

from reader.config import Settings
from reader.fetch import FetchOptions
from reader.images.cache import image_cache
from reader.refresh import refresh
from reader.store import Store


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A host that accepts connections and never answers (an image server gone quiet)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(1)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def picture_feed(tmp_path: Path, store: Store, silent_host: str) -> Iterator[str]:
    """A served feed in `store` (full articles off), its one post's image on the silent host."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Pictures</title>'
        "<item><title>A picture</title><guid>p1</guid>"
        f"<description>&lt;p&gt;A long enough post with a picture.&lt;/p&gt;&lt;img src=\"{silent_host}/a.png\"&gt;"
        "</description></item></channel></rss>",
        encoding="utf-8",
    )
    with FeedServer(root) as server:
        url = server.url("/feed.xml")
        store.add_feed(url, "")
        store.set_full_text(url, "off")
        yield url


def test_issue10_a_silent_image_host_is_not_counted_as_the_feeds_time(
    tmp_path: Path, store: Store, picture_feed: str
) -> None:
    summary = refresh(store, options=FetchOptions(timeout=1.5), images=image_cache(Settings(), tmp_path / "data"))
    assert summary.feeds_seconds is not None and summary.feeds_seconds < 1.0
    assert summary.seconds >= summary.feeds_seconds + 1.0  # the image waited out its timeout
    line = summary.line()
    assert line.startswith(f"1 feed checked in {summary.feeds_seconds:.1f} s")
    assert "full articles and images took" in line


@pytest.mark.asyncio
async def test_issue10_app_lists_new_posts_then_says_it_is_fetching_images(store: Store, picture_feed: str) -> None:
    app = make_app(store, timeout=2.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("R")
        # The post is listed while the image is still waited for, and the line says what is going on.
        await wait_for(pilot, lambda: "A picture" in screen_text(app), timeout=5)
        assert "fetching full articles and images" in app.status_bar.plain
        assert app.refreshing
        await wait_for(pilot, lambda: not app.refreshing, timeout=6)
        assert "fetching full articles" not in app.status_bar.plain
