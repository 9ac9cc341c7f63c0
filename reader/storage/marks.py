"""Read and starred marks, and the outbox that carries them to a sync server.

With a sync account, every mark on a post the server knows is written to `outbox_marks`
in the same transaction as the mark itself, so a mark made offline, or just before the
process is killed, is never lost: the next sync pushes it. One row per (post, flag): a
later mark replaces an earlier one, so the outbox never holds more than two rows a post.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .base import StoreBase, chunks, placeholders

FLAGS = ("read", "starred")


class MarkStore(StoreBase):
    def set_flag(self, ids: Iterable[int], flag: str, value: bool) -> int:
        """Mark posts; returns how many changed. Queued for the server in the same transaction."""
        if flag not in FLAGS:
            raise ValueError(flag)
        ids = list(ids)
        changed = 0
        with self.transaction() as db:
            syncing = self._syncing(db)
            for chunk in chunks(ids):
                marks = placeholders(chunk)
                changed += db.execute(
                    f"UPDATE entries SET {flag} = ? WHERE {flag} != ? AND id IN ({marks})",
                    [int(value), int(value), *chunk],
                ).rowcount
                if syncing:
                    # Every post asked for, changed or not: the user's intent is what the server must get.
                    db.execute(
                        f"INSERT OR REPLACE INTO outbox_marks (remote_id, flag, value) "
                        f"SELECT remote_id, ?, ? FROM entries WHERE remote_id IS NOT NULL AND id IN ({marks})",
                        [flag, int(value), *chunk],
                    )
        return changed

    def entry_flags(self, entry_id: int) -> tuple[bool, bool] | None:
        """(read, starred) as stored now: a toggle acts on these, not on a row that may be stale."""
        row = self.db.execute("SELECT read, starred FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return (bool(row[0]), bool(row[1])) if row else None

    # --- the outbox, as the sync engine reads and empties it ------------------------------

    def queued_marks(self, limit: int = 10_000) -> list[tuple[int, int, str, bool]]:
        """Up to `limit` waiting marks, oldest first: (outbox row, item id, flag, value)."""
        return [
            (r[0], r[1], r[2], bool(r[3]))
            for r in self.db.execute(
                "SELECT id, remote_id, flag, value FROM outbox_marks ORDER BY id LIMIT ?", (limit,)
            )
        ]

    def forget_marks(self, rows: Sequence[int]) -> None:
        """Drop pushed marks. A mark made meanwhile on the same post has a new row id, so it stays queued."""
        with self.transaction() as db:
            for chunk in chunks(list(rows)):
                db.execute(f"DELETE FROM outbox_marks WHERE id IN ({placeholders(chunk)})", chunk)

    def pending_changes(self) -> int:
        """Changes made here that the server has not had yet: marks plus subscription changes."""
        return self.db.execute(
            "SELECT (SELECT count(*) FROM outbox_marks) + (SELECT count(*) FROM outbox_feeds)"
        ).fetchone()[0]
