"""Issue 10's loopback test: a summary-only feed whose posts link to real pages from
../shared/articles (skipped without it, failing under CI=true), with an image and a podcast
episode. Refresh, stop the server: the full articles, the image and the episode's metadata
are all there offline."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from article_server import SHARED_NAMES, ArticleSite, expected_text, shared_pages

from reader import articles
from reader.images.cache import ImageCache
from reader.store import Store


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w{4,}", text)}


def test_summary_feed_of_real_pages_is_whole_offline(
    cli: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = shared_pages()
    # The real pages' own images live on real hosts: only the site's own are fetched here.
    monkeypatch.setattr(articles, "ONLY_HOSTS", frozenset({"127.0.0.1"}))
    with ArticleSite(tmp_path / "site", pages) as site:
        site.write_feed()
        picture = site.url("/img/pic.png")
        episode = site.url("/media/episode.mp3")
        assert cli("add", site.feed_url, "--no-fetch").code == 0
        refreshed = cli("refresh")
        assert refreshed.code == 0, refreshed.err
    # The server is gone: everything below is read from the cache.
    store = Store(tmp_path / "data" / "reader.sqlite")
    ids = {title: entry_id for entry_id, title in store.db.execute("SELECT id, title FROM entries")}
    for name in SHARED_NAMES:
        shown = cli("show", str(ids[f"Post {name}"]))
        assert "Text:       the full article" in shown.out, name
        expected = _words(expected_text(name))
        recall = len(expected & _words(shown.out)) / len(expected)
        assert recall > 0.9, (name, recall)
    assert ImageCache(tmp_path / "data" / "images", 10**9).get(picture) is not None
    last = ids[f"Post {SHARED_NAMES[-1]}"]
    shown = cli("show", str(last)).out
    assert episode in shown and "audio/mpeg" in shown
    [row] = [r for r in cli("entries", "--json").json() if r["id"] == last]
    assert row["enclosures"][0]["url"] == episode and row["enclosures"][0]["type"] == "audio/mpeg"
    store.close()
