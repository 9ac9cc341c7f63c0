"""Pilot tests: every key of the app against a real SQLite cache filled through the core."""

from __future__ import annotations

import asyncio
import sqlite3
import webbrowser
from pathlib import Path

import pytest
from rich.console import Console
from tui_support import NARROW, SEED_URL, WIDE, add_synthetic, fill, make_app, screen_text, settle

from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.screens.category_picker import CategoryPicker
from reader.tui.screens.confirm import ConfirmScreen
from reader.tui.screens.errors import ErrorsScreen
from reader.tui.screens.help import HelpScreen

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("utc")]


def titles(app: ReaderApp) -> list[str]:
    posts = app.post_list
    return [posts.get_row(i).title for i in range(posts.row_count)]


def body_text(app: ReaderApp) -> str:
    post = app.reading_pane.post
    assert post is not None
    console = Console(width=100, record=True, file=open("/dev/null", "w"))
    console.print(post.header)
    console.print(post.body)
    return console.export_text()


async def test_startup_lists_everything_from_the_cache(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.post_list.row_count == 9
        text = screen_text(app)
        assert "CloudFlare meetup in Hong Kong" in text
        assert "Today's Outage Post Mortem" in text
        assert "9 shown" in text and "refreshed 2025-11-24 16:00" in text
        # The sidebar: All, Unread, Starred, then categories with their feeds.
        assert "The Cloudflare Blog" in text and "Blogs" in text and "Starred" in text


async def test_brand_new_cache_gets_the_welcome_feed(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.post_list.row_count > 0
        assert "Welcome to reader" in screen_text(app)


async def test_moving_keys(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        posts = app.post_list
        await pilot.press("j", "j", "down")
        assert posts.cursor == 3
        await pilot.press("k", "up")
        assert posts.cursor == 1
        await pilot.press("G")
        assert posts.cursor == 8
        await pilot.press("g")
        assert posts.cursor == 0


async def test_enter_opens_the_post_and_escape_goes_back(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("G", "enter")
        await settle(pilot)
        post = app.reading_pane.post
        assert post is not None and post.entry.title.startswith("CloudFlare is Now Part")
        assert app.reading_pane.display and not app.post_list.display  # the pane takes the screen
        text = body_text(app)
        assert "](#" not in text and "Hong Kong" in text and "Links" in text
        await pilot.press("escape")
        assert app.post_list.display and app.focused is app.post_list
        assert app.post_list.cursor == 8


async def test_space_pages_then_moves_to_the_next_post(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("space")  # nothing open: opens the post under the cursor
        await settle(pilot)
        pane = app.reading_pane
        first = pane.post.entry.id
        assert pane.max_scroll_y > 0
        await pilot.press("space")
        await pilot.pause()
        assert pane.scroll_y > 0
        for _ in range(20):
            if pane.at_end:
                break
            await pilot.press("space")
            await pilot.pause()
        await pilot.press("space")
        await settle(pilot)
        assert pane.post.entry.id != first and app.post_list.cursor == 1


async def test_next_and_previous_unread(filled: Store) -> None:
    ids = filled.entry_ids()
    filled.set_flag(ids[1:4], "read", True)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("n")  # the post under the cursor is unread and not open yet
        await settle(pilot)
        assert app.post_list.cursor == 0 and app.reading_pane.post.entry.id == ids[0]
        await pilot.press("n")
        await settle(pilot)
        assert app.post_list.cursor == 4 and app.reading_pane.post.entry.id == ids[4]
        await pilot.press("p")
        await settle(pilot)
        assert app.post_list.cursor == 0


async def test_r_toggles_read(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        entry_id = app.post_list.current_entry.id
        await pilot.press("r")
        assert filled.get_entry(entry_id).read and app.post_list.current_entry.read
        await pilot.press("r")
        assert not filled.get_entry(entry_id).read


@pytest.mark.parametrize(("after", "expect_read"), [(0.0, True), (-1.0, False)])
async def test_opening_marks_read_per_config(filled: Store, after: float, expect_read: bool) -> None:
    app = make_app(filled, mark_read_after=after)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        entry_id = app.post_list.current_entry.id
        await pilot.press("enter")
        await settle(pilot)
        await asyncio.sleep(0.05)
        await pilot.pause()
        assert filled.get_entry(entry_id).read is expect_read


async def test_s_toggles_star(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        entry_id = app.post_list.current_entry.id
        await pilot.press("s")
        assert filled.get_entry(entry_id).starred and app.post_list.current_entry.starred
        await settle(pilot)
        assert "1 ★" in screen_text(app)
        await pilot.press("s")
        assert not filled.get_entry(entry_id).starred


async def test_o_and_digits_open_only_http_links(filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G", "o")
        await settle(pilot)
        assert opened == [app.post_list.current_entry.link]
        await pilot.press("enter")
        await settle(pilot)
        links = app.reading_pane.post.links
        assert links
        await pilot.press("1")
        await settle(pilot)
        assert opened[-1] == links[0]
        await pilot.press("9")  # no such link: nothing opens
        await settle(pilot)
        assert len(opened) == 2
        assert all(url.startswith(("http://", "https://")) for url in opened)


async def test_y_copies_the_url(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G", "y")
        assert app.clipboard.startswith("https://blog.cloudflare.com/")


async def test_filter_bar(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"category:BGP")
        await asyncio.sleep(0.3)  # the debounce
        await settle(pilot)
        assert titles(app) == ["Today's Outage Post Mortem"]
        await pilot.press("enter")
        assert app.focused is app.post_list
        await pilot.press("slash", "ctrl+u")
        await pilot.press(*"is:bogus")
        await pilot.pause()
        assert "is:bogus is not known" in screen_text(app)
        await pilot.press("escape")
        await asyncio.sleep(0.3)
        await settle(pilot)
        assert app.query_text == "" and app.post_list.row_count == 9
        assert not app.filter_bar.has_class("-visible")


async def test_category_picker(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CategoryPicker)
        await pilot.press(*"bgp")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_text == "category:BGP"
        assert titles(app) == ["Today's Outage Post Mortem"]
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"hong kong", "enter")
        await settle(pilot)
        assert app.query_text == 'category:"Hong Kong"' and app.post_list.row_count == 3


async def test_u_toggles_unread_only(filled: Store) -> None:
    filled.set_flag(filled.entry_ids()[:2], "read", True)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert app.post_list.row_count == 7 and "unread only" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert app.post_list.row_count == 9


async def test_mark_all_read(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("A")  # 9 posts: no question
        await settle(pilot)
        assert filled.counts()[1] == 0


async def test_mark_all_read_asks_above_fifty(filled: Store) -> None:
    add_synthetic(filled, "https://synthetic.invalid/feed", 60)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert filled.counts()[1] == 69
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert filled.counts()[1] == 0


async def test_refresh_in_the_background_keeps_the_cursor(store: Store, feed_server) -> None:
    fill(store, seed=False)
    url = feed_server.url("blog-hong-kong.xml")
    broken = feed_server.url("status/404/gone.xml")
    store.add_feed(url)
    store.add_feed(broken, "Broken feed")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        keep = app.post_list.current_entry.id
        await pilot.press("R")
        for _ in range(100):
            await settle(pilot)
            if not app.refreshing:
                break
            await asyncio.sleep(0.05)
        await settle(pilot)
        assert app.post_list.row_count == 9
        assert app.post_list.current_entry.id == keep  # new posts did not move the cursor
        assert [o.url for o in app.last_failed] == [broken]
        assert any("Press e for the errors" in n.message for n in app._notifications)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ErrorsScreen)
        assert "404" in screen_text(app)
        await pilot.press("escape")


async def test_add_feed_dialog_validates(store: Store, feed_server) -> None:
    fill(store, seed=False)
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#add-url").value = feed_server.url("plain.html")
        await pilot.press("enter")  # Enter in the URL field adds the feed
        await settle(pilot)
        assert "plain.html is" in screen_text(app)  # the error, inline; the dialog stays
        assert len(store.list_feeds()) == 1
        app.screen.query_one("#add-url").value = feed_server.url("blog-hong-kong.xml")
        app.screen.query_one("#add-categories").value = "Blogs"
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        feeds = {f.url: f for f in store.list_feeds()}
        assert feeds[feed_server.url("blog-hong-kong.xml")].categories == ["Blogs"]
        assert app.post_list.row_count == 9


async def test_d_removes_the_feed_after_asking(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert filled.get_feed(SEED_URL) is not None
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert filled.get_feed(SEED_URL) is None
        assert app.post_list.row_count == 6


async def test_help_screen_and_command_palette(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=(140, 100)) as pilot:  # tall: every section of the help on one screen
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for needle in ("app.refresh", "post_list.down", "Mark all read", "Open link N"):
            assert needle in text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"refresh all")
        await pilot.pause(0.3)
        assert "Refresh all feeds" in screen_text(app)


async def test_sidebar_scopes_with_keys_and_mouse(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.sidebar.focus()
        await pilot.press("j", "j", "enter")  # Starred
        await settle(pilot)
        assert app.scope.kind == "starred" and app.post_list.row_count == 0
        app.sidebar.focus()
        await pilot.press("j", "enter")  # the "Blogs" category
        await settle(pilot)
        assert app.scope.label == "Blogs" and app.post_list.row_count == 3
        # The mouse: click the first row of the list to open it.
        await pilot.click("#posts", offset=(20, 0))
        await settle(pilot)
        assert app.reading_pane.post.entry.title == "CloudFlare meetup in Hong Kong"


async def test_keys_rebind_from_config(filled: Store, tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[keys]\n"app.toggle_star" = "x"\n"post_list.down" = "j,ctrl+n"\n')
    from reader.config import load_settings

    settings = load_settings()
    app = ReaderApp(filled, settings)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        assert app.post_list.cursor == 1
        entry_id = app.post_list.current_entry.id
        await pilot.press("x")
        assert filled.get_entry(entry_id).starred
        await pilot.press("s")  # no longer bound
        assert filled.get_entry(entry_id).starred


async def test_theme_persists(filled: Store, tmp_path: Path) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await pilot.pause()
    from reader.config import load_settings

    assert load_settings().theme == "nord"


async def test_resize_keeps_the_place(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "enter")
        await settle(pilot)
        assert app.sidebar.display
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        await pilot.pause()
        assert app.focused is app.reading_pane
        assert app.narrow and not app.sidebar.region and app.reading_pane.region
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert app.post_list.cursor == 3 and app.reading_pane.post.entry.id == app.post_list.current_entry.id
        assert app.sidebar.region and app.post_list.region


async def test_q_quits(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_d_in_the_sidebar_removes_the_highlighted_feed(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.sidebar.focus()
        await pilot.press("j", "j", "j", "j")  # Unread, Starred, Blogs, then its feed
        assert app.sidebar.highlighted_scope.feed_url == SEED_URL
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert filled.get_feed(SEED_URL) is None
        assert "The Cloudflare Blog" not in screen_text(app)


async def test_a_failing_background_job_becomes_a_notification(filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)

        def broken(*args: object, **kwargs: object) -> list[int]:
            raise sqlite3.OperationalError("attempt to write a readonly database")

        monkeypatch.setattr(filled, "entry_ids", broken)
        await pilot.press("u")  # reloads the list in a worker, which now fails
        await asyncio.sleep(0.2)
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("read-only" in m and "reader.sqlite" in m for m in messages), messages
        assert app.is_running  # (a damaged cache instead exits: tests/test_tui_app_issue8.py)


async def test_posts_from_another_process_appear(filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import reader.tui.app as app_module

    monkeypatch.setattr(app_module, "EXTERNAL_CHANGE_POLL", 0.2)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        keep = app.post_list.current_entry
        assert app.post_list.row_count == 9
        # A `reader refresh` from cron, in another connection (another thread stands in for the process).
        other = Store(filled.path)
        add_synthetic(other, "https://cron.example/feed", 3, "Cron")
        other.close()
        await asyncio.sleep(0.6)
        await settle(pilot)
        assert app.post_list.row_count == 12
        assert app.post_list.current_entry is not None and app.post_list.current_entry.id == keep.id


async def test_quitting_during_a_refresh_is_prompt(store: Store, feed_server, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import reader.refresh

    finished: list[float] = []
    real_refresh = reader.refresh.refresh

    def recording_refresh(*args, **kwargs):  # the real refresh, timed
        try:
            return real_refresh(*args, **kwargs)
        finally:
            finished.append(time.monotonic())

    monkeypatch.setattr(reader.refresh, "refresh", recording_refresh)
    store.add_feed(feed_server.url("slow/20000/atom.xml"))
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await asyncio.sleep(0.3)
        assert app.refreshing
        quit_at = time.monotonic()
        await pilot.press("q")
    deadline = time.monotonic() + 10
    while not finished and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    # The refresh itself ended, not just the app: not the 20 s the server takes to answer.
    assert finished and finished[0] - quit_at < 3


@pytest.mark.parametrize(("typed", "found"), [
    ("fetch full", "Fetch full article"), ("feed text", "Article / feed text"),
    ("play encl", "Play enclosure"), ("download encl", "Download enclosure"),
])
async def test_issue10_the_palette_has_the_article_and_enclosure_actions(filled: Store, typed: str, found: str) -> None:
    app = make_app(filled)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*typed)
        await pilot.pause(0.3)
        assert found in screen_text(app)
