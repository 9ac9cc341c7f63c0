"""The CLI's `reader schedule FEED [INTERVAL|auto]`: show or set a feed's own refresh interval.

FEED is named as `reader full-text` takes it (its URL or its id: cli_fulltext.find_feed). An
INTERVAL ("2h", "90m", "1d") replaces what reader/schedule.py works out for that feed, floor and
ceiling included; `auto` goes back to working it out.
"""

from __future__ import annotations

import argparse
import time

from .cli_fulltext import find_feed
from .config import format_duration, parse_duration
from .sanitize import clean_line, clean_message
from .schedule import MIN_EVERY, Policy, format_due


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
    p = sub.add_parser("schedule", help="show or set how often a feed is fetched by `refresh --due` and the app")
    p.add_argument("feed", help="the feed's URL (as `reader feeds` shows it) or its id")
    p.add_argument(
        "every", nargs="?", type=parse_every, metavar="INTERVAL|auto",
        help='e.g. "2h", "90m", "1d" (replaces the worked-out interval); auto: worked out again',
    )
    p.set_defaults(func=cmd_schedule)


AUTO = -1.0  # argparse's value for "auto" (None means no INTERVAL given: show)


def parse_every(text: str) -> float:
    """An interval of at least a minute, or AUTO for "auto"."""
    if text.strip().lower() == "auto":
        return AUTO
    seconds = parse_duration(text)
    if seconds is None or seconds < MIN_EVERY:
        raise argparse.ArgumentTypeError(
            f'the interval is a duration of a minute or more like "90m", "2h" or "1d", or auto; '
            f"not {clean_line(text, 40)!r}"
        )
    return seconds


def _policy(args: argparse.Namespace) -> Policy:
    settings = args.settings
    return Policy.of(settings.refresh_every, settings.refresh_floor, settings.refresh_ceiling)


def cmd_schedule(args: argparse.Namespace) -> int:
    from .cli import _store  # one way every command opens the cache

    store = _store(args)
    url = find_feed(store, args.feed)
    shown = clean_message(url, 2000)
    feed = store.get_feed(url)
    state = store.schedule_of(url)
    assert feed is not None and state is not None  # find_feed found it
    synced = " (a feed of the sync server: the server fetches it, so this applies only if the account goes)"
    now = time.time()
    if args.every is None:
        every, due, asked, failures = state
        if every is not None:
            how = f"every {format_duration(every)} (set; `reader schedule FEED auto` works it out again)"
        else:
            how = "auto"
            if feed.last_checked is not None and due is not None and due > feed.last_checked:
                how += f": every {format_duration(due - feed.last_checked)} after the last fetch"
            why = []
            if asked:
                why.append(f"the feed or its server asked {format_duration(asked)}")
            if failures:
                why.append(f"{failures} failed {'fetch' if failures == 1 else 'fetches'} in a row")
            if why:
                how += f" ({'; '.join(why)})"
        print(f"{how}; {format_due(due, now)}  {shown}" + (synced if feed.remote_id else ""))
        return 0
    every = None if args.every == AUTO else args.every
    due = store.set_every(url, every, _policy(args), now=now)
    said = f"every {format_duration(every)}" if every is not None else "auto"
    print(f"{said}: {shown} ({format_due(due, now)})" + (synced if feed.remote_id else ""))
    return 0
