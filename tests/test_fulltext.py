"""Issue 10, full articles: the modes, the truncation heuristic, the refresh's article stage,
offline reading, search, cleanup, conditional GET, and hostile article servers.

Real loopback servers (tests/article_server.py over the suite's FeedServer), real SQLite,
the CLI run in-process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from article_server import ArticleSite, Item, article_page, cache_at_version, entry_ids, write_config
from article_server import cli_data_store as cli_data_store  # fixture `data_store` (the alias: imported for pytest)
from article_server import teaser_site as teaser_site  # fixture `site` (the alias: imported for pytest)

from reader import articles
from reader.articles import NO_ARTICLE, OUT_OF_TIME, looks_truncated
from reader.fetch import FetchOptions
from reader.images.cache import ImageCache
from reader.refresh import refresh
from reader.store import Store

LONG_BODY = "<p>" + " ".join(f"word{n} of a post the feed sends whole." for n in range(120)) + "</p>"


# --- the heuristic ---------------------------------------------------------------------------


def test_looks_truncated_short_body_ellipsis_read_more_and_prefix() -> None:
    assert looks_truncated("<p>Two sentences. That is all.</p>")
    assert looks_truncated("")  # no text at all: the article is the post
    assert not looks_truncated(LONG_BODY)
    assert looks_truncated(LONG_BODY + "<p>And then…</p>")
    assert looks_truncated(LONG_BODY + "<p>The story goes on [...]</p>")
    assert looks_truncated(LONG_BODY + "<p>so it went...</p>")
    assert looks_truncated(LONG_BODY + '<p><a href="https://example.com/p">Continue reading →</a></p>')
    assert looks_truncated(LONG_BODY + '<p><a href="https://example.com/p">Read more</a></p>')
    # "Read more" far from the end is a sentence in a whole post, not a teaser's link.
    assert not looks_truncated("<p>Read more books.</p>" + LONG_BODY)
    # The body is a strict prefix of the description (a feed that gives both).
    assert looks_truncated(LONG_BODY, LONG_BODY + "<p>The rest of the post, which the body lacks.</p>")
    assert not looks_truncated(LONG_BODY, LONG_BODY)
    # A 4 MB body is no teaser, and is not scanned.
    started = time.perf_counter()
    assert not looks_truncated("<p>x</p>" * 500_000)
    assert time.perf_counter() - started < 0.5


# --- the modes, through a real refresh ------------------------------------------------------------


def test_modes_auto_on_off_pick_which_new_posts_get_articles(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    items = [Item("Teaser", "/pages/story-0.html"), Item("Whole", "/pages/story-1.html", summary=LONG_BODY)]
    for mode in ("auto", "on", "off"):
        site.write_feed([Item(f"{i.title} {mode}", i.link, i.summary) for i in items], name=f"{mode}.xml")
        assert cli("add", site.url(f"/{mode}.xml"), "--no-fetch", "--full-text", mode).code == 0
    assert cli("refresh").code == 0
    ids = entry_ids(data_store)
    fetched = {title for title, entry_id in ids.items() if (a := data_store.get_article(entry_id)) and a.html}
    # auto: only the teaser; on: both; off: none.
    assert fetched == {"Teaser auto", "Teaser on", "Whole on"}
    assert data_store.get_article(ids["Teaser off"]) is None
    modes = {f["url"].rsplit("/", 1)[1]: f["full_text"] for f in cli("feeds", "--json").json()}
    assert modes == {"auto.xml": "auto", "on.xml": "on", "off.xml": "off"}


def test_add_flag_bare_means_on_and_full_text_command(
    cli: Callable, site: ArticleSite, data_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    added = cli("add", site.feed_url, "--full-text")
    assert added.code == 0 and "(3 posts)\nfull articles: 3 fetched\n" in added.out
    assert cli("full-text", site.feed_url).out.split()[0] == "on"
    feed_id = data_store.db.execute("SELECT id FROM feeds").fetchone()[0]
    assert cli("full-text", str(feed_id), "off").code == 0
    assert data_store.full_text_mode(site.feed_url) == "off"
    assert "full text off" in cli("feeds").out  # a non-default mode is shown
    assert cli("full-text", site.feed_url, "auto").code == 0
    assert "full text" not in cli("feeds").out
    with pytest.raises(SystemExit) as bad:
        cli("full-text", site.feed_url, "sometimes")
    err = capsys.readouterr().err
    assert bad.value.code == 2 and "on, off or auto" in err and "Traceback" not in err
    # A feed of the sync server: the mode is kept (local only), and the note says what it means.
    data_store.db.execute("UPDATE feeds SET remote_id = 'feed/1'")
    synced = cli("full-text", site.feed_url, "on")
    assert synced.code == 0 and "fetched only on demand" in synced.out
    assert data_store.full_text_mode(site.feed_url) == "on"
    missing = cli("full-text", "https://nowhere.example/feed\x1b[31m")
    assert missing.code == 1 and "not subscribed" in missing.err and "\x1b" not in missing.err


# --- the whole post, offline ------------------------------------------------------------------------


def test_refresh_stores_the_article_show_shows_it_offline_and_search_finds_it(
    cli: Callable, site: ArticleSite, data_store: Store, tmp_path: Path
) -> None:
    assert cli("add", site.feed_url, "--no-fetch").code == 0  # auto, the default
    assert cli("refresh").code == 0
    entry_id = entry_ids(data_store)["Post story-1"]
    page_url = site.page_url("story-1")
    picture, article_picture = site.url("/img/pic.png"), site.url("/img/article.png")
    site.stop()  # offline from here on
    shown = cli("show", str(entry_id))
    assert shown.code == 0
    assert "Text:       the full article" in shown.out
    assert "articleword1" in shown.out and "Paragraph 6 of the story-1 article" in shown.out
    assert "Example Site. All rights reserved" not in shown.out  # the page's chrome is not the article
    feed_text = cli("show", str(entry_id), "--feed-text")
    assert "They stop here" in feed_text.out and "articleword1" not in feed_text.out
    # Words only in the article are found, alone and with words of the post itself.
    assert [r["id"] for r in cli("entries", "articleword1", "--json").json()] == [entry_id]
    assert [r["id"] for r in cli("entries", "articleword1 Post", "--json").json()] == [entry_id]
    assert cli("entries", "articleword1 -Post", "--json").json() == []
    entry = data_store.get_entry(entry_id)
    assert entry is not None and entry.article and entry.article_url == page_url
    # The images of the post's text and of its article were cached with it (images on by default).
    cache = ImageCache(tmp_path / "data" / "images", 10**9)
    assert cache.get(picture) is not None and cache.get(article_picture) is not None
    # Stored compressed.
    raw = data_store.db.execute("SELECT length(content) FROM articles WHERE entry_id = ?", (entry_id,)).fetchone()[0]
    assert raw < len(entry.article.encode())


def test_removing_the_feed_drops_its_articles_from_the_index(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    assert cli("add", site.feed_url).code == 0
    assert len(cli("entries", "articleword0", "--json").json()) == 1
    assert cli("remove", site.feed_url).code == 0
    db = data_store.db
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    assert db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'articleword0'").fetchall() == []
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    db.execute("INSERT INTO entries_fts (entries_fts, rank) VALUES ('integrity-check', 1)")


def test_refetch_is_a_conditional_get_and_a_changed_page_replaces_the_article(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    assert cli("add", site.feed_url, "--full-text", "off").code == 0
    entry_id = entry_ids(data_store)["Post story-2"]
    first = cli("fetch-article", str(entry_id))
    assert first.code == 0 and first.out.startswith("fetched the article (") and "KB)" in first.out
    again = cli("fetch-article", str(entry_id))
    assert again.code == 0 and "unchanged" in again.out
    conditional = site.requests_for("story-2.html")[-1]
    assert "if-none-match" in conditional and "if-modified-since" in conditional
    # The page changes: fetched whole again, the index follows (the old word is gone).
    time.sleep(0.01)
    (site.root / "pages" / "story-2.html").write_text(article_page("story-2", "replacedword"))
    assert cli("fetch-article", str(entry_id)).out.startswith("fetched the article")
    assert [r["id"] for r in cli("entries", "replacedword", "--json").json()] == [entry_id]
    assert cli("entries", "articleword2", "--json").json() == []


# --- hostile article servers ----------------------------------------------------------------------------


def test_hostile_pages_are_per_post_errors_and_the_posts_keep_their_text(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    (site.root / "pages" / "junk.html").write_text("<html><body><div>hi</div></body></html>")
    site.write_feed([
        Item("Huge", "/big/50/page.html"),
        Item("Missing", "/status/404/page.html"),
        Item("Junk", "/pages/junk.html"),
        Item("Picture", "/img/pic.png"),
        Item("Script", "javascript:alert(1)"),
        Item("Fine", "/pages/story-0.html"),
    ])
    started = time.monotonic()
    assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
    result = cli("refresh")
    assert result.code == 0 and "1 failed" not in result.out  # the feed itself is fine
    assert time.monotonic() - started < 10
    ids = entry_ids(data_store)
    errors = {title: (a.error if (a := data_store.get_article(ids[title])) else None) for title in ids}
    assert "10 MB" in errors["Huge"]
    assert errors["Missing"] == "HTTP 404 Not Found"
    assert errors["Junk"] == NO_ARTICLE
    assert errors["Picture"] == "not a web page (application/octet-stream)"
    assert errors["Script"] is None and data_store.get_article(ids["Script"]) is None  # never fetched
    assert errors["Fine"] is None and data_store.get_article(ids["Fine"]).html  # type: ignore[union-attr]
    assert not any("javascript" in target for target, _ in site.server.requests)  # type: ignore[union-attr]
    feed = data_store.list_feeds()[0]
    assert feed.last_error is None
    shown = cli("show", str(ids["Huge"]))
    assert "They stop here" in shown.out and "Full article: the last fetch failed:" in shown.out
    assert "10 MB" in shown.out


def test_slow_article_server_refresh_ends_about_one_timeout_later(
    cli: Callable, site: ArticleSite, data_store: Store, tmp_path: Path
) -> None:
    write_config(tmp_path, "timeout = 1\n")
    site.write_feed([Item(f"Slow {n}", f"/slow/20000/pages/story-{n % 3}.html?{n}") for n in range(8)])
    assert cli("add", site.feed_url, "--no-fetch", "--full-text").code == 0
    started = time.monotonic()
    result = cli("refresh")
    elapsed = time.monotonic() - started
    assert result.code == 0 and "1 with new posts" in result.out
    assert elapsed < 3.0, elapsed  # not 8 pages / 2 per host × 1 s
    errors = [data_store.get_article(i).error for i in entry_ids(data_store).values()]  # type: ignore[union-attr]
    assert all(e in ("timed out after 1 s", OUT_OF_TIME) for e in errors), errors
    assert "timed out after 1 s" in errors


def test_feed_outcomes_do_not_wait_for_articles_and_stop_abandons_them(site: ArticleSite, data_store: Store) -> None:
    site.write_feed([Item(f"Slow {n}", f"/slow/20000/pages/story-0.html?{n}") for n in range(4)])
    data_store.add_feed(site.feed_url)
    reported: list[float] = []
    stop = threading.Event()
    started = time.monotonic()

    def progress(done: int, total: int, outcome: object) -> None:
        reported.append(time.monotonic() - started)
        threading.Timer(0.3, stop.set).start()

    stored: list[float] = []
    summary = refresh(data_store, options=FetchOptions(timeout=30), progress=progress, stop=stop,
                      feeds_done=lambda _summary: stored.append(time.monotonic() - started))
    elapsed = time.monotonic() - started
    assert reported and reported[0] < 2.0  # the feed's outcome came before any article
    assert stored and stored[0] < 2.0  # and so did "every feed is stored" (the app shows the new posts then)
    assert summary.stopped and summary.new_entries == 4
    assert elapsed - reported[0] < 0.3 + 0.5, elapsed  # stop: within a tenth of a second or so


def test_only_hosts_guard_keeps_the_suite_off_the_network(site: ArticleSite, data_store: Store,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(articles, "ONLY_HOSTS", frozenset({"localhost"}))
    data_store.add_feed(site.feed_url)
    refresh(data_store, options=FetchOptions(timeout=5))
    assert site.count(".html") == 0


# --- the schema -------------------------------------------------------------------------------------------


def test_v6_cache_upgrades_with_every_feed_on_auto(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = cache_at_version(path, 6)
    db.execute("INSERT INTO feeds (url, added) VALUES ('https://example.com/feed', 0)")
    db.close()
    store = Store(path)
    assert store.full_text_mode("https://example.com/feed") == "auto"
    assert store.db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    store.close()


def test_at_most_two_connections_per_host_for_articles(site: ArticleSite, data_store: Store) -> None:
    page = article_page("busy", "busyword").encode()
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def handler(request) -> None:  # type: ignore[no-untyped-def]
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.15)
        with lock:
            now[0] -= 1
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(page)))
        request.end_headers()
        request.wfile.write(page)

    assert site.server is not None
    for n in range(6):
        site.server.route(f"/busy/{n}.html", handler)
    site.write_feed([Item(f"Busy {n}", f"/busy/{n}.html") for n in range(6)])
    data_store.add_feed(site.feed_url)
    data_store.set_full_text(site.feed_url, "on")
    refresh(data_store, options=FetchOptions(timeout=10))
    assert peak[0] == 2
    fetched = data_store.db.execute("SELECT count(*) FROM articles WHERE content IS NOT NULL").fetchone()[0]
    assert fetched == 6


def test_fetch_article_errors_are_one_line_and_a_failed_refetch_keeps_the_article(
    cli: Callable, site: ArticleSite, data_store: Store
) -> None:
    assert cli("add", site.feed_url).code == 0  # auto: the three teasers get their articles
    missing = cli("fetch-article", "999999")
    assert missing.code == 1 and missing.err.strip() == "reader: no post with id 999999"
    entry_id = entry_ids(data_store)["Post story-0"]
    (site.root / "pages" / "story-0.html").unlink()  # the page is gone now
    failed = cli("fetch-article", str(entry_id))
    assert failed.code == 1 and failed.err.strip() == "reader: could not fetch the article: HTTP 404 Not Found"
    shown = cli("show", str(entry_id)).out
    # The article fetched before stays, shown and searchable, and the failure is said.
    assert "articleword0" in shown and "the article fetched before is shown" in shown
    assert [r["id"] for r in cli("entries", "articleword0", "--json").json()] == [entry_id]
