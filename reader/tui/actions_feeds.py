"""The app's feed actions: refresh, errors, add, remove, and the category picker.

A mixin of ReaderApp (reader/tui/app.py), which owns the widgets, the store and the
settings these methods use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work

from reader.models import FeedOutcome, RefreshSummary
from reader.sanitize import mask_credentials
from reader.tui.widgets.sidebar import ALL
from reader.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class FeedActions:
    """Refreshing, subscribing and unsubscribing."""

    # --- refresh --------------------------------------------------------------------------

    def action_refresh_feeds(self: ReaderApp) -> None:
        self.start_refresh()

    def start_refresh(self: ReaderApp, *, due: bool = False, background: bool = False) -> bool:
        """Refresh the feeds (with an account, then sync): `R`, and the background timer with `due`
        (only the feeds whose time has come) and `background` (quiet unless there is news;
        new posts announced: reader/tui/schedule.py). False when a refresh is already running."""
        if self.refreshing:
            if not background:
                self.notify("Already refreshing.", markup=False)
            return False
        self.refreshing = True
        self.background_refresh = background
        self._update_empty_text()
        # The feeds this refresh will fetch (the due ones, for the timer), from the feeds loaded with the
        # counts: "refreshing 0/500" for a run of 10 would mislead.
        now = time.time()
        fetched = [
            f for f in self.feeds if f.remote_id is None and (not due or f.next_due is None or f.next_due <= now)
        ]
        self.query_one(StatusBar).progress(0, max(len(fetched), 1))
        if self.store.get_account() is not None:  # one row: the UI thread may read it
            self.refresh_and_sync(due=due)  # reader/tui/sync.py: the feeds fetched here, then the server
            return True
        self._refresh(due)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def _refresh(self: ReaderApp, due: bool = False) -> None:
        from reader.fetch import FetchOptions
        from reader.refresh import refresh

        options = FetchOptions.of(self.settings)
        status = self.query_one(StatusBar)

        def progress(done: int, total: int, outcome: FeedOutcome) -> None:
            if not self._refresh_stop.is_set():
                self.call_from_thread(status.progress, done, total)

        try:
            summary = refresh(
                self.store, options=options, progress=progress, stop=self._refresh_stop,
                images=self.image_cache(), feeds_done=self._feeds_stored_from_thread,
                extract_in_process=True,  # pages off the GIL the UI thread needs
                rules=self.settings.rules, due=due,
            )
        except Exception as exc:  # a refresh must never take the app down
            if not self._refresh_stop.is_set():
                self.call_from_thread(self._refresh_failed, exc)
            return
        if not summary.stopped:
            self.call_from_thread(self._refresh_done, summary)

    def _feeds_stored_from_thread(self: ReaderApp, summary: RefreshSummary) -> None:
        """Every feed is stored; full articles and images may still be coming: show the new posts now."""
        if not self._refresh_stop.is_set():
            self.call_from_thread(self._feeds_stored, summary)

    def _feeds_stored(self: ReaderApp, summary: RefreshSummary) -> None:
        self._marker = self.store.change_marker()
        self.reload()
        self.refresh_counts()
        if self.refreshing:
            self.query_one(StatusBar).finishing()  # not "refreshing 2/2" while pages and images come
        self.announce(summary)  # rule `notify` matches, new posts after a background refresh (schedule.py)

    def _refresh_failed(self: ReaderApp, error: Exception) -> None:
        self.refreshing = False
        self.background_refresh = False
        self._update_empty_text()
        self.query_one(StatusBar).progress(None, None)
        if self.cache_failed(error):
            return
        self.notify(f"Refresh failed: {error}", severity="error", markup=False)

    def _refresh_done(self: ReaderApp, summary: RefreshSummary) -> None:
        background, self.background_refresh = self.background_refresh, False
        self.refreshing = False
        self.query_one(StatusBar).progress(None, None)
        self.last_failed = summary.failed
        self._marker = self.store.change_marker()  # what this refresh changed is reloaded here
        self.reload()
        self.refresh_counts()
        if background and not summary.failed and not summary.new_entries:
            return  # every half hour "0 new entries" would be noise: the status line says when it ran
        if summary.failed:
            self.notify(
                f"{summary.line()}. Press e for the errors.",
                title="Refresh", severity="warning", markup=False, timeout=8,
            )
        else:
            self.notify(summary.line(), title="Refresh", markup=False)

    def action_show_errors(self: ReaderApp) -> None:
        from reader.tui.screens.errors import ErrorsScreen

        failed = self.last_failed or [
            FeedOutcome(f.url, "error", error=f.last_error) for f in self.feeds if f.last_error
        ]
        sync_error = self.sync_error()  # the last sync's, while no later one completed (reader/tui/sync.py)
        if not failed and sync_error is None:
            self.notify("No feed or sync errors." if self.account is not None else "No feed errors.", markup=False)
            return
        # The screen masks the URLs it shows (the stored URL keeps the password).
        self.push_screen(ErrorsScreen(failed, {f.url: f.display_title for f in self.feeds}, sync_error))

    # --- subscribing ----------------------------------------------------------------------

    def action_add_feed(self: ReaderApp) -> None:
        from reader.tui.screens.add_feed import AddFeedScreen

        screen = AddFeedScreen(self.store, self.settings)

        def added(summary: str | None) -> None:
            if summary:
                self.notify(summary, markup=False)
                self.reload()
                self.refresh_counts()
                self.changed_locally()  # with an account: to the server soon (reader/tui/sync.py)
                if screen.new_ids:
                    self._articles_after_add(screen.new_ids)

        self.push_screen(screen, added)

    @work(thread=True, exit_on_error=False, group="add-articles")
    def _articles_after_add(self: ReaderApp, ids: list[int]) -> None:
        """The first posts' full articles and images, as a refresh would fetch them (at most one timeout)."""
        from reader.articles import fetch_articles
        from reader.fetch import FetchOptions

        fetch_articles(self.store, ids, FetchOptions(timeout=self.settings.timeout), images=self.image_cache())

    def _feed_under_cursor(self: ReaderApp) -> tuple[str, str] | None:
        """The selected sidebar feed (when the sidebar has the focus), else the post's feed."""
        if self.focused is self.sidebar:
            scope = self.sidebar.highlighted_scope
            if scope is not None and scope.kind == "feed" and scope.feed_url:
                return scope.feed_url, scope.label
            return None
        entry = self._target()
        if entry is None:
            return None
        return entry.feed_url, mask_credentials(entry.feed_title)

    def action_remove_feed(self: ReaderApp) -> None:
        from reader.tui.screens.confirm import ConfirmScreen

        target = self._feed_under_cursor()
        if target is None:
            self.notify("Select a feed in the sidebar, or a post, to remove its feed.", markup=False)
            return
        url, title = target
        total, starred = self.store.feed_post_counts(url)
        question = (
            f"Remove the feed {title}?\n{mask_credentials(url)}\n"
            f"Its {total} post{'s' if total != 1 else ''} leave the cache."
        )
        if starred:
            question += f"\n{starred} starred post{'s' if starred != 1 else ''} will be removed too."

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._remove_feed(url, title)

        self.push_screen(ConfirmScreen(question, "Remove"), go)

    @work(thread=True, exit_on_error=False, group="remove")
    def _remove_feed(self: ReaderApp, url: str, title: str) -> None:
        # A worker: dropping a feed of thousands of posts takes a moment (the search index).
        self.store.remove_feed(url)
        self.call_from_thread(self._feed_removed, url, title)

    def _feed_removed(self: ReaderApp, url: str, title: str) -> None:
        if self.scope.feed_url == url:
            self.set_scope(ALL, reload=False)
        post = self.reading_pane.post
        if post is not None and post.entry.feed_url == url:
            self.close_post()
        self.notify(f"Removed {title}", markup=False)
        self.reload()
        self.refresh_counts()
        self.changed_locally()  # with an account: to the server soon (reader/tui/sync.py)

    # --- categories -----------------------------------------------------------------------

    def action_pick_category(self: ReaderApp) -> None:
        self._load_categories()

    @work(thread=True, exclusive=True, exit_on_error=False, group="categories")
    def _load_categories(self: ReaderApp) -> None:
        categories = self.store.category_counts()
        self.call_from_thread(self._show_picker, categories)

    def _show_picker(self: ReaderApp, categories: list[tuple[str, int, int]]) -> None:
        from reader.tui.screens.category_picker import CategoryPicker, category_query

        if not categories:
            self.notify("No categories yet.", markup=False)
            return

        def picked(name: str | None) -> None:
            if name:
                # The picker's counts are over every post: show them all, not the sidebar's scope.
                self.set_scope(ALL, reload=False)
                self.set_filter(category_query(name))
                self.post_list.focus()

        self.push_screen(CategoryPicker(categories), picked)
