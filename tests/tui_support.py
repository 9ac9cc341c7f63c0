"""Helpers for the app's pilot and snapshot tests: a cache filled through the core."""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from reader.config import Settings
from reader.models import ParsedEntry, ParsedFeed
from reader.parse import parse_feed
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.welcome import offer_welcome

DATA = Path(__file__).parent / "data"
WIDE = (140, 40)
NARROW = (80, 24)
SEED_URL = "http://seed.invalid/blog-hong-kong.xml"
FIXED_CHECK = 1_764_000_000.0  # 2025-11-24 16:00 UTC: a stable "last refresh" for snapshots


def fill(store: Store, *, welcome: bool = True, seed: bool = True) -> None:
    if welcome:
        offer_welcome(store)
    if seed:
        store.add_feed(SEED_URL, "", ["Blogs"])
        store.save_parsed(SEED_URL, parse_feed((DATA / "blog-hong-kong.xml").read_bytes(), SEED_URL))
    store.db.execute("UPDATE feeds SET last_checked = ?, last_updated = ?", (FIXED_CHECK, FIXED_CHECK))


def add_synthetic(store: Store, url: str, count: int, title: str = "Synthetic", categories=()) -> None:
    store.add_feed(url, title, list(categories))
    entries = [
        ParsedEntry(
            key=f"{url}#{i}", title=f"Synthetic post {i}", link=f"https://example.com/{i}", author="Bot",
            published=1_600_000_000.0 - i * 3600, categories=[], content=f"<p>Body {i}</p>", base_url=None,
        )
        for i in range(count)
    ]
    store.save_parsed(url, ParsedFeed(title, "https://example.com/", entries))


def make_app(store: Store, **settings: object) -> ReaderApp:
    values = {"mark_read_after": -1.0, **settings}
    app = ReaderApp(store, Settings(**values))  # type: ignore[arg-type]
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their results land.

    A worker cancelled while this waits is no failure: an exclusive list load or count superseded by
    a newer one (a reload landing as a feed is added, a refresh's reloads), which the next round waits for.
    """
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def screen_text(app: ReaderApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Pause until `condition()` holds (AssertionError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def paragraph_at_top(app: ReaderApp, pattern: str, default: int) -> int:
    """The number (`pattern`'s group 1) of the paragraph the reading pane's top visible line
    belongs to, or `default` above the first one."""
    pane = app.reading_pane
    post = pane.post
    assert post is not None
    line = int(pane.scroll_y) - pane._body_top
    assert 0 <= line < len(post.lines), (pane.scroll_y, pane._body_top)
    for index in range(line, -1, -1):
        found = re.search(pattern, post.lines[index].text)
        if found:
            return int(found.group(1))
    return default


def add_post(store: Store, content: str, link: str = "https://long.invalid/1", title: str = "A long post") -> None:
    """One post with this HTML body, in a feed of its own, dated so it tops the list."""
    url = "https://long.invalid/feed"
    store.add_feed(url, "Long")
    store.save_parsed(url, ParsedFeed("Long", "https://long.invalid/", [ParsedEntry(
        key="long", title=title, link=link, author="", published=2_000_000_000.0,
        categories=[], content=content, base_url=None,
    )]))
