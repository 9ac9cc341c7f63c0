"""A fast path for well-formed RSS 2.0 and Atom 1.0: ElementTree (C expat) instead of feedparser.

feedparser handles every odd and broken feed there is, at 2-5 MB/s. Most feeds are
well-formed RSS 2.0 or Atom 1.0, which expat reads at over 100 MB/s. This module
reads those, and says "not mine" (returns None) for everything else so feedparser
can take it: malformed XML, an early DOCTYPE (old RSS 0.91 with HTML entities), other
formats, and any doubt about the character encoding. Entity declarations never get
this far: parse.py refuses them first (xmlguard), wherever the DOCTYPE sits.

It yields raw fields; `parse.py` turns them into ParsedEntry the same way for both
paths, so an entry's identity doesn't depend on which parser read it.
"""

from __future__ import annotations

import calendar
import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import mktime_tz, parsedate_tz
from html import escape
from urllib.parse import urljoin

from .xmlguard import declared_encoding

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
MEDIA = "{http://search.yahoo.com/mrss/}"
SY = "{http://purl.org/rss/1.0/modules/syndication/}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# Encodings expat reads itself; anything else goes to feedparser's detection.
_NATIVE = {"utf-8", "ascii", "iso8859-1"}
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.I)


@dataclass(slots=True)
class RawEntry:
    title: str = ""
    title_is_html: bool = False
    link: str | None = None
    guid: str | None = None
    author: str = ""
    date_text: str = ""
    published: float | None = None
    categories: list[str] = field(default_factory=list)
    content: str = ""  # HTML
    base: str | None = None  # explicit xml:base, resolved
    # (url resolved, type, length, duration) as the feed wrote them; parse.py cleans them
    enclosures: list[tuple[str, str, str, str]] = field(default_factory=list)
    duration: str = ""  # itunes:duration, for an enclosure that gives none


@dataclass(slots=True)
class RawFeed:
    title: str
    title_is_html: bool
    site_url: str | None
    entries: list[RawEntry]
    # The feed's own schedule hints as written (parse.py reads them through schedule.feed_interval):
    # RSS <ttl> and the syndication module's sy:updatePeriod / sy:updateFrequency.
    ttl: str = ""
    update_period: str = ""
    update_frequency: str = ""


def parse_fast(body: bytes, url: str, content_type: str = "") -> RawFeed | None:
    """Raw fields of a well-formed RSS 2.0 / Atom 1.0 document, or None to mean "use feedparser"."""
    body = body.lstrip()  # a blank line before <?xml is common and harmless
    if not body.startswith((b"<?xml", b"<rss", b"<feed")) or b"<!DOCTYPE" in body[:2048]:
        return None
    if "html" in content_type.lower():
        return None
    encoding = _codec(declared_encoding(body) or "utf-8")
    charset = _CHARSET.search(content_type)
    if encoding not in _NATIVE or (charset and _codec(charset.group(1)) != encoding):
        return None  # an unusual or disputed encoding: feedparser's detection decides
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, ValueError, LookupError):
        return None
    try:
        if root.tag == "rss":
            channel = root.find("channel")
            return _rss(channel, url) if channel is not None else None
        if root.tag == ATOM + "feed":
            return _atom(root, url)
    except RecursionError:
        pass  # absurdly deep XHTML content: feedparser reads it without recursing
    return None


def _outermost(root: ET.Element, tag: str) -> list[ET.Element]:
    """Elements named `tag` under root, in document order, but none inside another one.

    Not `iter(tag)`: an empty <item/> nested in each item would become a phantom post.
    Iterative, not recursive, so depth costs nothing but time, and linear.
    """
    found: list[ET.Element] = []
    stack = [iter(root)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif child.tag == tag:
            found.append(child)
        elif len(child):
            stack.append(iter(child))
    return found


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# --- RSS 2.0 -------------------------------------------------------------------------------


def _rss(channel: ET.Element, url: str) -> RawFeed:
    base = urljoin(url, channel.get(XML_BASE, ""))
    entries = []
    for item in _outermost(channel, "item"):
        entry = RawEntry()
        item_base = urljoin(base, item.get(XML_BASE, "")) if item.get(XML_BASE) else None
        guid_is_link = False
        for child in item:
            tag = child.tag
            text = child.text or ""
            if tag == "title":
                entry.title = text
            elif tag == "link" and not entry.link:
                entry.link = text.strip() or None
            elif tag == ATOM + "link" and not entry.link and child.get("rel", "alternate") == "alternate":
                entry.link = child.get("href")
            elif tag == "guid":
                entry.guid = text.strip() or None
                # Attribute names are matched case-insensitively, as feedparser does (isPermalink is common).
                permalink = next((v for k, v in child.attrib.items() if k.lower() == "ispermalink"), "true")
                guid_is_link = permalink.strip().lower() != "false"
            elif tag == CONTENT + "encoded":
                if text.strip():
                    entry.content = text
            elif tag == "description":
                if not entry.content:
                    entry.content = text
            elif tag == DC + "creator" or (tag in ("author", ITUNES + "author") and not entry.author):
                entry.author = text.strip()
            elif tag == ITUNES + "summary" and not entry.content:
                entry.content = _text_to_html(text)
            elif tag == "pubDate" or (tag == DC + "date" and not entry.date_text):
                entry.date_text = text.strip()
            elif tag == DC + "subject":
                entry.categories.append(text)
            elif tag == ITUNES + "keywords":
                entry.categories.extend(text.split(","))
            elif tag == "enclosure":
                _add_enclosure(entry, item_base or base, child.get("url"), child.get("type"), child.get("length"))
            elif tag == ITUNES + "duration":
                entry.duration = text.strip()
        # iter, not the children: some feeds wrap categories in a <categories> element.
        entry.categories[:0] = [c.text or "" for c in item.iter("category")]
        _add_media(entry, item, item_base or base)
        if entry.guid and guid_is_link:
            # feedparser's rules: a permalink guid resolves like a link, and stands in for one.
            entry.guid = urljoin(item_base or base, entry.guid)
            if not entry.link and entry.guid.startswith(("http://", "https://")):
                entry.link = entry.guid
        if entry.link:
            entry.link = urljoin(item_base or base, entry.link.strip())
        if item_base:
            entry.base = item_base
        entry.published = _date(entry.date_text)
        entries.append(entry)
    link = channel.findtext("link")
    return RawFeed(
        title=channel.findtext("title") or "",
        title_is_html=False,
        site_url=urljoin(base, link.strip()) if link and link.strip() else None,
        entries=entries,
        ttl=_last_text(channel, "ttl"),
        **_sy(channel),
    )


def _last_text(node: ET.Element, tag: str) -> str:
    """The text of the last child `tag` of node ("" if none): feedparser keeps the last one too."""
    found = node.findall(tag)
    return (found[-1].text or "") if found else ""


def _sy(node: ET.Element) -> dict[str, str]:
    """The syndication module's hints among node's children, as feedparser reads them."""
    return {
        "update_period": _last_text(node, SY + "updatePeriod"),
        "update_frequency": _last_text(node, SY + "updateFrequency"),
    }


# --- Atom 1.0 ------------------------------------------------------------------------------


def _atom(feed: ET.Element, url: str) -> RawFeed:
    base = urljoin(url, feed.get(XML_BASE, ""))
    feed_author = _atom_author(feed.find(ATOM + "author"))
    entries = []
    for node in _outermost(feed, ATOM + "entry"):
        entry = RawEntry()
        entry_base = urljoin(base, node.get(XML_BASE, ""))
        summary: ET.Element | None = None
        content: ET.Element | None = None
        published = updated = ""
        link_is_html = False
        for child in node:
            tag = child.tag
            if tag == ATOM + "title":
                entry.title, entry.title_is_html = _atom_text(child)
            elif tag == ATOM + "link" and child.get("rel") == "enclosure":
                _add_enclosure(entry, entry_base, child.get("href"), child.get("type"), child.get("length"))
            elif tag == ATOM + "link":
                if child.get("rel", "alternate") == "alternate" and child.get("href"):
                    href = urljoin(entry_base, child.get("href", "").strip())
                    # The first alternate wins, but an HTML one beats a gemini: or gopher: one.
                    if not entry.link or ("html" in child.get("type", "") and not link_is_html):
                        entry.link = href
                        link_is_html = "html" in child.get("type", "")
            elif tag == ATOM + "id":
                entry.guid = (child.text or "").strip() or None
            elif tag == ATOM + "author" and not entry.author:
                entry.author = _atom_author(child)
            elif tag == ATOM + "published":
                published = (child.text or "").strip()
            elif tag == ATOM + "updated":
                updated = (child.text or "").strip()
            elif tag == ATOM + "category":
                entry.categories.append(child.get("term") or child.get("label") or "")
            elif tag == ATOM + "content":
                content = child
            elif tag == ATOM + "summary":
                summary = child
        _add_media(entry, node, entry_base)
        entry.author = entry.author or feed_author
        entry.date_text = published or updated
        entry.published = _date(entry.date_text)
        body = content if content is not None and (content.text or len(content)) else summary
        if body is None:
            # YouTube and other media feeds keep the text in media:group/media:description.
            description = node.find(f".//{MEDIA}description")
            if description is not None and description.text:
                entry.content = _text_to_html(description.text)
        else:
            text, is_html = _atom_text(body)
            entry.content = text if is_html else _text_to_html(text)
            if body.get(XML_BASE) or node.get(XML_BASE) or feed.get(XML_BASE):
                entry.base = urljoin(entry_base, body.get(XML_BASE, ""))
        entries.append(entry)
    title_node = feed.find(ATOM + "title")
    title, title_is_html = _atom_text(title_node) if title_node is not None else ("", False)
    site = None
    for link in feed.findall(ATOM + "link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            site = urljoin(base, link.get("href", "").strip())
            break
    return RawFeed(title=title, title_is_html=title_is_html, site_url=site, entries=entries, **_sy(feed))


def _add_enclosure(entry: RawEntry, base: str, url: str | None, kind: str | None, length: str | None,
                   duration: str | None = None) -> None:
    if url and url.strip():
        entry.enclosures.append((urljoin(base, url.strip()), kind or "", length or "", duration or ""))


def _add_media(entry: RawEntry, node: ET.Element, base: str) -> None:
    """Media RSS files: media:content, alone or in a media:group (YouTube, podcasts)."""
    for media in node.iter(MEDIA + "content"):
        _add_enclosure(entry, base, media.get("url"), media.get("type"), media.get("fileSize"), media.get("duration"))


def _atom_text(node: ET.Element) -> tuple[str, bool]:
    """An Atom text construct as (text, is_html)."""
    kind = (node.get("type") or "text").lower()
    if kind == "xhtml":
        return _inner_xhtml(node), True
    if kind in ("html", "text/html"):
        return node.text or "", True
    return "".join(node.itertext()), False


def _inner_xhtml(node: ET.Element) -> str:
    # The content is one xhtml:div; its children are the markup. Namespaces off, so
    # the renderer sees <p>, not <html:p>.
    holder = node.find(XHTML + "div")
    if holder is None:
        holder = node
    for element in holder.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    parts = [escape(holder.text or "", quote=False)]
    parts.extend(ET.tostring(child, encoding="unicode", method="html") for child in holder)
    return "".join(parts)


def _atom_author(node: ET.Element | None) -> str:
    if node is None:
        return ""
    return (node.findtext(ATOM + "name") or node.findtext(ATOM + "email") or "").strip()


def _text_to_html(text: str) -> str:
    return "<p>" + escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>" if text.strip() else ""


# --- dates ---------------------------------------------------------------------------------


def _date(text: str) -> float | None:
    """RFC 822 and RFC 3339 quickly; anything stranger through feedparser's date parsers."""
    if not text:
        return None
    parsed = parsedate_tz(text)
    if parsed is not None and parsed[0] > 0:
        try:
            return float(mktime_tz(parsed))
        except (OverflowError, ValueError):
            pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        from feedparser.datetimes import _parse_date as feedparser_date  # rare: imported when needed

        struct = feedparser_date(text)
        return float(calendar.timegm(struct)) if struct else None
    if when.tzinfo is None:
        return float(calendar.timegm(when.timetuple()))
    return when.timestamp()
