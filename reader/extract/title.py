"""The article's title as Readability.js finds it (JSON-LD headline, then <meta>s, then the page's
<title> without the site's name), and the heading in the article that repeats it."""

from __future__ import annotations

import json
import re

import lxml.html

from reader.sanitize import clean_line

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


def json_ld_texts(doc: lxml.html.HtmlElement) -> list[str]:
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


def article_title(doc: lxml.html.HtmlElement, json_ld: list[str]) -> str:
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


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\W+", text.lower()) if w]


def drop_title_heading(node: lxml.html.HtmlElement, title: str) -> None:
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
