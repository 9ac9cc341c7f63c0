"""Issue 10, full articles: a refresh extracts its pages in a worker process (reader/articles.py,
ArticleStage.extract through ParsePool.run), off the GIL the app's UI thread needs
(tests/benchmarks/bench_refresh_ui.py measures why). The worker starts at the first page, never for
a refresh without articles, and ends with its refresh; stopping never waits for a page in flight.

Real loopback site (tests/article_server.py), real SQLite, real worker processes.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import ClassVar

import pytest
from article_server import ArticleSite, entry_ids
from article_server import cli_data_store as cli_data_store  # fixture `data_store` (the alias: imported for pytest)
from article_server import teaser_site as teaser_site  # fixture `site` (the alias: imported for pytest)

from reader import articles
from reader.fetch import FetchOptions
from reader.parse_pool import ParsePool
from reader.refresh import refresh
from reader.store import Store


def alive(pid: int) -> bool:
    """Is `pid` a running process (a zombie waiting for its parent to reap it counts as ended)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class RecordingPool(ParsePool):
    """The stage's pool, noting each pool made and the process its first task runs in."""

    made: ClassVar[list[RecordingPool]] = []

    def __init__(self, enabled: bool, workers: int | None = None) -> None:
        super().__init__(enabled, workers)
        self.worker_pids: list[int] = []
        self._asked = False
        RecordingPool.made.append(self)

    async def run(self, fn, *args, fallback=None):  # type: ignore[no-untyped-def, override]
        if not self._asked:  # set before the await: pages extracted at once must not each ask
            self._asked = True
            self.worker_pids.append(await super().run(os.getpid, fallback=fallback))
        return await super().run(fn, *args, fallback=fallback)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[RecordingPool]:
    monkeypatch.setattr(RecordingPool, "made", [])
    monkeypatch.setattr(articles, "ParsePool", RecordingPool)
    return RecordingPool.made


def test_issue10_refresh_extracts_articles_in_a_worker_process_that_ends_with_the_refresh(
    site: ArticleSite, data_store: Store, pools: list[RecordingPool]
) -> None:
    data_store.add_feed(site.feed_url)
    data_store.set_full_text(site.feed_url, "on")
    summary = refresh(data_store, options=FetchOptions(timeout=10), extract_in_process=True)  # as the app asks
    assert summary.articles_fetched == 3 and not summary.articles_failed
    for title, entry_id in entry_ids(data_store).items():
        stored = data_store.get_article(entry_id)
        assert stored is not None and stored.error is None and "articleword" in (stored.html or ""), title
    assert len(pools) == 1  # one pool for the run, its workers started once
    pids = pools[0].worker_pids
    assert pids and os.getpid() not in pids  # the pages were extracted in another process
    assert gone_within(pids, 3.0), "the refresh's extraction worker outlived it"


def test_issue10_refresh_without_articles_starts_no_worker(
    site: ArticleSite, data_store: Store, pools: list[RecordingPool]
) -> None:
    data_store.add_feed(site.feed_url)
    data_store.set_full_text(site.feed_url, "off")
    summary = refresh(data_store, options=FetchOptions(timeout=10))
    assert summary.new_entries == 3 and summary.articles_fetched == 0
    assert pools == []


def test_issue10_parse_pool_run_uses_a_worker_and_inline_when_off() -> None:
    pool = ParsePool(enabled=True, workers=1)
    try:
        assert asyncio.run(pool.run(os.getpid)) != os.getpid()
        assert asyncio.run(pool.run(divmod, 7, 2)) == (3, 1)
    finally:
        pool.shutdown()
    off = ParsePool(enabled=False, workers=1)
    assert asyncio.run(off.run(os.getpid)) == os.getpid()  # no worker: the event loop's thread pool
    assert off._executor is None


def test_issue10_parse_pool_shutdown_without_wait_abandons_a_task_in_flight() -> None:
    """What stop relies on: a page being extracted (bounded, up to a second or so for a hostile one)
    is abandoned at once, and its worker exits when it is done, no one waiting for it."""
    pool = ParsePool(enabled=True, workers=1)

    async def scenario() -> tuple[float, int]:
        pid = await pool.run(os.getpid)
        task = asyncio.ensure_future(pool.run(time.sleep, 1.0))
        await asyncio.sleep(0.2)  # the worker is in the middle of it
        started = time.monotonic()
        pool.shutdown(wait=False)
        task.cancel()
        await asyncio.wait([task], timeout=0.05)
        elapsed = time.monotonic() - started
        assert task.done()
        return elapsed, pid

    elapsed, pid = asyncio.run(scenario())
    assert elapsed < 0.1, elapsed
    assert gone_within([pid], 5.0)
    assert asyncio.run(pool.run(os.getpid)) == os.getpid()  # shut down: nothing starts workers again


def test_issue10_extraction_in_a_thread_starts_no_worker(
    site: ArticleSite, data_store: Store, pools: list[RecordingPool]
) -> None:
    # The CLI's refresh (the default): pages in a thread, no worker process started.
    data_store.add_feed(site.feed_url)
    data_store.set_full_text(site.feed_url, "on")
    summary = refresh(data_store, options=FetchOptions(timeout=10))
    assert summary.articles_fetched == 3 and not summary.articles_failed
    assert [p.worker_pids for p in pools] == [[os.getpid()]] and pools[0]._executor is None


@pytest.mark.asyncio
async def test_issue10_the_apps_refresh_extracts_in_a_worker_process(
    site: ArticleSite, data_store: Store, pools: list[RecordingPool]
) -> None:
    from tui_support import make_app, wait_for

    data_store.add_feed(site.feed_url)
    data_store.set_full_text(site.feed_url, "on")
    app = make_app(data_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.refreshing and bool(pools), timeout=15)
    assert pools and pools[0].worker_pids and os.getpid() not in pools[0].worker_pids
