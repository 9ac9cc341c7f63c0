"""Issue 11, hooks and the background refresh in the app (Pilot, real scripts, a real loopback server).

The hook commands are small scripts written into tmp_path that record their argv and stdin
(tests/test_hooks.py's recorder). `|` hands the terminal over with App.suspend(), which Textual's
headless driver (run_test) does not support: it raises SuspendNotSupported, and the app then runs
the command without the terminal; that path is tested as it is, and the foreground path with
suspend() standing in for the terminal handover.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path

import pytest
from test_hooks import read_record, recorder, shell_script
from tui_support import WIDE, make_app, settle, wait_for

from reader.announce import announcement
from reader.models import RefreshSummary
from reader.render import render_entry_text
from reader.rules import RuleOutcome
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.hooks import shown_feed_title

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("utc")]


def messages(app: ReaderApp) -> list[str]:
    return [n.message for n in app._notifications]


# --- o and the numbered links: the browser hook ---------------------------------------------------


async def test_issue11_o_and_digits_use_the_browser_command(filled: Store, tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "browser", read_stdin=False)
    app = make_app(filled, browser=[str(script), "--new-tab"])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G", "o")
        link = app.post_list.current_entry.link
        assert read_record(out)["argv"] == ["--new-tab", link]
        out.unlink()
        await pilot.press("enter")
        await settle(pilot)
        links = app.reading_pane.post.links
        assert links
        await pilot.press("1")
        assert read_record(out)["argv"] == ["--new-tab", links[0]]


async def test_issue11_o_with_a_missing_browser_says_so(filled: Store) -> None:
    app = make_app(filled, browser=["no-such-browser-here"])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G", "o")  # the last post has a link (the first, the welcome post, none)
        await settle(pilot)
        assert 'browser "no-such-browser-here" not found: check browser in config.toml' in messages(app)


# --- b: bookmark ------------------------------------------------------------------------------


async def test_issue11_b_sends_url_title_and_feed_to_the_bookmark_command(filled: Store, tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "bookmark")
    app = make_app(filled, bookmark=[str(script)])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("G")
        row = app.post_list.current_entry
        await pilot.press("b")
        await settle(pilot)
        entry = filled.get_entry(row.id)
        assert read_record(out)["argv"] == [entry.link, entry.title, "", entry.feed_title]
        assert any(m.startswith("Bookmarked ") for m in messages(app))


async def test_issue11_b_without_a_command_or_failing_says_why(filled: Store, tmp_path: Path) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        assert any("no bookmark command is set: add bookmark =" in m for m in messages(app))
        failing = shell_script(tmp_path, "fails", "echo 'no space left' >&2; exit 1")
        app.settings.bookmark = [str(failing)]
        await pilot.press("b")  # the welcome post: no link
        assert "This post has no http(s) link to bookmark." in messages(app)
        await pilot.press("G", "b")
        await settle(pilot)
        assert f'Bookmark failed: bookmark "{failing}" failed (exit 1): no space left' in messages(app)


# --- |: pipe ----------------------------------------------------------------------------------


async def test_issue11_pipe_without_a_command_says_how_to_set_one(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("|")
        assert any('add pipe = "less -R"' in m for m in messages(app))


async def test_issue11_pipe_hands_the_terminal_over_with_the_post_as_reader_show_renders_it(
    filled: Store, tmp_path: Path
) -> None:
    script, out = recorder(tmp_path, "pipe")
    app = make_app(filled, pipe=[str(script), "-R"])
    suspended: list[bool] = []

    @contextlib.contextmanager
    def suspend():  # type: ignore[no-untyped-def]
        # Stands in for Textual's terminal handover, which run_test's headless driver can't do:
        # the command must run inside it, with the app's output stopped.
        suspended.append(True)
        yield
        suspended.append(False)

    async with app.run_test(size=WIDE) as pilot:
        app.suspend = suspend  # type: ignore[method-assign]
        await settle(pilot)
        await pilot.press("G", "enter")  # the open post is the one piped
        await settle(pilot)
        entry_id = app.reading_pane.post.entry.id
        await pilot.press("|")
        await settle(pilot)
        assert suspended == [True, False]
        record = read_record(out, timeout=0)  # it ran to the end inside suspend()
        entry = filled.get_entry(entry_id)
        entry.feed_title = shown_feed_title(entry)
        assert record == {"argv": ["-R"], "stdin": render_entry_text(entry, downloads=app._downloads_dir())}
        assert record["stdin"].startswith(entry.title) and f"Link:       {entry.link}" in record["stdin"]
        # a failing command: said after the terminal comes back
        app.settings.pipe = [str(shell_script(tmp_path, "fails", "cat >/dev/null; exit 5"))]
        await pilot.press("|")
        await settle(pilot)
        assert any(m.endswith('fails" failed (exit 5)') for m in messages(app))


async def test_issue11_pipe_where_the_terminal_cant_be_handed_over_runs_without_it(
    filled: Store, tmp_path: Path
) -> None:
    script, out = recorder(tmp_path, "pipe")
    app = make_app(filled, pipe=[str(script)])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        row = app.post_list.current_entry  # no post open: the one under the cursor
        await pilot.press("|")
        await settle(pilot)
        record = read_record(out)
        assert record["stdin"].startswith(row.title)
        await settle(pilot)
        assert any(m.startswith("Piped to ") for m in messages(app))


# --- the background refresh -------------------------------------------------------------------


def rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><guid>{key}</guid><title>{title}</title><link>https://bg.example/{key}</link>"
        f"<pubDate>Mon, 0{1 + i % 8} Jan 2024 10:00:00 GMT</pubDate><description>Body {title}</description></item>"
        for i, (key, title) in enumerate(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Background</title>{body}</channel></rss>'.encode()


def serve_growing_feed(feed_server, items: list[tuple[str, str]]) -> str:  # type: ignore[no-untyped-def]
    """A feed whose items are `items` as they are at each request (the test adds to the list)."""
    path = f"/background-{uuid.uuid4().hex}.xml"

    def answer(request) -> None:  # type: ignore[no-untyped-def]
        data = rss(list(items))
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    feed_server.route(path, answer)
    return feed_server.url(path)


def make_due(store: Store) -> None:
    # Whatever the schedule made of the last fetch, every feed is due now (another connection,
    # as a cron job or `reader schedule` would be).
    other = Store(store.path)
    other.db.execute("UPDATE feeds SET next_due = NULL")
    other.close()


async def test_issue11_background_refresh_fetches_keeps_cursor_and_open_post_and_notifies(
    store: Store, feed_server, tmp_path: Path
) -> None:
    from reader.refresh import refresh

    items = [("a3", "Third old"), ("a2", "Second old"), ("a1", "First old")]
    url = serve_growing_feed(feed_server, items)
    store.add_feed(url, "")
    store.set_meta("welcome_offered", "1")
    assert not (await asyncio.to_thread(refresh, store)).failed
    make_due(store)
    script, out = recorder(tmp_path, "notify")
    app = make_app(store, refresh_every=0.3, notify=[str(script)])
    async with app.run_test(size=WIDE) as pilot:
        timer = app.background_timer
        assert timer is not None
        timer.pause()  # still while the list is set up: settle() waits for every worker
        await settle(pilot)
        assert app.post_list.row_count == 3
        await pilot.press("down", "enter")
        await settle(pilot)
        cursor = app.post_list.current_entry.id
        opened = app.reading_pane.post.entry.id
        assert cursor == opened
        items[:0] = [("b2", "Brand new two"), ("b1", "Brand new one")]
        make_due(store)
        timer.resume()
        await wait_for(pilot, lambda: app.post_list.row_count == 5 and not app.refreshing, timeout=8)
        timer.pause()
        await settle(pilot)
        assert app.post_list.current_entry.id == cursor  # new rows above did not move it
        assert app.reading_pane.post is not None and app.reading_pane.post.entry.id == opened
        record = read_record(out)
        title, body = record["argv"]
        assert title == "2 new posts"
        assert "Brand new one" in body and "Brand new two" in body
        assert not app.background_refresh


def record_toasts(app: ReaderApp) -> list[str]:
    """Every toast's message, however soon it times out."""
    seen: list[str] = []
    show = app.notify

    def notify(message: str, **options: object) -> None:
        seen.append(message)
        show(message, **options)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def test_issue11_background_refresh_with_nothing_new_is_quiet(store: Store, feed_server, tmp_path: Path) -> None:
    url = serve_growing_feed(feed_server, [("only", "Only post")])
    store.add_feed(url, "")
    store.set_meta("welcome_offered", "1")
    script, out = recorder(tmp_path, "notify")
    app = make_app(store, refresh_every=0.2, notify=[str(script)])
    async with app.run_test(size=WIDE) as pilot:
        toasts = record_toasts(app)
        # the first tick fetches the new feed: one new post, announced
        await wait_for(pilot, lambda: app.post_list.row_count == 1 and not app.refreshing, timeout=8)
        assert read_record(out)["argv"][0] == "1 new post"
        assert any("1 new entry" in m for m in toasts), toasts  # news: a toast
        out.unlink()
        toasts.clear()
        make_due(store)
        started = len(feed_server.requests)
        await wait_for(pilot, lambda: len(feed_server.requests) > started and not app.refreshing, timeout=8)
        app.background_timer.pause()
        await settle(pilot)
        assert not out.exists()  # nothing new: no notification
        assert toasts == []  # and no "0 new entries" toast


async def test_issue11_background_refresh_runs_the_rules_and_announces_their_notify_matches(
    store: Store, feed_server, tmp_path: Path
) -> None:
    from reader.config import Rule
    from reader.refresh import refresh

    items = [("old", "Old post")]
    url = serve_growing_feed(feed_server, items)
    store.add_feed(url, "")
    store.set_meta("welcome_offered", "1")
    assert not (await asyncio.to_thread(refresh, store)).failed
    script, out = recorder(tmp_path, "notify")
    rules = [Rule("advert", "hide", line=1), Rule("outage", "notify", line=4)]
    app = make_app(store, refresh_every=0.3, notify=[str(script)], rules=rules)
    async with app.run_test(size=WIDE) as pilot:
        items[:0] = [("n3", "Big outage today"), ("n2", "An advert"), ("n1", "Plain news")]
        make_due(store)
        await wait_for(pilot, lambda: app.post_list.row_count == 3 and not app.refreshing, timeout=8)
        app.background_timer.pause()
        await settle(pilot)
        title, body = read_record(out)["argv"]
        # the hidden advert is neither listed nor counted among the new posts
        assert title == "2 new posts (1 matched your rules)"
        assert body == "Matched: Big outage today"


async def test_issue11_background_refresh_off_and_never_on_top_of_another(filled: Store) -> None:
    app = make_app(filled, refresh_every=0)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.background_timer is None
        app.refreshing = True  # R (or a sync) in flight
        app._background_tick()
        assert not app.background_refresh
        assert not [w for w in app.workers if w.group == "refresh"]
        app.refreshing = False


async def test_issue11_quitting_never_waits_for_a_background_refresh(store: Store, feed_server) -> None:
    store.add_feed(feed_server.url("slow/20000/atom.xml"))
    store.set_meta("welcome_offered", "1")
    app = make_app(store, refresh_every=0.2)
    started = 0.0
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: app.refreshing and app.background_refresh, timeout=5)
        started = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started < 3


# --- notify after a refresh: rule matches, the bell ---------------------------------------------


async def test_issue11_rule_notify_matches_are_announced_after_any_refresh(filled: Store, tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "notify")
    app = make_app(filled, notify=[str(script)])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        rows = [app.post_list.get_row(i) for i in range(3)]
        summary = RefreshSummary(new_ids=[r.id for r in rows], rules=RuleOutcome(notify=[r.id for r in rows[:2]]))
        app.announce(summary)  # as _feeds_stored calls it after R (not a background refresh)
        await settle(pilot)
        title, body = read_record(out)["argv"]
        assert title == "2 new posts matched your rules"
        assert body == f"{rows[0].title}, {rows[1].title}"


async def test_issue11_notify_falls_back_to_the_terminal_bell(filled: Store, tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no notify-send
    app = make_app(filled)
    rung: list[bool] = []
    async with app.run_test(size=WIDE) as pilot:
        app.bell = lambda: rung.append(True)  # type: ignore[method-assign]
        await settle(pilot)
        row = app.post_list.current_entry
        app.announce(RefreshSummary(new_ids=[row.id], rules=RuleOutcome(notify=[row.id])))
        await settle(pilot)
        await asyncio.sleep(0)
        assert rung == [True]


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")  # the module's asyncio mark
def test_issue11_announcement_leaves_out_posts_rules_read_or_hid(filled: Store) -> None:
    ids = filled.entry_ids()[:4]
    filled.set_flag(ids[:1], "read", True)
    filled.set_hidden(ids[1:2], True)
    title, _body = announcement(filled, ids, [], new_posts=True)
    assert title == "2 new posts"
    assert announcement(filled, ids, [], new_posts=False) is None
    big = announcement(filled, filled.entry_ids(), [], new_posts=True)
    assert big is not None and big[1].endswith(", …")


# --- with a sync account: the background refresh takes R's path (refresh due feeds, then sync) ------


async def test_issue11_background_refresh_with_an_account_refreshes_due_feeds_then_syncs(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store
) -> None:
    from sync_support import log_in, served, write_feed

    import reader.refresh

    calls: list[bool] = []
    real_refresh = reader.refresh.refresh

    def recording_refresh(*args, **kwargs):  # type: ignore[no-untyped-def]  # the real refresh, its `due` noted
        calls.append(kwargs.get("due", False))
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(reader.refresh, "refresh", recording_refresh)
    server, folder = feeds
    write_feed(folder, "local", range(2))
    store.add_feed(server.url("/local.xml"), "Local")  # before the account: fetched from here
    store.set_meta("welcome_offered", "1")
    alpha = served(freshrss, feeds, "alpha", range(3), category="Tech")
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    assert cli("sync").code == 0
    app = make_app(store, refresh_every=0.5)
    async with app.run_test(size=WIDE) as pilot:
        app.background_timer.pause()
        await settle(pilot)
        await pilot.press("j")
        kept = app.post_list.current_entry
        assert kept is not None
        write_feed(folder, "alpha", range(5))
        freshrss.refresh(int(alpha.split("/")[1]))
        make_due(store)
        before = server.count("local.xml")
        app.background_timer.resume()
        await wait_for(pilot, lambda: app.post_list.row_count == 7 and not app.refreshing, timeout=20)
        app.background_timer.pause()
        await settle(pilot)
        assert calls and all(calls)  # every refresh the timer started asked for due feeds only
        assert server.count("local.xml") == before + 1
        assert app.post_list.current_entry.id == kept.id


async def test_issue11_background_sync_announces_synced_posts_and_is_quiet_with_nothing_new(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch, store: Store, tmp_path: Path
) -> None:
    """With an account, the posts a background sync brings are announced (and the rules act on them);
    a background run that brings nothing shows no toast."""
    from sync_support import log_in, served, write_feed

    from reader.config import Rule

    _server, folder = feeds
    store.set_meta("welcome_offered", "1")
    alpha = served(freshrss, feeds, "alpha", range(2), category="Tech")
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    assert cli("sync").code == 0
    script, out = recorder(tmp_path, "notify")
    rules = [Rule('"alpha post 3"', "hide", line=1)]
    app = make_app(store, refresh_every=0.4, notify=[str(script)], rules=rules)
    async with app.run_test(size=WIDE) as pilot:
        app.background_timer.pause()
        await settle(pilot)
        toasts = record_toasts(app)
        write_feed(folder, "alpha", range(4))
        freshrss.refresh(int(alpha.split("/")[1]))
        app.background_timer.resume()
        await wait_for(pilot, lambda: out.exists() and not app.refreshing and not app.syncing, timeout=20)
        app.background_timer.pause()
        await settle(pilot)
        title, body = read_record(out)["argv"]
        assert title == "1 new post" and "alpha post 2" in body  # post 3 came too, but a rule hid it
        assert app.post_list.row_count == 3
        assert any("Sync" in m or "synced" in m for m in toasts), toasts
        out.unlink()
        toasts.clear()
        synced: list[object] = []
        land = app._synced

        def counting(*args: object) -> None:
            synced.append(args)
            land(*args)  # type: ignore[arg-type]

        app._synced = counting  # type: ignore[method-assign]
        app.background_timer.resume()
        await wait_for(pilot, lambda: synced and not app.syncing and not app.refreshing, timeout=20)
        app.background_timer.pause()
        await settle(pilot)
        assert toasts == [] and not out.exists()  # nothing new: nothing said
