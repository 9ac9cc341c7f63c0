"""A virtual post list on Textual's Line API.

Only the rows on screen are ever rendered, and rows are fetched from the
source lazily in pages, so the widget opens and moves instantly whether the
source holds ten rows or a hundred thousand.

Feed text is hostile: titles and feed names are never parsed as markup, and
control characters (escape sequences, newlines, bidi overrides) are replaced
before they reach the terminal.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Protocol, runtime_checkable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.dates import format_day
from reader.feednames import shorten_suffix
from reader.models import EntryRow
from reader.sanitize import clean_line, mask_credentials

__all__ = ["MAX_PAGES", "PAGE_SIZE", "ListRowSource", "PostList", "RowSource"]

PAGE_SIZE = 100
"""Rows fetched from the source per call."""

MAX_PAGES = 50
"""Pages kept in the LRU page cache."""

_STRIP_CACHE_SIZE = 1024

_MARK_UNREAD = "●"
_MARK_STAR = "★"
_DATE_WIDTH = 10  # "%Y-%m-%d"
_GAP = "  "


@runtime_checkable
class RowSource(Protocol):
    """What the post list reads its rows from.

    A source may also have `index_of(entry_id) -> int | None`, which
    `PostList.set_source(..., keep_entry_id=...)` uses to keep the cursor on
    the same entry.
    """

    def __len__(self) -> int: ...

    def rows(self, start: int, count: int) -> list[EntryRow]: ...


class ListRowSource:
    """A `RowSource` over an in-memory list (for tests and small listings)."""

    def __init__(self, rows: list[EntryRow]) -> None:
        self._rows = rows
        self._index: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, start: int, count: int) -> list[EntryRow]:
        return self._rows[start : start + count]

    def index_of(self, entry_id: int) -> int | None:
        if self._index is None:
            self._index = {row.id: i for i, row in enumerate(self._rows)}
        return self._index.get(entry_id)


# Characters that must never reach the terminal: C0/C1 controls (ESC starts
# escape sequences), DEL, and the bidi embedding/override/isolate controls
# that can reorder the rest of the line.
def fit(text: str, width: int) -> str:
    """Pad or truncate `text` (with `…`) to exactly `width` cells."""
    if width <= 0:
        return ""
    if text.isascii() and text.isprintable():  # one cell per character
        if len(text) <= width:
            return text + " " * (width - len(text))
        cut = text[: width - 1].rstrip()
        return cut + "…" + " " * (width - 1 - len(cut))
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width == 1:
        return "…"
    # set_cell_size pads with a space when it splits a double-width char;
    # put the ellipsis right after the text and pad after it instead.
    cut = set_cell_size(text, width - 1).rstrip()
    return cut + "…" + " " * (width - 1 - cell_len(cut))


@lru_cache(maxsize=4096)
def _fit_feed(feed_title: str, width: int) -> str:
    # Feed titles repeat on every row of a feed: clean and fit each once. A feed with no
    # title is shown by its URL, whose credentials must not be.
    return fit(clean_line(mask_credentials(feed_title)), width)


@lru_cache(maxsize=1024)
def _fit_qualified(title: str, suffix: str, width: int) -> str:
    """A feed of a shared title, "Title (example.com/comments)", in `width` cells.

    The qualifier is what tells the feed from the others of its title, so the title is
    cut first; a qualifier too long even so keeps its end (the part of the path that
    differs) and loses its start. Both parts come cleaned from feed_labels.
    """
    if cell_len(title) + cell_len(suffix) <= width or width < 8:
        return fit(title + suffix, width)
    room = width - cell_len(suffix)
    keep = min(cell_len(title), max(1, width // 4))  # a little of the title stays
    if room >= keep:
        return fit(title, room) + suffix
    short = shorten_suffix(suffix, width - keep)
    return fit(fit(title, width - cell_len(short)).rstrip() + short, width)  # the room the cut left goes back


class PostList(ScrollView, can_focus=True):
    """A virtual list of posts, one line per post, fed by a `RowSource`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Next", show=False, id="post_list.down"),
        Binding("k,up", "cursor_up", "Previous", show=False, id="post_list.up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="post_list.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="post_list.page_up"),
        Binding("g,home", "first", "Top", show=False, id="post_list.top"),
        Binding("G,end", "last", "Bottom", show=False, id="post_list.bottom"),
        Binding("enter", "select", "Open", show=True, id="post_list.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "post-list--cursor",
        "post-list--unread",
        "post-list--read",
        "post-list--date",
        "post-list--feed",
        "post-list--star",
        "post-list--empty",
    }
    """
    | Class | Description |
    | :- | :- |
    | `post-list--cursor` | The highlighted row (muted unless the list has focus). |
    | `post-list--unread` | Unread rows (the marker and the title). |
    | `post-list--read` | Read rows (the whole row). |
    | `post-list--date` | The date column of unread rows. |
    | `post-list--feed` | The feed column of unread rows. |
    | `post-list--star` | The star marker. |
    | `post-list--empty` | The message shown when there are no rows. |
    """

    DEFAULT_CSS = """
    PostList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        & > .post-list--unread {
            color: $foreground;
            text-style: bold;
        }
        & > .post-list--read {
            color: $text-muted;
        }
        & > .post-list--date {
            color: $text-secondary;
        }
        & > .post-list--feed {
            color: $text-accent;
        }
        & > .post-list--star {
            color: $text-warning;
        }
        & > .post-list--empty {
            color: $text-muted;
        }
        & > .post-list--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .post-list--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the highlighted row."""

    empty_text: reactive[str] = reactive("No posts match")
    """Shown (centred, dim) when the source has no rows."""

    class Highlighted(Message):
        """The cursor moved to another row (rapid moves are coalesced)."""

        def __init__(self, entry: EntryRow | None, index: int, post_list: PostList | None = None) -> None:
            super().__init__()
            self.entry = entry
            """The highlighted row, or None when the list is empty."""
            self.index = index
            self.post_list = post_list

        @property
        def control(self) -> PostList | None:
            return self.post_list

    class Selected(Message):
        """A row was chosen (Enter, or a click on it)."""

        def __init__(self, entry: EntryRow, index: int, post_list: PostList | None = None) -> None:
            super().__init__()
            self.entry = entry
            self.index = index
            self.post_list = post_list

        @property
        def control(self) -> PostList | None:
            return self.post_list

    def __init__(
        self,
        source: RowSource | None = None,
        *,
        empty_text: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._source: RowSource | None = source
        self._length = len(source) if source is not None else 0
        self._pages: LRUCache[int, list[EntryRow]] = LRUCache(MAX_PAGES)
        self._strips: LRUCache[tuple[int, int, bool, bool], Strip] = LRUCache(_STRIP_CACHE_SIZE)
        self._styles: dict[tuple[bool, bool, bool], tuple[Style, ...]] = {}
        self._highlight_pending = False
        self._frame: tuple[int, int, int, bool] | None = None
        self._feed_names: dict[int, tuple[str, str]] = {}  # feed id -> (title, suffix), shared titles only
        if empty_text is not None:
            self.set_reactive(PostList.empty_text, empty_text)

    # ------------------------------------------------------------------ data

    @property
    def source(self) -> RowSource | None:
        return self._source

    @property
    def row_count(self) -> int:
        """Number of rows in the current source."""
        return self._length

    def set_source(self, source: RowSource | None, keep_entry_id: int | None = None) -> None:
        """Show the rows of a new source (after a filter change or a refresh).

        With `keep_entry_id`, and a source that has `index_of`, the cursor stays
        on that entry at the same screen row, so posts appearing above it don't
        move what the user is looking at (if the cursor was scrolled out of
        view, the view stays put instead). Otherwise the cursor goes to row 0.
        """
        screen_row = self.cursor - self.scroll_offset.y
        self._source = source
        old_length = self._length
        self._length = len(source) if source is not None else 0
        if self._length != old_length and self.is_mounted:
            self.refresh(layout=True)  # a list sized to its rows (height: auto) grows or shrinks
        self._pages.clear()
        self._strips.clear()

        index: int | None = None
        if keep_entry_id is not None and source is not None:
            index_of = getattr(source, "index_of", None)
            if callable(index_of):
                index = index_of(keep_entry_id)
        kept = index is not None and 0 <= index < self._length
        if not kept:
            index = 0
        assert index is not None

        self.set_reactive(PostList.cursor, index)
        if not self.is_mounted:
            return  # on_mount sizes the list and posts the first Highlighted
        self._update_virtual_size()
        # scroll_y is clamped to the new range by its validator.
        self.scroll_to(y=max(0, index - screen_row) if kept else 0, animate=False, force=True)
        self.refresh()
        self._queue_highlight()

    def set_feed_names(self, labels: dict[int, tuple[str, str]]) -> None:
        """Name the feed column's feeds as the sidebar does (Sidebar.feed_names: label, suffix).

        Only feeds whose titles clash are kept: their rows show "Title (qualifier)", so a
        post's feed can be told from the others of that title. Set once per load of the
        feeds; rows look their feed up in it, nothing is worked out per row.
        """
        names = {
            feed_id: (label.removesuffix(suffix), suffix) for feed_id, (label, suffix) in labels.items() if suffix
        }
        if names != self._feed_names:
            self._feed_names = names
            self._strips.clear()
            self.refresh()

    def get_row(self, index: int) -> EntryRow | None:
        """The row at `index` (fetching its page if needed), or None."""
        if not 0 <= index < self._length or self._source is None:
            return None
        page_no, offset = divmod(index, PAGE_SIZE)
        page = self._pages.get(page_no)
        if page is None:
            page = list(self._source.rows(page_no * PAGE_SIZE, PAGE_SIZE))
            self._pages[page_no] = page
        return page[offset] if offset < len(page) else None

    @property
    def current_entry(self) -> EntryRow | None:
        """The row under the cursor, or None when the list is empty."""
        return self.get_row(self.cursor)

    def update_row(self, entry_id: int, **changes: object) -> int | None:
        """Patch a cached row in place (e.g. `read=True`) and repaint just it.

        The source is expected to return the changed row on its next fetch
        anyway; this only avoids refetching. Returns the row's index, or None
        if it is not cached (then nothing on screen shows it).
        """
        for page_no in list(self._pages.keys()):
            page = self._pages.get(page_no) or []
            for offset, row in enumerate(page):
                if row.id == entry_id:
                    for field_name, value in changes.items():
                        setattr(row, field_name, value)
                    index = page_no * PAGE_SIZE + offset
                    self.refresh_row(index)
                    return index
        return None

    def refresh_row(self, index: int) -> None:
        """Repaint one row (re-render it from the cached EntryRow)."""
        width = self._render_width
        for is_cursor in (False, True):
            for focused in (False, True):
                self._strips.discard((index, width, is_cursor, focused))
        self._refresh_index(index)

    def _refresh_index(self, index: int) -> None:
        top = self.scroll_offset.y
        if top <= index < top + self.size.height:
            self.refresh_line(index)

    # ------------------------------------------------------------ geometry

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # One line per row (at least one, for the empty text): with `height: auto` a short
        # list takes only the lines it needs, leaving the rest to the reading pane.
        return max(self._length, 1)

    @property
    def _render_width(self) -> int:
        return self.scrollable_content_region.width

    @property
    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _update_virtual_size(self) -> None:
        # Content width less a (possible) vertical scrollbar, so there is never
        # anything to scroll horizontally.
        width = max(0, self.size.width - self.styles.scrollbar_size_vertical)
        self.virtual_size = Size(width, self._length)

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        cursor = self.cursor
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, force=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, force=True)

    def on_mount(self) -> None:
        # ScrollView.on_mount runs too (handlers are dispatched per class).
        self._update_virtual_size()
        self._queue_highlight()

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._update_virtual_size()
        self.call_after_refresh(self._scroll_cursor_visible)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def on_focus(self, event: events.Focus) -> None:
        # Widget._on_focus runs too (handlers are dispatched per class in the MRO).
        self._styles.clear()
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._styles.clear()
        self.refresh()

    # -------------------------------------------------------------- cursor

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self._length - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_index(old)
        self._refresh_index(new)
        self._scroll_cursor_visible()
        self._queue_highlight()

    def _queue_highlight(self) -> None:
        if not self._highlight_pending:
            self._highlight_pending = True
            self.call_later(self._post_highlighted)

    def _post_highlighted(self) -> None:
        self._highlight_pending = False
        index = self.cursor
        self.post_message(self.Highlighted(self.get_row(index), index, self))

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        height = self._page_height
        self.scroll_to(y=self.scroll_offset.y + height, animate=False, force=True)
        self.cursor += height

    def action_page_up(self) -> None:
        height = self._page_height
        self.scroll_to(y=max(0, self.scroll_offset.y - height), animate=False, force=True)
        self.cursor -= height

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self._length - 1

    def action_select(self) -> None:
        index = self.cursor
        entry = self.get_row(index)
        if entry is not None:
            self.post_message(self.Selected(entry, index, self))

    def on_click(self, event: events.Click) -> None:
        if event.chain > 1:
            return
        offset = event.get_content_offset(self)
        if offset is None or offset.x >= self._render_width:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < self._length:
            event.stop()
            self.cursor = index
            self.action_select()

    # ------------------------------------------------------------ rendering

    def _row_styles(self, is_cursor: bool, read: bool) -> tuple[Style, ...]:
        """(marker, star, date, feed, title, gap) styles for one kind of row."""
        key = (is_cursor, read, self.has_focus)
        styles = self._styles.get(key)
        if styles is not None:
            return styles
        get = self.get_component_rich_style
        base = self.rich_style
        if is_cursor:
            cursor = base + get("post-list--cursor")
            title = cursor + Style(bold=True) if not read else cursor
            styles = (title, cursor, cursor, cursor, title, cursor)
        elif read:
            muted = base + get("post-list--read")
            star = base + get("post-list--star")
            styles = (muted, star, muted, muted, muted, base)
        else:
            unread = base + get("post-list--unread")
            styles = (
                unread,
                base + get("post-list--star"),
                base + get("post-list--date"),
                base + get("post-list--feed"),
                unread,
                base,
            )
        self._styles[key] = styles
        return styles

    def _render_row(self, entry: EntryRow, width: int, is_cursor: bool) -> Strip:
        marker_style, star_style, date_style, feed_style, title_style, gap_style = self._row_styles(
            is_cursor, entry.read
        )
        if width >= 50:
            feed_width = 18
        elif width >= 36:
            feed_width = 10
        else:
            feed_width = 0
        fixed = 3 + _DATE_WIDTH + len(_GAP) + (feed_width + len(_GAP) if feed_width else 0)
        segments = [
            Segment(" " if entry.read else _MARK_UNREAD, marker_style),
            Segment(_MARK_STAR if entry.starred else " ", star_style),
            Segment(" ", gap_style),
            Segment(format_day(entry.published), date_style),
            Segment(_GAP, gap_style),
        ]
        if feed_width:
            named = self._feed_names.get(entry.feed_id)
            feed = _fit_feed(entry.feed_title, feed_width) if named is None else _fit_qualified(*named, feed_width)
            segments.append(Segment(feed, feed_style))
            segments.append(Segment(_GAP, gap_style))
        title_width = width - fixed
        if title_width > 0:
            title = clean_line(entry.title) or "(untitled)"
            segments.append(Segment(fit(title, title_width), title_style))
            return Strip(segments, width)
        return Strip(segments).adjust_cell_length(width, gap_style)

    def _render_empty(self, y: int, width: int) -> Strip:
        base = self.rich_style
        if y != self.scrollable_content_region.height // 2:
            return Strip.blank(width, base)
        text = clean_line(self.empty_text)
        length = cell_len(text)
        if length > width:
            text, length = fit(text, width), width
        left = (width - length) // 2
        style = base + self.get_component_rich_style("post-list--empty")
        return Strip(
            [
                Segment(" " * left, base),
                Segment(text, style),
                Segment(" " * (width - left - length), base),
            ],
            width,
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        # Work out what every line needs once per paint, not once per line.
        self._frame = (self._render_width, self.scroll_offset.y, self.cursor, self.has_focus)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        frame = self._frame
        if frame is None:
            frame = (self._render_width, self.scroll_offset.y, self.cursor, self.has_focus)
        width, top, cursor, focused = frame
        if self._length == 0:
            return self._render_empty(y, width)
        index = top + y
        if not 0 <= index < self._length:
            return Strip.blank(width, self.rich_style)
        is_cursor = index == cursor
        key = (index, width, is_cursor, focused)
        strip = self._strips.get(key)
        if strip is None:
            entry = self.get_row(index)
            if entry is None:
                return Strip.blank(width, self.rich_style)
            strip = self._render_row(entry, width, is_cursor)
            self._strips[key] = strip
        return strip

    def watch_empty_text(self) -> None:
        self.refresh()
