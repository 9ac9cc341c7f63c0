"""The post list's rows, read from SQLite a page at a time.

A source holds only the ordered ids of the matching posts (cheap even for 100,000);
`PostList` asks for the rows of a slice when they come on screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from reader.models import EntryRow
from reader.store import VISIBLE_SQL, Store


class StoreSource:
    """A `RowSource` over `store.entry_ids(where, params)`, fixed at construction."""

    def __init__(self, store: Store, ids: list[int], where: str = "", params: Sequence[object] = ()) -> None:
        self.store = store
        self.ids = ids
        self.where = where
        self.params = list(params)
        self._index: dict[int, int] | None = None

    @classmethod
    def query(cls, store: Store, where: str = VISIBLE_SQL, params: Sequence[object] = ()) -> StoreSource:
        """The posts matching `where`; with none given, every post but the hidden ones (the app's All)."""
        where = where or VISIBLE_SQL  # never every post: hidden ones are listed only when a query asks
        return cls(store, store.entry_ids(where, params), where, params)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, start: int, count: int) -> list[EntryRow]:
        return self.store.entry_rows(self.ids[start : start + count])

    def index_of(self, entry_id: int) -> int | None:
        # Built on first use: most sources are thrown away (typing a filter) before anyone asks.
        if self._index is None:
            self._index = {entry_id: i for i, entry_id in enumerate(self.ids)}
        return self._index.get(entry_id)

    def unread_count(self) -> int:
        """How many posts matching this source's query are unread now (from a worker: it reads the cache).

        Counted by SQLite: with no filter that is the unread index alone, a few ms at 100,000 posts.
        """
        where = f"({self.where}) AND e.read = 0" if self.where else "e.read = 0"
        return self.store.count_entries(where, self.params)

    def find_unread(self, start: int, step: int) -> int | None:
        """The index of the first unread post from `start` (exclusive) in direction `step`."""
        unread = self.store.unread_ids()
        ids = self.ids
        index = start + step
        while 0 <= index < len(ids):
            if ids[index] in unread:
                return index
            index += step
        return None
