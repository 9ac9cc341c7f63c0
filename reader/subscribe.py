"""Checking a URL before subscribing to it: shared by `reader add` and the app's add dialog.

A URL is fetched once; if it is a feed, that is the answer; if it is a web page that
links a feed (rel=alternate), that feed is fetched instead. Anything else is a
SubscribeError whose message says what was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .fetch import FetchOptions, fetch, make_client
from .models import FetchResult, ParsedFeed
from .parse import NotAFeedError, parse_feed
from .sanitize import safe_url


class SubscribeError(Exception):
    """A URL that cannot be subscribed to, with a message for the user."""


def normalize_url(text: str) -> str:
    """`example.com/feed` means https; only http(s) URLs are accepted."""
    url = text.strip()
    if not url or any(c.isspace() for c in url):
        raise SubscribeError(f"not a URL: {text!r}")
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", url):
        url = "https://" + url
    if not safe_url(url):
        raise SubscribeError(f"only http and https feeds can be added, not {text!r}")
    return url


async def discover(
    url: str,
    options: FetchOptions = FetchOptions(),
    *,
    on_redirect: Callable[[str, str], None] | None = None,
) -> tuple[str, ParsedFeed, FetchResult]:
    """Fetch `url` once; return (feed URL, parsed feed, fetch result) for the feed it is or links.

    `on_redirect(page_url, feed_url)` is told when a web page pointed at its feed.
    """
    async with make_client(options) as client:
        for _attempt in range(2):
            result = await fetch(client, url, options=options)
            if result.error:
                raise SubscribeError(f"could not fetch {url}: {result.error}")
            assert result.body is not None
            try:
                return result.final_url, parse_feed(result.body, result.final_url, result.headers), result
            except NotAFeedError as exc:
                if not exc.links:
                    raise SubscribeError(f"{url} is {exc}") from None
                if on_redirect is not None:
                    on_redirect(url, exc.links[0])
                url = exc.links[0]
    raise SubscribeError(f"{url} is a web page that links another page, not a feed")
