"""Issue 10, the acceptance tester's findings on full articles (each test names its item):

1. failed or skipped article fetches are retried by later refreshes (transient failures only, bounded);
2. `entries --json` gives the text `show` gives (the article when there is one) and says so;
3. `reader refresh` says how many full articles it fetched and how many failed;
4. `get_entry` fills `Entry.article_error`;
5. `reader --help` lists the enclosure query terms.

Real loopback servers (tests/article_server.py), real SQLite, the CLI run in-process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from article_server import ArticleSite, Item, article_page, cache_at_version, entry_ids, write_config
from article_server import cli_data_store as cli_data_store  # fixture `data_store` (the alias: imported for pytest)
from article_server import teaser_site as teaser_site  # fixture `site` (the alias: imported for pytest)

from reader.articles import NO_ARTICLE, OUT_OF_TIME, RETRY_DAYS, RETRY_PER_FEED
from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.storage.articles import TRANSIENT_KINDS
from reader.store import Store

# --- 5: the query terms in --help ---------------------------------------------------------------------


def test_item5_help_epilog_lists_enclosure_query_terms(cli: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli("--help")
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "has:enclosure" in out and "type:audio" in out and "type:video/mp4" in out


# --- 4: Entry.article_error ---------------------------------------------------------------------------


def test_item4_get_entry_fills_article_error_for_a_failed_fetch_and_a_failed_refetch(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    assert cli("add", site.feed_url, "--full-text", "off").code == 0
    ids = entry_ids(data_store)
    never, fails = ids["Post story-0"], ids["Post story-1"]
    entry = data_store.get_entry(never)
    assert entry is not None and entry.article is None and entry.article_error is None  # never asked
    (site.root / "pages" / "story-1.html").rename(site.root / "pages" / "moved.html")
    assert cli("fetch-article", str(fails)).code == 1
    entry = data_store.get_entry(fails)
    assert entry is not None and entry.article is None and entry.article_url is None
    assert entry.article_error == "HTTP 404 Not Found"
    # The page is back: the article is there, the error gone.
    (site.root / "pages" / "moved.html").rename(site.root / "pages" / "story-1.html")
    assert cli("fetch-article", str(fails)).code == 0
    entry = data_store.get_entry(fails)
    assert entry is not None and entry.article and entry.article_error is None
    # A refetch that fails keeps the article and says why; hostile text in the error is cleaned.
    data_store.db.execute("UPDATE articles SET error = 'HTTP 500 \x1b[31mboom\nagain' WHERE entry_id = ?", (fails,))
    entry = data_store.get_entry(fails)
    assert entry is not None and entry.article and entry.article_url == site.page_url("story-1")
    assert entry.article_error is not None and "\x1b" not in entry.article_error and "\n" not in entry.article_error
    assert entry.article_error.startswith("HTTP 500")


# --- 2: entries --json follows show ---------------------------------------------------------------------


def test_item2_entries_json_text_is_what_show_shows_and_article_says_so(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    site.write_feed([Item("Fetched", "/pages/story-1.html"), Item("Missing", "/status/404/gone.html")])
    assert cli("add", site.feed_url).code == 0  # auto: both teasers are asked for
    site.write_feed([Item("Fetched", "/pages/story-1.html"), Item("Missing", "/status/404/gone.html"),
                     Item("Never", "/pages/story-2.html")], name="other.xml")
    assert cli("add", site.url("/other.xml"), "--full-text", "off").code == 0
    listed = cli("entries", "--json").json()
    records = {r["title"]: r for r in listed if r["feed_url"] == site.feed_url}
    fetched = records["Fetched"]
    shown = cli("show", str(fetched["id"])).out
    assert "articleword1" in fetched["text"] and "They stop here" not in fetched["text"]
    assert fetched["text"].split("\n")[0] in shown  # the same renderer, the same text
    assert fetched["source"] == "article"
    assert "They stop here" in fetched["content_html"] and "articleword1" not in fetched["content_html"]
    assert fetched["article"]["url"] == site.page_url("story-1") and fetched["article"]["error"] is None
    assert fetched["article"]["fetched"].endswith("Z") and fetched["truncated"] is False
    # The links are the article's (the teaser's "Read more" link is not among them), each as show lists it.
    assert site.page_url("story-1") not in fetched["links"]
    assert all(link in shown for link in fetched["links"])
    missing = records["Missing"]
    assert missing["source"] == "feed" and "They stop here" in missing["text"]
    assert all(link in cli("show", str(missing["id"])).out for link in missing["links"])
    assert missing["article"]["error"] == "HTTP 404 Not Found" and missing["article"]["fetched"].endswith("Z")
    never = next(r for r in listed if r["title"] == "Never")
    assert never["article"] is None and never["source"] == "feed" and "They stop here" in never["text"]


# --- 1: failed article fetches are retried by later refreshes -------------------------------------------


class Flaky:
    """Routes on the site whose pages answer as `mode` says now: "down" (HTTP 503), "slow"
    (longer than the test's timeout), "up" (the article)."""

    def __init__(self, site: ArticleSite, count: int, mode: str = "down") -> None:
        self.mode = mode
        self.stop = threading.Event()
        self.pages = [article_page(f"flaky-{n}", f"flakyword{n}").encode() for n in range(count)]
        assert site.server is not None
        for n in range(count):
            site.server.route(f"/flaky/{n}.html", self._handler(n))

    def _handler(self, n: int) -> Callable[[BaseHTTPRequestHandler], None]:
        def handle(request: BaseHTTPRequestHandler) -> None:
            if self.mode == "slow":
                self.stop.wait(5)
            body, code = (self.pages[n], 200) if self.mode != "down" else (b"busy", 503)
            request.send_response(code)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            with contextlib.suppress(OSError):
                request.wfile.write(body)

        return handle


def _due_now(store: Store) -> None:
    """As if the wait before the next try were over for every post."""
    store.db.execute("UPDATE articles SET retry_at = 0 WHERE retry_at IS NOT NULL")


def test_item1_transient_failures_are_retried_even_when_the_feed_is_unchanged_permanent_ones_never(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    flaky = Flaky(site, 2)
    (site.root / "pages" / "junk.html").write_text("<html><body><div>hi</div></body></html>")
    site.write_feed([
        Item("Flaky 0", "/flaky/0.html"), Item("Flaky 1", "/flaky/1.html"),
        Item("Missing", "/status/404/gone.html"), Item("Junk", "/pages/junk.html"),
    ])
    assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
    assert cli("refresh").code == 0
    ids = entry_ids(data_store)
    first = data_store.get_article(ids["Flaky 0"])
    assert first is not None and first.error == "HTTP 503 Service Unavailable" and first.error_kind == "server"
    assert first.failures == 1 and first.retry_at == pytest.approx(first.fetched + 120, abs=1)
    kinds = {t: data_store.get_article(ids[t]).error_kind for t in ("Missing", "Junk")}  # type: ignore[union-attr]
    assert kinds == {"Missing": "http", "Junk": "no_article"}
    assert all(data_store.get_article(ids[t]).retry_at is None for t in kinds)  # type: ignore[union-attr]
    asked = {path: site.count(path) for path in ("/flaky/0.html", "gone.html", "junk.html")}
    assert "(a refresh tries again from " in cli("show", str(ids["Flaky 0"])).out
    assert "tries again" not in cli("show", str(ids["Missing"])).out
    # At once again: the feed is unchanged, and the wait after a failure is not over: nobody is asked.
    assert cli("refresh").code == 0
    assert {path: site.count(path) for path in asked} == asked
    # Later (the wait is over) the server is back: the feed is unchanged, yet both articles come.
    _due_now(data_store)
    flaky.mode = "up"
    assert cli("refresh").code == 0
    for n in range(2):
        entry = data_store.get_entry(ids[f"Flaky {n}"])
        assert entry is not None and f"flakyword{n}" in (entry.article or "") and entry.article_error is None
        row = data_store.get_article(ids[f"Flaky {n}"])
        assert row is not None and row.error_kind is None and row.failures == 0 and row.retry_at is None
    # The permanent failures were never asked again.
    assert site.count("gone.html") == asked["gone.html"] and site.count("junk.html") == asked["junk.html"]
    assert [r["id"] for r in cli("entries", "flakyword1", "--json").json()] == [ids["Flaky 1"]]


def test_item1_timeouts_and_the_refresh_running_out_of_time_are_retried_with_a_growing_wait(
    cli: Callable, site: ArticleSite, data_store: Store, tmp_path: Path
) -> None:
    write_config(tmp_path, "timeout = 1\n")
    flaky = Flaky(site, 6, mode="slow")
    try:
        site.write_feed([Item(f"Slow {n}", f"/flaky/{n}.html") for n in range(6)])
        assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
        assert cli("refresh").code == 0
        rows = [data_store.get_article(i) for i in entry_ids(data_store).values()]
        kinds = sorted({r.error_kind for r in rows if r is not None})
        assert "timeout" in kinds and set(kinds) <= {"timeout", "out_of_time"}, kinds
        assert all(r is not None and r.retry_at is not None and r.failures == 1 for r in rows)
        # Still slow: the second failure in a row waits 4 times longer (8 minutes).
        _due_now(data_store)
        assert cli("refresh").code == 0
        rows = [data_store.get_article(i) for i in entry_ids(data_store).values()]
        twice = [r for r in rows if r is not None and r.failures == 2]
        assert twice and all(r.retry_at == pytest.approx(r.fetched + 480, abs=1) for r in twice)
        flaky.mode = "up"
        flaky.stop.set()
        _due_now(data_store)
        assert cli("refresh").code == 0
        fetched = data_store.db.execute("SELECT count(*) FROM articles WHERE content IS NOT NULL").fetchone()[0]
        assert fetched == 6
    finally:
        flaky.stop.set()


def test_item1_connection_refused_is_retried_and_retries_are_bounded(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    items = [Item(f"Offline {n}", f"{dead}/post/{n}.html") for n in range(RETRY_PER_FEED + 3)]
    site.write_feed(items)
    assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
    assert cli("refresh").code == 0
    ids = entry_ids(data_store)
    row = data_store.get_article(ids["Offline 0"])
    assert row is not None and row.error_kind == "network" and "connection refused" in (row.error or "")
    # The server comes back (the links now lead to the site): at most RETRY_PER_FEED a feed per refresh,
    # the newest first; posts first seen more than RETRY_DAYS ago are left alone.
    for n, entry_id in ((n, ids[f"Offline {n}"]) for n in range(len(items))):
        data_store.db.execute("UPDATE entries SET link = ? WHERE id = ?", (site.page_url(f"story-{n % 3}"), entry_id))
    old = ids["Offline 0"]
    data_store.db.execute("UPDATE entries SET first_seen = ? WHERE id = ?", (time.time() - 15 * 86400, old))
    _due_now(data_store)
    before = site.count(".html")
    assert cli("refresh").code == 0
    assert site.count(".html") - before == RETRY_PER_FEED
    left = data_store.db.execute("SELECT count(*) FROM articles WHERE content IS NULL").fetchone()[0]
    assert left == 3
    assert cli("refresh").code == 0  # the rest next time, but for the one seen too long ago
    assert data_store.db.execute("SELECT entry_id FROM articles WHERE content IS NULL").fetchall() == [(old,)]
    # The post seen too long ago left the pending retries; a feed turned off is no longer retried.
    assert data_store.get_article(old).retry_at is None  # type: ignore[union-attr]
    data_store.db.execute("UPDATE articles SET retry_at = 0, error_kind = 'timeout' WHERE entry_id = ?", (old,))
    assert data_store.due_article_retries(now=time.time(), since=0, per_feed=100) == {site.feed_url: [old]}
    data_store.set_full_text(site.feed_url, "off")
    assert data_store.due_article_retries(now=time.time(), since=0, per_feed=100) == {}


def test_item1_finding_the_retries_costs_what_is_pending_not_the_cache_size(tmp_path: Path) -> None:
    """One query per refresh over the pending rows (a partial index), at most RETRY_PER_FEED a feed."""
    store = Store(tmp_path / "big.sqlite")
    db, now = store.db, time.time()
    db.execute("BEGIN")
    for feed in range(1, 401):
        db.execute("INSERT INTO feeds (id, url, added) VALUES (?, ?, 0)", (feed, f"https://example.com/{feed}"))
        db.executemany(
            "INSERT INTO entries (feed_id, key, published, date_known, first_seen, hash) VALUES (?, ?, ?, 1, ?, '')",
            [(feed, f"k{n}", n, now) for n in range(250)],
        )
    # 100,000 posts; every 40th has a failed article waiting (2,500), every 7th of those is too old.
    db.execute("INSERT INTO articles (entry_id, url, fetched, error, error_kind, failures, retry_at) "
               "SELECT id, 'https://example.com/p', 0, 'timed out', 'timeout', 1, 0 FROM entries WHERE id % 40 = 0")
    db.execute("UPDATE entries SET first_seen = 0 WHERE id % 280 = 0")
    db.execute("COMMIT")
    db.execute("ANALYZE")  # the plan must stay right whatever the statistics say
    started = time.perf_counter()
    due = store.due_article_retries(now=now, since=now - RETRY_DAYS * 86400, per_feed=RETRY_PER_FEED)
    elapsed = time.perf_counter() - started
    assert len(due) == 400 and all(0 < len(ids) <= RETRY_PER_FEED for ids in due.values())
    assert not any(entry_id % 280 == 0 for ids in due.values() for entry_id in ids)
    newest = due["https://example.com/1"]
    assert newest == sorted(newest, reverse=True)  # the newest posts first
    assert elapsed < 1.0, elapsed
    store.close()


def test_item1_v7_cache_upgrades_with_the_kind_of_each_stored_failure(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = cache_at_version(path, 7)
    db.execute("INSERT INTO feeds (id, url, added) VALUES (1, 'https://example.com/feed', 0)")
    errors = {
        1: (OUT_OF_TIME, "out_of_time"), 2: ("timed out after 30 s", "timeout"),
        3: ("connection refused (is the server down?)", "network"), 4: ("HTTP 503 Service Unavailable", "server"),
        5: ("HTTP 404 Not Found", "failed"), 6: (NO_ARTICLE, "failed"), 7: (None, None),
    }
    for n, (error, _kind) in errors.items():
        db.execute("INSERT INTO entries (id, feed_id, key, published, date_known, first_seen, hash) "
                   "VALUES (?, 1, ?, 0, 1, 0, '')", (n, f"k{n}"))
        db.execute("INSERT INTO articles (entry_id, url, content, fetched, error) "
                   "VALUES (?, 'https://x.example/', ?, 50, ?)", (n, b"" if n == 7 else None, error))
    db.close()
    store = Store(path)
    for n, (_error, kind) in errors.items():
        row = store.get_article(n)
        assert row is not None and row.error_kind == kind, (n, row)
        assert (row.retry_at is not None) == (kind in TRANSIENT_KINDS), (n, row)
    store.close()


# --- 3: the refresh's summary counts the articles ---------------------------------------------------------


def _rewrite(site: ArticleSite, items: list[Item], step: int) -> None:
    """A new version of the feed within the same second: its date moves on, so no 304 hides it."""
    site.write_feed(items)
    when = time.time() + 10 * (step + 1)
    os.utime(site.root / "feed.xml", (when, when))


def test_item3_refresh_summary_counts_full_articles_and_failures_quiet_stays_quiet(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    items = [Item("One", "/pages/story-0.html"), Item("Two", "/pages/story-1.html"),
             Item("Missing", "/status/404/gone.html")]
    site.write_feed(items)
    assert cli("add", site.feed_url, "--no-fetch").code == 0
    first = cli("refresh")
    missing = entry_ids(data_store)["Missing"]
    assert first.code == 0
    assert first.out.strip().endswith(f", 2 full articles (1 failed: reader show {missing} says why)"), first.out
    assert "failed:" not in first.err  # an article failing is no feed failure
    assert "HTTP 404" in cli("show", str(missing)).out  # what the line points at says why
    # Nothing asked for: the line says nothing about articles.
    again = cli("refresh")
    assert again.code == 0 and "full article" not in again.out and "1 not modified" in again.out
    items += [Item("Gone too", "/status/410/gone.html"), Item("Three", "/pages/story-2.html")]
    _rewrite(site, items, 0)  # the feed's guids go by position: new items go last
    third = cli("refresh")
    gone = entry_ids(data_store)["Gone too"]
    assert third.out.strip().endswith(f", 1 full article (1 failed: reader show {gone} says why)"), third.out
    items += [Item("A", "/status/404/a.html"), Item("B", "/status/404/b.html")]
    _rewrite(site, items, 1)
    quiet = cli("refresh", "--quiet")
    assert quiet.code == 0 and quiet.out == "" and quiet.err == ""
    items += [Item("C", "/status/404/c.html"), Item("D", "/status/404/d.html")]
    _rewrite(site, items, 2)
    loud = cli("refresh")  # two failures: the count, and one post to look at
    first_failed = min(entry_ids(data_store)[t] for t in ("C", "D"))
    assert loud.out.strip().endswith(f", 0 full articles (2 failed: reader show ID says why, e.g. {first_failed})")


def test_item1_out_of_time_never_lands_on_a_post_whose_article_just_landed(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    """A fetch cancelled at the deadline while its article was being written: the writer thread
    stores the article anyway, then the refresh marks the late posts; the article must win."""
    assert cli("add", site.feed_url, "--full-text", "off").code == 0
    ids = entry_ids(data_store)
    landed, late = ids["Post story-0"], ids["Post story-1"]
    assert cli("fetch-article", str(landed)).code == 0
    data_store.record_article_errors([(landed, "u"), (late, "u")], OUT_OF_TIME, "out_of_time", without_article=True)
    entry = data_store.get_entry(landed)
    assert entry is not None and entry.article and entry.article_error is None
    row = data_store.get_article(late)
    assert row is not None and row.error_kind == "out_of_time" and row.retry_at is not None


def test_item1_each_failure_gets_its_kind_from_a_real_fetch(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    """The kind is decided from the fetch's status and flags where it happens, and stored."""
    site.write_feed([
        Item("Busy", "/status/429/a.html"), Item("Broken", "/status/500/b.html"),
        Item("Reset", "/reset/10/pages/story-0.html"), Item("Cut", "/truncate/20/pages/story-1.html"),
        Item("Forbidden", "/status/403/c.html"), Item("Gone", "/status/410/d.html"),
        Item("Huge", "/big/50/e.html"), Item("Bomb", "/bomb/f.html"),
        Item("To ftp", "/redirect-to/ftp/g.html"), Item("Loop", "/redirect-loop/h.html"),
        Item("Picture", "/img/pic.png"),
    ])
    assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
    assert cli("refresh").code == 0
    kinds = {title: (a.error_kind, a.retry_at is not None)
             for title, entry_id in entry_ids(data_store).items() if (a := data_store.get_article(entry_id))}
    assert kinds == {
        "Busy": ("server", True), "Broken": ("server", True),
        "Reset": ("network", True), "Cut": ("network", True),
        "Forbidden": ("http", False), "Gone": ("http", False),
        "Huge": ("body", False), "Bomb": ("body", False),
        "To ftp": ("url", False), "Loop": ("url", False),
        "Picture": ("not_page", False),
    }, kinds


def test_item1_a_failing_retry_query_costs_the_new_posts_nothing(
    site: ArticleSite, data_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> dict[str, list[int]]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "due_article_retries", broken)
    data_store.add_feed(site.feed_url)
    summary = refresh(data_store, options=FetchOptions(timeout=5))
    assert summary.articles_fetched == 3 and summary.articles_failed == [] and not summary.failed
