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

The stages, one module each: decode (bytes to text), clean (parsing, pre-cleaning and the caps on
tags, depth and attributes), readability (the Document subclass and its scoring rules), title (the
article's title, and the heading repeating it), fragment (the extracted fragment made safe).

Pure CPU, no network, no shared mutable state: safe to call from worker threads or processes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html
from readability.readability import Unparseable

from .clean import MAX_ATTRS, MAX_DEPTH, MAX_TAGS, cut_tags
from .decode import _MAX_PAGE_BYTES as _MAX_PAGE_BYTES  # re-exported: tests check the byte cap
from .decode import MAX_PAGE_CHARS, decode_page, without_controls
from .readability import Readability

__all__ = [
    "MAX_ATTRS",
    "MAX_DEPTH",
    "MAX_PAGE_CHARS",
    "MAX_TAGS",
    "MIN_ARTICLE_CHARS",
    "Article",
    "ExtractError",
    "decode_page",
    "extract_article",
]

# Less text than one paragraph, and no image, is no article (an empty page, a page of scripts,
# an error or a wall of links readability throws away). The same threshold as readability's for
# counting a paragraph at all. Whether a short article is worth more than the feed's own text is
# the caller's choice.
MIN_ARTICLE_CHARS = 25

log = logging.getLogger(__name__)

# readability logs every failure with a traceback at ERROR, which Python's last-resort handler
# would print on stderr, over the app's screen: ours turn into None (no article) or an ExtractError.
logging.getLogger("readability.readability").setLevel(logging.CRITICAL)


@dataclass
class Article:
    html: str  # the article's HTML fragment (render_html sanitises it again when shown)
    title: str  # one clean line, "" if none


class ExtractError(Exception):
    """The extractor failed on a page, which is not the page having no article.

    Raised rather than answered with None so that a bug (lxml refusing a string, say) can't pass
    for "no article found on the page": the refresh records it as that post's own error
    ("could not process the page: ExtractError: ...") and the post keeps the feed's text.
    """


def extract_article(page: bytes, url: str, content_type: str | None = None) -> Article | None:
    """The article of `page` (fetched from `url`), or None when it has none.

    Raises ExtractError, and nothing else, when the extraction itself fails.
    """
    try:
        return _extract(page, url, content_type)
    except Unparseable as e:
        # readability wraps whatever went wrong in Unparseable; only libxml2 finding no document
        # ("Document is empty": a page of comments, or of nothing) means the page has no article.
        if isinstance(e.__context__, lxml.etree.ParserError):
            log.debug("no article from %s: %s", url, e)
            return None
        cause = e.__context__ or e
        raise ExtractError(f"the page broke the extractor ({type(cause).__name__}: {cause})") from e
    except Exception as e:
        raise ExtractError(f"the page broke the extractor ({type(e).__name__}: {e})") from e


_WORD_CHARS = re.compile(r"\w")


def _extract(page: bytes, url: str, content_type: str | None) -> Article | None:
    html = without_controls(decode_page(page, content_type))
    if not html.strip():
        return None
    doc = Readability(cut_tags(html), url)
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
