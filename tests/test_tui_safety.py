"""Hostile feed text reaches every widget literally, and clicking on it does nothing bad."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import make_app, screen_text, settle

from reader.cli import main
from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store
from reader.tui.screens.category_picker import CategoryPicker
from reader.tui.screens.confirm import ConfirmScreen
from reader.tui.screens.errors import ErrorsScreen
from reader.tui.screens.help import HelpScreen

HOSTILE = ["[/]", "[@click=app.quit]x[/]", "[bold]b", "\x1b]0;t\x07"]
# What must show: the markup literally; the escape sequence gone (only "]0;t" may be left of it
# by the core's cleaning, never an ESC byte).
LITERAL = ["[/]", "[@click=app.quit]x[/]", "[bold]b"]


def hostile_store(store: Store) -> None:
    for n, evil in enumerate(HOSTILE):
        url = f"https://hostile{n}.invalid/feed"
        store.add_feed(url, evil, [evil])
        store.save_parsed(
            url,
            ParsedFeed(
                evil,
                None,
                [
                    ParsedEntry(
                        key=f"{n}-{m}", title=evil, link=f"https://hostile{n}.invalid/{m}", author=evil,
                        published=1_600_000_000.0 - n * 60 - m, categories=[evil],
                        content=f"<p>{evil}</p><a href='javascript:alert(1)'>{evil}</a>", base_url=None,
                    )
                    for m in range(2)
                ],
            ),
        )
        store.record_error(url, f"boom {evil}")


@pytest.mark.asyncio
@pytest.mark.usefixtures("utc")
async def test_hostile_text_shows_literally_everywhere(store: Store) -> None:
    hostile_store(store)
    app = make_app(store)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await settle(pilot)
        assert app.post_list.row_count == 8

        def check(where: str) -> None:
            text = screen_text(app)
            assert "\x1b" not in text and "\x07" not in text, where
            for needle in LITERAL:
                assert needle in text, f"{needle!r} missing from {where}"

        check("main view")  # list rows and the sidebar (feed titles, categories)
        # Click on the hostile text in every pane: nothing may run (app.quit above all).
        await pilot.click("#posts", offset=(40, 0))
        await pilot.click("#sidebar", offset=(5, 5))
        await settle(pilot)
        app.post_list.focus()
        await pilot.press("g", "enter")
        await settle(pilot)
        check("reading pane")  # header: title, feed, author, categories; the body
        await pilot.click("#reading", offset=(5, 0))
        await pilot.click("#reading", offset=(5, 4))
        await settle(pilot)
        assert app.is_running

        await pilot.press("escape", "c")
        await settle(pilot)
        assert isinstance(app.screen, CategoryPicker)
        picker_text = screen_text(app)
        for needle in LITERAL:
            assert needle in picker_text
        await pilot.press("b")  # fuzzy highlight over hostile names
        await pilot.pause()
        await pilot.click("#picker-list", offset=(3, 0))
        await pilot.pause()
        if isinstance(app.screen, CategoryPicker):
            await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, CategoryPicker)

        # The filter now holds a hostile category name: the status line shows it literally.
        assert "category:" in screen_text(app)
        await pilot.click("#sidebar", offset=(2, 1))  # back to All (the scope clicked above was one feed)
        await settle(pilot)
        assert app.scope.kind == "all" and app.post_list.row_count == 2, app.query_text

        app.post_list.focus()
        await pilot.press("g", "d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        check_title = app.post_list.current_entry.feed_title
        check_url = app.post_list.current_entry.feed_url
        assert check_title in screen_text(app)  # the question quotes the title literally
        await pilot.press("y")  # remove it: the notification names it, literally
        await settle(pilot)
        assert f"Removed {check_title}" in screen_text(app)
        assert store.get_feed(check_url) is None

        # Notifications: opening a post with a link notifies with the feed's URL; `y` too.
        await pilot.press("y")
        await pilot.pause()
        app.notify(f"title {HOSTILE[1]}", markup=False)
        await pilot.pause()
        assert HOSTILE[1] in screen_text(app)

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ErrorsScreen)
        check("errors screen")
        await pilot.click(offset=(50, 10))
        await pilot.press("escape")

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")

        await pilot.press("slash")
        await pilot.press(*"is:nope")
        await pilot.pause()
        assert app.is_running
    assert app.return_code in (None, 0)


def test_corrupt_cache_is_explained_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "broken"
    data.mkdir()
    (data / "reader.sqlite").write_bytes(b"this is not a database, just junk" * 100)
    assert main(["--data-dir", str(data)]) == 1  # `reader` with no command: the app
    err = capsys.readouterr().err
    assert "reader.sqlite" in err and "damaged" in err and "Traceback" not in err


@pytest.mark.asyncio
async def test_a_4mb_post_and_a_5000_item_feed_do_not_freeze_the_app(store: Store) -> None:
    import time

    sections = "".join(
        f"<h3>Section {i}</h3><p>" + "some words with <a href='https://x.example/a'>a link</a> " * 40 + "</p>"
        for i in range(1800)
    )
    store.add_feed("https://huge.invalid/feed", "Huge")
    store.save_parsed("https://huge.invalid/feed", ParsedFeed("Huge", None, [
        ParsedEntry("big", "A 4 MB post", "https://huge.invalid/big", "x", 1.7e9, [], sections, None),
    ]))
    assert len(sections) > 4_000_000
    store.add_feed("https://many.invalid/feed", "Many")
    store.save_parsed("https://many.invalid/feed", ParsedFeed("Many", None, [
        ParsedEntry(f"m{i}", f"Item {i}", f"https://many.invalid/{i}", "x", 1.6e9 - i, [], "<p>x</p>", None)
        for i in range(5000)
    ]))
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert app.post_list.row_count == 5001
        await pilot.press("enter")  # the 4 MB post is first
        slowest = 0.0
        for _ in range(10):  # the app keeps answering while the post is being built
            started = time.perf_counter()
            await pilot.press("j", "k")
            slowest = max(slowest, time.perf_counter() - started)
        await settle(pilot)
        post = app.reading_pane.post
        assert post is not None and post.entry.title == "A 4 MB post"
        assert "too long to show in full here" in str(post.body.renderables[-2].plain)  # type: ignore[union-attr]
        assert slowest < 1.0  # generous: a loaded 2-core CI machine, and pilot.press itself waits
        await pilot.press("G")
        await settle(pilot)
        assert app.post_list.current_entry is not None and app.post_list.current_entry.title == "Item 4999"
