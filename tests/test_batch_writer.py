"""reader/batch_writer.py on a real SQLite file: several writes to a commit, each still all or nothing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from reader.batch_writer import BatchWriter
from reader.config import Rule
from reader.models import ParsedEntry, ParsedFeed
from reader.query import parse_query
from reader.rules import apply_rules
from reader.store import Store


def _feeds(path: Path) -> set[str]:
    """What another connection (the app, another command) sees now."""
    with sqlite3.connect(path) as other:
        return {url for (url,) in other.execute("SELECT url FROM feeds")}


def _hold(writer: BatchWriter) -> threading.Event:
    """Keep the writer busy on a write of its own until the returned event is set: what is submitted
    meanwhile queues up behind it, and is taken as one batch."""
    started, gate = threading.Event(), threading.Event()
    writer.submit(lambda: (started.set(), gate.wait(10)))
    assert started.wait(10)
    return gate


def test_issue12_queued_writes_share_a_commit_and_each_is_seen_once_answered(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    commits: list[str] = []

    def trace_commits() -> None:  # on the writer thread's own connection
        store.db.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)

    writer.submit(trace_commits).result(10)
    gate = _hold(writer)  # the writer is busy: the next writes queue up behind it
    urls = [f"https://feed{i}.example/rss" for i in range(20)]
    futures = [writer.submit(store.add_feed, url) for url in urls]
    seen_when_answered: list[bool] = []
    for url, future in zip(urls, futures, strict=True):
        future.add_done_callback(lambda _f, url=url: seen_when_answered.append(url in _feeds(store.path)))
    commits.clear()  # from here: the held write's commit, then the 20 writes'
    gate.set()
    for future in futures:
        future.result(10)
    writer.shutdown()
    assert _feeds(store.path) == set(urls)
    assert seen_when_answered == [True] * 20  # a write is answered only once it is committed
    assert len(commits) <= 2, f"{len(commits)} commits for 20 queued writes"


def test_issue12_a_failing_write_in_a_batch_loses_only_itself(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    writer = BatchWriter(store)
    gate = _hold(writer)

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
    gate = _hold(writer)

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


def _feed(title: str, *posts: tuple[str, str]) -> ParsedFeed:
    return ParsedFeed(title, None, [ParsedEntry(key, key, None, "", 1_700_000_000.0 + n, [], text, None)
                                    for n, (key, text) in enumerate(posts)])


def _found(store: Store, words: str) -> set[str]:
    where, params = parse_query(words).to_sql()
    return {row.title for row in store.list_entries(where, params)}


def test_issue12_search_rows_held_back_in_a_batch_land_in_order_and_go_with_a_failed_write(tmp_path: Path) -> None:
    """In a batch the posts' search-index rows are written at its end (FTS5 flushed them at every
    savepoint otherwise): a rewritten post's delete and insert stay in order, a failed write's rows go
    with it, and the index is whole afterwards."""
    store = Store(tmp_path / "reader.sqlite")
    url = "https://a.example/rss"
    store.add_feed(url)
    store.save_parsed(url, _feed("A", ("one", "<p>apples</p>"), ("two", "<p>pears</p>")))
    with store.batch():
        store.save_parsed(url, _feed("A", ("one", "<p>bananas</p>"), ("two", "<p>pears</p>")))  # rewritten
        store.save_parsed(url, _feed("A", ("one", "<p>cherries</p>"), ("two", "<p>pears</p>")))  # and again
        with pytest.raises(ValueError), store.transaction():
            store.save_parsed(url, _feed("A", ("three", "<p>durians</p>")))
            raise ValueError("this write fails after writing a post")
    assert _found(store, "cherries") == {"one"}
    assert _found(store, "apples") == _found(store, "bananas") == _found(store, "durians") == set()
    assert _found(store, "pears") == {"two"}
    store.db.execute("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')")


def test_issue12_rules_in_a_batch_search_the_posts_written_before_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "reader.sqlite")
    url = "https://a.example/rss"
    store.add_feed(url)
    new_ids: list[int] = []
    with store.batch():
        store.save_parsed(url, _feed("A", ("one", "<p>an outage report</p>"), ("two", "<p>calm</p>")),
                          new_ids=new_ids)
        outcome = apply_rules(store, [Rule(query="outage", action="star", line=1)], new_ids)
    assert [len(matched) for matched in outcome.matched.values()] == [1]
    assert {row.title for row in store.list_entries("e.starred = 1")} == {"one"}
