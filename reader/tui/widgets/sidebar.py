"""The sidebar: All, Unread and Starred, the saved searches and the tags, then the feeds grouped by
category, each with its unread count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.css.styles import RulesMap
from textual.message import Message
from textual.visual import RichVisual, Visual
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from reader.feednames import qualifiers, shorten_suffix
from reader.models import Feed
from reader.query import Query, Term, parse_query
from reader.sanitize import clean_line, mask_credentials
from reader.storage.labels import SavedSearch
from reader.store import UNCATEGORIZED_SQL

UNCATEGORIZED = "Uncategorized"


@dataclass(frozen=True)
class Scope:
    """What a sidebar entry narrows the post list to."""

    kind: str  # "all", "unread", "starred", "category", "feed", "search", "tag"
    label: str
    value: str | int | None = None  # the category name, the feed id, the saved search's id, the tag's name
    feed_url: str | None = None
    # A saved search's query. Not part of the identity: replacing the query keeps it the same scope
    # (still marked active in the sidebar), and the app swaps in the new text (loading.py).
    query: str | None = field(default=None, compare=False)

    def base_query(self) -> Query | None:
        """For a saved search or a tag, the terms the scope stands for, to be joined with the filter
        bar's terms into one query (so `is:hidden` in either one shows hidden posts); None otherwise.

        Raises QueryError when a saved search's stored query no longer parses.
        """
        if self.kind == "search":
            return parse_query(self.query or "")
        if self.kind == "tag":
            # A Term, not `tag:"NAME"` text: a name may hold a `"`, which the query language can't quote.
            return Query([Term("tag", str(self.value))])
        return None

    def to_sql(self) -> tuple[str, list[object]]:
        """The SQL of the scopes that are not a query (a saved search's and a tag's are: base_query)."""
        if self.kind == "unread":
            return "e.read = 0", []
        if self.kind == "starred":
            return "e.starred = 1", []
        if self.kind == "feed":
            return "e.feed_id = ?", [self.value]
        if self.kind == "category":
            if self.value == UNCATEGORIZED:
                return UNCATEGORIZED_SQL, []
            return (
                "(e.id IN (SELECT ec.entry_id FROM entry_categories ec JOIN categories c ON c.id = ec.category_id "
                "WHERE c.name = ?) OR e.feed_id IN (SELECT fc.feed_id FROM feed_categories fc "
                "JOIN categories c ON c.id = fc.category_id WHERE c.name = ?))",
                [self.value, self.value],
            )
        return "", []


ALL = Scope("all", "All")


ACTIVE_MARK = "▸ "  # before the scope the list shows (the highlight is the sidebar's cursor)


def _line(
    label: str, count: int, width: int, *, indent: int = 0, bold: bool = False, active: bool = False,
    failed: bool = False, suffix: str = "",
) -> Text:
    """One row, never wrapped: the label is cut with "…" so the unread count stays visible."""
    # Feed text goes into a Text as plain characters: never parsed as markup.
    text = Text(ACTIVE_MARK if active else " " * len(ACTIVE_MARK), no_wrap=True, overflow="ellipsis")
    text.append(" " * indent)
    tail = Text(no_wrap=True)
    if failed:
        tail.append(" !", style="bold red")
    if count:
        tail.append(f" {count}", style="bold")
    if suffix and label.endswith(suffix):
        # "Title (example.com/comments)": the title is cut first, so feeds of one title stay
        # apart; a qualifier too long even so loses its start, never the count after it.
        label = label[: -len(suffix)]
        room = width - text.cell_len - tail.cell_len - min(cell_len(label), 4)
        tail = Text(shorten_suffix(suffix, room), style="dim", no_wrap=True) + tail
    name = Text(clean_line(label) or "(untitled)", style="bold" if bold or active else "", no_wrap=True)
    name.truncate(max(width - text.cell_len - tail.cell_len, 1), overflow="ellipsis")
    text.append_text(name)
    text.append_text(tail)
    if active:
        text.stylize("bold")
    return text


class _OneLine(RichVisual):
    """A row's visual whose height is known without drawing it: always one line (rows are cut,
    never wrapped). OptionList asks every option's height whenever its lines change; drawing
    500 rows to learn that cost ~25 ms of the UI thread's ~35 ms per change of the shown scope."""

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1


class _Row:
    """A sidebar row laid out at the width it is drawn at, whatever that turns out to be.

    Cutting rows to a width guessed before the first layout made the first screen wrong
    (a row wider than the sidebar wraps: its count and `!` landed on a second line), so
    the cut happens here, at render time, with the real width.
    """

    def __init__(self, label: str, count: int, owner: Widget | None = None, **style: Any) -> None:
        self.label, self.count, self.style, self.owner = label, count, style, owner

    def visualize(self) -> Visual | _Row:
        # Textual's protocol: a Visual to draw this with (a plain renderable without an owner).
        return _OneLine(self.owner, self) if self.owner is not None else self

    def line(self, width: int) -> Text:
        return _line(self.label, self.count, width, **self.style)

    def __str__(self) -> str:
        return self.line(1000).plain  # the whole row, uncut

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.line(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def feed_labels(feeds: list[Feed]) -> dict[int, tuple[str, str]]:
    """Each feed's label and its suffix: its title (a URL shown with any credentials masked),
    plus, for a title that several feeds share, " (qualifier)": the shortest part of its URL
    that none of the others has (reader.feednames), so that each can be told apart.

    Computed once per load of the feeds (the sidebar's and the post list's rows reuse it).
    """
    titles = {f.id: clean_line(mask_credentials(f.display_title)) or "(untitled)" for f in feeds}
    groups: dict[str, list[Feed]] = {}
    for feed in feeds:
        groups.setdefault(titles[feed.id].casefold(), []).append(feed)
    labels: dict[int, tuple[str, str]] = {}
    for group in groups.values():
        names = qualifiers((f.id, f.url) for f in group) if len(group) > 1 else {}
        for feed in group:
            suffix = f" ({names[feed.id]})" if feed.id in names else ""
            labels[feed.id] = (titles[feed.id] + suffix, suffix)
    return labels


class Sidebar(OptionList):
    """A list of scopes. Selecting one posts `Sidebar.ScopeSelected`.

    The highlight is the sidebar's cursor; the scope the post list shows (the active
    one) is marked with "▸" and bold, and stays marked while the cursor moves.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Sidebar: down", show=False, id="sidebar.down"),
        Binding("k", "cursor_up", "Sidebar: up", show=False, id="sidebar.up"),
        Binding("g", "first", "Sidebar: top", show=False, id="sidebar.top"),
        Binding("G", "last", "Sidebar: bottom", show=False, id="sidebar.bottom"),
        # Only on a saved search's row (check_action): elsewhere `d` goes on to the app's remove_feed.
        Binding("d", "remove_search", "Remove saved search", show=False, id="sidebar.remove_search"),
    ]

    class ScopeSelected(Message):
        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    class RemoveSearch(Message):
        """`d` on a saved search's row: the app asks, then removes it."""

        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._scopes: dict[str, Scope] = {}
        self._feeds: list[Feed] = []
        self._counts: tuple[int, int, int] = (0, 0, 0)
        self._category_unread: dict[str, int] = {}
        self._searches: list[tuple[SavedSearch, int | None]] = []  # unread count; None: its query is broken
        self._tags: list[tuple[str, int, int]] = []  # (name, unread, total)
        self._active: Scope = ALL
        self._active_id: str | None = "all"
        self._rows: list[tuple[str, Scope, int]] = []  # option id, scope, unread count: sidebar order
        self._row_args: dict[str, tuple[str, int, dict[str, Any]]] = {}  # option id -> _Row's label, count, style
        self.feed_names: dict[int, tuple[str, str]] = {}  # feed id -> (label, suffix): see feed_labels

    def populate(
        self,
        feeds: list[Feed],
        counts: tuple[int, int, int],
        category_unread: dict[str, int] | None = None,
        searches: list[tuple[SavedSearch, int | None]] | None = None,
        tags: list[tuple[str, int, int]] | None = None,
    ) -> None:
        """Rebuild the entries, keeping the highlighted one where it still exists.

        `category_unread` is Store.category_unread(): a category's count is counted by the
        cache with the same definition as its list, never summed from its feeds here. So are
        the saved searches' (their query's unread posts) and the tags' (Store.tag_counts).
        None leaves the saved searches or tags as they were.
        """
        self._feeds, self._counts = feeds, counts
        self._category_unread = category_unread or {}
        if searches is not None:
            self._searches = searches
        if tags is not None:
            self._tags = tags
        self.feed_names = feed_labels(feeds)  # once per load of the feeds, not on every rebuild
        self._build()

    def rendered_lines(self) -> list[str]:
        """The rows' text as drawn at the current width (separators as rules): for tests."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]

    @property
    def saved_searches(self) -> list[SavedSearch]:
        """The saved searches as last loaded (for the command palette and the save dialog)."""
        return [search for search, _count in self._searches]

    @property
    def tag_names(self) -> list[str]:
        return [name for name, _unread, _total in self._tags]

    def search_scope(self, search: SavedSearch) -> Scope:
        return Scope("search", search.name, search.id, query=search.query)

    def next_scope_with_unread(self, current: Scope) -> Scope | None:
        """The next feed (from a feed), category, saved search or tag after `current` in sidebar
        order that has unread posts, wrapping around; None from All, Unread or Starred."""
        if current.kind not in ("feed", "category", "search", "tag"):
            return None
        rows = [(option_id, scope, count) for option_id, scope, count in self._rows if scope.kind == current.kind]
        start = next(
            (i for i, (option_id, scope, _c) in enumerate(rows) if option_id == self._active_id and scope == current),
            next((i for i, (_o, scope, _c) in enumerate(rows) if scope == current), None),
        )
        if start is None:
            return None
        for step in range(1, len(rows)):
            _option_id, scope, count = rows[(start + step) % len(rows)]
            if count and scope != current:
                return scope
        return None

    def _build(self) -> None:
        previous = None
        if self.highlighted is not None and self.highlighted < self.option_count:
            previous = self.get_option_at_index(self.highlighted).id
        _total, unread, starred = self._counts
        labels = self.feed_names
        rows: list[tuple[str, Scope, int, dict[str, Any]]] = []  # option id, scope, count, _line style

        def add(option_id: str, scope: Scope, count: int, **style: Any) -> None:
            rows.append((option_id, scope, count, style))

        add("all", ALL, unread)
        add("unread", Scope("unread", "Unread"), unread)
        add("starred", Scope("starred", "Starred"), starred)
        headings: dict[str, str] = {}  # the option id a section starts at -> its heading
        for n, (search, count) in enumerate(self._searches):
            if n == 0:
                headings[f"search:{search.id}"] = "Saved searches"
            # A saved search whose query no longer parses is marked like a failing feed.
            add(f"search:{search.id}", self.search_scope(search), count or 0, indent=2, failed=count is None)
        for n, (name, unread, _total) in enumerate(self._tags):
            if n == 0:
                headings[f"tag:{name}"] = "Tags"
            # Names are unique as stored (case-insensitively), so the exact name is a unique id.
            add(f"tag:{name}", Scope("tag", name, name), unread, indent=2)
        groups: dict[str, list[Feed]] = {}
        for feed in self._feeds:
            for name in feed.categories or [UNCATEGORIZED]:
                groups.setdefault(name, []).append(feed)
        names = sorted((n for n in groups if n != UNCATEGORIZED), key=str.casefold)
        if UNCATEGORIZED in groups:
            names.append(UNCATEGORIZED)
        for n, name in enumerate(names):
            members = groups[name]
            key = "" if name == UNCATEGORIZED else name.casefold()
            add(f"cat:{n}", Scope("category", name, name), self._category_unread.get(key, 0), bold=True)
            for feed in members:
                label, suffix = labels[feed.id]
                scope = Scope("feed", label, feed.id, feed.url)
                add(f"feed:{feed.id}:{n}", scope, feed.unread, indent=2, failed=bool(feed.last_error), suffix=suffix)
        self._scopes = {option_id: scope for option_id, scope, _count, _style in rows}
        self._rows = [(option_id, scope, count) for option_id, scope, count, _style in rows]
        self._row_args = {option_id: (scope.label, count, style) for option_id, scope, count, style in rows}
        if self._scopes.get(self._active_id or "") != self._active:
            # A feed in two categories has two rows: keep the one chosen, else mark the first.
            self._active_id = next((i for i, scope in self._scopes.items() if scope == self._active), None)
        options: list[Option | None] = []
        for option_id, scope, count, style in rows:
            if option_id.startswith("cat:"):
                options.append(None)  # a rule above each category
            heading = headings.get(option_id)
            if heading is not None:
                options.append(None)
                title = Text(" " * len(ACTIVE_MARK) + heading, style="bold dim", no_wrap=True)
                options.append(Option(title, id=f"head:{heading}", disabled=True))
            active = option_id == self._active_id
            options.append(Option(_Row(scope.label, count, self, active=active, **style), id=option_id))
        with self.app.batch_update():
            self.clear_options()
            self.add_options(options)
            index = 0
            if previous is not None:
                try:
                    index = self.get_option_index(previous)
                except OptionDoesNotExist:
                    index = 0
            self.highlighted = index

    def show_active(self, scope: Scope) -> None:
        """Mark `scope` as the one shown, and move the cursor to it."""
        self._active = scope
        before = self._active_id
        highlighted = self.highlighted_id
        if highlighted is not None and self._scopes.get(highlighted) == scope:
            self._active_id = highlighted
        else:
            self._active_id = next((i for i, s in self._scopes.items() if s == scope), None)
        # Only the rows that gain or lose the mark change: rebuilding all of them (500 feeds)
        # cost the UI thread ~9 ms of every selection, even with one-line heights (_OneLine).
        if before != self._active_id:
            for option_id in (before, self._active_id):
                args = self._row_args.get(option_id or "")
                if args is not None:
                    label, count, style = args
                    row = _Row(label, count, self, active=option_id == self._active_id, **style)
                    self.replace_option_prompt(option_id, row)  # type: ignore[arg-type]
        if self._active_id is not None:
            self.highlighted = self.get_option_index(self._active_id)

    @property
    def highlighted_id(self) -> str | None:
        if self.highlighted is None or self.highlighted >= self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).id

    @property
    def highlighted_scope(self) -> Scope | None:
        return self._scopes.get(self.highlighted_id or "")

    def _step(self, direction: int) -> None:
        # Unlike OptionList's, stops at the ends instead of wrapping around.
        if self.highlighted is None:
            self.action_first()
            return
        index = self.highlighted + direction
        while 0 <= index < self.option_count:
            if not self.get_option_at_index(index).disabled:
                self.highlighted = index
                return
            index += direction

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_cursor_up(self) -> None:
        self._step(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_search":
            scope = self.highlighted_scope
            return scope is not None and scope.kind == "search"
        return super().check_action(action, parameters)

    def action_remove_search(self) -> None:
        scope = self.highlighted_scope
        if scope is not None and scope.kind == "search":
            self.post_message(self.RemoveSearch(scope))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        scope = self._scopes.get(event.option_id or "")
        if scope is not None:
            self.post_message(self.ScopeSelected(scope))
