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

from reader.fetch import FetchOptions, fetch, make_client
from reader.hosts import HostLimiter
from reader.http_client import AsyncClient
from reader.images.cache import RETRY_FAILED, RETRY_TRANSIENT, TOO_BIG, ImageCache
from reader.images.validate import MAX_IMAGE_BYTES, check_image
from reader.sanitize import safe_url

ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9"
# The app fetches a post's images for someone who is waiting: a shorter whole-fetch timeout.
OPEN_TIMEOUT = 15.0


# (url, bytes) of an image just downloaded and checked: stored, or (to_show) too big to keep.
OnImage = Callable[[str, bytes], None]


def _todo(urls: Iterable[str], cache: ImageCache, to_show: bool = False) -> list[str]:
    return [url for url in dict.fromkeys(urls) if safe_url(url) == url and cache.wanted(url, to_show)]


async def _fetch_one(
    client: AsyncClient,
    url: str,
    cache: ImageCache,
    limiter: HostLimiter,
    options: FetchOptions,
    on_image: OnImage | None,
    to_show: bool,
) -> bool:
    async with limiter.slot(url):
        if not cache.wanted(url, to_show):  # fetched meanwhile (the same image in two posts, another process)
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
    if not cache.fits(len(body)):
        # Keeping it would evict most of the cache (or the cap is 0): not kept. Remembered, so a
        # refresh doesn't download it each time; shown from memory when its post is opened.
        await asyncio.to_thread(cache.fail, url, TOO_BIG)
        if to_show and on_image is not None:
            on_image(url, body)
        return False
    stored = await asyncio.to_thread(cache.put, url, body)
    if stored and on_image is not None:
        on_image(url, body)
    return stored


async def _download(
    client: AsyncClient, todo: list[str], cache: ImageCache, limiter: HostLimiter, options: FetchOptions,
    on_image: OnImage | None, to_show: bool,
) -> int:
    options = replace(options, max_body=MAX_IMAGE_BYTES)
    try:
        results = await asyncio.gather(
            *(_fetch_one(client, url, cache, limiter, options, on_image, to_show) for url in todo)
        )
    finally:
        await asyncio.shield(asyncio.to_thread(cache.evict))
    return sum(results)


async def prefetch(
    client: AsyncClient,
    urls: Iterable[str],
    cache: ImageCache,
    *,
    limiter: HostLimiter,
    options: FetchOptions,
    on_cached: Callable[[str], None] | None = None,
) -> int:
    """Download the images not cached yet (and not failed lately). Returns how many were added.
    Never raises (but for cancellation); evicts down to the cap at the end. `on_cached(url)` is
    called (on the event loop) as each image is stored. A cache that keeps nothing (cap 0): none
    downloaded."""
    if not cache.keeps:
        return 0
    todo = await asyncio.to_thread(_todo, urls, cache)
    if not todo:
        return 0
    on_image = None if on_cached is None else (lambda url, _data: on_cached(url))
    return await _download(client, todo, cache, limiter, options, on_image, False)


def fetch_images(
    urls: Iterable[str],
    cache: ImageCache,
    options: FetchOptions = FetchOptions(timeout=OPEN_TIMEOUT),
    *,
    stop: threading.Event | None = None,
    on_image: OnImage | None = None,
) -> int:
    """Blocking: download the images of one post that are not cached, for the app's worker
    thread. Returns how many were added. Returns early (what finished stays cached) once
    `stop` is set, e.g. when another post is opened. `on_image(url, bytes)` is called in this
    thread as each image arrives, so the pane can show it before the others arrive; also for
    an image too big to keep (or every image, with a cap of 0), shown from memory. Never raises."""
    todo = _todo(urls, cache, to_show=True)
    if not todo:
        return 0

    async def run() -> int:
        async with make_client(options, connections=4) as client:
            task = asyncio.ensure_future(_download(client, todo, cache, HostLimiter(), options, on_image, True))
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
