"""Full articles: fetching the page a post links to and keeping the article extracted from it.

A refresh stores a feed's posts first; then, without holding up the feed's outcome or
the other feeds, `ArticleStage` fetches the articles of the new posts that need one by
their feed's mode (`on`: every post with an http(s) link; `auto`: those that look
truncated; `off`: none). Pages come through the one hardened `fetch` (size cap, whole-
request timeout, redirects checked, http(s) only) under one per-host limiter for the run;
extraction (CPU, 20 ms a page, up to a second for a hostile one) is kept off the event loop: in the
app, in a worker process of the run's own ParsePool, started at the first page, as in a thread it held
the GIL the UI thread needs (tests/benchmarks/bench_refresh_ui.py); in the CLI, with no other thread
to answer, in a thread (the caller says which: `in_process`). The results are written by the refresh's single writer
thread. A page that fails leaves a readable error on the post's article row and nothing else: the post
keeps its feed text, the feed its status.

`fetch_article_now` is the same fetch for one post, now (`reader fetch-article`, `f` in the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .entry_codec import compress, index_text
from .fetch import FetchOptions, fetch, make_client
from .hosts import HostLimiter
from .http_client import AsyncClient
from .models import FetchResult
from .parse_pool import ParsePool
from .sanitize import clean_message, media_type, safe_url, strip_tags
from .store import ArticleCandidate, Store

if TYPE_CHECKING:
    from .images.cache import ImageCache

T = TypeVar("T")

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# Connections of the run's page client: the host limiter keeps it to 2 per host.
PAGE_CONNECTIONS = 8

# Seconds the articles in flight get beyond one timeout once the feeds are done.
GRACE = 0.5

# A body with less text than this is a teaser, whatever else it looks like.
SHORT_TEXT = 500
# A body this long is no teaser; it is not scanned at all (bounded cost per post).
LONG_HTML = 200_000
# Where "Read more" or an ellipsis counts: the last characters of the text.
TAIL = 300

_SPACE = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"(\.\.\.|…|\[(?:\.\.\.|…)\]|\((?:\.\.\.|…)\))\s*$")
_READ_MORE = re.compile(
    r"\b(read\s+more|continue\s+reading|keep\s+reading|read\s+the\s+(?:rest|full)|"
    r"read\s+full\s+(?:article|story|post)|full\s+(?:article|story)|more\s*(?:»|→|>>|…)|"
    r"(?:view|see)\s+(?:the\s+)?(?:full|whole|entire)\s+(?:article|post|story)|"
    r"weiterlesen|lire\s+la\s+suite|leer\s+m[aá]s|continua(?:re)?\s+a\s+leggere)",
    re.IGNORECASE,
)

# When set, only pages and images on these hosts are fetched: the test suite sets it to
# loopback, so the posts of its sample feeds (linking real sites) never make it touch the network.
ONLY_HOSTS: frozenset[str] | None = None

NO_ARTICLE = "no article found on the page"
OUT_OF_TIME = "not fetched: the refresh's time for articles ran out (fetch it now with f, or reader fetch-article)"

# A post whose article fetch failed for a passing reason (TRANSIENT_KINDS) is asked for again
# by later refreshes of its feed, while it is this recent, at most this many a feed per refresh,
# each after a wait that grows with every failure in a row (storage/articles.py: retry_delay).
RETRY_DAYS = 14
RETRY_PER_FEED = 10


def looks_truncated(html: str, description: str | None = None) -> bool:
    """Does this post body look like a teaser of a longer article?

    Short text, an ellipsis at the end, a "Read more" / "Continue reading" link or line near
    the end, or (when the feed gives both) a body that is a strict prefix of the description.
    The parsers keep one body per post (content:encoded, else the description), so the last
    test applies only to callers that have both.
    """
    if len(html) > LONG_HTML:
        return False
    text = _SPACE.sub(" ", strip_tags(html)).strip()
    if len(text) < SHORT_TEXT:
        return True
    tail = text[-TAIL:]
    if _ELLIPSIS.search(tail) or _READ_MORE.search(tail):
        return True
    if description is not None and len(description) <= LONG_HTML:
        other = _SPACE.sub(" ", strip_tags(description)).strip()
        shorter, longer = sorted((text, other), key=len)
        if len(shorter) < len(longer) and longer.startswith(shorter.rstrip(".… ")):
            return True
    return False


def _allowed(url: str | None) -> bool:
    safe = safe_url(url)
    if safe is None:
        return False
    return ONLY_HOSTS is None or (urlsplit(safe).hostname or "") in ONLY_HOSTS


def wants_article(candidate: ArticleCandidate) -> bool:
    """Should a refresh fetch this new post's article, by its feed's mode?"""
    if candidate.mode == "off" or not _allowed(candidate.link):
        return False
    return candidate.mode == "on" or looks_truncated(candidate.content)


def failure_kind(result: FetchResult) -> str:
    """What kind of failure a fetch's error is (storage/articles.py: ERROR_KINDS), decided here,
    where the fetch's status and flags are at hand, and stored, so nothing later reads messages.

    A 5xx or 429, a timeout or no answer at all pass; another HTTP status, a refused URL or
    redirect, or a body over the cap would fail the same way again. With no status, fetch's
    own words (never the server's: those come after "HTTP NNN") tell a refused URL from the network.
    """
    status, error = result.status, result.error or ""
    if status is not None and (status == 429 or 500 <= status <= 599):
        return "server"
    if error.startswith("timed out"):
        return "timeout"
    if status is not None and status >= 300:
        return "http"
    if result.unreachable:
        return "network"
    if status is None:
        if error.startswith(("invalid URL", "redirect", "HTTP 3", "too many redirects")):
            return "url"
        return "network"  # refused, no such host, TLS, a broken connection: no answer came
    if error.startswith(("connection broken", "network error")):
        return "network"  # the answer began, then the connection broke
    return "body"  # too big, a decompression bomb, a body that does not decode


# --- one page -------------------------------------------------------------------------------


@dataclass(slots=True)
class ArticleOutcome:
    entry_id: int
    status: str  # "fetched", "unchanged" (304), "error"
    size: int = 0  # bytes of the stored article (compressed)
    error: str | None = None
    kind: str | None = None  # the error's kind (storage/articles.py: ERROR_KINDS)
    html: str | None = None  # the article (fetched), for the images stage
    url: str | None = None  # the page's final URL
    extract_seconds: float = 0.0

    def line(self) -> str:
        """One line for the CLI and the app's notification."""
        if self.status == "fetched":
            return f"fetched the article ({_kb(self.size)})"
        if self.status == "unchanged":
            return f"the article is unchanged since the last fetch ({_kb(self.size)})"
        return f"could not fetch the article: {self.error}"


def _kb(size: int) -> str:
    return f"{max(1, round(size / 1024))} KB"


@dataclass(slots=True)
class Extracted:
    html: str
    blob: bytes
    text: str
    seconds: float  # CPU time of the extraction thread (for the benchmark's per-page cost)


def extract_and_encode(page: bytes, url: str, content_type: str | None) -> Extracted | None:
    """The CPU part of one article (run in a worker thread): extract, compress, index text."""
    from .extract import extract_article  # heavy (lxml): only refreshes that fetch articles pay for it

    started = time.thread_time()
    article = extract_article(page, url, content_type)
    if article is None or not article.html.strip():
        return None
    html = article.html
    return Extracted(html, compress(html), index_text(html), time.thread_time() - started)


def _not_a_page(content_type: str | None) -> str | None:
    """The reason a response is no web page (a PDF, an image), or None."""
    kind = media_type(content_type)
    if not kind or "html" in kind or "xml" in kind or kind.startswith("text/"):
        return None
    return f"not a web page ({clean_message(kind, 80)})"


Writer = Callable[..., Awaitable[Any]]
# Runs extract_and_encode(page, url, content_type) somewhere off the event loop.
Extractor = Callable[[bytes, str, str | None], Awaitable[Extracted | None]]

# Worker processes a refresh extracts its articles in: one keeps the pages' CPU off the app's own
# process (and its GIL) at the pace a thread had, leaving the other core to the app and the feeds.
EXTRACT_WORKERS = 1

# Where a refresh extracts its pages is its caller's choice (`in_process`): the app asks for a worker
# process, the CLI a thread. Other threads (the app's UI) wait on the GIL while a page is extracted in
# a thread: 20 ms a page (a second for a hostile one). bench_refresh_ui.py, 2 cores, 40 real pages,
# 5 runs with both cores busy: the slowest key 380 ms in a thread, 86 ms in a process (medians 8 ms
# and p95 ~40 ms alike; with idle cores, no difference). With nothing else waiting (the CLI), a thread
# costs nothing, while a process costs the forkserver's start, ~0.4 s (40 pages: 1.45 s against
# 1.04 s). Set, this overrides every caller (the benchmark compares the two in the app).
EXTRACT_IN_PROCESS: bool | None = None


async def extract_in_thread(page: bytes, url: str, content_type: str | None) -> Extracted | None:
    """One page (`f`, `reader fetch-article`): in the event loop's thread pool, no process to start."""
    return await asyncio.get_running_loop().run_in_executor(None, extract_and_encode, page, url, content_type)


async def fetch_one(
    client: AsyncClient,
    store: Store,
    entry_id: int,
    link: str,
    *,
    options: FetchOptions,
    limiter: HostLimiter,
    write: Writer,
    extract: Extractor = extract_in_thread,
    conditional: bool = False,
) -> ArticleOutcome:
    """Fetch, extract and store one post's article. Never raises (but for cancellation)."""
    etag = last_modified = None
    size = 0
    if conditional:
        row = await write(store.get_article, entry_id)
        if row is not None and row.html is not None:
            etag, last_modified, size = row.etag, row.last_modified, row.size
    try:
        async with limiter.slot(link):
            result = await fetch(
                client, link, etag=etag, last_modified=last_modified, options=options, accept=PAGE_ACCEPT
            )
        if result.not_modified:
            await write(store.record_article_not_modified, entry_id, result.etag, result.last_modified)
            return ArticleOutcome(entry_id, "unchanged", size=size, url=result.final_url)
        content_type = result.headers.get("content-type")
        error, kind = result.error, failure_kind(result) if result.error else None
        if error is None and (error := _not_a_page(content_type)):
            kind = "not_page"
        extracted = None
        if error is None:
            assert result.body is not None
            extracted = await extract(result.body, result.final_url, content_type)
            if extracted is None:
                error, kind = NO_ARTICLE, "no_article"
        if error is not None or extracted is None:
            error, kind = clean_message(error or NO_ARTICLE, 500), kind or "no_article"
            await write(store.record_article_error, entry_id, result.final_url or link, error, kind)
            return ArticleOutcome(entry_id, "error", error=error, kind=kind)
        await write(
            store.save_article, entry_id, url=result.final_url, blob=extracted.blob, text=extracted.text,
            etag=result.etag, last_modified=result.last_modified,
        )
        return ArticleOutcome(
            entry_id, "fetched", size=len(extracted.blob), html=extracted.html, url=result.final_url,
            extract_seconds=extracted.seconds,
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one page's surprise (an extractor bug, a full disk) is that post's error
        # Not retried by itself: an extractor bug would fail the same way (f retries it by hand).
        error = clean_message(f"could not process the page: {type(exc).__name__}: {exc}", 500)
        with contextlib.suppress(Exception):
            await write(store.record_article_error, entry_id, link, error, "failed")
        return ArticleOutcome(entry_id, "error", error=error, kind="failed")


# --- the refresh's stage ----------------------------------------------------------------------


def _choose(
    store: Store, ids: list[int], every_mode: bool, retry_ids: list[int]
) -> tuple[list[tuple[ArticleCandidate, bool]], list[ArticleCandidate]]:
    """(The writer thread.) The new posts to look at, each with whether its article is wanted;
    and the feed's earlier posts due another try whose article is still wanted by the feed's mode."""
    new = [(c, wants_article(c)) for c in store.article_candidates(ids, every_mode=every_mode)] if ids else []
    retries = [c for c in store.retry_candidates(retry_ids) if wants_article(c)] if retry_ids else []
    return new, retries


def _due(store: Store) -> dict[str, list[int]]:
    """(The writer thread.) {feed URL: its posts due another try}, once for the whole run."""
    now = time.time()
    return store.due_article_retries(now=now, since=now - RETRY_DAYS * 86400, per_feed=RETRY_PER_FEED)


class ArticleStage:
    """The articles (and images) of one refresh run's new posts, fetched beside the feeds.

    `stored(ids, feed_url)` is called by a feed's lane once its posts are stored (none when the
    feed is unchanged) and returns at once: the new posts' articles are fetched, and those of the
    feed's earlier posts whose last fetch failed for a passing reason and are due another try;
    `finish(seconds)` waits at most that long for what is in flight and abandons the rest;
    `close()` cancels everything (a stopped refresh) and never waits on the network.
    """

    def __init__(
        self, store: Store, options: FetchOptions, write: Writer, *,
        images: ImageCache | None = None, in_process: bool = False,
    ) -> None:
        self.store = store
        self.options = options
        self.write = write
        # A cache that keeps nothing (image_cache_mb = 0): the refresh downloads no images.
        self.images = images if images is not None and images.keeps else None
        self.limiter = HostLimiter()
        self._client: AsyncClient | None = None
        self._extractor: ThreadPoolExecutor | None = None
        self._pool: ParsePool | None = None  # the pages' worker process, from the first page to extract
        self._in_process = in_process if EXTRACT_IN_PROCESS is None else EXTRACT_IN_PROCESS
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: dict[int, str] = {}  # entry id → link, for posts whose fetch has not ended
        self._due: asyncio.Future[dict[str, list[int]]] | None = None  # {feed URL: posts due a retry}
        self._closed = False
        self.outcomes: list[ArticleOutcome] = []

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            self._client = make_client(self.options, connections=PAGE_CONNECTIONS)
        return self._client

    @property
    def extractor(self) -> Executor:
        if self._extractor is None:
            self._extractor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reader-extract")
        return self._extractor

    async def extract(self, page: bytes, url: str, content_type: str | None) -> Extracted | None:
        """One page's extraction: in the run's worker process (see EXTRACT_IN_PROCESS), else in its thread."""
        if self._closed:
            raise asyncio.CancelledError  # a page that arrives after close() must not start new workers
        if self._pool is None:
            self._pool = ParsePool(enabled=self._in_process, workers=EXTRACT_WORKERS)
        return await self._pool.run(extract_and_encode, page, url, content_type, fallback=self.extractor)

    def stored(self, new_ids: Iterable[int], feed_url: str | None = None) -> None:
        ids = list(new_ids)
        if ids or feed_url is not None:
            self._spawn(self._post_stage(ids, feed_url))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry_ids(self, feed_url: str | None) -> list[int]:
        """The feed's posts due another try (asked of the cache once per run, by the first feed)."""
        if feed_url is None:
            return []
        if self._due is None:
            self._due = asyncio.ensure_future(self.write(_due, self.store))
        try:
            due = await asyncio.shield(self._due)  # a cancelled feed must not cancel the others' answer
        except Exception:  # (a cancellation is no Exception: it goes on up)
            return []  # retries are a bonus: a failed query must not cost the new posts their articles
        return due.pop(feed_url, [])

    async def _post_stage(self, ids: list[int], feed_url: str | None) -> None:
        try:
            retry_ids = await self._retry_ids(feed_url)
            # Read and judged in the writer thread: decompressing and scanning a feed's worth
            # of post bodies is CPU the event loop should not spend.
            chosen, retries = await self.write(_choose, self.store, ids, self.images is not None, retry_ids)
        except Exception:
            return  # the cache failed: the feed's own write says so; articles are a bonus
        for candidate, wanted in chosen:
            if wanted:
                self._start(candidate)
            if self.images is not None and candidate.content:
                self._spawn(self._images(candidate.content, candidate.base_url))
        for candidate in retries:  # their own text's images were cached when they were new
            self._start(candidate)

    def _start(self, candidate: ArticleCandidate) -> None:
        assert candidate.link is not None
        if candidate.entry_id in self._pending:
            return
        self._pending[candidate.entry_id] = candidate.link
        self._spawn(self._article(candidate.entry_id, candidate.link))

    async def _article(self, entry_id: int, link: str) -> None:
        outcome = await fetch_one(
            self.client, self.store, entry_id, link, options=self.options, limiter=self.limiter,
            write=self.write, extract=self.extract,
        )
        self._pending.pop(entry_id, None)
        self.outcomes.append(outcome)
        if self.images is not None and outcome.html:
            await self._images(outcome.html, outcome.url)

    async def _images(self, html: str, base_url: str | None) -> None:
        """Cache the images of a new post's text or article (images on); under the run's host limiter."""
        from .images.fetch import prefetch
        from .images.urls import image_urls

        assert self.images is not None
        with contextlib.suppress(Exception):  # an image that fails is a placeholder, never the refresh's error
            found = await asyncio.get_running_loop().run_in_executor(self.extractor, image_urls, html, base_url)
            urls = [url for url in found if _allowed(url)]
            if urls:
                await prefetch(self.client, urls, self.images, limiter=self.limiter, options=self.options)

    async def finish(self, seconds: float) -> None:
        """Wait for the articles in flight, at most `seconds` (and a little: a page asked for just
        as the last feed was stored ends with its own timeout); those not done get an error saying so."""
        deadline = time.monotonic() + seconds + GRACE
        while self._tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=left)
        await self.close()
        # After close: a fetch that ended meanwhile has taken itself off (and has its outcome). One
        # cancelled while its article was being written lands anyway (the writer thread finishes the
        # job): the store leaves a post that has an article alone.
        late = dict(self._pending)
        if late:
            self.outcomes += [ArticleOutcome(i, "error", error=OUT_OF_TIME, kind="out_of_time") for i in late]
            with contextlib.suppress(Exception):
                await self.write(
                    self.store.record_article_errors, list(late.items()), OUT_OF_TIME, "out_of_time",
                    without_article=True,
                )

    async def close(self) -> None:
        if self._due is not None and not self._due.done():
            self._due.cancel()  # the writer thread finishes the query; nobody wants its answer
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=0.05)
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), 0.05)
        self._closed = True
        if self._pool is not None:
            # A page being extracted ends on its own (bounded work), then its worker exits; nobody waits.
            self._pool.shutdown(wait=False)
        if self._extractor is not None:
            self._extractor.shutdown(wait=False, cancel_futures=True)
            self._extractor = None


# --- one post, now ------------------------------------------------------------------------------


def fetch_article_now(store: Store, entry_id: int, options: FetchOptions = FetchOptions()) -> ArticleOutcome:
    """Fetch one post's article now (blocking; for the CLI and the app's worker thread).

    A conditional GET when an article is already stored: a 304 keeps it.
    """
    link = store.article_link(entry_id)
    safe = safe_url(link)
    if safe is None or not _allowed(safe):
        return ArticleOutcome(entry_id, "error", error="this post has no http(s) link to fetch the article from")
    return asyncio.run(_fetch_now(store, entry_id, safe, options))


async def _fetch_now(store: Store, entry_id: int, link: str, options: FetchOptions) -> ArticleOutcome:
    async def write(method: Callable[..., T], *args: object, **kwargs: object) -> T:
        return method(*args, **kwargs)  # one post: the store's calls are quick, no writer thread needed

    async with make_client(options, connections=2) as client:
        return await fetch_one(
            client, store, entry_id, link, options=options, limiter=HostLimiter(), write=write,
            conditional=True,
        )


def fetch_articles(
    store: Store, ids: Iterable[int], options: FetchOptions = FetchOptions(), images: ImageCache | None = None
) -> list[ArticleOutcome]:
    """The refresh's article stage for posts stored some other way (`reader add`): blocking, at
    most one `timeout` in all."""
    return asyncio.run(_fetch_articles(store, list(ids), options, images))


async def _fetch_articles(
    store: Store, ids: list[int], options: FetchOptions, images: ImageCache | None
) -> list[ArticleOutcome]:
    async def write(method: Callable[..., T], *args: object, **kwargs: object) -> T:
        return method(*args, **kwargs)

    stage = ArticleStage(store, options, write, images=images)
    try:
        stage.stored(ids)
        await stage.finish(options.timeout)
    finally:
        await stage.close()
    return stage.outcomes
