"""A loopback site for the full-article tests: a summary-only feed whose posts link to article
pages, with an image and a podcast episode (an enclosure).

    with ArticleSite(tmp_path, self_contained_pages()) as site:
        site.write_feed()                  # every page as a teaser post
        reader("add", site.feed_url, ...)

The pages are either written here (`self_contained_pages`: the core tests run in any clone)
or copied from the shared corpus of real pages (`shared_pages`: ../shared/articles/pages,
skipped without it, failing under CI=true like the FreshRSS tests). Served by the suite's
FeedServer over a temporary directory, so its fault prefixes work on the pages too:
`/slow/3000/pages/a.html`, `/big/50/x`, `/status/404/x`, and ETag / Last-Modified with 304.
"""

from __future__ import annotations

import html
import io
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from feedserver import FeedServer

from reader.schema import MIGRATIONS
from reader.store import Store

# The corpus pages the shared tests use: a news site, a blog, a wiki, docs (small to mid-size).
SHARED_NAMES = ("ars-1", "blogger", "wikipedia", "medium-1", "mozilla-1")


def shared_dir() -> Path:
    """../shared beside the clone, or READER_SHARED_DIR (as tests/freshrss_fixtures.py)."""
    env = os.environ.get("READER_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def shared_pages(names: tuple[str, ...] = SHARED_NAMES) -> dict[str, bytes]:
    """{name: source.html bytes} from ../shared/articles/pages; skip (fail under CI) without it."""
    root = shared_dir() / "articles" / "pages"
    missing = [n for n in names if not (root / n / "source.html").is_file()]
    if missing:
        reason = f"no article pages {', '.join(missing)} under {root} (set READER_SHARED_DIR to the shared dir)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"full-article corpus tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(f"full-article corpus tests skipped: {reason}")
    return {n: (root / n / "source.html").read_bytes() for n in names}


def expected_text(name: str) -> str:
    """The visible text of the article Readability.js extracts from a shared page."""
    from reader.sanitize import strip_tags

    return strip_tags((shared_dir() / "articles" / "pages" / name / "expected.html").read_text("utf-8"))


def article_page(name: str, word: str, paragraphs: int = 6) -> str:
    """A realistic article page: navigation, a long article with `word` in it, a sidebar, a footer."""
    body = "".join(
        f"<p>Paragraph {n} of the {name} article explains how the network behaves under load, why the "
        f"engineers measured every queue twice, and what the {word if n == 3 else 'team'} learned from "
        f"the outage that followed the change to the routing tables in the data centre.</p>"
        for n in range(1, paragraphs + 1)
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{name} | Example Site</title>"
        "<script>var tracking = 1;</script><style>body{color:#333}</style></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/archive'>Archive</a></nav>"
        f"<div class='content'><article><h1>The {name} story</h1>{body}"
        "<p><img src='/img/article.png' alt='a diagram'></p></article></div>"
        "<aside><h3>Related</h3><ul><li><a href='/x'>Another post</a></li></ul></aside>"
        "<footer>Copyright Example Site. All rights reserved.</footer></body></html>"
    )


def self_contained_pages(count: int = 3) -> dict[str, bytes]:
    """Pages written here, each with a word found nowhere else: `articleword0`, `articleword1`, …"""
    return {f"story-{n}": article_page(f"story-{n}", f"articleword{n}").encode() for n in range(count)}


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Item:
    title: str
    link: str  # absolute, or a path on the site ("/pages/a.html")
    summary: str = ""  # HTML; default: a teaser with "Read more"
    enclosure: str | None = None  # a path on the site


@dataclass
class ArticleSite:
    """The site: a FeedServer over `root`, the pages under /pages/, the feed at /feed.xml."""

    root: Path
    pages: dict[str, bytes] = field(default_factory=dict)
    server: FeedServer | None = None

    def __enter__(self) -> Self:
        (self.root / "pages").mkdir(parents=True, exist_ok=True)
        (self.root / "img").mkdir(exist_ok=True)
        (self.root / "media").mkdir(exist_ok=True)
        for name, data in self.pages.items():
            (self.root / "pages" / f"{name}.html").write_bytes(data)
        (self.root / "img" / "pic.png").write_bytes(png_bytes())
        (self.root / "img" / "article.png").write_bytes(png_bytes(16, 12))  # the self-contained pages show it
        (self.root / "media" / "episode.mp3").write_bytes(b"ID3" + bytes(2000))
        self.server = FeedServer(self.root).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def feed_url(self) -> str:
        return self.url("/feed.xml")

    def url(self, path: str) -> str:
        assert self.server is not None
        return path if "://" in path or path.startswith("javascript:") else self.server.url(path)

    def page_url(self, name: str) -> str:
        return self.url(f"/pages/{name}.html")

    def count(self, suffix: str) -> int:
        assert self.server is not None
        return self.server.count(suffix)

    def requests_for(self, suffix: str) -> list[dict[str, str]]:
        assert self.server is not None
        return [headers for target, headers in list(self.server.requests) if target.endswith(suffix)]

    def teaser_items(self) -> list[Item]:
        """One teaser post per page; the first shows the image, the last carries the episode."""
        items = [Item(f"Post {name}", f"/pages/{name}.html") for name in self.pages]
        if items:
            items[0].summary = "<p>A short teaser <img src='/img/pic.png' alt='teaser picture'>…</p>"
            items[-1].enclosure = "/media/episode.mp3"
        return items

    def write_feed(self, items: list[Item] | None = None, name: str = "feed.xml") -> None:
        items = self.teaser_items() if items is None else items
        parts = []
        for n, item in enumerate(items):
            link = self.url(item.link)
            summary = item.summary or (
                f"<p>The first two sentences of {html.escape(item.title)}. They stop here… "
                f"<a href='{html.escape(link)}'>Read more</a></p>"
            )
            summary = summary.replace("src='/", f"src='{self.url('/')}")
            enclosure = ""
            if item.enclosure:
                enclosure = (f"<enclosure url='{html.escape(self.url(item.enclosure))}' type='audio/mpeg' "
                             "length='2003'/>")
            parts.append(
                f"<item><title>{html.escape(item.title)}</title><link>{html.escape(link)}</link>"
                f"<guid>post-{n}</guid><pubDate>Mon, 0{1 + n % 9} Jun 2026 10:00:00 GMT</pubDate>"
                f"<description>{html.escape(summary)}</description>{enclosure}</item>"
            )
        feed = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Teasers</title>"
            f"<link>{self.url('/')}</link><description>Only the start of each post</description>"
            + "".join(parts) + "</channel></rss>"
        )
        (self.root / name).write_text(feed, "utf-8")

    def copy_page(self, name: str, target: str) -> None:
        shutil.copy(self.root / "pages" / f"{name}.html", self.root / "pages" / f"{target}.html")


# --- fixtures and helpers the full-article test modules share (a module imports the fixture
# functions by their own names, `teaser_site` / `cli_data_store`, to use `site` / `data_store`) ---


@pytest.fixture(name="site")
def teaser_site(tmp_path: Path) -> Iterator[ArticleSite]:
    """Fixture `site`: the self-contained pages, served, with every page as a teaser post."""
    with ArticleSite(tmp_path / "site", self_contained_pages()) as running:
        running.write_feed()
        yield running


@pytest.fixture(name="data_store")
def cli_data_store(tmp_path: Path) -> Iterator[Store]:
    """Fixture `data_store`: the store the CLI uses (READER_DATA_DIR from conftest)."""
    s = Store(tmp_path / "data" / "reader.sqlite")
    yield s
    s.close()


def write_config(tmp_path: Path, text: str) -> None:
    """The CLI's config.toml (READER_CONFIG_DIR from conftest) holds `text`."""
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(text)


def entry_ids(store: Store) -> dict[str, int]:
    """{title: entry id} of every post in `store`."""
    return {title: entry_id for entry_id, title in store.db.execute("SELECT id, title FROM entries")}


def cache_at_version(path: Path, version: int) -> sqlite3.Connection:
    """A cache file at `path` as an older reader left it: the first `version` migrations and that
    user_version, open (autocommit) for the test to add its rows before a Store upgrades it."""
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:version]:
        step(db)
    db.execute(f"PRAGMA user_version = {version}")
    return db
