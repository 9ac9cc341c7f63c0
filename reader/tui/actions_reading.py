"""The app's reading actions: open, page, next unread, marks (links: reader/tui/links.py).

A mixin of ReaderApp (reader/tui/app.py), which owns the widgets, the store and the
settings these methods use. Message handlers (`@on`) stay in app.py: Textual only
collects them from classes built on its message pump.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from reader.models import EntryRow
from reader.store import StoreError
from reader.tui.post_layout import OpenPost, build_post, layout_blocks

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp

# Asking before marking this many posts read at once.
CONFIRM_MARK_ALL = 50


class ReadingActions:
    """Opening posts and acting on them."""

    # --- opening and rendering ------------------------------------------------------------

    def open_post(self: ReaderApp, row: EntryRow) -> None:
        pane = self.reading_pane
        pane.show_loading(row)
        self.post_shown_at = self.post_complete_at = 0.0
        self.set_reading(True)
        if self.narrow:
            # The pane takes the screen: j/k scroll it. Wide, the list keeps the focus (j/k
            # move, Space pages the post), which also spares a restyle and footer rebuild.
            pane.focus()
        self._render_post(row.id, pane.body_width)
        self._stop_mark_timer()
        after = self.settings.mark_read_after
        if after == 0 and not row.read:
            self._set_flag(row.id, "read", True)  # (set_timer(0) divides by zero in Textual)
        elif after > 0 and not row.read:
            self._mark_timer = self.set_timer(after, lambda: self._mark_read_if_open(row.id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="render")
    def _render_post(self: ReaderApp, entry_id: int, width: int, source: str = "auto") -> None:
        """Render a post off the UI thread. `source`: which text ("auto": the full article when
        there is one; "article"; "feed"), as `t` toggles it (reader/tui/fulltext.py)."""
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

        post = build_post(
            entry, self.console, width, on_preview=preview, source=source, downloads=self._downloads_dir()
        )
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._show_post, post)

    def _show_preview(self: ReaderApp, entry_id: int, lines: list, painted: threading.Event) -> None:
        if self.reading_pane.show_preview(entry_id, lines):
            self.post_shown_at = time.perf_counter()
            self.call_after_refresh(painted.set)
        else:
            painted.set()

    def _show_post(self: ReaderApp, post: OpenPost) -> None:
        if self.reading_pane.pending_id == post.entry.id:
            self.reading_pane.show(post)
            self.post_shown_at = self.post_shown_at or time.perf_counter()
            self.post_complete_at = time.perf_counter()

    @work(thread=True, exclusive=True, exit_on_error=False, group="relayout")
    def _relayout_post(self: ReaderApp, post: OpenPost, width: int) -> None:
        lines, starts = layout_blocks(self.console, post.blocks or [post.body], width)
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self.reading_pane.relaid, post, lines, starts, width)

    def _open_id(self: ReaderApp) -> int | None:
        pane = self.reading_pane
        if pane.pending_id is not None:
            return pane.pending_id
        return pane.post.entry.id if pane.post else None

    def close_post(self: ReaderApp) -> None:
        self.post_list.focus()  # before the pane stops taking the focus
        self.reading_pane.clear()
        self.set_reading(False)

    # --- marks ----------------------------------------------------------------------------

    def _stop_mark_timer(self: ReaderApp) -> None:
        if self._mark_timer is not None:
            self._mark_timer.stop()
            self._mark_timer = None

    def _mark_read_if_open(self: ReaderApp, entry_id: int) -> None:
        self._mark_timer = None
        if self._open_id() == entry_id:
            self._set_flag(entry_id, "read", True)

    def _mark_read_on_leaving(self: ReaderApp, entry_id: int) -> None:
        """Space past a post's end, or n/p moving on from it, means "read, next": it is read
        however long it was open.

        (Unless marking on opening is turned off: a negative mark_read_after.)
        """
        self._stop_mark_timer()
        if self.settings.mark_read_after < 0:
            return
        flags = self.store.entry_flags(entry_id)
        if flags is not None and not flags[0]:
            self._set_flag(entry_id, "read", True)

    def _set_flag(self: ReaderApp, entry_id: int, flag: str, value: bool) -> None:
        try:
            self.store.set_flag([entry_id], flag, value)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._show_flag(entry_id, flag, value)
        self.refresh_counts()
        self.changed_locally()  # with a sync account: sent to the server soon

    def _show_flag(self: ReaderApp, entry_id: int, flag: str, value: bool) -> None:
        self.post_list.update_row(entry_id, **{flag: value})
        post = self.reading_pane.post
        if post is not None and post.entry.id == entry_id and getattr(post.entry, flag) != value:
            setattr(post.entry, flag, value)
            self.reading_pane.update_header()

    def _target(self: ReaderApp) -> EntryRow | None:
        """The post a key acts on: the one under the list cursor."""
        return self.post_list.current_entry

    def _toggle(self: ReaderApp, flag: str) -> None:
        entry = self._target()
        if entry is None:
            return
        # The user asks for the opposite of what the row shows, whatever the cache says by
        # now: another process (`reader mark`, a second app) may have changed the mark since
        # the row was drawn, and toggling the stored mark would undo what the user asked for.
        wanted = not getattr(entry, flag)
        flags = self.store.entry_flags(entry.id)
        if flags is None:
            self.notify("That post is no longer in the cache.", markup=False)
            self.reload()
            return
        if flag == "read" and self._open_id() == entry.id:
            self._stop_mark_timer()  # an explicit choice beats the open-for-a-moment rule
        stored = flags[0] if flag == "read" else flags[1]
        if stored == wanted:
            # Already so: show it (the row was stale) and say why nothing changed.
            self._show_flag(entry.id, flag, wanted)
            self.refresh_counts()
            state = {"read": ("read", "unread"), "starred": ("starred", "unstarred")}[flag][0 if wanted else 1]
            self.notify(f"Already {state} (changed elsewhere)", markup=False)
            return
        self._set_flag(entry.id, flag, wanted)

    def action_toggle_read(self: ReaderApp) -> None:
        self._toggle("read")

    def action_toggle_star(self: ReaderApp) -> None:
        self._toggle("starred")

    def action_mark_all_read(self: ReaderApp) -> None:
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
    def _mark_all(self: ReaderApp, ids: list[int]) -> None:
        changed = self.store.set_flag(ids, "read", True)
        self.call_from_thread(self._marked_all, changed)

    def _marked_all(self: ReaderApp, changed: int) -> None:
        self.notify(f"Marked {changed} posts read.", markup=False)
        self.reload()
        self.refresh_counts()
        self.changed_locally()

    # --- moving through posts -------------------------------------------------------------

    def action_page(self: ReaderApp) -> None:
        self._page(wait=True)

    def _page(self: ReaderApp, wait: bool) -> None:
        pane = self.reading_pane
        if pane.post is None and pane.pending_id is None:
            entry = self.post_list.current_entry
            if entry is not None:
                self.open_post(entry)
            return
        if wait and not pane.laid_out:
            # The lines were just set (the post, or its preview, arrived): until the layout
            # catches up, "at the end" would be judged against the old height. Once, so a
            # hidden pane (narrow, the list showing) can't put it off for ever.
            self.call_after_refresh(self._page, False)
            return
        if not pane.at_end:
            pane.page_down()  # immediate: each press of a burst pages on from the last
            return
        if pane.pending_id is not None:
            return  # at the end of the preview while the rest is laid out: not past the post's end
        posts = self.post_list
        open_id = self._open_id()
        if open_id is not None:
            self._mark_read_on_leaving(open_id)
        current = posts.current_entry
        if current is not None and current.id == open_id:
            if posts.cursor + 1 >= posts.row_count:
                self.notify("That was the last post.", markup=False)
                return
            posts.cursor += 1
        entry = posts.current_entry
        if entry is not None:
            self.open_post(entry)

    def _go_unread(self: ReaderApp, step: int) -> None:
        if self.source is None:
            return
        open_id = self._open_id()
        cursor = self.post_list.cursor
        current = self.post_list.current_entry
        if current is not None and current.id != open_id:
            cursor -= step  # the post under the cursor is not open yet: it counts too
        index = self.source.find_unread(cursor, step)
        if index is not None and open_id is not None and self.source.ids[index] == open_id:
            index = self.source.find_unread(index, step)  # (the cursor was moved off the open post)
        if index is None:
            if step > 0:
                if self._next_scope_with_unread() and open_id is not None:
                    self._mark_read_on_leaving(open_id)
            else:
                self.notify("No more unread posts above.", markup=False)
            return
        if open_id is not None:
            # Moving on with n/p means "read, next", as Space past the end does: else a post
            # left within mark_read_after stays unread, and n comes back to it (A, B, A...).
            self._mark_read_on_leaving(open_id)
        self._open_at(index)

    def _open_at(self: ReaderApp, index: int) -> None:
        """Move the list cursor to row `index` and open that post."""
        self.post_list.cursor = index
        entry = self.post_list.get_row(index)
        if entry is not None:
            self.open_post(entry)

    def _next_scope_with_unread(self: ReaderApp) -> bool:
        """Like newsboat: past the last unread post of a feed (category), go on to the next
        feed (category) in the sidebar that has unread posts, and open its first. False if
        there is none."""
        here = self.scope
        following = self.sidebar.next_scope_with_unread(here)
        if following is None:
            where = "" if here.kind in ("all", "unread", "starred") else f" in {here.label}"
            self.notify(f"No more unread posts{where}.", markup=False)
            return False
        self.notify(f"No more unread in {here.label}; now in {following.label}.", markup=False)
        self._open_first_unread_on_load = True
        self.set_scope(following)
        return True

    def open_first_unread(self: ReaderApp) -> None:
        """After `n` moved to another scope: open its first unread post."""
        index = self.source.find_unread(-1, 1) if self.source is not None else None
        if index is None:
            self.notify("No unread posts here match the filter.", markup=False)
            return
        self._open_at(index)

    def action_next_unread(self: ReaderApp) -> None:
        self._go_unread(1)

    def action_previous_unread(self: ReaderApp) -> None:
        self._go_unread(-1)
