"""Full articles: each feed's full-text mode, and the article fetched from a post's link.

An article is stored compressed like a post's content and indexed for search in its own
contentless FTS5 table (`articles_fts`, rowid = the post's id). Contentless means a delete
must hand back the text that was indexed, so every path that drops an article (a refetch
that replaces it, its feed removed) reads the old text first (`_fts_delete_articles`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..entry_codec import decompress, index_text
from ..sanitize import clean_line, clean_message
from .base import StoreBase, StoreError, chunks, placeholders

FULL_TEXT_MODES = ("on", "off", "auto")
DEFAULT_FULL_TEXT = "auto"

# What kind of failure an article fetch's last one was (articles.error_kind). The first four
# pass (the server or the network may be back, the next refresh may have time): a refresh asks
# again, with a growing wait between tries. The others would fail the same way again.
TRANSIENT_KINDS = ("timeout", "network", "server", "out_of_time")
PERMANENT_KINDS = ("http", "no_article", "not_page", "body", "url", "failed")
ERROR_KINDS = TRANSIENT_KINDS + PERMANENT_KINDS

# The wait before the next try after `failures` failed ones in a row: 2 min, 8, 32, ~2 h, ~8.5 h,
# then every 12 h (a dead server is asked about 30 times in the RETRY_DAYS a post is retried).
RETRY_FIRST = 120.0
RETRY_FACTOR = 4
RETRY_LONGEST = 12 * 3600.0


def retry_delay(failures: int) -> float:
    """Seconds to wait before asking again after `failures` (>= 1) failed fetches in a row."""
    return min(RETRY_LONGEST, RETRY_FIRST * RETRY_FACTOR ** min(max(failures, 1) - 1, 20))


@dataclass(slots=True)
class ArticleRow:
    """What the cache holds about one post's article."""

    entry_id: int
    url: str  # the page's final URL (what the article's relative links resolve against)
    html: str | None  # None: never fetched successfully
    size: int  # bytes of the stored (compressed) article
    fetched: float
    error: str | None  # why the last fetch failed (an earlier article, if any, is still `html`)
    etag: str | None = None
    last_modified: str | None = None
    error_kind: str | None = None  # one of ERROR_KINDS when `error`
    failures: int = 0  # fetches in a row that failed
    retry_at: float | None = None  # when a refresh may ask again (None: it won't by itself)


@dataclass(slots=True)
class ArticleCandidate:
    """A post just stored, with what deciding whether to fetch its article needs."""

    entry_id: int
    link: str | None
    content: str
    base_url: str | None
    mode: str  # its feed's full-text mode


class ArticleStore(StoreBase):
    # --- each feed's mode ---------------------------------------------------------------

    def set_full_text(self, url: str, mode: str) -> None:
        if mode not in FULL_TEXT_MODES:
            raise StoreError(f"full text must be one of {', '.join(FULL_TEXT_MODES)}, not {clean_line(mode, 40)!r}")
        with self.transaction() as db:
            feed_id = self._feed_id(db, url)
            db.execute("UPDATE feeds SET full_text = ? WHERE id = ?", (mode, feed_id))

    def full_text_modes(self) -> dict[str, str]:
        """{feed URL: mode} for every feed."""
        return dict(self.db.execute("SELECT url, full_text FROM feeds").fetchall())

    def full_text_mode(self, url: str) -> str:
        row = self.db.execute("SELECT full_text FROM feeds WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise StoreError(f"not subscribed: {clean_message(url)}")
        return row[0]

    # --- what a refresh fetches -----------------------------------------------------------

    def article_candidates(self, ids: Sequence[int], *, every_mode: bool = False) -> list[ArticleCandidate]:
        """The given posts (just stored) without an article yet, of feeds whose mode is not off
        (`every_mode`: of every feed, for the images of their own text)."""
        modes = "" if every_mode else "AND f.full_text != 'off' "
        return self._candidates(ids, modes + "AND e.id NOT IN (SELECT entry_id FROM articles)")

    def due_article_retries(self, *, now: float, since: float, per_feed: int) -> dict[str, list[int]]:
        """{feed URL: ids of its posts whose article is due another try}: no article, the last
        fetch failed for a passing reason and its wait is over (`retry_at <= now`), first seen after
        `since`, of a feed fetched here whose mode is not off; newest first, at most `per_feed` a feed.

        One query for the whole refresh over the pending rows (a partial index), not one per feed
        over its posts: its cost follows the failures waiting, not the size of the cache. Rows of
        posts first seen before `since` are taken out of the pending ones first, so those stay few.
        """
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET retry_at = NULL WHERE content IS NULL AND retry_at IS NOT NULL "
                "AND (SELECT first_seen FROM entries WHERE id = articles.entry_id) < ?",
                (since,),
            )
        due: dict[str, list[int]] = {}
        rows = self.db.execute(
            "SELECT url, id FROM (SELECT f.url AS url, e.id AS id, row_number() OVER "
            "(PARTITION BY e.feed_id ORDER BY e.published DESC, e.id DESC) AS n "
            "FROM articles a JOIN entries e ON e.id = a.entry_id JOIN feeds f ON f.id = e.feed_id "
            "WHERE a.content IS NULL AND a.retry_at IS NOT NULL AND a.retry_at <= ? "
            "AND f.full_text != 'off' AND f.remote_id IS NULL) WHERE n <= ?",
            (now, per_feed),
        )
        for url, entry_id in rows:
            due.setdefault(url, []).append(entry_id)
        return due

    def retry_candidates(self, ids: Sequence[int]) -> list[ArticleCandidate]:
        """These posts (due a retry) with what judging whether their article is still wanted needs."""
        return self._candidates(ids, "AND e.id IN (SELECT entry_id FROM articles WHERE content IS NULL)")

    def _candidates(self, ids: Sequence[int], condition: str) -> list[ArticleCandidate]:
        """The posts among `ids` that also meet `condition` (SQL over `e`, the entry, and `f`, its feed;
        never user input), as candidates: one query a chunk of ids, one reading of the rows for both callers."""
        found: list[ArticleCandidate] = []
        for chunk in chunks(list(ids)):
            rows = self.db.execute(
                "SELECT e.id, e.link, e.content, e.base_url, f.full_text FROM entries e "
                f"JOIN feeds f ON f.id = e.feed_id WHERE e.id IN ({placeholders(chunk)}) {condition}",
                chunk,
            )
            found += [ArticleCandidate(r[0], r[1], decompress(r[2]), r[3], r[4]) for r in rows]
        return found

    def article_link(self, entry_id: int) -> str | None:
        """The post's link (what its article is fetched from); StoreError when there is no such post."""
        row = self.db.execute("SELECT link FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise StoreError(f"no post with id {entry_id}")
        return row[0]

    # --- reading ----------------------------------------------------------------------------

    def get_article(self, entry_id: int) -> ArticleRow | None:
        row = self.db.execute(
            "SELECT entry_id, url, content, length(content), fetched, error, etag, last_modified, "
            "error_kind, failures, retry_at FROM articles WHERE entry_id = ?",
            (entry_id,),
        ).fetchone()
        if row is None:
            return None
        return ArticleRow(
            entry_id=row[0], url=row[1], html=decompress(row[2]) if row[2] is not None else None,
            size=row[3] or 0, fetched=row[4], error=row[5], etag=row[6], last_modified=row[7],
            error_kind=row[8], failures=row[9], retry_at=row[10],
        )

    def article_status(self, entry_id: int) -> tuple[str, float, str | None] | None:
        """(URL, when last fetched or tried, why the last fetch failed or None) of the post's
        article row, None when its article was never asked for. Reads no article text."""
        row = self.db.execute("SELECT url, fetched, error FROM articles WHERE entry_id = ?", (entry_id,)).fetchone()
        return (row[0], row[1], row[2]) if row is not None else None

    # --- writing (each one transaction) ----------------------------------------------------

    def save_article(
        self, entry_id: int, *, url: str, blob: bytes, text: str,
        etag: str | None = None, last_modified: str | None = None,
    ) -> bool:
        """Store a fetched article (compressed `blob`, search `text`); False when the post is gone meanwhile."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
                return False  # its feed was removed while the page was being fetched
            _fts_delete_articles(db, [entry_id])
            db.execute(
                "INSERT OR REPLACE INTO articles (entry_id, url, content, etag, last_modified, fetched, error) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (entry_id, url, blob, etag, last_modified, time.time()),
            )
            db.execute("INSERT INTO articles_fts (rowid, body) VALUES (?, ?)", (entry_id, text))
        return True

    def record_article_error(self, entry_id: int, url: str, error: str, kind: str = "failed") -> bool:
        """A failed fetch: the error and its kind go on the post's article row; an earlier article stays."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
                return False
            _record_error(db, entry_id, url, clean_message(error, 500), kind, time.time())
        return True

    def record_article_errors(
        self, posts: Sequence[tuple[int, str]], error: str, kind: str = "failed", *, without_article: bool = False
    ) -> None:
        """The same error on several posts' article rows ((entry id, link) pairs), in one transaction;
        `without_article`: only on those that have no article stored (one may have just landed)."""
        now, error = time.time(), clean_message(error, 500)
        skip = "SELECT 1 FROM articles WHERE entry_id = ? AND content IS NOT NULL"
        with self.transaction() as db:
            for entry_id, link in posts:
                if db.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
                    continue
                if without_article and db.execute(skip, (entry_id,)).fetchone() is not None:
                    continue
                _record_error(db, entry_id, link, error, kind, now)

    def record_article_not_modified(self, entry_id: int, etag: str | None, last_modified: str | None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET fetched = ?, error = NULL, error_kind = NULL, failures = 0, retry_at = NULL, "
                "etag = coalesce(?, etag), "
                "last_modified = coalesce(?, last_modified) WHERE entry_id = ?",
                (time.time(), etag, last_modified, entry_id),
            )


def _record_error(db: sqlite3.Connection, entry_id: int, url: str, error: str, kind: str, now: float) -> None:
    """One more failed fetch on the post's article row; a passing failure of a post with no article
    yet gets a time to ask again, later after each failure in a row (`retry_delay`)."""
    if kind not in ERROR_KINDS:
        raise ValueError(f"unknown article error kind {kind!r}")
    row = db.execute("SELECT failures, content IS NOT NULL FROM articles WHERE entry_id = ?", (entry_id,)).fetchone()
    failures = (row[0] if row is not None else 0) + 1
    has_article = row is not None and bool(row[1])
    retry_at = now + retry_delay(failures) if kind in TRANSIENT_KINDS and not has_article else None
    db.execute(
        "INSERT INTO articles (entry_id, url, fetched, error, error_kind, failures, retry_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (entry_id) DO UPDATE SET fetched = excluded.fetched, error = excluded.error, "
        "error_kind = excluded.error_kind, failures = excluded.failures, retry_at = excluded.retry_at",
        (entry_id, url, now, error, kind, failures, retry_at),
    )


def _fts_delete_articles(db: sqlite3.Connection, entry_ids: Sequence[int]) -> None:
    """Drop these posts' articles from the search index (the old text is needed: the index is contentless)."""
    for chunk in chunks(list(entry_ids)):
        rows = db.execute(
            f"SELECT entry_id, content FROM articles WHERE entry_id IN ({placeholders(chunk)}) "
            "AND content IS NOT NULL",
            chunk,
        ).fetchall()
        db.executemany(
            "INSERT INTO articles_fts (articles_fts, rowid, body) VALUES ('delete', ?, ?)",
            [(entry_id, index_text(decompress(content))) for entry_id, content in rows],
        )


def delete_articles_of_feed(db: sqlite3.Connection, feed_id: int) -> None:
    """Before a feed goes: its posts' articles leave the search index (the rows go by cascade)."""
    ids = [r[0] for r in db.execute(
        "SELECT a.entry_id FROM articles a JOIN entries e ON e.id = a.entry_id "
        "WHERE e.feed_id = ? AND a.content IS NOT NULL", (feed_id,)
    )]
    _fts_delete_articles(db, ids)
