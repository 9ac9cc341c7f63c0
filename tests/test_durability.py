"""The cache under stress: kills mid-refresh, two writers, damage, a full disk, old schemas."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from feedserver import FeedServer

from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.schema import MIGRATIONS, SCHEMA_VERSION
from reader.store import CorruptCacheError, Store, StoreError

DATA = Path(__file__).parent / "data"
KILL_ITERATIONS = 12


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["READER_DATA_DIR"] = str(data_dir)
    env["READER_CONFIG_DIR"] = str(data_dir / "config")
    return env


def _subscribe_many(store: Store, server: FeedServer, n: int) -> list[str]:
    # nocache + a distinct query per feed: every refresh re-downloads and re-checks all of them.
    urls = [server.url(f"nocache/many.xml?feed={i}") for i in range(n)]
    for url in urls:
        store.add_feed(url)
    return urls


def test_sigkill_mid_refresh_loses_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    data_dir = tmp_path / "killed"
    store = Store(data_dir / "reader.sqlite")
    _subscribe_many(store, feed_server, 6)
    # A first full refresh, then marks that must survive every kill.
    refresh(store, options=FetchOptions())
    rows = store.list_entries(limit=40)
    read_ids = [r.id for r in rows[:20]]
    starred_ids = [r.id for r in rows[10:30]]
    store.set_flag(read_ids, "read", True)
    store.set_flag(starred_ids, "starred", True)
    total_before = store.counts()[0]
    store.close()

    rng = random.Random(7)
    for _ in range(KILL_ITERATIONS):
        # Make every entry "changed" for the next refresh so the kill lands during writes.
        db = sqlite3.connect(data_dir / "reader.sqlite")
        db.execute("UPDATE entries SET hash = 'stale'")
        db.execute("UPDATE feeds SET body_hash = NULL")
        db.commit()
        db.close()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reader", "refresh", "--quiet"],
            env=_env(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.3, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

        check = sqlite3.connect(data_dir / "reader.sqlite")
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        store = Store(data_dir / "reader.sqlite")
        assert store.counts()[0] == total_before
        survivors = store.entry_rows(read_ids + starred_ids)
        assert all(r.read for r in survivors if r.id in read_ids)
        assert all(r.starred for r in survivors if r.id in starred_ids)
        store.close()

    store = Store(data_dir / "reader.sqlite")
    summary = refresh(store)
    assert not summary.failed and len(summary.outcomes) == 6
    assert store.db.execute("INSERT INTO entries_fts(entries_fts, rank) VALUES('integrity-check', 1)") is not None


def test_two_refreshes_at_once(tmp_path: Path, feed_server: FeedServer) -> None:
    data_dir = tmp_path / "shared"
    store = Store(data_dir / "reader.sqlite")
    _subscribe_many(store, feed_server, 4)
    store.close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "reader", "refresh"], env=_env(data_dir),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    # ... and a reader in this process, like the TUI, marking posts meanwhile.
    store = Store(data_dir / "reader.sqlite")
    stop = time.monotonic() + 2
    while time.monotonic() < stop:
        ids = [r.id for r in store.list_entries(limit=50)]
        store.set_flag(ids, "read", True)
        time.sleep(0.05)
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
        assert "0 failed" in out
    assert store.counts()[0] == 4 * 5000


def test_threads_share_one_store(store: Store) -> None:
    store.add_feed("https://t.example/feed")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                store.list_feeds()
                store.set_meta("k", str(threading.get_ident()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_garbage_cache_file_is_reported_by_name(cli, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "reader.sqlite").write_bytes(b"this is not a database" * 100)
    result = cli("feeds")
    assert result.code == 1
    assert str(data_dir / "reader.sqlite") in result.err and "damaged" in result.err
    assert "mv " in result.err and "Traceback" not in result.err
    with pytest.raises(CorruptCacheError):
        Store(data_dir / "reader.sqlite")


def test_truncated_cache_file_is_reported_by_name(cli, tmp_path: Path, feed_server: FeedServer) -> None:
    data_dir = tmp_path / "data"
    assert cli("add", feed_server.url("many.xml")).code == 0
    path = data_dir / "reader.sqlite"
    Store(path).db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    for args in (("feeds",), ("entries",), ("entries", "lorem"), ("refresh",)):
        result = cli(*args)
        assert "Traceback" not in result.err
        if result.code:
            assert str(path) in result.err


def test_unusable_data_dir_is_reported(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    result = cli("--data-dir", str(blocker / "sub"), "feeds")
    assert result.code == 1 and str(blocker) in result.err and "Traceback" not in result.err


class _SmallDiskStore(Store):
    """A cache whose every connection may grow the file only so far: SQLite's real "disk is full" path."""

    max_pages = 1_073_741_823

    @property
    def db(self) -> sqlite3.Connection:
        conn = super().db
        conn.execute(f"PRAGMA max_page_count = {self.max_pages}")
        return conn


def test_full_disk_is_reported_and_loses_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    from reader.parse import parse_feed

    store = _SmallDiskStore(tmp_path / "small.sqlite")
    url = feed_server.url("many.xml")
    store.add_feed(url)
    store.max_pages = store.db.execute("PRAGMA page_count").fetchone()[0] + 5  # the disk fills up mid-write
    with pytest.raises(StoreError, match="full"):
        store.save_parsed(url, parse_feed((DATA / "many.xml").read_bytes(), url))
    assert store.counts()[0] == 0  # the failed write left nothing half-done
    summary = refresh(store)
    assert summary.failed and "full" in (summary.failed[0].error or "")
    store.max_pages = 1_073_741_823
    assert not refresh(store).failed
    assert store.counts()[0] == 5000


def test_migrating_an_old_cache_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](db)  # the cache as the first released version left it
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://o.example/f', 'Old', 0)")
    db.execute(
        "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash, read, starred) "
        "VALUES (1, 'k', 'Kept', '', 1, 1, 1, 'h', 1, 1)"
    )
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    rows = store.list_entries()
    assert [(r.title, r.read, r.starred) for r in rows] == [("Kept", True, True)]


def test_issue12_a_v12_cache_gets_the_search_index_settings_and_keeps_its_index(tmp_path: Path) -> None:
    path = tmp_path / "v12.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:12]:
        step(db)
    db.execute("PRAGMA user_version = 12")
    db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://o.example/f', 'Old', 0)")
    db.execute(
        "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash) "
        "VALUES (1, 'k', 'Searchable kiwi', '', 1, 1, 1, 'h')"
    )
    db.execute("INSERT INTO entries_fts (rowid, title, author, body) VALUES (1, 'Searchable kiwi', '', '')")
    db.close()
    store = Store(path)
    config = dict(store.db.execute("SELECT k, v FROM entries_fts_config").fetchall())
    assert config["hashsize"] == 4194304 and config["automerge"] == 8
    assert [r[0] for r in store.db.execute("SELECT rowid FROM entries_fts WHERE entries_fts MATCH 'kiwi'")] == [1]


def test_a_newer_cache_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Store(path).db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer version of reader"):
        Store(path)


def _orphans(marker: str) -> list[int]:
    """Processes still running whose environment names this test's data dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_killed_refresh_leaves_no_worker_processes(tmp_path: Path, feed_server: FeedServer) -> None:
    data_dir = tmp_path / "orphans"
    store = Store(data_dir / "reader.sqlite")
    _subscribe_many(store, feed_server, 8)
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reader", "refresh", "--quiet"], env=_env(data_dir),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # the parse workers are running by now
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _orphans(str(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _orphans(str(data_dir)) == []


def test_migration_drops_uri_categories_of_posts_but_keeps_the_users(tmp_path: Path) -> None:
    # Issue 8: junk categories (`http://schemas.google.com/...#document`) filled the picker;
    # parsing drops them now, and an older cache loses the ones it stored.
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://o.example/f', 'Old', 0)")
    db.execute(
        "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash) "
        "VALUES (1, 'k', 'Kept', '', 1, 1, 1, 'h')"
    )
    names = ["http://schemas.google.com/blogger/2008/kind#post", "tag:x.example,2024:y", "BGP", "https://mine.example"]
    for n, name in enumerate(names, 1):
        db.execute("INSERT INTO categories (id, name) VALUES (?, ?)", (n, name))
        db.execute("INSERT INTO entry_categories VALUES (1, ?)", (n,))
    db.execute("INSERT INTO feed_categories VALUES (1, 4)")  # a folder the user named like a URL stays
    db.close()
    store = Store(path)
    assert store.entry_categories([1]) == {1: ["BGP", "https://mine.example"]}
    assert {name for name, _unread, _total in store.category_counts()} == {"BGP", "https://mine.example"}
    store.close()


def test_an_old_post_with_20000_categories_lists_them_in_linear_time(store: Store) -> None:
    # Issue 8 item 4: parsing keeps at most 100 now, but a cache written before may hold
    # 20,000 on one post; reading them back (show, open) must not be quadratic.
    store.add_feed("https://many.example/feed")
    with store.transaction() as db:
        db.execute(
            "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash) "
            "VALUES (1, 'k', 'Many', '', 1, 1, 1, 'h')"
        )
        db.executemany("INSERT INTO categories (id, name) VALUES (?, ?)", [(n, f"tag{n}") for n in range(1, 20_001)])
        db.executemany("INSERT INTO entry_categories VALUES (1, ?)", [(n,) for n in range(1, 20_001)])
    started = time.perf_counter()
    names = store.entry_categories([1])[1]
    took = time.perf_counter() - started
    assert len(names) == 20_000 and names[0] == "tag1"
    assert took < 2.0, f"{took:.1f} s for 20,000 categories (the quadratic version took about 14 s)"
