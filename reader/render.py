"""A post's HTML to readable terminal text (Markdown), with its links numbered.

Links become `text[N]` in the body and a list at the end, so a person can open link N
from the keyboard. Only http(s) links get a number: anything else keeps its text and
loses its target. So does a link to the post's own page (a bare `#fragment`, or the base
URL or the post's or article's URL with any fragment): an article whose every image is
wrapped in `<a href="#img-1">` would list a number per image, each one the page being read.
Empty anchors (heading permalinks like `<a href="#x"></a>`) vanish.
Images become `[image: alt]`, and `Rendered.images` lists them in order (the reading pane
draws each in place of its placeholder). The result holds no control characters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import html2text

from .dates import format_time
from .models import Enclosure, Entry
from .sanitize import clean_line, clean_text, mask_credentials, safe_url, strip_tags

# A bound on the work one post can cost; longer posts are cut, not refused.
MAX_HTML_CHARS = 2_000_000
# Links beyond this many keep their text but get no number: the list stays usable.
MAX_LINKS = 1000
# Distinct images a post may show (and a refresh may download for it); the rest stay placeholders.
MAX_IMAGES = 40
# Where an <img> names its picture: `src`, else the lazy-loading attributes many blogs use
# (their `src` is then a data: placeholder, which is never fetched), else srcset's first.
_IMAGE_ATTRS = ("src", "data-src", "data-lazy-src", "data-original")
# The pane's image markers: a paragraph of its own, U+FFFC (the "object replacement"
# character) around the image's number. Feed text can't forge one: U+FFFC in text is replaced.
IMAGE_MARK = "\ufffc"
IMAGE_MARK_RE = re.compile("\ufffc(\\d{1,4})\ufffc")
# Lists and quotes nested deeper than this are flattened into the level above before
# conversion. html2text indents each line by its depth (and its list handling costs
# more per level), so 5,000 nested lists cost minutes and megabytes of indentation;
# the Markdown renderer downstream pays per level again. No reader needs more than this.
MAX_NESTING = 8
# `[^<>]*`, not `[^>]*`: a run of `<ul<ul<ul` with no `>` must not rescan to the end each time.
_NESTING_TAG = re.compile(r"<(/?)(ul|ol|dl|menu|dir|blockquote)\b[^<>]*>", re.I)

# Emphasis is done here, not by html2text, which writes a marker per tag whatever the
# nesting: an unclosed <b> leaves a literal `**`, <b><b> gives `****`, and <b> </b> gives `****`.
_EMPHASIS = {"b": "**", "strong": "**", "i": "_", "em": "_", "del": "~~", "s": "~~", "strike": "~~"}
# Inline code, done here too: html2text toggles on every tag, so <code><code> opens a ``` fence.
_CODE = frozenset({"code", "kbd", "tt", "samp"})
# Markdown emphasis cannot span blocks: open markers close at each of these and reopen after.
_BLOCKS = frozenset({
    "p", "div", "br", "hr", "li", "ul", "ol", "dl", "dt", "dd", "menu", "dir", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th", "thead", "tbody", "tfoot", "caption",
    "section", "article", "header", "footer", "aside", "nav", "main", "figure", "figcaption", "address",
    "details", "summary", "body", "html",
})
# HTML5's blocks, which html2text (HTML 4) passes through as if inline: `<figure><img><figcaption>`
# gave "[image: x]Caption" and `<section>a</section><section>b</section>` "ab". A paragraph break each.
_HTML5_BLOCKS = frozenset({
    "section", "article", "header", "footer", "aside", "nav", "main", "figure", "figcaption", "address",
    "details", "summary",
})


@dataclass(slots=True)
class ImageRef:
    """An <img> of a post, in document order: its http(s) URL (None: not one, or past the
    post's image cap; it stays a placeholder) and its cleaned alt text."""

    url: str | None
    alt: str

    @property
    def placeholder(self) -> str:
        return f"[image: {self.alt}]" if self.alt else "[image]"


# An <img> this small by its own width and height attributes is an icon in a line of text (a
# badge, a file-type icon): shown as its `[image: alt]` in the sentence, never a block of its own
# that would split the paragraph in three, and never downloaded. Likewise an emoji drawn as an
# image (WordPress's wp-smiley, Twemoji's class="emoji", or an alt of one or two symbols).
ICON_MAX_SIDE = 48
ICON_MAX_HEIGHT = 32
_EMOJI_CLASS = re.compile(r"emoji|wp-smiley", re.I)
_PIXELS = re.compile(r"\s*(\d{1,6})(?:\.\d*)?\s*(?:px)?\s*", re.I)


def _pixels(value: str | None) -> int | None:
    """A width/height attribute in pixels ("16", "16px"), or None (absent, a percentage, junk)."""
    match = _PIXELS.fullmatch(value or "")
    return int(match.group(1)) if match else None


def is_icon(attrs: dict[str, str | None]) -> bool:
    """Whether an <img> is an inline icon or emoji (see ICON_MAX_SIDE)."""
    width, height = _pixels(attrs.get("width")), _pixels(attrs.get("height"))
    if height is not None and height <= ICON_MAX_HEIGHT:
        return True
    if width is not None and height is not None and max(width, height) <= ICON_MAX_SIDE:
        return True
    if _EMOJI_CLASS.search(attrs.get("class") or ""):
        return True
    alt = (attrs.get("alt") or "").strip()
    return 0 < len(alt) <= 2 and not any(char.isalnum() for char in alt)


def image_source(attrs: dict[str, str | None], base_url: str | None) -> str | None:
    """The http(s) URL an <img> shows, resolved against `base_url`, or None (none, or an icon:
    see is_icon; it stays its placeholder, in the text)."""
    if not attrs or is_icon(attrs):
        return None
    candidates = [attrs.get(name) for name in _IMAGE_ATTRS]
    srcset = attrs.get("srcset")
    if srcset:
        first = srcset.split(",", 1)[0].split()
        if first:
            candidates.append(first[0])
    for src in candidates:
        src = (src or "").strip()
        if not src:
            continue
        try:
            url = urljoin(base_url, src) if base_url else src
        except ValueError:
            continue
        url = safe_url(url)
        if url is not None:
            return url
    return None


class ImageList:
    """Images in document order with the per-post cap on distinct URLs (one image shown
    twice counts once)."""

    def __init__(self) -> None:
        self.refs: list[ImageRef] = []
        self.urls: dict[str, None] = {}  # distinct, in order

    def add(self, url: str | None, alt: str) -> ImageRef:
        if url is not None and url not in self.urls:
            if len(self.urls) >= MAX_IMAGES:
                url = None
            else:
                self.urls[url] = None
        ref = ImageRef(url, alt)
        self.refs.append(ref)
        return ref


@dataclass
class Rendered:
    text: str  # Markdown
    links: list[str] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)  # every <img>, in order: placeholder N is images[N]

    def with_link_list(self) -> str:
        if not self.links:
            return self.text
        width = len(str(len(self.links)))
        listing = "\n".join(f"[{i:>{width}}] {url}" for i, url in enumerate(self.links, 1))
        return f"{self.text}\n\nLinks:\n{listing}"


@dataclass
class _Mark:
    marker: str
    state: str  # "pending" (not written yet), "open" (written), "closed" (written and closed)


def _page_key(url: str | None) -> tuple[str, str, str, str] | None:
    """What makes two URLs the same page: all but the fragment (scheme and host in any case; "" path is "/")."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query


class _Converter(html2text.HTML2Text):
    def __init__(self, base_url: str | None, image_marks: bool = False, own_pages: Iterable[str | None] = ()) -> None:
        super().__init__(baseurl=base_url or "", bodywidth=0)
        # The post's own page, whatever the fragment: a link there is no link to list (see the module's doc).
        self._own_pages = {key for url in (base_url, *own_pages) if (key := _page_key(url)) is not None}
        self.images = ImageList()
        self._image_marks = image_marks
        self._marked = 0  # images written as their own paragraph (image_marks)
        self._placeholder_end = -1  # where the output ended after the last `[image: alt]` written
        self._table_depth = 0
        self.unicode_snob = True
        self.body_width = 0
        self.single_line_break = False
        self.mark_code = False
        self.pad_tables = False
        self.links: list[str] = []
        self._numbers: dict[str, int] = {}  # a dict: `url in list` + `.index` was O(n^2) over 60,000 links
        # [href or None, text count when it opened]: an anchor saw text if the count moved since.
        # A counter, not a flag on every open anchor, so 10,000 nested anchors cost nothing per word.
        self._anchors: list[tuple[str | None, int]] = []
        self._texts = 0
        self._code_depth = 0
        self._code_state = "none"  # "pending" (open, nothing written yet), "open" (backtick written)
        self._code_closed_at = -1  # where the last closing backtick was written
        self._marks: list[_Mark] = []  # at most one per marker: three at most
        self._nested: dict[str, int] = {}  # opens of a marker already active, ignored
        self._held_space = False  # trailing space inside emphasis, written after the closing marker
        # Where the output ended after a close that a letter must not touch (else it stays literal).
        self._gap_after = -1
        self._closes: list[tuple[str, int]] = []  # the last close markers written, and where
        self.tag_callback = _Converter._tag

    def _number(self, url: str) -> int | None:
        number = self._numbers.get(url)
        if number is None and len(self.links) < MAX_LINKS:
            self.links.append(url)
            number = self._numbers[url] = len(self.links)
        return number

    @staticmethod
    def _tag(self: _Converter, tag: str, attrs: dict[str, str | None], start: bool) -> bool:
        if tag == "a":
            if start:
                href = (attrs.get("href") or "").strip()
                target = None
                if href and not href.startswith("#"):
                    target = safe_url(urljoin(self.baseurl, href)) if self.baseurl else safe_url(href)
                    if target and _page_key(target) in self._own_pages:
                        target = None  # the page being read: its text stays, unnumbered
                self._anchors.append((target, self._texts))
            elif self._anchors:
                target, texts_then = self._anchors.pop()
                if target and self._texts > texts_then:
                    number = self._number(target)
                    if number is not None:
                        self.o(f"[{number}]")
            return True
        if tag == "img":
            if start:
                alt = clean_line(attrs.get("alt") or attrs.get("title") or "", 200)
                ref = self.images.add(image_source(attrs, self.baseurl or None), alt)
                nested = self.list or self.blockquote or self.pre or self._table_depth
                if self._image_marks and ref.url and self._marked < MAX_IMAGES and not nested:
                    # A paragraph of its own, which the pane swaps for the picture. (Inside a
                    # list, quote or table a paragraph break would break that block: a placeholder.
                    # Past MAX_IMAGES, too: 50,000 <img> must not become 50,000 blocks to lay out.)
                    self._marked += 1
                    self._held_space = False  # a paragraph break follows: no space before it
                    self._close_written()
                    self.p()
                    self.o(f"{IMAGE_MARK}{len(self.images.refs) - 1}{IMAGE_MARK}")
                    self.p()
                else:
                    if self._held_space:  # "<b>see <img></b>": the space goes before the image
                        self._write_held_space()
                    if self._placeholder_end == len(self.outtextlist) and not self.space:
                        self.o(" ")  # images one after another: "[image: a] [image: b]", not run together
                    self.o(ref.placeholder)
                    self._placeholder_end = len(self.outtextlist)
                self._texts += 1
            return True
        if tag == "table":
            self._table_depth += 1 if start else -1 if self._table_depth else 0
        if tag in _CODE:
            self._code_tag(start)
            return True
        marker = _EMPHASIS.get(tag)
        if marker is not None:
            if start:
                self._open_mark(marker)
            else:
                self._close_mark(marker)
            return True
        if tag in _BLOCKS and self._code_state == "open":
            self._end_code()  # a code span cannot cross a block either
            self._code_state = "pending" if self._code_depth else "none"
        if tag in _BLOCKS and self._marks:
            self._close_written()
        elif self._held_space:  # html2text may write something for this tag (<code> writes a backtick)
            self._write_held_space()
        if tag in _HTML5_BLOCKS:
            if not self.split_next_td:  # (as html2text does for <div>: not while it joins table cells)
                self.p()
            return True
        return False

    # --- emphasis: balanced by construction ---------------------------------------------

    def _code_tag(self, start: bool) -> None:
        """Backticks only around the outermost code element, written at its first text."""
        if self.pre:
            return
        if start:
            self._code_depth += 1
            if self._code_depth == 1:
                self._code_state = "pending"
        elif self._code_depth:
            self._code_depth -= 1
            if self._code_depth == 0:
                self._end_code()

    def _end_code(self) -> None:
        if self._code_state == "open":
            self.o("`")
            self.code = False
            self._code_closed_at = len(self.outtextlist)
        self._code_state = "none"

    def _open_mark(self, marker: str) -> None:
        if self.pre or self._code_depth or any(m.marker == marker for m in self._marks):
            # Already active (<b><b>) or meaningless here: only counted, so the list of
            # marks holds each marker at most once and 5,000 nested <b> cost nothing per word.
            self._nested[marker] = self._nested.get(marker, 0) + 1
        else:
            self._marks.append(_Mark(marker, "pending"))

    def _close_mark(self, marker: str) -> None:
        if self._nested.get(marker):
            self._nested[marker] -= 1  # the innermost of a nested pair closes first
            return
        for index in range(len(self._marks) - 1, -1, -1):
            if self._marks[index].marker == marker:
                break
        else:
            return  # a close with no open: dropped, not written as a stray marker
        above = [m for m in self._marks[index + 1:] if m.state == "open"]
        for mark in reversed(above):  # misnested (<i><b></i></b>): close the inner ones first...
            self._write_close(mark)
        closing = self._marks.pop(index)
        if closing.state == "open":
            self._write_close(closing)
        for mark in above:  # ...and let them reopen at the next text
            mark.state = "pending"

    def _write_opens(self, pending: list[_Mark], first: str) -> None:
        """Write the opening markers before text starting with `first`.

        Markdown opens emphasis only where the marker "flanks" text: `word_em_` and
        `word**.x**` stay literal, so a space goes before such a marker. A marker closed
        right before (`**a**` then `**b**`) is taken back instead: `****` would be literal.
        """
        for index, mark in enumerate(pending):
            if self.p_p == 0 and self._closes[-1:] == [(mark.marker, len(self.outtextlist))]:
                self.outtextlist.pop()
                self._closes.pop()
            else:
                previous = " " if self.space else self.outtextlist[-1][-1:] if self.outtextlist else ""
                after = pending[index + 1].marker[0] if index + 1 < len(pending) else first
                if previous == mark.marker[0] or (previous.isalnum() and (mark.marker == "_" or _is_punct(after))):
                    self.o(" ")
                self.o(mark.marker)
            mark.state = "open"

    def _close_written(self) -> None:
        """At a block boundary: close what is written; it reopens at the next text."""
        for mark in reversed(self._marks):
            if mark.state == "open":
                self._write_close(mark)
                mark.state = "pending"
        if self._held_space:
            self._write_held_space()

    def _write_held_space(self) -> None:
        self._held_space = False
        super().handle_data(" ")

    def _write_close(self, mark: _Mark) -> None:
        # Likewise a close: `_em_word` and `**x.**word` stay literal unless a space follows.
        if self._code_state == "open":  # <b><code>x</b>: the code span ends first, reopens after
            self._end_code()
            self._code_state = "pending"
        last = self.outtextlist[-1][-1:] if self.outtextlist else ""
        self.o(mark.marker)
        if mark.marker == "_" or _is_punct(last):
            self._gap_after = len(self.outtextlist)
        mark.state = "closed"
        self._closes = [*self._closes[-2:], (mark.marker, len(self.outtextlist))]

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        if not data:
            return
        if IMAGE_MARK in data:
            data = data.replace(IMAGE_MARK, "\ufffd")  # only the renderer writes image markers
        if data.strip():
            self._texts += 1
            if self._held_space:
                data = " " + data
                self._held_space = False
            if self._gap_after == len(self.outtextlist) and not self.space and data[0].isalnum():
                data = " " + data  # only if the close is still the last thing written
            pending = [m for m in self._marks if m.state == "pending"]
            if pending and not self.pre:
                stripped = data.lstrip()
                lead = data[: len(data) - len(stripped)]
                if lead:
                    super().handle_data(lead, entity_char)
                    data = stripped
                self._write_opens(pending, "`" if self._code_state == "pending" else data[0])
            if self._code_state == "pending" and not self.pre:
                stripped = data.lstrip()
                if len(stripped) < len(data):
                    super().handle_data(data[: len(data) - len(stripped)], entity_char)
                    data = stripped
                if self.p_p == 0 and self._code_closed_at == len(self.outtextlist) and not self.space:
                    self.outtextlist.pop()  # `a` right before `b`: one span, not a literal ``
                else:
                    self.o("`")
                self.code = True
                self._code_state = "open"
            if not self.pre and any(m.state == "open" for m in self._marks):
                # `**bold **` does not close in Markdown: the space goes after the marker.
                stripped = data.rstrip()
                if len(stripped) < len(data):
                    self._held_space = True
                    data = stripped
        elif any(m.state == "open" for m in self._marks) and not self.pre:
            self._held_space = True
            return
        super().handle_data(data, entity_char)

    def close(self) -> str:
        self._end_code()
        self._close_written()
        self._marks.clear()
        self._nested.clear()
        return super().close()


_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_TRAILING = re.compile(r"[ \t]+\n")
# html2text puts a blank line between `<li><p>` items; a list reads better tight.
# html2text puts a space after closing emphasis when punctuation follows ("_word_ ,").
_SPACE_AFTER_EMPHASIS = re.compile(r"(?<=\S)([_*]{1,2}) (?=[,;:.!?)\]])")
# An empty <li> leaves a bare bullet, which Markdown after a paragraph shows as a literal `*`.
_EMPTY_ITEMS = re.compile(r"^[ \t]*(?:[*+-]|\d+\.)[ \t]*(?:\n|\Z)", re.M)
_LOOSE_ITEMS = re.compile(r"^([ \t]*(?:[*+-]|\d+\.) .*)\n\n(?=[ \t]*(?:[*+-]|\d+\.) )", re.M)


def _is_punct(char: str) -> bool:
    return bool(char) and not char.isalnum() and not char.isspace()


def _flatten_deep(html: str) -> str:
    """Drop list and quote tags nested deeper than MAX_NESTING, in one linear pass.

    Their content stays, at the deepest kept level. A close tag is dropped when its
    open was (counted per tag name), so well-formed markup stays well-formed.
    """
    depth = 0
    dropped: dict[str, int] = {}
    parts: list[str] = []
    last = 0
    for match in _NESTING_TAG.finditer(html):
        name = match.group(2).lower()
        if not match.group(1):
            if depth < MAX_NESTING:
                depth += 1
                continue
            dropped[name] = dropped.get(name, 0) + 1
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            depth = max(depth - 1, 0)
            continue
        parts.append(html[last : match.start()])
        last = match.end()
    if not parts:
        return html
    parts.append(html[last:])
    return "".join(parts)


# Whitespace runs longer than this are cut to it. Outside <pre> any run means one space;
# inside, nobody reads 10,000 blank lines. The bound matters: html2text's escaping
# regexes (`^(\s*)...`, multiline) scan the rest of a run from every line start in it,
# so a post of 200,000 newlines cost minutes, holding the GIL (the app froze).
MAX_WHITESPACE_RUN = 32
_WHITESPACE_RUN = re.compile(rf"\s{{{MAX_WHITESPACE_RUN + 1},}}")


def _bound_whitespace(html: str) -> str:
    return _WHITESPACE_RUN.sub(lambda m: m.group()[:MAX_WHITESPACE_RUN], html)


def render_html(
    html: str, base_url: str | None = None, *, image_marks: bool = False, own_pages: Iterable[str | None] = ()
) -> Rendered:
    """HTML to Markdown text plus its numbered http(s) links and its images. Never raises on bad HTML.

    With `image_marks` (the reading pane), an image outside lists, quotes and tables is a
    paragraph of its own holding IMAGE_MARK, its index and IMAGE_MARK, instead of `[image: alt]`.
    A link to `base_url` or to one of `own_pages` (the post's link, its article's URL), whatever
    its fragment, is the page itself: it gets no number.
    """
    converter = _Converter(base_url, image_marks, own_pages)
    html = _flatten_deep(_bound_whitespace(html[:MAX_HTML_CHARS]))
    try:
        text = converter.handle(html)
    except Exception:
        # html2text trips on some pathological markup; fall back to the bare text.
        text = strip_tags(html).replace(IMAGE_MARK, "\ufffd")
    text = _EMPTY_ITEMS.sub("", _TRAILING.sub("\n", clean_text(text)))
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    text = _LOOSE_ITEMS.sub(r"\1\n", text)
    text = _SPACE_AFTER_EMPHASIS.sub(r"\1", text)
    return Rendered(text, converter.links, converter.images.refs)


def describe_enclosure(enclosure: Enclosure) -> str:
    """One line for people: "https://…/ep12.mp3 (audio/mpeg, 46.0 MB, 1:02:03)"."""
    facts = [enclosure.type] if enclosure.type else []
    if enclosure.length:
        facts.append(format_size(enclosure.length))
    if enclosure.duration:
        seconds = int(enclosure.duration)
        hours, rest = divmod(seconds, 3600)
        facts.append(f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}")
    url = clean_line(mask_credentials(enclosure.url), 2000)
    return f"{url} ({', '.join(facts)})" if facts else url


def format_size(length: float) -> str:
    """A size for people, the one way every part of reader says it ("4.8 MB" for 5,000,000
    bytes: units of 1024, as the enclosure lines always had), so a post's header, `reader
    download` and the app's progress never disagree about the same file."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        # Compared after rounding: 1,073,741,000 bytes is "1.0 GB", not "1024.0 MB".
        if round(length / scale, 1) >= 1:
            return f"{length / scale:.1f} {unit}"
    return f"{int(length)} bytes"


def _downloaded(entry: Entry, downloads: str | os.PathLike[str] | None) -> dict[str, Path]:
    if downloads is None or not entry.enclosures:
        return {}
    from .download import downloaded_paths

    return downloaded_paths([e.url for e in entry.enclosures], downloads)


def download_note(path: Path | None) -> str:
    """" · downloaded: PATH" after an enclosure that is on disk ("" when it isn't)."""
    if path is None:
        return ""
    return f" · downloaded: {mask_credentials(clean_line(str(path), 1000))}"


SOURCES = ("auto", "feed", "article")


def post_source(entry: Entry, source: str = "auto") -> tuple[str, str | None, str]:
    """Which text of a post to show: (HTML, the base URL its links resolve against, "article"
    or "feed"). "auto": the full article when one was fetched, else the feed's text; "article"
    falls back to the feed's text when there is no article; "feed": the feed's text."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if source != "feed" and entry.article:
        return entry.article, entry.article_url or entry.base_url, "article"
    return entry.content, entry.base_url, "feed"


def own_pages(entry: Entry) -> tuple[str | None, ...]:
    """The URLs that are the post's own page (its link, its article's), for render_html's `own_pages`."""
    return entry.link, entry.article_url


def render_entry_text(entry: Entry, source: str = "auto", downloads: str | os.PathLike[str] | None = None) -> str:
    """The whole post for a terminal: a header, the body, then the numbered links.

    `source` as in post_source: by default the full article when there is one. `downloads`:
    the downloads directory, so an enclosure on disk says where (`reader download`)."""
    html, base_url, shown = post_source(entry, source)
    body = render_html(html, base_url, own_pages=own_pages(entry))
    header = [entry.title or "(untitled)", "=" * min(max(len(entry.title), 10), 80)]
    header.append(f"Feed:       {entry.feed_title}")
    if entry.author:
        header.append(f"Author:     {entry.author}")
    header.append(f"Date:       {format_time(entry.published, entry.date_known)}")
    if entry.categories:
        header.append(f"Categories: {', '.join(entry.categories)}")
    if entry.tags:
        header.append(f"Tags:       {', '.join(entry.tags)}")
    if entry.link:
        header.append(f"Link:       {entry.link}")
    # Numbered when there are several: `reader download ID --enclosure N` takes the number.
    on_disk = _downloaded(entry, downloads)
    numbered = len(entry.enclosures) > 1
    for n, enclosure in enumerate(entry.enclosures, 1):
        label = f"Enclosure {n}: " if numbered else "Enclosure:  "
        header.append(label + describe_enclosure(enclosure) + download_note(on_disk.get(enclosure.url)))
    if entry.article:
        header.append("Text:       " + ("the full article" if shown == "article" else "the feed's text"))
    return "\n".join(header) + "\n\n" + body.with_link_list() + "\n"
