"""The Textual app: a thin client of the core (store, query, render, refresh).

Everything slow runs in thread workers: loading the id list for a filter, rendering
a post, counting unread posts for the sidebar, refreshing feeds. The UI thread only
swaps finished results in. Feed text reaches the screen only as rich Text (or
through PostList, which never parses markup).

This module holds the layout, the key bindings and the message handlers; the rest
of ReaderApp comes from mixins: reader/tui/loading.py (the list, counts, status line
and other processes' changes), reader/tui/actions_reading.py (open, page, marks),
reader/tui/links.py (o, 1…9, y), reader/tui/actions_feeds.py (refresh, add, remove, categories),
reader/tui/sync.py (R, the status line's sync part and pushes with an account) and
reader/tui/lifecycle.py (a damaged cache, quitting without waiting on worker
threads, notifications). The command palette's entries are in reader/tui/commands.py
and the footer in reader/tui/footer.py.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from reader.config import DB_NAME, Settings, load_settings, save_setting
from reader.models import Feed, FeedOutcome
from reader.query import QueryError
from reader.store import CorruptCacheError, Store, StoreError, explain_db_error
from reader.tui.actions_feeds import FeedActions
from reader.tui.actions_reading import ReadingActions
from reader.tui.commands import REPLACED_SYSTEM_COMMANDS, reader_commands
from reader.tui.footer import ReaderFooter
from reader.tui.fulltext import FullTextActions
from reader.tui.hooks import HookActions
from reader.tui.labels import LabelActions
from reader.tui.lifecycle import LifecycleMixin, install_daemon_executor
from reader.tui.links import LinkActions
from reader.tui.loading import LoadingMixin
from reader.tui.media import MediaActions
from reader.tui.schedule import ScheduleMixin
from reader.tui.source import StoreSource
from reader.tui.sync import SyncMixin
from reader.tui.widgets.filter_bar import FilterBar
from reader.tui.widgets.post_list import PostList
from reader.tui.widgets.reading_pane import ReadingPane
from reader.tui.widgets.sidebar import ALL, Scope, Sidebar
from reader.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from reader.images.cache import ImageCache

# The interpreter's thread switch interval while the app runs (seconds; Python's default is 0.005).
FRAME_SWITCH_INTERVAL = 0.001

# Seconds between looks for another process's changes to the cache (a cron refresh, `reader mark`).
EXTERNAL_CHANGE_POLL = 3.0


def _link_bindings() -> list[Binding]:
    return [
        Binding(str(n), f"open_link({n})", f"Open link {n}", show=False, id=f"app.link_{n}")
        for n in range(1, 10)
    ]


class ReaderApp(
    SyncMixin, LoadingMixin, ReadingActions, LinkActions, FullTextActions, MediaActions, FeedActions, LabelActions,
    HookActions, ScheduleMixin, LifecycleMixin, App[int]
):
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
        Binding("f", "fetch_article", "Fetch full article", show=False, id="app.fetch_article"),
        Binding("t", "toggle_article", "Article / feed text", show=False, id="app.toggle_article"),
        Binding("m", "play_enclosure", "Play enclosure", show=False, id="app.play_enclosure"),
        Binding("D", "download_enclosure", "Download enclosure", show=False, id="app.download_enclosure"),
        Binding("T", "tag_post", "Tag post", show=False, id="app.tag_post"),
        Binding("vertical_line", "pipe_post", "Pipe post to command", show=False, id="app.pipe_post"),
        Binding("b", "bookmark_post", "Bookmark post", show=False, id="app.bookmark_post"),
        Binding("A", "mark_all_read", "Mark all read", show=False, id="app.mark_all_read"),
        Binding("R", "refresh_feeds", "Refresh", id="app.refresh"),
        Binding("a", "add_feed", "Add feed", show=False, id="app.add_feed"),
        Binding("d", "remove_feed", "Remove feed", show=False, id="app.remove_feed"),
        Binding("e", "show_errors", "Errors (feeds, sync)", show=False, id="app.errors"),
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
        self.external_poll: Timer | None = None  # the look for another process's changes (tests pause it)
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
        self._switch_interval = sys.getswitchinterval()  # the process's, put back at exit (on_mount)

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
        # Textual writes each frame from its own thread, and a worker hands its result to the UI thread;
        # each needs the GIL back after every step (a queue, an encode, a write to the terminal). At the
        # default 5 ms switch interval each hand-off waits up to 5 ms while another thread is busy: the
        # first frame reached the terminal ~30 ms after it was ready, and later ones as late whenever a
        # worker runs. 1 ms keeps that to a few ms, for well under 1% more thread switching. Put back
        # when the app ends (it is the process's setting).
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(FRAME_SWITCH_INTERVAL)
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
        self.start_loading()
        self.load_sync_state()
        self.start_background_refresh()
        self.external_poll = self.set_interval(EXTERNAL_CHANGE_POLL, self._check_external_changes)

    def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        known = {b.id for b in self.all_bindings() if b.id}
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(f"Unknown binding ids in [keys]: {', '.join(unknown)}", severity="warning", markup=False)
        self.set_keymap({k: v for k, v in keymap.items() if k in known})

    def image_cache(self) -> ImageCache | None:
        """Where posts' images are kept (beside the cache), or None with `images = false`."""
        from reader.images.cache import image_cache

        return image_cache(self.settings, self.store.path.parent)

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
