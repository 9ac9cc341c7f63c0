"""The article of a web page: its main text as an HTML fragment, and its title.

The extraction is readability-lxml's (a port of Mozilla's Readability, the algorithm the
test pages in ../shared/articles were extracted with), driven to cost a fraction of what
`readability.Document(page).summary()` does and brought closer to today's Readability.js
(tests/benchmarks/bench_extract.py measures both on the 90 pages: mean bag-of-words F1 0.979
against 0.968, about 15-20 ms a page against 55-70 ms):

- The page is parsed once by us, with comments and processing instructions dropped by the
  parser, and pre-cleaned in one pass (script, style, hidden nodes, and every run of
  whitespace in text collapsed, outside <pre>): readability's own cleaning (lxml_html_clean's
  Cleaner, links made absolute in the whole page) was a third of its time, and its
  `clean()` regexes go quadratic in long runs of indentation whitespace, which text_content()
  of every candidate container is full of.
- Readability.js's current patterns for unlikely, positive and negative classes and ARIA
  roles, its promotion of the top candidate to an ancestor shared by the best ones or to a
  higher-scoring parent, its rules for the top candidate's siblings, and the heading that
  repeats the title dropped. Each was measured on the 90 pages; what lost more than it gained
  was left out.
- Links are resolved, and the output sanitised, only in the extracted fragment, not the page.
- The output keeps what the renderer shows: headings, paragraphs, lists, blockquote, pre/code,
  tables, links (<a href>) and images (<img src alt>, lazy-loaded ones too); it never contains
  script, style, iframes, forms or event handlers, and only http(s) (or relative) URLs.

readability-lxml is driven through methods of its Document that it documents as overridable
(get_clean_html) and some that it doesn't: pyproject pins it below 0.10, and the 90-page test
(tests/test_extract.py) catches a release that changes them.

Pure CPU, no network, no shared mutable state: safe to call from worker threads or processes.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from readability import Document

from reader.sanitize import clean_line

# Pages longer than this are cut before parsing. Real articles are far smaller (the largest of
# the 90 test pages is 1.6 MB of HTML, nearly all of it markup and scripts around a few KB of
# text), and every stage below is at worst proportional to the page's size times its nesting
# depth, which libxml2 caps at 256: this is what bounds the work one page can cost, whatever
# the server sends (a 50 MB page costs what 2.5 MB does).
MAX_PAGE_CHARS = 2_500_000
# ...and after MAX_TAGS tags, and elements nested deeper than MAX_DEPTH lose their tags (keeping their
# text): readability's scoring costs about the number of elements times their depth (text_content()
# and serialisation of every candidate container), so those two bound it. The largest of the 90
# test pages has 19,000 tags and nests 37 deep; a hostile page of 250-deep nests costs seconds
# without these caps and ~0.1 s with them.
MAX_TAGS = 60_000
MAX_DEPTH = 64
MAX_ATTRS = 200
# A page's bytes are cut before decoding too, at the most bytes MAX_PAGE_CHARS characters can take.
_MAX_PAGE_BYTES = MAX_PAGE_CHARS * 4
# Less text than one paragraph, and no image, is no article (an empty page, a page of scripts,
# an error or a wall of links readability throws away). The same threshold as readability's for
# counting a paragraph at all. Whether a short article is worth more than the feed's own text is
# the caller's choice.
MIN_ARTICLE_CHARS = 25
# Where a <meta charset> is looked for: the HTML spec says the first 1024 bytes; real pages
# put long <head>s first, so a little more.
_SNIFF_BYTES = 8192

log = logging.getLogger(__name__)

# readability logs every failure with a traceback at ERROR, which Python's last-resort handler
# would print on stderr, over the app's screen: ours are expected (hostile pages) and turn into None.
logging.getLogger("readability.readability").setLevel(logging.CRITICAL)


@dataclass
class Article:
    html: str  # the article's HTML fragment (render_html sanitises it again when shown)
    title: str  # one clean line, "" if none


def extract_article(page: bytes, url: str, content_type: str | None = None) -> Article | None:
    """The article of `page` (fetched from `url`), or None when it has none. Never raises."""
    try:
        return _extract(page, url, content_type)
    except Exception as e:  # hostile HTML must never take a refresh down: no article, one log line
        log.debug("no article from %s: %s: %s", url, type(e).__name__, e)
        return None


# --- decoding ------------------------------------------------------------------------------------------

# Not ESC: reader.sanitize removes whole escape sequences ("\x1b[31m") where the text is shown.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_WORD_CHARS = re.compile(r"\w")
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# What browsers decode a declared label as (the WHATWG Encoding standard): latin-1 and ascii
# pages are windows-1252 in practice, gb2312 is gb18030, and an HTML page can't declare
# UTF-16 in its own (ASCII-compatible) bytes.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "tis-620": "cp874",
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or None for an unknown one (x-user-defined, junk)."""
    if not label:
        return None
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_page(page: bytes, content_type: str | None = None) -> str:
    """The page's text: a BOM, then the charset of Content-Type, then <meta>, then UTF-8 (invalid bytes replaced)."""
    cut = len(page) > _MAX_PAGE_BYTES
    page = page[:_MAX_PAGE_BYTES]
    encoding = None
    for bom, name in _BOMS:
        if page.startswith(bom):
            encoding, page = name, page[len(bom) :]
            break
    if encoding is None and content_type:
        match = _CT_CHARSET.search(content_type)
        encoding = _codec(match.group(1)) if match else None
    if encoding is None:
        match = _META_CHARSET.search(page[:_SNIFF_BYTES])  # also <meta http-equiv content="...; charset=x">
        encoding = _codec(match.group(1).decode("ascii", "replace")) if match else None
    if encoding not in (None, "utf-8") and not page.isascii():
        # A page declared as a legacy charset whose bytes are all valid UTF-8 is UTF-8: servers
        # default to "charset=iso-8859-1" and pages keep the <meta> of the CMS they were moved from,
        # while text in a legacy charset is practically never valid UTF-8 by accident.
        try:
            return page.decode("utf-8")[:MAX_PAGE_CHARS]
        except UnicodeDecodeError as e:
            if cut and e.end == len(page):  # only the last character, cut in two by the byte cap
                return page.decode("utf-8", errors="replace")[:MAX_PAGE_CHARS]
    text = page.decode(encoding or "utf-8", errors="replace")
    return text[:MAX_PAGE_CHARS]


def _without_controls(text: str) -> str:
    """C0 controls (but tab, line ends and ESC) and DEL removed: no HTML page means them, and lxml keeps them."""
    return _CONTROL_CHARS.sub("", text) if _CONTROL_CHARS.search(text) else text


# --- parsing and pre-cleaning ---------------------------------------------------------------------------

# Never part of an article, and costly to score: dropped with their content before readability sees the page.
_DROP_TAGS = (
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


def _cut_tags(html: str) -> str:
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


def _parse(html: str) -> tuple[lxml.html.HtmlElement, list[str]]:
    """The page parsed and pre-cleaned, and its JSON-LD (for the title: scripts go here).
    A parser per call: lxml parsers can't be shared across threads."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    json_ld = _json_ld_texts(doc)
    _unwrap_noscript_images(doc)
    lxml.etree.strip_elements(doc, *_DROP_TAGS, with_tail=False)
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


# Readability.js's current patterns (readability-lxml 0.9 has older, shorter lists).
_UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu"
    r"|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination"
    r"|pager|popup|yom-remote",
    re.I,
)
_MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
_UNLIKELY_ROLES = frozenset({"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"})
_POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.I)
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain"
    r"|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget",
    re.I,
)


class _Readability(Document):
    """readability-lxml's Document reading our pre-cleaned tree, and handing back its result as a tree."""

    def __init__(self, html: str, url: str) -> None:
        super().__init__(html, url=None)  # links are resolved in the result only (see _finish)
        self.page_url = url
        self.base_url = url
        self.title_text = ""
        self.result: lxml.html.HtmlElement | None = None
        self._parses = 0
        self.json_ld: list[str] = []

    def _parse(self, input: str) -> lxml.html.HtmlElement:
        # summary() parses again when its ruthless pass finds too little: a fresh tree each time.
        doc, json_ld = _parse(input)
        if self._parses == 0:
            self.json_ld = json_ld
        self._parses += 1
        if self._parses == 1:
            self.title_text = _title(doc, self.json_ld)
            base = doc.find(".//base[@href]")
            if base is not None:
                try:
                    self.base_url = urljoin(self.page_url, base.get("href", "").strip())
                except ValueError:  # "http://[bad": links resolve against the page's URL instead
                    pass
        return doc

    def remove_unlikely_candidates(self) -> None:
        # readability-lxml's own, with Readability.js's current patterns (its list of unlikely
        # classes grew: related, social, banner, breadcrumbs...) and its unlikely ARIA roles.
        # A walk that doesn't go into what it drops (lxml's iter() would, or skip siblings, as the tree changes).
        stack = list(reversed(self.html))
        while stack:
            elem = stack.pop()
            if not isinstance(elem.tag, str):
                continue
            if elem.tag not in ("body", "a") and self._unlikely(elem):
                elem.drop_tree()
            else:
                stack.extend(reversed(elem))

    @staticmethod
    def _unlikely(elem: lxml.html.HtmlElement) -> bool:
        if elem.get("role") in _UNLIKELY_ROLES:
            return True
        features = f"{elem.get('class', '')} {elem.get('id', '')}"
        return bool(
            len(features) >= 2
            and _UNLIKELY.search(features)
            and not _MAYBE_CANDIDATE.search(features)
            and not elem.xpath("ancestor::table | ancestor-or-self::pre | ancestor-or-self::code")
            and not elem.xpath("descendant::main | descendant::article | descendant-or-self::math")
        )

    def select_best_candidate(self, candidates: dict[Any, dict[str, Any]]) -> dict[str, Any] | None:
        best = super().select_best_candidate(candidates)
        if best is None:
            return best
        # Readability.js's promotions, which readability-lxml lacks: an ancestor shared by most of
        # the best candidates (an article split in several blocks), then a parent scoring higher.
        # (Its third, climbing out of only children, loses more than it gains here: measured.)
        top = best["elem"]
        top_score = best["content_score"]
        ranked = sorted(candidates.values(), key=lambda c: c["content_score"], reverse=True)[:5]
        if top_score > 0:
            close = [
                set(c["elem"].iterancestors())
                for c in ranked
                if c["elem"] is not top and c["content_score"] / top_score >= 0.75
            ]
            if len(close) >= 3:
                for parent in top.iterancestors():
                    if parent.tag in ("body", "html"):
                        break
                    if sum(parent in ancestors for ancestors in close) >= 3:
                        top = parent
                        break
        last = candidates[top]["content_score"] if top in candidates else top_score
        threshold = last / 3
        for parent in top.iterancestors():
            if parent.tag in ("body", "html"):
                break
            if parent not in candidates:
                continue
            score = candidates[parent]["content_score"]
            if score < threshold:
                break
            if score > last:
                top = parent
                break
            last = score
        if top is best["elem"]:
            return best
        if top not in candidates:
            candidates[top] = self.score_node(top)
        return candidates[top]

    def get_article(
        self, candidates: dict[Any, dict[str, Any]], best_candidate: dict[str, Any], html_partial: bool = False
    ) -> lxml.html.HtmlElement:
        # readability-lxml's, with two of Readability.js's rules for the top candidate's siblings
        # that it lacks: a sibling <p> is judged by all its text (readability-lxml reads only the
        # text before its first child element, so "<p>He said: <span>...</span></p>" was lost), and
        # a sibling with the top candidate's class gets a bonus.
        threshold = max(10, best_candidate["content_score"] * 0.2)
        output = lxml.html.fragment_fromstring("<div/>")
        best_elem = best_candidate["elem"]
        self.add_heading_preamble(candidates, best_elem, threshold)
        self.merge_article_segments(candidates, best_candidate, threshold)
        parent = best_elem.getparent()
        siblings = list(parent) if parent is not None else [best_elem]
        leads = self.get_editorial_leads(best_elem)
        for lead in reversed(leads):
            best_elem.insert(0, lead)
        best_class = best_elem.get("class") or ""
        for sibling in siblings:
            if sibling in leads:
                continue
            append = sibling is best_elem
            bonus = best_candidate["content_score"] * 0.2 if best_class and sibling.get("class") == best_class else 0
            if sibling in candidates and candidates[sibling]["content_score"] + bonus >= threshold:
                append = True
            elif sibling.tag == "p":
                link_density = self.get_link_density(sibling)
                content = " ".join(sibling.text_content().split())
                if len(content) > 80 and link_density < 0.25:
                    append = True
                elif len(content) <= 80 and link_density == 0 and re.search(r"\.( |$)", content):
                    append = True
            if append:
                output.append(sibling)
        return output

    def sanitize(self, node: lxml.html.HtmlElement, candidates: dict[Any, Any], keep_all_images: bool = False) -> str:
        # Readability.js cleans a block by its class weight alone; readability-lxml adds the block's
        # score as a candidate, which is negative for every list (-3 a <ul>), so a one-item list
        # holding a photo caption or a paragraph went. (Its only other use there is logging.)
        return super().sanitize(node, {}, keep_all_images)

    def class_weight(self, e: lxml.html.HtmlElement) -> int:
        weight = 0
        for feature in (e.get("class"), e.get("id")):
            if feature:
                if _NEGATIVE.search(feature):
                    weight -= 25
                if _POSITIVE.search(feature):
                    weight += 25
        return weight

    def get_clean_html(self) -> str:
        # Called by summary() with the article in self.html: keep the tree (sanitised here, once) and
        # hand summary() its HTML, whose length it checks before trying again less ruthlessly.
        # readability's own clean_attributes() is a regex loop over the whole output, one attribute a
        # pass: quadratic in a tag with many attributes.
        self.result = _sanitise(self.html, self.base_url)
        _drop_title_heading(self.result, self.title_text)
        return lxml.html.tostring(self.result, encoding="unicode")


# --- title ------------------------------------------------------------------------------------------------

# Readability.js's order: JSON-LD's headline, then these <meta>s (names lower-cased, "." read as ":"),
# then the page's <title> without the site's name.
_TITLE_META = (
    "dc:title",
    "dcterm:title",
    "og:title",
    "weibo:article:title",
    "weibo:webpage:title",
    "title",
    "twitter:title",
    "parsely-title",
)
_TITLE_SEPARATOR = re.compile(r" [|\-\\/>»] ")
_HIERARCHICAL_SEPARATOR = re.compile(r" [\\/>»] ")
_ARTICLE_TYPES = re.compile(
    r"^(?:Article|AdvertiserContentArticle|NewsArticle|AnalysisNewsArticle|AskPublicNewsArticle|BackgroundNewsArticle"
    r"|OpinionNewsArticle|ReportageNewsArticle|ReviewNewsArticle|Report|SatiricalArticle|ScholarlyArticle"
    r"|MedicalScholarlyArticle|SocialMediaPosting|BlogPosting|LiveBlogPosting|DiscussionForumPosting|TechArticle"
    r"|APIReference)$"
)
_MAX_JSON_LD = 200_000  # characters of JSON-LD read for the title: a page can't make us parse megabytes


def _json_ld_texts(doc: lxml.html.HtmlElement) -> list[str]:
    """The texts of the page's JSON-LD scripts (read before scripts are dropped), within _MAX_JSON_LD."""
    texts, total = [], 0
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
            total += len(script.text)
            if total > _MAX_JSON_LD:
                break
            texts.append(script.text)
    return texts


def _json_ld_title(texts: list[str], page_title: str) -> str:
    """The headline (or name) of the first schema.org article in the page's JSON-LD, or ""."""
    for text in texts:
        try:
            data = json.loads(text.strip().removeprefix("<![CDATA[").removesuffix("]]>"))
        except ValueError:
            continue
        items = data if isinstance(data, list) else [data]
        if len(items) == 1 and isinstance(items[0], dict) and isinstance(items[0].get("@graph"), list):
            items = items[0]["@graph"]
        for item in items:
            if not isinstance(item, dict):
                continue
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(isinstance(k, str) and _ARTICLE_TYPES.match(k) for k in kinds):
                continue
            name, headline = item.get("name"), item.get("headline")
            name = name.strip() if isinstance(name, str) else ""
            headline = headline.strip() if isinstance(headline, str) else ""
            if name and headline and name != headline:
                # Both, and different (a site's name in "name"): the headline if it is the page's title
                # and the name isn't.
                if _similarity(headline, page_title) > 0.75 and _similarity(name, page_title) <= 0.75:
                    return headline
                return name
            if name or headline:
                return name or headline
    return ""


def _similarity(a: str, b: str) -> float:
    """Readability.js's textSimilarity: how much of b's text is made of a's words (0 to 1)."""
    words_a, words_b = set(_words(a)), _words(b)
    if not words_a or not words_b:
        return 0.0
    rest = " ".join(w for w in words_b if w not in words_a)
    return 1 - len(rest) / len(" ".join(words_b))


def _title(doc: lxml.html.HtmlElement, json_ld: list[str]) -> str:
    """The article's title, as Readability.js finds it: its metadata, else the page's <title> cleaned."""
    title_elem = doc.find(".//title")
    page_title = _page_title(doc, clean_line(title_elem.text_content()) if title_elem is not None else "")
    found = _json_ld_title(json_ld, page_title)
    if found:
        return clean_line(found)
    metas: dict[str, str] = {}
    for meta in doc.iter("meta"):
        for key in [*(meta.get("property") or "").split(), meta.get("name") or ""]:
            key = "".join(key.lower().split()).replace(".", ":")
            content = meta.get("content")
            if key and content and content.strip() and key not in metas:
                metas[key] = content
    for key in _TITLE_META:
        if key in metas:
            return clean_line(metas[key])
    return page_title


def _page_title(doc: lxml.html.HtmlElement, title: str) -> str:
    """The <title> without the site's name (Readability.js's _getArticleTitle)."""
    original, hierarchical = title, False

    def word_count(text: str) -> int:
        return len(text.split())

    separators = list(_TITLE_SEPARATOR.finditer(title))
    if separators:
        hierarchical = bool(_HIERARCHICAL_SEPARATOR.search(title))
        title = original[: separators[-1].start()]
        if word_count(title) < 3:
            title = re.sub(r"^[^|\-\\/>»]*[|\-\\/>»]", "", original)
    elif ": " in title:
        if not any(" ".join(h.text_content().split()) == title for h in doc.iter("h1", "h2")):
            title = original[original.rfind(":") + 1 :]
            if word_count(title) < 3:
                title = original[original.find(":") + 1 :]
            elif word_count(original[: original.find(":")]) > 5:
                title = original
    elif len(title) > 150 or len(title) < 15:
        h1s = list(doc.iter("h1"))
        if len(h1s) == 1:
            title = clean_line(h1s[0].text_content())
    title = " ".join(title.split())
    count = word_count(title)
    if count <= 4 and (not hierarchical or count != word_count(re.sub(r"[|\-\\/>»]+", "", original)) - 1):
        title = original
    return title


# --- the result -------------------------------------------------------------------------------------------

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


def _sanitise(node: lxml.html.HtmlElement, base_url: str) -> lxml.html.HtmlElement:
    """The extracted fragment made safe to keep: only the tags' content and the attributes the renderer uses."""
    base = _http_base(base_url)
    lxml.etree.strip_elements(node, *_DROP_TAGS, "meta", "base", "title", "head", with_tail=False)
    # Their text may be the article's (readability hands back the whole <html> when it finds no better).
    lxml.etree.strip_tags(node, "form", "fieldset", "label", "dialog", "html", "body")
    for elem in node.iter():
        if not isinstance(elem.tag, str):
            continue
        attrib = elem.attrib
        if elem.tag == "img":
            _fix_lazy_image(attrib)
        for name in list(attrib):
            if name not in _KEEP_ATTRS:
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


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\W+", text.lower()) if w]


def _drop_title_heading(node: lxml.html.HtmlElement, title: str) -> None:
    """The first <h1>/<h2> that repeats the title goes (the reader shows the title above the article),
    with Readability.js's measure of "repeats": most of the heading's words are the title's."""
    if not title:
        return
    title_words = set(_words(title))
    for heading in node.iter("h1", "h2"):
        words = _words(heading.text_content())
        if not words:
            continue
        new = " ".join(w for w in words if w not in title_words)
        if 1 - len(new) / len(" ".join(words)) > 0.75:
            heading.drop_tree()
            return


def _extract(page: bytes, url: str, content_type: str | None) -> Article | None:
    html = _without_controls(decode_page(page, content_type))
    if not html.strip():
        return None
    doc = _Readability(_cut_tags(html), url)
    # keep_all_images: a block holding an image and no text (a photo in its frame) stays; readability
    # drops it as "no content" otherwise, and the reader shows images (359 images in the expected
    # articles of the 90 pages: 249 kept without it, 358 with it, at the same F1).
    doc.summary(html_partial=True, keep_all_images=True)
    result = doc.result
    if result is None:
        return None
    # Letters and digits, not bytes: a binary "page" decodes to replacement characters and controls.
    if (
        len(_WORD_CHARS.findall(result.text_content(), 0, 100_000)) < MIN_ARTICLE_CHARS
        and result.find(".//img[@src]") is None
    ):
        return None
    return Article(html=lxml.html.tostring(result, encoding="unicode"), title=doc.title_text)
