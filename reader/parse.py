"""Feed bytes to plain data, through feedparser.

feedparser's own HTML sanitising and relative-URI resolution cost more than half its
parse time, so both are off here and done where they are cheap instead: content is
stored as the publisher's HTML (control characters stripped) and only ever shown
through the renderer, which drops scripts and styles, resolves links against the
entry's base at display time and refuses every scheme but http(s). Nothing from a
feed reaches a browser engine, so the renderer's text output is what must be safe.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import feedparser

from .models import ParsedEntry, ParsedFeed
from .sanitize import clean_line, clean_text, safe_url, strip_tags

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


class NotAFeedError(Exception):
    """The body is not a feed. `links` holds feeds an HTML page points to, if any."""

    def __init__(self, message: str, links: list[str] | None = None) -> None:
        super().__init__(message)
        self.links = links or []


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse one feed document. Raises NotAFeedError for anything that isn't one."""
    if not body.strip():
        raise NotAFeedError("empty response: no feed here")
    http_headers = {k.lower(): v for k, v in (headers or {}).items()}
    # Relative links resolve against the URL the bytes came from.
    http_headers["content-location"] = urljoin(url, http_headers.get("content-location", ""))
    http_headers.pop("content-encoding", None)  # the body is already decoded
    result = feedparser.parse(
        body,
        response_headers=http_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not result.get("version") and not result.entries:
        raise _not_a_feed(body, http_headers.get("content-type", ""), url, result)

    feed = result.feed
    entries = [_entry(e, url) for e in result.entries]
    return ParsedFeed(
        title=_title(feed),
        site_url=safe_url(feed.get("link")),
        entries=entries,
    )


def _entry(e: feedparser.FeedParserDict, feed_url: str) -> ParsedEntry:
    title = _title(e)
    link = safe_url(e.get("link"))
    # dict.get: FeedParserDict.get would alias a missing published to updated, with a warning.
    when = dict.get(e, "published_parsed") or dict.get(e, "updated_parsed") or dict.get(e, "created_parsed")
    published = float(calendar.timegm(when)) if when else None
    key = clean_line(e.get("id") or "", 2000) or link
    if not key:
        digest = hashlib.sha1(f"{title}\x00{e.get('published') or e.get('updated') or ''}".encode()).hexdigest()
        key = "sha1:" + digest
    content, base = _content(e)
    categories: list[str] = []
    for tag in e.get("tags") or ():
        name = clean_line(tag.get("term") or tag.get("label") or "", 200)
        if name and name.casefold() not in (c.casefold() for c in categories):
            categories.append(name)
    return ParsedEntry(
        key=key,
        title=title,
        link=link,
        author=clean_line(strip_tags(e.get("author") or ""), 300),
        published=published,
        categories=categories,
        content=content,
        base_url=_base(base, link, feed_url),
    )


def _base(content_base: str | None, link: str | None, feed_url: str) -> str | None:
    """What relative links in the content resolve against.

    An explicit xml:base wins. Without one, feedparser reports the feed's own URL, but
    publishers write relative links meaning their site, so the entry's link is better.
    """
    explicit = safe_url(content_base)
    if explicit and explicit != feed_url:
        return explicit
    return link or safe_url(feed_url)


def _title(d: feedparser.FeedParserDict) -> str:
    title = d.get("title") or ""
    detail = d.get("title_detail") or {}
    if "html" in (detail.get("type") or "") or "<" in title:
        title = strip_tags(title)
    return clean_line(title)


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
    return clean_text(value), best.get("base")


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
        if "alternate" in rel and a.get("type", "").lower().split(";")[0].strip() in FEED_TYPES and a.get("href"):
            self.found.append((a["type"], a["href"]))


def discover_feeds(body: bytes, url: str) -> list[str]:
    """Feeds an HTML page advertises with <link rel="alternate">, as absolute http(s) URLs."""
    finder = _LinkFinder()
    try:
        finder.feed(body[:2_000_000].decode("utf-8", "replace"))
        finder.close()
    except Exception:
        pass
    links: list[str] = []
    for _type, href in finder.found:
        absolute = safe_url(urljoin(url, href.strip()))
        if absolute and absolute not in links:
            links.append(absolute)
    return links
