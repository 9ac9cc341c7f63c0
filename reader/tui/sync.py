"""The app's side of sync (issue 9): `R` with an account, the status line's sync part, and pushes soon after a change.

A mixin of ReaderApp (reader/tui/app.py). Every mark made in the app is already queued in
the outbox by the store (same transaction); the callers of a change (marks, feed add and
remove) call `changed_locally`, and this mixin only makes sure the change leaves soon.

- `R` with an account: one thread worker refreshes the feeds fetched here, then runs the
  whole sync (reader/sync/account.py); the list is reloaded keeping the cursor's post.
- A mark, a feed added or removed: a push of the outbox PUSH_DELAY seconds after the last
  change (one request for a burst of marks). A failed push only changes the status line;
  the change stays queued for the next push or sync.
- The status line's sync part comes from the account row and the outbox count, read in a
  worker whenever the counts are reloaded (after a mark, a refresh, another process's change).

Nothing here waits on the network on the UI thread, and quitting never waits on a sync or
a push: both run on the app's daemon worker threads, and the refresh's stop event ends a
sync between two steps.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work

from reader.models import Account, RefreshSummary
from reader.sanitize import clean_message, mask_credentials

if TYPE_CHECKING:
    from textual.timer import Timer

    from reader.sync.engine import SyncSummary
    from reader.tui.app import ReaderApp

# reader.sync (and its HTTP client) is imported only when a sync or push starts: a local
# cache's app never loads it.

# Seconds after the last local change before the outbox is pushed: a burst of marks is one push.
PUSH_DELAY = 3.0


def _short_time(when: float) -> str:
    # Today's time alone ("synced 14:02"), else the date too.
    local = time.localtime(when)
    if time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M", local)


def sync_indicator(
    account: Account | None, pending: int, *, syncing: bool, step: str = "", problem: str | None = None,
    kind: str | None = None,
) -> tuple[str, bool] | None:
    """The status line's sync part and whether it needs the user (shown bold, dropped last); None: no account.

    `kind` is what the problem calls for, as the sync recorded it: "auth", "unreachable" or "failed".
    """
    if account is None:
        return None
    waiting = f"{pending:,} change{'s' if pending != 1 else ''} waiting" if pending else ""

    def with_waiting(text: str) -> str:
        return f"{text} · {waiting}" if waiting else text

    if syncing:
        return (f"syncing… {step}" if step else "syncing…"), False
    if problem is not None:
        if kind == "auth":
            return with_waiting("log in again (reader account add …)"), True
        if kind == "unreachable":
            return with_waiting("server unreachable"), True
        return with_waiting("sync failed (e for details)"), True
    if account.last_sync is None:
        return with_waiting("not synced yet"), bool(waiting)
    return with_waiting(f"synced {_short_time(account.last_sync)}"), False


class SyncMixin:
    """Sync with the account's server from the app."""

    account: Account | None = None  # as last read from the store (None: a local cache, or not read yet)
    _sync_loaded = False  # the account has been read once
    sync_pending = 0  # changes in the outbox
    syncing = False  # a sync (R) is in flight
    _sync_step = ""
    _pushing = False
    _push_again = False  # a change came while a push or sync was in flight: push once it ends
    _push_timer: Timer | None = None

    # --- the state the status line and `e` show ------------------------------------------------

    def load_sync_state(self: ReaderApp) -> None:
        self._load_sync_state()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-state")
    def _load_sync_state(self: ReaderApp) -> None:
        # Two small queries (one row; the outbox count), off the UI thread like every other.
        account = self.store.get_account()
        pending = self.store.pending_changes() if account is not None else 0
        if not self._refresh_stop.is_set():
            self.call_from_thread(self._apply_sync_state, account, pending)

    def _apply_sync_state(self: ReaderApp, account: Account | None, pending: int) -> None:
        self.account = account
        self._sync_loaded = True
        self.sync_pending = pending
        self._show_sync()

    def sync_problem(self: ReaderApp) -> str | None:
        """The last sync's error, while it is the latest word. The store keeps it only so long:
        a completed sync clears it, and a push that got through clears "unreachable" and
        "log in again" (Store.record_sync); the state is read again after each."""
        return self.account.last_error if self.account is not None else None

    def sync_error(self: ReaderApp) -> tuple[str, str] | None:
        """(server, message) for the `e` screen, or None. The server's URL is shown masked."""
        problem = self.sync_problem()
        if problem is None or self.account is None:
            return None
        server = f"{clean_message(self.account.user, 200)} at {mask_credentials(self.account.api_url)}"
        return server, clean_message(problem)

    def _show_sync(self: ReaderApp) -> None:
        shown = sync_indicator(
            self.account, self.sync_pending, syncing=self.syncing, step=self._sync_step, problem=self.sync_problem(),
            kind=self.account.last_error_kind if self.account else None,
        )
        self.status_bar.set_sync(*(shown or (None, False)))

    # --- pushing soon after a change --------------------------------------------------------

    def changed_locally(self: ReaderApp) -> None:
        """A mark or a subscription change was made here: send it PUSH_DELAY s after the last one."""
        if self._sync_loaded and self.account is None:
            return  # a local cache: nothing to send (an account added meanwhile is read with the counts)
        if self._push_timer is not None:
            self._push_timer.stop()
        self._push_timer = self.set_timer(PUSH_DELAY, self._push_due)

    def _push_due(self: ReaderApp) -> None:
        self._push_timer = None
        if self._exit:
            return
        if self._pushing or self.refreshing:
            self._push_again = True  # after the one in flight (a sync pushes only what was queued when it began)
            return
        self._pushing = True
        self._push()

    @work(thread=True, exit_on_error=False, group="push")
    def _push(self: ReaderApp) -> None:
        from reader.sync.account import push
        from reader.sync.client import SyncError

        summary: SyncSummary | None = None
        error: Exception | None = None
        try:
            if self.store.get_account() is not None and self.store.pending_changes():
                summary = push(self.store, self.store.path.parent, timeout=self.settings.timeout)
        except SyncError as exc:
            error = exc  # recorded on the account by push(): the status line shows it
        except Exception as exc:  # a push must never take the app down
            error = exc
        if not self._refresh_stop.is_set():
            self.call_from_thread(self._pushed, summary, error)

    def _pushed(self: ReaderApp, summary: SyncSummary | None, error: Exception | None) -> None:
        from reader.sync.client import SyncError

        self._pushing = False
        if error is None and summary is not None:
            if summary.warnings:
                self.notify("\n".join(summary.warnings), title="Sync", severity="warning", markup=False)
        elif error is not None and not isinstance(error, SyncError):
            if self.cache_failed(error):
                return
            self.notify(f"Sending changes failed: {type(error).__name__}: {error}", title="Sync",
                        severity="error", markup=False)
        # A SyncError is not a toast: a burst of marks offline would be a burst of them. The
        # status line says it, with the count of what waits.
        self.load_sync_state()
        if self._push_again and error is None:
            self._push_again = False
            self.changed_locally()
        elif error is not None:
            self._push_again = False  # the next change, or R, tries again

    # --- R with an account ------------------------------------------------------------------

    def refresh_and_sync(self: ReaderApp, due: bool = False) -> None:
        """R with an account (the caller has set `refreshing`): the feeds fetched here, then the server.

        `due`: only the feeds whose time has come (the background refresh, reader/tui/schedule.py)."""
        from reader.tui.widgets.status_bar import StatusBar

        if self._push_timer is not None:
            self._push_timer.stop()  # the sync pushes everything queued
            self._push_timer = None
        local = sum(1 for f in self.feeds if f.remote_id is None and not f.url.startswith("reader:"))
        # Only the feeds fetched here are refreshed; with none, the sync part says "syncing…" at once.
        self.query_one(StatusBar).progress(0 if local else None, local or None)
        self._refresh_then_sync(due)

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def _refresh_then_sync(self: ReaderApp, due: bool = False) -> None:
        from reader.fetch import FetchOptions
        from reader.refresh import refresh
        from reader.sync.account import sync
        from reader.sync.client import SyncError
        from reader.sync.engine import SyncStopped
        from reader.tui.widgets.status_bar import StatusBar

        stop = self._refresh_stop
        status = self.query_one(StatusBar)

        def progress(done: int, total: int, _outcome: object) -> None:
            if not stop.is_set():
                self.call_from_thread(status.progress, done, total)

        try:
            # Feeds that come from the server are skipped here: the sync brings their posts.
            options = FetchOptions.of(self.settings)
            summary = refresh(
                self.store, options=options, progress=progress, stop=stop,
                images=self.image_cache(), feeds_done=self._feeds_stored_from_thread,
                extract_in_process=True,  # pages off the GIL the UI thread needs
                rules=self.settings.rules, due=due,
            )
        except Exception as exc:  # a refresh must never take the app down
            if not stop.is_set():
                self.call_from_thread(self._refresh_failed, exc)
            return
        if summary.stopped or stop.is_set():
            return
        self.call_from_thread(self._sync_started)

        def step(text: str) -> None:
            if not stop.is_set():
                self.call_from_thread(self._sync_progress, text)

        result: SyncSummary | None = None
        error: Exception | None = None
        try:
            result = sync(
                self.store, self.store.path.parent, timeout=self.settings.timeout, progress=step, stop=stop,
                rules=self.settings.rules,
            )
        except SyncStopped:
            return  # quitting: what was done is kept
        except SyncError as exc:
            error = exc  # recorded on the account by the engine
        except Exception as exc:  # reported like any failure, never a traceback
            error = exc
        if not stop.is_set():
            self.call_from_thread(self._synced, summary, result, error)

    def _sync_started(self: ReaderApp) -> None:
        from reader.tui.widgets.status_bar import StatusBar

        self.query_one(StatusBar).progress(None, None)
        self.syncing = True
        self._sync_step = ""
        self._show_sync()

    def _sync_progress(self: ReaderApp, text: str) -> None:
        if self.syncing:
            self._sync_step = text
            self._show_sync()

    def _synced(self: ReaderApp, summary: RefreshSummary, result: SyncSummary | None, error: Exception | None) -> None:
        from reader.sync.client import SyncError
        from reader.tui.widgets.status_bar import StatusBar

        self.syncing = False
        self._sync_step = ""
        self.refreshing = False
        if error is not None and not isinstance(error, SyncError) and self.cache_failed(error):
            return
        self.query_one(StatusBar).progress(None, None)
        self.last_failed = summary.failed
        self._marker = self.store.change_marker()  # what this changed is reloaded here
        self.reload()  # keeps the cursor on its post
        self.refresh_counts()  # and the sync state
        if result is not None:
            self.announce(result)  # the synced posts: rules' notify matches, and new posts after a background run
        background, self.background_refresh = self.background_refresh, False
        quiet = error is None and not summary.failed and not summary.new_entries and not (
            result and (result.warnings or result.new_entries)
        )
        if background and quiet:
            return  # a background run with nothing to say says nothing: the status line says when it ran
        lines = [summary.line()] if summary.outcomes else []
        if result is not None:
            lines.append(result.line())
            lines.extend(result.warnings)
        elif isinstance(error, SyncError):
            lines.append(f"Sync failed: {error}")
        elif error is not None:
            lines.append(f"Sync failed: {type(error).__name__}: {error}")
        if summary.failed:
            lines.append("Press e for the errors.")
        bad = error is not None or bool(summary.failed) or bool(result and result.warnings)
        self.notify("\n".join(lines), title="Sync", severity="error" if error is not None else
                    "warning" if bad else "information", markup=False, timeout=10 if bad else None)
        if self._push_again:  # marks made while it ran, after its push step
            self._push_again = False
            self.changed_locally()
