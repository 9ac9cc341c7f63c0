"""What sync keeps in the cache: the account, the server's ids, the subscription outbox, synced posts.

The store knows nothing of HTTP or of the Google Reader API: the sync engine
(reader/sync/engine.py) hands it plain values and decides the order of the steps.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence

from ..models import Account, FeedOp, ParsedEntry
from ..sanitize import clean_line
from .base import chunks, placeholders
from .entries import REMOTE_KEY, EntryStore


class SyncStore(EntryStore):
    # --- the account ----------------------------------------------------------------------

    def get_account(self) -> Account | None:
        row = self.db.execute(
            "SELECT api_url, user, added, last_sync, last_attempt, last_error, last_error_kind, since FROM account"
        ).fetchone()
        return Account(*row) if row else None

    def set_account(self, api_url: str, user: str) -> None:
        """Belong to this account. Logging in again to the same one keeps the sync state."""
        with self.transaction() as db:
            row = db.execute("SELECT api_url, user FROM account").fetchone()
            if row == (api_url, user):
                return
            self._forget_server(db)
            db.execute(
                "INSERT INTO account (id, api_url, user, added) VALUES (1, ?, ?, ?)", (api_url, user, time.time())
            )

    def clear_account(self) -> None:
        """Back to a local cache: posts and feeds stay (fetched from here again), the server's ids go."""
        with self.transaction() as db:
            self._forget_server(db)

    @staticmethod
    def _forget_server(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM account")
        db.execute("DELETE FROM outbox_marks")
        db.execute("DELETE FROM outbox_feeds")
        db.execute("DELETE FROM skipped_items")
        db.execute("UPDATE feeds SET remote_id = NULL WHERE remote_id IS NOT NULL")
        db.execute("UPDATE entries SET remote_id = NULL WHERE remote_id IS NOT NULL")

    def record_sync(
        self, *, error: str | None = None, kind: str = "failed", since: float | None = None, complete: bool = True
    ) -> None:
        """The end of an attempt to reach the server: a whole sync (`complete`) or a push of the outbox.

        Failure records the error and its kind ("auth", "unreachable" or "failed"), which the
        app and `reader account` show. A whole sync that completes clears it; a push (or a
        login) clears only what it proves over, a server unreachable or a login refused: a
        sync that fails on the server's side stays shown until a sync completes.
        """
        now = time.time()
        with self.transaction() as db:
            if error is not None:
                db.execute(
                    "UPDATE account SET last_attempt = ?, last_error = ?, last_error_kind = ?",
                    (now, clean_line(error, 500), kind),
                )
            elif complete:
                db.execute(
                    "UPDATE account SET last_sync = ?, last_attempt = ?, last_error = NULL, last_error_kind = NULL, "
                    "since = coalesce(?, since)",
                    (now, now, since),
                )
            else:
                db.execute(
                    "UPDATE account SET last_error = NULL, last_error_kind = NULL "
                    "WHERE last_error_kind IN ('auth', 'unreachable')"
                )

    # --- subscriptions ----------------------------------------------------------------------

    def queued_feed_ops(self) -> list[FeedOp]:
        return [
            FeedOp(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else json.loads(r[5]))
            for r in self.db.execute(
                "SELECT id, op, url, remote_id, title, categories FROM outbox_feeds ORDER BY id"
            )
        ]

    def forget_feed_op(self, op_id: int, *, url: str | None = None, remote_id: str | None = None) -> None:
        """A subscription change reached the server; a subscribe also learns the server's id for the feed."""
        with self.transaction() as db:
            db.execute("DELETE FROM outbox_feeds WHERE id = ?", (op_id,))
            if url is not None and remote_id is not None:
                db.execute("UPDATE feeds SET remote_id = NULL WHERE remote_id = ? AND url != ?", (remote_id, url))
                db.execute("UPDATE feeds SET remote_id = ? WHERE url = ?", (remote_id, url))
                # Later queued changes to this feed can now name it.
                db.execute("UPDATE outbox_feeds SET remote_id = ? WHERE url = ? AND remote_id IS NULL",
                           (remote_id, url))

    def queue_uploads(self) -> int:
        """Queue every feed of this cache the server doesn't have, to be subscribed there (in its categories)."""
        with self.transaction() as db:
            local = db.execute(
                "SELECT id, url, title FROM feeds WHERE remote_id IS NULL AND url NOT LIKE 'reader:%' "
                "AND url NOT IN (SELECT url FROM outbox_feeds WHERE op = 'subscribe')"
            ).fetchall()
            for feed_id, url, title in local:
                names = [r[0] for r in db.execute(
                    "SELECT c.name FROM feed_categories fc JOIN categories c ON c.id = fc.category_id "
                    "WHERE fc.feed_id = ?", (feed_id,),
                )]
                db.execute(
                    "INSERT INTO outbox_feeds (op, url, title, categories, created) VALUES ('subscribe', ?, ?, ?, ?)",
                    (url, title, json.dumps(names), time.time()),
                )
        return len(local)

    def local_feed_count(self) -> int:
        """Feeds fetched here, not through the server (the bundled welcome feed aside)."""
        return self.db.execute(
            "SELECT count(*) FROM feeds WHERE remote_id IS NULL AND url NOT LIKE 'reader:%'"
        ).fetchone()[0]

    def feeds_with_pending_ops(self) -> set[str]:
        """URLs with a subscription change still queued: the server's older view of them must not win."""
        return {r[0] for r in self.db.execute("SELECT url FROM outbox_feeds")}

    def apply_remote_feeds(
        self, feeds: Sequence[tuple[str, str, str, str | None, Sequence[str]]], keep: set[str]
    ) -> tuple[int, int, int]:
        """Take the server's subscriptions, (stream id, url, title, site url, categories) each, in one transaction.

        A local feed is matched by the server's id, else by URL (a feed subscribed here and on
        the server before the account was added). Feeds that came from the server and are no
        longer there are removed with their posts. URLs in `keep` (a change still queued
        here) are left as they are. Returns (added, renamed or moved, removed).
        """
        added = changed = removed = 0
        with self.transaction() as db:
            rows = db.execute("SELECT id, url, title, site_url, remote_id FROM feeds").fetchall()
            by_remote = {r[4]: r[:4] for r in rows if r[4] is not None}
            by_url = {r[1]: r[:4] for r in rows}
            filed: dict[int, set[str]] = {}
            for feed_id, name in db.execute(
                "SELECT fc.feed_id, c.name FROM feed_categories fc JOIN categories c ON c.id = fc.category_id"
            ):
                filed.setdefault(feed_id, set()).add(name.casefold())
            seen: set[str] = set()
            for stream_id, url, title, site_url, categories in feeds:
                seen.add(stream_id)
                if url in keep:
                    continue
                title = clean_line(title)
                wanted = [c for c in (clean_line(c, 200) for c in categories) if c]
                row = by_remote.get(stream_id) or by_url.get(url)
                if row is None:
                    feed_id = db.execute(
                        "INSERT INTO feeds (url, title, site_url, added, remote_id) VALUES (?, ?, ?, ?, ?)",
                        (url, title, site_url, time.time(), stream_id),
                    ).lastrowid
                    assert feed_id is not None
                    by_url[url] = (feed_id, url, title, site_url)
                    self._set_categories(db, feed_id, wanted)
                    added += 1
                    continue
                feed_id, _, old_title, old_site = row
                if by_remote.get(stream_id) is None or (site_url and site_url != old_site):
                    db.execute("UPDATE feeds SET remote_id = ?, site_url = coalesce(?, site_url) WHERE id = ?",
                               (stream_id, site_url, feed_id))
                change = False
                if title and title != old_title:
                    db.execute("UPDATE feeds SET title = ? WHERE id = ?", (title, feed_id))
                    change = True
                if filed.get(feed_id, set()) != {c.casefold() for c in wanted}:
                    self._set_categories(db, feed_id, wanted)
                    change = True
                changed += change
            # Posts once skipped for want of these feeds are fetched at the next pull.
            db.executemany("DELETE FROM skipped_items WHERE stream_id = ?", ((f[0],) for f in feeds))
            for stream_id, (feed_id, url, _, _) in by_remote.items():
                if stream_id not in seen and url not in keep:
                    self._delete_entries_of(db, feed_id)
                    db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
                    removed += 1
        return added, changed, removed

    # --- posts ------------------------------------------------------------------------------

    def save_remote_entries(
        self, items: Sequence[tuple[str, int, ParsedEntry, bool, bool]], new_ids: list[int] | None = None
    ) -> tuple[int, int, int]:
        """One page of the server's posts, in one transaction: (stream id, item id, post, read, starred).

        Posts are written by the same code as fetched ones (so they are indexed and rendered
        alike). A post fetched here before the feed was synced is adopted (matched by link)
        rather than doubled, and its marks are merged: read or starred on either side is read
        or starred, and what the server lacks is queued for it. Otherwise read and starred come
        from the server, except where a mark made here is still waiting in the outbox: that
        one wins until it is pushed.
        Returns (new, updated, skipped: posts of feeds this cache doesn't have). `new_ids`, when
        given, receives the ids of the posts new to the cache (the config's rules act on them).
        """
        now = time.time()
        new = updated = skipped = 0
        with self.transaction() as db:
            feed_ids = dict(db.execute("SELECT remote_id, id FROM feeds WHERE remote_id IS NOT NULL"))
            by_feed: dict[int, list[tuple[int, ParsedEntry, bool, bool]]] = {}
            orphans: list[tuple[int, str]] = []
            for stream_id, item_id, entry, read, starred in items:
                feed_id = feed_ids.get(stream_id)
                if feed_id is None:
                    orphans.append((item_id, stream_id))
                    continue
                entry.key = f"{REMOTE_KEY}{item_id}"
                by_feed.setdefault(feed_id, []).append((item_id, entry, read, starred))
            skipped = len(orphans)
            db.executemany("INSERT OR REPLACE INTO skipped_items (remote_id, stream_id) VALUES (?, ?)", orphans)
            pending = self._pending_flags(db, [i for group in by_feed.values() for i, *_ in group])
            for feed_id, group in by_feed.items():
                n, u, ids = self._write_entries(
                    db, feed_id, [entry for _, entry, _, _ in group], now, new_ids=new_ids
                )
                new += n
                updated += u
                held = self._marks_with_no_server(db, list(ids.values()))
                rows = []
                for item_id, entry, read, starred in group:
                    entry_id = ids.get(entry.key)
                    if entry_id is None:
                        continue
                    if entry_id in held:
                        was_read, was_starred = held[entry_id]
                        for flag, server, here in (("read", read, was_read), ("starred", starred, was_starred)):
                            if here and not server:
                                db.execute(
                                    "INSERT OR REPLACE INTO outbox_marks (remote_id, flag, value) VALUES (?, ?, 1)",
                                    (item_id, flag),
                                )
                                pending[(item_id, flag)] = True
                    read = pending.get((item_id, "read"), read)
                    starred = pending.get((item_id, "starred"), starred)
                    rows.append((item_id, int(read), int(starred), entry_id))
                db.executemany(
                    "UPDATE OR IGNORE entries SET remote_id = ?, read = ?, starred = ? WHERE id = ?", rows
                )
        return new, updated, skipped

    @staticmethod
    def _marks_with_no_server(db: sqlite3.Connection, entry_ids: Sequence[int]) -> dict[int, tuple[bool, bool]]:
        """(read, starred) of the posts among these that this cache marked with no server to tell.

        They are the posts _write_entries adopted (same row, the server's key now): a copy
        fetched here before the account, or a post of an account since removed, marked while
        the cache was local. A post new to the cache has no server id and no marks either.
        """
        found: dict[int, tuple[bool, bool]] = {}
        for chunk in chunks(list(entry_ids)):
            for entry_id, read, starred in db.execute(
                f"SELECT id, read, starred FROM entries WHERE remote_id IS NULL AND (read = 1 OR starred = 1) "
                f"AND id IN ({placeholders(chunk)})", chunk
            ):
                found[entry_id] = (bool(read), bool(starred))
        return found

    @staticmethod
    def _pending_flags(db: sqlite3.Connection, item_ids: Sequence[int]) -> dict[tuple[int, str], bool]:
        found: dict[tuple[int, str], bool] = {}
        for chunk in chunks(list(item_ids)):
            for remote_id, flag, value in db.execute(
                f"SELECT remote_id, flag, value FROM outbox_marks WHERE remote_id IN ({placeholders(chunk)})", chunk
            ):
                found[(remote_id, flag)] = bool(value)
        return found

    def unknown_remote_ids(self, item_ids: Sequence[int]) -> list[int]:
        """The ids, in their order, of the server's posts this cache doesn't have yet."""
        known: set[int] = set()
        for chunk in chunks(list(item_ids)):
            marks = placeholders(chunk)
            known.update(r[0] for r in self.db.execute(
                f"SELECT remote_id FROM entries WHERE remote_id IN ({marks}) "
                f"UNION ALL SELECT remote_id FROM skipped_items WHERE remote_id IN ({marks})", chunk + chunk
            ))
        return [i for i in dict.fromkeys(item_ids) if i not in known]

    def reconcile_flag(self, flag: str, server_set: Iterable[int]) -> int:
        """Make `flag` on every synced post match the server: set for the ids given, clear for the rest.

        For "read" the server's set is its unread ids, so the meaning is inverted: a post is
        read unless the server lists it as unread. Posts with a mark still in the outbox keep
        theirs. Returns how many posts changed. Linear: a temporary table and two UPDATEs.
        """
        if flag not in ("read", "starred"):
            raise ValueError(flag)
        inside, outside = (0, 1) if flag == "read" else (1, 0)
        with self.transaction() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS sync_ids (id INTEGER PRIMARY KEY)")
            db.execute("DELETE FROM sync_ids")
            db.executemany("INSERT OR IGNORE INTO sync_ids VALUES (?)", ((i,) for i in server_set))
            pending = "remote_id NOT IN (SELECT remote_id FROM outbox_marks WHERE flag = ?)"
            changed = db.execute(
                f"UPDATE entries SET {flag} = ? WHERE remote_id IN (SELECT id FROM sync_ids) AND {flag} != ? "
                f"AND {pending}",
                (inside, inside, flag),
            ).rowcount
            changed += db.execute(
                f"UPDATE entries SET {flag} = ? WHERE remote_id IS NOT NULL AND {flag} != ? "
                f"AND remote_id NOT IN (SELECT id FROM sync_ids) AND {pending}",
                (outside, outside, flag),
            ).rowcount
            db.execute("DELETE FROM sync_ids")
        return changed
