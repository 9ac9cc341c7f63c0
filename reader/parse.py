"""Feed bytes to plain data.

Well-formed RSS 2.0 and Atom 1.0 go through the expat fast path (fastfeed.py);
everything else through feedparser, which copes with anything. feedparser's own
HTML sanitising and relative-URI resolution cost more than half its parse time,
so both are off here and done where they are cheap instead: content is
stored as the publisher's HTML (control characters stripped) and only ever shown
through the renderer, which drops scripts and styles, resolves links against the
entry's base at display time and refuses every scheme but http(s). Nothing from a
feed reaches a browser engine, so the renderer's text output is what must be safe.

Before either parser sees the bytes (xmlguard.py): UTF-16/32 bodies become UTF-8,
character references to UTF-16 surrogate halves become the character they mean, and a
document that declares any DTD entity is refused outright.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from .fastfeed import RawEntry, RawFeed, parse_fast
from .models import Enclosure, ParsedEntry, ParsedFeed
from .sanitize import clean_line, clean_text, is_uri_term, media_type, safe_url, strip_tags
from .schedule import feed_interval
from .xmlguard import EntityDeclarationError, as_utf8_document, charset_fits, refuse_entities, repair_char_refs

if TYPE_CHECKING:
    import feedparser

# Categories kept per post; the rest are dropped at parse time.
MAX_CATEGORIES = 100

# Read as "<url> is ..." by `add` and alone by `refresh`.
ENTITIES_REFUSED = "a feed that declares XML entities; refused"

_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*[^;]*", re.I)
_CHARSET_VALUE = re.compile(r";\s*charset\s*=\s*[\"']?([^;\"'\s]+)", re.I)

# Feeds an HTML page may name that are kept (the first is what `add` follows).
MAX_DISCOVERED = 50

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


class NotAFeedError(Exception):
    """The body is not a feed. `links` holds feeds an HTML page points to, if any."""

    def __init__(self, message: str, links: list[str] | None = None) -> None:
        super().__init__(message)
        self.links = links or []


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse one feed document. Raises NotAFeedError for anything that isn't one, and only that.

    The parsers meet bytes nobody planned for; whatever one of them trips on is a message
    on that feed (for `add`, `refresh` and the app alike), never a traceback.
    """
    try:
        return _parse_feed(body, url, headers)
    except (NotAFeedError, MemoryError):
        raise
    except Exception as exc:
        # Worded to follow "<url> is", as `add` says it.
        detail = f"{type(exc).__name__}: {clean_line(str(exc), 200)}"
        raise NotAFeedError(f"a feed that could not be read ({detail})") from exc


def _parse_feed(body: bytes, url: str, headers: dict[str, str] | None) -> ParsedFeed:
    if not body.strip():
        raise NotAFeedError("empty response: no feed here")
    http_headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = http_headers.get("content-type", "")
    charset = _CHARSET_VALUE.search(content_type)
    utf8 = as_utf8_document(body)
    if utf8 is not body or (charset and charset_fits(utf8, charset.group(1)) is None):
        # Re-encoded as UTF-8 (it was UTF-16/32, or declared no real charset), or the
        # server's charset is none (`charset=punycode`) or can't be true of the bytes
        # (`charset=utf-16` on ASCII): the HTTP charset doesn't apply.
        body = utf8
        http_headers["content-type"] = _CHARSET_PARAM.sub("", content_type)
    body = repair_char_refs(body)
    _refuse_entities(body)  # as the fast path's expat reads the bytes
    raw = parse_fast(body, url, http_headers.get("content-type", "")) or _parse_with_feedparser(body, url, http_headers)
    return ParsedFeed(
        title=_title(raw.title, raw.title_is_html),
        site_url=safe_url(raw.site_url),
        entries=[_entry(e, url) for e in raw.entries if _is_post(e)],
        interval=feed_interval(raw.ttl, raw.update_period, raw.update_frequency),
    )


def _is_post(raw: RawEntry) -> bool:
    """An item with no title, link, id, body or date is no post. feedparser reads an empty
    <item/> nested in a real one as an item of its own: that would be a phantom "(untitled)"."""
    return bool(
        raw.title.strip() or raw.link or raw.guid or raw.content.strip() or raw.date_text or raw.categories
    )


def _refuse_entities(body: bytes, encoding: str | None = None) -> None:
    try:
        refuse_entities(body, encoding)
    except EntityDeclarationError:
        raise NotAFeedError(ENTITIES_REFUSED) from None


def _entry(raw: RawEntry, feed_url: str) -> ParsedEntry:
    """Raw fields to a clean entry: the same rules whichever parser read them."""
    title = _title(raw.title, raw.title_is_html)
    link = safe_url(raw.link)
    key = clean_line(raw.guid or "", 2000) or link
    if not key:
        key = "sha1:" + hashlib.sha1(f"{title}\x00{raw.date_text}".encode("utf-8", "surrogatepass")).hexdigest()
    return ParsedEntry(
        key=key,
        title=title,
        link=link,
        author=clean_line(strip_tags(raw.author), 300),
        published=raw.published,
        categories=clean_categories(raw.categories),
        content=clean_text(raw.content),
        base_url=_base(raw.base, link, feed_url),
        enclosures=clean_enclosures(raw.enclosures, raw.duration, feed_url),
    )


MAX_ENCLOSURES = 20  # files per post: a podcast has one, a gallery a few


def clean_enclosures(
    raw: Iterable[tuple[str, str, str, str]], duration: str = "", feed_url: str = ""
) -> list[Enclosure]:
    """Enclosures cleaned: http(s) URLs only (once each), a plain MIME type, numbers that are numbers.

    Two rules make both parse paths agree: an enclosure that is the feed itself is an
    empty `href=""` (feedparser resolves it to the document), and "text/html" says
    nothing about a file (feedparser gives it to every Atom link without a type).
    """
    found: list[Enclosure] = []
    seen: set[str] = {feed_url}
    for url, kind, length, own_duration in raw:
        safe = safe_url(url)
        if safe is None or safe in seen:
            continue
        seen.add(safe)
        mime = media_type(clean_line(kind, 200))  # "audio/mpeg; charset=…": the type alone
        if mime == "text/html":
            mime = ""
        found.append(Enclosure(
            url=safe,
            type=mime if _MIME.fullmatch(mime) else "",
            length=_whole(length),
            duration=parse_duration(own_duration or duration),
        ))
        if len(found) >= MAX_ENCLOSURES:
            break
    return found


_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


def _whole(text: str) -> int | None:
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 15:
        value = int(text)
        return value or None  # many feeds write length="0" for "unknown"
    return None


def parse_duration(text: str) -> float | None:
    """itunes:duration and media duration: seconds ("2700", "2700.5") or clock time ("45:00", "1:02:03")."""
    text = (text or "").strip()
    if not text or len(text) > 20:
        return None
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return None
    if len(parts) > 3 or any(p < 0 or p != p for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds if 0 < seconds < 10**7 else None


def clean_categories(names: Iterable[str], limit: int = MAX_CATEGORIES) -> list[str]:
    """Category names cleaned, deduplicated (case-insensitively, in one pass) and capped.

    Scheme terms that are URIs (Blogger's `http://schemas.google.com/blogger/2008/kind#post`)
    label nothing a person chose, so they are dropped. The cap bounds what one post costs
    everywhere downstream: 20,000 categories on one item cost seconds at every stage.
    """
    categories: list[str] = []
    seen: set[str] = set()
    for name in names:
        name = clean_line(name, 200)
        if not name or is_uri_term(name):
            continue
        folded = name.casefold()
        if folded not in seen:
            seen.add(folded)
            categories.append(name)
            if len(categories) >= limit:
                break
    return categories


def _base(content_base: str | None, link: str | None, feed_url: str) -> str | None:
    """What relative links in the content resolve against.

    An explicit xml:base wins. Without one, feedparser reports the feed's own URL, but
    publishers write relative links meaning their site, so the entry's link is better.
    """
    explicit = safe_url(content_base)
    if explicit and explicit != feed_url:
        return explicit
    return link or safe_url(feed_url)


def _title(title: str, is_html: bool) -> str:
    if is_html or "<" in title:
        title = strip_tags(title)
    return clean_line(title)


# --- the feedparser path: everything the fast path declines ---------------------------------


def _parse_with_feedparser(body: bytes, url: str, http_headers: dict[str, str]) -> RawFeed:
    import feedparser  # here, not at the top: it takes 50 ms to import and most feeds never need it
    from feedparser.encodings import convert_to_utf8

    _bound_feedparser_tags()

    # Relative links resolve against the URL the bytes came from.
    http_headers = dict(http_headers)
    http_headers["content-location"] = urljoin(url, http_headers.get("content-location", ""))
    http_headers.pop("content-encoding", None)  # the body is already decoded
    # feedparser decodes the body itself (HTTP charset, BOM, declaration) and keeps
    # "safe" entities (plain text, expanded as often as referenced); check what it will parse.
    _refuse_entities(convert_to_utf8(http_headers, body, {}), "utf-8")
    result = feedparser.parse(body, response_headers=http_headers, sanitize_html=False, resolve_relative_uris=False)
    if not result.get("version") and not result.entries:
        raise _not_a_feed(body, http_headers.get("content-type", ""), url, result)
    feed = result.feed
    return RawFeed(
        title=feed.get("title") or "",
        title_is_html=_is_html(feed),
        site_url=feed.get("link"),
        entries=[_raw_entry(e, url) for e in result.entries],
        ttl=str(feed.get("ttl") or ""),
        update_period=str(feed.get("sy_updateperiod") or ""),
        update_frequency=str(feed.get("sy_updatefrequency") or ""),
    )


def _bound_feedparser_tags() -> None:
    """Cap the categories feedparser collects per entry.

    feedparser dedupes each new tag against a list of all earlier ones (`value not in tags`),
    so one item with 20,000 categories cost 6 s in it. With a cap the scan is bounded; more
    than we keep (URI terms are dropped later) so the first MAX_CATEGORIES labels survive.
    """
    from feedparser.mixin import _FeedParserMixin as Mixin

    original = Mixin._add_tag
    if getattr(original, "_bounded", False):
        return

    def add_tag(self: Mixin, term: str | None, scheme: str | None, label: str | None) -> None:
        if len(self._get_context().get("tags") or ()) < 4 * MAX_CATEGORIES:
            original(self, term, scheme, label)

    add_tag._bounded = True  # type: ignore[attr-defined]
    Mixin._add_tag = add_tag  # type: ignore[method-assign]


def _raw_entry(e: feedparser.FeedParserDict, url: str) -> RawEntry:
    # dict.get: FeedParserDict.get would alias a missing published to updated, with a warning.
    when = dict.get(e, "published_parsed") or dict.get(e, "updated_parsed") or dict.get(e, "created_parsed")
    content, base = _content(e)
    return RawEntry(
        title=e.get("title") or "",
        title_is_html=_is_html(e),
        link=e.get("link"),
        guid=e.get("id"),
        author=e.get("author") or "",
        date_text=dict.get(e, "published") or dict.get(e, "updated") or "",
        published=float(calendar.timegm(when)) if when else None,
        categories=[tag.get("term") or tag.get("label") or "" for tag in e.get("tags") or ()],
        content=content,
        base=base,
        enclosures=_feedparser_enclosures(e, url),
        duration=str(e.get("itunes_duration") or ""),
    )


def _feedparser_enclosures(e: feedparser.FeedParserDict, url: str) -> list[tuple[str, str, str, str]]:
    """RSS enclosures and Atom rel="enclosure" links (feedparser's `enclosures`), then Media RSS.

    Relative URLs resolve against the document, as the fast path's do (feedparser is told not to).
    """
    base = (e.get("summary_detail") or {}).get("base") or url

    def resolved(href: object) -> str:
        return urljoin(base, str(href).strip()) if href and str(href).strip() else ""

    found = [
        (resolved(x.get("href")), str(x.get("type") or ""), str(x.get("length") or ""), "")
        for x in (e.get("enclosures") or ())[:MAX_ENCLOSURES]
    ]
    found += [
        (resolved(m.get("url")), str(m.get("type") or ""), str(m.get("filesize") or ""), str(m.get("duration") or ""))
        for m in (e.get("media_content") or ())[:MAX_ENCLOSURES]
    ]
    return found


def _is_html(d: feedparser.FeedParserDict) -> bool:
    return "html" in ((d.get("title_detail") or {}).get("type") or "")


def _content(e: feedparser.FeedParserDict) -> tuple[str, str | None]:
    """The fullest HTML body the entry has (content:encoded, else the summary), and its base."""
    best: feedparser.FeedParserDict | None = None
    for candidate in e.get("content") or ():
        if best is None or ("html" in candidate.get("type", "") and "html" not in best.get("type", "")):
            best = candidate
    if best is None or not (best.get("value") or "").strip():
        best = e.get("summary_detail") or {"value": e.get("summary") or "", "type": "text/html"}
    value = best.get("value") or ""
    if "html" not in (best.get("type") or "text/html"):
        value = "<p>" + html.escape(value).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"
    return value, best.get("base")


_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)


def _not_a_feed(body: bytes, content_type: str, url: str, result: feedparser.FeedParserDict) -> NotAFeedError:
    if "html" in content_type or _HTML_START.match(body[:4096]):
        links = discover_feeds(body, url)
        if links:
            return NotAFeedError("an HTML page that links a feed", links)
        return NotAFeedError("an HTML page, not a feed (and it links no feed)")
    reason = result.get("bozo_exception")
    detail = f": {clean_line(str(reason), 200)}" if reason else ""
    if b"\x00" in body[:1024] or not body.lstrip()[:1] == b"<":
        return NotAFeedError("not a feed: the response is not XML")
    return NotAFeedError(f"not a feed{detail}")


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "a"):
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rel = a.get("rel", "").lower().split()
        if "alternate" in rel and media_type(a.get("type")) in FEED_TYPES and a.get("href"):
            self.found.append((a["type"], a["href"]))


def discover_feeds(body: bytes, url: str) -> list[str]:
    """Feeds an HTML page advertises with <link rel="alternate">, as absolute http(s) URLs."""
    finder = _LinkFinder()
    try:
        finder.feed(body[:2_000_000].decode("utf-8", "replace"))
        finder.close()
    except Exception:
        pass
    links: dict[str, None] = {}  # a dict keeps order and dedupes in O(1) (a page may list thousands)
    for _type, href in finder.found:
        absolute = safe_url(urljoin(url, href.strip()))
        if absolute:
            links[absolute] = None
            if len(links) >= MAX_DISCOVERED:
                break
    return list(links)
