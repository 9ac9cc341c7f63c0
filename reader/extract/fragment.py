"""The extracted fragment made safe to keep: only the tags and attributes the renderer uses, links
resolved against the page and only http(s) ones kept, lazy-loaded images given their real source."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from .clean import DROP_TAGS, ICON_CLASS

# Attributes the renderer uses; everything else (event handlers, style, data-*, ids) goes.
_KEEP_ATTRS = frozenset(
    {
        "href",
        "src",
        "srcset",
        "alt",
        "title",
        "colspan",
        "rowspan",
        "start",
        "reversed",
        "lang",
        "dir",
        "cite",
        "datetime",
        "headers",
        "scope",
        "abbr",
        "type",
    }
)
_URL_ATTRS = ("href", "src", "cite")
# Lazy-loading pages put the real image here and a placeholder (or nothing) in src.
_LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-url", "data-hi-res-src", "data-lazy")
_IMAGE_EXTENSION = re.compile(r"\.(?:jpg|jpeg|png|webp)", re.I)


def _looks_like_srcset(value: str) -> bool:
    """ "a.jpg 300w, b.jpg 600w": an image URL followed by a width or density (a linear test, no regex backtracking)."""
    words = value.split()
    return any(_IMAGE_EXTENSION.search(w) and words[i + 1][:1].isdigit() for i, w in enumerate(words[:-1]))


def _looks_like_image_url(value: str) -> bool:
    words = value.split()
    return len(words) == 1 and _IMAGE_EXTENSION.search(words[0], 1) is not None


def _fix_lazy_image(attrib: Any) -> None:
    """A lazy-loaded image gets its real source (Readability.js's rule): an attribute whose value looks
    like an image URL (or a srcset) fills in src (or srcset) when they are missing, a data: placeholder,
    or the image says it is lazy. An image with only a srcset gets its first URL as src."""
    src = attrib.get("src") or ""
    if src.startswith("data:"):
        src = ""
    if not (src or attrib.get("srcset")) or "lazy" in (attrib.get("class") or "").lower():
        for name, value in list(attrib.items()):
            if name in ("src", "srcset", "alt", "title") or len(value) > 4000:
                continue
            if _looks_like_srcset(value):
                attrib["srcset"] = value
            elif _looks_like_image_url(value):
                attrib["src"] = src = value.strip()
        if not src:
            src = next((attrib[a] for a in _LAZY_SRC if attrib.get(a)), "")
    if not src and attrib.get("srcset"):
        src = attrib["srcset"].split(",")[0].strip().split(" ")[0]
    if src:
        attrib["src"] = src
    elif "src" in attrib:
        del attrib["src"]


_CONTROL_IN_URL = re.compile("[\x00-\x1f\x7f]")


def _url(value: str, base: str) -> str | None:
    """`value` resolved against the page, if it is http(s) (or stays relative without a base); else None."""
    value = value.strip()
    if not value or _CONTROL_IN_URL.search(value):
        return None
    try:
        resolved = urljoin(base, value) if base else value
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return None
    if scheme in ("http", "https") or (not scheme and not base):
        return resolved
    return None


def _http_base(url: str) -> str:
    try:
        return url if urlsplit(url).scheme.lower() in ("http", "https") else ""
    except ValueError:
        return ""


def sanitise(node: lxml.html.HtmlElement, base_url: str) -> lxml.html.HtmlElement:
    """The extracted fragment made safe to keep: only the tags' content and the attributes the renderer uses."""
    base = _http_base(base_url)
    lxml.etree.strip_elements(node, *DROP_TAGS, "meta", "base", "title", "head", with_tail=False)
    # Their text may be the article's (readability hands back the whole <html> when it finds no better).
    lxml.etree.strip_tags(node, "form", "fieldset", "label", "dialog", "html", "body")
    for elem in node.iter():
        if not isinstance(elem.tag, str):
            continue
        attrib = elem.attrib
        if elem.tag == "img":
            _fix_lazy_image(attrib)
        for name in list(attrib):
            if name not in _KEEP_ATTRS and not (name == "class" and elem.tag == "img" and attrib[name] == ICON_CLASS):
                del attrib[name]
        for name in _URL_ATTRS:
            value = attrib.get(name)
            if value is not None:
                resolved = _url(value, base)
                if resolved is None:
                    del attrib[name]
                else:
                    attrib[name] = resolved
        srcset = attrib.get("srcset")
        if srcset is not None:
            parts = []
            for item in srcset.split(","):
                words = item.split()
                resolved = _url(words[0], base) if words else None
                if resolved:
                    parts.append(" ".join([resolved, *words[1:]]))
            if parts:
                attrib["srcset"] = ", ".join(parts)
            else:
                del attrib["srcset"]
    node.tag = "div"
    return node
