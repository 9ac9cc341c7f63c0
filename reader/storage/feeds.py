"""Subscriptions: feeds, the categories they are filed under, and what each fetch of them left."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence

from ..models import Feed
from ..sanitize import clean_line, safe_url
from ..schedule import ACTIVITY_POSTS, Policy, next_due
from .base import StoreError, placeholders
from .entries import EntryStore
from .labels import VISIBLE_SQL, forget_unused_tags


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
            # Tags that were only on its posts go with them (the posts' entry_tags went by cascade).
            forget_unused_tags(db)
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

    def set_feed_title(self, url: str, title: str | None) -> bool:
        """Give a feed the user's own title, which refreshes keep; None goes back to the feed's own
        (from its next fetch). Returns False when there is no such feed."""
        with self.transaction() as db:
            if title is None:
                # The feed's own title comes with its next parse: the next fetch asks unconditionally
                # (a 304, or a body like the last, would not parse it again).
                changed = db.execute(
                    "UPDATE feeds SET own_title = 0, etag = NULL, last_modified = NULL, body_hash = NULL WHERE url = ?",
                    (url,),
                ).rowcount
            else:
                cleaned = clean_line(title, 300).strip()
                if not cleaned:
                    raise StoreError("a title needs something printable in it")
                changed = db.execute(
                    "UPDATE feeds SET title = ?, own_title = 1 WHERE url = ?", (cleaned, url)
                ).rowcount
        return bool(changed)

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

    def feeds_to_refresh(
        self, urls: Sequence[str] | None = None, *, due_by: float | None = None, ceiling: float | None = None
    ) -> list[Feed]:
        """The feeds a refresh fetches: those named (all when None), not the sync account's, and with
        `due_by` only those due by then (see _due_sql for `ceiling`). What a refresh needs of each and no
        more: no counts or categories (list_feeds' GROUP BY over every post would cost more than a `--due`
        run of 10 feeds)."""
        sql = (
            "SELECT id, url, title, last_error, gone, retry_after, next_due, every, etag, last_modified, body_hash "
            "FROM feeds "
            "WHERE remote_id IS NULL"
        )
        params: list[object] = []
        if urls is not None:
            sql += f" AND url IN ({placeholders(urls)})"
            params += list(urls)
        if due_by is not None:
            due, due_params = _due_sql(due_by, ceiling)
            sql += f" AND coalesce({due}, 0) <= ?"  # NULL: due now
            params += [*due_params, due_by]
        feeds = [
            Feed(id=r[0], url=r[1], title=r[2], last_error=r[3], gone=bool(r[4]), retry_after=r[5], next_due=r[6],
                 every=r[7], fetch_state=(r[8], r[9], r[10]))
            for r in self.db.execute(sql, params)
        ]
        feeds.sort(key=lambda f: (f.display_title.casefold(), f.url))  # the order list_feeds gives
        return feeds

    def due_summary(self, now: float, ceiling: float | None = None) -> tuple[int, int, float | None]:
        """(feeds due by `now`, feeds not due yet, the earliest next-due time of those): what
        `reader refresh --due` says of the feeds it leaves alone. The sync account's feeds are not counted."""
        due, params = _due_sql(now, ceiling)
        row = self.db.execute(
            f"SELECT count(*) FILTER (WHERE d IS NULL OR d <= ?), count(*) FILTER (WHERE d > ?), "
            f"min(CASE WHEN d > ? THEN d END) FROM (SELECT {due} AS d FROM feeds WHERE remote_id IS NULL)",
            (now, now, now, *params),  # in the text's order: the outer ?s come first
        ).fetchone()
        return row[0], row[1], row[2]

    def reschedule(
        self, url: str, policy: Policy, *, failed: bool = False, fresh_for: float | None = None,
        parsed: bool = False, feed_interval: float | None = None, retry_after: float | None = None,
        now: float | None = None,
    ) -> float | None:
        """After a fetch of the feed at `url` (whatever came of it): when it is due next (reader/schedule.py).

        `failed`: the fetch failed (counts towards backing off; a success resets the count).
        `fresh_for`: how long the server said its answer stays fresh (ignored from an error page).
        `parsed`: the body was parsed this time, and `feed_interval` is what the document asked
        (else the last parsed document's ask stands: a 304 or an unchanged body says the same).
        Stores next_due, asked_interval, failures (and feed_interval); returns next_due (None: no such feed).
        """
        now = time.time() if now is None else now
        with self.transaction() as db:
            row = db.execute("SELECT id, every, failures, feed_interval FROM feeds WHERE url = ?", (url,)).fetchone()
            if row is None:
                return None
            feed_id, every, failures, document = row
            if parsed:
                document = feed_interval
            failures = failures + 1 if failed else 0
            asks = [x for x in (document, None if failed else fresh_for) if x is not None and x > 0]
            asked = max(asks) if asks else None
            due = next_due(
                policy, now=now, every=every, asked=asked, post_dates=self._post_dates(db, feed_id),
                failures=failures, retry_after=retry_after,
            )
            db.execute(
                "UPDATE feeds SET next_due = ?, asked_interval = ?, failures = ?, feed_interval = ? WHERE id = ?",
                (due, asked, failures, document, feed_id),
            )
        return due

    def hold(self, url: str, until: float) -> None:
        """A feed not fetched this time (gone, or a Retry-After still running): not due before `until`."""
        with self.transaction() as db:
            db.execute("UPDATE feeds SET next_due = ? WHERE url = ?", (until, url))

    def set_every(self, url: str, every: float | None, policy: Policy, now: float | None = None) -> float | None:
        """The user's interval for one feed (seconds; None: worked out again). The next-due time follows
        at once: counted from the last fetch (due now when never fetched). Returns it (None: due now)."""
        now = time.time() if now is None else now
        with self.transaction() as db:
            row = db.execute(
                "SELECT id, last_checked, asked_interval, failures, retry_after FROM feeds WHERE url = ?", (url,)
            ).fetchone()
            if row is None:
                raise StoreError(f"not subscribed: {url}")
            feed_id, last_checked, asked, failures, retry_after = row
            due = None
            if last_checked is not None:
                due = next_due(
                    policy, now=last_checked, every=every, asked=asked,
                    post_dates=self._post_dates(db, feed_id), failures=failures, retry_after=retry_after,
                )
            db.execute("UPDATE feeds SET every = ?, next_due = ? WHERE id = ?", (every, due, feed_id))
        return due

    def schedule_of(self, url: str) -> tuple[float | None, float | None, float | None, int] | None:
        """(every, next_due, asked_interval, failures) of one feed, for `reader schedule FEED`; None: no such feed."""
        row = self.db.execute(
            "SELECT every, next_due, asked_interval, failures FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    @staticmethod
    def _post_dates(db: sqlite3.Connection, feed_id: int) -> list[float]:
        """The feed's newest dated posts' dates (its posting rhythm), through the (feed_id, published) index."""
        return [r[0] for r in db.execute(
            "SELECT published FROM entries WHERE feed_id = ? AND date_known = 1 ORDER BY published DESC LIMIT ?",
            (feed_id, ACTIVITY_POSTS),
        )]

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


def _due_sql(now: float, ceiling: float | None) -> tuple[str, list[object]]:
    """A feed's due time as SQL, and its parameters: the stored `next_due`, but, with `ceiling` (the
    setting now), never later than the last check plus that ceiling. A ceiling lowered in config.toml
    then holds at once, not after each feed's next fetch under the old one. A feed the user gave its own
    interval, one a server's Retry-After still holds, and one gone (410) keep their stored time."""
    if ceiling is None:
        return "next_due", []
    return (
        "(CASE WHEN next_due IS NOT NULL AND every IS NULL AND gone = 0 AND last_checked IS NOT NULL "
        "AND coalesce(retry_after, 0) <= ? THEN min(next_due, last_checked + ?) ELSE next_due END)",
        [now, ceiling],
    )
