"""Every real-world feed in ../shared/corpus through parse, store and render."""

from __future__ import annotations

import os
import re
from pathlib import Path

import feedparser
import pytest

from reader.parse import parse_feed
from reader.render import render_html
from reader.store import Store

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md") if CORPUS.is_dir() else []
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Outside CI a clone without ../shared skips these; in CI (CI=true) the corpus must be there.
IN_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(not FILES and not IN_CI, reason=f"no corpus at {CORPUS}")


def test_corpus_is_present() -> None:
    assert FILES, f"no corpus at {CORPUS}: CI runs beside ../shared, so this is a broken checkout"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)) if CORPUS in p.parents else p.name)
def test_corpus_file(path: Path, tmp_path: Path) -> None:
    body = path.read_bytes()
    url = f"http://127.0.0.1/{path.name}"
    expected = len(feedparser.parse(body).entries)

    parsed = parse_feed(body, url)
    assert len(parsed.entries) == expected

    store = Store(tmp_path / "c.sqlite")
    store.add_feed(url)
    new, _ = store.save_parsed(url, parsed)
    assert new == len({e.key for e in parsed.entries})

    rows = store.list_entries()
    assert len(rows) == new
    for field in [store.list_feeds()[0].title] + [t for r in rows for t in (r.title, r.author, r.feed_title)]:
        assert not CONTROL.search(field), field
    for row in rows:
        entry = store.get_entry(row.id)
        assert entry is not None
        for name in entry.categories:
            assert not CONTROL.search(name)
        rendered = render_html(entry.content, entry.base_url)
        assert not CONTROL.search(rendered.text)
        assert all(link.startswith(("http://", "https://")) for link in rendered.links)
    store.close()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)) if CORPUS in p.parents else p.name)
def test_fast_path_agrees_with_feedparser(path: Path) -> None:
    """Where the expat fast path reads a feed, it must see what feedparser sees."""
    from reader import parse
    from reader.fastfeed import parse_fast

    body = path.read_bytes()
    url = f"http://127.0.0.1/{path.name}"
    raw = parse_fast(body, url)
    if raw is None:
        pytest.skip("the fast path declines this one; feedparser reads it")
    fast = [parse._entry(e, url) for e in raw.entries]
    slow = [parse._entry(e, url) for e in parse._parse_with_feedparser(body, url, {}).entries]
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert (a.key, a.title, a.link, a.categories) == (b.key, b.title, b.link, b.categories)
        assert a.enclosures == b.enclosures
        assert (a.published is None) == (b.published is None)
        if a.published is not None and b.published is not None:
            assert abs(a.published - b.published) < 1
        assert bool(a.content.strip()) >= bool(b.content.strip()) or path.name == "full.rss"
