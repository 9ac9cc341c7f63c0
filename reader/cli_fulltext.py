"""The CLI's full-article commands: `reader full-text FEED [on|off|auto]`, `reader fetch-article ID`.

Also what `reader add --full-text` and `reader show` use: `parse_mode`, `fetch_after_add`
and `article_error_note`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .sanitize import clean_line, clean_message
from .store import FULL_TEXT_MODES, ArticleRow, Store, StoreError

if TYPE_CHECKING:
    from .images.cache import ImageCache

MODE_HELP = "on: every post's article; auto (the default): posts that look truncated; off: none"


class FullTextCLIError(StoreError):
    """A one-line failure of these commands (a StoreError, so `main` reports it like the others)."""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the full-article commands to the CLI."""
    p = sub.add_parser("full-text", help="show or set a feed's full-article mode (on, off, auto)")
    p.add_argument("feed", help="the feed's URL (as `reader feeds` shows it) or its id")
    p.add_argument("mode", nargs="?", type=parse_mode, metavar="on|off|auto", help=MODE_HELP)
    p.set_defaults(func=cmd_full_text)

    p = sub.add_parser("fetch-article", help="fetch a post's full article now")
    p.add_argument("id", type=_post_id, metavar="ID")
    p.set_defaults(func=cmd_fetch_article)


def parse_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in FULL_TEXT_MODES:
        raise argparse.ArgumentTypeError(f"the mode is on, off or auto, not {clean_line(text, 40)!r}")
    return mode


def _post_id(text: str) -> int:
    from .cli import _post_id as post_id  # one parser of ids for every command

    return post_id(text)


def _store(args: argparse.Namespace) -> Store:
    from .cli import _store as store  # one way every command opens the cache

    return store(args)


def find_feed(store: Store, text: str) -> str:
    """The stored URL of the feed named by `text`: its URL as stored, as `reader add` would
    normalise it, or its id. FullTextCLIError when none."""
    from .subscribe import SubscribeError, normalize_url

    modes = store.full_text_modes()
    if text in modes:
        return text
    digits = text.strip()
    # An id past SQLite's 64-bit range names no feed (cutting its digits would name another one).
    if digits.isascii() and digits.isdigit() and int(digits) < 2**63:
        by_id = store.feed_url_of(int(digits))
        if by_id is not None:
            return by_id
    try:
        url = normalize_url(text)
    except SubscribeError:
        url = None
    if url in modes:
        return str(url)
    raise FullTextCLIError(f"not subscribed: {clean_message(text, 200)} (see: reader feeds)")


def cmd_full_text(args: argparse.Namespace) -> int:
    store = _store(args)
    url = find_feed(store, args.feed)
    shown = clean_message(url, 2000)
    if args.mode is None:
        print(f"{store.full_text_mode(url)}  {shown}")
        return 0
    store.set_full_text(url, args.mode)  # local only: the sync server has no such setting
    feed = store.get_feed(url)
    if feed is not None and feed.remote_id is not None:
        # `reader sync` brings this feed's posts, and the refresh's article stage never sees them.
        print(f"full text {args.mode}: {shown} (a feed of the sync server: its posts' articles are fetched "
              "only on demand, with f in the app or reader fetch-article)")
        return 0
    print(f"full text {args.mode}: {shown}" + _MODE_NOTE[args.mode])
    return 0


_MODE_NOTE = {
    "on": " (new posts' articles are fetched at each refresh)",
    "auto": " (the articles of new posts that look truncated are fetched at each refresh)",
    "off": " (no articles are fetched; those already fetched stay)",
}


def cmd_fetch_article(args: argparse.Namespace) -> int:
    from .articles import fetch_article_now
    from .fetch import FetchOptions

    store = _store(args)
    outcome = fetch_article_now(store, args.id, FetchOptions(timeout=args.settings.timeout))
    if outcome.status == "error":
        raise FullTextCLIError(outcome.line())
    print(outcome.line())
    return 0


def fetch_after_add(store: Store, url: str, new_ids: list[int], args: argparse.Namespace) -> str:
    """After `reader add` stored a feed's first posts: their articles, as a refresh would fetch
    them (by the feed's mode, at most one timeout in all). A line to print after the summary, or ""."""
    from .articles import fetch_articles
    from .fetch import FetchOptions

    images = image_cache(args)
    if not new_ids or (store.full_text_mode(url) == "off" and images is None):
        return ""
    outcomes = fetch_articles(store, new_ids, FetchOptions(timeout=args.settings.timeout), images=images)
    fetched = sum(o.status == "fetched" for o in outcomes)
    if not outcomes:
        return ""
    failed = len(outcomes) - fetched
    note = f"full articles: {fetched} fetched"
    return note + (f", {failed} could not be (reader show ID says why)" if failed else "")


def image_cache(args: argparse.Namespace) -> ImageCache | None:
    """The image cache a refresh fills (beside the SQLite file), or None with `images = false`."""
    from .config import data_dir
    from .images.cache import image_cache

    return image_cache(args.settings, data_dir(args.data_dir))


def article_error_note(article: ArticleRow | None) -> str:
    """The line `reader show` ends with when the post's full article could not be fetched."""
    if article is None or not article.error:
        return ""
    from .dates import format_time

    kept = " (the article fetched before is shown)" if article.html is not None else ""
    if article.html is None and article.retry_at is not None:
        # A passing failure: say so, or the reader would take the teaser for all there will be.
        when = format_time(article.retry_at)
        kept = f" (a refresh tries again from {when}; or now: reader fetch-article {article.entry_id})"
    return f"\nFull article: the last fetch failed: {clean_message(article.error)}{kept}\n"
