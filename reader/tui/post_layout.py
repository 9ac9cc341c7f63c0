"""A post made ready to show, off the UI thread: the model (OpenPost), the header, the body
as Markdown blocks with images as blocks of their own, and their layout into lines.

The body is html2text's Markdown drawn by Rich's Markdown with hyperlinks off, so
no text from a feed becomes a clickable link or a Textual action. `build_post` runs in a
worker; the reading pane (reader/tui/widgets/reading_pane.py) only shows the result. No
widget code here.
"""

from __future__ import annotations

import copy
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from reader.dates import format_time
from reader.models import Entry, EntryRow
from reader.sanitize import clean_line, mask_credentials, safe_url

if TYPE_CHECKING:
    # Imported where used: rich.markdown brings markdown-it and Pygments, ~45 ms the app's
    # start need not wait for; Pillow (the images) another ~30.
    from pathlib import Path

    from markdown_it.token import Token
    from rich.console import ConsoleOptions, RenderResult
    from rich.markdown import Markdown

    from reader.images.cells import Picture
    from reader.render import ImageRef

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
    downloads: Path | None = None  # where its enclosures may have been downloaded (the header says so)

    @property
    def images(self) -> list[tuple[int, ImageBlock]]:
        """The blocks that are images, with their index in `blocks`."""
        return [(i, block) for i, block in enumerate(self.blocks) if isinstance(block, ImageBlock)]

    def __repr__(self) -> str:
        # Short: Textual's @work puts repr(args) in a worker's description, and the
        # default would walk every Strip of a long post.
        return f"OpenPost(id={self.entry.id}, width={self.width}, lines={len(self.lines)})"


SHOWN_LINES = {"article": "Full article · t: feed text", "feed": "Feed text · t: full article"}


def build_header(entry: Entry | EntryRow, categories: list[str] | None = None, shown: str | None = None,
                 downloads: Path | None = None) -> Text:
    """The header as plain Text: every field is feed text, so none of it is markup.

    `shown` ("article" or "feed"): which text the body is, said when the post has an article.
    `downloads`: the downloads directory; an enclosure saved there says where. The look-up is
    cheap enough for the UI thread (reader.download.downloaded_paths: a stat of the index,
    parsed again only when it changed, and a stat per enclosure, at most 50)."""
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
    tags = getattr(entry, "tags", ())  # the user's own: a list row has none, the whole post does
    if tags:
        text.append("\n")
        text.append("Tags: ", style="dim")
        text.append(", ".join(clean_line(t) for t in tags))
    enclosures = getattr(entry, "enclosures", ())  # a list row has none; the whole post does
    if enclosures:
        # Not at the top: html2text (under reader.render) is slow to import.
        from reader.download import downloaded_paths
        from reader.render import describe_enclosure, download_note

        on_disk = downloaded_paths([e.url for e in enclosures], downloads) if downloads is not None else {}
    for n, enclosure in enumerate(enclosures, 1):
        text.append("\n")
        # Numbered when there are several: `reader download ID --enclosure N` goes by it.
        text.append(f"Enclosure {n}: " if len(enclosures) > 1 else "Enclosure: ", style="dim")
        text.append(describe_enclosure(enclosure))
        note = download_note(on_disk.get(enclosure.url))
        if note:
            text.append(note, style="green")
    if shown in SHOWN_LINES and getattr(entry, "article", None):
        text.append("\n")
        text.append(SHOWN_LINES[shown], style="dim")
    error = getattr(entry, "article_error", None)
    if error and link and shown != "article":
        # The feed's text is what's shown, and the fetch of the article failed: say so, and how to retry.
        text.append("\n")
        text.append(f"Full article: could not be fetched ({clean_line(error, 200)}) · f: try again", style="dim")
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
    out at. A relayout at another width draws the same picture at that width, no decode again.
    `max_rows` (set by the pane on the UI thread from its visible height, again when that changes)
    caps the picture's rows, so it can be seen whole: a tall one is scaled down, narrower."""

    def __init__(self, ref: ImageRef, blank_before: bool) -> None:
        self.ref = ref
        self.blank_before = blank_before  # Rich's blank line between blocks, as the paragraph had
        self.picture: Picture | None = None  # set from the image worker: one assignment, atomic
        self.max_rows: int | None = None  # likewise, from the pane
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
            # In the text's own style, as every other image's placeholder is (one in a list or a
            # quote, an icon, a javascript: or data: image): one look for an image not shown.
            yield Text(self.ref.placeholder)
            return
        for strip in self.picture_lines(options.max_width) or []:
            yield from strip
            yield Segment.line()

    def picture_lines(self, width: int) -> list[Strip] | None:
        """The picture's lines at `width` (as Rich would draw this block, without its
        per-segment line splitting: 20 ms an image less), or None while it is a placeholder."""
        picture, max_rows = self.picture, self.max_rows
        if picture is None:
            return None
        blank = [Strip([])] if self.blank_before else []
        if picture.kitty is None:
            from reader.images.cells import picture_lines

            return blank + picture_lines(picture, width, max_rows)
        from reader.images import kitty

        size = picture.size_at(width, max_rows)
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

    def drawn_at(self, lines: list[Strip], width: int) -> bool:
        """Whether these laid-out lines are the picture as it is drawn now at `width` (not its
        placeholder, not laid out for another `max_rows`)."""
        picture = self.picture
        if picture is None or self.is_placeholder(lines):
            return False
        return len(lines) == int(self.blank_before) + picture.size_at(max(width, 10), self.max_rows)[1]

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


# HTML converted for that first screenful, ahead of the whole post: html2text (pure Python) takes
# ~17 ms for a 50 KB post, ~4 ms for this, and the first screen needs only its first few KB.
PREVIEW_HTML_CHARS = 12_000


def preview_text(markdown: str, long: bool = False) -> str | None:
    """The head of a long post, cut at a paragraph break outside code fences, or None.

    `long`: the post is known to be long (its HTML is) and `markdown` is the head of it.
    """
    if len(markdown) <= PREVIEW_CHARS * 2 and not long:
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
    downloads: Path | None = None,
) -> OpenPost:
    """Render a post, and lay it out if given a console and width. Call it from a worker thread.

    `source`: "auto" (the full article when the post has one, else the feed's text), "feed"
    or "article" (the feed's text when there is no article); the header says which is shown.
    With `on_preview`, a long post's first screenful is laid out first and handed over,
    so the pane shows text while the rest is being laid out. Images are placeholders
    (ImageBlock) here: the pane decodes them afterwards (ReadingPane.show).
    """
    from rich.markdown import Markdown

    from reader.render import own_pages, post_source, render_html

    def show_preview(head: str | None, images: list[ImageRef]) -> bool:
        if head is None or on_preview is None or console is None:
            return False
        blocks = _with_images(markdown_blocks(Markdown(head, hyperlinks=False)), images)
        on_preview(layout_blocks(console, blocks, width)[0])
        return True

    html, base_url, shown = post_source(entry, source)
    previewed = False
    wants_preview = on_preview is not None and console is not None and width > 0
    if wants_preview and len(html) > PREVIEW_HTML_CHARS * 2:
        # The first screen from the head of the HTML, before the whole of it is converted (html2text
        # streams: the head converts as it does within the whole; links and images keep their numbers).
        head = render_html(html[:PREVIEW_HTML_CHARS], base_url, image_marks=True, own_pages=own_pages(entry))
        previewed = show_preview(preview_text(head.text, long=True), head.images)
    rendered = render_html(html[:MAX_HTML_CHARS], base_url, image_marks=True, own_pages=own_pages(entry))
    parts: list[RenderableType] = []
    text, cut = truncate_body(rendered.text)
    cut = cut or len(html) > MAX_HTML_CHARS
    if text.strip():
        if wants_preview and not previewed:
            show_preview(preview_text(text), rendered.images)
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
    header = build_header(entry, entry.categories, shown, downloads)
    post = OpenPost(entry, header, Group(*parts), rendered.links, blocks=parts, shown=shown, downloads=downloads)
    if console is not None and width > 0:
        (post.lines, post.starts), post.width = layout_blocks(console, parts, width), width
    return post

