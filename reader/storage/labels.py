"""The user's own labels on posts: tags, hidden posts, and saved searches (named queries).

Tags are apart from the feed's categories: categories come with the feed, tags are the
user's. A tag maps to a Google Reader user label (`user/-/label/NAME`): `tags.remote_id`
is kept for the server's id once tags sync. Names match case-insensitively, as categories do.
"""

from __future__ import annotations

import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..sanitize import clean_line
from .base import StoreBase, StoreError, chunks, placeholders

# Every query over posts leaves hidden ones out unless it asks for them (`is:hidden`).
# Few posts are hidden: the set comes from a partial index, and the date and unread
# indexes stay covering (a `hidden = 0` test would read every row).
VISIBLE_SQL = "e.id NOT IN (SELECT id FROM entries WHERE hidden = 1)"

NAME_MAX = 100  # characters in a tag's or a saved search's name
QUERY_MAX = 2000  # characters in a saved search's query (parse_query's own cap)


# A tag change waiting for the sync server: an outbox_marks row whose flag is "label:NAME"
# (pushed as the Google Reader user label user/-/label/NAME).
LABEL_FLAG = "label:"


def tags_of(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each post's tags, in the order they were put on (Store.entry_tags; get_entry's for one post)."""
    result: dict[int, list[str]] = {}
    for chunk in chunks(list(ids)):
        rows = db.execute(
            f"SELECT et.entry_id, t.name FROM entry_tags et JOIN tags t ON t.id = et.tag_id "
            f"WHERE et.entry_id IN ({placeholders(chunk)}) ORDER BY et.added, t.name COLLATE NOCASE",
            chunk,
        )
        for entry_id, name in rows:
            result.setdefault(entry_id, []).append(name)
    return result


def forget_unused_tags(db: sqlite3.Connection) -> None:
    """A tag left on no post is forgotten (after untagging, a sync's reconcile, a feed's removal)."""
    db.execute("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM entry_tags)")


def _tag_id(db: sqlite3.Connection, name: str) -> int:
    """The id of the tag of this name in any case (made when new, keeping the first spelling)."""
    # OR IGNORE: a tag of this name in any case is already there (its `name` and `folded` are both unique).
    db.execute("INSERT OR IGNORE INTO tags (name, folded) VALUES (?, ?)", (name, name.casefold()))
    return int(db.execute("SELECT id FROM tags WHERE folded = ?", (name.casefold(),)).fetchone()[0])


def _queue_label(db: sqlite3.Connection, ids: Sequence[int], name: str, value: bool) -> None:
    """Queue a tag change of these posts for the server (those it knows): the user's intent, changed or not."""
    db.execute(
        f"INSERT OR REPLACE INTO outbox_marks (remote_id, flag, value) "
        f"SELECT remote_id, ?, ? FROM entries WHERE remote_id IS NOT NULL AND id IN ({placeholders(ids)})",
        [LABEL_FLAG + name, int(value), *ids],
    )


@dataclass(frozen=True, slots=True)
class SavedSearch:
    id: int
    name: str
    query: str


# Reserved: `reader search list` must never mean a saved search named "list".
SEARCH_WORDS = ("save", "list", "remove")


def clean_name(name: str, what: str = "a tag") -> str:
    """A tag's or saved search's name as stored: one printable line. Raises StoreError when empty or too long.

    A tag's name holds no `"`: `tag:"NAME"` could not say it, so no query could find the tag.
    """
    cleaned = clean_line(name, NAME_MAX + 1).strip()
    if not cleaned or not any(c.isprintable() and not c.isspace() and unicodedata.category(c) != "Cf" for c in cleaned):
        raise StoreError(f"{what} needs a name with something printable in it")
    if len(cleaned) > NAME_MAX:
        raise StoreError(f"{what}'s name is too long (at most {NAME_MAX} characters)")
    if what == "a tag" and '"' in cleaned:
        raise StoreError(f'a tag\'s name can\'t hold " (tag:"NAME" could not find it): {cleaned!r}')
    if what == "a saved search" and cleaned.casefold() in SEARCH_WORDS:
        raise StoreError(f"{cleaned!r} is a word of `reader search`: pick another name")
    return cleaned


class LabelStore(StoreBase):
    # --- tags -------------------------------------------------------------------------------

    def tag_entries(self, ids: Iterable[int], add: Sequence[str] = (), remove: Sequence[str] = ()) -> int:
        """Put tags on posts and take others off, in one transaction. Returns how many (post, tag) pairs changed.

        A tag left on no post is forgotten. Ids of posts that don't exist are ignored.
        """
        ids = list(ids)
        add_names = [clean_name(n) for n in add]
        remove_names = [clean_name(n) for n in remove]
        changed = 0
        now = time.time()
        with self.transaction() as db:
            syncing = self._syncing(db)
            for name in add_names:
                tag_id = _tag_id(db, name)
                for chunk in chunks(ids):
                    changed += db.execute(
                        f"INSERT OR IGNORE INTO entry_tags (entry_id, tag_id, added) "
                        f"SELECT id, ?, ? FROM entries WHERE id IN ({placeholders(chunk)})",
                        [tag_id, now, *chunk],
                    ).rowcount
                    if syncing:
                        _queue_label(db, chunk, name, True)
            for name in remove_names:
                row = db.execute("SELECT id FROM tags WHERE folded = ?", (name.casefold(),)).fetchone()
                for chunk in chunks(ids):
                    if row is not None:
                        changed += db.execute(
                            f"DELETE FROM entry_tags WHERE tag_id = ? AND entry_id IN ({placeholders(chunk)})",
                            [row[0], *chunk],
                        ).rowcount
                    if syncing:
                        _queue_label(db, chunk, name, False)
            forget_unused_tags(db)
        return changed

    def reconcile_tags(self, server: dict[str, set[int]]) -> int:
        """Make the tags of every synced post match the server's label sets ({name: item ids}).

        A synced post gets each tag whose set lists it and loses each tag whose set doesn't (a tag
        the server doesn't have at all is an empty set). A change made here and still in the outbox
        wins until it is pushed, as with read and starred. Posts fetched here (no server id) keep
        their tags. Returns how many (post, tag) pairs changed. Linear: a temporary table per call.
        """
        changed = 0
        now = time.time()
        with self.transaction() as db:
            names = {n.casefold(): n for n in server}
            members_of = {n.casefold(): ids for n, ids in server.items()}
            local = [r[0] for r in db.execute(
                "SELECT DISTINCT t.name FROM tags t JOIN entry_tags et ON et.tag_id = t.id "
                "JOIN entries e ON e.id = et.entry_id WHERE e.remote_id IS NOT NULL"
            )]
            for name in local:
                names.setdefault(name.casefold(), name)
            db.execute("CREATE TEMP TABLE IF NOT EXISTS label_ids (id INTEGER PRIMARY KEY)")
            for folded, name in names.items():
                members = members_of.get(folded, set())
                db.execute("DELETE FROM label_ids")
                db.executemany("INSERT OR IGNORE INTO label_ids VALUES (?)", ((i,) for i in members))
                tag_id = _tag_id(db, name)
                pending = "e.remote_id NOT IN (SELECT remote_id FROM outbox_marks WHERE flag = ?)"
                flag = LABEL_FLAG + clean_name(name)
                changed += db.execute(
                    f"INSERT OR IGNORE INTO entry_tags (entry_id, tag_id, added) SELECT e.id, ?, ? FROM entries e "
                    f"WHERE e.remote_id IN (SELECT id FROM label_ids) AND {pending}",
                    (tag_id, now, flag),
                ).rowcount
                changed += db.execute(
                    f"DELETE FROM entry_tags WHERE tag_id = ? AND entry_id IN (SELECT e.id FROM entries e "
                    f"WHERE e.remote_id IS NOT NULL AND e.remote_id NOT IN (SELECT id FROM label_ids) AND {pending})",
                    (tag_id, flag),
                ).rowcount
            db.execute("DELETE FROM label_ids")
            forget_unused_tags(db)
        return changed

    def entry_tags(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Each post's tags, in the order they were put on."""
        return tags_of(self.db, ids)

    def tag_counts(self) -> list[tuple[str, int, int]]:
        """(tag, unread, total) over visible posts, by name."""
        rows = self.db.execute(
            f"SELECT t.name, coalesce(sum(e.read = 0), 0), count(*) FROM tags t "
            f"JOIN entry_tags et ON et.tag_id = t.id JOIN entries e ON e.id = et.entry_id "
            f"WHERE {VISIBLE_SQL} GROUP BY t.id ORDER BY t.name COLLATE NOCASE"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def tag_names(self) -> list[str]:
        """Tags on at least one post (a removed feed's posts take theirs with them), by name."""
        return [
            r[0] for r in self.db.execute(
                "SELECT name FROM tags WHERE id IN (SELECT tag_id FROM entry_tags) ORDER BY name COLLATE NOCASE"
            )
        ]

    # --- hidden posts -------------------------------------------------------------------------

    def set_hidden(self, ids: Iterable[int], value: bool = True) -> int:
        """Hide posts (or show them again). Returns how many changed. Local only: no server has the notion."""
        ids = list(ids)
        changed = 0
        with self.transaction() as db:
            for chunk in chunks(ids):
                changed += db.execute(
                    f"UPDATE entries SET hidden = ? WHERE hidden != ? AND id IN ({placeholders(chunk)})",
                    [int(value), int(value), *chunk],
                ).rowcount
        return changed

    def hidden_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries WHERE hidden = 1").fetchone()[0]

    # --- saved searches -----------------------------------------------------------------------

    def save_search(self, name: str, query: str) -> bool:
        """Save (or replace) a named query. Returns True when it replaced one of that name.

        The caller checks the query parses (reader.query.parse_query): the store only keeps text.
        """
        name = clean_name(name, "a saved search")
        query = clean_line(query, QUERY_MAX + 1).strip()
        if not query:
            raise StoreError("a saved search needs a query")
        if len(query) > QUERY_MAX:
            raise StoreError(f"the query is too long (at most {QUERY_MAX} characters)")
        with self.transaction() as db:
            replaced = db.execute("UPDATE saved_searches SET query = ? WHERE name = ?", (query, name)).rowcount
            if not replaced:
                db.execute(
                    "INSERT INTO saved_searches (name, query, added) VALUES (?, ?, ?)", (name, query, time.time())
                )
        return bool(replaced)

    def saved_searches(self) -> list[SavedSearch]:
        """Every saved search, in the order they were saved."""
        return [
            SavedSearch(r[0], r[1], r[2])
            for r in self.db.execute("SELECT id, name, query FROM saved_searches ORDER BY added, id")
        ]

    def get_search(self, name: str) -> SavedSearch | None:
        row = self.db.execute("SELECT id, name, query FROM saved_searches WHERE name = ?", (name,)).fetchone()
        return SavedSearch(row[0], row[1], row[2]) if row else None

    def remove_search(self, name: str) -> bool:
        with self.transaction() as db:
            return bool(db.execute("DELETE FROM saved_searches WHERE name = ?", (name,)).rowcount)
