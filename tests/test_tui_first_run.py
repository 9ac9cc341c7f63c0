"""Pilot tests for a new user's first-run report: each test is one reported problem, fixed."""

from __future__ import annotations

import asyncio

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input
from tui_support import NARROW, SEED_URL, WIDE, add_synthetic, fill, make_app, screen_text, settle

from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.screens.add_feed import AddFeedScreen
from reader.tui.screens.category_picker import CategoryPicker
from reader.tui.screens.confirm import ConfirmScreen
from reader.tui.screens.help import HelpScreen
from reader.tui.widgets.sidebar import ALL

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("utc")]


def messages(app: ReaderApp) -> list[str]:
    return [n.message for n in app._notifications]


def sidebar_index(app: ReaderApp, kind: str, label: str) -> int:
    sidebar = app.sidebar
    for index in range(sidebar.option_count):
        scope = sidebar._scopes.get(sidebar.get_option_at_index(index).id or "")
        if scope is not None and scope.kind == kind and scope.label == label:
            return index
    raise AssertionError(f"no {kind} {label!r} in the sidebar")


def sidebar_row(app: ReaderApp, index: int) -> str:
    return str(app.sidebar.get_option_at_index(index).prompt)


async def choose_in_sidebar(pilot, app: ReaderApp, kind: str, label: str) -> None:
    app.sidebar.focus()
    app.sidebar.highlighted = sidebar_index(app, kind, label)
    await pilot.press("enter")
    await settle(pilot)


# 1 ---------------------------------------------------------------------------------------


async def test_n_and_p_open_the_unread_post_under_the_cursor(filled: Store) -> None:
    ids = filled.entry_ids()
    app = make_app(filled)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")  # first run: the first post, under the cursor, is unread
        await settle(pilot)
        assert app.reading_pane.post.entry.id == ids[0] and app.post_list.cursor == 0
        await pilot.press("n")  # it is open now: on to the next one
        await settle(pilot)
        assert app.reading_pane.post.entry.id == ids[1]

    # The only unread post, under the cursor: n reaches it, and so does p.
    filled.set_flag(ids, "read", True)
    filled.set_flag([ids[3]], "read", False)
    for key in ("n", "p"):
        app = make_app(filled)
        async with app.run_test(size=WIDE, notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("j", "j", "j", key)
            await settle(pilot)
            assert app.reading_pane.post is not None and app.reading_pane.post.entry.id == ids[3]
            assert not any("No more unread" in m for m in messages(app))
            await pilot.press(key)  # now it is open: nothing more that way
            await settle(pilot)
            assert app.reading_pane.post.entry.id == ids[3]
            assert any("No more unread" in m for m in messages(app))


# 2 ---------------------------------------------------------------------------------------


async def test_picking_a_category_shows_all_of_it_whatever_the_scope(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await choose_in_sidebar(pilot, app, "feed", "Welcome to reader")
        assert app.scope.kind == "feed"
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"hong kong", "enter")
        await settle(pilot)
        assert app.query_text == 'category:"Hong Kong"'
        assert app.scope == ALL and app.post_list.row_count == 3  # what the picker counted
        assert app.sidebar.highlighted_scope == ALL
        assert sidebar_row(app, 0).startswith("▸ All")


# 3 ---------------------------------------------------------------------------------------


async def test_d_on_a_category_row_removes_nothing_and_the_question_counts_posts(filled: Store) -> None:
    starred = filled.entry_ids("e.feed_id = (SELECT id FROM feeds WHERE url = ?)", [SEED_URL])[0]
    filled.set_flag([starred], "starred", True)
    app = make_app(filled)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        app.sidebar.focus()
        app.sidebar.highlighted = sidebar_index(app, "category", "Blogs")
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "Select a feed in the sidebar, or a post, to remove its feed." in messages(app)
        app.sidebar.highlighted = 0  # All
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("j", "j", "j", "j")  # the feed under Blogs
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "Its 3 posts leave the cache." in text
        assert "1 starred post will be removed too." in text
        await pilot.press("n")
        assert filled.get_feed(SEED_URL) is not None


# 4 ---------------------------------------------------------------------------------------


async def test_enter_in_the_url_field_submits(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddFeedScreen)
        await pilot.press("enter")  # an empty URL: the dialog says so at once
        await pilot.pause()
        assert "Type the URL of a feed or of a site." in screen_text(app)
        assert app.focused is app.screen.query_one("#add-url", Input)


# 5 ---------------------------------------------------------------------------------------


async def test_failed_feeds_stay_marked_until_they_refresh(filled: Store) -> None:
    filled.record_error(SEED_URL, "HTTP 404 [bold]gone[/]")
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "1 feed failed (e for details)" in screen_text(app)
        row = app.sidebar.get_option_at_index(sidebar_index(app, "feed", "The Cloudflare Blog")).prompt.line(40)
        assert "The Cloudflare Blog !" in str(row)
        bang = str(row).index("!")
        assert any(span.start <= bang < span.end and "red" in str(span.style) for span in row.spans)
        filled.record_not_modified(SEED_URL, None, None)  # the next refresh worked
        app.refresh_counts()
        await settle(pilot)
        assert "failed" not in screen_text(app)
        assert "!" not in sidebar_row(app, sidebar_index(app, "feed", "The Cloudflare Blog"))


# 6 ---------------------------------------------------------------------------------------


async def test_long_feed_titles_stay_on_one_line(filled: Store) -> None:
    title = "An Extremely Long Feed Title That Goes On And On Well Past The Sidebar Width"
    add_synthetic(filled, "https://long.invalid/feed", 5, title=title, categories=["Zeta"])
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        width = app.sidebar.region.width
        lines = [line[:width] for line in screen_text(app).splitlines()]
        (row,) = [n for n, line in enumerate(lines) if "An Extremely" in line]
        assert "…" in lines[row] and lines[row].rstrip(" ▎▏▊▕│").endswith(" 5")  # the count stays
        assert "Title" not in lines[row + 1]  # no second line


# 7 ---------------------------------------------------------------------------------------


async def test_tab_skips_the_empty_reading_pane(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.focused is app.post_list
        await pilot.press("tab")
        assert app.focused is not app.reading_pane
        app.post_list.focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab")
        assert app.focused is app.reading_pane  # a post is open: worth a focus stop


async def test_sidebar_keys_stop_at_the_ends_and_mark_the_active_scope(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        sidebar = app.sidebar
        sidebar.focus()
        await pilot.press("k")
        assert sidebar.highlighted == 0  # no wrapping to the bottom
        await pilot.press("G")
        last = sidebar.option_count - 1
        assert sidebar.highlighted == last
        await pilot.press("j")
        assert sidebar.highlighted == last
        await pilot.press("g")
        assert sidebar.highlighted == 0
        await choose_in_sidebar(pilot, app, "category", "Blogs")
        sidebar.focus()
        await pilot.press("g")  # the cursor moves; the active scope stays marked
        blogs = sidebar_index(app, "category", "Blogs")
        assert sidebar_row(app, blogs).startswith("▸ Blogs")
        assert not sidebar_row(app, 0).startswith("▸")


# 8 ---------------------------------------------------------------------------------------


async def test_help_scrolls_with_j_k_g_G_and_space(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroller = app.screen.query_one(VerticalScroll)
        assert scroller.max_scroll_y > 0
        await pilot.press("j", "j")
        await pilot.pause()
        assert scroller.scroll_y == 2
        await pilot.press("k")
        await pilot.pause()
        assert scroller.scroll_y == 1
        await pilot.press("G")
        await pilot.pause()
        assert scroller.scroll_y == scroller.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert scroller.scroll_y == 0
        await pilot.press("space")
        await pilot.pause()
        # A page: as far as the view is tall (less a line or two kept for context), or to the end.
        assert scroller.scroll_y >= min(scroller.max_scroll_y, scroller.scrollable_content_region.height - 2)


# 9 ---------------------------------------------------------------------------------------


async def type_filter(pilot, text: str) -> None:
    await pilot.press("slash", *text)
    await asyncio.sleep(0.3)  # the debounce
    await pilot.press("enter")
    await settle(pilot)


async def test_escape_steps_back_one_visible_thing_at_a_time_wide(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await choose_in_sidebar(pilot, app, "category", "Blogs")
        await pilot.press("enter")
        await settle(pilot)
        await type_filter(pilot, "hong")
        assert app.query_text == "hong" and app.reading_pane.post is not None
        await pilot.press("escape")  # 1: the filter goes
        await settle(pilot)
        assert app.query_text == "" and not app.filter_bar.has_class("-visible")
        assert app.scope.label == "Blogs" and app.reading_pane.post is not None
        await pilot.press("escape")  # 2: back to All
        await settle(pilot)
        assert app.scope == ALL and app.post_list.row_count == 9 and app.reading_pane.post is not None
        assert app.sidebar.highlighted_scope == ALL
        await pilot.press("escape")  # 3: the open post closes
        await settle(pilot)
        assert app.reading_pane.post is None and app.focused is app.post_list


async def test_escape_steps_back_one_visible_thing_at_a_time_narrow(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await type_filter(pilot, "hong")
        await pilot.press("enter")
        await settle(pilot)
        assert not app.post_list.display
        await pilot.press("escape")  # 1: leave the post
        await settle(pilot)
        assert app.post_list.display and app.query_text == "hong"
        await pilot.press("escape")  # 2: the filter goes
        await settle(pilot)
        assert app.query_text == "" and app.post_list.row_count == 9


# 10 --------------------------------------------------------------------------------------


async def test_status_line_tells_shown_from_all(filled: Store) -> None:
    ids = filled.entry_ids()
    filled.set_flag(ids[:6], "read", True)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "9 shown (3 unread) · 3 unread of 9 in all" in screen_text(app)
        app.set_filter('category:"Hong Kong"')
        await settle(pilot)
        shown_unread = sum(1 for i in range(app.post_list.row_count) if not app.post_list.get_row(i).read)
        assert f"3 shown ({shown_unread} unread) · 3 unread of 9 in all" in screen_text(app)
        app.post_list.cursor = next(i for i in range(3) if not app.post_list.get_row(i).read)
        await pilot.press("r")  # counts follow a change of flags
        await settle(pilot)
        assert f"3 shown ({shown_unread - 1} unread) · 2 unread of 9 in all" in screen_text(app)


# 11 --------------------------------------------------------------------------------------


async def test_resizing_keeps_the_reading_position_proportional(store: Store) -> None:
    fill(store, seed=False)
    paragraph = " ".join(f"word{n}" for n in range(60))
    body = "".join(f"<p>{n}: {paragraph}</p>" for n in range(120))
    url = "https://long.invalid/feed"
    store.add_feed(url, "Long")
    store.save_parsed(url, ParsedFeed("Long", "https://long.invalid/", [ParsedEntry(
        key="long", title="A long post", link="https://long.invalid/1", author="", published=2_000_000_000.0,
        categories=[], content=body, base_url=None,
    )]))
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.post_list.current_entry.title == "A long post"
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        pane.scroll_to(y=pane.max_scroll_y // 2, animate=False, immediate=True)
        await pilot.pause()
        before = pane.scroll_y / pane.virtual_size.height
        await pilot.resize_terminal(*NARROW)
        for _ in range(5):
            await settle(pilot)
        after = pane.scroll_y / pane.virtual_size.height
        assert pane.post.width < 100  # laid out again for the narrow screen
        assert abs(after - before) < 0.02, (before, after)


# 12 --------------------------------------------------------------------------------------


async def test_category_picker_says_when_nothing_matches(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CategoryPicker)
        assert "No category matches" not in screen_text(app)
        await pilot.press(*"zzqqxx")
        await pilot.pause()
        assert "No category matches" in screen_text(app)
        await pilot.press("enter")  # nothing to pick: the picker stays
        await pilot.pause()
        assert isinstance(app.screen, CategoryPicker)
