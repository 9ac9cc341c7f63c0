"""The Textual app: a thin client of the core (store, query, render, refresh).

Everything slow runs in thread workers: loading the id list for a filter, rendering
a post, counting unread posts for the sidebar, refreshing feeds. The UI thread only
swaps finished results in. Feed text reaches the screen only as rich Text (or
through PostList, which never parses markup).
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
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from reader.config import DB_NAME, Settings, load_settings, save_setting
from reader.models import EntryRow, Feed, FeedOutcome, RefreshSummary
from reader.query import QueryError, parse_query
from reader.sanitize import safe_url
from reader.store import Store, StoreError, explain_db_error
from reader.tui.source import StoreSource
from reader.tui.widgets.filter_bar import FilterBar
from reader.tui.widgets.post_list import PostList
from reader.tui.widgets.reading_pane import OpenPost, ReadingPane, build_post, render_lines
from reader.tui.widgets.sidebar import ALL, Scope, Sidebar
from reader.tui.widgets.status_bar import StatusBar

# Asking before marking this many posts read at once.
CONFIRM_MARK_ALL = 50
# Seconds between looks for another process's changes to the cache (a cron refresh).
EXTERNAL_CHANGE_POLL = 3.0


def _link_bindings() -> list[Binding]:
    return [
        Binding(str(n), f"open_link({n})", f"Open link {n}", show=False, id=f"app.link_{n}")
        for n in range(1, 10)
    ]


class ReaderApp(App[int]):
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
        yield Footer()

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
        self._marker = self.store.change_marker()
        self.set_interval(EXTERNAL_CHANGE_POLL, self._check_external_changes)

    def _check_external_changes(self) -> None:
        """Another process (`reader refresh` from cron, `reader add`) changed the cache: show it."""
        if self.refreshing:
            return  # our own refresh reloads when it is done
        try:
            marker = self.store.change_marker()
        except (StoreError, sqlite3.DatabaseError):
            return  # a busy or damaged cache is reported by the next real query
        if marker != self._marker:
            self._marker = marker
            self.reload(keep_current=True)
            self.refresh_counts()

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

    # --- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def _startup(self) -> None:
        if self.store.get_meta("welcome_offered") is None:
            # Imports feedparser: only ever on a brand-new cache, and off the UI thread.
            from reader.welcome import offer_welcome

            offer_welcome(self.store)
        source = StoreSource.query(self.store)
        self.call_from_thread(self._apply_source, source, None)
        feeds, counts = self.store.list_feeds(), self.store.counts()
        self.call_from_thread(self._apply_counts, feeds, counts, source, source.unread_count())
        if self.settings.refresh_on_start:
            self.call_from_thread(self.action_refresh_feeds)

    def _where(self) -> tuple[str, list[object]] | None:
        clauses: list[str] = []
        params: list[object] = []
        scope_where, scope_params = self.scope.to_sql()
        if scope_where:
            clauses.append(scope_where)
            params.extend(scope_params)
        try:
            where, query_params = parse_query(self.query_text).to_sql()
        except QueryError:
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
        self.post_list.empty_text = "No posts match" if (self.query_text or self.scope != ALL) else "No posts yet"
        self.post_list.set_source(source, keep_entry_id=keep)
        self.list_loaded_at = time.perf_counter()
        self._update_status()

    def refresh_counts(self) -> None:
        self._load_counts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def _load_counts(self) -> None:
        feeds, counts = self.store.list_feeds(), self.store.counts()
        source = self.source
        unread = source.unread_count() if source is not None else 0
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._apply_counts, feeds, counts, source, unread)

    def _apply_counts(
        self, feeds: list[Feed], counts: tuple[int, int, int], source: StoreSource | None = None, unread: int = 0
    ) -> None:
        self.feeds = feeds
        self.counts = counts
        if source is not None and source is self.source:
            self.shown_unread = unread
        self.sidebar.populate(feeds, counts)
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
        self.query_one(StatusBar).show(
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

    def action_pick_category(self) -> None:
        self._load_categories()

    @work(thread=True, exclusive=True, exit_on_error=False, group="categories")
    def _load_categories(self) -> None:
        categories = self.store.category_counts()
        self.call_from_thread(self._show_picker, categories)

    def _show_picker(self, categories: list[tuple[str, int, int]]) -> None:
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

    # --- reading ------------------------------------------------------------------------

    @on(PostList.Selected)
    def _row_selected(self, event: PostList.Selected) -> None:
        self.open_post(event.entry)

    def open_post(self, row: EntryRow) -> None:
        pane = self.reading_pane
        pane.show_loading(row)
        self.post_shown_at = self.post_complete_at = 0.0
        self.set_reading(True)
        if self.narrow:
            # The pane takes the screen: j/k scroll it. Wide, the list keeps the focus (j/k
            # move, Space pages the post), which also spares a restyle and footer rebuild.
            pane.focus()
        self._render_post(row.id, pane.body_width)
        if self._mark_timer is not None:
            self._mark_timer.stop()
            self._mark_timer = None
        after = self.settings.mark_read_after
        if after == 0 and not row.read:
            self._set_flag(row.id, "read", True)  # (set_timer(0) divides by zero in Textual)
        elif after > 0 and not row.read:
            self._mark_timer = self.set_timer(after, lambda: self._mark_read_if_open(row.id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="render")
    def _render_post(self, entry_id: int, width: int) -> None:
        entry = self.store.get_entry(entry_id)
        if entry is None or get_current_worker().is_cancelled:
            return
        worker = get_current_worker()

        def preview(lines: list) -> None:
            if not worker.is_cancelled:
                painted = threading.Event()
                self.call_from_thread(self._show_preview, entry_id, lines, painted)
                # Step aside (no GIL) until the UI thread has painted the first screen, so
                # laying out the rest does not compete with that paint.
                painted.wait(0.25)

        post = build_post(entry, self.console, width, on_preview=preview)
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_post, post)

    def _show_preview(self, entry_id: int, lines: list, painted: threading.Event) -> None:
        if self.reading_pane.show_preview(entry_id, lines):
            self.post_shown_at = time.perf_counter()
            self.call_after_refresh(painted.set)
        else:
            painted.set()

    def _show_post(self, post: OpenPost) -> None:
        if self.reading_pane.pending_id == post.entry.id:
            self.reading_pane.show(post)
            self.post_shown_at = self.post_shown_at or time.perf_counter()
            self.post_complete_at = time.perf_counter()

    @on(ReadingPane.Relayout)
    def _relayout(self, event: ReadingPane.Relayout) -> None:
        self._relayout_post(event.post, event.width)

    @work(thread=True, exclusive=True, exit_on_error=False, group="relayout")
    def _relayout_post(self, post: OpenPost, width: int) -> None:
        lines = render_lines(self.console, post.body, width)
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self.reading_pane.relaid, post, lines, width)

    def _open_id(self) -> int | None:
        pane = self.reading_pane
        if pane.pending_id is not None:
            return pane.pending_id
        return pane.post.entry.id if pane.post else None

    def _mark_read_if_open(self, entry_id: int) -> None:
        self._mark_timer = None
        if self._open_id() == entry_id:
            self._set_flag(entry_id, "read", True)

    def _set_flag(self, entry_id: int, flag: str, value: bool) -> None:
        try:
            self.store.set_flag([entry_id], flag, value)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.post_list.update_row(entry_id, **{flag: value})
        post = self.reading_pane.post
        if post is not None and post.entry.id == entry_id:
            setattr(post.entry, flag, value)
            self.reading_pane.update_header()
        self.refresh_counts()

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

    def close_post(self) -> None:
        self.post_list.focus()  # before the pane stops taking the focus
        self.reading_pane.clear()
        self.set_reading(False)

    def action_page(self) -> None:
        pane = self.reading_pane
        if pane.post is None and pane.pending_id is None:
            entry = self.post_list.current_entry
            if entry is not None:
                self.open_post(entry)
            return
        if not pane.at_end:
            pane.scroll_page_down(animate=False)
            return
        posts = self.post_list
        open_id = self._open_id()
        current = posts.current_entry
        if current is not None and current.id == open_id:
            if posts.cursor + 1 >= posts.row_count:
                self.notify("That was the last post.", markup=False)
                return
            posts.cursor += 1
        entry = posts.current_entry
        if entry is not None:
            self.open_post(entry)

    def _go_unread(self, step: int) -> None:
        if self.source is None:
            return
        cursor = self.post_list.cursor
        current = self.post_list.current_entry
        if current is not None and current.id != self._open_id():
            cursor -= step  # the post under the cursor is not open yet: it counts too
        index = self.source.find_unread(cursor, step)
        if index is None:
            self.notify("No more unread posts" + (" below." if step > 0 else " above."), markup=False)
            return
        self.post_list.cursor = index
        entry = self.post_list.get_row(index)
        if entry is not None:
            self.open_post(entry)

    def action_next_unread(self) -> None:
        self._go_unread(1)

    def action_previous_unread(self) -> None:
        self._go_unread(-1)

    def _target(self) -> EntryRow | None:
        """The post a key acts on: the one under the list cursor."""
        return self.post_list.current_entry

    def action_toggle_read(self) -> None:
        entry = self._target()
        if entry is None:
            return
        if self._mark_timer is not None and self._open_id() == entry.id:
            self._mark_timer.stop()  # an explicit choice beats the open-for-a-moment rule
            self._mark_timer = None
        self._set_flag(entry.id, "read", not entry.read)

    def action_toggle_star(self) -> None:
        entry = self._target()
        if entry is not None:
            self._set_flag(entry.id, "starred", not entry.starred)

    def _post_link(self) -> str | None:
        post = self.reading_pane.post
        if post is not None:
            return post.entry.link
        entry = self._target()
        return entry.link if entry else None

    def _open_url(self, url: str | None) -> None:
        safe = safe_url(url)
        if safe is None:
            self.notify("This post has no http(s) link to open.", severity="warning", markup=False)
            return
        self._browse(safe)
        self.notify(f"Opening {safe}", markup=False)

    @work(thread=True, exit_on_error=False, group="browser")
    def _browse(self, url: str) -> None:
        # webbrowser honours $BROWSER and runs it without a shell; only http(s) gets here.
        import webbrowser

        if not webbrowser.open(url):
            self.call_from_thread(self.notify, f"No browser could open {url}", severity="warning", markup=False)

    def action_open_in_browser(self) -> None:
        self._open_url(self._post_link())

    def action_open_link(self, number: int) -> None:
        post = self.reading_pane.post
        if post is None:
            self.notify("Open a post first (Enter).", markup=False)
            return
        if not 1 <= number <= len(post.links):
            self.notify(f"This post has no link {number}.", markup=False)
            return
        self._open_url(post.links[number - 1])

    def action_copy_url(self) -> None:
        url = safe_url(self._post_link())
        if url is None:
            self.notify("This post has no link to copy.", severity="warning", markup=False)
            return
        self.copy_to_clipboard(url)
        self.notify(f"Copied {url}", markup=False)

    def action_mark_all_read(self) -> None:
        if self.source is None or not len(self.source):
            return
        ids = list(self.source.ids)

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._mark_all(ids)

        if len(ids) > CONFIRM_MARK_ALL:
            from reader.tui.screens.confirm import ConfirmScreen

            self.push_screen(ConfirmScreen(f"Mark all {len(ids)} posts shown read?", yes="Mark read"), go)
        else:
            go(True)

    @work(thread=True, exit_on_error=False, group="mark")
    def _mark_all(self, ids: list[int]) -> None:
        changed = self.store.set_flag(ids, "read", True)
        self.call_from_thread(self._marked_all, changed)

    def _marked_all(self, changed: int) -> None:
        self.notify(f"Marked {changed} posts read.", markup=False)
        self.reload()
        self.refresh_counts()

    # --- feeds --------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self._refresh_stop.set()
        await super().action_quit()

    def action_refresh_feeds(self) -> None:
        if self.refreshing:
            self.notify("Already refreshing.", markup=False)
            return
        self.refreshing = True
        self.query_one(StatusBar).progress(0, max(len(self.feeds), 1))
        self._refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def _refresh(self) -> None:
        from reader.fetch import FetchOptions
        from reader.refresh import refresh

        options = FetchOptions(timeout=self.settings.timeout, concurrency=self.settings.concurrency)
        status = self.query_one(StatusBar)

        def progress(done: int, total: int, outcome: FeedOutcome) -> None:
            if not self._refresh_stop.is_set():
                self.call_from_thread(status.progress, done, total)

        try:
            summary = refresh(self.store, options=options, progress=progress, stop=self._refresh_stop)
        except Exception as exc:  # a refresh must never take the app down
            if not self._refresh_stop.is_set():
                self.call_from_thread(self._refresh_failed, str(exc))
            return
        if not summary.stopped:
            self.call_from_thread(self._refresh_done, summary)

    def _refresh_failed(self, message: str) -> None:
        self.refreshing = False
        self.query_one(StatusBar).progress(None, None)
        self.notify(f"Refresh failed: {message}", severity="error", markup=False)

    def _refresh_done(self, summary: RefreshSummary) -> None:
        self.refreshing = False
        self.query_one(StatusBar).progress(None, None)
        self.last_failed = summary.failed
        self._marker = self.store.change_marker()  # what this refresh changed is reloaded here
        self.reload()
        self.refresh_counts()
        if summary.failed:
            self.notify(
                f"{summary.line()}. Press e for the errors.",
                title="Refresh", severity="warning", markup=False, timeout=8,
            )
        else:
            self.notify(summary.line(), title="Refresh", markup=False)

    def action_show_errors(self) -> None:
        from reader.tui.screens.errors import ErrorsScreen

        failed = self.last_failed or [
            FeedOutcome(f.url, "error", error=f.last_error) for f in self.feeds if f.last_error
        ]
        if not failed:
            self.notify("No feed errors.", markup=False)
            return
        self.push_screen(ErrorsScreen(failed, {f.url: f.display_title for f in self.feeds}))

    def action_add_feed(self) -> None:
        from reader.tui.screens.add_feed import AddFeedScreen

        def added(summary: str | None) -> None:
            if summary:
                self.notify(summary, markup=False)
                self.reload()
                self.refresh_counts()

        self.push_screen(AddFeedScreen(self.store, self.settings.timeout), added)

    def _feed_under_cursor(self) -> tuple[str, str] | None:
        """The selected sidebar feed (when the sidebar has the focus), else the post's feed."""
        if self.focused is self.sidebar:
            scope = self.sidebar.highlighted_scope
            if scope is not None and scope.kind == "feed" and scope.feed_url:
                return scope.feed_url, scope.label
            return None
        entry = self._target()
        if entry is None:
            return None
        return entry.feed_url, entry.feed_title

    def action_remove_feed(self) -> None:
        from reader.tui.screens.confirm import ConfirmScreen

        target = self._feed_under_cursor()
        if target is None:
            self.notify("Select a feed in the sidebar, or a post, to remove its feed.", markup=False)
            return
        url, title = target
        total, starred = self.store.feed_post_counts(url)
        question = f"Remove the feed {title}?\n{url}\nIts {total} post{'s' if total != 1 else ''} leave the cache."
        if starred:
            question += f"\n{starred} starred post{'s' if starred != 1 else ''} will be removed too."

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._remove_feed(url, title)

        self.push_screen(ConfirmScreen(question, "Remove"), go)

    @work(thread=True, exit_on_error=False, group="remove")
    def _remove_feed(self, url: str, title: str) -> None:
        # A worker: dropping a feed of thousands of posts takes a moment (the search index).
        self.store.remove_feed(url)
        self.call_from_thread(self._feed_removed, url, title)

    def _feed_removed(self, url: str, title: str) -> None:
        if self.scope.feed_url == url:
            self.set_scope(ALL, reload=False)
        post = self.reading_pane.post
        if post is not None and post.entry.feed_url == url:
            self.close_post()
        self.notify(f"Removed {title}", markup=False)
        self.reload()
        self.refresh_counts()

    # --- help and the command palette ---------------------------------------------------

    def action_help(self) -> None:
        from reader.tui.screens.help import HelpScreen, binding_rows

        self.push_screen(HelpScreen(binding_rows(self.all_bindings(), self.settings.keymap)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every background job's failure ends up here, as one readable notification."""
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        if isinstance(error, sqlite3.DatabaseError):
            error = explain_db_error(error, self.store.path)
        if isinstance(error, (StoreError, QueryError)):
            message = str(error)
        else:
            message = f"{event.worker.group} failed: {type(error).__name__}: {error}"
        self.notify(message, title="Something went wrong", severity="error", markup=False, timeout=10)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Help: all keys", "Show every key and its binding id", self.action_help),
            ("Filter posts", "Type a query: words, category:NAME, is:unread, since:7d", self.action_filter),
            ("Pick a category", "Filter the list to one category", self.action_pick_category),
            ("Toggle unread only", "Show only unread posts, or all", self.action_toggle_unread_only),
            ("Next unread post", "Open the next unread post", self.action_next_unread),
            ("Previous unread post", "Open the previous unread post", self.action_previous_unread),
            ("Toggle read", "Mark the post under the cursor read or unread", self.action_toggle_read),
            ("Toggle star", "Star or unstar the post under the cursor", self.action_toggle_star),
            ("Open in browser", "Open the post's link in the web browser", self.action_open_in_browser),
            ("Copy post URL", "Copy the post's link to the clipboard", self.action_copy_url),
            ("Mark all shown read", "Mark every post in the list read", self.action_mark_all_read),
            ("Refresh all feeds", "Fetch every feed in the background", self.action_refresh_feeds),
            ("Show refresh errors", "Details of the feeds that failed", self.action_show_errors),
            ("Add a feed", "Subscribe to a feed URL", self.action_add_feed),
            ("Remove feed", "Unsubscribe from the feed under the cursor", self.action_remove_feed),
        ]
        keys = {b.action.split("(")[0]: b for b in self.all_bindings()}
        for title, help_text, callback in commands:
            binding = keys.get(callback.__name__.removeprefix("action_"))
            if binding is not None and binding.id:
                from reader.tui.screens.help import key_label

                title = f"{title} · {key_label(self.settings.keymap.get(binding.id, binding.key))}"
            yield SystemCommand(title, help_text, callback)


def run_app(data_dir: Path) -> int:
    """Open the app on the cache in `data_dir`. Returns the exit status.

    A damaged cache raises CorruptCacheError before anything is drawn; the CLI
    offers to move it aside.
    """
    store = Store(data_dir / DB_NAME)
    app = ReaderApp(store)
    result = app.run()
    store.close()
    return result if isinstance(result, int) else (app.return_code or 0)
