"""The reading pane: a header (title, feed, author, date, categories), the body, the numbered links.

The body is html2text's Markdown drawn by Rich's Markdown with hyperlinks off, so
no text from a feed becomes a clickable link or a Textual action. Building it is
done off the UI thread (`build_post`); this widget only shows the result.

Images: each is a block of its own (ImageBlock), drawn as `[image: alt]` when the post is
first shown, so the text paints as fast as without images. Then a worker decodes the
cached ones (and downloads the others) one at a time and the pane splices each picture's
lines in place of its placeholder; an image landing above the reader's place scrolls with
it, so what the reader looks at doesn't move. Pictures are Kitty's Unicode placeholders in
Kitty and Ghostty (sent to the terminal first, through the driver), half-block cells
everywhere else: see reader/images/__init__.py for why, and why not textual-image.
"""

from __future__ import annotations

import copy
import io
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.theme import Theme
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from reader.dates import format_time
from reader.models import Entry, EntryRow
from reader.sanitize import clean_line, mask_credentials, safe_url

if TYPE_CHECKING:
    # Imported where used: rich.markdown brings markdown-it and Pygments, ~45 ms the app's
    # start need not wait for; Pillow (the images) another ~30.
    from markdown_it.token import Token
    from rich.console import ConsoleOptions, RenderResult
    from rich.markdown import Markdown

    from reader.images.cache import ImageCache
    from reader.images.cells import Picture
    from reader.render import ImageRef

PLACEHOLDER = "Select a post and press Enter to read it."

# The longest line a post is laid out at: lines of 165 characters at 200 columns are hard to
# read. The pane is wider than this on a big screen; the text keeps this measure.
MEASURE = 100

# How posts' Markdown looks. Rich's defaults colour headings and quotes magenta, which a
# Textual theme shows as its error red; these use weight and slant only, so they suit every theme.
POST_THEME = Theme({
    "markdown.h1": "bold underline",
    "markdown.h1.border": "dim",
    "markdown.h2": "bold underline",
    "markdown.h3": "bold",
    "markdown.h4": "bold italic",
    "markdown.h5": "italic",
    "markdown.h6": "dim italic",
    "markdown.h7": "dim italic",
    "markdown.block_quote": "dim italic",  # drawn with Rich's left bar, "▌"
    "markdown.code": "bold",
    "markdown.list": "bold",
    "markdown.item.number": "bold",
    "markdown.hr": "dim",
    "markdown.table.border": "dim",
    "markdown.table.header": "bold",
    "markdown.link": "underline",
    "markdown.link_url": "underline",
    "markdown.kbd": "bold",
})

_post_consoles: dict[tuple[int, str | None], Console] = {}
_post_consoles_lock = threading.Lock()


def post_console(console: Console) -> Console:
    """A console like `console` but with POST_THEME, made once.

    A separate console, not `console.use_theme()`: Rich's theme stack is shared between
    threads, and posts are laid out in workers while the UI thread draws with the app's console.
    """
    key = (id(console), console.color_system)
    with _post_consoles_lock:
        found = _post_consoles.get(key)
        if found is None:
            found = Console(
                file=io.StringIO(), theme=POST_THEME, color_system=console.color_system,  # type: ignore[arg-type]
                force_terminal=True, legacy_windows=False, markup=False, emoji=False, highlight=False,
                width=console.width,
            )
            _post_consoles[key] = found
        return found


@dataclass
class OpenPost:
    """What the pane shows: the post and its rendered parts."""

    entry: Entry
    header: Text
    body: RenderableType
    links: list[str] = field(default_factory=list)
    lines: list[Strip] = field(default_factory=list)  # `body` rendered at `width`
    width: int = 0
    # The body's top-level blocks (paragraphs, headings, lists, the links), drawn one after
    # another; `starts[i]` is the line where block i begins at `width`. The reading position
    # is kept as a place in a block, which survives a relayout: line counts at another
    # width don't scale together (a header, blank lines and short lines don't re-wrap).
    blocks: list[RenderableType] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    shown: str = "feed"  # which text: "article" (the full article) or "feed"

    @property
    def images(self) -> list[tuple[int, ImageBlock]]:
        """The blocks that are images, with their index in `blocks`."""
        return [(i, block) for i, block in enumerate(self.blocks) if isinstance(block, ImageBlock)]

    def __repr__(self) -> str:
        # Short: Textual's @work puts repr(args) in a worker's description, and the
        # default would walk every Strip of a long post.
        return f"OpenPost(id={self.entry.id}, width={self.width}, lines={len(self.lines)})"


SHOWN_LINES = {"article": "Full article · t: feed text", "feed": "Feed text · t: full article"}


def build_header(entry: Entry | EntryRow, categories: list[str] | None = None, shown: str | None = None) -> Text:
    """The header as plain Text: every field is feed text, so none of it is markup.

    `shown` ("article" or "feed"): which text the body is, said when the post has an article."""
    text = Text()
    text.append(clean_line(entry.title) or "(untitled)", style="bold")
    text.append("\n")
    text.append(clean_line(entry.feed_title), style="italic")
    if entry.author:
        text.append("  ·  by ")
        text.append(clean_line(entry.author))
    text.append("  ·  ")
    text.append(format_time(entry.published, entry.date_known))
    if entry.starred:
        text.append("  ★", style="bold")
    link = safe_url(entry.link)
    if link:
        text.append("\n")
        text.append("Link: ", style="dim")
        text.append(clean_line(mask_credentials(link)))
    if categories:
        text.append("\n")
        text.append("Categories: ", style="dim")
        text.append(", ".join(clean_line(c) for c in categories))
    enclosures = getattr(entry, "enclosures", ())  # a list row has none; the whole post does
    if enclosures:
        from reader.render import describe_enclosure  # not at the top: html2text is slow to import
    for enclosure in enclosures:
        text.append("\n")
        text.append("Enclosure: ", style="dim")
        text.append(describe_enclosure(enclosure))
    if shown in SHOWN_LINES and getattr(entry, "article", None):
        text.append("\n")
        text.append(SHOWN_LINES[shown], style="dim")
    return text


def render_lines(console: Console, body: RenderableType, width: int) -> list[Strip]:
    """Lay the body out at `width` (the slow part for a big post: run it off the UI thread).

    `console` is the app's: its options are used, and POST_THEME for the styles.
    """
    options = console.options.update(width=max(width, 10), height=None)
    return [Strip(line) for line in post_console(console).render_lines(body, options, pad=False)]


_NOT_ELEMENTS = frozenset({"text", "hardbreak", "softbreak", "link_open", "link_close", "html_inline"})


def _flat(tokens: list[Token]) -> Iterator[Token]:
    """The tokens in the order Rich's Markdown walks them (its `_flatten_tokens`, which is private)."""
    for token in tokens:
        if token.children and not (token.type == "fence" or token.tag == "img"):
            yield from _flat(token.children)
        else:
            yield token


def _blank_next(markdown: Markdown, tokens: list[Token], blank: bool) -> bool:
    """Whether Rich puts a blank line before what it draws after `tokens`, given `blank` before them.

    Rich keeps one flag while it walks the tokens: each element that closes sets it to its
    class's `new_line`, and the next thing drawn (a top-level block, or an image inside a
    paragraph) gets a blank line first if it is set. This follows that walk.
    """
    from rich.markdown import UnknownElement

    elements, inlines = markdown.elements, markdown.inlines
    opened: list[type] = []
    for token in _flat(tokens):
        kind = token.type
        if kind in _NOT_ELEMENTS or (token.tag in inlines and kind not in ("fence", "code_block")):
            continue  # text and inline styles: Rich doesn't touch the flag for these
        element = elements.get(kind) or UnknownElement
        if token.nesting == 1:
            opened.append(element)
            continue
        if token.nesting == -1 and opened:
            element = opened.pop()  # Rich takes the flag from the element opened, not the closing token
        blank = element.new_line
    return blank


def markdown_blocks(markdown: Markdown) -> list[RenderableType]:
    """`markdown` as its top-level blocks (paragraphs, headings, lists...), which drawn one after
    another draw exactly what it draws.

    Each block is a copy of `markdown` holding a slice of its parsed tokens (no second parse,
    so link references resolve as in the whole). Where Rich would put a blank line before a
    block's first drawing (decided by the block before it), the block starts with a token
    that draws nothing and asks for that blank line.
    """
    from markdown_it.token import Token

    # A token no element is made for: Rich draws nothing for it and then, like after any
    # element that asks for it, puts a blank line before whatever it draws next.
    blank_next = Token("reader_blank_next", "", 0, content="")
    tokens = markdown.parsed
    blocks: list[RenderableType] = []
    start = 0
    blank = False
    for index, token in enumerate(tokens):
        if token.level == 0 and token.nesting <= 0:  # a top-level element closes (or is self-closing)
            part = copy.copy(markdown)
            part.parsed = ([blank_next] if blank else []) + tokens[start:index + 1]
            blank = _blank_next(markdown, tokens[start:index + 1], blank)
            blocks.append(part)
            start = index + 1
    return blocks or [markdown]


def layout_blocks(console: Console, blocks: Iterable[RenderableType], width: int) -> tuple[list[Strip], list[int]]:
    """Lay blocks out at `width` one after another: the lines, and the line each block starts at."""
    options = console.options.update(width=max(width, 10), height=None)
    render = post_console(console).render_lines
    lines: list[Strip] = []
    starts: list[int] = []
    for block in blocks:
        starts.append(len(lines))
        drawn = block.picture_lines(options.max_width) if isinstance(block, ImageBlock) else None
        if drawn is not None:
            lines.extend(drawn)
        else:
            lines.extend(Strip(line) for line in render(block, options, pad=False))
    return lines, starts


class ImageBlock:
    """An image of the post, a block of its own: `[image: alt]` until its picture is decoded
    (by the pane's image worker), then the picture in half-block cells at the width it is laid
    out at. A relayout at another width draws the same picture at that width, no decode again."""

    def __init__(self, ref: ImageRef, blank_before: bool) -> None:
        self.ref = ref
        self.blank_before = blank_before  # Rich's blank line between blocks, as the paragraph had
        self.picture: Picture | None = None  # set from the image worker: one assignment, atomic
        # Kitty's protocol: the image id for each size laid out, and those not sent to the
        # terminal yet (laid out in a worker; sent on the UI thread before the lines show).
        self._kitty_ids: dict[tuple[int, int], int] = {}
        self._unsent: list[tuple[int, int, int]] = []
        self._lock = threading.Lock()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        picture = self.picture
        if picture is None:
            if self.blank_before:
                yield Segment.line()
            yield Text(self.ref.placeholder, style="dim")
            return
        for strip in self.picture_lines(options.max_width) or []:
            yield from strip
            yield Segment.line()

    def picture_lines(self, width: int) -> list[Strip] | None:
        """The picture's lines at `width` (as Rich would draw this block, without its
        per-segment line splitting: 20 ms an image less), or None while it is a placeholder."""
        picture = self.picture
        if picture is None:
            return None
        blank = [Strip([])] if self.blank_before else []
        if picture.kitty is None:
            from reader.images.cells import picture_lines

            return blank + picture_lines(picture, width)
        from reader.images import kitty

        size = picture.size_at(width)
        with self._lock:
            image_id = self._kitty_ids.get(size)
            if image_id is None:
                image_id = self._kitty_ids[size] = kitty.new_id()
                self._unsent.append((image_id, *size))
        return blank + kitty.placeholder_lines(image_id, *size)

    def take_unsent(self) -> list[tuple[int, str]]:
        """(image id, the sequence that sends it) for each size laid out but not sent yet."""
        picture = self.picture
        with self._lock:
            unsent, self._unsent = self._unsent, []
        if picture is None or picture.kitty is None or not unsent:
            return []
        from reader.images import kitty

        return [(image_id, kitty.transmit(image_id, picture.kitty, cols, rows)) for image_id, cols, rows in unsent]

    @staticmethod
    def is_placeholder(lines: list[Strip]) -> bool:
        """Whether these laid-out lines are the placeholder (a picture's lines are only blocks)."""
        return any("[image" in line.text for line in lines)

    def __repr__(self) -> str:
        return f"ImageBlock({self.ref.url!r}, picture={self.picture!r})"


def _with_images(blocks: list[RenderableType], images: list[ImageRef]) -> list[RenderableType]:
    """The blocks with each image paragraph (render_html's IMAGE_MARK n IMAGE_MARK) swapped
    for an ImageBlock; a mark anywhere else (it shouldn't be) becomes `[image: alt]` text."""
    from rich.markdown import Markdown

    from reader.render import IMAGE_MARK, IMAGE_MARK_RE

    def placeholder(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return images[index].placeholder if index < len(images) else "[image]"

    result: list[RenderableType] = []
    for block in blocks:
        tokens = block.parsed if isinstance(block, Markdown) else []
        blank = bool(tokens) and tokens[0].type == "reader_blank_next"
        body = tokens[1:] if blank else tokens
        if len(body) == 3 and body[0].type == "paragraph_open" and body[1].type == "inline":
            match = IMAGE_MARK_RE.fullmatch(body[1].content.strip())
            if match and int(match.group(1)) < len(images):
                result.append(ImageBlock(images[int(match.group(1))], blank))
                continue
        for token in body:
            if token.type == "inline" and IMAGE_MARK in token.content:
                for child in token.children or []:
                    if IMAGE_MARK in child.content:
                        child.content = IMAGE_MARK_RE.sub(placeholder, child.content)
        result.append(block)
    return result


# Images spliced in below the screen wait this long (seconds) to be shown with the next ones.
FLUSH_DELAY = 0.15

# Posts longer than this (Markdown characters) show a first screenful before the whole
# post is laid out: laying out 50 KB takes longer than a keypress should wait.
PREVIEW_CHARS = 4000


# Past this much Markdown (some 3,000 lines) the pane shows the head of the post and says
# so: laying out megabytes would stall the app for seconds, and nobody pages through a
# 4 MB post in a terminal. `o` opens the whole thing in the browser.
MAX_BODY_CHARS = 200_000
# The HTML converted for the pane: comfortably more than MAX_BODY_CHARS of Markdown, and
# it bounds html2text's time (pure Python, ~0.3 s a megabyte) on a hostile post.
MAX_HTML_CHARS = 600_000


def truncate_body(markdown: str) -> tuple[str, bool]:
    """The part of a huge post worth laying out, and whether anything was left out."""
    if len(markdown) <= MAX_BODY_CHARS:
        return markdown, False
    cut = markdown.rfind("\n\n", 0, MAX_BODY_CHARS)
    if cut < MAX_BODY_CHARS // 2:
        cut = MAX_BODY_CHARS
    head = markdown[:cut]
    if head.count("```") % 2:
        head += "\n```"  # don't leave a code fence open
    return head, True


def preview_text(markdown: str) -> str | None:
    """The head of a long post, cut at a paragraph break outside code fences, or None."""
    if len(markdown) <= PREVIEW_CHARS * 2:
        return None
    cut = markdown.rfind("\n\n", 0, PREVIEW_CHARS)
    if cut <= 0:
        return None
    head = markdown[:cut]
    if head.count("```") % 2 or head.count("~~~") % 2:
        return None
    return head


def build_post(
    entry: Entry,
    console: Console | None = None,
    width: int = 0,
    on_preview: Callable[[list[Strip]], None] | None = None,
    source: str = "auto",
) -> OpenPost:
    """Render a post, and lay it out if given a console and width. Call it from a worker thread.

    `source`: "auto" (the full article when the post has one, else the feed's text), "feed"
    or "article" (the feed's text when there is no article); the header says which is shown.
    With `on_preview`, a long post's first screenful is laid out first and handed over,
    so the pane shows text while the rest is being laid out. Images are placeholders
    (ImageBlock) here: the pane decodes them afterwards (ReadingPane.show).
    """
    from rich.markdown import Markdown

    from reader.render import post_source, render_html

    html, base_url, shown = post_source(entry, source)
    rendered = render_html(html[:MAX_HTML_CHARS], base_url, image_marks=True)
    parts: list[RenderableType] = []
    text, cut = truncate_body(rendered.text)
    cut = cut or len(html) > MAX_HTML_CHARS
    if text.strip():
        if on_preview is not None and console is not None and width > 0:
            head = preview_text(text)
            if head is not None:
                preview_blocks = _with_images(markdown_blocks(Markdown(head, hyperlinks=False)), rendered.images)
                on_preview(layout_blocks(console, preview_blocks, width)[0])
        parts.extend(_with_images(markdown_blocks(Markdown(text, hyperlinks=False)), rendered.images))
        if cut:
            size = len(html.encode("utf-8")) // 1024
            parts.append(Text(
                f"\n… This post ({size:,} KB) is too long to show in full here; press o to read it in the browser.",
                style="bold",
            ))
    else:
        parts.append(Text("(this post has no text)", style="dim italic"))
    if rendered.links:
        digits = len(str(len(rendered.links)))
        links = Text("\nLinks\n", style="bold")
        for n, url in enumerate(rendered.links, 1):
            links.append(f"[{n:>{digits}}] ", style="bold")
            links.append(url + "\n")
        parts.append(links)
    header = build_header(entry, entry.categories, shown)
    post = OpenPost(entry, header, Group(*parts), rendered.links, blocks=parts, shown=shown)
    if console is not None and width > 0:
        (post.lines, post.starts), post.width = layout_blocks(console, parts, width), width
    return post


class PostBody(Widget):
    """Shows pre-rendered lines (Line API), so a 50 KB post costs the UI thread one screenful.

    A Static holding the Markdown would lay the whole post out on the UI thread, more
    than once per layout pass. When the width changes, `Relayout` asks for new lines.
    """

    DEFAULT_CSS = f"""
    PostBody {{ width: 1fr; max-width: {MEASURE}; height: auto; }}
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Strip] = []
        self.placeholder: Text | None = None

    def set_lines(self, lines: list[Strip]) -> None:
        self.lines = lines
        self.placeholder = None
        self.refresh(layout=True)

    def set_placeholder(self, text: Text | None) -> None:
        self.lines = []
        self.placeholder = text
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines) if self.lines else (1 if self.placeholder else 0)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if not self.lines:
            if y == 0 and self.placeholder is not None:
                return Strip(self.placeholder.render(self.app.console)).apply_style(style).crop_extend(0, width, style)
            return Strip.blank(width, style)
        if y >= len(self.lines):
            return Strip.blank(width, style)
        return self.lines[y].apply_style(style).crop_extend(0, width, style)

    def on_resize(self, event: Resize) -> None:
        pane = self.parent
        if isinstance(pane, ReadingPane):
            pane.body_resized(event.size.width)


class ReadingPane(VerticalScroll, can_focus=False):
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

    class ImagesReady(Message, bubble=False):
        """Images were laid out in a worker: splice them in (ReadingPane._ready). `last`: the
        worker is done, so nothing waits for more to come."""

        def __init__(self, last: bool = False) -> None:
            super().__init__()
            self.last = last

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
        self._flush_timer: Timer | None = None  # images spliced below the screen, to be shown
        self._kitty_mode = False  # Kitty's graphics protocol (else half blocks): see reader/images/kitty.py
        self._kitty_ids: list[int] = []  # images sent to the terminal for the open post (Kitty)
        # Image lines laid out by the worker, waiting for the UI thread: (post, block, lines, width).
        self._ready: list[tuple[OpenPost, int, list[Strip], int]] = []
        self._ready_lock = threading.Lock()
        self._drain_pending = False

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
        # A picture decoded while this layout was being made may be drawn as its placeholder.
        stale = [
            i for i, block in post.images
            if block.picture is not None and block.is_placeholder(self._block_lines(post, i))
        ]
        if stale:
            self.run_worker(partial(self._draw_images, post, stale, width), thread=True, group="images-redraw",
                            exit_on_error=False, description="redraw images")

    def compose(self):
        yield Static(Text(PLACEHOLDER, style="dim"), id="post-header", markup=False)
        yield PostBody(id="post-body")

    def _reset_position(self) -> None:
        self._block, self._fraction, self._in_header, self._settled, self._requested_width = 0, 0.0, True, None, 0
        self._restoring = False

    # --- images: decoded off the UI thread after the text is shown, spliced in one by one ------

    def _image_cache(self) -> ImageCache | None:
        """The app's image cache (the one its refresh fills), or None with images turned off."""
        app_cache = getattr(self.app, "image_cache", None)
        if callable(app_cache):
            return app_cache()
        settings = getattr(self.app, "settings", None)  # (a test app without the reader's)
        store_path = getattr(getattr(self.app, "store", None), "path", None)
        if settings is None or store_path is None:
            return None
        from reader.images.cache import image_cache

        return image_cache(settings, store_path.parent)

    def _start_images(self, post: OpenPost) -> None:
        self._stop_images()
        if not any(block.ref.url for _, block in post.images):
            return
        cache = self._image_cache()
        if cache is not None:
            from reader.images import kitty

            # The image id travels as a 24-bit foreground colour: only where colours reach the
            # terminal unchanged (not 256 colours, as over ssh without COLORTERM; not NO_COLOR).
            self._kitty_mode = (
                kitty.supported() and self.app.console.color_system == "truecolor"
                and not getattr(self.app, "no_color", False)
            )
            self.run_worker(partial(self._load_images, post, cache), thread=True, group="images", exclusive=True,
                            exit_on_error=False, description=f"images of post {post.entry.id}")

    def _stop_images(self) -> None:
        self.workers.cancel_group(self, "images")
        self.workers.cancel_group(self, "images-redraw")

    def _leave_post(self) -> None:
        self._stop_images()
        self._forget_pictures()

    def on_unmount(self) -> None:
        self._leave_post()

    def _write_terminal(self, sequence: str) -> None:
        """Raw output, in order with Textual's frames (its driver's writer queue), UI thread only."""
        driver = getattr(self.app, "_driver", None)
        if driver is not None and sequence:
            try:
                driver.write(sequence)
            except Exception:  # the app closing: the terminal frees its images itself then
                pass

    def _send_pictures(self, post: OpenPost) -> None:
        """Send the terminal the Kitty images these lines show: before the lines are set."""
        sequences = []
        for _, block in post.images:
            for image_id, sequence in block.take_unsent():
                self._kitty_ids.append(image_id)
                sequences.append(sequence)
        self._write_terminal("".join(sequences))

    def _forget_pictures(self) -> None:
        """Free the open post's Kitty images in the terminal (leaving the post)."""
        if self._kitty_ids:
            from reader.images import kitty

            self._write_terminal(kitty.delete(self._kitty_ids))
            self._kitty_ids = []

    def _load_images(self, post: OpenPost, cache: ImageCache) -> None:
        """(Worker thread.) Decode the post's cached images in order, each shown as it is ready;
        then download the missing ones (the app may be online) and show those."""
        try:
            self._load_pictures(post, cache)
        finally:
            self.post_message(self.ImagesReady(last=True))

    def _load_pictures(self, post: OpenPost, cache: ImageCache) -> None:
        from reader.images import cells
        from reader.images.fetch import fetch_images

        stop = get_current_worker().cancelled_event
        places: dict[str, list[int]] = {}  # an image shown twice is decoded once
        for index, block in post.images:
            if block.ref.url:
                places.setdefault(block.ref.url, []).append(index)
        missing: list[str] = []
        for url, indices in places.items():
            if stop.is_set():
                return
            data = cache.get(url)
            if data is None:
                missing.append(url)
            else:
                self._picture_ready(post, cache, url, data, indices, cells, stop)
        if not missing or stop.is_set():
            return
        from reader.fetch import FetchOptions
        from reader.images.fetch import OPEN_TIMEOUT

        shown: set[str] = set()

        def arrived(url: str) -> None:  # each image as it is stored, not after the slowest one
            data = cache.get(url)
            if data is not None and not stop.is_set():
                shown.add(url)
                self._picture_ready(post, cache, url, data, places[url], cells, stop)

        timeout = min(getattr(getattr(self.app, "settings", None), "timeout", OPEN_TIMEOUT), OPEN_TIMEOUT)
        wanted = [url for url in missing if cache.wanted(url)]
        fetch_images(wanted, cache, FetchOptions(timeout=timeout), stop=stop, on_cached=arrived)
        for url in missing:  # cached meanwhile by another process (a refresh running alongside)
            if url not in shown and not stop.is_set():
                arrived(url)

    def _picture_ready(self, post: OpenPost, cache: ImageCache, url: str, data: bytes, indices: list[int],
                       cells: object, stop: threading.Event) -> None:
        picture = cells.decode(data, MEASURE, cells.MAX_ROWS, self._kitty_mode)  # type: ignore[attr-defined]
        if picture is None:
            cache.fail(url, "the image could not be decoded")  # (a truncated file): not fetched again soon
            return
        for index in indices:
            post.blocks[index].picture = picture  # type: ignore[union-attr]
        if not stop.is_set():
            self._draw_images(post, indices, post.width, stop)

    def _draw_images(self, post: OpenPost, indices: list[int], width: int, stop: threading.Event | None = None) -> None:
        """(Worker thread.) Lay the image blocks out at `width` and hand the lines to the UI thread."""
        if width <= 0:
            return
        stop = stop or get_current_worker().cancelled_event
        for index in indices:
            lines, _ = layout_blocks(self.app.console, [post.blocks[index]], width)
            if stop.is_set():
                return
            with self._ready_lock:
                self._ready.append((post, index, lines, width))
                wake = not self._drain_pending
                self._drain_pending = True
            if wake:  # one wake-up for all the images ready by the time the UI thread gets to them
                self.post_message(self.ImagesReady())

    def on_reading_pane_images_ready(self, message: ImagesReady) -> None:
        with self._ready_lock:
            ready, self._ready = self._ready, []
            self._drain_pending = False
        post = self.post
        follow = changed = now = False
        last_seen = self._last_seen_block(post) if post is not None else 0
        for item_post, index, lines, width in ready:
            delta = self._splice(item_post, index, lines, width)
            if delta is not None:
                changed = True
                now = now or index <= last_seen
                follow = follow or (bool(delta) and not self._in_header and self._block > index)
        if message.last and self._flush_timer is not None and post is not None:
            now = changed = True  # the worker is done: nothing more to wait for
        if not changed or post is None:
            return
        if follow:
            self._restoring = True  # the scroll the new lines cause is not the reader moving
        if now:
            self._show_spliced(post, follow)
        elif self._flush_timer is None:
            # All below the screen: shown together a moment later, one repaint for many images
            # instead of one each (a repaint of a screen of pictures costs tens of milliseconds).
            self._flush_timer = self.set_timer(FLUSH_DELAY, lambda: self._show_spliced(post, False))

    def _last_seen_block(self, post: OpenPost) -> int:
        """The last block (at least partly) on the screen, from the reader's place, which is
        kept as a block: line numbers go stale while images above are still being scrolled past."""
        first = 0 if self._in_header else min(self._block, max(len(post.starts) - 1, 0))
        starts = post.starts
        if not starts:
            return 0
        top, last = starts[first], first
        while last + 1 < len(starts) and starts[last + 1] - top < self.size.height:
            last += 1
        return last

    def _show_spliced(self, post: OpenPost, follow: bool) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if post is not self.post:
            return
        self._send_pictures(post)
        self.body.set_lines(post.lines)  # once for every image that arrived together: one repaint
        if follow:
            self.call_after_refresh(self._follow_splice, post)

    @staticmethod
    def _block_lines(post: OpenPost, index: int) -> list[Strip]:
        end = post.starts[index + 1] if index + 1 < len(post.starts) else len(post.lines)
        return post.lines[post.starts[index]:end]

    def _splice(self, post: OpenPost, index: int, lines: list[Strip], width: int) -> int | None:
        """Put block `index`'s new lines in place of its old ones in `post.lines`; how many
        lines that added, or None if they don't belong any more. (An image above the reader's
        place pushes the text down: the caller scrolls with it, so nothing the reader looks at moves.)"""
        if post is not self.post or self.pending_id is not None or post.width != width or index >= len(post.starts):
            return None  # another post, or a relayout in flight (which draws the picture itself)
        start = post.starts[index]
        end = post.starts[index + 1] if index + 1 < len(post.starts) else len(post.lines)
        delta = len(lines) - (end - start)
        post.lines = post.lines[:start] + lines + post.lines[end:]
        if delta:
            post.starts = post.starts[:index + 1] + [line + delta for line in post.starts[index + 1:]]
        return delta

    def _follow_splice(self, post: OpenPost, tries: int = 5) -> None:
        if post is not self.post:
            self._restoring = False
            return
        target = self._place(post)
        if self.max_scroll_y < target and tries:
            self.call_after_refresh(self._follow_splice, post, tries - 1)  # not laid out yet
            return
        try:
            self.scroll_to(y=target, animate=False, immediate=True)
        finally:
            self._restoring = False

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
            self.post.header = build_header(self.post.entry, self.post.entry.categories, self.post.shown)
            self.query_one("#post-header", Static).update(self.post.header)

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
