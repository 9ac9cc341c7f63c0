"""Issue 10, acceptance bugs: terminal escape sequences in feed text and article pages, and same-page links.

- An unterminated OSC/DCS/APC/PM/SOS (`ESC ]` with no BEL or ST) swallowed the rest of the text: a whole
  post, or an article, lost after one stray sequence (reader/sanitize.py).
- An ESC in an article page cost the whole article: lxml refuses it, the error read as "no article"
  (reader/extract/decode.py).
- Same-page links (`<a href="#img-1">` around every image) were numbered links to the page itself
  (reader/render.py).

Every slow-input case runs under a deadline this file enforces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from article_server import ArticleSite, Item, shared_pages
from deadline import within

from reader.articles import NO_ARTICLE
from reader.extract import Article, ExtractError, extract_article
from reader.models import Entry
from reader.parse import parse_feed
from reader.render import render_entry_text, render_html
from reader.sanitize import clean_line, clean_text, strip_escapes
from reader.store import Store

# What a terminal acts on: C0 (but tab and newline), DEL and C1.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PARAGRAPHS = [f"Paragraph {i} keeps every one of its words, whatever came before it." for i in range(8)]


# --- item 2: an unterminated string sequence ends, and the text after it stays ----------------------------------

# Every string-sequence introducer, 7-bit and 8-bit: OSC, DCS, SOS, PM, APC.
STRING_INTRODUCERS = ["\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x9d", "\x90", "\x98", "\x9e", "\x9f"]


@pytest.mark.parametrize("intro", STRING_INTRODUCERS, ids=[repr(i) for i in STRING_INTRODUCERS])
def test_issue10_unterminated_string_sequence_keeps_the_rest_of_the_text(intro: str) -> None:
    text = f"First para {intro}0;title continues here. " + " ".join(PARAGRAPHS)
    for cleaned in (clean_text(text), clean_line(text, 5000), strip_escapes(text)):
        assert cleaned.startswith("First para ")
        assert "continues here." in cleaned
        assert all(p in cleaned for p in PARAGRAPHS), "nothing after the sequence may be lost"
        assert "0;" not in cleaned, "the introducer's parameters go with it"
        assert intro not in cleaned
    assert not CONTROL.search(clean_text(text))


def test_issue10_unterminated_osc_ends_at_a_newline_or_another_escape() -> None:
    assert clean_text("a \x1b]0;title\nnext line") == "a title\nnext line"
    # A new escape inside the string aborts it (as in a terminal), and is removed as what it is.
    assert clean_text("a \x1b]0;title \x1b[31mred\x1b[0m text") == "a title red text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b]0;window title\x07b", "ab"),  # BEL
        ("a\x1b]52;c;Y2xpcGJvYXJk\x1b\\b", "ab"),  # ST, 7-bit: the clipboard payload goes too
        ("a\x9d0;title\x9cb", "ab"),  # 8-bit OSC and ST
        ("a\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07b", "alinkb"),  # hyperlink: its text stays
        ("a\x1bPq#0;2;0;0;0#0~~~~\x1b\\b", "ab"),  # sixel DCS
        ("a\x1b_Gf=100,a=T;iVBORw0KGgo=\x1b\\b", "ab"),  # kitty graphics APC
        ("a\x1b[2J\x1b[31mb\x9b1mc", "abc"),  # CSI, 7- and 8-bit
    ],
)
def test_issue10_terminated_sequences_still_go_whole(text: str, expected: str) -> None:
    assert clean_text(text) == expected
    assert clean_line(text) == expected


def test_issue10_feed_post_with_unterminated_osc_keeps_its_body() -> None:
    """Through the feed parser and the renderer, as a post arrives: the body after the stray sequence is all there."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>x</title>'
        f"<description><![CDATA[<p>First para \x1b]0;title continues here.</p>{paragraphs}]]></description>"
        "</item></channel></rss>"
    ).encode()
    entry = parse_feed(rss, "http://127.0.0.1/feed.xml").entries[0]
    assert all(p in entry.content for p in PARAGRAPHS)
    shown = render_html(entry.content, "http://127.0.0.1/post").text
    assert "continues here." in shown and all(p in shown for p in PARAGRAPHS)
    assert not CONTROL.search(shown)


@pytest.mark.parametrize("escape", ["\x1b", "\x1b[", "\x1b]0;", "\x1b]0;x", "\x9b", "\x1b(", "\x1bP1"])
def test_issue10_no_escape_sequence_takes_a_markup_delimiter(escape: str) -> None:
    """Feed content is HTML when it is cleaned: an ESC before an attribute's closing quote took the quote,
    and the post's text up to the next quote became the attribute's."""
    html = (
        f'<p title="hover {escape}">First {escape}<b>bold</b> &amp;{escape}&lt; one.</p>'
        f"<p title='x{escape}'>Second.</p><p>{escape}&amp; third.</p>"
    )
    cleaned = clean_text(html)
    assert not CONTROL.search(cleaned)
    shown = render_html(cleaned, "http://127.0.0.1/post").text
    assert "First" in shown and "bold" in shown and "one." in shown and "Second." in shown and "third." in shown
    assert "&" in shown and "<" in shown  # the entities are whole
    assert "title=" not in shown and "b>" not in shown and "mp;" not in shown  # and no markup became text


@pytest.mark.parametrize(
    "text",
    [
        "\x1b]" * 500_000,  # 1 MB of introducers
        "\x9d" * 1_000_000,
        "\x1bP" * 500_000,
        ("\x1b]" + "a" * 1000) * 1000,  # unterminated strings, each running to the next
        "\x1b]" + "a" * 1_000_000,
        ("\x1b]0;" + "b" * 100 + "\x1b[") * 10_000,
    ],
    ids=["osc-intros", "c1-osc-intros", "dcs-intros", "osc-and-text", "one-long-osc", "osc-then-csi"],
)
def test_issue10_escape_stripping_is_linear(text: str) -> None:
    cleaned = within(3, lambda: clean_text(text))  # ~0.1 s here; a quadratic pattern would take minutes
    assert not CONTROL.search(cleaned)
    assert cleaned == text.translate({ord(c): None for c in "\x1b]P\x9d0;["})  # only the sequences went
    assert within(3, lambda: clean_line(text, 10_000_000)) == cleaned.strip()


# --- item 1: an escape sequence, or any character lxml refuses, costs only itself -------------------------------

URL = "https://example.com/news/2024/story.html"


def article_page(first: str, *, attribute: str = "") -> bytes:
    """A pretty-printed article page (indentation and line breaks in the text, as CMSs write them), whose
    first paragraph holds `first`; `attribute` goes into the attributes of an image and a link."""
    paragraphs = "\n".join(
        f"        <p>\n          {p}\n          More of the same paragraph, on its own line.\n        </p>"
        for p in PARAGRAPHS
    )
    return f"""<!doctype html>
<html>
  <head><meta charset="utf-8"><title>The story | Example</title></head>
  <body>
    <nav><a href="/">Home</a> <a href="/about">About</a></nav>
    <div class="content">
      <article>
        <h1>The story</h1>
        <p>
          The first paragraph, {first} and then
          the rest of its words, which must all stay.
        </p>
        <p><a href="/more" title="more {attribute}">A link</a> in a sentence that is long enough to count.</p>
        <figure><img src="/pic.png" alt="a picture {attribute}"></figure>
{paragraphs}
      </article>
    </div>
    <footer>Copyright Example.</footer>
  </body>
</html>
""".encode("utf-8", "surrogatepass")


def text_of(article: Article) -> str:
    return lxml.html.fragment_fromstring(article.html, create_parent="div").text_content()


def assert_whole(article: Article | None) -> str:
    assert article is not None, "the article was lost"
    text = " ".join(text_of(article).split())
    assert "The first paragraph," in text and "the rest of its words, which must all stay." in text
    assert all(p in text for p in PARAGRAPHS)
    assert not CONTROL.search(article.html) and "\ufffe" not in article.html and "\uffff" not in article.html
    return text


def test_issue10_escape_sequence_in_an_article_page_keeps_the_article() -> None:
    """The acceptance repro: "\x1b[31mred" inside one paragraph of a normal page lost the whole article."""
    text = assert_whole(extract_article(article_page("in \x1b[31mred\x1b[0m here,"), URL))
    assert "in red here," in text and "[31m" not in text


@pytest.mark.parametrize(
    ("sequence", "kept"),
    [
        ("\x1b]0;title\x07 continues here,", "continues here,"),  # BEL-terminated: goes whole, "title" too
        ("\x1b]0;title continues here,", "title continues here,"),  # unterminated: only "\x1b]0;" goes
        ("\x1b]52;c;Y2xpcA==\x1b\\ continues here,", "continues here,"),
        ("&#27;]0;title&#7; continues here,", "continues here,"),  # the same, spelled as references
        ("&#x1B;[31mred&#x1b;[0m here,", "red here,"),
        ("\x9b31mred\x9b0m here,", "red here,"),
    ],
)
def test_issue10_escape_sequences_in_a_page_go_whole_before_the_controls(sequence: str, kept: str) -> None:
    """Escape sequences are stripped before lone control characters: removing BEL first left the OSC
    without its terminator, and the cleaner then took everything after it."""
    text = assert_whole(extract_article(article_page(sequence), URL))
    assert f"The first paragraph, {kept} and then" in text
    assert "title" not in text or "title" in kept


# Every character lxml refuses or a terminal acts on: C0 but tab and line ends, DEL, C1, lone surrogates,
# U+FFFE, U+FFFF; raw, and as each spelling of a numeric reference a parser reads.
REFUSED = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xD800, 0xDFFF, 0xFFFE, 0xFFFF]


def _spellings(code: int) -> list[str]:
    spelled = [f"&#{code};", f"&#x{code:X};", f"&#x000{code:x};", f"&#{code} ", f"&#00{code};"]
    return spelled if 0xD800 <= code <= 0xDFFF else [chr(code), *spelled]


@pytest.mark.parametrize("code", REFUSED, ids=[f"U+{c:04X}" for c in REFUSED])
def test_issue10_no_single_character_costs_the_article(code: int) -> None:
    """Whatever one character is, in the text (where the whitespace collapse rewrote it) or in an attribute:
    the article is all there, and holds nothing that lxml refuses or a terminal acts on."""
    for spelled in _spellings(code):
        raw = article_page(f"odd {spelled}{spelled} character,", attribute=spelled)
        article = extract_article(raw, URL)
        assert_whole(article)


def test_issue10_page_of_controls_and_escapes_is_fast() -> None:
    """The page-wide passes (references, escapes, controls) are linear: 2.5 MB of them costs well under a second."""
    noise = ("\x1b]0;" + "x" * 50 + "\x1b[31m&#27;]&#7;\x07\x00\x9d&#x9d;\n") * 30_000
    raw = article_page("fine,").replace(b"<footer>", noise.encode() + b"<footer>")
    assert_whole(within(5, lambda: extract_article(raw, URL)))


def test_issue10_extractor_failure_is_its_own_error_not_no_article(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that breaks the extractor raises ExtractError, never passes for a page without an article.

    The page's gate is taken away (the text goes to lxml as it came, as before this fix), so lxml's
    real "All strings must be XML compatible" is what breaks it."""
    monkeypatch.setattr("reader.extract.without_controls", lambda text: text)
    with pytest.raises(ExtractError, match="ValueError: All strings must be XML compatible"):
        extract_article(article_page("in \x1b[31mred here,"), URL)
    assert extract_article(b"<!-- a page of nothing but a comment -->", URL) is None  # no article: still None


def test_issue10_refresh_keeps_an_article_with_an_escape_and_reports_an_extractor_failure_apart(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end over a loopback site: the page with an escape in a paragraph gives its article, stored
    and shown offline; a page that breaks the extractor is that post's own error, not NO_ARTICLE."""
    pages = {"escape": article_page("in \x1b[31mred\x1b[0m here,"), "empty": b"<html><body></body></html>"}
    with ArticleSite(tmp_path / "site", pages) as site:
        site.write_feed([Item("Escape", "/pages/escape.html"), Item("Empty", "/pages/empty.html")])
        assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
        assert cli("refresh").code == 0
        store = Store(tmp_path / "data" / "reader.sqlite")
        try:
            ids = {title: entry_id for entry_id, title in store.db.execute("SELECT id, title FROM entries")}
            stored = store.get_article(ids["Escape"])
            assert stored is not None and stored.error is None and stored.html
            assert "in red here," in " ".join(stored.html.split()) and all(p in stored.html for p in PARAGRAPHS)
            empty = store.get_article(ids["Empty"])
            assert empty is not None and empty.error == NO_ARTICLE
            # The page changed (so not a 304), through an extractor that fails on it: a different error, saying why.
            (site.root / "pages" / "escape.html").write_bytes(article_page("in \x1b[34mblue\x1b[0m here,"))
            monkeypatch.setattr("reader.extract.without_controls", lambda text: text)
            result = cli("fetch-article", str(ids["Escape"]))
            failed = store.get_article(ids["Escape"])
            assert failed is not None and failed.error is not None and failed.error != NO_ARTICLE
            assert "ExtractError" in failed.error and "XML compatible" in failed.error, failed.error
            assert "ExtractError" in result.out + result.err
        finally:
            store.close()


# --- item 3: a link to the page being read gets no number ------------------------------------------------------

NUMBER = re.compile(r"\[(\d+)\]")


def test_issue10_guardian_article_images_wrapped_in_same_page_links_get_no_numbers() -> None:
    """The acceptance repro, on the real page: every image of the Guardian article is wrapped in
    <a href="#img-N">, which the extractor resolves against the page, so each was a numbered link to
    the page itself. Only the article's real links are numbered now, and the images are all there."""
    raw = shared_pages(("guardian-1",))["guardian-1"]
    page_url = "https://www.theguardian.com/environment/2019/jan/03/what-is-the-sea-telling-us"
    article = extract_article(raw, page_url, "text/html")
    assert article is not None
    assert article.html.count(f'href="{page_url}#img-') >= 10  # what the page is made of
    rendered = render_html(article.html, page_url)
    assert rendered.links, "the real links keep their numbers"
    assert not any(link.split("#")[0] == page_url for link in rendered.links)
    assert all(link.startswith("https://") for link in rendered.links)
    assert any(link.startswith("https://www.radionz.co.nz/news/national/377272/") for link in rendered.links)
    # Every number in the text is a listed link's, each after the link's text (no bare "[N]" on a line).
    assert sorted({int(n) for n in NUMBER.findall(rendered.text)}) == list(range(1, len(rendered.links) + 1))
    assert not re.search(r"(?m)^\s*\[\d+\]\s*$", rendered.text)
    assert sum(1 for ref in rendered.images if ref.url) >= 10  # the images stay, as images


def test_issue10_links_to_the_own_page_are_not_numbered_other_links_are() -> None:
    base = "https://news.example/2024/story.html"
    html = (
        '<p><a href="#top">Top</a>, <a href="#img-1"><img src="/a.png" alt="a"></a>'
        ' <a href="story.html#comments">the comments</a>, <a href="HTTPS://NEWS.EXAMPLE/2024/story.html">here</a>,'
        ' <a href="https://news.example/2024/story.html?page=2">page two</a>,'
        ' <a href="/2024/other.html#img-1">another story</a>, <a href="https://elsewhere.example/#x">elsewhere</a>,'
        ' <a href="https://news.example/2024/story.html">again here</a>.</p>'
    )
    rendered = render_html(html, base)
    assert rendered.links == [
        "https://news.example/2024/story.html?page=2",  # another query is another page
        "https://news.example/2024/other.html#img-1",
        "https://elsewhere.example/#x",
    ]
    assert rendered.text == (
        "Top, [image: a] the comments, here, page two[1], another story[2], elsewhere[3], again here."
    )
    assert [ref.url for ref in rendered.images] == ["https://news.example/a.png"]


def _entry(**fields: Any) -> Entry:
    defaults: dict[str, Any] = dict(
        id=1, feed_id=1, feed_title="News", feed_url="https://news.example/feed.xml", title="A story",
        link="https://feeds.example/~r/news/story", author="", published=0.0, date_known=True, read=False,
        starred=False, categories=[], content="", base_url="https://feeds.example/~r/news/story",
    )
    return Entry(**{**defaults, **fields})


def test_issue10_the_posts_link_and_its_articles_url_are_both_its_own_page() -> None:
    """An article fetched through a redirect has another URL than the post's link: links to either are the
    page being read (reader show, render_entry_text); a link to the feed's site is not."""
    article = (
        '<div><p><a href="https://news.example/story#img-1"><img src="https://news.example/i.png" alt="i"></a>'
        ' See <a href="https://feeds.example/~r/news/story#comments">comments</a> and'
        ' <a href="https://news.example/">the front page</a>.</p></div>'
    )
    entry = _entry(article=article, article_url="https://news.example/story")
    shown = render_entry_text(entry)
    assert "comments and the front page[1]." in shown
    assert "[1] https://news.example/" in shown and "[2]" not in shown
    feed_text = _entry(content='<p>A <a href="https://feeds.example/~r/news/story">link to itself</a>.</p>')
    assert "link to itself." in render_entry_text(feed_text) and "[1]" not in render_entry_text(feed_text)
