"""The app's tags and saved searches: `T` tags the post under the cursor (or the open post, when it
has the focus), `ctrl+s` in the filter bar saves the query as a saved search (shown in the sidebar
with its unread count), `d` on a saved search's sidebar row removes it after asking.

A mixin of ReaderApp (reader/tui/app.py). Reads and writes run in thread workers (a write can wait
on a refresh's transaction); the sidebar's counts come with the others' (reader/tui/loading.py).
Names are the user's text: shown only through rich Text or with markup off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from reader.models import EntryRow
from reader.tui.widgets.sidebar import ALL, UNCATEGORIZED, Scope, Sidebar

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp
    from reader.tui.screens.tag_editor import TagChange  # the dialog is imported when T opens it


def _quoted(field: str, name: str) -> str | None:
    """`field:NAME` in the query language, quoted when needed; None when it can't be said (a `"`)."""
    if '"' in name:
        return None
    if not name or any(c.isspace() for c in name) or name.startswith("-"):
        return f'{field}:"{name}"'
    return f"{field}:{name}"


def scope_query_text(scope: Scope) -> str:
    """The sidebar scope as query text, where the query language matches exactly what it lists; "" for All
    and for a feed (`feed:` matches title or URL text, which may take in other feeds)."""
    if scope.kind == "search":
        return scope.query or ""
    if scope.kind == "unread":
        return "is:unread"
    if scope.kind == "starred":
        return "is:starred"
    if scope.kind == "tag":
        return _quoted("tag", str(scope.value)) or ""
    if scope.kind == "category" and scope.value != UNCATEGORIZED:
        return _quoted("category", str(scope.value)) or ""
    return ""


class LabelActions:
    """Tagging posts and saving searches."""

    # --- tags -------------------------------------------------------------------------------

    def _tag_target(self: ReaderApp) -> tuple[int, str] | None:
        """The open post when it has the focus (or fills a narrow screen, or the list shows nothing),
        else the post under the list cursor: (id, title)."""
        post = self.reading_pane.post
        entry: EntryRow | None = self.post_list.current_entry
        reading = self.focused is self.reading_pane or (self.narrow and self.reading)
        if post is not None and (reading or entry is None):
            return post.entry.id, post.entry.title
        if entry is not None:
            return entry.id, entry.title
        return None

    def action_tag_post(self: ReaderApp) -> None:
        target = self._tag_target()
        if target is None:
            self.notify("No post to tag: move to one first.", markup=False)
            return
        self._load_tags(*target)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tags")
    def _load_tags(self: ReaderApp, entry_id: int, title: str) -> None:
        tags = self.store.entry_tags([entry_id]).get(entry_id, [])
        known = self.store.tag_names()
        self.call_from_thread(self._edit_tags, entry_id, title, tags, known)

    def _edit_tags(self: ReaderApp, entry_id: int, title: str, tags: list[str], known: list[str]) -> None:
        from reader.tui.screens.tag_editor import TagEditor

        def done(change: TagChange | None) -> None:
            if change:
                self._write_tags(entry_id, change)

        self.push_screen(TagEditor(title, tags, known), done)

    @work(thread=True, exit_on_error=False, group="tag-write")
    def _write_tags(self: ReaderApp, entry_id: int, change: TagChange) -> None:
        # A StoreError (the cache failed) is the worker's error: one notification (app.py).
        changed = self.store.tag_entries([entry_id], add=change.add, remove=change.remove)
        tags = self.store.entry_tags([entry_id]).get(entry_id, [])
        self.call_from_thread(self._tags_written, change, changed, entry_id, tags)

    def _tags_written(self: ReaderApp, change: TagChange, changed: int, entry_id: int, tags: list[str]) -> None:
        post = self.reading_pane.post
        if post is not None and post.entry.id == entry_id:
            post.entry.tags = tags  # the open post's header says its tags now
            self.reading_pane.update_header()
        if changed:
            self.notify(f"Tags: {change.describe()}", markup=False)
        else:  # against the tags read when the dialog opened: the post went, or was tagged so elsewhere
            self.notify("No tag changed (the post is gone, or was already tagged so).", markup=False)
        self._marker = self.store.change_marker()  # our own write: the poll need not reload for it
        self.reload()  # the post may leave (or join) the list shown: a tag's, or a query with tag:
        self.refresh_counts()

    # --- saved searches -----------------------------------------------------------------------

    def action_save_search(self: ReaderApp) -> None:
        """Ctrl+S in the filter bar (or the command palette): save what the list shows under a name: the
        query typed there, joined with the scope's own terms when the query language can say them
        (a saved search's query, a tag, a category, Unread, Starred) and with is:unread under `u`."""
        bar = self.filter_bar
        typed = (bar.value if bar.has_class("-visible") else self.query_text).strip()
        parts = [scope_query_text(self.scope), typed]
        if self.unread_only:
            parts.append("is:unread")
        text = " ".join(part for part in parts if part)
        if not text:
            self.action_filter()
            self.notify("Type a query in the filter bar, then Ctrl+S saves it.", markup=False)
            return
        if not bar.validate(text):  # the error shows under the bar, as while typing
            bar.add_class("-visible")
            return
        from reader.tui.screens.save_search import SaveSearchScreen

        def named(name: str | None) -> None:
            if name:
                self._save_search(name, text)

        # A scope the query language can't say exactly (a feed: `feed:` matches text in titles and
        # URLs) is not part of what is saved: the dialog says so rather than save a wider search quietly.
        left_out = self.scope.label if self.scope.kind in ("feed", "category") and not scope_query_text(self.scope) \
            else None
        self.push_screen(SaveSearchScreen(text, self.sidebar.saved_searches, left_out), named)

    @work(thread=True, exit_on_error=False, group="save-search")
    def _save_search(self: ReaderApp, name: str, query: str) -> None:
        replaced = self.store.save_search(name, query)
        self.call_from_thread(self._search_saved, name, replaced)

    def _search_saved(self: ReaderApp, name: str, replaced: bool) -> None:
        if replaced:
            self.notify(f"Replaced the saved search {name}.", markup=False)
        else:
            self.notify(f"Saved the search {name}: it is in the sidebar under Saved searches.", markup=False)
        self._marker = self.store.change_marker()
        self.refresh_counts()  # the sidebar gets the new row (and a replaced one shown, its new query)

    def on_sidebar_remove_search(self: ReaderApp, message: Sidebar.RemoveSearch) -> None:
        message.stop()
        self._confirm_remove_search(message.scope)

    def action_remove_search(self: ReaderApp) -> None:
        """From the command palette: the saved search highlighted in the sidebar, else the one shown."""
        highlighted = self.sidebar.highlighted_scope
        for scope in (highlighted, self.scope):
            if scope is not None and scope.kind == "search":
                self._confirm_remove_search(scope)
                return
        self.notify("Select a saved search in the sidebar first.", markup=False)

    def _confirm_remove_search(self: ReaderApp, scope: Scope) -> None:
        from reader.tui.screens.confirm import ConfirmScreen

        def go(confirmed: bool | None) -> None:
            if confirmed:
                self._remove_search(scope)

        question = f"Remove the saved search {scope.label}?\nIts query: {scope.query}\nNo post changes."
        self.push_screen(ConfirmScreen(question, "Remove"), go)

    @work(thread=True, exit_on_error=False, group="save-search")
    def _remove_search(self: ReaderApp, scope: Scope) -> None:
        removed = self.store.remove_search(scope.label)
        self.call_from_thread(self._search_removed, scope, removed)

    def _search_removed(self: ReaderApp, scope: Scope, removed: bool) -> None:
        if self.scope == scope:
            self.set_scope(ALL)
        self.notify(f"Removed the saved search {scope.label}." if removed else
                    f"The saved search {scope.label} was already gone.", markup=False)
        self._marker = self.store.change_marker()
        self.refresh_counts()

    def show_saved_search(self: ReaderApp, scope: Scope) -> None:
        """Show a saved search or a tag (the command palette's entries: the sidebar hides when narrow)."""
        self.set_scope(scope)
        self.post_list.focus()
