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


def _v3(db: sqlite3.Connection) -> None:
    """Sync: one account per cache, the server's ids for feeds and posts, and the outbox.

    The outbox holds what was changed here and not yet pushed: marks (one row per post and
    flag; a newer mark replaces an older one and gets a new row id) and subscription changes
    (in the order they were made). The account's token is not here: it lives in its own
    0600 file, so the cache can be copied or shared without it.
    """
    _script(
        db,
        """
        CREATE TABLE account (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            api_url TEXT NOT NULL,
            user TEXT NOT NULL,
            added REAL NOT NULL,
            last_sync REAL,
            last_attempt REAL,
            last_error TEXT,
            since REAL
        );
        ALTER TABLE feeds ADD COLUMN remote_id TEXT;
        CREATE UNIQUE INDEX feeds_by_remote_id ON feeds (remote_id) WHERE remote_id IS NOT NULL;
        ALTER TABLE entries ADD COLUMN remote_id INTEGER;
        CREATE UNIQUE INDEX entries_by_remote_id ON entries (remote_id) WHERE remote_id IS NOT NULL;
        CREATE TABLE outbox_marks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            remote_id INTEGER NOT NULL,
            flag TEXT NOT NULL,
            value INTEGER NOT NULL,
            UNIQUE (remote_id, flag)
        );
        CREATE TABLE outbox_feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            op TEXT NOT NULL,
            url TEXT NOT NULL,
            remote_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            categories TEXT,
            created REAL NOT NULL
        );
        """,
    )


def _v4(db: sqlite3.Connection) -> None:
    """What the last sync error calls for ("auth", "unreachable", "failed"), so no one reads it from the text."""
    db.execute("ALTER TABLE account ADD COLUMN last_error_kind TEXT")


def _v5(db: sqlite3.Connection) -> None:
    """The server's posts of feeds this cache doesn't have (a feed URL reader won't take, or a race with a
    new subscription): remembered, so a sync doesn't fetch them again every time, and forgotten when
    their feed arrives."""
    db.execute("CREATE TABLE skipped_items (remote_id INTEGER PRIMARY KEY, stream_id TEXT NOT NULL)")
    db.execute("CREATE INDEX skipped_items_by_stream ON skipped_items (stream_id)")


def _v6(db: sqlite3.Connection) -> None:
    """Enclosures: the files a post carries (podcast episodes, videos), in the feed's order."""
    _script(
        db,
        """
        CREATE TABLE enclosures (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            url TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT '',
            length INTEGER,
            duration REAL,
            PRIMARY KEY (entry_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX enclosures_by_type ON enclosures (type, entry_id);
        """,
    )


def _v7(db: sqlite3.Connection) -> None:
    """Full articles: each feed's mode (on, off, auto) and the article fetched for a post.

    `articles.content` is compressed like `entries.content`; `error` says why the last fetch
    failed (the article from an earlier fetch, if any, stays). The article's text has its own
    contentless index: deleting from it needs the old text, which `articles.content` keeps.
    """
    _script(
        db,
        """
        ALTER TABLE feeds ADD COLUMN full_text TEXT NOT NULL DEFAULT 'auto';
        CREATE TABLE articles (
            entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            content BLOB,
            etag TEXT,
            last_modified TEXT,
            fetched REAL NOT NULL,
            error TEXT
        );
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            body, content='', tokenize='unicode61 remove_diacritics 2'
        );
        """,
    )


def _v8(db: sqlite3.Connection) -> None:
    """Retrying articles whose fetch failed for a passing reason (a timeout, the network, a 5xx).

    `error_kind` says what kind of failure the last one was (reader/storage/articles.py:
    ERROR_KINDS), `failures` how many fetches in a row failed, `retry_at` when a refresh may
    ask again (NULL: never by itself; a permanent failure, or an article stored). Rows written
    before this step only have the message: their kind is read from it once, here, by the words
    reader's own fetch put first; an unknown message is no reason to ask again.
    """
    _script(
        db,
        """
        ALTER TABLE articles ADD COLUMN error_kind TEXT;
        ALTER TABLE articles ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE articles ADD COLUMN retry_at REAL;
        CREATE INDEX articles_retry ON articles (retry_at) WHERE content IS NULL AND retry_at IS NOT NULL
        """,
    )
    legacy = [
        ("out_of_time", "not fetched: the refresh's time%"),
        ("timeout", "timed out%"),
        ("network", "connection refused%"),
        ("network", "could not resolve%"),
        ("network", "could not connect%"),
        ("network", "connection broken%"),
        ("network", "network error%"),
        ("server", "HTTP 5%"),
        ("server", "HTTP 429%"),
    ]
    for kind, pattern in legacy:
        db.execute(
            "UPDATE articles SET error_kind = ?, failures = 1, retry_at = fetched "
            "WHERE error IS NOT NULL AND error_kind IS NULL AND error LIKE ?",
            (kind, pattern),
        )
    # What is left failed for a reason not worth asking again about (a 404, no article on the page).
    db.execute("UPDATE articles SET error_kind = 'failed', failures = 1 WHERE error IS NOT NULL AND error_kind IS NULL")
    # An article already stored is never refetched by a refresh: nothing to retry.
    db.execute("UPDATE articles SET retry_at = NULL WHERE content IS NOT NULL")


def _v9(db: sqlite3.Connection) -> None:
    """Power use: hidden posts, the user's tags, saved searches, and each feed's schedule.

    - `entries.hidden`: a rule (or the user) hid the post; it stays in the cache but is listed
      only by a query asking `is:hidden`. Few posts are hidden, so queries exclude them with
      `e.id NOT IN (SELECT id FROM entries WHERE hidden = 1)` over the partial index below,
      which keeps the date and unread indexes covering.
    - `tags` / `entry_tags`: labels the user puts on posts, apart from the feed's categories.
      A tag maps to a Google Reader user label (`user/-/label/NAME`); `remote_id` holds the
      server's id for it once synced, and `entry_tags.added` orders a post's tags.
    - `saved_searches`: a query with a name, shown in the sidebar with its unread count.
    - `feeds.next_due` (NULL: due now), `feeds.every` (the user's interval for this feed, seconds;
      NULL: worked out), `feeds.asked_interval` (the least interval the feed or its server asked
      for on the last fetch: RSS ttl, sy:updatePeriod, Cache-Control max-age, Expires) and
      `feeds.failures` (fetches in a row that failed, for backing off).
    """
    _script(
        db,
        """
        ALTER TABLE entries ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX entries_hidden ON entries (id) WHERE hidden = 1;
        CREATE TABLE tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            remote_id TEXT
        );
        CREATE TABLE entry_tags (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
            added REAL NOT NULL,
            PRIMARY KEY (entry_id, tag_id)
        ) WITHOUT ROWID;
        CREATE INDEX entry_tags_by_tag ON entry_tags (tag_id, entry_id);
        CREATE TABLE saved_searches (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            query TEXT NOT NULL,
            added REAL NOT NULL
        );
        ALTER TABLE feeds ADD COLUMN next_due REAL;
        ALTER TABLE feeds ADD COLUMN every REAL;
        ALTER TABLE feeds ADD COLUMN asked_interval REAL;
        ALTER TABLE feeds ADD COLUMN failures INTEGER NOT NULL DEFAULT 0
        """,
    )


def _v10(db: sqlite3.Connection) -> None:
    """`feeds.feed_interval`: the interval the feed document itself asked for at its last parse
    (RSS ttl, sy:updatePeriod), seconds, NULL for none. Kept apart from `asked_interval` (which adds
    the server's Cache-Control/Expires of the latest answer) because a 304 or an unchanged body
    is not parsed again: the document's ask must outlive it, while the headers' ask is each answer's own.
    """
    db.execute("ALTER TABLE feeds ADD COLUMN feed_interval REAL")


def _v11(db: sqlite3.Connection) -> None:
    """`feeds.own_title`: the title is the user's (`reader rename`, newsboat's `"~Name"`), so a refresh
    keeps it rather than taking the feed's own."""
    db.execute("ALTER TABLE feeds ADD COLUMN own_title INTEGER NOT NULL DEFAULT 0")


def _v12(db: sqlite3.Connection) -> None:
    """`tags.folded`: a tag's name casefolded, by which it is found: one tag for Über and über (COLLATE
    NOCASE folds ASCII only). Tags that fold alike are merged into the oldest, their posts kept.

    Tolerant of a cache that already has the column: a build during the step's development put it in _v9.
    """
    columns = {row[1] for row in db.execute("PRAGMA table_info(tags)")}
    if "folded" not in columns:
        db.execute("ALTER TABLE tags ADD COLUMN folded TEXT")
    first: dict[str, int] = {}
    for tag_id, name in db.execute("SELECT id, name FROM tags ORDER BY id").fetchall():
        folded = name.casefold()
        if folded in first:
            db.execute("UPDATE OR IGNORE entry_tags SET tag_id = ? WHERE tag_id = ?", (first[folded], tag_id))
            db.execute("DELETE FROM entry_tags WHERE tag_id = ?", (tag_id,))
            db.execute("DELETE FROM tags WHERE id = ?", (tag_id,))
            continue
        first[folded] = tag_id
        db.execute("UPDATE tags SET folded = ? WHERE id = ?", (folded, tag_id))
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS tags_by_folded ON tags (folded)")


def _v13(db: sqlite3.Connection) -> None:
    """The posts' search index writes bigger segments and merges them less eagerly: FTS5 keeps up to
    4 MB of pending terms (1 MB by default) and merges a level at 8 segments (4). Measured on a cold
    refresh's writes of 1,000 feeds (20,000 posts): 4.55 -> 3.65 ms a feed, the same MATCH time.
    FTS5 keeps both settings in the table's own config, so they hold for every connection."""
    db.execute("INSERT INTO entries_fts (entries_fts, rank) VALUES ('hashsize', 4194304)")
    db.execute("INSERT INTO entries_fts (entries_fts, rank) VALUES ('automerge', 8)")


# Index i holds the step from user_version i to i + 1. Append; never edit a shipped step.
MIGRATIONS = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11, _v12, _v13]
SCHEMA_VERSION = len(MIGRATIONS)
