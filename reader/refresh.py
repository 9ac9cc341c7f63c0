"""The refresh pipeline: fetch every feed concurrently, parse what changed, store it.

One feed's trouble is recorded on that feed and never stops the others. Parsing is
CPU work, so with several feeds to parse it runs in a process pool (both cores work
while the event loop keeps fetching); a body identical to the last one is not parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from .fetch import FetchOptions, fetch, make_client
from .models import FeedOutcome, FetchResult, ParsedFeed, RefreshSummary
from .parse import NotAFeedError, parse_feed
from .store import Store, StoreError
from .welcome import WELCOME_URL, load_welcome

Progress = Callable[[int, int, FeedOutcome], None]

# Below this many feeds a process pool costs more to start than it saves.
POOL_THRESHOLD = 6


def refresh(
    store: Store,
    urls: Sequence[str] | None = None,
    *,
    options: FetchOptions = FetchOptions(),
    progress: Progress | None = None,
) -> RefreshSummary:
    """Refresh the given feeds (all when None). Blocking; safe to call from a worker thread."""
    return asyncio.run(refresh_async(store, urls, options=options, progress=progress))


async def refresh_async(
    store: Store,
    urls: Sequence[str] | None = None,
    *,
    options: FetchOptions = FetchOptions(),
    progress: Progress | None = None,
) -> RefreshSummary:
    started = time.monotonic()
    feeds = store.list_feeds(urls=urls)
    summary = RefreshSummary()
    total = len(feeds)
    semaphore = asyncio.Semaphore(options.concurrency)
    pool = _ParsePool(enabled=total >= POOL_THRESHOLD)

    async def one(url: str, retry_after: float | None) -> None:
        async with semaphore:
            outcome = await _refresh_feed(store, client, url, retry_after, options, pool)
        summary.outcomes.append(outcome)
        if progress:
            progress(len(summary.outcomes), total, outcome)

    try:
        async with make_client(options) as client:
            await asyncio.gather(*(one(f.url, f.retry_after) for f in feeds))
    finally:
        pool.shutdown()
    summary.seconds = time.monotonic() - started
    return summary


async def _refresh_feed(
    store: Store,
    client,
    url: str,
    retry_after: float | None,
    options: FetchOptions,
    pool: _ParsePool,
) -> FeedOutcome:
    if url == WELCOME_URL:
        return FeedOutcome(url, "new", new_entries=load_welcome(store))
    if retry_after and retry_after > time.time():
        wait = time.strftime("%H:%M", time.localtime(retry_after))
        return FeedOutcome(url, "skipped", error=f"the server asked not to be fetched again before {wait}")
    etag, last_modified, old_hash = store.fetch_state(url)
    result = await fetch(client, url, etag=etag, last_modified=last_modified, options=options)
    try:
        return await _store_result(store, url, result, old_hash, pool)
    except StoreError as exc:
        message = str(exc)
    except Exception as exc:
        # One feed's surprise (a parser bug, a dead worker) must not end the refresh.
        message = f"could not process the feed: {type(exc).__name__}: {exc}"
    with contextlib.suppress(Exception):  # the cache itself may be what failed
        store.record_error(url, message)
    return FeedOutcome(url, "error", error=message)


async def _store_result(
    store: Store, url: str, result: FetchResult, old_hash: str | None, pool: _ParsePool
) -> FeedOutcome:
    if result.permanent_redirect and store.set_feed_url(url, result.final_url):
        url = result.final_url
    if result.error:
        store.record_error(url, result.error, retry_after=result.retry_after, gone=result.gone)
        return FeedOutcome(url, "error", error=result.error)
    if result.not_modified:
        store.record_not_modified(url, result.etag, result.last_modified)
        return FeedOutcome(url, "not_modified")
    assert result.body is not None
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == old_hash:
        store.record_not_modified(url, result.etag, result.last_modified)
        return FeedOutcome(url, "unchanged")
    try:
        parsed = await pool.parse(result.body, result.final_url, result.headers)
    except NotAFeedError as exc:
        message = str(exc)
        if exc.links:
            message += f" ({exc.links[0]}); subscribe to that instead"
        store.record_error(url, message)
        return FeedOutcome(url, "error", error=message)
    new, updated = store.save_parsed(
        url, parsed, etag=result.etag, last_modified=result.last_modified, body_hash=body_hash
    )
    return FeedOutcome(url, "new" if new else "unchanged", new_entries=new, updated_entries=updated)


class _ParsePool:
    """Parses in worker processes when worth it, else inline."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and (os.cpu_count() or 1) > 1
        self._executor: Executor | None = None

    async def parse(self, body: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
        if not self.enabled:
            return parse_feed(body, url, headers)
        if self._executor is None:
            # forkserver: forking a process that runs threads (the TUI) is unsafe.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["reader.parse"])
            self._executor = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=context)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, parse_feed, body, url, headers)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
