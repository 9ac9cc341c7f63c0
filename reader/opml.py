"""OPML 2.0 import and export. Folders are categories, both ways."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import formatdate

from .models import Feed
from .sanitize import clean_line, safe_url


class OPMLError(ValueError):
    pass


@dataclass
class Outline:
    url: str
    title: str = ""
    categories: list[str] = field(default_factory=list)


def parse_opml(data: bytes) -> list[Outline]:
    """Feeds in an OPML file, with the folders they sit in (and any `category` attribute)."""
    if b"<!ENTITY" in data[:10_000]:
        # Entity declarations have no business in a subscription list; refusing them
        # outright closes the door on entity-expansion tricks.
        raise OPMLError("the OPML file declares XML entities; refusing to read it")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OPMLError(f"not valid OPML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OPMLError(f"not OPML: the root element is <{root.tag}>")
    body = root.find("body")
    if body is None:
        raise OPMLError("not OPML: there is no <body>")
    found: dict[str, Outline] = {}

    def walk(node: ET.Element, folders: list[str]) -> None:
        for child in node:
            if child.tag != "outline":
                continue
            url = child.get("xmlUrl") or child.get("xmlurl")
            title = clean_line(child.get("title") or child.get("text") or "")
            if url:
                url = safe_url(url.strip())
                if not url:
                    continue
                outline = found.setdefault(url, Outline(url, title))
                extra = [clean_line(c.strip("/").split("/")[-1]) for c in (child.get("category") or "").split(",")]
                for name in [*folders, *extra]:
                    if name and name.casefold() not in (c.casefold() for c in outline.categories):
                        outline.categories.append(name)
            else:
                walk(child, [*folders, title] if title else folders)

    walk(body, [])
    return list(found.values())


def to_opml(feeds: list[Feed], title: str = "reader subscriptions") -> bytes:
    """OPML 2.0 with one folder per category; a feed in several categories appears in each."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}

    def outline(parent: ET.Element, feed: Feed) -> None:
        attrs = {"type": "rss", "text": feed.display_title, "title": feed.display_title, "xmlUrl": feed.url}
        if feed.site_url:
            attrs["htmlUrl"] = feed.site_url
        ET.SubElement(parent, "outline", attrs)

    for feed in feeds:
        if not safe_url(feed.url):
            continue  # internal feeds (the Welcome feed) are not subscriptions to share
        if not feed.categories:
            outline(body, feed)
        for name in feed.categories:
            if name not in folders:
                folders[name] = ET.SubElement(body, "outline", text=name, title=name)
            outline(folders[name], feed)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
