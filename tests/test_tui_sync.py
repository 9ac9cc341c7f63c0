"""Issue 9 in the app: R syncs, the status line's sync part, `e` shows sync errors, pushes soon after a mark.

Against the real FreshRSS of tests/freshrss_fixtures.py (skipped with a reason where PHP or the
FreshRSS tarball is missing); the server's state is read back with the fixture's own client.
The last test is the issue's: 50 marks made through the real app with the server stopped,
the app killed with SIGKILL, then one `reader sync` pushes all 50.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sync_support import local_state, log_in, served, unsigned, write_feed
from tui_support import WIDE, make_app, screen_text, settle, wait_for

import reader.tui.sync as tui_sync
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.screens.errors import ErrorsScreen

pytestmark = [pytest.mark.usefixtures("utc")]

SYNC_WAIT = 20.0  # seconds a sync against the loopback server may take, at most (it takes well under one)








def synced_account(freshrss, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    first = cli("sync")
    assert first.code == 0, first.err


def titles(app: ReaderApp) -> list[str]:
    return [app.post_list.get_row(i).title for i in range(app.post_list.row_count)]


def remote_id(store: Store, entry_id: int) -> int:
    return unsigned(store.db.execute("SELECT remote_id FROM entries WHERE id = ?", (entry_id,)).fetchone()[0])


def toasts(app: ReaderApp, title: str) -> list[str]:
    return [n.message for n in app._notifications if n.title == title]


@pytest.mark.asyncio
async def test_issue9_R_refreshes_local_feeds_then_syncs_keeping_the_cursor(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    server, folder = feeds
    write_feed(folder, "local", range(2))
    store.add_feed(server.url("/local.xml"), "Local")  # before the account: fetched from here
    store.set_meta("welcome_offered", "1")
    alpha = served(freshrss, feeds, "alpha", range(3), category="Tech")
    synced_account(freshrss, cli, monkeypatch)
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "synced " in app.status_bar.plain)
        assert "never refreshed" not in app.status_bar.plain  # the sync part says it
        assert titles(app) == ["alpha post 2", "alpha post 1", "alpha post 0"]
        await pilot.press("j")
        kept = app.post_list.current_entry
        assert kept is not None and kept.title == "alpha post 1"
        write_feed(folder, "alpha", range(6))
        freshrss.refresh(int(alpha.split("/")[1]))
        before = server.count("local.xml")
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.refreshing, timeout=SYNC_WAIT)
        await settle(pilot)
        assert server.count("local.xml") == before + 1  # the local feed was refreshed here
        assert sorted(titles(app)) == sorted([f"alpha post {n}" for n in range(6)] + ["local post 0", "local post 1"])
        current = app.post_list.current_entry
        assert current is not None and current.id == kept.id  # the new posts came in above, the cursor stayed
        assert any("3 new posts" in m for m in toasts(app, "Sync")), app._notifications
        assert "synced " in app.status_bar.plain and "waiting" not in app.status_bar.plain


@pytest.mark.asyncio
async def test_issue9_server_down_the_app_works_and_says_unreachable_with_the_waiting_count(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    monkeypatch.setattr(tui_sync, "PUSH_DELAY", 0.2)
    served(freshrss, feeds, "alpha", range(4))
    synced_account(freshrss, cli, monkeypatch)
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "synced " in app.status_bar.plain)
        first, second = app.post_list.get_row(0), app.post_list.get_row(1)
        freshrss.stop()
        try:
            await pilot.press("r", "j", "s")  # read the first, star the second
            await wait_for(pilot, lambda: "server unreachable · 2 changes waiting" in app.status_bar.plain,
                           timeout=SYNC_WAIT)
            # The marks are made and shown, offline.
            assert store.entry_flags(first.id) == (True, False)
            assert store.entry_flags(second.id) == (False, True)
            assert app.post_list.get_row(0).read and app.post_list.get_row(1).starred
            assert store.pending_changes() == 2
            await pilot.press("u")  # the app goes on working: unread only
            await settle(pilot)
            assert "alpha post 3" not in titles(app)
            await pilot.press("u")
            await settle(pilot)
            # More marks offline: the count follows, and no toast for any failed push.
            await pilot.press("G", "s")  # the last post: not marked yet
            last = app.post_list.current_entry
            assert last is not None and last.id not in (first.id, second.id)
            await wait_for(pilot, lambda: "3 changes waiting" in app.status_bar.plain, timeout=SYNC_WAIT)
            assert toasts(app, "Sync") == []
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, ErrorsScreen)
            shown = screen_text(app)
            assert "The last sync failed" in shown and "cannot reach" in shown, shown
            await pilot.press("escape")
        finally:
            freshrss.start()
        await pilot.press("R")  # back online: the marks reach the server
        await wait_for(pilot, lambda: not app.refreshing, timeout=SYNC_WAIT)
        await settle(pilot)
        assert "synced " in app.status_bar.plain and "waiting" not in app.status_bar.plain
        assert "unreachable" not in app.status_bar.plain
        assert remote_id(store, first.id) not in freshrss.api.unread_ids()
        assert freshrss.api.starred_ids() == {remote_id(store, second.id), remote_id(store, last.id)}
        assert store.pending_changes() == 0


@pytest.mark.asyncio
async def test_issue9_a_mark_reaches_the_server_after_the_debounced_push(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    monkeypatch.setattr(tui_sync, "PUSH_DELAY", 0.3)
    served(freshrss, feeds, "alpha", range(3))
    synced_account(freshrss, cli, monkeypatch)
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "synced " in app.status_bar.plain)
        top = app.post_list.get_row(0)
        await pilot.press("s", "r")
        wanted = remote_id(store, top.id)
        await wait_for(pilot, lambda: store.pending_changes() == 0, timeout=SYNC_WAIT)
        assert freshrss.api.starred_ids() == {wanted}
        assert wanted not in freshrss.api.unread_ids()
        await settle(pilot)
        assert "waiting" not in app.status_bar.plain
        assert toasts(app, "Sync") == []  # a push that works is silent


@pytest.mark.asyncio
async def test_issue9_a_feed_added_and_one_removed_in_the_app_reach_the_server(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    from textual.widgets import Input

    from reader.tui.screens.add_feed import AddFeedScreen
    from reader.tui.screens.confirm import ConfirmScreen

    monkeypatch.setattr(tui_sync, "PUSH_DELAY", 0.3)
    server, folder = feeds
    served(freshrss, feeds, "alpha", range(2))
    write_feed(folder, "gamma", range(2))
    synced_account(freshrss, cli, monkeypatch)
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("d")  # the feed of the post under the cursor: alpha
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddFeedScreen)
        app.screen.query_one("#add-url", Input).value = server.url("/gamma.xml")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddFeedScreen), timeout=SYNC_WAIT)
        gamma_only = {server.url("/gamma.xml")}
        await wait_for(pilot, lambda: {s["url"] for s in freshrss.api.subscriptions()} == gamma_only,
                       timeout=SYNC_WAIT)
        # The server shows the feed a moment before the push, back from it, empties the outbox.
        await wait_for(pilot, lambda: store.pending_changes() == 0, timeout=SYNC_WAIT)
        await settle(pilot)
        assert "waiting" not in app.status_bar.plain


@pytest.mark.asyncio
async def test_issue9_a_refused_login_says_log_in_again_at_startup_in_e_and_on_R(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    served(freshrss, feeds, "alpha", range(2))
    synced_account(freshrss, cli, monkeypatch)
    freshrss.revoke_tokens()
    assert cli("sync").code == 1  # recorded on the account, by another process
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "log in again (reader account add …)" in app.status_bar.plain)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ErrorsScreen)
        shown = screen_text(app)
        assert "Sync with alice" in shown or f"Sync with {freshrss.user}" in shown, shown
        assert "log in again" in shown
        await pilot.press("escape")
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.refreshing, timeout=SYNC_WAIT)
        await settle(pilot)
        failed = [n for n in app._notifications if n.title == "Sync"]
        assert failed and failed[-1].severity == "error" and "log in again" in failed[-1].message
        assert "log in again (reader account add …)" in app.status_bar.plain


@pytest.mark.asyncio
async def test_issue9_a_server_error_mid_sync_is_reported_and_the_next_R_completes(  # type: ignore[no-untyped-def]
    freshrss, feeds, fault_proxy, cli, monkeypatch, store: Store
) -> None:
    server, _ = feeds
    store.add_feed(server.url("/gone.xml"), "Gone")  # a local feed that fails to refresh (404)
    served(freshrss, feeds, "alpha", range(3))
    assert log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password).code == 0
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "not synced yet" in app.status_bar.plain)
        fault_proxy.fail("subscription/list", "500")
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.refreshing, timeout=SYNC_WAIT)
        await settle(pilot)
        failed = [n for n in app._notifications if n.title == "Sync"]
        assert failed and failed[-1].severity == "error" and "500" in failed[-1].message, failed
        assert "sync failed (e for details)" in app.status_bar.plain
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ErrorsScreen)
        shown = screen_text(app)  # the sync's error and the feed's, side by side
        assert "The last sync failed; 1 feed failed in the last refresh" in shown, shown
        assert "500" in shown and "Gone" in shown and "404" in shown, shown
        await pilot.press("escape")
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.refreshing, timeout=SYNC_WAIT)
        await settle(pilot)
        assert "synced " in app.status_bar.plain and "sync failed" not in app.status_bar.plain
        assert sorted(titles(app)) == [f"alpha post {n}" for n in range(3)]


@pytest.mark.asyncio
async def test_issue9_quitting_during_a_sync_does_not_wait_on_it(  # type: ignore[no-untyped-def]
    freshrss, feeds, fault_proxy, cli, monkeypatch, store: Store
) -> None:
    served(freshrss, feeds, "alpha", range(2))
    assert log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password).code == 0
    store.set_meta("welcome_offered", "1")
    fault_proxy.fail("subscription/list", "timeout")  # held 5 s, within the app's 30 s timeout
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        # The held request has reached the proxy: the sync waits on it.
        await wait_for(pilot, lambda: app.syncing and fault_proxy.pending_faults == 0, timeout=SYNC_WAIT)
        assert "syncing…" in app.status_bar.plain
        quit_at = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - quit_at < 2.0  # not the 5 s the held request takes


@pytest.mark.asyncio
async def test_issue9_a_synced_post_opens_in_the_reading_pane_with_numbered_links(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    served(freshrss, feeds, "alpha", range(2))
    synced_account(freshrss, cli, monkeypatch)
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and app.post_complete_at > 0)
        post = app.reading_pane.post
        assert post is not None and post.entry.title == "alpha post 1"
        # The server's relative link, resolved against the post's link, numbered like a fetched post's.
        assert post.links == ["https://alpha.example.org/rel/1"]
        shown = screen_text(app)
        assert "Body of alpha post 1, with a link[1]." in shown, shown
        assert "[1] https://alpha.example.org/rel/1" in shown, shown


@pytest.mark.asyncio
async def test_issue9_without_an_account_the_status_line_has_no_sync_part(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.account is None
        line = app.status_bar.plain
        assert "sync" not in line and "waiting" not in line and "refreshed" in line


def test_issue9_sync_indicator_texts() -> None:
    from reader.models import Account

    never = Account("https://h/api/greader.php", "alice", added=0.0)
    assert tui_sync.sync_indicator(None, 3, syncing=False) is None
    assert tui_sync.sync_indicator(never, 0, syncing=True) == ("syncing…", False)
    assert tui_sync.sync_indicator(never, 1, syncing=False) == ("not synced yet · 1 change waiting", True)
    done = Account("https://h/api/greader.php", "alice", added=0.0, last_sync=time.time())
    assert tui_sync.sync_indicator(done, 0, syncing=False)[0].startswith("synced ")
    assert tui_sync.sync_indicator(done, 5, syncing=False, problem="cannot reach h: refused", kind="unreachable") == (
        "server unreachable · 5 changes waiting", True)
    assert tui_sync.sync_indicator(done, 0, syncing=False, problem="… log in again", kind="auth") == (
        "log in again (reader account add …)", True)
    assert tui_sync.sync_indicator(done, 0, syncing=False, problem="the server answered 500", kind="failed") == (
        "sync failed (e for details)", True)


# --- the issue's SIGKILL test -------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import asyncio, sys, time

    from textual import events

    from reader.store import Store
    from reader.tui.app import ReaderApp

    async def main() -> None:
        store = Store(sys.argv[1])
        app = ReaderApp(store)  # the real app, with the real (default) settings
        async with app.run_test(size=(140, 40)) as pilot:
            deadline = time.monotonic() + 30
            while app.post_list.row_count < 25 and time.monotonic() < deadline:
                await pilot.pause(0.05)
            # Read and star, then the next post: 50 marks. Posted as the key events a terminal's
            # keys become (Pilot.press would idle ~70 ms after each of the 75).
            for _ in range(25):
                for key in ("r", "s", "j"):
                    app.post_message(events.Key(key, key))
            while store.pending_changes() < 50 and time.monotonic() < deadline:
                await pilot.pause(0.02)
            print("READY", store.pending_changes(), flush=True)
            time.sleep(300)  # killed long before: with the event loop held, nothing more happens

    asyncio.run(main())
""")


def test_issue9_50_marks_in_an_app_killed_with_sigkill_are_pushed_by_one_sync(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, tmp_path: Path
) -> None:
    from reader.config import db_path

    served(freshrss, feeds, "alpha", range(30))
    synced_account(freshrss, cli, monkeypatch)
    assert len(local_state(db_path())) == 30
    freshrss.stop()
    try:
        script = tmp_path / "child.py"
        script.write_text(CHILD)
        env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}  # READER_DATA_DIR and READER_CONFIG_DIR: the test's
        child = subprocess.Popen([sys.executable, str(script), str(db_path())], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            ready = _read_line(child, timeout=60)
            assert ready.split() == ["READY", "50"], (ready, child.stderr.read() if child.poll() is not None else "")
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=10) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    finally:
        freshrss.start()
    state = local_state(db_path())
    assert sum(read for read, _ in state.values()) == 25 and sum(star for _, star in state.values()) == 25
    synced = cli("sync")
    assert synced.code == 0, synced.err
    assert "pushed 50 marks" in synced.out, synced.out
    unread, starred = freshrss.api.unread_ids(), freshrss.api.starred_ids()
    assert {unsigned(i): flags for i, flags in local_state(db_path()).items()} == {
        unsigned(i): (unsigned(i) not in unread, unsigned(i) in starred) for i in state
    }
    assert len(starred) == 25 and len(unread) == 5


def _read_line(child: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of output, or "" if it exits or stays silent for `timeout` s."""
    import selectors

    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return child.stdout.readline()


@pytest.mark.asyncio
async def test_issue9_a_narrow_status_line_keeps_a_sync_that_needs_the_user() -> None:
    from textual.app import App, ComposeResult

    from reader.tui.widgets.status_bar import StatusBar

    class Bar(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar(id="bar")

    app = Bar()
    async with app.run_test(size=(80, 3)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show(scope="All", query="feed:cloudflare", unread_only=False, shown=300, shown_unread=12,
                 counts=(5000, 1200, 3), last_refresh=None, offline=False)
        bar.set_sync("server unreachable · 1 change waiting", alert=True)
        await pilot.pause()
        assert "server unreachable · 1 change waiting" in bar.plain  # the counts go first
        bar.set_sync("synced 14:02", alert=False)
        await pilot.pause()
        assert "300 shown" in bar.plain and "synced" not in bar.plain  # a quiet one goes before them
