"""Issue 8: the reading pane's measure, its styles, its Link line, and the place kept across resizes."""

from __future__ import annotations

import re

import pytest
import tui_support
from rich.style import Style
from tui_support import WIDE, add_post, fill, make_app, screen_text, settle

from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.post_layout import MEASURE, build_header

pytestmark = [pytest.mark.usefixtures("utc")]

PARAGRAPHS = 120



def long_post() -> str:
    paragraph = " ".join(f"word{n}" for n in range(60))
    return "".join(f"<p>P{n:03d}: {paragraph}</p>" for n in range(PARAGRAPHS))


def paragraph_at_top(app: ReaderApp) -> int:
    return tui_support.paragraph_at_top(app, r"P(\d{3}):", default=0)




# 5. Measure, styles, Link ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_issue8_lines_keep_a_readable_measure_at_200_columns(store: Store) -> None:
    fill(store, seed=False)
    add_post(store, long_post())
    app = make_app(store)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        assert pane.post is not None and pane.post.width <= MEASURE
        assert pane.body.size.width <= MEASURE
        longest = max(len(strip.text.rstrip()) for strip in pane.post.lines)
        assert 80 <= longest <= MEASURE
        # And on screen: no line of the post is longer than the measure.
        body_lines = [line for line in screen_text(app).splitlines() if "word1" in line]
        assert body_lines and all(len(re.search(r"P?\d*:? ?word.*word\d+", ln).group(0)) <= MEASURE
                                  for ln in body_lines)


@pytest.mark.asyncio
async def test_issue8_headings_and_quotes_are_not_red(store: Store) -> None:
    fill(store, seed=False)
    add_post(store, "<h1>Big heading</h1><h2>Second</h2><h3>Third</h3><p>Text</p>"
                    "<blockquote><p>Quoted words</p></blockquote><p>After</p>")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        post = app.reading_pane.post
        assert post is not None
        styles: dict[str, Style] = {}
        for strip in post.lines:
            for segment in strip:
                for word in ("Big", "Second", "Third", "Quoted", "▌"):
                    if word in segment.text and segment.style is not None:
                        styles[word] = segment.style
        assert set(styles) == {"Big", "Second", "Third", "Quoted", "▌"}, styles
        for word, style in styles.items():
            # Colour-free: a theme can't turn them into its error red (Rich's magenta was).
            assert style.color is None and style.bgcolor is None, (word, style)
        assert styles["Big"].bold and styles["Second"].bold and styles["Third"].bold
        assert styles["Quoted"].italic and styles["Quoted"].dim and styles["▌"].dim


def test_issue8_header_has_a_safe_link_line(store: Store) -> None:
    fill(store, seed=False)
    add_post(store, "<p>x</p>", link="https://alice:s3cret@example.com/post?id=1")
    entry = store.get_entry(store.db.execute("SELECT id FROM entries WHERE key = 'long'").fetchone()[0])
    assert entry is not None
    header = build_header(entry).plain
    assert "Link: https://alice:***@example.com/post?id=1" in header and "s3cret" not in header
    entry.link = "javascript:alert(1)"
    assert "Link" not in build_header(entry).plain  # only http(s) is shown as a link
    entry.link = "https://example.com/\x1b]52;c;aGk=\x07"
    assert "\x1b" not in build_header(entry).plain


@pytest.mark.asyncio
async def test_issue8_link_line_shows_in_the_app(filled: Store) -> None:
    app = make_app(filled)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        posts = app.post_list
        posts.cursor = next(i for i in range(posts.row_count) if (posts.get_row(i).link or "").startswith("http"))
        await pilot.press("enter")
        await settle(pilot)
        link = posts.current_entry.link
        assert link and f"Link: {link}" in screen_text(app)


# 6. The reading position survives any sequence of resizes ------------------------------------------


@pytest.mark.asyncio
async def test_issue8_resizes_keep_the_reading_position(store: Store) -> None:
    fill(store, seed=False)
    add_post(store, long_post())
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert app.post_list.current_entry.title == "A long post"
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        middle = pane._body_top + len(pane.post.lines) // 2
        pane.scroll_to(y=middle, animate=False, immediate=True)
        await pilot.pause()
        start = paragraph_at_top(app)
        assert PARAGRAPHS // 2 - 3 <= start <= PARAGRAPHS // 2 + 3
        widths = []
        for size in ((100, 30), (80, 24), (120, 36), (200, 50), (140, 40)):
            await pilot.resize_terminal(*size)
            for _ in range(4):
                await settle(pilot)
            widths.append(pane.post.width)
            assert pane.post.width == pane.body.size.width, size  # laid out at the new width
            assert abs(paragraph_at_top(app) - start) <= 1, (size, paragraph_at_top(app), start)
        assert len(set(widths)) >= 4  # it really was laid out again at several widths


@pytest.mark.asyncio
async def test_issue8_quick_resizes_then_reading_on(store: Store) -> None:
    """Several resizes before any relayout lands, then the reader scrolls: the new place counts."""
    fill(store, seed=False)
    add_post(store, long_post())
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        pane.scroll_to(y=pane._body_top + len(pane.post.lines) // 3, animate=False, immediate=True)
        await pilot.pause()
        start = paragraph_at_top(app)
        for size in ((100, 30), (80, 24), (120, 36)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
        for _ in range(4):
            await settle(pilot)
        assert abs(paragraph_at_top(app) - start) <= 1
        # The reader moves on, then resizes again: the place is the new one.
        pane.scroll_to(y=pane._body_top + 3 * len(pane.post.lines) // 4, animate=False, immediate=True)
        await pilot.pause()
        moved = paragraph_at_top(app)
        assert moved > start + 20
        await pilot.resize_terminal(140, 40)
        for _ in range(4):
            await settle(pilot)
        assert abs(paragraph_at_top(app) - moved) <= 1


@pytest.mark.asyncio
async def test_issue8_resize_and_back_before_the_relayout_lands(store: Store) -> None:
    """A relayout for a width already gone must not stay: the post is laid out at the final width."""
    fill(store, seed=False)
    add_post(store, long_post())
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.reading_pane
        pane.scroll_to(y=pane._body_top + len(pane.post.lines) // 2, animate=False, immediate=True)
        await pilot.pause()
        start = paragraph_at_top(app)
        for pause in (False, True, False):
            await pilot.resize_terminal(120, 40)
            if pause:
                await pilot.pause()
            await pilot.resize_terminal(140, 40)
            await pilot.pause()
        for _ in range(4):
            await settle(pilot)
        assert pane.post.width == pane.body.size.width
        assert abs(paragraph_at_top(app) - start) <= 1
