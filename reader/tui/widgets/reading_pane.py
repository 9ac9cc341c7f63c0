"""The reading pane: a header (title, feed, author, date, categories), the body, the numbered links.

The post is built and laid out off the UI thread (reader/tui/post_layout.py: `build_post`);
this widget shows the result (PostBody, reader/tui/widgets/post_body.py), keeps the reader's
place across resizes and relayouts, and scrolls. Its inline images (decoded in a worker,
spliced in as they come) are the PostImages mixin, reader/tui/widgets/post_images.py.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from reader.models import EntryRow
from reader.tui.post_layout import MEASURE, OpenPost, build_header
from reader.tui.widgets.post_body import PostBody
from reader.tui.widgets.post_images import PostImages

PLACEHOLDER = "Select a post and press Enter to read it."


class ReadingPane(PostImages, VerticalScroll, can_focus=False):
    """Scrolls the open post. `post` is None when nothing is open.

    It takes the focus (Tab, or a narrow screen) only while a post is open: an empty
    pane would be a focus stop where no key does anything.

    The reading position is kept across any sequence of resizes: it is remembered as the
    block of the post (paragraph, heading, list, the links) at the top of the pane and how far
    into that block's lines the top is, and only when the reader moves (a scroll at a settled
    size and width); a resize's own effects (a taller pane clamping the scroll, a relayout at
    another width) never change it. At each new final width the post is laid out again and
    scrolled back to the same place in the same block. (Not a fraction of all the lines:
    those don't scale together with the width, as blank lines and short lines don't re-wrap,
    so deep in a post a fraction lands paragraphs away.)
    """

    DEFAULT_CSS = f"""
    ReadingPane > #post-header {{ max-width: {MEASURE}; }}
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Post: scroll down", show=False, id="reading.down"),
        Binding("k", "scroll_up", "Post: scroll up", show=False, id="reading.up"),
        Binding("g", "scroll_home", "Post: top", show=False, id="reading.top"),
        Binding("G", "scroll_end", "Post: bottom", show=False, id="reading.bottom"),
    ]

    class Relayout(Message):
        """The pane's width changed: `post` needs laying out again at `width` (in a worker)."""

        def __init__(self, post: OpenPost, width: int) -> None:
            super().__init__()
            self.post = post
            self.width = width

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.post: OpenPost | None = None
        self.pending_id: int | None = None
        self._previewed: int | None = None
        # The reading position: (block, fraction of that block's lines above the top), or
        # "still in the header".
        self._block = 0
        self._fraction = 0.0
        self._in_header = True
        # (pane size, body width) at which the position was last taken or restored; a
        # scroll at any other size is the layout's doing, not the reader's.
        self._settled: tuple[Size, int] | None = None
        self._restoring = False
        self._requested_width = 0  # the width of the relayout asked for last
        self._init_images()

    @property
    def body(self) -> PostBody:
        return self.query_one("#post-body", PostBody)

    @property
    def body_width(self) -> int:
        """The width to lay posts out at (a guess from the screen while the pane is hidden)."""
        width = self.body.size.width
        if width <= 0:
            width = min(self.app.size.width - 4, MEASURE)
        return max(width, 20)

    @property
    def _body_top(self) -> int:
        """Lines above the body's first line: the header and its padding."""
        return self.query_one("#post-header", Static).outer_size.height

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._remember_position()

    def _remember_position(self) -> None:
        post = self.post
        if post is None or self.pending_id is not None or self._restoring or not post.lines:
            return
        width = self.body.size.width
        if post.width != width or self._settled != (self.size, width):
            return  # mid-resize: this scroll is the layout clamping, not the reader moving
        offset = int(self.scroll_y) - self._body_top
        self._in_header = offset < 0
        starts = post.starts or [0]
        block = max(bisect_right(starts, max(offset, 0)) - 1, 0)
        end = starts[block + 1] if block + 1 < len(starts) else len(post.lines)
        self._block = block
        self._fraction = (max(offset, 0) - starts[block]) / max(end - starts[block], 1)

    def _place(self, post: OpenPost) -> int:
        """The scroll offset of the remembered position in `post` as it is laid out now."""
        if self._in_header:
            return 0
        starts = post.starts or [0]
        block = min(self._block, len(starts) - 1)
        end = starts[block + 1] if block + 1 < len(starts) else len(post.lines)
        size = max(end - starts[block], 1)
        # Floor (with a hair for float error), so that at an unchanged width the same line
        # comes back, and the place never leaves its block.
        into = min(int(self._fraction * size + 1e-9), size - 1)
        return self._body_top + starts[block] + into

    def _settle_here(self) -> None:
        """Take the position as it is now, at the current size (after opening a post)."""
        post = self.post
        width = self.body.size.width
        if post is not None and post.width == width:
            self._settled = (self.size, width)
            self._remember_position()
        else:
            self._settled = None

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._sync_position)

    def body_resized(self, width: int) -> None:
        self.call_after_refresh(self._sync_position)

    def _sync_position(self, tries: int = 5) -> None:
        """After a resize or a relayout: ask for a layout at the new width, or go back to the position."""
        post = self.post
        if post is None or self.pending_id is not None:
            return  # a post being opened is laid out at the new width anyway
        width = self.body.size.width
        if width <= 0:
            return  # hidden (the list on a narrow screen): done when it shows again
        if post.width != width:
            if self._requested_width != width:
                self._requested_width = width
                self.post_message(self.Relayout(post, width))
            return
        if self._settled == (self.size, width):
            return
        target = self._place(post)
        if self.max_scroll_y < target and tries:
            # The new lines are not laid out yet (a busy machine): scrolling now would be clamped.
            self.call_after_refresh(self._sync_position, tries - 1)
            return
        self._restoring = True
        try:
            self.scroll_to(y=target, animate=False, immediate=True)
        finally:
            self._restoring = False
        self._settled = (self.size, width)

    def relaid(self, post: OpenPost, lines: list[Strip], starts: list[int], width: int) -> None:
        if post is not self.post:
            return
        post.lines, post.starts, post.width = lines, starts, width
        self._requested_width = 0
        self._send_pictures(post)
        self.body.set_lines(lines)
        # After the new lines are laid out: restore there, or (a width already gone) ask again.
        self.call_after_refresh(self._sync_position)
        self._redraw_stale(post, width)  # pictures decoded while this layout was being made

    def compose(self):
        yield Static(Text(PLACEHOLDER, style="dim"), id="post-header", markup=False)
        yield PostBody(id="post-body")

    def _reset_position(self) -> None:
        self._block, self._fraction, self._in_header, self._settled, self._requested_width = 0, 0.0, True, None, 0
        self._restoring = False

    def on_unmount(self) -> None:
        self._leave_post()

    def show_loading(self, row: EntryRow) -> None:
        """Show the header straight away while the body renders."""
        self._leave_post()
        self.pending_id = row.id
        self.can_focus = True
        self._reset_position()
        self.query_one("#post-header", Static).update(build_header(row))
        self.body.set_placeholder(Text("Loading…", style="dim"))
        self.scroll_home(animate=False)

    def show_preview(self, entry_id: int, lines: list[Strip]) -> bool:
        """Show the first screenful of the post being opened. False if it is no longer wanted."""
        if self.pending_id != entry_id:
            return False
        self.body.set_lines(lines)
        self._previewed = entry_id
        return True

    def show(self, post: OpenPost) -> None:
        previewed = self._previewed == post.entry.id
        self._previewed = None
        if post is not self.post:
            self._leave_post()  # (another post, or the other text of this one, with or without show_loading)
        self.post = post
        self.pending_id = None
        self._reset_position()
        self.query_one("#post-header", Static).update(post.header)
        self._send_pictures(post)
        self.body.set_lines(post.lines)
        if not previewed:
            self.scroll_home(animate=False)  # after a preview, the reader may have scrolled already
        # Once the lines are laid out: take the position (the reader may have scrolled the
        # preview), or lay the post out again if the width changed while it was being built.
        self.call_after_refresh(self._after_show, post)
        # Then the pictures, decoded in a worker after this text is on the screen.
        self._start_images(post)

    def _after_show(self, post: OpenPost) -> None:
        if post is not self.post:
            return
        if post.width == self.body.size.width:
            self._settle_here()
        else:
            self._sync_position()

    def update_header(self) -> None:
        if self.post is not None:
            post = self.post
            post.header = build_header(post.entry, post.entry.categories, post.shown, post.downloads)
            self.query_one("#post-header", Static).update(post.header)

    def clear(self) -> None:
        self._leave_post()
        self.post = None
        self.pending_id = None
        self.can_focus = False
        self._reset_position()
        self.query_one("#post-header", Static).update(Text(PLACEHOLDER, style="dim"))
        self.body.set_placeholder(None)

    @property
    def laid_out(self) -> bool:
        """Whether the layout has caught up with the lines set last (so `max_scroll_y` is theirs)."""
        body = self.body
        return body.size.height == body.get_content_height(Size(0, 0), Size(0, 0), 0)

    @property
    def at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y

    def _scroll_now(self, lines: int) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()  # (as Textual's own scroll actions: the key goes on to the app)
        self.scroll_to(y=self.scroll_y + lines, animate=False, immediate=True)

    # Textual's scroll actions scroll after the next refresh, from the position before the
    # scrolls still waiting: held-down j moved one line a burst. These move at once.
    def action_scroll_down(self) -> None:
        self._scroll_now(1)

    def action_scroll_up(self) -> None:
        self._scroll_now(-1)

    def action_page_down(self) -> None:
        self._scroll_now(self.scrollable_content_region.height)

    def action_page_up(self) -> None:
        self._scroll_now(-self.scrollable_content_region.height)

    def page_down(self) -> None:
        """One page down, now: not after the next refresh, as Textual's `scroll_page_down`
        does, which computes each page from the position before the ones still waiting,
        so a burst of presses moved one page. Now each press counts, and `at_end` is true
        at once when this page reached the end."""
        self.scroll_to(y=self.scroll_y + self.scrollable_content_region.height, animate=False, immediate=True)
