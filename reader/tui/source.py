"""The post list's rows, read from SQLite a page at a time.

A source holds only the ordered ids of the matching posts (cheap even for 100,000);
`PostList` asks for the rows of a slice when they come on screen.

At start the app shows a *partial* source first (`StoreSource.first_page`): the first page of ids
and the count, which is all the first frame needs, then swaps in the whole list once that frame
is out (issue 12: at 100,000 posts reading every id kept the first frame waiting ~0.3 s).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from reader.models import EntryRow
from reader.storage.pages import entry_ids_page, visible_count
from reader.store import VISIBLE_SQL, Store

# Ids the first frame reads: more rows than any terminal shows at once.
FIRST_PAGE = 300


def _id_array(store: Store, where: str, params: Sequence[object]) -> array[int]:
    """`store.entry_ids` as an array("q"): the list is held as long as it is shown, and as a list of ints
    it is an object per post (3.9 MB at 100,000 posts, against 0.8 MB); the list itself goes at once."""
    return array("q", store.entry_ids(where, params))


class StoreSource:
    """A `RowSource` over `store.entry_ids(where, params)`, fixed at construction."""

    def __init__(
        self, store: Store, ids: Sequence[int], where: str = "", params: Sequence[object] = (),
        total: int | None = None,
    ) -> None:
        self.store = store
        self._ids = ids
        self.where = where
        self.params = list(params)
        # With `total` > len(ids), a partial source: `ids` is the first page, the rest is read when asked.
        self._total = len(ids) if total is None else max(total, len(ids))

    @property
    def complete(self) -> bool:
        """Whether every id is in hand (a partial source reads the rest on the first use of `ids`)."""
        return len(self._ids) >= self._total

    @property
    def ids(self) -> Sequence[int]:
        """Every matching id, in list order. On a partial source (the start's first frame, for the
        moment until the whole list is swapped in) a key that needs them all reads them now."""
        if not self.complete:
            self._ids = _id_array(self.store, self.where, self.params)
            self._total = len(self._ids)
        return self._ids

    @classmethod
    def query(cls, store: Store, where: str = VISIBLE_SQL, params: Sequence[object] = ()) -> StoreSource:
        """The posts matching `where`; with none given, every post but the hidden ones (the app's All)."""
        where = where or VISIBLE_SQL  # never every post: hidden ones are listed only when a query asks
        return cls(store, _id_array(store, where, params), where, params)

    @classmethod
    def first_page(cls, store: Store, where: str = VISIBLE_SQL, params: Sequence[object] = ()) -> StoreSource:
        """The same list as `query`, partial: its first FIRST_PAGE ids and the count of the rest.

        A few index reads, ~1 ms at any size with no filter (the app's All), against ~50 ms and
        100,000 ints for every id.
        """
        where = where or VISIBLE_SQL
        head = entry_ids_page(store, where, params, FIRST_PAGE)
        if len(head) < FIRST_PAGE:
            total = len(head)
        elif where == VISIBLE_SQL:
            total = visible_count(store)
        else:
            total = store.count_entries(where, params)
        return cls(store, head, where, params, total)

    def __len__(self) -> int:
        return self._total

    def rows(self, start: int, count: int) -> list[EntryRow]:
        if start + count <= len(self._ids) or self.complete:
            return self.store.entry_rows(self._ids[start : start + count])
        # Past the first page of a partial source (the list scrolled before the whole of it came):
        # that slice alone, by its place in the same order.
        return self.store.entry_rows(entry_ids_page(self.store, self.where, self.params, count, start))

    def index_of(self, entry_id: int) -> int | None:
        # A scan in C (~1 ms at 100,000 ids), not a dict of every id: that would hold ~10 MB for a list
        # swapped out at the next filter. A partial source looks only in its first page (the cursor kept
        # across the swap to the whole list is on screen).
        try:
            return self._ids.index(entry_id)
        except ValueError:
            return None

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
