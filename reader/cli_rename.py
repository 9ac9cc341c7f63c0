"""The CLI's `reader rename FEED TITLE...` and `reader rename FEED --reset`: a feed's title of your own.

A title set here is kept by every refresh (the feed's own title no longer replaces it);
`--reset` goes back to the feed's own from its next fetch. FEED is named as `reader full-text`
takes it (cli_fulltext.find_feed: its URL or its id).
"""

from __future__ import annotations

import argparse

from .cli_fulltext import find_feed
from .sanitize import clean_message


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `rename` to the CLI."""
    p = sub.add_parser("rename", help="give a feed a title of your own (kept by refreshes), or --reset it")
    p.add_argument("feed", help="the feed's URL (as `reader feeds` shows it) or its id")
    p.add_argument("title", nargs="*", help="the new title (words are joined by spaces)")
    p.add_argument("--reset", action="store_true", help="the feed's own title again, from its next fetch")
    p.set_defaults(func=cmd_rename)


def cmd_rename(args: argparse.Namespace) -> int:
    from .cli import CLIError, _store

    title = " ".join(args.title)
    if args.reset == bool(title):
        raise CLIError("give either a new title or --reset (e.g. reader rename 3 LWN headlines)")
    store = _store(args)
    url = find_feed(store, args.feed)
    store.set_feed_title(url, None if args.reset else title)  # StoreError (an empty title) is one line
    feed = store.get_feed(url)
    assert feed is not None
    if args.reset:
        print(f"{clean_message(url, 2000)}: its own title from its next refresh (now: {feed.display_title})")
    else:
        print(f"{clean_message(url, 2000)}: now titled {feed.display_title!r}; refreshes keep it")
    return 0
