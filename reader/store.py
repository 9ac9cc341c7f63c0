"""The cache: one `Store` made of the parts in reader/storage/, one per concern.

- base: connections, transactions, migrations, meta
- feeds: subscriptions and their categories
- entries: writing and reading posts (and their search index)
- counts: counts per category and state, the change marker
- marks: read/starred marks and the outbox that carries them to a sync server
- sync: the account, the server's ids, subscription changes, synced posts
- articles: each feed's full-text mode, the full articles fetched for posts (and their search index)
- labels: the user's tags on posts, hidden posts, saved searches
"""

from __future__ import annotations

from .storage.articles import FULL_TEXT_MODES, ArticleCandidate, ArticleRow, ArticleStore
from .storage.base import CorruptCacheError, StoreError, explain_db_error, move_aside
from .storage.counts import UNCATEGORIZED_SQL, CountStore
from .storage.entries import FUTURE_SLACK
from .storage.feeds import FeedStore
from .storage.labels import VISIBLE_SQL, LabelStore, SavedSearch
from .storage.marks import MarkStore
from .storage.sync import SyncStore

__all__ = [
    "FULL_TEXT_MODES",
    "FUTURE_SLACK",
    "UNCATEGORIZED_SQL",
    "VISIBLE_SQL",
    "ArticleCandidate",
    "ArticleRow",
    "CorruptCacheError",
    "SavedSearch",
    "Store",
    "StoreError",
    "explain_db_error",
    "move_aside",
]


class Store(FeedStore, SyncStore, MarkStore, CountStore, ArticleStore, LabelStore):
    """The cache. Safe to share between threads: each thread gets its own connection."""
