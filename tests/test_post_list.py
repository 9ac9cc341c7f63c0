"""Pilot tests for the virtual post list."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot

from reader.models import EntryRow
from reader.sanitize import clean_line as clean_text
from reader.tui.widgets.post_list import PAGE_SIZE, ListRowSource, PostList, fit

N = 100_000
SIZE = (100, 30)  # terminal size; the list fills it (98 cells + scrollbar)
BASE_TIME = 1_700_000_000.0


def make_rows(n: int, start_id: int = 0) -> list[EntryRow]:
    return [
        EntryRow(
            id=start_id + i,
            feed_id=i % 13,
            feed_title=f"Feed {i % 13}",
            title=f"Post number {start_id + i}",
            published=BASE_TIME - i * 60,
            read=i % 3 == 0,
            starred=i % 7 == 0,
            author="someone",
            link=f"https://example.com/{start_id + i}",
        )
        for i in range(n)
    ]


class CountingSource(ListRowSource):
    """An in-memory source that records every fetch."""

    def __init__(self, rows: list[EntryRow]) -> None:
        super().__init__(rows)
        self.calls: list[tuple[int, int]] = []

    def rows(self, start: int, count: int) -> list[EntryRow]:
        self.calls.append((start, count))
        return super().rows(start, count)

    @property
    def fetched(self) -> int:
        return sum(count for _, count in self.calls)


class ListApp(App[None]):
    def __init__(self, source: CountingSource | None) -> None:
        super().__init__()
        self.animation_level = "none"
        self.source = source
        self.highlighted: list[tuple[int, int | None]] = []
        self.selected: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield PostList(self.source, id="posts")

    def on_post_list_highlighted(self, message: PostList.Highlighted) -> None:
        entry_id = message.entry.id if message.entry is not None else None
        self.highlighted.append((message.index, entry_id))

    def on_post_list_selected(self, message: PostList.Selected) -> None:
        self.selected.append((message.index, message.entry.id))


Body = Callable[[ListApp, Pilot[None], PostList], Awaitable[None]]


def run(body: Body, source: CountingSource | None = None, size=SIZE) -> None:
    """Run `body` against a mounted list (100,000 rows unless told)."""

    async def main() -> None:
        app = ListApp(source if source is not None else CountingSource(make_rows(N)))
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await body(app, pilot, app.query_one(PostList))

    asyncio.run(main())


def screen_row(post_list: PostList, index: int) -> str:
    return post_list.render_line(index - post_list.scroll_offset.y).text


def test_opens_focused_on_first_row() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        assert pl.has_focus
        assert pl.row_count == N
        assert pl.virtual_size.height == N
        assert pl.cursor == 0
        assert pl.current_entry is not None and pl.current_entry.id == 0
        width = pl.scrollable_content_region.width
        first = pl.render_line(0)
        assert first.cell_length == width
        assert "Post number 0" in first.text
        assert "Feed 0" in first.text
        assert time.strftime("%Y-%m-%d", time.localtime(BASE_TIME)) in first.text

    run(body)


def test_cursor_keys() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        height = pl.scrollable_content_region.height
        await pilot.press("j", "j", "down")
        assert pl.cursor == 3
        await pilot.press("k", "up")
        assert pl.cursor == 1
        await pilot.press("k", "k")
        assert pl.cursor == 0  # clamped
        await pilot.press("G")
        assert pl.cursor == N - 1
        assert pl.scroll_offset.y == N - height  # cursor row on screen
        await pilot.press("j")
        assert pl.cursor == N - 1  # clamped
        await pilot.press("g")
        assert pl.cursor == 0 and pl.scroll_offset.y == 0
        await pilot.press("end")
        assert pl.cursor == N - 1
        await pilot.press("home")
        assert pl.cursor == 0
        await pilot.press("j", "pagedown")
        assert pl.cursor == 1 + height
        assert pl.scroll_offset.y == height  # the cursor keeps its screen row
        await pilot.press("pageup")
        assert pl.cursor == 1 and pl.scroll_offset.y == 0
        # Moving past the bottom edge scrolls by one row.
        await pilot.press(*["j"] * (height + 4))
        assert pl.cursor == height + 5
        assert pl.cursor - pl.scroll_offset.y == height - 1
        await pilot.pause()
        assert app.highlighted[-1] == (pl.cursor, pl.cursor)
        assert "Post number" in screen_row(pl, pl.cursor)

    run(body, size=(100, 12))  # short, so crossing the bottom edge takes few presses


def test_highlighted_is_coalesced() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        await pilot.pause()
        app.highlighted.clear()
        for _ in range(10):
            pl.action_cursor_down()
        await pilot.pause()
        assert app.highlighted == [(10, 10)]

    run(body)


def test_enter_posts_selected() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert app.selected == [(2, 2)]

    run(body)


def test_click_selects_row_under_pointer() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        await pilot.click("#posts", offset=(20, 4))
        await pilot.pause()
        assert pl.cursor == 4
        assert app.selected == [(4, 4)]
        # After scrolling, the scroll offset is added.
        pl.scroll_to(y=500, animate=False)
        await pilot.pause()
        await pilot.click("#posts", offset=(20, 2))
        await pilot.pause()
        assert pl.cursor == 502
        assert app.selected[-1] == (502, 502)

    run(body)


def test_mouse_wheel_scrolls_without_moving_cursor() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        for _ in range(2):
            pl.post_message(events.MouseScrollDown(pl, 10, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert pl.scroll_offset.y > 0
        assert pl.cursor == 0

    run(body)


def test_keep_entry_when_rows_inserted_above() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        await pilot.press("pagedown", *["j"] * 7)
        before_entry = pl.current_entry
        assert before_entry is not None
        before_screen_row = pl.cursor - pl.scroll_offset.y
        before_text = screen_row(pl, pl.cursor)

        new_rows = make_rows(25, start_id=N + 1000)
        pl.set_source(CountingSource(new_rows + make_rows(N)), keep_entry_id=before_entry.id)
        await pilot.pause()
        assert pl.row_count == N + 25
        assert pl.current_entry is not None
        assert pl.current_entry.id == before_entry.id
        assert pl.cursor == before_entry.id + 25
        assert pl.cursor - pl.scroll_offset.y == before_screen_row
        assert screen_row(pl, pl.cursor) == before_text
        assert app.highlighted[-1] == (pl.cursor, before_entry.id)

    run(body)


def test_set_source_keep_entry_at_top_and_missing() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        # Cursor on row 0 at the top: new rows above push the view down with it.
        pl.set_source(CountingSource(make_rows(5, 10**6) + make_rows(N)), keep_entry_id=0)
        await pilot.pause()
        assert pl.cursor == 5 and pl.scroll_offset.y == 5
        # An entry the new source lacks: back to the top.
        pl.set_source(CountingSource(make_rows(50)), keep_entry_id=99_999)
        await pilot.pause()
        assert pl.cursor == 0 and pl.scroll_offset.y == 0
        assert pl.row_count == 50
        # No keep_entry_id: back to the top too.
        await pilot.press("G")
        pl.set_source(CountingSource(make_rows(50)))
        await pilot.pause()
        assert pl.cursor == 0 and pl.scroll_offset.y == 0

    run(body)


def test_hostile_titles_render_literally() -> None:
    hostile = [
        "[/]",
        "[@click=app.quit]x[/]",
        "[bold]b",
        "\x1b[31mred\x1b[0m",
        "two\nlines\r\tand tab",
        "rtl \u202eevil\u202c done",
    ]
    rows = make_rows(len(hostile))
    for row, title in zip(rows, hostile, strict=True):
        row.title = title
        row.feed_title = "[b]feed[/b]"

    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        texts = [pl.render_line(y).text for y in range(len(hostile))]
        assert "[/]" in texts[0]
        assert "[@click=app.quit]x[/]" in texts[1]
        assert "[bold]b" in texts[2]
        assert "[b]feed[/b]" in texts[0]
        assert "\x1b" not in texts[3] and "red" in texts[3] and "[31m" not in texts[3]  # the whole sequence goes
        assert "two lines and tab" in texts[4]
        assert "\u202e" not in texts[5] and "rtl evil done" in texts[5]
        width = pl.scrollable_content_region.width
        assert all(pl.render_line(y).cell_length == width for y in range(len(hostile)))
        # Clicking the "@click" row must not run the action.
        await pilot.click("#posts", offset=(40, 1))
        await pilot.pause()
        assert app.is_running
        assert app.selected == [(1, 1)]
        svg = app.export_screenshot()
        assert "app.quit" in svg

    run(body, CountingSource(rows))


def test_wide_characters_truncate_to_width() -> None:
    rows = make_rows(3)
    rows[0].title = "漢字のタイトル" * 30
    rows[0].feed_title = "日本語のフィード名前はとても長い"
    rows[1].title = "a" + "漢" * 200  # odd cell offset before the cut

    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        width = pl.scrollable_content_region.width
        for y in range(3):
            strip = pl.render_line(y)
            assert strip.cell_length == width
            assert cell_len(strip.text) == width
        assert pl.render_line(0).text.rstrip().endswith("…")
        assert "  日本語のフィード…   漢字" in pl.render_line(0).text

    run(body, CountingSource(rows))


def test_narrow_widths_never_overflow() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        for width in (60, 45, 30, 12, 3):
            await pilot.resize_terminal(width, 10)
            await pilot.pause()
            content = pl.scrollable_content_region.width
            for y in range(5):
                assert pl.render_line(y).cell_length == content

    run(body, CountingSource(make_rows(200)))


def test_fetches_are_bounded() -> None:
    source = CountingSource(make_rows(N))

    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        # Opening at 100k rows fetches the first page only.
        assert source.calls == [(0, PAGE_SIZE)]
        await pilot.press("G")
        await pilot.pause()
        # The last screen straddles at most two pages.
        assert len(source.calls) <= 3
        assert source.fetched <= 3 * PAGE_SIZE
        await pilot.press("g", *["j"] * 10, "pagedown", "pagedown")
        await pilot.pause()
        assert source.fetched <= 5 * PAGE_SIZE
        assert all(count == PAGE_SIZE for _, count in source.calls)

    run(body, source)


def test_update_row_repaints_without_refetch() -> None:
    source = CountingSource(make_rows(N))

    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        # Row 1 is unread and not starred.
        assert screen_row(pl, 1).startswith("● ")
        calls = len(source.calls)
        assert pl.update_row(1, read=True, starred=True) == 1
        await pilot.pause()
        assert screen_row(pl, 1).startswith(" ★")
        assert len(source.calls) == calls
        assert pl.update_row(10**9, read=True) is None

    run(body, source)


def test_cursor_style_differs_with_focus() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        focused_cursor = pl.render_line(0)
        plain_row = pl.render_line(1)
        cursor_bg = focused_cursor._segments[-1].style.bgcolor
        assert cursor_bg != plain_row._segments[-1].style.bgcolor
        pl.blur()
        await pilot.pause()
        assert not pl.has_focus
        blurred_cursor = pl.render_line(0)
        assert blurred_cursor.text == focused_cursor.text
        assert blurred_cursor._segments[-1].style != focused_cursor._segments[-1].style

    run(body)


def test_keymap_rebinds_by_id() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        app.set_keymap({"post_list.down": "n", "post_list.bottom": "b"})
        await pilot.press("n", "n")
        assert pl.cursor == 2
        await pilot.press("b")
        assert pl.cursor == N - 1

    run(body)


def test_empty_source_shows_message() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        height = pl.scrollable_content_region.height
        lines = [pl.render_line(y).text for y in range(height)]
        assert lines[height // 2].strip() == "No posts match"
        assert sum(bool(line.strip()) for line in lines) == 1
        assert pl.current_entry is None
        await pilot.press("j", "G", "enter")
        await pilot.pause()
        assert pl.cursor == 0 and app.selected == []
        pl.empty_text = "[b]Nothing[/b] here"
        await pilot.pause()
        assert pl.render_line(height // 2).text.strip() == "[b]Nothing[/b] here"

    run(body, CountingSource([]))


def test_render_screen_is_fast() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        region = Region(0, 0, pl.size.width, pl.size.height)
        pl.scroll_to(y=54_321, animate=False)
        await pilot.pause()
        pl._strips.clear()
        start = time.perf_counter()
        pl.render_lines(region)  # cold: strips built (pages already cached)
        cold = time.perf_counter() - start
        # Generous bound to stay reliable on slow CI machines.
        assert cold < 0.05, cold

    run(body, size=(120, 52))


def test_first_highlighted_posted_on_mount() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        assert app.highlighted[0] == (0, 0)
        assert pl.max_scroll_x == 0

    run(body)


def test_set_source_after_empty_start() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        assert app.highlighted == [(0, None)]
        pl.set_source(CountingSource(make_rows(N)), keep_entry_id=123)
        await pilot.pause()
        assert pl.row_count == N and pl.virtual_size.height == N
        assert pl.cursor == 123 and pl.current_entry is not None
        assert pl.current_entry.id == 123
        assert pl.scroll_offset.y <= 123 < pl.scroll_offset.y + pl.scrollable_content_region.height
        assert app.highlighted[-1] == (123, 123)
        assert "Post number 123" in screen_row(pl, 123)

    run(body, CountingSource([]))


def test_fit_and_clean_text() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abcdef", 4) == "abc…"
    assert fit("ab  cdef", 4) == "ab… "  # no space before the ellipsis
    assert fit("漢字漢字", 5) == "漢字…"
    assert fit("a漢字漢字", 5) == "a漢… "
    assert fit("anything", 1) == "…"
    assert fit("anything", 0) == ""
    for text in ("hello", "漢字のタイトル", "a漢字", "x" * 40, "mixed é and 漢"):
        for width in range(1, 30):
            assert cell_len(fit(text, width)) == width
    assert clean_text("  a\tb\n\nc \x1b[2J\x07 d\u202e ") == "a b c d"
    assert clean_text(None) == ""
    assert clean_text("plain title") == "plain title"


def test_keep_entry_scrolled_out_of_view_keeps_the_view() -> None:
    async def body(app: ListApp, pilot: Pilot[None], pl: PostList) -> None:
        await pilot.press("j", "j")
        pl.scroll_to(y=300, animate=False)  # as the mouse wheel would
        await pilot.pause()
        top_text = pl.render_line(0).text
        pl.set_source(CountingSource(make_rows(10, 10**6) + make_rows(N)), keep_entry_id=2)
        await pilot.pause()
        assert pl.cursor == 12
        assert pl.scroll_offset.y == 310
        assert pl.render_line(0).text == top_text

    run(body)
