"""Keys newsboat's cache can't tell, read from the feed itself.

For most posts the key reader's parser gives is known from newsboat's guid (cache.py
`reader_key`). Two kinds are not: a post with no guid and no link (reader hashes its title
with the date *as the feed wrote it*, which newsboat turned into a number) and a guid that
is no URL (reader resolves it against the feed's URL unless the feed said isPermaLink="false",
which newsboat doesn't keep). For feeds holding such posts the import fetches the feed once
and parses it with reader's own parser: a post still in the feed gets exactly the key a
refresh will give it. A post that left the feed can't come back, so its guess is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..fetch import FetchOptions, fetch, make_client
from ..http_client import AsyncClient
from ..models import ParsedEntry
from ..parse import NotAFeedError, parse_feed
from ..sanitize import clean_message, safe_url
from .cache import CachedItem, Key, reader_title

MAX_AT_ONCE = 4  # feeds fetched at once: an import is no refresh, and one host may serve them all


async def _one(
    client: AsyncClient, url: str, options: FetchOptions, gate: asyncio.Semaphore
) -> list[ParsedEntry] | str:
    async with gate:
        result = await fetch(client, url, options=options)
    if result.error or result.body is None:
        return result.error or "no body"
    try:
        # In a thread: a big feed's parse must not hold the other fetches up.
        parsed = await asyncio.to_thread(parse_feed, result.body, result.final_url, result.headers)
    except NotAFeedError as exc:
        return clean_message(str(exc), 200)
    return parsed.entries


async def _all(urls: Sequence[str], options: FetchOptions) -> dict[str, list[ParsedEntry] | str]:
    gate = asyncio.Semaphore(MAX_AT_ONCE)
    async with make_client(options, connections=MAX_AT_ONCE) as client:
        found = await asyncio.gather(*(_one(client, url, options, gate) for url in urls))
    return dict(zip(urls, found, strict=True))


def current_entries(urls: Sequence[str], options: FetchOptions) -> dict[str, list[ParsedEntry] | str]:
    """Each feed's posts as reader parses them now, or why it could not be fetched (one line)."""
    if not urls:
        return {}
    return asyncio.run(_all(list(urls), options))


class LiveFeed:
    """A feed's posts as reader parses them now, indexed for matching newsboat's posts (each match O(1))."""

    def __init__(self, entries: list[ParsedEntry]) -> None:
        self.keys = {e.key for e in entries}
        self.by_title_link: dict[tuple[str, str | None], list[ParsedEntry]] = {}
        for e in entries:
            self.by_title_link.setdefault((e.title, e.link), []).append(e)

    def match_key(self, item: CachedItem, key: Key) -> str | None:
        """The key reader gives this post in the live feed, when the post is still there (else None)."""
        for candidate in (key.key, *key.others):
            if candidate and candidate in self.keys:
                return candidate
        same = self.by_title_link.get((reader_title(item.title), safe_url(item.url)), [])
        if len(same) > 1:  # the same title twice without links: the date tells them apart
            same = [e for e in same if e.published is not None and int(e.published) == item.pub_date]
        return same[0].key if len(same) == 1 else None
