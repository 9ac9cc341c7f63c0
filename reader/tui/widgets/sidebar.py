"""The sidebar: All, Unread and Starred, then the feeds grouped by category, with unread counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from reader.feednames import qualifiers, shorten_suffix
from reader.models import Feed
from reader.sanitize import clean_line, mask_credentials
from reader.store import UNCATEGORIZED_SQL

UNCATEGORIZED = "Uncategorized"


@dataclass(frozen=True)
class Scope:
    """What a sidebar entry narrows the post list to."""

    kind: str  # "all", "unread", "starred", "category", "feed"
    label: str
    value: str | int | None = None  # the category name or the feed id
    feed_url: str | None = None

    def to_sql(self) -> tuple[str, list[object]]:
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


class _Row:
    """A sidebar row laid out at the width it is drawn at, whatever that turns out to be.

    Cutting rows to a width guessed before the first layout made the first screen wrong
    (a row wider than the sidebar wraps: its count and `!` landed on a second line), so
    the cut happens here, at render time, with the real width.
    """

    def __init__(self, label: str, count: int, **style: Any) -> None:
        self.label, self.count, self.style = label, count, style

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
    ]

    class ScopeSelected(Message):
        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._scopes: dict[str, Scope] = {}
        self._feeds: list[Feed] = []
        self._counts: tuple[int, int, int] = (0, 0, 0)
        self._category_unread: dict[str, int] = {}
        self._active: Scope = ALL
        self._active_id: str | None = "all"
        self._rows: list[tuple[str, Scope, int]] = []  # option id, scope, unread count: sidebar order
        self.feed_names: dict[int, tuple[str, str]] = {}  # feed id -> (label, suffix): see feed_labels

    def populate(
        self, feeds: list[Feed], counts: tuple[int, int, int], category_unread: dict[str, int] | None = None
    ) -> None:
        """Rebuild the entries, keeping the highlighted one where it still exists.

        `category_unread` is Store.category_unread(): a category's count is counted by the
        cache with the same definition as its list, never summed from its feeds here.
        """
        self._feeds, self._counts = feeds, counts
        self._category_unread = category_unread or {}
        self.feed_names = feed_labels(feeds)  # once per load of the feeds, not on every rebuild
        self._build()

    def rendered_lines(self) -> list[str]:
        """The rows' text as drawn at the current width (separators as rules): for tests."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]

    def next_scope_with_unread(self, current: Scope) -> Scope | None:
        """The next feed (from a feed) or category (from a category) after `current` in sidebar
        order that has unread posts, wrapping around; None from All, Unread or Starred."""
        if current.kind not in ("feed", "category"):
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
        if self._scopes.get(self._active_id or "") != self._active:
            # A feed in two categories has two rows: keep the one chosen, else mark the first.
            self._active_id = next((i for i, scope in self._scopes.items() if scope == self._active), None)
        options: list[Option | None] = []
        for option_id, scope, count, style in rows:
            if option_id.startswith("cat:"):
                options.append(None)  # a rule above each category
            active = option_id == self._active_id
            options.append(Option(_Row(scope.label, count, active=active, **style), id=option_id))
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
        highlighted = self.highlighted_id
        if highlighted is not None and self._scopes.get(highlighted) == scope:
            self._active_id = highlighted
        else:
            self._active_id = next((i for i, s in self._scopes.items() if s == scope), None)
        self._build()
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

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        scope = self._scopes.get(event.option_id or "")
        if scope is not None:
            self.post_message(self.ScopeSelected(scope))
