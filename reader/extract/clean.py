"""The page parsed once and pre-cleaned in one pass, before readability sees it: script, style and
hidden nodes dropped, lazy images out of <noscript>, whitespace collapsed outside <pre>; and the
caps (MAX_TAGS, MAX_DEPTH, MAX_ATTRS) that bound what one page can cost the scoring."""

from __future__ import annotations

import re
from typing import Any

import lxml.etree
import lxml.html

from .title import json_ld_texts

# Besides the cut at decode.MAX_PAGE_CHARS, a page is cut after MAX_TAGS tags, and elements nested deeper
# than MAX_DEPTH lose their tags (keeping their text): readability's scoring costs about the number of
# elements times their depth (text_content() and serialisation of every candidate container), so those two
# bound it. The largest of the 90 test pages has 19,000 tags and nests 37 deep; a hostile page of 250-deep
# nests costs seconds without these caps and ~0.1 s with them.
MAX_TAGS = 60_000
MAX_DEPTH = 64
MAX_ATTRS = 200

# Never part of an article, and costly to score: dropped with their content before readability sees the page.
DROP_TAGS = (
    "script",
    "style",
    "link",
    "noscript",
    "template",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "button",
    "select",
    "textarea",
    "input",
)
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)", re.I
)
_HIDDEN_XPATH = '//*[@hidden or @aria-hidden="true" or contains(@style, "none") or contains(@style, "hidden")]'
# ASCII whitespace only: a run of &nbsp; is spacing the author meant (and the renderer's to handle).
_ASCII_SPACE = " \t\n\r\f\v"
_SPACE_RUN = re.compile(r"[ \t\n\r\f\v]{2,}|[\t\r\f\v]")
_KEEP_SPACE = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})


def _collapse(text: str) -> str:
    """A run of whitespace as readability's clean() would leave it: one newline if it had one, else one space."""
    if not text.strip(_ASCII_SPACE):  # most text nodes are the indentation between tags
        return "\n" if "\n" in text else " "
    return _SPACE_RUN.sub(_one_space, text)


def _one_space(match: re.Match[str]) -> str:
    return "\n" if "\n" in match.group() else " "


def cut_tags(html: str) -> str:
    """The page cut before its MAX_TAGS-th tag (the parser closes what is left open), and the
    attributes of a tag with more than MAX_ATTRS of them dropped: libxml2 checks each attribute
    against all the others, so 50,000 attributes on one tag cost it seconds."""
    if html.count("<") > MAX_TAGS:
        at = -1
        for _ in range(MAX_TAGS):
            at = html.find("<", at + 1)
        html = html[:at]
    return _LONG_TAG.sub(_fewer_attributes, html)


# A tag long enough to hold more than MAX_ATTRS attributes (real ones that long carry a data: URL or JSON).
_LONG_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9:-]*)(\s[^<>]{2000,})>")
_ATTRIBUTE = re.compile(r"""[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?""")


def _fewer_attributes(match: re.Match[str]) -> str:
    if len(_ATTRIBUTE.findall(match.group(2))) > MAX_ATTRS:
        return f"<{match.group(1)}>"
    return match.group()


def parse(html: str) -> tuple[lxml.html.HtmlElement, list[str]]:
    """The page parsed and pre-cleaned, and its JSON-LD (for the title: scripts go here).
    A parser per call: lxml parsers can't be shared across threads."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    json_ld = json_ld_texts(doc)
    _unwrap_noscript_images(doc)
    _mark_icons(doc)
    lxml.etree.strip_elements(doc, *DROP_TAGS, with_tail=False)
    for deep in doc.xpath("/*" * (MAX_DEPTH + 1)):  # the elements at depth MAX_DEPTH (<html> is 0)
        lxml.etree.strip_tags(deep, "*")
    # Hidden nodes aren't shown, so they aren't the article (Readability.js skips them too).
    for elem in doc.xpath(_HIDDEN_XPATH):
        if elem.getparent() is None or elem.tag in ("html", "body"):
            continue
        if elem.get("hidden") is not None or _HIDDEN_STYLE.search(elem.get("style") or ""):
            elem.drop_tree()
        elif elem.get("aria-hidden") == "true" and "fallback-image" not in (elem.get("class") or ""):
            elem.drop_tree()
    _collapse_whitespace(doc)
    return doc, json_ld


_IMG_SOURCES = frozenset({"src", "srcset", "data-src", "data-srcset"})
_IMAGE_FILE = re.compile(r"\.(?:jpg|jpeg|png|webp)", re.I)


def _single_image(elem: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The <img> that is all of `elem` (itself, or its only child's, with no text around), else None."""
    for _ in range(8):
        if elem.tag == "img":
            return elem
        if len(elem) != 1 or (elem.text or "").strip() or (elem[0].tail or "").strip():
            return None
        elem = elem[0]
    return None


ICON_CLASS = "emoji"  # what reader.render.is_icon recognises


def _mark_icons(doc: lxml.html.HtmlElement) -> None:
    """Inline icons and emoji images keep saying so: readability drops width and height (and the
    fragment keeps no class), so the renderer could no longer tell a 16 px icon from a photo and
    split its sentence around a picture. They carry the one class the fragment keeps instead."""
    from reader.render import is_icon

    for img in doc.iter("img"):
        if is_icon(dict(img.attrib)):
            img.set("class", ICON_CLASS)


def _unwrap_noscript_images(doc: lxml.html.HtmlElement) -> None:
    """Lazy-loading pages show a blurred placeholder and put the real image in the <noscript> beside it:
    the real one takes the placeholder's place (Readability.js's rule), since <noscript> itself goes."""
    # First the images with nothing to show (no source in any attribute): often an empty twin of the placeholder.
    for img in list(doc.iter("img")):
        if not any(name in _IMG_SOURCES or _IMAGE_FILE.search(value) for name, value in img.attrib.items()):
            img.drop_tree()
    for noscript in list(doc.iter("noscript")):
        real = _single_image(noscript) if len(noscript) == 1 and not (noscript.text or "").strip() else None
        placeholder = noscript.getprevious()
        if real is None or placeholder is None or _single_image(placeholder) is None:
            continue
        real.tail = placeholder.tail
        placeholder.getparent().replace(placeholder, real)


def _collapse_whitespace(doc: lxml.html.HtmlElement) -> None:
    """Runs of whitespace in text collapsed (not inside <pre>): text_content() of a container is then
    about the size of its words, and readability's clean() regexes stay linear on it."""
    skip: set[Any] = set()
    for pre in doc.iter(*_KEEP_SPACE):
        skip.update(pre.iter())
    for elem in doc.iter():
        if elem in skip:
            if elem.tag in _KEEP_SPACE:  # the tail of a <pre> is outside it
                tail = elem.tail
                if tail and ("  " in tail or "\n" in tail):
                    elem.tail = _collapse(tail)
            continue
        text = elem.text
        if text and len(text) > 1 and _SPACE_RUN.search(text):
            elem.text = _collapse(text)
        tail = elem.tail
        if tail and len(tail) > 1 and _SPACE_RUN.search(tail):
            elem.tail = _collapse(tail)
