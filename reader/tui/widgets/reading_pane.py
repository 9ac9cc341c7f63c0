"""The reading pane: a header (title, feed, author, date, categories), the body, the numbered links.

The body is html2text's Markdown drawn by Rich's Markdown with hyperlinks off, so
no text from a feed becomes a clickable link or a Textual action. Building it is
done off the UI thread (`build_body`); this widget only shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from reader.models import Entry, EntryRow
from reader.tui.widgets.post_list import clean_text

PLACEHOLDER = "Select a post and press Enter to read it."


@dataclass
class OpenPost:
    """What the pane shows: the post and its rendered parts."""

    entry: Entry
    header: Text
    body: RenderableType
    links: list[str] = field(default_factory=list)


def _date(ts: float, known: bool) -> str:
    from reader.render import format_date

    return format_date(ts, known)


def build_header(entry: Entry | EntryRow, categories: list[str] | None = None) -> Text:
    """The header as plain Text: every field is feed text, so none of it is markup."""
    text = Text()
    text.append(clean_text(entry.title) or "(untitled)", style="bold")
    text.append("\n")
    text.append(clean_text(entry.feed_title), style="italic")
    if entry.author:
        text.append("  ·  by ")
        text.append(clean_text(entry.author))
    text.append("  ·  ")
    text.append(_date(entry.published, entry.date_known))
    if entry.starred:
        text.append("  ★", style="bold")
    if categories:
        text.append("\n")
        text.append("Categories: ", style="dim")
        text.append(", ".join(clean_text(c) for c in categories))
    return text


def build_post(entry: Entry) -> OpenPost:
    """Render a post (slow for big posts: call it from a worker thread)."""
    from rich.markdown import Markdown

    from reader.render import render_html

    rendered = render_html(entry.content, entry.base_url)
    parts: list[RenderableType] = []
    if rendered.text.strip():
        parts.append(Markdown(rendered.text, hyperlinks=False))
    else:
        parts.append(Text("(this post has no text)", style="dim italic"))
    if rendered.links:
        width = len(str(len(rendered.links)))
        links = Text("\nLinks\n", style="bold")
        for n, url in enumerate(rendered.links, 1):
            links.append(f"[{n:>{width}}] ", style="bold")
            links.append(url + "\n")
        parts.append(links)
    return OpenPost(entry, build_header(entry, entry.categories), Group(*parts), rendered.links)


class ReadingPane(VerticalScroll, can_focus=True):
    """Scrolls the open post. `post` is None when nothing is open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="reading.down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="reading.up"),
        Binding("g", "scroll_home", "Top", show=False, id="reading.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="reading.bottom"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.post: OpenPost | None = None
        self.pending_id: int | None = None

    def compose(self):
        yield Static(Text(PLACEHOLDER, style="dim"), id="post-header", markup=False)
        yield Static("", id="post-body", markup=False)

    def show_loading(self, row: EntryRow) -> None:
        """Show the header straight away while the body renders."""
        self.pending_id = row.id
        self.query_one("#post-header", Static).update(build_header(row))
        self.query_one("#post-body", Static).update(Text("Loading…", style="dim"))
        self.scroll_home(animate=False)

    def show(self, post: OpenPost) -> None:
        self.post = post
        self.pending_id = None
        self.query_one("#post-header", Static).update(post.header)
        self.query_one("#post-body", Static).update(post.body)
        self.scroll_home(animate=False)

    def update_header(self) -> None:
        if self.post is not None:
            self.post.header = build_header(self.post.entry, self.post.entry.categories)
            self.query_one("#post-header", Static).update(self.post.header)

    def clear(self) -> None:
        self.post = None
        self.pending_id = None
        self.query_one("#post-header", Static).update(Text(PLACEHOLDER, style="dim"))
        self.query_one("#post-body", Static).update("")

    @property
    def at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y
