"""The cache's schema, as numbered forward migrations (`PRAGMA user_version`)."""

from __future__ import annotations

import sqlite3

from .sanitize import is_uri_term


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits first, and a migration must be one transaction.
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            site_url TEXT,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            last_updated REAL,
            last_checked REAL,
            last_error TEXT,
            gone INTEGER NOT NULL DEFAULT 0,
            retry_after REAL,
            added REAL NOT NULL
        );
        CREATE TABLE categories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        );
        CREATE TABLE feed_categories (
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            category_id INTEGER NOT NULL REFERENCES categories(id),
            PRIMARY KEY (feed_id, category_id)
        ) WITHOUT ROWID;
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            link TEXT,
            author TEXT NOT NULL DEFAULT '',
            published REAL NOT NULL,
            date_known INTEGER NOT NULL,
            first_seen REAL NOT NULL,
            content BLOB,
            base_url TEXT,
            hash TEXT NOT NULL,
            read INTEGER NOT NULL DEFAULT 0,
            starred INTEGER NOT NULL DEFAULT 0,
            UNIQUE (feed_id, key)
        );
        CREATE INDEX entries_by_date ON entries (published DESC, id DESC);
        CREATE INDEX entries_by_feed ON entries (feed_id, published DESC);
        CREATE INDEX entries_unread ON entries (published DESC, id DESC) WHERE read = 0;
        CREATE INDEX entries_unread_by_feed ON entries (feed_id) WHERE read = 0;
        CREATE INDEX entries_starred ON entries (published DESC, id DESC) WHERE starred = 1;
        CREATE TABLE entry_categories (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            category_id INTEGER NOT NULL REFERENCES categories(id),
            PRIMARY KEY (entry_id, category_id)
        ) WITHOUT ROWID;
        CREATE INDEX entry_categories_by_category ON entry_categories (category_id, entry_id);
        CREATE VIRTUAL TABLE entries_fts USING fts5(
            title, author, body, content='', tokenize='unicode61 remove_diacritics 2'
        );
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    """Posts' categories that are URIs (scheme terms): parsing drops them now, old caches lose them here.

    Categories a user filed a feed under stay, whatever they look like.
    """
    junk = [(cid,) for cid, name in db.execute("SELECT id, name FROM categories").fetchall() if is_uri_term(name)]
    db.executemany("DELETE FROM entry_categories WHERE category_id = ?", junk)
    db.executemany(
        "DELETE FROM categories WHERE id = ? AND id NOT IN (SELECT category_id FROM feed_categories)", junk
    )


# Index i holds the step from user_version i to i + 1. Append; never edit a shipped step.
MIGRATIONS = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)
