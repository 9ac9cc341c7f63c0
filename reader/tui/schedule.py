"""The app's background refresh: every `refresh_every`, the feeds that are due (reader/schedule.py)
are fetched as `R` fetches, without moving the cursor; new posts may be announced by the `notify` hook.

- The timer only starts a refresh through the path `R` takes (reader/tui/actions_feeds.py's
  start_refresh, with an account reader/tui/sync.py's refresh and sync), with `due=True`: the
  list is reloaded keeping the cursor's post and the open post stays open, as after `R`.
- A tick while a refresh, sync or push is in flight does nothing: the next tick looks again.
- Quitting never waits for it: it runs on the app's daemon worker threads and the refresh's
  stop event abandons it (reader/tui/lifecycle.py).
- Once the feeds are stored (rules applied), `announce` runs the notify hook (reader/hooks.py) in a
  worker: for the posts the rules' `notify` action matched after any refresh, and for the new
  unread posts after a background one. With no notify command and no notify-send, the app rings
  the terminal bell.

A mixin of ReaderApp (reader/tui/app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

if TYPE_CHECKING:
    from textual.timer import Timer

    from reader.models import RefreshSummary
    from reader.sync.engine import SyncSummary
    from reader.tui.app import ReaderApp

class ScheduleMixin:
    """The timer that refreshes due feeds in the background."""

    background_timer: Timer | None = None
    background_refresh = False  # the refresh in flight was started by the timer, not by R

    def start_background_refresh(self: ReaderApp) -> None:
        """Called once from on_mount: start the timer (none when `refresh_every` is 0)."""
        every = self.settings.refresh_every
        if every > 0:
            self.background_timer = self.set_interval(every, self._background_tick, name="background-refresh")

    def _background_tick(self: ReaderApp) -> None:
        if self._exit or self.refreshing or self.syncing or self._pushing:
            return  # one at a time; the next tick looks again
        self.start_refresh(due=True, background=True)

    def announce(self: ReaderApp, summary: RefreshSummary | SyncSummary) -> None:
        """The feeds are stored (UI thread): run the notify hook if the refresh has something to say."""
        notify_ids = list(summary.rules.notify) if summary.rules is not None else []
        new_posts = self.background_refresh
        if notify_ids or (new_posts and summary.new_ids):
            self._announce(list(summary.new_ids), notify_ids, new_posts)

    @work(thread=True, exit_on_error=False, group="announce")
    def _announce(self: ReaderApp, new_ids: list[int], notify_ids: list[int], new_posts: bool) -> None:
        # A worker: the counts are queries, and the hook may take up to its timeout.
        from reader.announce import announcement
        from reader.hooks import BELL, notify

        message = announcement(self.store, new_ids, notify_ids, new_posts=new_posts)
        if message is None or self._refresh_stop.is_set():
            return
        result = notify(self.settings, *message)
        if self._refresh_stop.is_set():
            return
        if result == BELL:
            self.call_from_thread(self.bell)
        elif result is not None:
            self.call_from_thread(self.notify, result, title="Notify", severity="warning", markup=False)
