"""Checking a URL before subscribing to it: shared by `reader add` and the app's add dialog.

A URL is fetched once; if it is a feed, that is the answer; if it is a web page that
links a feed (rel=alternate), that feed is fetched instead. Anything else is a
SubscribeError whose message says what was found.

Input without a scheme (`example.com/feed`) is tried as https first, then as plain
http if https can't even connect (nothing listens on 443, or the port speaks plain
HTTP): that is what the user meant. A typed `https://` is never downgraded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .fetch import FetchOptions, fetch, make_client
from .models import FetchResult, ParsedFeed
from .parse import NotAFeedError, parse_feed
from .sanitize import clean_message, safe_url

if TYPE_CHECKING:
    from .config import Settings
    from .store import Store

# How long a scheme-less URL's https attempt may take before plain http is tried.
HTTPS_PROBE_SECONDS = 5.0


class SubscribeError(Exception):
    """A URL that cannot be subscribed to, with a message for the user.

    The message is cleaned here (escapes, controls, bidi, credentials masked) because it
    quotes what servers and pages sent: every caller can print it as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(clean_message(message))


class GuessedURL(str):
    """A URL whose `https://` normalize_url added: discover may fall back to `http://`.

    A str, so callers that only store or print it need not know; discover checks the type.
    """

    @property
    def http(self) -> str:
        return "http://" + self.removeprefix("https://")


def normalize_url(text: str) -> str:
    """`example.com/feed` means https (or http, see discover); only http(s) URLs are accepted."""
    url = text.strip()
    if not url or any(c.isspace() for c in url):
        raise SubscribeError(f"not a URL: {text!r}")
    guessed = not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", url)
    if guessed:
        url = "https://" + url
    if not url.lower().startswith(("http://", "https://")):
        raise SubscribeError(f"only http and https feeds can be added, not {text!r}")
    if not safe_url(url):  # a port out of range, no host name, a control character
        raise SubscribeError(f"not a valid URL: {text!r} (check the host name and port)")
    return GuessedURL(url) if guessed else url


async def discover(
    url: str,
    options: FetchOptions = FetchOptions(),
    *,
    on_redirect: Callable[[str, str], None] | None = None,
    on_fallback: Callable[[str, str], None] | None = None,
) -> tuple[str, ParsedFeed, FetchResult]:
    """Fetch `url` once; return (feed URL, parsed feed, fetch result) for the feed it is or links.

    `on_redirect(page_url, feed_url)` is told when a web page pointed at its feed, and
    `on_fallback(https_url, http_url)` when a scheme-less URL only answered over plain http.
    Every request is bounded by `options.timeout` (see fetch), so at most three are made.
    """
    guessed = isinstance(url, GuessedURL)
    async with make_client(options) as client:
        # A guess is only a guess: a port that takes the connection but never speaks TLS
        # must not cost the whole timeout before plain http is tried.
        probe = replace(options, timeout=min(options.timeout, HTTPS_PROBE_SECONDS)) if guessed else options
        result = await fetch(client, url, options=probe)
        timed_out = result.status is None and (result.error or "").startswith("timed out")
        if result.error and guessed and (result.unreachable or timed_out):
            plain = await fetch(client, url.http, options=options)
            if plain.error:
                raise SubscribeError(
                    f"could not fetch {url} ({result.error}) nor {url.http} ({plain.error})"
                )
            if on_fallback is not None:
                on_fallback(str(url), url.http)
            url, result = url.http, plain
        for attempt in range(2):
            if result.error:
                raise SubscribeError(f"could not fetch {url}: {result.error}")
            assert result.body is not None
            try:
                return result.final_url, parse_feed(result.body, result.final_url, result.headers), result
            except NotAFeedError as exc:
                if not exc.links:
                    raise SubscribeError(f"{url} is {exc}") from None
                if attempt:
                    break
                if on_redirect is not None:
                    on_redirect(url, exc.links[0])
                url = exc.links[0]
            result = await fetch(client, url, options=options)
    raise SubscribeError(f"{url} is a web page that links another page, not a feed")


def store_checked_feed(
    store: Store, url: str, parsed: ParsedFeed, result: FetchResult, categories: Sequence[str], settings: Settings,
) -> tuple[int, list[int]]:
    """Subscribe to a feed `discover()` just fetched, and keep what that fetch brought, as a refresh would:
    its posts, the config's rules acting on them, and its next-due time. Returns (new posts, their ids).

    The one way `reader add` and the app's `a` store a new feed, so neither forgets a step.
    """
    from .rules import apply_rules

    store.add_feed(url, parsed.title, categories)
    new_ids: list[int] = []
    new, _ = store.save_parsed(url, parsed, etag=result.etag, last_modified=result.last_modified, new_ids=new_ids)
    if settings.rules and new_ids:
        apply_rules(store, settings.rules, new_ids)  # a hide rule hides from the first fetch on
    store.reschedule(
        url, FetchOptions.of(settings).schedule, parsed=True, feed_interval=parsed.interval, fresh_for=result.fresh_for
    )
    return new, new_ids
