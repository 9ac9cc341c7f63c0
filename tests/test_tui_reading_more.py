"""Issue 8, acceptance follow-ups in the reading pane: the place after paging deep and resizing,
Space in a burst, `n` marking what it leaves, and `s`/`r` acting on what the row showed."""

from __future__ import annotations

import time

import pytest
import tui_support
from rich.console import Console
from rich.markdown import Markdown
from textual import events
from tui_support import NARROW, WIDE, add_post, add_synthetic, fill, make_app, settle

from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.post_layout import layout_blocks, markdown_blocks, render_lines

pytestmark = [pytest.mark.usefixtures("utc")]

PARAGRAPHS = 200



def even_post() -> str:
    """The acceptance tester's post: 200 paragraphs of 30 words."""
    words = " ".join(f"word{n}" for n in range(30))
    return "".join(f"<p>Paragraph {i}: {words}</p>" for i in range(PARAGRAPHS))


def uneven_post() -> str:
    """Paragraphs of 1 to 8 lines, headings and list items in between: line counts that don't
    scale together with the width, where a fraction of all lines lands on the wrong paragraph."""
    parts = []
    for i in range(PARAGRAPHS):
        words = " ".join(f"w{n}" for n in range((i * 37) % 90 + 3))
        parts.append(f"<p>Paragraph {i}: {words}</p>")
        if i % 25 == 0:
            parts.append(f"<h2>Section {i}</h2><ul><li>item one of {i}</li><li>item two</li></ul>")
    return "".join(parts)


def linked_post() -> str:
    """Paragraphs that wrap to 3 or 4 lines by width, each with a link, so the post ends in 200
    lines of links that never re-wrap: the lines above a paragraph don't scale with the width."""
    words = " ".join(f"word{n:02d}" for n in range(36))
    return "".join(
        f'<p>Paragraph {i}: {words} <a href="https://deep.invalid/{i}">more</a></p>' for i in range(PARAGRAPHS)
    )


def paragraph_at_top(app: ReaderApp) -> int:
    return tui_support.paragraph_at_top(app, r"Paragraph (\d+):", default=-1)




async def placed(pilot, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until the pane is laid out at its width and back at the reading position there."""
    pane = pilot.app.reading_pane
    deadline = time.monotonic() + timeout
    while not (pane.post.width == pane.body.size.width and pane._settled == (pane.size, pane.body.size.width)):
        assert time.monotonic() < deadline, "the relayout did not land"
        await pilot.pause(0.02)
    await settle(pilot)


async def send_burst(app: ReaderApp, key: str, count: int) -> None:
    """`count` key presses queued at once, as a held-down key or a fast typist delivers them:
    none is handled before the next arrives (Pilot's press waits for idle after each)."""
    driver = app._driver
    assert driver is not None
    for _ in range(count):
        event = events.Key(key, {"space": " ", "pagedown": None}.get(key, key))
        event.set_sender(app)
        driver.send_message(event)


# --- 1. the place after paging deep, at every width ------------------------------------------


def test_issue8_blockwise_layout_draws_the_same_lines_as_the_whole_markdown() -> None:
    """Laying the body out a top-level block at a time changes nothing on screen."""
    source = (
        "# Title\n\nA paragraph with *emphasis*, `code` and a [link](https://e.invalid/) [1].\n\n"
        "## Sub\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n> quoted\n> more\n\n"
        "```\ncode line\n\nafter blank\n```\n\n* * *\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<div>raw html</div>\n\n![img](https://e.invalid/i.png)\n\nText ![i](https://e.invalid/j.png) after\n\n"
        "- a list\n\nafter a list\n\n---\n\n### h3\n\nlast words\n"
    )
    console = Console(width=80, force_terminal=True, color_system="truecolor")
    whole = [strip.text for strip in render_lines(console, Markdown(source, hyperlinks=False), 60)]
    blocks = markdown_blocks(Markdown(source, hyperlinks=False))
    assert len(blocks) >= 10
    lines, starts = layout_blocks(console, blocks, 60)
    assert [strip.text for strip in lines] == whole
    assert starts == sorted(starts) and starts[0] == 0 and len(starts) == len(blocks)


@pytest.mark.asyncio
@pytest.mark.parametrize("content", [even_post, uneven_post, linked_post])
async def test_issue8_paging_deep_then_resizing_keeps_the_paragraph(store: Store, content) -> None:  # type: ignore[no-untyped-def]
    fill(store, seed=False)
    add_post(store, content())
    app = make_app(store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        for _ in range(16):
            await pilot.press("space")
        await pilot.pause()
        assert pane.scroll_y > 15 * 25  # 16 pages of a ~30-line pane: deep in the post
        start = paragraph_at_top(app)
        assert start > 40
        widths = []
        for width in (100, 80, 140, 120):
            await pilot.resize_terminal(width, 35)
            await placed(pilot)
            widths.append(pane.post.width)
            assert pane.post.width == pane.body.size.width, width
            assert abs(paragraph_at_top(app) - start) <= 1, (width, paragraph_at_top(app), start)
        assert len(set(widths)) == 4  # laid out again at every width


# --- 2. Space in a burst -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_a_burst_of_spaces_pages_once_per_press(store: Store) -> None:
    fill(store, seed=False)
    add_post(store, even_post())
    app = make_app(store)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        page = pane.scrollable_content_region.height
        await send_burst(app, "space", 5)
        await settle(pilot)
        assert pane.scroll_y == 5 * page


@pytest.mark.asyncio
async def test_issue8_a_burst_of_spaces_past_the_end_goes_on_to_the_next_post(store: Store) -> None:
    """The end is judged where the burst's pages took the post, not where it stood before them."""
    words = " ".join(f"word{n}" for n in range(30))
    url = "https://two.invalid/feed"
    store.add_feed(url, "Two")
    store.save_parsed(url, ParsedFeed("Two", "https://two.invalid/", [ParsedEntry(
        key=f"p{n}", title=f"Post {n}", link=f"https://two.invalid/{n}", author="",
        published=2_000_000_000.0 - n, categories=[], content="".join(f"<p>P{i}: {words}</p>" for i in range(30)),
        base_url=None,
    ) for n in range(2)]))
    store.set_meta("welcome_offered", "1")
    app = make_app(store, mark_read_after=60.0)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # opens Post 0: 30 paragraphs, some 4 pages
        await settle(pilot)
        pane = app.reading_pane
        pages = -(-pane.max_scroll_y // pane.scrollable_content_region.height)
        assert 3 <= pages <= 6
        await send_burst(app, "space", pages + 1)  # to the end, and one more: "read, next"
        await settle(pilot)
        assert pane.post is not None and pane.post.entry.title == "Post 1"
        read = {row.title: row.read for row in store.list_entries()}
        assert read == {"Post 0": True, "Post 1": False}


@pytest.mark.asyncio
async def test_issue8_a_burst_of_j_in_the_pane_scrolls_once_per_press(store: Store) -> None:
    """The same on a narrow screen, where the pane has the keys: j and PageDown count every press."""
    fill(store, seed=False)
    add_post(store, even_post())
    app = make_app(store)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        assert app.focused is pane
        await send_burst(app, "j", 5)
        await settle(pilot)
        assert pane.scroll_y == 5
        await send_burst(app, "pagedown", 2)
        await send_burst(app, "k", 1)
        await settle(pilot)
        assert pane.scroll_y == 5 + 2 * pane.scrollable_content_region.height - 1


# --- 3. `n` marks the post it leaves ------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_n_marks_the_post_it_moves_on_from(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 4, "Short posts")
    store.set_meta("welcome_offered", "1")
    app = make_app(store, mark_read_after=60.0)  # far longer than each post is open
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        opened = []
        for _ in range(4):
            await pilot.press("n")
            await settle(pilot)
            opened.append(app.reading_pane.post.entry.title)
        # Four different posts, in order: no cycling back to one left unread.
        assert opened == [f"Synthetic post {i}" for i in range(4)]
        read = {row.title: row.read for row in store.list_entries()}
        assert [read[f"Synthetic post {i}"] for i in range(4)] == [True, True, True, False]
        assert app.post_list.get_row(0).read  # the list shows it too


@pytest.mark.asyncio
async def test_issue8_n_leaves_posts_unread_when_marking_is_off(store: Store) -> None:
    add_synthetic(store, "https://a.example/feed", 3, "Short posts")
    store.set_meta("welcome_offered", "1")
    app = make_app(store, mark_read_after=-1.0)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("n", "n")
        await settle(pilot)
        assert app.reading_pane.post.entry.title == "Synthetic post 1"
        assert not any(row.read for row in store.list_entries())


# --- 4. `s` and `r` act on what the row showed ----------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(("key", "flag", "message"), [
    ("s", "starred", "Already starred (changed elsewhere)"),
    ("r", "read", "Already read (changed elsewhere)"),
])
async def test_issue8_toggle_acts_on_the_state_the_row_showed(store: Store, key: str, flag: str, message: str) -> None:
    add_synthetic(store, "https://a.example/feed", 5, "Posts")
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.post_list.cursor = 3
        await pilot.pause()
        row = app.post_list.current_entry
        assert row is not None and not getattr(row, flag)
        other = Store(store.path)  # another process, e.g. `reader mark 4 --star`, before the app's poll
        try:
            other.set_flag([row.id], flag, True)
        finally:
            other.close()
        await pilot.press(key)
        await settle(pilot)
        flags = store.entry_flags(row.id)
        assert flags is not None and flags[0 if flag == "read" else 1] is True  # what the user asked for
        assert getattr(app.post_list.current_entry, flag) is True  # and the row shows it now
        assert any(n.message == message for n in app._notifications)
        # A second press, with nothing changed elsewhere, toggles as usual and says nothing more.
        count = len(app._notifications)
        await pilot.press(key)
        await settle(pilot)
        flags = store.entry_flags(row.id)
        assert flags is not None and flags[0 if flag == "read" else 1] is False
        assert len(app._notifications) == count
