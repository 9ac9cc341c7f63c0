"""The Textual app: a thin client of the core (store, query, render, refresh).

Everything slow runs in thread workers: loading the id list for a filter, rendering
a post, counting unread posts for the sidebar, refreshing feeds. The UI thread only
swaps finished results in. Feed text reaches the screen only as rich Text (or
through PostList, which never parses markup).

The actions live in two mixins: reader/tui/actions_reading.py (open, page, marks,
links) and reader/tui/actions_feeds.py (refresh, add, remove, categories); the
command palette's entries in reader/tui/commands.py; the daemon worker threads that
let quitting never wait in reader/tui/lifecycle.py.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from reader.config import DB_NAME, Settings, load_settings, save_setting
from reader.models import Feed, FeedOutcome
from reader.query import QueryError, parse_query
from reader.store import CorruptCacheError, Store, StoreError, explain_db_error
from reader.tui.actions_feeds import FeedActions
from reader.tui.actions_reading import ReadingActions
from reader.tui.commands import REPLACED_SYSTEM_COMMANDS, reader_commands
from reader.tui.footer import ReaderFooter
from reader.tui.lifecycle import install_daemon_executor
from reader.tui.source import StoreSource
from reader.tui.widgets.filter_bar import FilterBar
from reader.tui.widgets.post_list import PostList
from reader.tui.widgets.reading_pane import ReadingPane
from reader.tui.widgets.sidebar import ALL, Scope, Sidebar
from reader.tui.widgets.status_bar import StatusBar

# Seconds between looks for another process's changes to the cache (a cron refresh, `reader mark`).
EXTERNAL_CHANGE_POLL = 3.0


def _link_bindings() -> list[Binding]:
    return [
        Binding(str(n), f"open_link({n})", f"Open link {n}", show=False, id=f"app.link_{n}")
        for n in range(1, 10)
    ]


class ReaderApp(ReadingActions, FeedActions, App[int]):
    """The feed reader."""

    TITLE = "reader"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("slash", "filter", "Filter", id="app.filter"),
        Binding("c", "pick_category", "Category", id="app.category"),
        Binding("u", "toggle_unread_only", "Unread only", id="app.unread_only"),
        Binding("space", "page", "Page / next", show=False, id="app.page"),
        Binding("n", "next_unread", "Next unread", id="app.next_unread"),
        Binding("p", "previous_unread", "Previous unread", show=False, id="app.previous_unread"),
        Binding("r", "toggle_read", "Read/unread", id="app.toggle_read"),
        Binding("s", "toggle_star", "Star", id="app.toggle_star"),
        Binding("o", "open_in_browser", "Open in browser", show=False, id="app.open_browser"),
        *_link_bindings(),
        Binding("y", "copy_url", "Copy URL", show=False, id="app.copy_url"),
        Binding("A", "mark_all_read", "Mark all read", show=False, id="app.mark_all_read"),
        Binding("R", "refresh_feeds", "Refresh", id="app.refresh"),
        Binding("a", "add_feed", "Add feed", show=False, id="app.add_feed"),
        Binding("d", "remove_feed", "Remove feed", show=False, id="app.remove_feed"),
        Binding("e", "show_errors", "Refresh errors", show=False, id="app.errors"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings or load_settings()
        self.scope: Scope = ALL
        self.query_text = ""
        self.unread_only = False
        self.source: StoreSource | None = None
        self.counts: tuple[int, int, int] = (0, 0, 0)
        self.shown_unread = 0  # unread posts among those the list shows
        self.feeds: list[Feed] = []
        self.last_failed: list[FeedOutcome] = []
        self.refreshing = False
        self._refresh_stop = threading.Event()  # set on quit: a refresh in flight is abandoned at once
        self.note = ""
        self._mark_timer: Timer | None = None
        self.reading = False
        self._theme_ready = False
        self._load_started = 0.0
        self._marker: tuple[object, ...] | None = None
        self._open_first_unread_on_load = False  # `n` moved on to another feed or category
        # A damaged cache found while running: the app exits and run_app raises it for the CLI.
        self.fatal_error: CorruptCacheError | None = None
        # For tests and the benchmark: when the last list load and post render landed.
        self.list_loaded_at = 0.0
        self.post_shown_at = 0.0  # the post's first screen of text
        self.post_complete_at = 0.0  # the whole post laid out

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar")
            with Vertical(id="right"):
                yield FilterBar(id="filter-bar")
                yield PostList(id="posts", empty_text="Loading…")
                yield ReadingPane(id="reading")
        yield StatusBar(id="status")
        yield ReaderFooter()

    @property
    def post_list(self) -> PostList:
        return self.query_one("#posts", PostList)

    @property
    def reading_pane(self) -> ReadingPane:
        return self.query_one("#reading", ReadingPane)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one("#sidebar", Sidebar)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one("#filter-bar", FilterBar)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def narrow(self) -> bool:
        return self.screen_stack[0].has_class("-narrow")

    def set_reading(self, reading: bool) -> None:
        """A post is open and has the user's attention (Esc leaves it)."""
        self.reading = reading
        self._sync_reading_class()

    def _sync_reading_class(self) -> None:
        # Only narrow layouts change with it; a class change on the screen restyles the
        # whole DOM, so wide layouts are spared that cost on every Enter and Esc.
        screen = self.screen_stack[0]
        narrow_reading = self.reading and screen.has_class("-narrow")
        screen.set_class(narrow_reading, "-reading")
        if narrow_reading and self.focused is self.post_list:
            self.reading_pane.focus()  # the list is hidden now: keys go to the post

    @on(StatusBar.Resized)
    def _layout_changed(self) -> None:
        # The screen sets its breakpoint classes before its widgets get their new sizes;
        # the status bar (always shown, full width) reports a width change after that.
        self._sync_reading_class()

    def on_mount(self) -> None:
        install_daemon_executor()  # before the first worker: quitting never waits on one
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        elif self.settings.theme:
            self.notify(f"Unknown theme {self.settings.theme!r} in the config", severity="warning", markup=False)
        self._theme_ready = True
        self._apply_keymap(self.settings.keymap)
        if self.settings.error:
            self.notify(self.settings.error, title="Config", severity="warning", markup=False, timeout=10)
        self.post_list.focus()
        self._startup()
        self.set_interval(EXTERNAL_CHANGE_POLL, self._check_external_changes)

    def _check_external_changes(self) -> None:
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

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        known = {b.id for b in self.all_bindings() if b.id}
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(f"Unknown binding ids in [keys]: {', '.join(unknown)}", severity="warning", markup=False)
        self.set_keymap({k: v for k, v in keymap.items() if k in known})

    def all_bindings(self) -> list[Binding]:
        """Every binding with an id, for the help screen and the keymap check."""
        found: list[Binding] = []
        for cls in (PostList, ReaderApp, ReadingPane, Sidebar, FilterBar):
            for binding in cls.BINDINGS:
                if isinstance(binding, Binding) and binding.id and binding.id not in {b.id for b in found}:
                    found.append(binding)
        return found

    def watch_theme(self, theme: str) -> None:
        if self._theme_ready:
            try:
                save_setting("theme", theme, self.settings.path)
            except OSError as exc:
                self.notify(f"Could not save the theme: {exc}", severity="warning", markup=False)

    # --- notifications, errors and quitting -------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # The same message again while it is still shown (Space at the last post, held
        # down) would stack identical toasts: the one on screen says it already.
        if threading.get_ident() == self._thread_id:
            for shown in self._notifications:
                if shown.message == message and shown.title == title and shown.severity == severity:
                    return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def cache_failed(self, error: BaseException) -> bool:
        """A damaged cache, from any worker or handler, ends up here: the app exits cleanly
        and run_app raises it, so the CLI says what is wrong and offers to move it aside.
        Returns whether `error` was such a failure."""
        if isinstance(error, sqlite3.DatabaseError):
            error = explain_db_error(error, self.store.path)
        if not isinstance(error, CorruptCacheError):
            return False
        if self.fatal_error is None:
            self.fatal_error = error
            self._refresh_stop.set()
            self.exit(1, return_code=1)
        return True

    def _handle_exception(self, error: Exception) -> None:
        # The one place every unhandled error passes: a damaged cache exits cleanly, and a
        # widget looked up while the app is shutting down (a key or a worker's result that
        # arrived after `q`) is not a failure.
        if self.cache_failed(error):
            return
        if self._exit and isinstance(error, NoMatches):
            return
        super()._handle_exception(error)

    async def run_action(self, action: str | object, default_namespace: object = None) -> bool:
        if self._exit:
            return False  # keys typed after `q` (q then a) act on nothing: the widgets are going
        return await super().run_action(action, default_namespace)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every background job's failure ends up here, as one readable notification."""
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None or self._exit:
            return
        if self.cache_failed(error):
            return
        if isinstance(error, sqlite3.DatabaseError):
            error = explain_db_error(error, self.store.path)
        if isinstance(error, (StoreError, QueryError)):
            message = str(error)
        else:
            message = f"{event.worker.group} failed: {type(error).__name__}: {error}"
        self.notify(message, title="Something went wrong", severity="error", markup=False, timeout=10)

    async def action_quit(self) -> None:
        self._refresh_stop.set()
        await super().action_quit()

    # --- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def _startup(self) -> None:
        if self.store.get_meta("welcome_offered") is None:
            # Imports feedparser: only ever on a brand-new cache, and off the UI thread.
            from reader.welcome import offer_welcome

            offer_welcome(self.store)
        source = StoreSource.query(self.store)
        self.call_from_thread(self._apply_source, source, None)
        feeds, counts, categories = self.store.list_feeds(), self.store.counts(), self.store.category_unread()
        self.call_from_thread(self._apply_counts, feeds, counts, source, source.unread_count(), categories)
        self.call_from_thread(self._set_marker)
        if self.settings.refresh_on_start:
            self.call_from_thread(self.action_refresh_feeds)

    def _set_marker(self) -> None:
        # Read on the UI thread, whose connection the poll uses (data_version is per connection).
        self._marker = self.store.change_marker()

    def _where(self) -> tuple[str, list[object]] | None:
        clauses: list[str] = []
        params: list[object] = []
        scope_where, scope_params = self.scope.to_sql()
        if scope_where:
            clauses.append(scope_where)
            params.extend(scope_params)
        try:
            where, query_params = parse_query(self.query_text).to_sql()
        except (QueryError, ValueError, OverflowError):
            return None  # the filter bar shows the error; keep the current list
        if where:
            clauses.append(where)
            params.extend(query_params)
        if self.unread_only:
            clauses.append("e.read = 0")
        return " AND ".join(f"({c})" for c in clauses), params

    def reload(self, keep_current: bool = True) -> None:
        """Re-run the active filter in a worker and swap its rows in."""
        where = self._where()
        if where is None:
            return
        current = self.post_list.current_entry if keep_current else None
        self._load_started = time.perf_counter()
        self._load(where[0], where[1], current.id if current else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter")
    def _load(self, where: str, params: list[object], keep: int | None) -> None:
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

    def _apply_shown_unread(self, source: StoreSource, unread: int) -> None:
        if source is self.source:
            self.shown_unread = unread
            self._update_status()

    def _apply_source(self, source: StoreSource, keep: int | None) -> None:
        self.source = source
        self.post_list.empty_text = "No posts match" if (self.query_text or self.scope != ALL) else self._no_posts()
        self.post_list.set_source(source, keep_entry_id=keep)
        self.list_loaded_at = time.perf_counter()
        self._update_status()
        if self._open_first_unread_on_load:
            self._open_first_unread_on_load = False
            self.open_first_unread()

    def _no_posts(self) -> str:
        from reader.tui.screens.help import key_label

        binding = next(b for b in ReaderApp.BINDINGS if isinstance(b, Binding) and b.id == "app.add_feed")
        return f"No posts yet — press {key_label(self.settings.keymap.get('app.add_feed', binding.key))} to add a feed"

    def refresh_counts(self) -> None:
        self._load_counts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def _load_counts(self) -> None:
        feeds, counts, categories = self.store.list_feeds(), self.store.counts(), self.store.category_unread()
        source = self.source
        unread = source.unread_count() if source is not None else 0
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._apply_counts, feeds, counts, source, unread, categories)

    def _apply_counts(
        self,
        feeds: list[Feed],
        counts: tuple[int, int, int],
        source: StoreSource | None = None,
        unread: int = 0,
        categories: dict[str, int] | None = None,
    ) -> None:
        self.feeds = feeds
        self.counts = counts
        if source is not None and source is self.source:
            self.shown_unread = unread
        self.sidebar.populate(feeds, counts, categories)
        self._update_status()

    def last_refresh(self) -> tuple[float | None, bool]:
        """When feeds were last checked, and whether that refresh found no network at all."""
        fetched = [f for f in self.feeds if f.last_checked is not None and not f.url.startswith("reader:")]
        if not fetched:
            return None, False
        latest = max(f.last_checked or 0 for f in fetched)
        recent = [f for f in fetched if (f.last_checked or 0) >= latest - 120]
        return latest, all(f.last_error for f in recent)

    def _update_status(self) -> None:
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

    # --- the sidebar and the filter -----------------------------------------------------

    @on(Sidebar.ScopeSelected)
    def _scope_selected(self, event: Sidebar.ScopeSelected) -> None:
        self.set_scope(event.scope)
        self.post_list.focus()

    def set_scope(self, scope: Scope, reload: bool = True) -> None:
        """Show `scope`; the sidebar marks it as the active one and moves its cursor there."""
        self.scope = scope
        self.sidebar.show_active(scope)
        if reload:
            self.reload(keep_current=False)

    def action_filter(self) -> None:
        self.filter_bar.add_class("-visible")
        self.filter_bar.input.focus()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.query_text = event.text.strip()
        self.reload(keep_current=False)

    @on(FilterBar.Done)
    def _filter_done(self, event: FilterBar.Done) -> None:
        if event.cleared or not self.filter_bar.value.strip():
            self.filter_bar.remove_class("-visible")
        self.post_list.focus()

    def set_filter(self, text: str) -> None:
        self.filter_bar.set_value(text)
        self.filter_bar.set_class(bool(text), "-visible")
        self.query_text = text
        self.reload(keep_current=False)

    def action_toggle_unread_only(self) -> None:
        self.unread_only = not self.unread_only
        self.reload()

    # --- reading (the handlers; the actions are in actions_reading.py) ------------------------

    @on(PostList.Selected)
    def _row_selected(self, event: PostList.Selected) -> None:
        self.open_post(event.entry)

    @on(ReadingPane.Relayout)
    def _relayout(self, event: ReadingPane.Relayout) -> None:
        self._relayout_post(event.post, event.width)

    def action_back(self) -> None:
        """Esc: one visible step back per press, and the keys go to the list again.

        (Dialogs close on Esc themselves.) Narrow: leave the open post; then clear the
        filter; then return the scope to All; then (wide) close the open post.
        """
        if self.narrow and self.reading:
            self.set_reading(False)
        elif self.query_text or self.filter_bar.has_class("-visible"):
            self.set_filter("")
        elif self.scope != ALL:
            self.set_scope(ALL)
        elif not self.narrow and self._open_id() is not None:
            self.close_post()
        self.post_list.focus()

    # --- help and the command palette ---------------------------------------------------

    def action_help(self) -> None:
        from reader.tui.screens.help import HelpScreen, binding_rows

        self.push_screen(HelpScreen(binding_rows(self.all_bindings(), self.settings.keymap)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel would be a second help entry next to ours.
        yield from (c for c in super().get_system_commands(screen) if c.title not in REPLACED_SYSTEM_COMMANDS)
        yield from reader_commands(self)


def run_app(data_dir: Path) -> int:
    """Open the app on the cache in `data_dir`. Returns the exit status.

    A damaged cache raises CorruptCacheError, before anything is drawn or (when a
    worker finds the damage) after the app has closed; the CLI says so and offers to
    move it aside.
    """
    store = Store(data_dir / DB_NAME)
    app = ReaderApp(store)
    try:
        result = app.run()
    finally:
        store.close()
    if app.fatal_error is not None:
        raise app.fatal_error
    return result if isinstance(result, int) else (app.return_code or 0)
