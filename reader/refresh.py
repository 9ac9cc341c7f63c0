"""The refresh pipeline: fetch every feed concurrently, parse what changed, store it.

One feed's trouble is recorded on that feed and never stops the others. Parsing is
CPU work, so with several feeds to parse it runs in a process pool (both cores work
while the event loop keeps fetching); a body identical to the last one is not parsed.

Once a feed's posts are stored, the full articles of its new posts (reader/articles.py)
are fetched beside the other feeds, with those of its earlier posts whose fetch failed for a
passing reason and are due another try (even when the feed itself is unchanged); no feed's
outcome waits for them. When the feeds are
done, the articles still in flight get at most one more `timeout`, then are abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from .articles import ArticleStage
from .batch_writer import BatchWriter
from .config import Rule
from .fetch import FetchOptions, fetch, make_client
from .hosts import HostLimiter
from .http_client import AsyncClient
from .models import Feed, FeedOutcome, FetchResult, RefreshSummary
from .parse_pool import ParsePool
from .rules import apply_rules
from .sanitize import clean_message
from .store import Store, StoreError
from .welcome import WELCOME_URL, load_welcome

if TYPE_CHECKING:
    from .images.cache import ImageCache

Progress = Callable[[int, int, FeedOutcome], None]
T = TypeVar("T")

# Below this many feeds a process pool costs more to start than it saves.
POOL_THRESHOLD = 6
# Feeds from which a refresh forks its parse workers even when all were fetched before: a tenth of
# them changed is already enough parsing to keep two cores busy.
BIG_REFRESH = 200


def refresh(
    store: Store,
    urls: Sequence[str] | None = None,
    *,
    options: FetchOptions = FetchOptions(),
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    images: ImageCache | None = None,
    feeds_done: Callable[[RefreshSummary], None] | None = None,
    extract_in_process: bool = False,
    rules: Sequence[Rule] = (),
    due: bool = False,
) -> RefreshSummary:
    """Refresh the given feeds (all when None). Blocking; safe to call from a worker thread.

    Setting `stop` (from another thread) abandons the feeds still in flight within a
    tenth of a second: what was already stored stays stored. `images` (None: images
    off) caches the images of the new posts and their articles. `feeds_done(summary)`
    is called once every feed is stored, before the articles still in flight are waited
    for: the app shows the new posts then. `extract_in_process`: full articles are extracted in a
    worker process rather than a thread (the app asks for it: its UI thread must not wait on the GIL).
    `rules` (the config's) act on the new posts once every feed is stored, before `feeds_done`.
    `due`: only the feeds whose next-due time has come (reader/schedule.py), as `refresh --due` and
    the app's background refresh ask.
    """
    return asyncio.run(refresh_async(
        store, urls, options=options, progress=progress, stop=stop, images=images, feeds_done=feeds_done,
        extract_in_process=extract_in_process, rules=rules, due=due,
    ))


async def refresh_async(
    store: Store,
    urls: Sequence[str] | None = None,
    *,
    options: FetchOptions = FetchOptions(),
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    images: ImageCache | None = None,
    feeds_done: Callable[[RefreshSummary], None] | None = None,
    extract_in_process: bool = False,
    rules: Sequence[Rule] = (),
    due: bool = False,
) -> RefreshSummary:
    started = time.monotonic()
    # A feed of the sync account is fetched by the server, and its posts come with `reader sync`.
    # With `due`, only the feeds whose next-due time has come (reader/schedule.py; NULL: due now).
    feeds = store.feeds_to_refresh(urls, due_by=time.time() if due else None, ceiling=options.schedule.ceiling)
    summary = RefreshSummary()
    total = len(feeds)
    if not feeds:
        # Nothing to fetch (a cron `--due` run between due times): no pool, client or writer thread.
        summary.seconds = summary.feeds_seconds = time.monotonic() - started
        if feeds_done is not None:
            with contextlib.suppress(Exception):
                feeds_done(summary)
        return summary
    fetched = [f for f in feeds if f.url != WELCOME_URL]
    # Will this refresh parse much? A big one will, and so will one of feeds never fetched. A small
    # one of feeds fetched before (the common cron run) likely won't: they answer 304, or the same
    # body, whose hash is known. It need not fork workers for the few that changed (see ParsePool).
    likely = len(fetched) >= BIG_REFRESH or sum(not f.fetched_before for f in fetched) >= POOL_THRESHOLD
    pool = ParsePool(enabled=len(fetched) >= POOL_THRESHOLD, likely=likely)
    # One writer thread does every cache write, so SQLite work (it releases the GIL)
    # overlaps with fetching instead of stalling the event loop; the writes queued together
    # share a commit (reader/batch_writer.py).
    writer = BatchWriter(store)
    job = _Job(store, options, pool, writer)
    articles = job.articles = ArticleStage(store, options, job.write, images=images, in_process=extract_in_process)
    queue = iter(feeds)
    # One client (one libcurl multi handle) for every lane: connections to a host are kept
    # alive from one feed to the next, whichever lane fetches it.
    client = make_client(options, connections=min(options.concurrency, total))

    async def lane() -> None:
        for feed in queue:
            outcome = await job.refresh_feed(client, feed, explicit=urls is not None)
            summary.outcomes.append(outcome)
            if progress:
                # A failing progress display (a closed stderr) must not end this lane's feeds.
                with contextlib.suppress(Exception):
                    progress(len(summary.outcomes), total, outcome)

    async def stopped() -> None:
        while stop is not None and not stop.is_set():
            await asyncio.sleep(0.1)

    lanes = asyncio.gather(*(lane() for _ in range(min(options.concurrency, total))))
    watcher = asyncio.ensure_future(stopped()) if stop is not None else None
    try:
        await asyncio.wait([t for t in (lanes, watcher) if t is not None], return_when=asyncio.FIRST_COMPLETED)
        if not lanes.done():
            lanes.cancel()
            summary.stopped = True
        with contextlib.suppress(asyncio.CancelledError):
            await lanes
        if not summary.stopped:
            summary.new_ids = job.new_ids
            if rules and job.new_ids:
                # Before the posts are shown: a hidden post never flashes up, a read one never counts.
                summary.rules = await job.write(apply_rules, store, rules, job.new_ids)
            summary.seconds = summary.feeds_seconds = time.monotonic() - started
            if feeds_done is not None:
                with contextlib.suppress(Exception):  # the caller's display failing must not end the refresh
                    feeds_done(summary)
            # The articles (and images) still in flight: at most one more timeout, then abandoned.
            finishing = asyncio.ensure_future(articles.finish(options.timeout))
            await asyncio.wait([t for t in (finishing, watcher) if t is not None], return_when=asyncio.FIRST_COMPLETED)
            if not finishing.done():
                finishing.cancel()
                summary.stopped = True
            with contextlib.suppress(asyncio.CancelledError):
                await finishing
    except BaseException:
        # Cancelled from outside (Ctrl+C in asyncio.run): end the lanes here and wait for
        # them, so no abandoned request is left for asyncio to log with its traceback.
        lanes.cancel()
        with contextlib.suppress(BaseException):
            await lanes
        raise
    finally:
        with contextlib.suppress(BaseException):
            await articles.close()  # never waits on the network
        with contextlib.suppress(BaseException):
            await client.aclose()  # nor does this
        if watcher is not None:
            watcher.cancel()
        pool.shutdown()
        writer.shutdown(wait=True)  # writes what is queued, then closes the writer thread's connection
    # Articles asked for (new posts', and retries): how many came, which failed (each post's row says why).
    summary.articles_fetched = sum(o.status != "error" for o in articles.outcomes)
    summary.articles_failed = [o.entry_id for o in articles.outcomes if o.status == "error"]
    summary.seconds = time.monotonic() - started
    return summary


class _Job:
    """One refresh run: what every feed's refresh shares."""

    def __init__(self, store: Store, options: FetchOptions, pool: ParsePool, writer: Executor) -> None:
        self.store = store
        self.options = options
        self.pool = pool
        self.writer = writer
        self.hosts = HostLimiter(options.per_host)  # feeds; article pages and images have their own
        self.articles: ArticleStage | None = None
        self.new_ids: list[int] = []  # every feed's new posts, for the rules

    async def write(self, method: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.writer, partial(method, *args, **kwargs))

    async def _write_scheduled(
        self, url: str, schedule: dict[str, object], method: Callable[..., T], *args: object, **kwargs: object
    ) -> T:
        """`method(*args, **kwargs)` on the writer thread, then the feed's next-due time from what this
        fetch said (`schedule`: Store.reschedule's keywords), in one trip to the writer: every outcome
        of a fetch leaves the feed a next-due time (reader/schedule.py)."""
        store, policy = self.store, self.options.schedule

        def both() -> T:
            result = method(*args, **kwargs)
            store.reschedule(url, policy, **schedule)  # type: ignore[arg-type]
            return result

        return await self.write(both)

    async def refresh_feed(self, client: AsyncClient, feed: Feed, explicit: bool = False) -> FeedOutcome:
        """Refresh one feed. Never raises (but for cancellation): any failure lands on the feed."""
        try:
            outcome = await self._refresh_feed(client, feed, explicit)
        except Exception as exc:
            # One feed's surprise (a parser bug, a dead worker, a full disk) must not end the refresh.
            if isinstance(exc, StoreError):
                message = clean_message(str(exc))
            else:
                message = clean_message(f"could not process the feed: {type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):  # the cache itself may be what failed
                await self._write_scheduled(feed.url, {"failed": True}, self.store.record_error, feed.url, message)
            return FeedOutcome(feed.url, "error", error=message)
        if outcome.error:
            outcome.error = clean_message(outcome.error)
        return outcome

    async def _refresh_feed(self, client: AsyncClient, feed: Feed, explicit: bool) -> FeedOutcome:
        url, retry_after = feed.url, feed.retry_after
        if url == WELCOME_URL:
            new = await self._write_scheduled(url, {}, load_welcome, self.store)
            return FeedOutcome(url, "new" if new else "unchanged", new_entries=new)
        if feed.gone and not explicit:
            # The publisher said 410 Gone; asking again every refresh is rude. `reader refresh URL` still tries.
            # Not due again before the ceiling, so a cron `--due` run doesn't list it as skipped every time.
            await self.write(self.store.hold, url, time.time() + self.options.schedule.ceiling)
            return FeedOutcome(url, "skipped", error=feed.last_error or "the feed is gone (HTTP 410)")
        if retry_after and retry_after > time.time():
            await self.write(self.store.hold, url, retry_after)
            wait = time.strftime("%H:%M", time.localtime(retry_after))
            return FeedOutcome(url, "skipped", error=f"the server asked not to be fetched again before {wait}")
        etag, last_modified, old_hash = feed.fetch_state  # read with the feed list: no query per feed
        async with self.hosts.slot(url):
            result = await fetch(client, url, etag=etag, last_modified=last_modified, options=self.options)
        return await self._store_result(url, result, old_hash)

    async def _store_result(self, url: str, result: FetchResult, old_hash: str | None) -> FeedOutcome:
        store = self.store
        if result.permanent_redirect and await self.write(store.set_feed_url, url, result.final_url):
            url = result.final_url
        if result.error:
            await self._write_scheduled(
                url, {"failed": True, "retry_after": result.retry_after},
                store.record_error, url, result.error, retry_after=result.retry_after, gone=result.gone,
            )
            return FeedOutcome(url, "error", error=result.error)
        answered = {"fresh_for": result.fresh_for}  # the server's Cache-Control/Expires, for the schedule
        if result.not_modified:
            await self._write_scheduled(
                url, answered, store.record_not_modified, url, result.etag, result.last_modified
            )
            self._articles_of(url, [])  # no new posts, but earlier ones' failed articles may be due a retry
            return FeedOutcome(url, "not_modified")
        assert result.body is not None
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == old_hash:
            await self._write_scheduled(
                url, answered, store.record_not_modified, url, result.etag, result.last_modified
            )
            self._articles_of(url, [])
            return FeedOutcome(url, "unchanged")
        try:
            parsed, encoded = await self.pool.parse(result.body, result.final_url, result.headers)
        except Exception as exc:
            from .parse import NotAFeedError  # the parser is loaded once there is a body to parse

            if not isinstance(exc, NotAFeedError):
                raise
            message = str(exc)
            if exc.links:
                message += f" ({exc.links[0]}); subscribe to that instead"
            message = clean_message(message)
            await self._write_scheduled(url, {"failed": True}, store.record_error, url, message)
            return FeedOutcome(url, "error", error=message)
        new_ids: list[int] = []
        # The posts first, then the schedule: the feed's rhythm counts the posts just stored.
        new, updated = await self._write_scheduled(
            url, {**answered, "parsed": True, "feed_interval": parsed.interval},
            store.save_parsed, url, parsed,
            etag=result.etag, last_modified=result.last_modified, body_hash=body_hash, encoded=encoded,
            new_ids=new_ids,
        )
        self.new_ids += new_ids
        self._articles_of(url, new_ids)
        return FeedOutcome(url, "new" if new else "unchanged", new_entries=new, updated_entries=updated)

    def _articles_of(self, url: str, new_ids: list[int]) -> None:
        """The feed answered: its new posts' articles, and those of earlier posts whose fetch failed
        for a passing reason and are due another try. Fetched beside the other feeds; this feed's
        outcome doesn't wait. (A feed that failed gets no retries: the network is likely the trouble.)"""
        if self.articles is not None:
            self.articles.stored(new_ids, feed_url=url)
