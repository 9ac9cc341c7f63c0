"""Issue 10, full articles in the app: `f` fetches the open post's article now (in a worker),
`t` toggles between the article and the feed's text. Pilot against a real cache and a real
loopback site."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from article_server import ArticleSite, Item, self_contained_pages
from rich.console import Console
from tui_support import WIDE, make_app, settle, wait_for

from reader.parse import parse_feed
from reader.store import Store
from reader.tui.app import ReaderApp

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("utc")]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ArticleSite]:
    with ArticleSite(tmp_path / "site", self_contained_pages(2)) as running:
        running.write_feed([
            Item("Teaser one", "/pages/story-0.html"),
            Item("Slow one", "/slow/20000/pages/story-1.html"),
            Item("No link", "javascript:void(0)"),
        ])
        yield running


def _subscribe(store: Store, site: ArticleSite) -> None:
    """The feed stored through the core, no articles yet (as after a refresh with full text off)."""
    store.add_feed(site.feed_url, "Teasers")
    body = (site.root / "feed.xml").read_bytes()
    store.save_parsed(site.feed_url, parse_feed(body, site.feed_url))


def body_text(app: ReaderApp) -> str:
    post = app.reading_pane.post
    assert post is not None
    console = Console(width=100, record=True, file=open("/dev/null", "w"))
    console.print(post.header)
    for line in post.lines:
        console.print(line.text)
    return console.export_text()


def messages(app: ReaderApp) -> list[str]:
    return [n.message for n in app._notifications]


async def _open(pilot, app: ReaderApp, title: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    for _ in range(app.post_list.row_count):
        if app.post_list.current_entry.title == title:  # type: ignore[union-attr]
            break
        await pilot.press("j")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.reading_pane.post is not None and app.reading_pane.post.entry.title == title)


async def test_f_fetches_the_article_and_t_toggles_feed_text(store: Store, site: ArticleSite) -> None:
    _subscribe(store, site)
    app = make_app(store, images=False)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await _open(pilot, app, "Teaser one")
        assert "They stop here" in body_text(app)
        await pilot.press("t")  # nothing to toggle to yet
        assert "This post has no full article: f fetches it." in messages(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: any(m.startswith("Fetched the article (") for m in messages(app)))
        await wait_for(pilot, lambda: app.reading_pane.post is not None and app.reading_pane.post.shown == "article")
        text = body_text(app)
        assert "articleword0" in text and "Full article · t: feed text" in text
        assert app.reading_pane.post.entry.title == "Teaser one"  # still open  # type: ignore[union-attr]
        await pilot.press("t")
        await wait_for(pilot, lambda: app.reading_pane.post.shown == "feed")  # type: ignore[union-attr]
        assert "They stop here" in body_text(app) and "articleword0" not in body_text(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: app.reading_pane.post.shown == "article")  # type: ignore[union-attr]
        assert "articleword0" in body_text(app)
    # Stored: the next opening (and `reader show`) has it offline.
    entry_id = store.db.execute("SELECT id FROM entries WHERE title = 'Teaser one'").fetchone()[0]
    assert store.get_entry(entry_id).article  # type: ignore[union-attr]


async def test_f_without_an_http_link_says_so(store: Store, site: ArticleSite) -> None:
    _subscribe(store, site)
    app = make_app(store, images=False)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await _open(pilot, app, "No link")
        await pilot.press("f")
        await wait_for(pilot, lambda: any("no http(s) link" in m for m in messages(app)))
    assert site.count(".html") == 0


async def test_f_never_blocks_the_ui_and_quitting_does_not_wait(store: Store, site: ArticleSite) -> None:
    _subscribe(store, site)
    app = make_app(store, images=False)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await _open(pilot, app, "Slow one")
        started = time.monotonic()
        await pilot.press("f")  # the page takes 20 s
        await pilot.press("k")  # keys still work at once
        assert time.monotonic() - started < 1.0
        await wait_for(pilot, lambda: site.count("story-1.html") == 1)
        started = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started < 2.0
