"""Loading what the app shows: the post list's ids, the counts, the status line, and
changes made by other processes. Every query runs in a thread worker; the UI thread
only swaps the results in.

A mixin of ReaderApp (reader/tui/app.py), which owns the widgets and the store.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from reader.models import Feed
from reader.query import Query, QueryError, parse_query
from reader.storage.labels import SavedSearch
from reader.store import Store, StoreError
from reader.tui.source import StoreSource

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


# Longest the start's worker waits for the first frame before it reads the whole list anyway.
FIRST_FRAME_WAIT = 1.0

# The saved searches' and tags' counts for the sidebar, as the counts worker loads them.
LabelCounts = tuple[list[tuple[SavedSearch, int | None]], list[tuple[str, int, int]]]


def search_unread(store: Store, query: str) -> int | None:
    """Unread posts a saved search matches now (as its list shows them), or None when its query is broken.

    One count query, read with the unread partial index when the search has no better one.
    """
    try:
        where, params = parse_query(query).to_sql()
    except (QueryError, ValueError, OverflowError):
        return None
    return store.count_entries(f"e.read = 0 AND ({where})", params)


def label_counts(store: Store, cancelled: Callable[[], bool] = lambda: False) -> LabelCounts | None:
    """Every saved search with its unread count, and every tag's (unread, total); None when cancelled
    part-way (a newer count is coming: a burst of marks does not queue a count of each search per mark)."""
    searches: list[tuple[SavedSearch, int | None]] = []
    for search in store.saved_searches():
        if cancelled():
            return None
        searches.append((search, search_unread(store, search.query)))
    return searches, store.tag_counts()


class LoadingMixin:
    """The list, the counts and the status line, loaded off the UI thread."""

    # Until the first counts land, the state an empty list should explain is unknown.
    _counts_loaded: bool = False
    _broken_scope: object = None  # the saved search whose bad query was last reported

    def start_loading(self: ReaderApp) -> None:
        """From on_mount: put the top of the list in place for the first frame, then load the rest.

        The first page is two index reads (~1 ms at any size), so it runs here, before the first
        frame, which then shows rows rather than "Loading…" (issue 12). A brand-new cache (the
        Welcome feed is added first) or a failing read leaves it all to the worker, which reports.
        """
        painted = threading.Event()
        self.call_after_refresh(painted.set)
        first: StoreSource | None = None
        try:
            if self.store.get_meta("welcome_offered") is not None:
                first = StoreSource.first_page(self.store)
        except (sqlite3.DatabaseError, StoreError):
            first = None  # the worker reads it again and says what is wrong
        if first is not None:
            self._apply_source(first, False)
        self._startup(first, painted)

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def _startup(self: ReaderApp, first: StoreSource | None, painted: threading.Event) -> None:
        if first is None:
            if self.store.get_meta("welcome_offered") is None:
                # Imports feedparser: only ever on a brand-new cache, and off the UI thread.
                from reader.welcome import offer_welcome

                offer_welcome(self.store)
            first = StoreSource.first_page(self.store)
            self.call_from_thread(self._apply_source, first, False)
        source = first
        if not first.complete:
            # Every id only once the first frame is out: at 100,000 posts reading them takes ~50 ms
            # and 100,000 ints, and would contend with that frame's rendering for the GIL. Then the
            # whole list goes in under the cursor.
            painted.wait(FIRST_FRAME_WAIT)
            source = StoreSource.query(self.store)
            self.call_from_thread(self._complete_source, first, source)
        feeds, counts, categories = self.store.list_feeds(), self.store.counts(), self.store.category_unread()
        labels = label_counts(self.store)
        self.call_from_thread(self._apply_counts, feeds, counts, source, source.unread_count(), categories, labels)
        self.call_from_thread(self._set_marker)
        if self.settings.refresh_on_start:
            self.call_from_thread(self.action_refresh_feeds)

    def _complete_source(self: ReaderApp, first: StoreSource, source: StoreSource) -> None:
        # Only over the start's own partial list: a filter or scope chosen meanwhile has its own load.
        if self.source is first:
            self._apply_source(source, True)

    def _set_marker(self: ReaderApp) -> None:
        # Read on the UI thread, whose connection the poll uses (data_version is per connection).
        self._marker = self.store.change_marker()

    def _where(self: ReaderApp) -> tuple[str, list[object]] | None:
        clauses: list[str] = []
        params: list[object] = []
        try:
            base = self.scope.base_query()
        except (QueryError, ValueError, OverflowError) as exc:
            # A saved search stored by an older reader (or by hand) that no longer parses: say so
            # once, and list nothing rather than the previous scope's posts under this one's name.
            if self._broken_scope != self.scope:
                self._broken_scope = self.scope
                self.notify(f"The saved search {self.scope.label} can't be used: {exc}", severity="error",
                            markup=False)
            return "0", []
        if base is None:
            scope_where, scope_params = self.scope.to_sql()
            if scope_where:
                clauses.append(scope_where)
                params.extend(scope_params)
        try:
            typed = parse_query(self.query_text)
            # A saved search's or tag's terms and the typed ones are one query: `is:hidden` in
            # either shows hidden posts, as it would typed out in full.
            query = typed if base is None else Query([*base.terms, *typed.terms])
            where, query_params = query.to_sql()
        except (QueryError, ValueError, OverflowError):
            return None  # the filter bar shows the error; keep the current list
        if where:
            clauses.append(where)
            params.extend(query_params)
        if self.unread_only:
            clauses.append("e.read = 0")
        return " AND ".join(f"({c})" for c in clauses), params

    def reload(self: ReaderApp, keep_current: bool = True) -> None:
        """Re-run the active filter in a worker and swap its rows in."""
        where = self._where()
        if where is None:
            return
        self._load_started = time.perf_counter()
        self._load(where[0], where[1], keep_current)

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter")
    def _load(self: ReaderApp, where: str, params: list[object], keep: bool) -> None:
        try:
            source = StoreSource.query(self.store, where, params)
        except StoreError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        if get_current_worker().is_cancelled:
            return
        self.call_from_thread(self._apply_source, source, keep)
        # After the rows are in: the count only feeds the status line.
        unread = source.unread_count()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._apply_shown_unread, source, unread)

    def _apply_shown_unread(self: ReaderApp, source: StoreSource, unread: int) -> None:
        if source is self.source:
            self.shown_unread = unread
            self._update_status()

    def _apply_source(self: ReaderApp, source: StoreSource, keep: bool) -> None:
        # The post under the cursor now, not when the query started: a key pressed while the
        # rows were loaded (a refresh's reload lands mid-browsing) must not be undone.
        current = self.post_list.current_entry if keep else None
        self.source = source
        self._update_empty_text()
        self.post_list.set_source(source, keep_entry_id=current.id if current else None)
        self.list_loaded_at = time.perf_counter()
        self._update_status()
        if self._open_first_unread_on_load:
            self._open_first_unread_on_load = False
            self.open_first_unread()

    def _update_empty_text(self: ReaderApp) -> None:
        if self._counts_loaded:  # before that the list keeps saying "Loading…"
            self.post_list.empty_text = self.empty_list_text()

    def empty_list_text(self: ReaderApp) -> str:
        """What an empty list says: the next step from the state the cache is in.

        The same empty list means three things: nothing subscribed (add a feed), feeds
        subscribed but never fetched, as after `reader import` (refresh), or a filter or
        scope that matches none of the posts there are.
        """
        total = self.counts[0]
        fetchable = [f for f in self.feeds if not f.url.startswith("reader:")]  # the welcome is not fetched
        if total == 0 and fetchable and self.refreshing:
            return "No posts yet — fetching your feeds…"
        if total == 0 and not fetchable:
            return f"No posts yet — press {self._key('app.add_feed')} to add a feed"
        if total == 0:
            count = len(fetchable)
            feeds = "your feed" if count == 1 else f"your {count} feeds"
            return f"No posts yet — press {self._key('app.refresh')} to fetch {feeds}"
        if self.scope.kind == "feed" and not self.query_text and not self.unread_only:
            feed = next((f for f in self.feeds if f.id == self.scope.value), None)
            if feed is not None and feed.total == 0:
                if feed.last_error:
                    return f"No posts yet — its last refresh failed ({self._key('app.errors')} for details)"
                return f"No posts yet from this feed — press {self._key('app.refresh')} to fetch it"
        return "No posts match"

    def _key(self: ReaderApp, binding_id: str) -> str:
        """The key bound to `binding_id` now, as the help screen shows it (the keymap can move it)."""
        from reader.tui.screens.help import key_label

        binding = next(b for b in self.all_bindings() if b.id == binding_id)
        return key_label(self.settings.keymap.get(binding_id, binding.key))

    def refresh_counts(self: ReaderApp) -> None:
        self._load_counts()
        self.load_sync_state()  # the outbox and the account may have changed too

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def _load_counts(self: ReaderApp) -> None:
        worker = get_current_worker()
        feeds, counts, categories = self.store.list_feeds(), self.store.counts(), self.store.category_unread()
        source = self.source
        unread = source.unread_count() if source is not None else 0
        labels = label_counts(self.store, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.call_from_thread(self._apply_counts, feeds, counts, source, unread, categories, labels)

    def _apply_counts(
        self: ReaderApp,
        feeds: list[Feed],
        counts: tuple[int, int, int],
        source: StoreSource | None = None,
        unread: int = 0,
        categories: dict[str, int] | None = None,
        labels: LabelCounts | None = None,
    ) -> None:
        self.feeds = feeds
        self.counts = counts
        if source is not None and source is self.source:
            self.shown_unread = unread
        searches, tags = labels if labels is not None else (None, None)
        self.sidebar.populate(feeds, counts, categories, searches, tags)
        if searches is not None:
            self._follow_saved_search([search for search, _count in searches])
        # The feed column names clashing feeds as the sidebar does, from the same one computation.
        self.post_list.set_feed_names(self.sidebar.feed_names)
        self._counts_loaded = True
        self._update_empty_text()
        self._update_status()

    def _follow_saved_search(self: ReaderApp, searches: list[SavedSearch]) -> None:
        """The saved search shown was replaced or removed (here or by `reader search`): show what it is now."""
        if self.scope.kind != "search":
            return
        now = next((s for s in searches if s.id == self.scope.value), None)
        if now is None:
            from reader.tui.widgets.sidebar import ALL

            self.set_scope(ALL)
        elif now.query != self.scope.query or now.name != self.scope.label:
            self.set_scope(self.sidebar.search_scope(now))

    def last_refresh(self: ReaderApp) -> tuple[float | None, bool]:
        """When feeds were last checked, and whether that refresh found no network at all."""
        fetched = [f for f in self.feeds if f.last_checked is not None and not f.url.startswith("reader:")]
        if not fetched:
            return None, False
        latest = max(f.last_checked or 0 for f in fetched)
        recent = [f for f in fetched if (f.last_checked or 0) >= latest - 120]
        return latest, all(f.last_error for f in recent)

    def _update_status(self: ReaderApp) -> None:
        when, offline = self.last_refresh()
        self.status_bar.show(
            scope=self.scope.label,
            query=self.query_text,
            unread_only=self.unread_only,
            shown=len(self.source) if self.source is not None else 0,
            shown_unread=self.shown_unread,
            counts=self.counts,
            failed=sum(1 for f in self.feeds if f.last_error),
            last_refresh=when,
            offline=offline,
            note=self.note,
        )

    def _check_external_changes(self: ReaderApp) -> None:
        """Another process (`reader refresh` from cron, `reader add`, `reader mark`) changed the cache: show it."""
        if self.refreshing or self._exit:
            return  # our own refresh reloads when it is done
        try:
            marker = self.store.change_marker()
        except (StoreError, sqlite3.DatabaseError):
            return  # a busy or damaged cache is reported by the next real query
        if self._marker is None:
            self._marker = marker
        elif marker != self._marker:
            self._marker = marker
            self.reload(keep_current=True)
            self.refresh_counts()
            post = self.reading_pane.post
            flags = self.store.entry_flags(post.entry.id) if post is not None else None
            if post is not None and flags is not None:
                self._show_flag(post.entry.id, "read", flags[0])
                self._show_flag(post.entry.id, "starred", flags[1])

