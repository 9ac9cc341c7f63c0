"""reader/batch_writer.py on a real SQLite file: several writes to a commit, each still all or nothing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from reader.batch_writer import BatchWriter
from reader.store import Store


def _feeds(path: Path) -> set[str]:
    """What another connection (the app, another command) sees now."""
    with sqlite3.connect(path) as other:
        return {url for (url,) in other.execute("SELECT url FROM feeds")}


def test_issue12_queued_writes_share_a_commit_and_each_is_seen_once_answered(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    commits: list[str] = []

    def trace_commits() -> None:  # on the writer thread's own connection
        store.db.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)

    writer.submit(trace_commits).result(10)
    gate = threading.Event()
    held = writer.submit(gate.wait, 10)  # the writer is busy: the next writes queue up behind it
    urls = [f"https://feed{i}.example/rss" for i in range(20)]
    futures = [writer.submit(store.add_feed, url) for url in urls]
    seen_when_answered: list[bool] = []
    for url, future in zip(urls, futures, strict=True):
        future.add_done_callback(lambda _f, url=url: seen_when_answered.append(url in _feeds(store.path)))
    gate.set()
    assert held.result(10) is True
    for future in futures:
        future.result(10)
    writer.shutdown()
    assert _feeds(store.path) == set(urls)
    assert seen_when_answered == [True] * 20  # a write is answered only once it is committed
    assert len(commits) <= 2, f"{len(commits)} commits for 20 queued writes"


def test_issue12_a_failing_write_in_a_batch_loses_only_itself(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    gate = threading.Event()
    writer.submit(gate.wait, 10)

    def half_then_fail() -> None:
        with store.transaction() as db:
            db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://half.example/rss', '', 0)")
            raise ValueError("a parser bug, say")

    before = writer.submit(store.add_feed, "https://before.example/rss")
    failing = writer.submit(half_then_fail)
    after = writer.submit(store.add_feed, "https://after.example/rss")
    gate.set()
    before.result(10)
    after.result(10)
    with pytest.raises(ValueError, match="parser bug"):
        failing.result(10)
    writer.shutdown()
    assert _feeds(store.path) == {"https://before.example/rss", "https://after.example/rss"}


def test_issue12_a_failed_commit_fails_every_write_that_ran_and_still_writes_the_rest(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    gate = threading.Event()
    writer.submit(gate.wait, 10)

    def end_the_transaction() -> None:
        # What SQLite does on a full disk: the whole transaction is rolled back under us.
        store.db.execute("ROLLBACK")
        raise sqlite3.OperationalError("database or disk is full")

    lost = writer.submit(store.add_feed, "https://lost.example/rss")
    ending = writer.submit(end_the_transaction)
    later = writer.submit(store.add_feed, "https://later.example/rss")
    gate.set()
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        ending.result(10)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        lost.result(10)  # it ran, but its write went with the transaction: it must not say it is stored
    later.result(10)
    writer.shutdown()
    assert _feeds(store.path) == {"https://later.example/rss"}


def test_issue12_shutdown_writes_what_is_queued_and_closes_its_connection(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    futures = [writer.submit(store.add_feed, f"https://f{i}.example/rss") for i in range(5)]
    writer.shutdown(wait=True)
    assert all(f.done() and f.exception() is None for f in futures)
    assert len(_feeds(store.path)) == 5
    with pytest.raises(RuntimeError):
        writer.submit(store.add_feed, "https://late.example/rss")
