"""Every real-world feed in ../shared/corpus through parse, store and render."""

from __future__ import annotations

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

pytestmark = pytest.mark.skipif(not FILES, reason=f"no corpus at {CORPUS}")


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
