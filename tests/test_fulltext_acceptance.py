"""Issue 10, the acceptance tester's findings on full articles (each test names its item):

1. failed or skipped article fetches are retried by later refreshes (transient failures only, bounded);
2. `entries --json` gives the text `show` gives (the article when there is one) and says so;
3. `reader refresh` says how many full articles it fetched and how many failed;
4. `get_entry` fills `Entry.article_error`;
5. `reader --help` lists the enclosure query terms.

Real loopback servers (tests/article_server.py), real SQLite, the CLI run in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from article_server import ArticleSite, Item, self_contained_pages

from reader.store import Store


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ArticleSite]:
    with ArticleSite(tmp_path / "site", self_contained_pages()) as running:
        running.write_feed()
        yield running


@pytest.fixture
def data_store(tmp_path: Path) -> Iterator[Store]:
    """The store the CLI uses (READER_DATA_DIR from conftest)."""
    s = Store(tmp_path / "data" / "reader.sqlite")
    yield s
    s.close()


def _ids(store: Store) -> dict[str, int]:
    return {title: entry_id for entry_id, title in store.db.execute("SELECT id, title FROM entries")}


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
    ids = _ids(data_store)
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
    assert missing["links"] == [site.url("/status/404/gone.html")]
    assert missing["article"]["error"] == "HTTP 404 Not Found" and missing["article"]["fetched"].endswith("Z")
    never = next(r for r in listed if r["title"] == "Never")
    assert never["article"] is None and never["source"] == "feed" and "They stop here" in never["text"]
