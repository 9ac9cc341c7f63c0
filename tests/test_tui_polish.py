"""Pilot regression tests for the acceptance run's app polish: feeds of one title and one host told
apart (sidebar and feed column), an empty list that says the next step, toasts clear of the status
line, and the add dialog's last-resort message."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static
from textual.widgets._toast import Toast
from tui_support import WIDE, add_synthetic, make_app, screen_text, settle, wait_for

from reader.feednames import qualifiers
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.screens.add_feed import AddFeedScreen
from reader.tui.widgets import sidebar as sidebar_module
from reader.tui.widgets.sidebar import Scope

pytestmark = [pytest.mark.usefixtures("utc")]

BASE = "http://127.0.0.1:18801/"
PATHS = ["ok", "etag", "gzip2", "deflateraw", "deflatez"]


def feed_scopes(app: ReaderApp) -> dict[str, str]:
    """Feed URL -> its sidebar label."""
    return {s.feed_url or "": s.label for s in app.sidebar._scopes.values() if s.kind == "feed"}


def visible_rows(app: ReaderApp) -> list[tuple[str, str]]:
    """(feed URL, the row as drawn) for each post on screen."""
    post_list = app.post_list
    rows = []
    for y in range(min(post_list.row_count, post_list.scrollable_content_region.height)):
        entry = post_list.get_row(post_list.scroll_offset.y + y)
        assert entry is not None
        rows.append((entry.feed_url, post_list.render_line(y).text))
    return rows




# --- 1: feeds of one title and one host --------------------------------------------------------


def test_polish_qualifiers_are_the_shortest_unique_part_of_each_url() -> None:
    # Five feeds of one host: the path tells them apart, the port is not needed.
    assert qualifiers((p, f"{BASE}{p}/") for p in PATHS) == {p: f"127.0.0.1/{p}" for p in PATHS}
    # A site's posts and comments feeds (WordPress): the first segment that differs.
    assert qualifiers([(1, "https://example.com/feed/"), (2, "https://example.com/comments/feed/")]) == {
        1: "example.com/feed", 2: "example.com/comments",
    }
    # Different hosts: the host alone, even when others share a host.
    assert qualifiers(
        [(1, "https://a.example/feed"), (2, "https://b.example/feed"), (3, "https://b.example/comments/feed")]
    ) == {1: "a.example", 2: "b.example/feed", 3: "b.example/comments"}
    # A path that is a prefix of another's, a port, a query; an invalid port still shows.
    named = qualifiers(
        [
            (1, "http://h.example/a"), (2, "http://h.example/a/b"), (3, "http://h.example/a?page=2"),
            (4, "http://h.example:99999/a"),
        ]
    )
    assert named == {1: "h.example/a", 2: "h.example/a/b", 3: "h.example/a?page=2", 4: "h.example:99999/a"}
    # Credentials are never shown, wherever they sit; the same URL twice is numbered.
    named = qualifiers(
        [
            (1, "https://alice:hunter2@x.example/feed"), (2, "https://bob:pw2@x.example/feed"),
            (3, "https://x.example/feed?via=https://carol:s3cret@y.example/&pad=" + "z" * 50), (4, "http://[::1"),
        ]
    )
    assert named[1] == "x.example/feed #1" and named[2] == "x.example/feed #2"
    assert not any(secret in label for label in named.values() for secret in ("hunter2", "pw2", "s3cret"))
    assert "carol:***@" in named[3]
    assert len(set(named.values())) == 4


def test_polish_qualifiers_stay_linear_for_many_feeds_of_one_title() -> None:
    # 20,000 feeds of one title on one host with deep paths: a trie, not pairwise comparisons.
    feeds = [(n, f"https://h.example/{'/'.join(['x'] * 30)}/{n}/feed") for n in range(20_000)]
    started = time.perf_counter()
    named = qualifiers(feeds)
    assert time.perf_counter() - started < 5
    assert len(set(named.values())) == 20_000


def test_polish_a_long_qualifier_keeps_its_end_and_the_count_in_a_sidebar_row() -> None:
    from rich.cells import cell_len

    from reader.tui.widgets.post_list import _fit_qualified
    from reader.tui.widgets.sidebar import _line

    suffix = " (" + "a" * 200 + ".example/comments)"
    row = _line("Blog" + suffix, 12, 30, indent=2, failed=True, suffix=suffix).plain
    assert cell_len(row) <= 30 and row.endswith("comments) ! 12") and "Blog" in row, row
    for width in (10, 18):
        cell = _fit_qualified("Blog", suffix, width)
        assert cell_len(cell) == width and cell.rstrip().endswith("s)"), cell


@pytest.mark.asyncio
async def test_polish_same_title_same_host_feeds_are_told_apart_in_sidebar_and_feed_column(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in PATHS:
        add_synthetic(store, f"{BASE}{path}/", 1, "T")
    add_synthetic(store, "https://user:hunter2@example.com/feed/", 1, "Example Blog")
    add_synthetic(store, "https://user:hunter2@example.com/comments/feed/", 1, "Example Blog")
    add_synthetic(store, "https://other.example/feed", 1, "Unique")
    store.set_meta("welcome_offered", "1")
    calls = 0
    real = sidebar_module.feed_labels

    def counting(feeds):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(feeds)

    monkeypatch.setattr(sidebar_module, "feed_labels", counting)
    app = make_app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        labels = feed_scopes(app)
        for path in PATHS:
            assert labels[f"{BASE}{path}/"] == f"T (127.0.0.1/{path})"
        assert labels["https://user:hunter2@example.com/feed/"] == "Example Blog (example.com/feed)"
        assert labels["https://user:hunter2@example.com/comments/feed/"] == "Example Blog (example.com/comments)"
        assert labels["https://other.example/feed"] == "Unique"  # no clash: no qualifier
        drawn = "\n".join(app.sidebar.rendered_lines())
        for path in PATHS:  # a row too narrow for the whole qualifier keeps its end: what differs
            assert f"/{path}) 1" in drawn
        # The feed column: each post says which of the same-titled feeds it is from.
        rows = visible_rows(app)
        assert len(rows) == 8
        for url, line in rows:
            if url.startswith(BASE):
                path = url.removeprefix(BASE).strip("/")
                assert path[-5:] in line and not any(p[-5:] in line for p in PATHS if p != path), line
            elif "comments" in url:
                assert "Exam… (…/comments)" in line
            elif "example.com/feed" in url:
                assert "Example… (…/feed)" in line  # 18 cells: cut, but not what differs
            else:
                assert "Unique" in line and "(" not in line.split("Unique")[1][:3]
        assert "hunter2" not in screen_text(app)
        # Computed once per load of the feeds, not on every rebuild (moving the scope about).
        loads = calls
        for scope in [Scope("unread", "Unread"), app.sidebar._scopes["all"]] * 2:
            app.set_scope(scope)
            await settle(pilot)
        assert calls == loads


# --- 2: an empty list says the next step -------------------------------------------------------


@pytest.mark.asyncio
async def test_polish_feeds_never_fetched_say_press_R_to_fetch_them(store: Store) -> None:
    # As after `reader import`: feeds subscribed, nothing fetched yet.
    for n in range(3):
        store.add_feed(f"https://imported{n}.example/feed", f"Imported {n}", [])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "No posts yet — press R to fetch your 3 feeds" in text
        assert "press a to add a feed" not in text


@pytest.mark.asyncio
async def test_polish_the_hint_says_fetching_while_a_refresh_runs(store: Store, feed_server) -> None:  # type: ignore[no-untyped-def]
    # While R runs, "press R" would be wrong; when it is done, the posts are there.
    store.add_feed(feed_server.url("slow/1500/blog-hong-kong.xml"), "Slow", [])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "press R to fetch your feed" in screen_text(app)
        await pilot.press("R")
        await pilot.pause(0.3)  # not settle(): that waits for the refresh itself
        assert "No posts yet — fetching your feeds…" in screen_text(app)
        deadline = time.monotonic() + 10
        while app.refreshing and time.monotonic() < deadline:
            await pilot.pause(0.1)
        await settle(pilot)
        assert "CloudFlare meetup in Hong Kong" in screen_text(app)


@pytest.mark.asyncio
async def test_polish_the_hint_follows_the_keymap(store: Store) -> None:
    store.add_feed("https://imported.example/feed", "Imported", [])
    app = make_app(store, keymap={"app.refresh": "f5"})
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "No posts yet — press f5 to fetch your feed" in screen_text(app)


@pytest.mark.asyncio
async def test_polish_a_filter_or_scope_matching_nothing_says_no_posts_match(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 3, "Has Posts")
    store.add_feed("https://b.example/feed", "Never Fetched", [])
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.post_list.row_count == 3
        await pilot.press("slash", *"nothing-matches-this")
        # Waited for, not settled: the filter's debounced loads cancel one another.
        await wait_for(pilot, lambda: app.post_list.row_count == 0 and "No posts match" in screen_text(app))
        assert "press" not in app.post_list.empty_text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.post_list.row_count == 3)
        # A feed with no posts yet (while others have some): fetch it, not "no match".
        never = next(s for s in app.sidebar._scopes.values() if s.label == "Never Fetched")
        app.set_scope(never)
        await wait_for(pilot, lambda: app.post_list.row_count == 0)
        await wait_for(pilot, lambda: "No posts yet from this feed — press R to fetch it" in screen_text(app))
        store.record_error("https://b.example/feed", "HTTP 404")
        app.refresh_counts()
        await wait_for(pilot, lambda: "its last refresh failed (e for details)" in screen_text(app))


# --- 3: toasts stand above the status line ------------------------------------------------------


@pytest.mark.parametrize("size", [WIDE, (80, 24)])
@pytest.mark.asyncio
async def test_polish_a_toast_never_covers_the_status_line_or_footer(store: Store, size: tuple[int, int]) -> None:
    add_synthetic(store, "https://a.example/feed", 1, "One")
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        app.notify("That was the last post.", markup=False, timeout=30)
        await settle(pilot)
        toasts = list(app.screen.query(Toast))
        assert toasts, "the toast is shown"
        status = app.status_bar.region
        footer = app.screen.query_one("ReaderFooter").region
        for toast in toasts:
            assert toast.region.area and not toast.region.overlaps(status), (toast.region, status)
            assert not toast.region.overlaps(footer)
        # The status line is drawn whole, not cut by the toast ("re▌").
        lines = screen_text(app).splitlines()
        assert "? help" in lines[status.y] or "refresh" in lines[status.y]
        assert lines[status.y].rstrip() == app.status_bar.plain.rstrip()


# --- 4: the add dialog's last resort ------------------------------------------------------------


@pytest.mark.asyncio
async def test_polish_an_unexpected_exception_in_the_add_dialog_is_a_sentence(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reader.subscribe

    async def overflowing_discover(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OverflowError("Python int too large to convert to C int")

    monkeypatch.setattr(reader.subscribe, "discover", overflowing_discover)
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    url = "https://feeds.example/feed.xml"
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddFeedScreen)
        await pilot.press(*url, "enter")

        def status() -> str:
            return str(app.screen.query_one("#add-status", Static).render())

        await wait_for(pilot, lambda: "Checking" not in status() and status().strip())
        assert status().strip() == (
            f"Could not add {url}: the feed could not be read (unexpected OverflowError; please report it)"
        )
        assert "too large to convert" not in screen_text(app)
        assert not app.screen.query_one("#add").disabled  # ready for another try
        assert store.get_feed(url) is None


def test_polish_feeds_differing_only_in_their_query_keep_that_difference_in_a_narrow_column() -> None:
    # The second acceptance run: `?category=…-science&format=rss` beside `?category=…-sports&format=rss`
    # both showed as `(…&format=r…)` in the post list and `reader entries`.
    from reader.feednames import shorten_suffix

    base = "https://x.example/x/feed.xml?category=technology-and-{}&format=rss"
    names = qualifiers([(1, base.format("science")), (2, base.format("sports"))])
    assert names == {1: "x.example/x/feed.xml?category=technology-and-science",
                     2: "x.example/x/feed.xml?category=technology-and-sports"}
    narrow = {key: shorten_suffix(f" ({name})", 14) for key, name in names.items()}
    assert narrow[1] != narrow[2] and "format" not in narrow[1] + narrow[2]
