"""Property and fuzz tests: any input gives a result or a clear error, never a crash."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reader.parse import NotAFeedError, parse_feed
from reader.query import QueryError, parse_query
from reader.render import render_html
from reader.sanitize import clean_line, clean_text, safe_url
from reader.store import Store

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
QUERY_ALPHABET = st.sampled_from([*'abcXYZ019 -:"*()[]/\\%_éü\x00\t', "category:", "is:", "since:", "feed:"])
HTML_PIECES = st.sampled_from([
    "<p>", "</p>", "<a href='https://x.example/'>", "<a href='javascript:x'>", "<a href='#f'>", "</a>",
    "<h3>", "</h3>", "<ul><li>", "</li></ul>", "<pre><code>", "</code></pre>", "<img alt='i' src='x'>",
    "<table><tr><td>", "</td></tr></table>", "<blockquote>", "</blockquote>", "<script>", "</script>",
    "&amp;", "&#x1b;", "&#155;", "&bogus;", "<", ">", "\x1b]52;c;AA\x07", "\x1b[2J", "\u202e", "\x9b",
    "text", " ", "\n", "[/]", "[@click=app.quit]", "<!--", "-->", "<![CDATA[", "]]>",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(QUERY_ALPHABET, max_size=12).map("".join) | st.text(max_size=40))
def test_any_query_parses_or_gives_a_clear_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    query.to_sql()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(QUERY_ALPHABET, max_size=10).map("".join))
def test_any_valid_query_runs_against_sqlite(store: Store, text: str) -> None:
    try:
        where, params = parse_query(text).to_sql()
    except QueryError:
        return
    store.list_entries(where, params, limit=5)  # no sqlite3 error, whatever the text


@settings(max_examples=300, deadline=None)
@given(st.lists(HTML_PIECES, max_size=40).map("".join) | st.text(max_size=200))
def test_any_html_renders_without_control_characters(html: str) -> None:
    rendered = render_html(html, "https://base.example/post")
    assert not CONTROL.search(rendered.text)
    assert "\x1b" not in rendered.with_link_list()
    assert all(safe_url(link) == link for link in rendered.links)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_sanitiser(text: str) -> None:
    assert not CONTROL.search(clean_text(text))
    line = clean_line(text)
    assert not CONTROL.search(line) and "\n" not in line and len(line) <= 1000


EMPHASIS_PIECES = st.sampled_from([
    "<b>", "</b>", "<i>", "</i>", "<em>", "</em>", "<strong>", "</strong>", "<del>", "</del>", "<p>", "</p>",
    "<br>", "<li>", "<div>", "</div>", " ", "word", "x", "Y", ".", ",", "<a href='https://a.example/'>", "</a>",
    "<code>", "</code>", "<img alt='i'>", "<h3>", "</h3>",
])
MARKDOWN = MarkdownIt().enable("strikethrough").enable("table")  # as rich.markdown sets it up


@settings(max_examples=1500, deadline=None)
@given(st.lists(EMPHASIS_PIECES, max_size=40))
def test_emphasis_is_always_balanced(pieces: list[str]) -> None:
    """Issue 8 (reading pane): whatever the tags, the Markdown shows no literal `*`, `_`, `~` or backtick."""
    html = "".join(pieces)
    markdown = render_html(html).text
    shown = re.sub(r"\[\d+\]", "", re.sub(r"<[^>]+>", "", MARKDOWN.render(markdown)))
    assert not re.search(r"[*_~`]", shown), (html, markdown)
    expected = re.sub(r"<[^>]+>", "", html.replace("<img alt='i'>", "[image: i]"))
    assert re.sub(r"\W", "", shown) == re.sub(r"\W", "", expected)  # no word lost


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SEEDS = [Path(__file__).parent / "data" / name for name in ("blog-hong-kong.xml", "atom.xml", "hostile.xml")]
if CORPUS.is_dir():
    SEEDS += sorted(p for p in CORPUS.rglob("*.xml") if p.stat().st_size < 60_000)[:12]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        op = rng.random()
        pos = rng.randrange(len(buf) + 1)
        if op < 0.3 and buf:
            del buf[pos : pos + rng.randint(1, 200)]
        elif op < 0.6:
            buf[pos:pos] = rng.choice([b"<", b"]]>", b"&", b"\x00", b"\x1b[31m", b"\xff\xfe", b"<item>", b"</channel>",
                                       b"<![CDATA[", b"&#0;", b"\xc3", b"<entry><title>", b"[/]",
                                       b"&#55356;", b"&#xDF89;", b"&#55356;&#57225;", b"<item/>"])
        elif buf:
            buf[pos % len(buf)] = rng.randrange(256)
    return bytes(buf)


@pytest.mark.parametrize("seed_file", SEEDS, ids=lambda p: p.name)
def test_mutated_feeds_through_the_whole_pipeline(seed_file: Path, tmp_path: Path) -> None:
    rng = random.Random(seed_file.name)
    original = seed_file.read_bytes()
    store = Store(tmp_path / "m.sqlite")
    url = "http://m.example/feed"
    store.add_feed(url)
    for _ in range(25):
        body = _mutate(original, rng)
        try:
            parsed = parse_feed(body, url)
        except NotAFeedError:
            continue
        store.save_parsed(url, parsed)
        for row in store.list_entries(limit=3):
            assert not CONTROL.search(row.title + row.author)
            entry = store.get_entry(row.id)
            assert entry is not None
            shown = render_html(entry.content, entry.base_url).text
            assert not CONTROL.search(shown)
            (shown + entry.title + entry.author + entry.feed_title + "".join(entry.categories)).encode()
    store.close()

