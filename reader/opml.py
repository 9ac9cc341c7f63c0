"""OPML 2.0 import and export. Folders are categories, both ways."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate

from .models import Feed
from .sanitize import clean_line, safe_url, xml_safe
from .xmlguard import EntityDeclarationError, refuse_entities, repair_char_refs, to_utf8

# Categories kept per feed on import, and folder levels that count as categories.
MAX_CATEGORIES = 100
MAX_FOLDER_DEPTH = 20


class OPMLError(ValueError):
    pass


@dataclass
class Outline:
    url: str
    title: str = ""
    categories: list[str] = field(default_factory=list)


def parse_opml(data: bytes, skipped: list[str] | None = None) -> list[Outline]:
    """Feeds in an OPML file, with the folders they sit in (and any `category` attribute).

    Feed URLs that can't be subscribed to (not http(s), a port out of range) are left
    out; pass `skipped` to get them back (cleaned, for a message).
    """
    try:
        # expat reads only UTF-8, UTF-16 and Latin-1 itself: an OPML in GB2312 or Shift_JIS
        # is decoded here (BOM, then the declaration) and handed over as UTF-8.
        text = repair_char_refs(to_utf8(data))
        # Entity declarations have no business in a subscription list; refusing them
        # outright, in any encoding, closes the door on entity-expansion tricks.
        refuse_entities(text, "utf-8")
        root = ET.fromstring(text, parser=ET.XMLParser(encoding="utf-8"))
    except EntityDeclarationError:
        raise OPMLError("the OPML file declares XML entities; refusing to read it") from None
    except ET.ParseError as exc:
        raise OPMLError(f"not valid OPML: {exc}") from exc
    except ValueError as exc:  # an encoding Python doesn't know
        raise OPMLError(f"not readable OPML: {exc}") from exc
    if not isinstance(root.tag, str) or root.tag.lower() != "opml":
        raise OPMLError(f"not OPML: the root element is <{clean_line(str(root.tag), 80)}>")
    body = root.find("body")
    if body is None:
        raise OPMLError("not OPML: there is no <body>")
    found: dict[str, Outline] = {}
    seen: dict[str, set[str]] = {}  # casefolded categories per feed: a set, not a scan of the list
    # Iterative, not recursive: folders nested 5,000 deep must not hit the recursion limit.
    stack: list[tuple[Iterator[ET.Element], list[str]]] = [(iter(body), [])]
    while stack:
        children, folders = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if child.tag != "outline":
            continue
        url = child.get("xmlUrl") or child.get("xmlurl")
        title = clean_line(child.get("title") or child.get("text") or "")
        if not url:
            # A folder. Only the innermost MAX_FOLDER_DEPTH names count, so depth costs no more per feed.
            inner = [*folders[-(MAX_FOLDER_DEPTH - 1) :], title] if title else folders
            stack.append((iter(child), inner))
            continue
        url = safe_url(url.strip())
        if not url:
            if skipped is not None:
                skipped.append(clean_line(child.get("xmlUrl") or child.get("xmlurl"), 200))
            continue
        outline = found.setdefault(url, Outline(url, title))
        names = seen.setdefault(url, set())
        extra = (child.get("category") or "").split(",")
        for name in [*folders, *(clean_line(c.strip("/").split("/")[-1], 200) for c in extra)]:
            if len(outline.categories) >= MAX_CATEGORIES:
                break
            if name and name.casefold() not in names:
                names.add(name.casefold())
                outline.categories.append(name)
    return list(found.values())


def to_opml(feeds: list[Feed], title: str = "reader subscriptions") -> bytes:
    """OPML 2.0 with one folder per category; a feed in several categories appears in each.

    Every value goes through xml_safe: a cache written before the cleaners dropped U+FFFF
    or a lone surrogate may still hold one, and the export must read back.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_safe(title)
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}

    def outline(parent: ET.Element, feed: Feed) -> None:
        name = xml_safe(feed.display_title)
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": xml_safe(feed.url)}
        if feed.site_url:
            attrs["htmlUrl"] = xml_safe(feed.site_url)
        ET.SubElement(parent, "outline", attrs)

    for feed in feeds:
        if not safe_url(feed.url):
            continue  # internal feeds (the Welcome feed) are not subscriptions to share
        if not feed.categories:
            outline(body, feed)
        for name in dict.fromkeys(xml_safe(c) for c in feed.categories):
            if name not in folders:
                folders[name] = ET.SubElement(body, "outline", text=name, title=name)
            outline(folders[name], feed)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
