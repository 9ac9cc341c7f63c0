"""Stored posts: zstd now, zlib in caches written before, and a damaged blob never fails a read."""

from __future__ import annotations

import zlib
from pathlib import Path

from reader.entry_codec import compress, decompress
from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store


def _store_one(tmp_path: Path, text: str) -> tuple[Store, int]:
    store = Store(tmp_path / "reader.sqlite")
    store.add_feed("https://a.example/rss")
    store.save_parsed("https://a.example/rss",
                      ParsedFeed("A", None, [ParsedEntry("k", "title", None, "", 1_700_000_000.0, [], text, None)]))
    [row] = store.list_entries()
    return store, row.id


def test_issue12_posts_are_stored_with_zstd_and_read_back(tmp_path: Path) -> None:
    text = "<p>Ünïcödé post, 日本語</p>" * 50
    store, entry_id = _store_one(tmp_path, text)
    blob = store.db.execute("SELECT content FROM entries WHERE id = ?", (entry_id,)).fetchone()[0]
    assert blob[:4] == b"\x28\xb5\x2f\xfd" and len(blob) < len(text.encode()) / 4
    entry = store.get_entry(entry_id)
    assert entry is not None and entry.content == text


def test_issue12_a_cache_written_with_zlib_still_reads_and_rewrites(tmp_path: Path) -> None:
    old_text = "<p>written by an older reader</p>"
    store, entry_id = _store_one(tmp_path, "<p>x</p>")
    with store.transaction() as db:
        db.execute("UPDATE entries SET content = ? WHERE id = ?", (zlib.compress(old_text.encode(), 3), entry_id))
    entry = store.get_entry(entry_id)
    assert entry is not None and entry.content == old_text
    assert decompress(compress(old_text)) == old_text


def test_issue12_a_damaged_blob_reads_as_empty_instead_of_failing(tmp_path: Path) -> None:
    store, entry_id = _store_one(tmp_path, "<p>fine</p>")
    for damaged in (b"\x28\xb5\x2f\xfd" + b"\xff" * 40, b"\x78\x9c garbage", b"\x00" * 10):
        with store.transaction() as db:
            db.execute("UPDATE entries SET content = ? WHERE id = ?", (damaged, entry_id))
        entry = store.get_entry(entry_id)
        assert entry is not None and entry.content == ""
