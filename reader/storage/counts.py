"""Counts over the cache: per category, per state, and the marker that tells a client the cache changed."""

from __future__ import annotations

from collections.abc import Sequence

from .base import StoreBase
from .labels import VISIBLE_SQL

# The posts of feeds filed under no category (the sidebar's "Uncategorized").
UNCATEGORIZED_SQL = "e.feed_id NOT IN (SELECT feed_id FROM feed_categories)"


class CountStore(StoreBase):
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
            f"JOIN entries e ON e.id = m.entry_id WHERE {VISIBLE_SQL} "
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
                f"WHERE e.read = 0 AND {VISIBLE_SQL} UNION SELECT fc.category_id, e.id FROM feed_categories fc "
                f"JOIN entries e ON e.feed_id = fc.feed_id WHERE e.read = 0 AND {VISIBLE_SQL}"
                ") m ON m.category_id = c.id GROUP BY c.id"
            )
        }
        result[""] = self.count_entries(f"e.read = 0 AND {UNCATEGORIZED_SQL} AND {VISIBLE_SQL}")
        return result

    def count_entries(self, where: str = "", params: Sequence[object] = ()) -> int:
        sql = "SELECT count(*) FROM entries e" + (f" WHERE {where}" if where else "")
        return self.db.execute(sql, list(params)).fetchone()[0]

    def unread_ids(self) -> set[int]:
        """Every unread post's id, through the partial index: a few ms at 100,000 posts."""
        return {row[0] for row in self.db.execute("SELECT id FROM entries WHERE read = 0")}

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
        """(total, unread, starred) over the whole cache's visible posts (hidden ones are not counted)."""
        total = self.db.execute(f"SELECT count(*) FROM entries e WHERE {VISIBLE_SQL}").fetchone()[0]
        unread = self.db.execute(f"SELECT count(*) FROM entries e WHERE read = 0 AND {VISIBLE_SQL}").fetchone()[0]
        starred = self.db.execute(
            f"SELECT count(*) FROM entries e WHERE starred = 1 AND {VISIBLE_SQL}"
        ).fetchone()[0]
        return total, unread, starred
