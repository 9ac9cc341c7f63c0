"""Issue 10, enclosures in the app: `m` plays the open post's enclosure, `D` downloads it (Pilot, real
cache, real loopback server, a real script as the player)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from feedserver import FeedServer
from media_support import BODY, MediaFile
from media_support import media_server as media_server  # fixture `server` (the alias: imported for pytest)
from test_media_cli import add_episode
from test_media_player import recorded, recorder
from tui_support import WIDE, make_app, screen_text, settle, wait_for

from reader.models import Enclosure
from reader.store import Store

pytestmark = [pytest.mark.asyncio]



def messages(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


async def open_top_post(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("g", "enter")
    await settle(pilot)
    assert pilot.app.reading_pane.post is not None


async def test_m_plays_the_url_then_the_downloaded_file(store: Store, server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY)
    server.route("/ep.mp3", media)
    url = server.url("/ep.mp3")
    add_episode(store, [Enclosure(url, "audio/mpeg", len(BODY))])
    script, out = recorder(tmp_path)
    app = make_app(store, player=[str(script)], downloads_dir=tmp_path / "dl")
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await open_top_post(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert recorded(out)["argv"] == [url]
        assert f"Playing {url}" in messages(app)
        out.unlink()
        await pilot.press("D")
        await wait_for(pilot, lambda: any(m.startswith("Saved ep.mp3") for m in messages(app)))
        assert (tmp_path / "dl" / "ep.mp3").read_bytes() == BODY
        assert "downloading" not in app.status_bar.plain  # the progress part of the status line is gone
        assert app.reading_pane.post is not None
        header = app.reading_pane.post.header.plain
        assert f"downloaded: {tmp_path / 'dl' / 'ep.mp3'}" in header  # the header now says it is on disk
        requests = len(media.ranges_seen)
        await pilot.press("D")  # again: nothing to do, and it says so
        await settle(pilot)
        assert f"Already downloaded: {tmp_path / 'dl' / 'ep.mp3'}; m plays it" in messages(app)
        assert len(media.ranges_seen) == requests  # no request made
        await pilot.press("m")
        await settle(pilot)
        assert recorded(out)["argv"] == [str(tmp_path / "dl" / "ep.mp3")]


async def test_keys_without_an_enclosure_or_an_open_post_say_so(store: Store, tmp_path: Path) -> None:
    add_episode(store, [], title="Plain post")
    app = make_app(store, player=["/nonexistent/player"], downloads_dir=tmp_path / "dl")
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("m")
        assert "Open a post first (Enter)." in messages(app)
        await open_top_post(pilot)
        for key in ("m", "D"):
            app.clear_notifications()
            await pilot.press(key)
            await settle(pilot)
            assert messages(app) == ["This post has no enclosure to play or download."]
    assert not (tmp_path / "dl").exists()


async def test_a_missing_player_is_a_notification(store: Store, tmp_path: Path) -> None:
    add_episode(store, [Enclosure("https://cast.invalid/ep.mp3")])
    app = make_app(store, player=["mpv-not-installed-here"], downloads_dir=tmp_path / "dl")
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await open_top_post(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert 'player "mpv-not-installed-here" not found: set player in config.toml' in messages(app)


async def test_download_progress_shows_on_the_status_line_and_a_failure_says_d_resumes(
    store: Store, server: FeedServer, tmp_path: Path
) -> None:
    media = MediaFile(BODY, stall_after=200_000)
    server.route("/ep.mp3", media)
    add_episode(store, [Enclosure(server.url("/ep.mp3"), "audio/mpeg")])
    app = make_app(store, downloads_dir=tmp_path / "dl", timeout=1.0)
    try:
        async with app.run_test(size=WIDE, notifications=True) as pilot:
            await open_top_post(pilot)
            await pilot.press("D")
            await wait_for(pilot, lambda: "downloading ep.mp3 19% (195.3 KB/1.0 MB)" in app.status_bar.plain)
            await pilot.press("D")  # a second D while it runs: not a second download of the same file
            assert "Already downloading ep.mp3" in messages(app)
            await wait_for(pilot, lambda: any("failed" in m for m in messages(app)))
            failed = next(m for m in messages(app) if "failed" in m)
            assert failed.startswith("Download of ep.mp3 failed: stalled") and failed.endswith("; D resumes it")
            assert "downloading" not in app.status_bar.plain and "↓" not in app.status_bar.plain
            media.stall_after = None
            await pilot.press("D")
            await wait_for(pilot, lambda: any(m.startswith("Saved ep.mp3") for m in messages(app)))
    finally:
        media.stop.set()
    assert media.ranges_seen[-1] == "bytes=200000-"
    assert (tmp_path / "dl" / "ep.mp3").read_bytes() == BODY


async def test_quitting_during_a_download_never_waits(store: Store, server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, stall_after=100_000)  # then nothing for 30 s
    server.route("/ep.mp3", media)
    add_episode(store, [Enclosure(server.url("/ep.mp3"), "audio/mpeg")])
    app = make_app(store, downloads_dir=tmp_path / "dl", timeout=30.0)
    part = tmp_path / "dl" / "ep.mp3.part"
    try:
        async with app.run_test(size=WIDE, notifications=True) as pilot:
            await open_top_post(pilot)
            await pilot.press("D")
            await wait_for(pilot, lambda: part.exists() and part.stat().st_size == 100_000)
            quit_at = time.monotonic()
            await pilot.press("q")
        # The watcher's thread (in the loop's executor) has returned too: nothing left to wait for.
        await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 5)
        # The server stalls for 30 s: well under that proves quitting did not wait (2 s flaked on a busy machine).
        assert time.monotonic() - quit_at < 5
    finally:
        media.stop.set()
    assert part.stat().st_size == 100_000  # kept for the next D


async def test_issue10_download_progress_outranks_the_refresh_time_at_usual_widths(
    store: Store, server: FeedServer, tmp_path: Path
) -> None:
    # At 140×40 with failed feeds and a filter, and at 80×24, the `downloading … %` part went
    # before `refreshed …`: now it outranks it, in a short form ("↓ 19%") when narrow.
    name = "a-rather-long-episode-file-name-of-the-weekly-show.mp3"
    media = MediaFile(BODY, stall_after=200_000)
    server.route(f"/{name}", media)
    add_episode(store, [Enclosure(server.url(f"/{name}"), "audio/mpeg")])
    for n in range(3):
        url = f"https://down{n}.invalid/feed.xml"
        store.add_feed(url, f"Down {n}")
        store.record_error(url, "connection refused")
    app = make_app(store, downloads_dir=tmp_path / "dl", timeout=30.0)
    try:
        async with app.run_test(size=WIDE, notifications=True) as pilot:
            await open_top_post(pilot)
            await pilot.press("D")
            await wait_for(pilot, lambda: "19%" in app.status_bar.plain)
            line = app.status_bar.plain
            assert "3 feeds failed" in line and "refreshed" not in line
            assert "downloading 19% (195.3 KB/1.0 MB)" in line, line  # the file name made room
            assert len(line) <= 140
            await pilot.resize_terminal(200, 40)
            await wait_for(pilot, lambda: app.status_bar.size.width == 200)
            line = app.status_bar.plain
            assert f"downloading {name[:39]}… 19% (195.3 KB/1.0 MB)" in line, line
            await pilot.press("slash", *"has:enclosure")
            await asyncio.sleep(0.3)  # the filter's debounce
            await pilot.press("enter")
            await wait_for(pilot, lambda: "filter: has:enclosure" in app.status_bar.plain)
            line = app.status_bar.plain
            assert "filter: has:enclosure" in line and "3 feeds failed" in line, line
            assert "19%" in line and len(line) <= 200, line
            await pilot.resize_terminal(140, 40)
            await wait_for(pilot, lambda: app.status_bar.size.width == 140)
            line = app.status_bar.plain
            assert "filter: has:enclosure" in line and "3 feeds failed" in line, line
            assert "19%" in line and len(line) <= 140, line
            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: app.status_bar.size.width == 80)
            line = app.status_bar.plain
            assert "↓ 19%" in line and "filter: has:enclosure" in line, line
            assert len(line) <= 80 and "refreshed" not in line
            await pilot.press("q")
    finally:
        media.stop.set()


def header_text(app) -> str:  # type: ignore[no-untyped-def]
    post = app.reading_pane.post
    return post.header.plain if post is not None else ""


async def test_issue10_the_header_numbers_enclosures_and_says_why_the_article_is_missing(
    store: Store, tmp_path: Path
) -> None:
    post = add_episode(store, [Enclosure("https://cast.invalid/a.mp3", "audio/mpeg", 5_000_000),
                               Enclosure("https://cast.invalid/b.ogg")])
    store.record_article_error(post, "https://cast.invalid/1", "HTTP 404 Not Found")
    app = make_app(store, downloads_dir=tmp_path / "dl")
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await open_top_post(pilot)
        header = header_text(app)
        assert "Enclosure 1: https://cast.invalid/a.mp3 (audio/mpeg, 4.8 MB)" in header
        assert "Enclosure 2: https://cast.invalid/b.ogg" in header
        assert "Full article: could not be fetched (HTTP 404 Not Found) · f: try again" in header
        assert "could not be fetched" in screen_text(app)

