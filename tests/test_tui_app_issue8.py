"""Pilot regression tests for issue 8's findings in the app's core (list, sidebar, status line, keys, lifecycle)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from textual import events
from tui_support import NARROW, WIDE, add_synthetic, fill, make_app, screen_text, settle, wait_for

from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.widgets.sidebar import Scope

pytestmark = [pytest.mark.usefixtures("utc")]

LONG = "An Extremely Long Feed Title That Never Fits In The Sidebar"


def sidebar_lines(app: ReaderApp) -> list[str]:
    return [line.replace("▸", " ").rstrip() for line in app.sidebar.rendered_lines()]




# --- item 1: the first screen -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_first_frame_sidebar_has_counts_and_failure_marks_for_long_names(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 3, LONG, ["News"])
    add_synthetic(store, "https://b.example/feed", 2, LONG + " Two", ["News"])
    add_synthetic(store, "https://c.example/feed", 4, "Short", ["Tech"])
    store.record_error("https://a.example/feed", "timed out")
    for n in range(40):  # more rows than the sidebar's height: it gets a scrollbar, and narrower rows
        add_synthetic(store, f"https://bulk{n}.example/feed", 1, f"Zulu {n:02}", ["Zulu"])
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        # The first frame after the counts land: no resize or count change in between.
        await wait_for(pilot, lambda: app.feeds)
        await pilot.pause()
        lines = sidebar_lines(app)
        long_rows = [line for line in lines if line.lstrip().startswith("An Extremely")]
        assert len(long_rows) == 2, lines
        assert long_rows[0].endswith("… ! 3"), long_rows  # the failed one: the mark and the count
        assert long_rows[1].endswith("… 2"), long_rows
        # A rule above each category, and nothing else on a separator line.
        rules = [line for line in lines if set(line.strip()) == {"─"}]
        assert len(rules) == 3, lines
        assert not any("!" in line and "An Extremely" not in line for line in lines), lines
        last_rule = max(i for i, line in enumerate(lines) if line in rules)
        assert lines[last_rule + 1].split() == ["Zulu", "40"]  # one line per row, nothing wrapped


# --- item 2: Space marks read -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_space_through_short_posts_marks_each_read(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 4, "Short posts")
    store.set_meta("welcome_offered", "1")
    app = make_app(store, mark_read_after=60.0)  # far longer than the time each is open
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("space")  # opens the first
        await settle(pilot)
        for _ in range(3):
            await pilot.press("space")  # each post fits: past its end, the next opens
            await settle(pilot)
        assert app.post_list.cursor == 3
        unread = store.unread_ids()
        rows = store.list_entries()
        assert [r.id in unread for r in rows] == [False, False, False, True]  # the last is still open
        await pilot.press("space")  # at the last post's end: it is read too
        await settle(pilot)
        assert store.counts()[1] == 0
        assert "0 unread of 4 in all" in app.status_bar.plain


# --- item 3: marks from another process -------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_marks_by_another_connection_show_and_toggles_act_on_stored_state(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reader.tui.app as app_module

    monkeypatch.setattr(app_module, "EXTERNAL_CHANGE_POLL", 0.1)
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        first = app.post_list.current_entry
        assert first is not None and not first.read and not first.starred
        other = Store(filled.path)  # another process: `reader mark` or a second app
        try:
            other.set_flag([first.id], "starred", True)
            other.set_flag([first.id], "read", True)
            await wait_for(pilot, lambda: app.post_list.current_entry.starred)
            await settle(pilot)
            row = app.post_list.current_entry
            assert row.read and row.starred
            assert "1 ★" in app.status_bar.plain
            # A stale row: the other process unstars again before the poll; the row still shows
            # a star and `s` means "unstar": it is so already, so the row is put right and the
            # app says why nothing changed (it doesn't star it again). The poll is paused, so
            # it can't put the row right first (then `s` would rightly star it).
            assert app.external_poll is not None
            app.external_poll.pause()
            other.set_flag([first.id], "starred", False)
            app.post_list.update_row(first.id, starred=True)  # as if the poll had not run yet
            await pilot.press("s")
            await settle(pilot)
            assert filled.entry_flags(first.id) == (True, False)
            assert not app.post_list.current_entry.starred
            assert "0 ★" in app.status_bar.plain
            assert "Already unstarred (changed elsewhere)" in [n.message for n in app._notifications]
        finally:
            other.close()


# --- item 4: n goes on to the next feed -------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_next_unread_goes_on_to_the_next_feed_with_unread(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 1, "Alpha")
    add_synthetic(store, "https://b.example/feed", 2, "Beta")
    add_synthetic(store, "https://c.example/feed", 2, "Gamma")
    store.set_meta("welcome_offered", "1")
    beta = store.get_feed("https://b.example/feed")
    assert beta is not None
    store.set_flag(store.entry_ids("e.feed_id = ?", [beta.id]), "read", True)
    app = make_app(store, mark_read_after=0.0)  # opened is read
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        alpha = store.get_feed("https://a.example/feed")
        assert alpha is not None
        app.set_scope(Scope("feed", "Alpha", alpha.id, alpha.url))
        await settle(pilot)
        await pilot.press("n")  # Alpha's one unread post
        await settle(pilot)
        await pilot.press("n")  # none left in Alpha: Beta has none, so Gamma
        await settle(pilot)
        assert app.scope.label == "Gamma"
        assert app.reading_pane.post is not None and app.reading_pane.post.entry.feed_title == "Gamma"
        messages = [n.message for n in app._notifications]
        assert "No more unread in Alpha; now in Gamma." in messages
        await pilot.press("n", "n")  # Gamma's second, then round to the start: none left anywhere
        await settle(pilot)
        assert "No more unread posts in Gamma." in [n.message for n in app._notifications]
        app.set_scope(Scope("all", "All"))
        await settle(pilot)
        app.post_list.cursor = app.post_list.row_count - 1
        app.open_post(app.post_list.current_entry)
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert "No more unread posts." in [n.message for n in app._notifications]


# --- item 5: one definition of a category's count ---------------------------------------------


@pytest.mark.asyncio
async def test_issue8_category_counts_agree_in_sidebar_list_and_picker(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 3, "Filed", ["Networking"])
    # A feed filed elsewhere whose posts tag themselves "networking" (another case).
    url = "https://b.example/feed"
    store.add_feed(url, "Tagged", ["Other"])
    entries = [
        ParsedEntry(key=f"b{i}", title=f"Tagged {i}", link=None, author="", published=1_600_000_000.0 - i,
                    categories=["networking"] if i < 2 else [], content="<p>x</p>", base_url=None)
        for i in range(4)
    ]
    store.save_parsed(url, ParsedFeed("Tagged", None, entries))
    store.set_meta("welcome_offered", "1")
    store.set_flag(store.entry_ids("e.title = 'Synthetic post 0'"), "read", True)
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        picker = {name.casefold(): (unread, total) for name, unread, total in store.category_counts()}
        assert picker["networking"] == (4, 5)  # 3 filed (1 read) + 2 tagged
        row = next(line for line in sidebar_lines(app) if line.strip().startswith("Networking"))
        assert row.split()[-1] == "4", row
        app.set_scope(Scope("category", "Networking", "Networking"))
        await settle(pilot)
        assert app.post_list.row_count == 5 and app.shown_unread == 4
        app.set_scope(Scope("category", "Other", "Other"))
        await settle(pilot)
        other = next(line for line in sidebar_lines(app) if line.strip().startswith("Other"))
        assert other.split()[-1] == str(app.shown_unread) == str(picker["other"][0]) == "4"


# --- item 6: layout ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_short_list_gives_the_rest_to_the_reading_pane(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 3, "Three")
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.post_list.size.height == 3
        assert app.reading_pane.size.height > WIDE[1] // 2


@pytest.mark.asyncio
async def test_issue8_status_line_drops_whole_parts_at_80_columns(filled: Store) -> None:
    filled.record_error("http://seed.invalid/blog-hong-kong.xml", "timed out")
    app = make_app(filled)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        line = app.status_bar.plain
        assert len(line) <= NARROW[0] and "…" not in line
        assert "9 shown (9 unread)" in line and "1 feed failed (e for details)" in line
        footer = screen_text(app).splitlines()[-1]
        assert "Quit" in footer and "Help" in footer
        # Every key label shown is whole: each description is one of the bindings'.
        descriptions = {b.description for b in app.all_bindings()} | {"palette", "Open"}
        words = [w for w in footer.replace("▏", " ").split("  ") if w.strip()]
        assert words and all(any(d in w for d in descriptions) for w in words), footer
        app.status_bar.progress(3, 67)
        await pilot.pause()
        assert "refreshing 3/67" in app.status_bar.plain


@pytest.mark.asyncio
async def test_issue8_repeated_space_at_the_last_post_shows_one_toast(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 1, "One")
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        for _ in range(5):
            await pilot.press("space")
        await settle(pilot)
        assert [n.message for n in app._notifications].count("That was the last post.") == 1


@pytest.mark.asyncio
async def test_issue8_every_toast_goes_through_the_cleaner(store: Store) -> None:
    # Item 1: whatever text a toast is handed (a server's reason phrase inside an error, a
    # URL with a password), the one notify funnel cleans it; markup stays literal.
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    hostile = (
        "HTTP 500 \x1b]52;c;aGVsbG8=\x07bad\x9b31m \u202egnp.exe\n"
        "see https://bob:s3cret@feeds.example/x [@click=app.quit]q[/]"
    )
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        app.notify(hostile, title="Refresh \x1b]0;pwned\x07", markup=False)
        await settle(pilot)
        shown = [(n.title, n.message) for n in app._notifications]
        assert len(shown) == 1
        title, message = shown[0]
        for text in (title, message, screen_text(app)):
            assert not any(c in text for c in "\x1b\x07\x9b\u202e"), repr(text)
            assert "s3cret" not in text
        assert "bob:***@feeds.example" in message and "[@click=app.quit]q[/]" in message
        assert app.is_running  # the markup did nothing


# --- item 7: duplicate titles, masked URLs, the empty cache ------------------------------------


@pytest.mark.asyncio
async def test_issue8_duplicate_titles_get_their_host_and_urls_are_masked(store: Store) -> None:
    add_synthetic(store, "https://one.example/feed", 1, "Same Title")
    add_synthetic(store, "https://two.example/feed", 1, "Same Title")
    secret = "https://alice:hunter2@private.example/feed"
    add_synthetic(store, secret, 2, "")  # no title: shown by its URL
    store.record_error(secret, "timed out")
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        labels = [scope.label for scope in app.sidebar._scopes.values()]
        assert "Same Title (one.example)" in labels and "Same Title (two.example)" in labels
        assert "https://alice:***@private.example/feed" in labels
        assert "alice:***@p" in "\n".join(sidebar_lines(app))
        assert "hunter2" not in screen_text(app)  # the sidebar, the list's feed column, the status line
        await pilot.press("e")  # the errors screen
        await pilot.pause()
        assert "alice:***@" in screen_text(app) and "hunter2" not in screen_text(app)
        await pilot.press("escape")
        app.post_list.cursor = next(
            i for i in range(app.post_list.row_count) if app.post_list.get_row(i).feed_url == secret
        )
        await pilot.press("d")  # the remove question names the feed and its URL
        await pilot.pause()
        assert "alice:***@" in screen_text(app) and "hunter2" not in screen_text(app)


@pytest.mark.asyncio
async def test_issue8_empty_cache_says_how_to_add_a_feed(store: Store) -> None:
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "No posts yet — press a to add a feed" in screen_text(app)


# --- item 8: crashes ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_year_one_date_in_the_filter_bar_is_an_error_not_a_crash(filled: Store) -> None:
    from textual.widgets import Static

    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"since:0001-01")
        await asyncio.sleep(0.3)
        await settle(pilot)
        assert app.is_running and app.post_list.row_count == 9  # year 1: everything is since then
        await pilot.press(*["backspace"] * 7, *"0000-01")  # no year 0: an error under the bar
        await asyncio.sleep(0.3)
        await settle(pilot)
        error = app.query_one("#filter-error", Static)
        assert app.is_running and error.has_class("-visible") and "0000-01" in str(error.render())
        assert app.post_list.row_count == 9  # the list is kept


@pytest.mark.asyncio
async def test_issue8_q_then_a_quits_without_a_traceback(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        # Both keys queued at once, as a quick typist's are: `a` arrives while the app is closing.
        for key in "qajR":
            app.post_message(events.Key(key, key))
        await asyncio.sleep(0.5)
    assert app._exception is None
    assert app.return_code == 0


def _damage_entries_page(path: Path) -> None:
    """Overwrite the middle of a page of the entries table (found through its root page)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    rootpage = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    db.close()
    with open(path, "r+b") as f:
        f.seek((rootpage - 1) * page_size + 8)
        f.write(b"\xff" * (page_size - 16))


@pytest.mark.asyncio
async def test_issue8_damaged_table_page_exits_cleanly_with_the_clis_offer(tmp_path: Path) -> None:
    path = tmp_path / "reader.sqlite"
    store = Store(path)
    fill(store)
    add_synthetic(store, "https://a.example/feed", 400, "Bulk")
    store.close()
    _damage_entries_page(path)
    store = Store(path)  # the header is fine: opening works, reading the posts does not
    app = make_app(store)
    try:
        async with app.run_test(size=WIDE):
            deadline = time.monotonic() + 10
            while app.is_running and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        assert app._exception is None  # no traceback
        assert app.return_code == 1
        assert "is damaged" in str(app.fatal_error) and str(path) in str(app.fatal_error)
    finally:
        store.close()


def test_issue8_run_app_hands_a_damaged_cache_to_the_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Through the CLI: one clear message and the offer to move it aside, exit 1, no traceback."""
    import reader.tui.app as app_module

    data = tmp_path / "data"
    store = Store(data / "reader.sqlite")
    fill(store)
    add_synthetic(store, "https://a.example/feed", 400, "Bulk")
    store.close()
    _damage_entries_page(data / "reader.sqlite")

    class Headless(ReaderApp):
        def run(self, *args: object, **kwargs: object) -> int | None:  # type: ignore[override]
            async def go() -> None:
                async with self.run_test(size=WIDE) as pilot:
                    deadline = time.monotonic() + 10
                    while self.fatal_error is None and time.monotonic() < deadline:
                        await pilot.pause(0.05)

            asyncio.run(go())
            return self.return_value

    original = app_module.ReaderApp
    app_module.ReaderApp = Headless  # type: ignore[misc]
    try:
        result = cli("--data-dir", str(data))
    finally:
        app_module.ReaderApp = original  # type: ignore[misc]
    assert result.code == 1
    assert "is damaged" in result.err and "mv " in result.err and "Traceback" not in result.err


# --- item 9: quitting never waits -------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_q_quits_at_once_while_a_render_is_in_flight(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reader.tui.actions_reading as reading

    def slow_build(*args: object, **kwargs: object) -> None:
        time.sleep(30)

    monkeypatch.setattr(reading, "build_post", slow_build)
    app = make_app(filled)
    started = 0.0
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the render worker now sleeps 30 s
        await pilot.pause(0.2)
        started = time.monotonic()
        await pilot.press("q")
    # The loop's executor is shut down too (as asyncio.run does at exit): it must not join.
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 2)
    assert time.monotonic() - started < 1.5


# --- item 10: the palette and Tab ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_one_help_entry_in_the_palette_and_tab_reaches_the_sidebar(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert sum("help" in t.casefold() or t == "Keys" for t in titles) == 1, titles
        assert app.focused is app.post_list
        await pilot.press("shift+tab")
        assert app.focused is app.sidebar
        await pilot.press("tab")
        assert app.focused is app.post_list
        await pilot.press("tab")
        assert app.focused is app.sidebar


def test_issue8_daemon_executor_reuses_threads_and_never_joins() -> None:
    import threading

    from reader.tui.lifecycle import DaemonExecutor

    executor = DaemonExecutor()
    first = executor.submit(threading.get_ident).result(2)
    time.sleep(0.05)  # the thread is idle again
    assert executor.submit(threading.get_ident).result(2) == first  # reused: its SQLite connection stays warm
    release = threading.Event()
    stuck = executor.submit(release.wait, 30)
    assert executor.submit(lambda: 42).result(2) == 42  # a stuck job doesn't hold up the next
    with pytest.raises(ZeroDivisionError):
        executor.submit(lambda: 1 / 0).result(2)
    started = time.monotonic()
    executor.shutdown(wait=True)
    assert time.monotonic() - started < 0.5 and not stuck.done()
    release.set()
