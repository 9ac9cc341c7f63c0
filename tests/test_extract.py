"""Issue 10, full articles: extraction of the article from a web page (reader/extract/).

The quality floor is measured on the 90 real pages of ../shared/articles against the article
Readability.js extracts from each (the scorer is tests/benchmarks/bench_extract.py's); the rest
are crafted pages: charsets, what the output keeps and never keeps, and hostile input, each
run under a deadline this file enforces.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lxml.html
import pytest
from deadline import within

from reader.extract import MAX_PAGE_CHARS, Article, decode_page, extract_article

_BENCH = Path(__file__).parent / "benchmarks" / "bench_extract.py"
_spec = importlib.util.spec_from_file_location("bench_extract", _BENCH)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

URL = "https://example.com/news/2024/story.html"
PARAGRAPHS = (
    "<p>The council met on Tuesday evening to discuss the new library, which has been delayed twice.</p>"
    "<p>Residents asked why the budget, approved last spring, had grown by a third since the plans were drawn.</p>"
    "<p>The architect said the foundations needed more work than expected, and that the roof was redesigned.</p>"
)


def _unavailable(reason: str) -> None:
    """Skip (a user's clone without ../shared), but fail under CI, which must run the quality test."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"article quality test cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"article quality test skipped: {reason}")


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def tree(article: Article) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(article.html, create_parent="div")


# --- quality on real pages ---------------------------------------------------------------------------------


def test_issue10_article_quality_on_90_real_pages() -> None:
    """Mean bag-of-words F1 >= 0.97 against Readability.js's article, over all 90 pages."""
    if not bench.pages_dir().is_dir():
        _unavailable(f"no article pages in {bench.pages_dir()} (set READER_SHARED_DIR to the shared dir)")
    pages = bench.load_pages(None, None)
    assert len(pages) == 90
    f1s, _times, per_page = bench.run_candidate(bench.reader_extract, pages)
    mean = statistics.fmean(f1s)
    worst = sorted(per_page.items(), key=lambda kv: kv[1][2])[:5]
    assert mean >= 0.97, f"mean F1 {mean:.3f}; worst: {worst}"
    assert sum(f >= 0.9 for f in f1s) >= 85


# --- decoding ----------------------------------------------------------------------------------------------

RUSSIAN = "Совет обсудил новую библиотеку, строительство которой откладывалось дважды. " * 4
FRENCH = "Le conseil a discuté de la nouvelle bibliothèque, déjà retardée deux fois, à côté du théâtre. " * 4


def test_issue10_charset_from_meta_windows_1251() -> None:
    html = f'<html><head><meta charset="windows-1251"><title>Новости</title></head><body><p>{RUSSIAN}</p></body></html>'
    article = extract_article(html.encode("cp1251"), URL, "text/html")
    assert article is not None
    assert RUSSIAN.split()[0] in article.html and "\ufffd" not in article.html
    assert article.title == "Новости"


def test_issue10_charset_from_http_equiv_meta() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
        f"<body><p>{FRENCH}</p></body></html>"
    )
    article = extract_article(html.encode("latin-1"), URL)
    assert article is not None and "bibliothèque" in article.html and "côté" in article.html


def test_issue10_charset_from_content_type_wins_over_meta() -> None:
    html = f'<html><head><meta charset="utf-8"></head><body><p>{FRENCH}</p></body></html>'
    article = extract_article(html.encode("iso-8859-1"), URL, 'text/html; charset="ISO-8859-1"')
    assert article is not None and "bibliothèque" in article.html and "\ufffd" not in article.html
    assert decode_page("жук".encode("cp1251"), "text/html; charset=windows-1251") == "жук"


def test_issue10_declared_legacy_charset_but_utf8_bytes_is_utf8() -> None:
    """Servers default to charset=iso-8859-1 for pages that are UTF-8: valid UTF-8 wins."""
    html = f'<html><head><meta charset="gb2312"></head><body><p>{RUSSIAN}</p></body></html>'
    assert decode_page(html.encode(), "text/html; charset=iso-8859-1") == html
    article = extract_article(html.encode(), URL)
    assert article is not None and RUSSIAN.split()[0] in article.html


def test_issue10_utf8_cut_mid_character_by_the_byte_cap_stays_utf8() -> None:
    from reader import extract

    raw = ("a" + "é" * (extract.MAX_PAGE_CHARS * 2)).encode()  # the byte cap falls inside an "é"
    assert raw[: extract._MAX_PAGE_BYTES].decode("utf-8", "replace").endswith("\ufffd")
    text = decode_page(raw, "text/html; charset=iso-8859-1")
    assert len(text) == extract.MAX_PAGE_CHARS and text[0] == "a" and set(text[1:]) == {"é"}


def test_issue10_unknown_charset_and_invalid_bytes_fall_back_to_utf8() -> None:
    body = b"<p>" + FRENCH.encode() + b" \xff\xfe\xc3\x28 broken bytes.</p>"
    article = extract_article(b'<meta charset="x-no-such-thing">' + body, URL, "text/html; charset=bogus")
    assert article is not None
    assert "bibliothèque" in article.html and "\ufffd" in article.html


# --- what the output keeps, and never keeps ----------------------------------------------------------------


def test_issue10_links_images_and_structure_kept() -> None:
    body = (
        "<article><h1>Library delayed again as costs grow</h1>"
        f"{PARAGRAPHS}"
        '<p>Read <a href="/docs/budget.pdf">the budget</a> and <a href="https://other.org/x">the report</a>.</p>'
        '<p><img src="img/site.jpg" alt="The building site"> <img data-src="https://cdn.example.com/lazy.png" '
        'src="data:image/gif;base64,R0lGOD" alt="Lazy"></p>'
        "<h2>What happens next</h2>"
        "<ul><li>A vote in May, after the consultation closes.</li><li>Work in June.</li></ul>"
        "<blockquote><p>We will open next year, whatever it takes, said the mayor.</p></blockquote>"
        "<pre><code>total  = 1.3M\n  spent = 0.9M</code></pre>"
        "<table><tr><th>Year</th><th>Budget</th></tr><tr><td>2023</td><td>1.0 million, as voted in March</td></tr>"
        "<tr><td>2024</td><td>1.3 million, after the redesign of the roof</td></tr></table>"
        f"{PARAGRAPHS}</article>"
    )
    article = extract_article(page(body, "<title>Library delayed again as costs grow | Town News</title>"), URL)
    assert article is not None
    root = tree(article)
    hrefs = [a.get("href") for a in root.iter("a")]
    assert hrefs == ["https://example.com/docs/budget.pdf", "https://other.org/x"]  # resolved against the page
    images = {img.get("alt"): img.get("src") for img in root.iter("img")}
    assert images == {
        "The building site": "https://example.com/news/2024/img/site.jpg",
        "Lazy": "https://cdn.example.com/lazy.png",  # the lazy-loaded image, not its placeholder
    }
    tags = {elem.tag for elem in root.iter()}
    assert {"h2", "ul", "li", "blockquote", "pre", "code", "table", "td", "th"} <= tags
    assert root.find(".//pre").text_content() == "total  = 1.3M\n  spent = 0.9M"  # <pre> keeps its spaces
    # The title is shown above the article, so the heading repeating it goes; the title drops the site name.
    assert article.title == "Library delayed again as costs grow"
    assert "h1" not in tags


def test_issue10_lazy_loaded_images_get_their_real_source() -> None:
    """The lazy-loading patterns of the test pages (Medium, The Atlantic): Readability.js's rules."""
    body = (
        f"<article>{PARAGRAPHS}"
        # A blurred placeholder, an empty twin, and the real image in <noscript>.
        '<figure><div><img src="https://cdn.example.com/max/60/photo.png?q=20"></div><img width="10">'
        '<noscript><img src="https://cdn.example.com/max/2000/photo.png" alt="Real photo"></noscript></figure>'
        # Only a data-srcset, and a class saying so.
        '<figure><picture><img class="lazyload" alt="Neon" data-srcset="/media/neon.jpg"></picture>'
        "<figcaption>A neon sign on a roof, seen from the street below it.</figcaption></figure>"
        # Only a srcset.
        '<figure><img alt="Wide" srcset="img/wide-300.jpg 300w, img/wide-900.jpg 900w"></figure>'
        f"{PARAGRAPHS}</article>"
    )
    article = extract_article(page(body), URL)
    assert article is not None
    images = [(img.get("alt"), img.get("src")) for img in tree(article).iter("img")]
    assert images == [
        ("Real photo", "https://cdn.example.com/max/2000/photo.png"),
        ("Neon", "https://example.com/media/neon.jpg"),
        ("Wide", "https://example.com/news/2024/img/wide-300.jpg"),
    ]


def test_issue10_base_href_resolves_links() -> None:
    body = f'<article>{PARAGRAPHS}<p>See <a href="page2.html">the second page</a> for the rest of it.</p></article>'
    article = extract_article(page(body, '<base href="https://static.example.net/archive/">'), URL)
    assert article is not None
    assert [a.get("href") for a in tree(article).iter("a")] == ["https://static.example.net/archive/page2.html"]


def test_issue10_relative_links_stay_relative_without_a_page_url() -> None:
    body = (
        f'<article>{PARAGRAPHS}<p>See <a href="/next">the next part</a> and <a href="mailto:x@y">us</a>.</p></article>'
    )
    article = extract_article(page(body), "")
    assert article is not None
    assert [a.get("href") for a in tree(article).iter("a")] == ["/next", None]


def test_issue10_no_script_style_iframe_form_or_handlers_in_output() -> None:
    body = (
        "<article>"
        "<script>alert('x')</script><style>p { color: red }</style>"
        f'<p onclick="steal()" style="color:red">{PARAGRAPHS}</p>'
        '<iframe src="https://evil.example/frame"></iframe>'
        '<form action="/login"><input name="user"><button>Go</button><textarea>t</textarea></form>'
        '<p>A <a href="javascript:steal()">bad link</a>, <a href="data:text/html,x">another</a> and an '
        '<img src="javascript:x" alt="bad image"> in a paragraph long enough to stay in the article.</p>'
        "<noscript><p>Enable JavaScript</p></noscript><svg><script>x()</script></svg><object data=x></object>"
        f"{PARAGRAPHS}</article>"
    )
    article = extract_article(page(body, "<script>var t = 1;</script><style>body {}</style>"), URL)
    assert article is not None
    root = tree(article)
    tags = {elem.tag for elem in root.iter()}
    assert not tags & {"script", "style", "iframe", "form", "input", "button", "textarea", "noscript", "svg", "object"}
    attributes = {name for elem in root.iter() for name in elem.attrib}
    assert not {a for a in attributes if a.startswith("on")} and "style" not in attributes
    assert all(a.get("href") is None for a in root.iter("a")), "only http(s) links are kept"
    assert all(img.get("src") is None for img in root.iter("img"))
    lowered = article.html.lower()
    assert "javascript:" not in lowered and "alert(" not in lowered and "color: red" not in lowered
    assert "bad link" in article.html  # the text stays


def test_issue10_hidden_nodes_are_not_the_article() -> None:
    body = (
        f"<article>{PARAGRAPHS}"
        '<div style="display:none"><p>Hidden teaser text that nobody sees on the page at all, ever.</p></div>'
        "<p hidden>A hidden paragraph with enough words to count as text in a paragraph.</p></article>"
    )
    article = extract_article(page(body), URL)
    assert article is not None
    assert "Hidden teaser" not in article.html and "hidden paragraph" not in article.html
    assert "foundations" in article.html


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "name": "Town News",'
            ' "headline": "Library delayed again as costs grow"}</script>'
            "<title>Library delayed again as costs grow - Town News</title>"
            '<meta property="og:title" content="Town News: the library">',
            "",
            "Library delayed again as costs grow",
        ),
        ('<meta property="og:title" content="The library, delayed"><title>Other</title>', "", "The library, delayed"),
        ("<title>Library delayed again, council says | Town News</title>", "", "Library delayed again, council says"),
        ("<title>Town News | Library delayed again, council says</title>", "", "Library delayed again, council says"),
        ("", "<h1>Library delayed again, council says</h1>", "Library delayed again, council says"),
        ('<script type="application/ld+json">{not json</script>', "", ""),
    ],
    ids=["json-ld-headline", "og-title", "title-site-after", "title-site-before", "h1", "bad-json-ld"],
)
def test_issue10_title_from_metadata_then_the_page(head: str, body: str, title: str) -> None:
    article = extract_article(page(f"{body}<article>{PARAGRAPHS}</article>", head), URL)
    assert article is not None
    assert article.title == title


def test_issue10_title_is_one_clean_line() -> None:
    head = '<meta property="og:title" content="  Line one\n\tand\x1b[31m two\u202e  ">'
    article = extract_article(page(f"<article>{PARAGRAPHS}</article>", head), URL)
    assert article is not None
    assert article.title == "Line one and two"


# --- no article ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n ",
        b"<script>" + b"var x = 1;" * 10_000 + b"</script>",
        b"<html><head><script src=app.js></script></head><body><div id=root></div><script>go()</script></body></html>",
        page('<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/contact">Contact</a></nav>'),
        page("<h1>Not Found</h1>"),
        b"\x00\x01\x02\xff\xfe\xfd" * 1000,
    ],
    ids=["empty", "blank", "only-script", "js-app-shell", "only-links", "not-found", "binary"],
)
def test_issue10_page_without_article_is_none(raw: bytes) -> None:
    assert within(10, lambda: extract_article(raw, URL)) is None


# --- hostile pages ---------------------------------------------------------------------------------------------


def test_issue10_50mb_of_nested_divs_is_bounded() -> None:
    raw = b"<html><body>" + b"<div>" * 10_000_000  # 50 MB
    result = within(10, lambda: extract_article(raw, URL))
    assert result is None  # no text: no article, and it came back fast


def test_issue10_huge_page_is_cut_and_bounded() -> None:
    paragraph = b"<p>Some words, and then more words, in a sentence of reasonable length.</p>\n"
    raw = b"<html><body><article>" + paragraph * (50_000_000 // len(paragraph))
    article = within(10, lambda: extract_article(raw, URL))
    assert article is not None
    assert len(article.html) <= MAX_PAGE_CHARS  # only the first part of the page was read
    assert article.html.count("<p>") > 1000


def test_issue10_deep_nesting_with_text_is_bounded() -> None:
    """250-deep nests repeated: the nesting and tag caps keep readability's depth-times-size work small."""
    nest = b"<div>" * 250 + b"<p>" + b"text, more text " * 5 + b"</p>" + b"</div>" * 250
    raw = nest * 3_000  # 8.5 MB
    within(10, lambda: extract_article(raw, URL))  # what it finds doesn't matter; that it ends soon does


def test_issue10_hostile_markup_never_raises() -> None:
    pages = [
        b"<p " + b" ".join(b"a%dcolor=x" % i for i in range(50_000)) + b">" + PARAGRAPHS.encode(),
        b'<?xml version="1.0" encoding="utf-8"?><html><body>' + PARAGRAPHS.encode(),
        b"<html><body><table>" + b"<tr><td><table>" * 500 + PARAGRAPHS.encode(),
        b"<p>" + b" " * 3_000_000 + b"x</p>",
        "<p>\ud800 lone surrogate \x00 nul \x1b[2J</p>".encode("utf-8", "surrogatepass") + PARAGRAPHS.encode(),
    ]
    for raw in pages:
        result = within(5, lambda raw=raw: extract_article(raw, URL))
        assert result is None or isinstance(result, Article)


def test_issue10_broken_urls_lose_only_themselves() -> None:
    raw = page(
        f'<article>{PARAGRAPHS}<p>A <a href="http://[::1">broken</a> link, a <a href="/fine">fine</a> one and an '
        '<img src="http://%zz" alt="odd"> image, in a paragraph long enough to stay.</p></article>',
        '<base href="http://[bad">',
    )
    article = extract_article(raw, URL)
    assert article is not None and "foundations" in article.html
    assert [a.get("href") for a in tree(article).iter("a")] == [None, "https://example.com/fine"]


def test_issue10_thread_safe() -> None:
    """The same results from four threads at once as one at a time."""
    raws = [page(f"<article><h2>Part {i}</h2>{PARAGRAPHS * (i + 1)}</article>") for i in range(8)]
    serial = [extract_article(raw, URL) for raw in raws]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda raw: extract_article(raw, URL), raws * 4))
    assert parallel == serial * 4
    assert all(a is not None for a in serial)


def test_issue10_inline_icons_in_an_article_stay_icons() -> None:
    """readability drops width/height: an icon in an article must still be known as one, so it is
    neither downloaded nor drawn as a picture that splits its sentence."""
    from reader.images import image_urls

    page = (
        b"<html><body><article>" + b"<p>Some long paragraph of text about things. " * 30
        + b'</p><p>A small icon <img src="/icon.png" width="16" height="16" alt="tiny icon"> inline, '
        b'a smiley <img src="/smile.png" class="wp-smiley" alt=":)">, and a photo '
        b'<img src="/photo.jpg" width="800" height="600" alt="photo" class="big">.</p>'
        + b"<p>More text here in another paragraph. " * 20 + b"</p></article></body></html>"
    )
    article = extract_article(page, "http://x.test/a.html")
    assert article is not None
    assert image_urls(article.html, "http://x.test/a.html") == ["http://x.test/photo.jpg"]
    assert 'class="big"' not in article.html  # only the icon marker is a class the fragment keeps
