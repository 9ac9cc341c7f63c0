"""A post's HTML to readable terminal text (Markdown), with its links numbered.

Links become `text[N]` in the body and a list at the end, so a person can open link N
from the keyboard. Only http(s) links get a number: anything else keeps its text and
loses its target. Empty anchors (heading permalinks like `<a href="#x"></a>`) vanish.
Images become `[image: alt]`. The result holds no control characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import html2text

from .dates import format_time
from .models import Entry
from .sanitize import clean_line, clean_text, safe_url, strip_tags

# A bound on the work one post can cost; longer posts are cut, not refused.
MAX_HTML_CHARS = 2_000_000


@dataclass
class Rendered:
    text: str  # Markdown
    links: list[str] = field(default_factory=list)

    def with_link_list(self) -> str:
        if not self.links:
            return self.text
        width = len(str(len(self.links)))
        listing = "\n".join(f"[{i:>{width}}] {url}" for i, url in enumerate(self.links, 1))
        return f"{self.text}\n\nLinks:\n{listing}"


class _Converter(html2text.HTML2Text):
    def __init__(self, base_url: str | None) -> None:
        super().__init__(baseurl=base_url or "", bodywidth=0)
        self.unicode_snob = True
        self.body_width = 0
        self.single_line_break = False
        self.mark_code = False
        self.pad_tables = False
        self.links: list[str] = []
        self._anchors: list[list] = []  # [href or None, saw_text]
        self.tag_callback = _Converter._tag

    def _number(self, url: str) -> int:
        if url not in self.links:
            self.links.append(url)
        return self.links.index(url) + 1

    @staticmethod
    def _tag(self: _Converter, tag: str, attrs: dict[str, str | None], start: bool) -> bool:
        if tag == "a":
            if start:
                href = (attrs.get("href") or "").strip()
                target = None
                if href and not href.startswith("#"):
                    target = safe_url(urljoin(self.baseurl, href)) if self.baseurl else safe_url(href)
                self._anchors.append([target, False])
            elif self._anchors:
                target, saw_text = self._anchors.pop()
                if target and saw_text:
                    self.o(f"[{self._number(target)}]")
            return True
        if tag == "img":
            if start:
                alt = clean_line(attrs.get("alt") or attrs.get("title") or "", 200)
                self.o(f"[image: {alt}]" if alt else "[image]")
                for anchor in self._anchors:
                    anchor[1] = True
            return True
        return False

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        if self._anchors and data.strip():
            for anchor in self._anchors:
                anchor[1] = True
        super().handle_data(data, entity_char)


_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_TRAILING = re.compile(r"[ \t]+\n")
# html2text puts a blank line between `<li><p>` items; a list reads better tight.
# html2text puts a space after closing emphasis when punctuation follows ("_word_ ,").
_SPACE_AFTER_EMPHASIS = re.compile(r"(?<=\S)([_*]{1,2}) (?=[,;:.!?)\]])")
_LOOSE_ITEMS = re.compile(r"^([ \t]*(?:[*+-]|\d+\.) .*)\n\n(?=[ \t]*(?:[*+-]|\d+\.) )", re.M)


def render_html(html: str, base_url: str | None = None) -> Rendered:
    """HTML to Markdown text plus its numbered http(s) links. Never raises on bad HTML."""
    converter = _Converter(base_url)
    try:
        text = converter.handle(html[:MAX_HTML_CHARS])
    except (RecursionError, AssertionError, IndexError, ValueError):
        # html2text trips on some pathological markup; fall back to the bare text.
        text = strip_tags(html[:MAX_HTML_CHARS])
    text = _TRAILING.sub("\n", clean_text(text))
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    text = _LOOSE_ITEMS.sub(r"\1\n", text)
    text = _SPACE_AFTER_EMPHASIS.sub(r"\1", text)
    return Rendered(text, converter.links)


def render_entry_text(entry: Entry) -> str:
    """The whole post for a terminal: a header, the body, then the numbered links."""
    body = render_html(entry.content, entry.base_url)
    header = [entry.title or "(untitled)", "=" * min(max(len(entry.title), 10), 80)]
    header.append(f"Feed:       {entry.feed_title}")
    if entry.author:
        header.append(f"Author:     {entry.author}")
    header.append(f"Date:       {format_time(entry.published, entry.date_known)}")
    if entry.categories:
        header.append(f"Categories: {', '.join(entry.categories)}")
    if entry.link:
        header.append(f"Link:       {entry.link}")
    return "\n".join(header) + "\n\n" + body.with_link_list() + "\n"
