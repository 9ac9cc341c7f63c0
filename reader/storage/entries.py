"""Posts: writing one fetch of a feed, and reading posts back for lists, the reading pane and the CLI.

Content is stored zlib-compressed; the full-text index is contentless (it keeps tokens,
not text), which is why deleting from it needs the old text back (`fts_delete`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence

from ..entry_codec import EncodedEntry, compress, decompress, entry_hash, index_text
from ..models import Enclosure, Entry, EntryRow, ParsedEntry, ParsedFeed
from ..sanitize import clean_message
from .articles import delete_articles_of_feed
from .base import StoreBase, chunks, placeholders
from .labels import tags_of

# Future dates beyond this are treated as unknown: a post "from 2100" would otherwise
# sit at the top of every list forever.
FUTURE_SLACK = 24 * 3600
REMOTE_KEY = "greader:"  # entries.key of a synced post: the server's item id follows


class EntryStore(StoreBase):
    def save_parsed(
        self,
        url: str,
        parsed: ParsedFeed,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        encoded: list[EncodedEntry] | None = None,
        new_ids: list[int] | None = None,
    ) -> tuple[int, int]:
        """Store one fetch of a feed in one transaction. Returns (new, updated) entry counts.

        Entries are matched on their key; a changed entry is rewritten in place and keeps
        its read and starred marks. `new_ids`, when given, receives the ids of the new posts
        (the refresh fetches their full articles).
        """
        now = time.time()
        with self.transaction() as db:
            feed_id = self._feed_id(db, url)
            db.execute(
                # A title the user chose (own_title) outlives every fetch.
                "UPDATE feeds SET title = CASE WHEN ? != '' AND own_title = 0 THEN ? ELSE title END, site_url = ?, "
                "etag = ?, last_modified = ?, body_hash = ?, last_updated = ?, last_checked = ?, "
                "last_error = NULL, gone = 0, retry_after = NULL WHERE id = ?",
                (parsed.title, parsed.title, parsed.site_url, etag, last_modified, body_hash, now, now, feed_id),
            )
            new, updated, _ = self._write_entries(db, feed_id, parsed.entries, now, encoded, new_ids)
        return new, updated

    def import_entries(
        self, url: str, entries: Sequence[ParsedEntry], new_ids: list[int] | None = None
    ) -> tuple[int, int]:
        """Store posts that came from elsewhere than a fetch of the feed (another reader's cache).

        Written like fetched posts (same keys, index, adoption), but the feed's fetch state is
        left alone: it was not fetched, and its next refresh asks the server as it would have.
        Returns (new, updated); `new_ids`, when given, receives the new posts' ids.
        """
        with self.transaction() as db:
            new, updated, _ = self._write_entries(db, self._feed_id(db, url), entries, time.time(), new_ids=new_ids)
        return new, updated

    def _write_entries(
        self,
        db: sqlite3.Connection,
        feed_id: int,
        entries: Sequence[ParsedEntry],
        now: float,
        encoded: Sequence[EncodedEntry] | None = None,
        new_ids: list[int] | None = None,
    ) -> tuple[int, int, dict[str, int]]:
        """Insert or rewrite one feed's posts inside the caller's transaction.

        Returns (new, updated, {key: entry id} for every post written or already current).
        The one place posts are written, so fetched and synced posts are stored, indexed
        and later rendered the same way.
        """
        new = updated = 0
        ids: dict[str, int] = {}
        existing: dict[str, tuple[int, str, float]] = {}
        # The same post under another key, to adopt (marks and all) rather than double.
        # Matched by link (by title when there is none). A fetched post may be an earlier
        # synced copy (the account went); a synced post may be a fetched copy (the account
        # came), or the copy of a server this cache no longer syncs with (no server id).
        adoptable: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}  # by: synced entries?
        rows = db.execute(
            "SELECT key, id, hash, published, link, title, remote_id FROM entries WHERE feed_id = ?", (feed_id,)
        )
        for key, entry_id, digest, published, link, title, remote_id in rows if entries else ():
            existing[key] = (entry_id, digest, published)
            match = same_post_key(link, title)
            if match:
                synced_copy = key.startswith(REMOTE_KEY)
                if not synced_copy or remote_id is None:
                    adoptable[True].setdefault(match, []).append(key)
                if synced_copy:
                    adoptable[False].setdefault(match, []).append(key)
        incoming = {entry.key for entry in entries}
        categories: dict[str, int | None] = {}
        # Collected and written with executemany: one call instead of thousands.
        fts_rows: list[tuple[int, str, str, str]] = []
        category_rows: list[tuple[int, int]] = []
        enclosure_rows: list[tuple[int, int, str, str, int | None, float | None]] = []
        for offset, entry in enumerate(entries):
            if entry.key in ids:
                continue  # a duplicate guid within one document: the first one wins
            code = encoded[offset] if encoded is not None else None
            digest = code.hash if code else entry_hash(entry)
            old = existing.get(entry.key)
            adopted = False
            candidates = adoptable[entry.key.startswith(REMOTE_KEY)].get(same_post_key(entry.link, entry.title) or "")
            while old is None and candidates:
                key = candidates.pop()
                if key in incoming or key not in existing:
                    continue  # that one is this document's own, or already adopted
                old = existing.pop(key)
                db.execute("UPDATE entries SET key = ? WHERE id = ?", (entry.key, old[0]))
                adopted = True  # rewritten whatever its hash: the other copy's text may differ
            if old is not None and not adopted and old[1] == digest:
                ids[entry.key] = old[0]
                continue
            published, date_known = entry.published, True
            if published is None or published > now + FUTURE_SLACK:
                # Keep a stable order within one fetch: earlier in the document is newer.
                published, date_known = (old[2] if old else now - offset * 1e-3), False
            blob = code.blob if code else compress(entry.content)
            if old is None:
                entry_id = db.execute(
                    "INSERT INTO entries (feed_id, key, title, link, author, published, date_known, "
                    "first_seen, content, base_url, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (feed_id, entry.key, entry.title, entry.link, entry.author, published,
                     int(date_known), now, blob, entry.base_url, digest),
                ).lastrowid
                assert entry_id is not None
                new += 1
                if new_ids is not None:
                    new_ids.append(entry_id)
            else:
                entry_id = old[0]
                # Through write_index, as the inserts are: a held-back insert of this post is then
                # deleted after it is written, in order.
                title, author, content = db.execute(
                    "SELECT title, author, content FROM entries WHERE id = ?", (entry_id,)
                ).fetchone()
                self.write_index(db, FTS_DELETE, [(entry_id, title, author, index_text(decompress(content)))])
                db.execute(
                    "UPDATE entries SET title = ?, link = ?, author = ?, published = ?, date_known = ?, "
                    "content = ?, base_url = ?, hash = ? WHERE id = ?",
                    (entry.title, entry.link, entry.author, published, int(date_known), blob,
                     entry.base_url, digest, entry_id),
                )
                db.execute("DELETE FROM entry_categories WHERE entry_id = ?", (entry_id,))
                db.execute("DELETE FROM enclosures WHERE entry_id = ?", (entry_id,))
                updated += 1
            ids[entry.key] = entry_id
            enclosure_rows += [
                (entry_id, n, e.url, e.type, e.length, e.duration) for n, e in enumerate(entry.enclosures)
            ]
            fts_rows.append(
                (entry_id, entry.title, entry.author, code.index_text if code else index_text(entry.content))
            )
            for name in entry.categories:
                if name not in categories:
                    categories[name] = self._category_id(db, name)
                category_id = categories[name]
                if category_id is not None:
                    category_rows.append((entry_id, category_id))
        self.write_index(db, "INSERT INTO entries_fts (rowid, title, author, body) VALUES (?, ?, ?, ?)", fts_rows)
        db.executemany("INSERT OR IGNORE INTO entry_categories VALUES (?, ?)", category_rows)
        db.executemany("INSERT OR REPLACE INTO enclosures VALUES (?, ?, ?, ?, ?, ?)", enclosure_rows)
        return new, updated, ids

    def _delete_entries_of(self, db: sqlite3.Connection, feed_id: int) -> None:
        """Drop a feed's posts and their articles from the search index (the rows go with the feed, by cascade)."""
        self.sync_index()  # in a batch, this feed's held-back rows must be in the index to be deleted from it
        delete_articles_of_feed(db, feed_id)
        rows = db.execute("SELECT id, title, author, content FROM entries WHERE feed_id = ?", (feed_id,))
        for entry_id, title, author, content in rows.fetchall():
            fts_delete(db, entry_id, title, author, content)

    # --- reading ------------------------------------------------------------------------

    _ROW_SQL = (
        "SELECT e.id, e.feed_id, coalesce(nullif(f.title, ''), f.url), e.title, e.published, e.read, "
        "e.starred, e.author, e.link, e.date_known, f.url FROM entries e JOIN feeds f ON f.id = e.feed_id"
    )

    def entry_ids(self, where: str = "", params: Sequence[object] = ()) -> list[int]:
        """Ids of matching entries, newest first: the backbone of the virtual post list."""
        sql = "SELECT e.id FROM entries e"
        if where:
            sql += " WHERE " + where
        sql += " ORDER BY e.published DESC, e.id DESC"
        return [r[0] for r in self.db.execute(sql, list(params))]

    def entry_rows(self, ids: Sequence[int]) -> list[EntryRow]:
        """Rows for the given ids, in the given order (ids that vanished are left out)."""
        if not ids:
            return []
        found: dict[int, EntryRow] = {}
        for chunk in chunks(ids):
            sql = self._ROW_SQL + f" WHERE e.id IN ({placeholders(chunk)})"
            for r in self.db.execute(sql, chunk):
                found[r[0]] = _row(r)
        return [found[i] for i in ids if i in found]

    def list_entries(self, where: str = "", params: Sequence[object] = (), limit: int | None = None) -> list[EntryRow]:
        """Newest first; with a limit this reads O(limit) rows through the date index."""
        sql = self._ROW_SQL
        if where:
            sql += " WHERE " + where
        sql += " ORDER BY e.published DESC, e.id DESC"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_row(r) for r in self.db.execute(sql, args)]

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self.db.execute(
            "SELECT e.id, e.feed_id, coalesce(nullif(f.title, ''), f.url), f.url, e.title, e.link, e.author, "
            "e.published, e.date_known, e.read, e.starred, e.content, e.base_url "
            "FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE e.id = ?",
            (entry_id,),
        ).fetchone()
        if row is None:
            return None
        # The article row holds both the last article fetched (content, may be NULL) and why the
        # last fetch failed (error, NULL after a success): a failed refetch keeps the article.
        article = self.db.execute(
            "SELECT content, url, error FROM articles WHERE entry_id = ?", (entry_id,)
        ).fetchone()
        content = article[0] if article is not None else None
        error = article[2] if article is not None else None
        return Entry(
            id=row[0], feed_id=row[1], feed_title=row[2], feed_url=row[3], title=row[4], link=row[5],
            author=row[6], published=row[7], date_known=bool(row[8]), read=bool(row[9]),
            starred=bool(row[10]), categories=self.entry_categories([row[0]]).get(row[0], []),
            content=decompress(row[11]), base_url=row[12], enclosures=self.entry_enclosures(row[0]),
            article=decompress(content) if content is not None else None,
            article_url=article[1] if content is not None else None,
            article_error=clean_message(error, 500) if error else None,
            tags=tags_of(self.db, [entry_id]).get(entry_id, []),
        )

    def entry_enclosures(self, entry_id: int) -> list[Enclosure]:
        return [
            Enclosure(url, kind, length, duration)
            for url, kind, length, duration in self.db.execute(
                "SELECT url, type, length, duration FROM enclosures WHERE entry_id = ? ORDER BY position", (entry_id,)
            )
        ]

    def entry_categories(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Each entry's own categories plus its feed's, deduplicated case-insensitively."""
        result: dict[int, list[str]] = {}
        seen: dict[int, set[str]] = {}  # a set per entry: an old cache may hold 20,000 names on one post
        for chunk in chunks(ids):
            marks = placeholders(chunk)
            rows = self.db.execute(
                f"SELECT ec.entry_id, c.name FROM entry_categories ec JOIN categories c ON c.id = ec.category_id "
                f"WHERE ec.entry_id IN ({marks}) "
                f"UNION ALL SELECT e.id, c.name FROM entries e JOIN feed_categories fc ON fc.feed_id = e.feed_id "
                f"JOIN categories c ON c.id = fc.category_id WHERE e.id IN ({marks})",
                chunk + chunk,
            )
            for entry_id, name in rows:
                folded = seen.setdefault(entry_id, set())
                if name.casefold() not in folded:
                    folded.add(name.casefold())
                    result.setdefault(entry_id, []).append(name)
        return result

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        ids = list(ids)
        found: set[int] = set()
        for chunk in chunks(ids):
            found.update(
                r[0] for r in self.db.execute(f"SELECT id FROM entries WHERE id IN ({placeholders(chunk)})", chunk)
            )
        return found


def same_post_key(link: str | None, title: str) -> str | None:
    """What tells that a fetched post and a synced one are the same post: its link, else its title."""
    if link:
        return link
    return f"\x00{title}" if title else None


def _row(r: tuple) -> EntryRow:
    return EntryRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), r[7], r[8], bool(r[9]), r[10])


FTS_DELETE = "INSERT INTO entries_fts (entries_fts, rowid, title, author, body) VALUES ('delete', ?, ?, ?, ?)"


def fts_delete(db: sqlite3.Connection, entry_id: int, title: str, author: str, content: bytes | None) -> None:
    db.execute(FTS_DELETE, (entry_id, title, author, index_text(decompress(content))))
