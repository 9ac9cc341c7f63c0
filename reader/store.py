"""The SQLite cache: feeds, entries, categories, read state and the search index.

One file, WAL mode, a busy timeout so the TUI and a CLI refresh can share it, and
`PRAGMA user_version` with forward migrations. Every write is one transaction, so a
crash mid-refresh leaves the cache as it was before that feed's write began.

Content is stored zlib-compressed; the full-text index is contentless (it keeps
tokens, not text), which is why deleting from it needs the old text back
(`_fts_delete`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .entry_codec import EncodedEntry, compress, decompress, entry_hash, index_text
from .models import Entry, EntryRow, Feed, ParsedFeed
from .sanitize import clean_line, safe_url
from .schema import MIGRATIONS, SCHEMA_VERSION

# Future dates beyond this are treated as unknown: a post "from 2100" would otherwise
# sit at the top of every list forever.
FUTURE_SLACK = 24 * 3600
# The posts of feeds filed under no category (the sidebar's "Uncategorized").
UNCATEGORIZED_SQL = "e.feed_id NOT IN (SELECT feed_id FROM feed_categories)"


class StoreError(Exception):
    """A cache problem with a message fit for the user."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class CorruptCacheError(StoreError):
    pass


class Store:
    """The cache. Safe to share between threads: each thread gets its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.created = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {self.path.parent}: {exc.strerror}", self.path) from exc
        self.created = not self.path.exists() or self.path.stat().st_size == 0
        try:
            self._migrate(self.db)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise explain_db_error(exc, self.path) from exc

    # --- connections and transactions -------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA busy_timeout = 30000")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.DatabaseError as exc:
                raise explain_db_error(exc, self.path) from exc
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                # Some errors (a full disk) have already rolled the transaction back.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise explain_db_error(exc, self.path) from exc

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer version of reader (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade reader to open it",
                self.path,
            )
        for step in range(version, SCHEMA_VERSION):
            with self.transaction():
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")

    # --- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- feeds --------------------------------------------------------------------------

    def add_feed(self, url: str, title: str = "", categories: Iterable[str] = ()) -> Feed:
        # http(s) only; "reader:" names the app's own bundled feeds.
        if not (safe_url(url) == url or url.startswith("reader:")):
            raise StoreError(f"only http and https feeds can be subscribed to, not {url[:200]!r}")
        with self.transaction() as db:
            db.execute(
                "INSERT INTO feeds (url, title, added) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING",
                (url, clean_line(title), time.time()),
            )
            feed_id = db.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()[0]
            for name in categories:
                category_id = self._category_id(db, name)
                if category_id is not None:
                    db.execute(
                        "INSERT OR IGNORE INTO feed_categories (feed_id, category_id) VALUES (?, ?)",
                        (feed_id, category_id),
                    )
        feed = self.get_feed(url)
        assert feed is not None
        return feed

    def remove_feed(self, url: str) -> bool:
        with self.transaction() as db:
            row = db.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
            if row is None:
                return False
            rows = db.execute("SELECT id, title, author, content FROM entries WHERE feed_id = ?", (row[0],))
            for entry_id, title, author, content in rows.fetchall():
                _fts_delete(db, entry_id, title, author, content)
            db.execute("DELETE FROM feeds WHERE id = ?", (row[0],))
        return True

    def set_feed_categories(self, url: str, categories: Iterable[str]) -> None:
        with self.transaction() as db:
            feed_id = self._feed_id(db, url)
            db.execute("DELETE FROM feed_categories WHERE feed_id = ?", (feed_id,))
            for name in categories:
                category_id = self._category_id(db, name)
                if category_id is not None:
                    db.execute(
                        "INSERT OR IGNORE INTO feed_categories VALUES (?, ?)", (feed_id, category_id)
                    )

    def set_feed_url(self, old: str, new: str) -> bool:
        """Follow a permanent redirect. Refused (False) when `new` is already subscribed."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM feeds WHERE url = ?", (new,)).fetchone():
                return False
            db.execute("UPDATE feeds SET url = ? WHERE url = ?", (new, old))
        return True

    def get_feed(self, url: str) -> Feed | None:
        feeds = self.list_feeds(urls=[url])
        return feeds[0] if feeds else None

    def list_feeds(self, urls: Sequence[str] | None = None) -> list[Feed]:
        sql = (
            "SELECT id, url, title, site_url, last_updated, last_checked, last_error, gone, retry_after "
            "FROM feeds"
        )
        params: list[str] = []
        if urls is not None:
            sql += f" WHERE url IN ({','.join('?' * len(urls))})"
            params = list(urls)
        feeds = [
            Feed(
                id=r[0], url=r[1], title=r[2], site_url=r[3], last_updated=r[4], last_checked=r[5],
                last_error=r[6], gone=bool(r[7]), retry_after=r[8],
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
        for feed_id, total in self.db.execute("SELECT feed_id, count(*) FROM entries GROUP BY feed_id"):
            if feed_id in by_id:
                by_id[feed_id].total = total
        for feed_id, unread in self.db.execute(
            "SELECT feed_id, count(*) FROM entries WHERE read = 0 GROUP BY feed_id"
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

    def save_parsed(
        self,
        url: str,
        parsed: ParsedFeed,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        encoded: list[EncodedEntry] | None = None,
    ) -> tuple[int, int]:
        """Store one fetch of a feed in one transaction. Returns (new, updated) entry counts.

        Entries are matched on their key; a changed entry is rewritten in place and keeps
        its read and starred marks.
        """
        now = time.time()
        new = updated = 0
        with self.transaction() as db:
            feed_id = self._feed_id(db, url)
            db.execute(
                "UPDATE feeds SET title = CASE WHEN ? != '' THEN ? ELSE title END, site_url = ?, "
                "etag = ?, last_modified = ?, body_hash = ?, last_updated = ?, last_checked = ?, "
                "last_error = NULL, gone = 0, retry_after = NULL WHERE id = ?",
                (parsed.title, parsed.title, parsed.site_url, etag, last_modified, body_hash, now, now, feed_id),
            )
            existing = {
                key: (entry_id, entry_hash, published)
                for key, entry_id, entry_hash, published in db.execute(
                    "SELECT key, id, hash, published FROM entries WHERE feed_id = ?", (feed_id,)
                )
            } if parsed.entries else {}
            categories: dict[str, int | None] = {}
            seen: set[str] = set()
            # Collected and written with executemany: one call instead of thousands.
            fts_rows: list[tuple[int, str, str, str]] = []
            category_rows: list[tuple[int, int]] = []
            for offset, entry in enumerate(parsed.entries):
                if entry.key in seen:
                    continue  # a duplicate guid within one document: the first one wins
                seen.add(entry.key)
                code = encoded[offset] if encoded is not None else None
                digest = code.hash if code else entry_hash(entry)
                old = existing.get(entry.key)
                if old is not None and old[1] == digest:
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
                    new += 1
                else:
                    entry_id = old[0]
                    _fts_delete(db, entry_id, *db.execute(
                        "SELECT title, author, content FROM entries WHERE id = ?", (entry_id,)
                    ).fetchone())
                    db.execute(
                        "UPDATE entries SET title = ?, link = ?, author = ?, published = ?, date_known = ?, "
                        "content = ?, base_url = ?, hash = ? WHERE id = ?",
                        (entry.title, entry.link, entry.author, published, int(date_known), blob,
                         entry.base_url, digest, entry_id),
                    )
                    db.execute("DELETE FROM entry_categories WHERE entry_id = ?", (entry_id,))
                    updated += 1
                fts_rows.append(
                    (entry_id, entry.title, entry.author, code.index_text if code else index_text(entry.content))
                )
                for name in entry.categories:
                    if name not in categories:
                        categories[name] = self._category_id(db, name)
                    category_id = categories[name]
                    if category_id is not None:
                        category_rows.append((entry_id, category_id))
            db.executemany("INSERT INTO entries_fts (rowid, title, author, body) VALUES (?, ?, ?, ?)", fts_rows)
            db.executemany("INSERT OR IGNORE INTO entry_categories VALUES (?, ?)", category_rows)
        return new, updated

    # --- entries ------------------------------------------------------------------------

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
        for chunk in _chunks(ids):
            sql = self._ROW_SQL + f" WHERE e.id IN ({','.join('?' * len(chunk))})"
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
        return Entry(
            id=row[0], feed_id=row[1], feed_title=row[2], feed_url=row[3], title=row[4], link=row[5],
            author=row[6], published=row[7], date_known=bool(row[8]), read=bool(row[9]),
            starred=bool(row[10]), categories=self.entry_categories([row[0]]).get(row[0], []),
            content=decompress(row[11]), base_url=row[12],
        )

    def entry_categories(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Each entry's own categories plus its feed's, deduplicated case-insensitively."""
        result: dict[int, list[str]] = {}
        seen: dict[int, set[str]] = {}  # a set per entry: an old cache may hold 20,000 names on one post
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
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

    def set_flag(self, ids: Iterable[int], flag: str, value: bool) -> int:
        if flag not in ("read", "starred"):
            raise ValueError(flag)
        ids = list(ids)
        changed = 0
        with self.transaction() as db:
            for chunk in _chunks(ids):
                changed += db.execute(
                    f"UPDATE entries SET {flag} = ? WHERE {flag} != ? AND id IN ({','.join('?' * len(chunk))})",
                    [int(value), int(value), *chunk],
                ).rowcount
        return changed

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        ids = list(ids)
        found: set[int] = set()
        for chunk in _chunks(ids):
            found.update(
                r[0] for r in self.db.execute(
                    f"SELECT id FROM entries WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            )
        return found

    # What a category holds, one definition for the sidebar, the `c` picker and the list
    # (Scope.to_sql and `category:` in the query language): the posts of the feeds filed
    # under it plus the posts their feed tagged with that name, each post once. Names
    # match case-insensitively (categories.name is COLLATE NOCASE).
    _CATEGORY_MEMBERS = (
        "SELECT category_id, entry_id FROM entry_categories "
        "UNION SELECT fc.category_id, e.id FROM feed_categories fc JOIN entries e ON e.feed_id = fc.feed_id"
    )

    def category_counts(self) -> list[tuple[str, int, int]]:
        """(category, unread, total) over entry and feed categories, most used first."""
        rows = self.db.execute(
            f"SELECT c.name, coalesce(sum(e.read = 0), 0), count(*) FROM categories c "
            f"JOIN ({self._CATEGORY_MEMBERS}) m ON m.category_id = c.id "
            f"JOIN entries e ON e.id = m.entry_id "
            f"GROUP BY c.id ORDER BY count(*) DESC, c.name COLLATE NOCASE"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def category_unread(self) -> dict[str, int]:
        """Unread posts per category (same definition as category_counts), keyed by casefolded name.

        Only the categories that have any unread post appear. The key "" holds the posts of
        feeds filed under no category (the sidebar's Uncategorized).
        """
        result = {
            name.casefold(): unread
            for name, unread in self.db.execute(
                "SELECT c.name, count(*) FROM categories c JOIN ("
                "SELECT ec.category_id, ec.entry_id FROM entry_categories ec JOIN entries e ON e.id = ec.entry_id "
                "WHERE e.read = 0 UNION SELECT fc.category_id, e.id FROM feed_categories fc "
                "JOIN entries e ON e.feed_id = fc.feed_id WHERE e.read = 0"
                ") m ON m.category_id = c.id GROUP BY c.id"
            )
        }
        result[""] = self.count_entries(f"e.read = 0 AND {UNCATEGORIZED_SQL}")
        return result

    def entry_flags(self, entry_id: int) -> tuple[bool, bool] | None:
        """(read, starred) as stored now: a toggle acts on these, not on a row that may be stale."""
        row = self.db.execute("SELECT read, starred FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return (bool(row[0]), bool(row[1])) if row else None

    def count_entries(self, where: str = "", params: Sequence[object] = ()) -> int:
        sql = "SELECT count(*) FROM entries e" + (f" WHERE {where}" if where else "")
        return self.db.execute(sql, list(params)).fetchone()[0]

    def unread_ids(self) -> set[int]:
        """Every unread post's id, through the partial index: a few ms at 100,000 posts."""
        return {row[0] for row in self.db.execute("SELECT id FROM entries WHERE read = 0")}

    def feed_post_counts(self, url: str) -> tuple[int, int]:
        """(posts, starred posts) of one feed: what removing it would lose."""
        total, starred = self.db.execute(
            "SELECT count(*), coalesce(sum(e.starred), 0) FROM entries e JOIN feeds f ON f.id = e.feed_id "
            "WHERE f.url = ?",
            (url,),
        ).fetchone()
        return total, starred

    def change_marker(self) -> tuple[object, ...]:
        """Changes whenever the cache changes: posts or feeds added or removed, a feed checked, a mark set.

        `PRAGMA data_version` moves when another connection (another process, `reader mark`,
        or another thread of this one) commits; the rest catches this connection's own
        writes of new posts and feeds. Cheap at any size (index lookups on small tables), so
        a client can poll it to notice another process's changes.
        """
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        return (version, *self.db.execute(
            "SELECT (SELECT max(id) FROM entries), (SELECT count(*) FROM feeds), "
            "(SELECT max(id) FROM feeds), (SELECT max(last_checked) FROM feeds)"
        ).fetchone())

    def counts(self) -> tuple[int, int, int]:
        """(total, unread, starred) over the whole cache."""
        total = self.db.execute("SELECT count(*) FROM entries").fetchone()[0]
        unread = self.db.execute("SELECT count(*) FROM entries WHERE read = 0").fetchone()[0]
        starred = self.db.execute("SELECT count(*) FROM entries WHERE starred = 1").fetchone()[0]
        return total, unread, starred

    # --- helpers ------------------------------------------------------------------------

    def _feed_id(self, db: sqlite3.Connection, url: str) -> int:
        row = db.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise StoreError(f"not subscribed: {url}")
        return row[0]

    @staticmethod
    def _category_id(db: sqlite3.Connection, name: str) -> int | None:
        name = clean_line(name, 200)
        if not name:
            return None
        db.execute("INSERT OR IGNORE INTO categories (name) VALUES (?)", (name,))
        return db.execute("SELECT id FROM categories WHERE name = ?", (name,)).fetchone()[0]


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in slices small enough for one `IN (?, ...)` (SQLite caps bound parameters)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _row(r: tuple) -> EntryRow:
    return EntryRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), r[7], r[8], bool(r[9]), r[10])


def _fts_delete(db: sqlite3.Connection, entry_id: int, title: str, author: str, content: bytes | None) -> None:
    db.execute(
        "INSERT INTO entries_fts (entries_fts, rowid, title, author, body) VALUES ('delete', ?, ?, ?, ?)",
        (entry_id, title, author, index_text(decompress(content))),
    )


def explain_db_error(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    """An sqlite3 error as a StoreError whose message names the file and says what is wrong."""
    text = str(exc)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return CorruptCacheError(f"the cache file {path} is damaged ({text})", path)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the cache file {path} is read-only ({text})", path)
    if "full" in text or "disk I/O" in text:
        return StoreError(f"cannot write the cache file {path} ({text})", path)
    if "unable to open" in text:
        return StoreError(f"cannot open the cache file {path} ({text})", path)
    return StoreError(f"cache error in {path}: {text}", path)


def move_aside(path: Path) -> Path:
    """Move a damaged cache (and its WAL files) out of the way; returns where it went."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.replace(target.with_name(target.name + suffix))
    return target
