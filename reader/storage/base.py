"""What every part of the store stands on: the connection per thread, transactions, migrations, meta.

One file, WAL mode, a busy timeout so the app and a CLI refresh can share it, and
`PRAGMA user_version` with forward migrations. Every write is one transaction, so a
crash mid-write leaves the cache as it was before that write began.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..sanitize import clean_line
from ..schema import MIGRATIONS, SCHEMA_VERSION


class StoreError(Exception):
    """A cache problem with a message fit for the user."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class CorruptCacheError(StoreError):
    pass


class StoreBase:
    """Connections, transactions and migrations. Safe to share between threads: each gets its own connection."""

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
        if getattr(self._local, "index_rows", None) is not None:
            # Inside a group commit (batch()): a savepoint keeps this write all or nothing.
            with self._savepoint(db):
                yield db
            return
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

    @contextmanager
    def _savepoint(self, db: sqlite3.Connection) -> Iterator[None]:
        index = self._local.index_rows
        written = len(index)
        try:
            db.execute("SAVEPOINT one_write")
            try:
                yield
            except BaseException:
                del index[written:]  # this write's search-index rows go with it
                if db.in_transaction:  # a full disk may have ended the whole transaction already
                    db.execute("ROLLBACK TO one_write")
                    db.execute("RELEASE one_write")
                raise
            db.execute("RELEASE one_write")
        except sqlite3.DatabaseError as exc:
            raise explain_db_error(exc, self.path) from exc

    def write_index(self, db: sqlite3.Connection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        """`db.executemany(sql, rows)` on the search index: at once, or in a batch at its end (see batch())."""
        index = getattr(self._local, "index_rows", None)  # a list only inside a batch
        if index is None:
            db.executemany(sql, rows)
        elif rows:
            index.append((sql, rows))

    def sync_index(self) -> None:
        """Write the search-index rows a batch holds back: a write that searches calls this first."""
        index = getattr(self._local, "index_rows", None)
        if index:
            db = self.db
            for sql, rows in index:
                db.executemany(sql, rows)
            index.clear()

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """Several writes of this thread, one commit: each `transaction()` inside is a savepoint, still
        all or nothing by itself, and nothing is visible to other connections before the commit.

        For the refresh's writer thread: a commit costs the search index a flush of its pending
        terms into a new segment, and merging those segments; one per feed was a third of the
        writes' time. The caller must not report any write inside as done before this returns.

        The posts' search-index rows (write_index) are held back and written together at the end:
        FTS5 flushes its pending terms at every savepoint once it has been written in a transaction,
        which cost as much again. A write inside that searches the posts calls sync_index() first.
        """
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            self._local.index_rows = []  # also what tells transaction() it runs inside a batch
            try:
                yield db
                self.sync_index()
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                self._local.index_rows = None
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

    # --- shared helpers -------------------------------------------------------------------

    @staticmethod
    def _syncing(db: sqlite3.Connection) -> bool:
        """True when the cache belongs to a sync account: changes then go into the outbox too."""
        return db.execute("SELECT 1 FROM account").fetchone() is not None

    @staticmethod
    def _feed_id(db: sqlite3.Connection, url: str) -> int:
        row = db.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise StoreError(f"not subscribed: {url}")
        return row[0]

    def _file_under(self, db: sqlite3.Connection, feed_id: int, categories: Iterable[str]) -> None:
        """File a feed under these categories too (names cleaned; empty ones skipped)."""
        for name in categories:
            category_id = self._category_id(db, name)
            if category_id is not None:
                db.execute(
                    "INSERT OR IGNORE INTO feed_categories (feed_id, category_id) VALUES (?, ?)",
                    (feed_id, category_id),
                )

    def _set_categories(self, db: sqlite3.Connection, feed_id: int, categories: Iterable[str]) -> None:
        """File a feed under exactly these categories."""
        db.execute("DELETE FROM feed_categories WHERE feed_id = ?", (feed_id,))
        self._file_under(db, feed_id, categories)

    @staticmethod
    def _category_id(db: sqlite3.Connection, name: str) -> int | None:
        name = clean_line(name, 200)
        if not name:
            return None
        db.execute("INSERT OR IGNORE INTO categories (name) VALUES (?)", (name,))
        return db.execute("SELECT id FROM categories WHERE name = ?", (name,)).fetchone()[0]


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in slices small enough for one `IN (?, ...)` (SQLite caps bound parameters)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def placeholders(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


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
