"""Fetching and refreshing through a real loopback HTTP server, into a real SQLite file."""

from __future__ import annotations

import time

import pytest
from feedserver import FeedServer

import reader.parse as parse_module
import reader.parse_pool as parse_pool
import reader.refresh as refresh_module
from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.store import Store


def subscribe_and_refresh(store: Store, url: str, **options) -> refresh_module.FeedOutcome:
    store.add_feed(url)
    summary = refresh(store, [url], options=FetchOptions(**options))
    assert len(summary.outcomes) == 1
    return summary.outcomes[0]


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts calls of the real parser (it still runs)."""
    calls: list[str] = []
    real = parse_module.parse_feed

    def counting(body, url, headers=None):
        calls.append(url)
        return real(body, url, headers)

    monkeypatch.setattr(parse_module, "parse_feed", counting)  # parse_pool looks it up there at each parse
    return calls


def test_200_then_304_costs_no_parse(store: Store, feed_server: FeedServer, parse_calls: list[str]) -> None:
    url = feed_server.url("blog-hong-kong.xml")
    first = subscribe_and_refresh(store, url)
    assert first.status == "new" and first.new_entries == 3
    assert len(parse_calls) == 1
    [feed] = store.feeds_to_refresh([url])
    etag, last_modified, _ = feed.fetch_state
    assert etag and last_modified

    second = refresh(store).outcomes[0]
    assert second.status == "not_modified"
    assert len(parse_calls) == 1  # a 304 is not parsed
    sent = [h for path, h in feed_server.requests if path.endswith("/blog-hong-kong.xml")][-1]
    assert sent.get("If-None-Match") == etag
    assert sent.get("User-Agent", "").startswith("reader/")


def test_same_body_without_validators_is_not_reparsed(
    store: Store, feed_server: FeedServer, parse_calls: list[str]
) -> None:
    url = feed_server.url("nocache/blog-hong-kong.xml")
    assert subscribe_and_refresh(store, url).new_entries == 3
    again = refresh(store).outcomes[0]
    assert again.status == "unchanged"
    assert len(parse_calls) == 1


def test_permanent_redirect_updates_the_stored_url(store: Store, feed_server: FeedServer) -> None:
    old = feed_server.url("redirect/301/atom.xml")
    outcome = subscribe_and_refresh(store, old)
    assert outcome.status == "new"
    assert [f.url for f in store.list_feeds()] == [feed_server.url("atom.xml")]


def test_temporary_redirect_keeps_the_url(store: Store, feed_server: FeedServer) -> None:
    url = feed_server.url("redirect/302/atom.xml")
    assert subscribe_and_refresh(store, url).status == "new"
    assert [f.url for f in store.list_feeds()] == [url]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("status/404/x.xml", "HTTP 404 Not Found"),
        ("status/500/x.xml", "HTTP 500 Internal Server Error"),
        ("plain.html", "HTML page"),
        ("junk.bin", "not a feed"),
        ("empty.xml", "empty response"),
        ("redirect-loop/x.xml", "too many redirects"),
        ("redirect-to/file/x.xml", "non-http(s)"),
        ("redirect-to/javascript/x.xml", "non-http(s)"),
        ("truncate/200/blog-hong-kong.xml", "connection broken"),
        ("reset/300/blog-hong-kong.xml", "connection broken"),
        ("redirect-to/ftp/x.xml", "non-http(s)"),
        ("redirect-to/data/x.xml", "non-http(s)"),
        ("status/418/x.xml", "HTTP 418"),
    ],
)
def test_failures_are_recorded_on_the_feed(store: Store, feed_server: FeedServer, path: str, message: str) -> None:
    url = feed_server.url(path)
    outcome = subscribe_and_refresh(store, url)
    assert outcome.status == "error"
    feed = store.get_feed(url)
    assert feed is not None and feed.last_error is not None
    assert message in feed.last_error


def test_410_marks_the_feed_gone(store: Store, feed_server: FeedServer) -> None:
    url = feed_server.url("status/410/x.xml")
    subscribe_and_refresh(store, url)
    feed = store.get_feed(url)
    assert feed is not None and feed.gone and "410" in (feed.last_error or "")
    before = feed_server.count("status/410/x.xml")
    assert refresh(store).outcomes[0].status == "skipped"  # not asked again...
    assert feed_server.count("status/410/x.xml") == before
    assert refresh(store, [url]).outcomes[0].status == "error"  # ...unless asked for by name
    assert feed_server.count("status/410/x.xml") == before + 1


@pytest.mark.parametrize("code", [503, 429])
def test_retry_after_is_honoured(store: Store, feed_server: FeedServer, code: int) -> None:
    url = feed_server.url(f"status/{code}/x.xml")
    subscribe_and_refresh(store, url)
    feed = store.get_feed(url)
    assert feed is not None and feed.retry_after is not None
    assert 100 < feed.retry_after - time.time() <= 121
    before = feed_server.count(f"status/{code}/x.xml")
    again = refresh(store).outcomes[0]
    assert again.status == "skipped"
    assert feed_server.count(f"status/{code}/x.xml") == before  # not fetched again


def test_timeout(store: Store, feed_server: FeedServer) -> None:
    outcome = subscribe_and_refresh(store, feed_server.url("slow/3000/atom.xml"), timeout=0.5)
    assert outcome.status == "error" and outcome.error == "timed out after 0.5 s"


def test_oversize_body_and_gzip_bomb_are_capped(store: Store, feed_server: FeedServer) -> None:
    big = subscribe_and_refresh(store, feed_server.url("big/12/x.xml"))
    assert big.status == "error" and "larger than 10 MB" in (big.error or "")
    bomb = subscribe_and_refresh(store, feed_server.url("bomb/x.xml"))
    assert bomb.status == "error" and "larger than 10 MB" in (bomb.error or "")


def test_gzip(store: Store, feed_server: FeedServer) -> None:
    outcome = subscribe_and_refresh(store, feed_server.url("gzip/blog-hong-kong.xml"))
    assert outcome.status == "new" and outcome.new_entries == 3


@pytest.mark.parametrize("path", ["charset/utf-8/latin1.xml", "charset/koi8-r/blog-hong-kong.xml",
                                  "charset/bogus-charset/atom.xml", "ctype/text/html/atom.xml"])
def test_lying_charset_still_reads(store: Store, feed_server: FeedServer, path: str) -> None:
    url = feed_server.url(path)
    outcome = subscribe_and_refresh(store, url)
    assert outcome.status == "new" and outcome.new_entries > 0
    titles = " ".join(r.title for r in store.list_entries())
    assert titles.strip()
    assert not any(0x80 <= ord(ch) <= 0x9F or ord(ch) < 0x20 for ch in titles)


def test_one_bad_feed_never_stops_the_others(store: Store, feed_server: FeedServer) -> None:
    good = [feed_server.url(p) for p in ("blog-hong-kong.xml", "atom.xml", "gzip/rss-no-guid.xml")]
    bad = [feed_server.url(p) for p in ("status/500/a.xml", "plain.html", "slow/3000/b.xml", "junk.bin")]
    for url in good + bad:
        store.add_feed(url)
    summary = refresh(store, options=FetchOptions(timeout=1))
    by_url = {o.url: o for o in summary.outcomes}
    assert all(by_url[u].status == "new" for u in good)
    assert all(by_url[u].status == "error" for u in bad)
    assert len(summary.failed) == 4


def test_read_and_starred_survive_refreshes_and_updates(store: Store, feed_server: FeedServer, tmp_path) -> None:
    # Serve a copy we can edit, so the second fetch sees a changed entry.
    import shutil

    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(feed_server.root / "blog-hong-kong.xml", root / "feed.xml")
    with FeedServer(root) as server:
        url = server.url("feed.xml")
        subscribe_and_refresh(store, url)
        rows = store.list_entries()
        store.set_flag([rows[0].id], "read", True)
        store.set_flag([rows[1].id], "starred", True)
        text = (root / "feed.xml").read_text()
        (root / "feed.xml").write_text(text.replace("CloudFlare meetup in Hong Kong", "Meetup in Hong Kong, updated"))
        outcome = refresh(store).outcomes[0]
    assert outcome.updated_entries == 1 and outcome.new_entries == 0
    after = {r.id: r for r in store.list_entries()}
    assert after[rows[0].id].title == "Meetup in Hong Kong, updated"
    assert after[rows[0].id].read and after[rows[1].id].starred
    # The search index follows the update: the new title is found, the old one is not.
    from reader.query import parse_query

    def search(q: str) -> list[int]:
        where, params = parse_query(q).to_sql()
        return [r.id for r in store.list_entries(where, params)]

    assert search('"updated"') == [rows[0].id]
    assert search('"CloudFlare meetup"') == []


def test_many_feeds_use_the_process_pool(store: Store, feed_server: FeedServer) -> None:
    urls = [feed_server.url(f"nocache/atom.xml?n={i}") for i in range(8)]
    for url in urls:
        store.add_feed(url)
    summary = refresh(store)
    assert [o.status for o in summary.outcomes] == ["new"] * 8
    assert len(store.list_entries()) == 8 * 3


def test_a_stopped_refresh_ends_at_once_and_keeps_what_it_stored(store: Store, feed_server: FeedServer) -> None:
    import threading

    fast = feed_server.url("blog-hong-kong.xml")
    slow = [feed_server.url(f"slow/20000/atom.xml?n={i}") for i in range(3)]
    for url in [fast, *slow]:
        store.add_feed(url)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    summary = refresh(store, options=FetchOptions(timeout=30), stop=stop)
    assert time.monotonic() - started < 5  # not the 20 s the slow server takes
    assert summary.stopped
    assert [o.url for o in summary.outcomes] == [fast]
    assert len(store.list_entries()) == 3


_POOL_PROBE = """
import json, sys
import reader.parse as parse_module
import reader.parse_pool as parse_pool
from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.store import Store

started = []
real_start = parse_pool.ParsePool._start_locked
def recording(self):
    real_start(self)
    if self._executor is not None:
        started.append(len(self._executor._processes))
parse_pool.ParsePool._start_locked = recording
store = Store(sys.argv[1])
if sys.argv[2] == "add":
    for url in sys.argv[3:]:
        store.add_feed(url)
summary = refresh(store, options=FetchOptions(per_host=8))
print(json.dumps({"workers": started, "outcomes": sorted(o.status for o in summary.outcomes)}))
"""


def test_issue12_a_small_refresh_of_feeds_that_can_answer_304_forks_no_workers(
    feed_server: FeedServer, tmp_path
) -> None:
    """A fresh process (the CLI: no thread yet, so workers may fork) forks its parse workers only when
    the refresh will likely parse: never-fetched feeds do; feeds with validators mostly answer 304."""
    import json
    import subprocess
    import sys

    feeds = tmp_path / "feeds"
    feeds.mkdir()
    source = (feed_server.root / "blog-hong-kong.xml").read_text(encoding="utf-8")
    for i in range(8):
        (feeds / f"f{i}.xml").write_text(source.replace("<title>", f"<title>F{i} ", 1), encoding="utf-8")
    with FeedServer(feeds) as server:
        urls = [server.url(f"f{i}.xml") for i in range(8)]

        def run(*args: str) -> dict:
            done = subprocess.run([sys.executable, "-c", _POOL_PROBE, str(tmp_path / "r.sqlite"), *args],
                                  capture_output=True, text=True, timeout=60, check=True)
            return json.loads(done.stdout)

        cold = run("add", *urls)
        assert cold["workers"] and cold["outcomes"] == ["new"] * 8  # never fetched: workers forked
        warm = run("again")
        assert warm == {"workers": [], "outcomes": ["not_modified"] * 8}
        # One feed changed: parsed here, in this process, and stored all the same.
        (feeds / "f3.xml").write_text(source.replace("<title>", "<title>Changed ", 1), encoding="utf-8")
        changed = run("again")
        assert changed["workers"] == [] and changed["outcomes"].count("not_modified") == 7
        titles = {feed.url: feed.title for feed in Store(tmp_path / "r.sqlite").list_feeds()}
        assert titles[urls[3]].startswith("Changed ") and titles[urls[2]].startswith("F2 ")


def test_issue12_refresh_run_as_the_program_ends_with_its_output_and_the_cache_closed(
    feed_server: FeedServer, tmp_path
) -> None:
    """`python -m reader refresh` leaves by os._exit (cli._exit_now) once its workers and threads are done:
    all of its output, status 0, nothing on stderr, and every connection closed (no -wal or -shm left)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "READER_DATA_DIR": str(tmp_path / "data"), "READER_CONFIG_DIR": str(tmp_path / "cfg")}
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text("images = false\n")
    urls = [feed_server.url(f"blog-hong-kong.xml?copy={i}") for i in range(POOL_COPIES)]
    for url in urls:
        assert subprocess.run([sys.executable, "-m", "reader", "add", "--no-fetch", url], env=env,
                              capture_output=True, timeout=60).returncode == 0
    for expected in (f"{POOL_COPIES} with new posts", f"{POOL_COPIES} not modified"):  # with workers, then none
        out = subprocess.run([sys.executable, "-m", "reader", "refresh"], env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0 and out.stderr == "", out.stderr
        assert expected in out.stdout, out.stdout
        assert sorted(p.name for p in (tmp_path / "data").iterdir() if p.name.startswith("reader.sqlite")) == [
            "reader.sqlite"
        ]


POOL_COPIES = 8


def test_issue12_feeds_without_validators_fetched_before_fork_no_workers_either(
    feed_server: FeedServer, tmp_path
) -> None:
    """A server that never answers 304 sends the same body again: its hash is known, nothing to parse."""
    import json
    import subprocess
    import sys

    urls = [feed_server.url(f"nocache/blog-hong-kong.xml?n={i}") for i in range(8)]

    def run(*args: str) -> dict:
        done = subprocess.run([sys.executable, "-c", _POOL_PROBE, str(tmp_path / "r.sqlite"), *args],
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    assert run("add", *urls)["workers"]
    assert run("again") == {"workers": [], "outcomes": ["unchanged"] * 8}


def test_issue12_parse_workers_run_below_the_main_process(tmp_path) -> None:
    """The writer thread and the event loop (and the app's UI thread) come first; the workers take the rest."""
    import asyncio
    import os

    pool = parse_pool.ParsePool(enabled=True, workers=1)
    try:
        niceness = asyncio.run(pool.run(os.nice, 0))
    finally:
        pool.shutdown()
    assert niceness == min(19, os.nice(0) + parse_pool.WORKER_NICENESS)
