"""Subscriptions: feeds, the categories they are filed under, and what each fetch of them left."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence

from ..models import Feed
from ..sanitize import clean_line, safe_url
from .base import StoreError, placeholders
from .entries import EntryStore
from .labels import VISIBLE_SQL


class FeedStore(EntryStore):
    def add_feed(
        self, url: str, title: str = "", categories: Iterable[str] = (), *,
        remote_id: str | None = None, from_server: bool = False,
    ) -> Feed:
        """Subscribe (idempotent). With a sync account, a new subscription made here is queued for the server."""
        # http(s) only; "reader:" names the app's own bundled feeds.
        if not (safe_url(url) == url or url.startswith("reader:")):
            raise StoreError(f"only http and https feeds can be subscribed to, not {url[:200]!r}")
        categories = list(categories)
        with self.transaction() as db:
            inserted = db.execute(
                "INSERT INTO feeds (url, title, added, remote_id) VALUES (?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
                (url, clean_line(title), time.time(), remote_id),
            ).rowcount
            feed_id = db.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()[0]
            self._file_under(db, feed_id, categories)
            if inserted and not from_server and not url.startswith("reader:") and self._syncing(db):
                self._queue_feed_op(db, "subscribe", url, title=title, categories=categories)
        feed = self.get_feed(url)
        assert feed is not None
        return feed

    def remove_feed(self, url: str, *, from_server: bool = False) -> bool:
        with self.transaction() as db:
            row = db.execute("SELECT id, remote_id FROM feeds WHERE url = ?", (url,)).fetchone()
            if row is None:
                return False
            self._delete_entries_of(db, row[0])
            db.execute("DELETE FROM feeds WHERE id = ?", (row[0],))
            if not from_server and self._syncing(db):
                self._queue_feed_op(db, "unsubscribe", url, remote_id=row[1])
        return True

    def set_feed_categories(self, url: str, categories: Iterable[str], *, from_server: bool = False) -> None:
        categories = list(categories)
        with self.transaction() as db:
            feed_id = self._feed_id(db, url)
            self._set_categories(db, feed_id, categories)
            if not from_server and self._syncing(db):
                remote_id = db.execute("SELECT remote_id FROM feeds WHERE id = ?", (feed_id,)).fetchone()[0]
                self._queue_feed_op(db, "edit", url, remote_id=remote_id, categories=categories)

    def set_feed_url(self, old: str, new: str) -> bool:
        """Follow a permanent redirect. Refused (False) when `new` is already subscribed."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM feeds WHERE url = ?", (new,)).fetchone():
                return False
            db.execute("UPDATE feeds SET url = ? WHERE url = ?", (new, old))
        return True

    def feed_url_of(self, feed_id: int) -> str | None:
        """The stored URL of the feed with this id (as `reader feeds` shows it), or None."""
        row = self.db.execute("SELECT url FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        return row[0] if row else None

    def get_feed(self, url: str) -> Feed | None:
        feeds = self.list_feeds(urls=[url])
        return feeds[0] if feeds else None

    def list_feeds(self, urls: Sequence[str] | None = None) -> list[Feed]:
        sql = (
            "SELECT id, url, title, site_url, last_updated, last_checked, last_error, gone, retry_after, remote_id, "
            "next_due, every FROM feeds"
        )
        params: list[str] = []
        if urls is not None:
            sql += f" WHERE url IN ({placeholders(urls)})"
            params = list(urls)
        feeds = [
            Feed(
                id=r[0], url=r[1], title=r[2], site_url=r[3], last_updated=r[4], last_checked=r[5],
                last_error=r[6], gone=bool(r[7]), retry_after=r[8], remote_id=r[9], next_due=r[10], every=r[11],
            )
            for r in self.db.execute(sql, params)
        ]
        by_id = {f.id: f for f in feeds}
        for feed_id, name in self.db.execute(
            "SELECT fc.feed_id, c.name FROM feed_categories fc JOIN categories c ON c.id = fc.category_id "
            "ORDER BY c.name COLLATE NOCASE"
        ):
            if feed_id in by_id:
                by_id[feed_id].categories.append(name)
        # Hidden posts are counted nowhere: they are listed only by a query asking `is:hidden`.
        for feed_id, total in self.db.execute(
            f"SELECT feed_id, count(*) FROM entries e WHERE {VISIBLE_SQL} GROUP BY feed_id"
        ):
            if feed_id in by_id:
                by_id[feed_id].total = total
        for feed_id, unread in self.db.execute(
            f"SELECT feed_id, count(*) FROM entries e WHERE read = 0 AND {VISIBLE_SQL} GROUP BY feed_id"
        ):
            if feed_id in by_id:
                by_id[feed_id].unread = unread
        feeds.sort(key=lambda f: (f.display_title.casefold(), f.url))
        return feeds

    def fetch_state(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(etag, last_modified, body_hash) for a conditional GET."""
        row = self.db.execute(
            "SELECT etag, last_modified, body_hash FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def record_error(
        self, url: str, error: str, *, retry_after: float | None = None, gone: bool = False
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE feeds SET last_error = ?, last_checked = ?, retry_after = ?, gone = ? WHERE url = ?",
                (clean_line(error, 500), time.time(), retry_after, int(gone), url),
            )

    def record_not_modified(self, url: str, etag: str | None, last_modified: str | None) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "UPDATE feeds SET last_error = NULL, last_checked = ?, last_updated = ?, retry_after = NULL, "
                "gone = 0, etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE url = ?",
                (now, now, etag, last_modified, url),
            )

    def feed_post_counts(self, url: str) -> tuple[int, int]:
        """(posts, starred posts) of one feed: what removing it would lose."""
        total, starred = self.db.execute(
            "SELECT count(*), coalesce(sum(e.starred), 0) FROM entries e JOIN feeds f ON f.id = e.feed_id "
            "WHERE f.url = ?",
            (url,),
        ).fetchone()
        return total, starred

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _queue_feed_op(
        db: sqlite3.Connection, op: str, url: str, *, remote_id: str | None = None, title: str = "",
        categories: Sequence[str] | None = None,
    ) -> None:
        """A subscription change made here, waiting for the next sync (same transaction as the change)."""
        db.execute(
            "INSERT INTO outbox_feeds (op, url, remote_id, title, categories, created) VALUES (?, ?, ?, ?, ?, ?)",
            (op, url, remote_id, clean_line(title), None if categories is None else json.dumps(list(categories)),
             time.time()),
        )
