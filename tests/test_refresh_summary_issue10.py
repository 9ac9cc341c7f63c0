"""Issue 10: a refresh's summary keeps the feeds' time apart from the full articles' and images'."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer

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


def test_issue10_a_silent_image_host_is_not_counted_as_the_feeds_time(
    tmp_path: Path, store: Store, silent_host: str
) -> None:
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
        summary = refresh(
            store, options=FetchOptions(timeout=1.5), images=image_cache(Settings(), tmp_path / "data")
        )
    assert summary.feeds_seconds is not None and summary.feeds_seconds < 1.0
    assert summary.seconds >= summary.feeds_seconds + 1.0  # the image waited out its timeout
    line = summary.line()
    assert line.startswith(f"1 feed checked in {summary.feeds_seconds:.1f} s")
    assert "full articles and images took" in line
