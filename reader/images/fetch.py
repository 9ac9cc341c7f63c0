"""Downloading a post's images into the cache: during a refresh (`prefetch`, on its event
loop) or when a post is opened in the app (`fetch_images`, blocking, in a worker thread).

Every download goes through reader.fetch.fetch (redirect checks, http(s) only, whole-fetch
timeout, gzip bombs) with a 5 MB cap, and is checked by its bytes (validate.py) before it is
cached. A failure is remembered in the cache, never raised: an image is a placeholder at worst.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace

import httpx

from reader.fetch import FetchOptions, fetch, make_client
from reader.hosts import HostLimiter
from reader.images.cache import RETRY_FAILED, RETRY_TRANSIENT, ImageCache
from reader.images.validate import MAX_IMAGE_BYTES, check_image
from reader.sanitize import safe_url

ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9"
# The app fetches a post's images for someone who is waiting: a shorter whole-fetch timeout.
OPEN_TIMEOUT = 15.0


def _todo(urls: Iterable[str], cache: ImageCache) -> list[str]:
    return [url for url in dict.fromkeys(urls) if safe_url(url) == url and cache.wanted(url)]


async def _fetch_one(
    client: httpx.AsyncClient,
    url: str,
    cache: ImageCache,
    limiter: HostLimiter,
    options: FetchOptions,
    on_cached: Callable[[str], None] | None,
) -> bool:
    async with limiter.slot(url):
        if not cache.wanted(url):  # fetched meanwhile (the same image in two posts, another process)
            return False
        result = await fetch(client, url, options=options, accept=ACCEPT)
    if result.error or result.body is None:
        # No HTTP answer at all (offline, DNS, refused, timed out): soon worth another try.
        retry = RETRY_TRANSIENT if result.status is None else RETRY_FAILED
        await asyncio.to_thread(cache.fail, url, result.error or "no image in the response", retry)
        return False
    body = result.body
    error = await asyncio.to_thread(check_image, body)
    if error:
        await asyncio.to_thread(cache.fail, url, error)
        return False
    stored = await asyncio.to_thread(cache.put, url, body)
    if stored and on_cached is not None:
        on_cached(url)
    return stored


async def prefetch(
    client: httpx.AsyncClient,
    urls: Iterable[str],
    cache: ImageCache,
    *,
    limiter: HostLimiter,
    options: FetchOptions,
    on_cached: Callable[[str], None] | None = None,
) -> int:
    """Download the images not cached yet (and not failed lately). Returns how many were added.
    Never raises (but for cancellation); evicts down to the cap at the end. `on_cached(url)` is
    called (on the event loop) as each image is stored."""
    options = replace(options, max_body=MAX_IMAGE_BYTES)
    todo = await asyncio.to_thread(_todo, urls, cache)
    if not todo:
        return 0
    try:
        results = await asyncio.gather(
            *(_fetch_one(client, url, cache, limiter, options, on_cached) for url in todo)
        )
    finally:
        await asyncio.shield(asyncio.to_thread(cache.evict))
    return sum(results)


def fetch_images(
    urls: Iterable[str],
    cache: ImageCache,
    options: FetchOptions = FetchOptions(timeout=OPEN_TIMEOUT),
    *,
    stop: threading.Event | None = None,
    on_cached: Callable[[str], None] | None = None,
) -> int:
    """Blocking: download the images of one post that are not cached, for the app's worker
    thread. Returns how many were added. Returns early (what finished stays cached) once
    `stop` is set, e.g. when another post is opened. `on_cached(url)` is called in this thread
    as each image is stored, so the pane can show it before the others arrive. Never raises."""
    todo = _todo(urls, cache)
    if not todo:
        return 0

    async def run() -> int:
        async with make_client(options, connections=4) as client:
            task = asyncio.ensure_future(
                prefetch(client, todo, cache, limiter=HostLimiter(), options=options, on_cached=on_cached)
            )
            while not task.done():
                if stop is not None and stop.is_set():
                    task.cancel()
                    break
                await asyncio.wait([task], timeout=0.1)
            try:
                return await task
            except asyncio.CancelledError:
                return 0

    try:
        return asyncio.run(run())
    except Exception:  # the images stay placeholders; the post is unaffected
        return 0
