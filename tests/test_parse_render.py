"""Parsing and rendering: identity, dates, hostile text, links and odd HTML."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from reader.parse import NotAFeedError, discover_feeds, parse_feed
from reader.query import parse_query
from reader.render import render_entry_text, render_html
from reader.sanitize import clean_line, clean_text, safe_url
from reader.store import Store

DATA = Path(__file__).parent / "data"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_identity_and_dates(store: Store) -> None:
    url = "http://h/rss-no-guid.xml"
    parsed = parse_feed(load("rss-no-guid.xml"), url)
    keys = [e.key for e in parsed.entries]
    assert keys[0] == "http://example.org/identity/link-only"  # no guid: the link
    assert keys[1].startswith("sha1:")  # neither: a hash of title and date
    assert parse_feed(load("rss-no-guid.xml"), url).entries[1].key == keys[1]  # stable
    store.add_feed(url)
    new, updated = store.save_parsed(url, parsed)
    assert (new, updated) == (6, 0)  # the duplicate guid is stored once
    assert store.save_parsed(url, parsed) == (0, 0)  # nothing changed: nothing rewritten
    rows = {r.title: r for r in store.list_entries()}
    assert rows["Duplicate guid, first"]
    assert "" in rows  # no title is kept, shown as untitled by the clients
    future = rows["Dated 2100"]
    assert not future.date_known and future.published <= time.time() + 1  # not pinned to the top forever
    assert rows["Dated 1970"].published == 0.0 and rows["Dated 1970"].date_known


def test_undated_entry_falls_back_to_first_seen(store: Store) -> None:
    url = "http://h/atom.xml"
    store.add_feed(url)
    before = time.time()
    store.save_parsed(url, parse_feed(load("atom.xml"), url))
    undated = next(r for r in store.list_entries() if r.title.startswith("Third"))
    assert not undated.date_known and before - 1 <= undated.published <= time.time() + 1


def test_hostile_text_is_stored_clean_and_literal(store: Store) -> None:
    url = "http://h/hostile.xml"
    store.add_feed(url)
    store.save_parsed(url, parse_feed(load("hostile.xml"), url))
    feed = store.list_feeds()[0]
    assert feed.title == "Hostile [bold]feed[/] lanigiro"
    rows = store.list_entries()
    texts = [feed.title] + [t for r in rows for t in (r.title, r.author)]
    for row in rows:
        entry = store.get_entry(row.id)
        assert entry is not None
        texts += [*entry.categories, entry.content, render_entry_text(entry)]
    for text in texts:
        assert "\x1b" not in text and not CONTROL.search(text), repr(text)
    titles = [r.title for r in rows]
    assert "Rich markup [/] and [@click=app.quit]x[/] and [bold]b" in titles  # literal, for the UI to show as text


def test_dangerous_links_are_never_numbered() -> None:
    parsed = parse_feed(load("hostile.xml"), "http://h/hostile.xml")
    links = [link for e in parsed.entries for link in render_html(e.content, e.base_url).links]
    assert links and all(link.startswith(("http://", "https://")) for link in links)
    html = (
        '<a href="javascript:alert(1)">js</a> <a href="JaVaScRiPt&#58;x">js2</a> <a href="file:///etc/passwd">f</a>'
        ' <a href="data:text/html,x">d</a> <a href="vbscript:x">v</a> <a href="/ok">ok</a> <script>alert(1)</script>'
    )
    rendered = render_html(html, "https://site.example/post/")
    assert rendered.links == ["https://site.example/ok"]
    assert "js js2 f d v ok[1]" in rendered.text and "alert" not in rendered.text
    for bad in ("javascript:", "file:", "data:", "vbscript:"):
        assert safe_url(bad + "x") is None


def test_render_shapes() -> None:
    html = (
        "<h3>Title</h3><a href='#t'>\n </a><p>One &amp; two <em>em</em> <a href='https://a.example/'>link</a></p>"
        "<p></p><p></p><ul><li><p>a</p></li><li><p>b</p></li></ul>"
        "<img src='x.png' alt='A cat'><img src='y.png'><a href='https://a.example/'>again</a>"
    )
    rendered = render_html(html, "https://a.example/post")
    assert rendered.links == ["https://a.example/"]
    assert "### Title" in rendered.text and "](#" not in rendered.text and "[ ]" not in rendered.text
    assert "One & two _em_ link[1]" in rendered.text
    assert "  * a\n  * b" in rendered.text
    assert "[image: A cat]" in rendered.text and "[image]" in rendered.text
    assert "again[1]" in rendered.text  # the same URL keeps its number
    assert "\n\n\n" not in rendered.text
    assert rendered.with_link_list().endswith("Links:\n[1] https://a.example/")


def test_pathological_html_does_not_crash() -> None:
    deep = "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    assert "deep text" in render_html(deep).text
    huge = "<p>" + "word " * 800_000 + "</p>"  # 4 MB
    assert render_html(huge).text.startswith("word word")
    assert render_html("<p>unclosed <b>bold <i>italic").text
    assert render_html("").text == ""


def test_long_title_is_capped() -> None:
    title = "x" * 100_000
    assert len(clean_line(title)) <= 1000
    feed = (
        f"<rss version='2.0'><channel><title>t</title>"
        f"<item><title>{title}</title><guid>1</guid></item></channel></rss>"
    )
    assert len(parse_feed(feed.encode(), "http://h/f").entries[0].title) <= 1000


def test_entities_do_not_expand() -> None:
    # Any entity declaration refuses the whole feed (issue 8 item 6); nothing is expanded or read.
    for name in ("entity-bomb.xml", "xxe.xml"):
        with pytest.raises(NotAFeedError, match="declares XML entities; refused"):
            parse_feed(load(name), f"http://h/{name}")


def test_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="empty"):
        parse_feed(b"  \n", "http://h/x")
    with pytest.raises(NotAFeedError, match="not a feed"):
        parse_feed(load("junk.bin"), "http://h/x")
    with pytest.raises(NotAFeedError) as info:
        parse_feed(load("not-a-feed.html"), "http://h/blog/index.html")
    assert info.value.links == ["http://h/blog-hong-kong.xml"]
    with pytest.raises(NotAFeedError, match="links no feed"):
        parse_feed(load("plain.html"), "http://h/x")
    assert discover_feeds(b"<link rel=alternate type=application/atom+xml href='javascript:x'>", "http://h/") == []


def test_charset_from_http_headers_counts() -> None:
    body = "<?xml version='1.0'?><rss version='2.0'><channel><title>Привет</title></channel></rss>".encode("koi8-r")
    parsed = parse_feed(body, "http://h/x", {"Content-Type": "application/rss+xml; charset=koi8-r"})
    assert parsed.title == "Привет"


def test_clean_text() -> None:
    assert clean_text("a\x1b]0;title\x07b\x1b[31mc\x9b1md\u202ee\r\nf") == "abcde\nf"
    assert clean_text("tab\tand\nnewline") == "tab\tand\nnewline"
    assert clean_line(" a \n b\x00c ") == "a b c"


def test_hostile_shapes_through_the_pipeline(store: Store) -> None:
    deep = "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        f'<entry><id>deep</id><title>deep</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        f"{deep}</div></content></entry></feed>"
    )
    huge = "<p>" + "word " * 800_000 + "</p>"  # a single 4 MB post
    rss = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>big</title>"
        f"<item><guid>huge</guid><title>huge</title><description><![CDATA[{huge}]]></description></item>"
        "</channel></rss>"
    )
    for url, body in (("http://h/deep", atom.encode()), ("http://h/huge", rss.encode())):
        store.add_feed(url)
        store.save_parsed(url, parse_feed(body, url))
    for row in store.list_entries():
        entry = store.get_entry(row.id)
        assert entry is not None
        assert render_html(entry.content).text.strip()
    where, params = parse_query("word").to_sql()
    assert [r.title for r in store.list_entries(where, params)] == ["huge"]


def test_five_thousand_items(store: Store) -> None:
    url = "http://h/many.xml"
    parsed = parse_feed(load("many.xml"), url)
    assert len(parsed.entries) == 5000
    store.add_feed(url)
    assert store.save_parsed(url, parsed) == (5000, 0)
    assert store.save_parsed(url, parsed) == (0, 0)
    assert store.list_feeds()[0].unread == 5000
