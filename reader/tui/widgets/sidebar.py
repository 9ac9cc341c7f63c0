"""The sidebar: All, Unread and Starred, then the feeds grouped by category, with unread counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from reader.models import Feed
from reader.tui.widgets.post_list import clean_text

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
                return "e.feed_id NOT IN (SELECT feed_id FROM feed_categories)", []
            return (
                "(e.id IN (SELECT ec.entry_id FROM entry_categories ec JOIN categories c ON c.id = ec.category_id "
                "WHERE c.name = ?) OR e.feed_id IN (SELECT fc.feed_id FROM feed_categories fc "
                "JOIN categories c ON c.id = fc.category_id WHERE c.name = ?))",
                [self.value, self.value],
            )
        return "", []


ALL = Scope("all", "All")


def _line(label: str, count: int, indent: int = 0, bold: bool = False) -> Text:
    # Feed text goes into a Text as plain characters: never parsed as markup.
    text = Text(" " * indent, no_wrap=True, overflow="ellipsis")
    text.append(clean_text(label) or "(untitled)", style="bold" if bold else "")
    if count:
        text.append(f" {count}", style="bold")
    return text


class Sidebar(OptionList):
    """A list of scopes. Selecting one posts `Sidebar.ScopeSelected`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="sidebar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sidebar.up"),
    ]

    class ScopeSelected(Message):
        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._scopes: dict[str, Scope] = {}

    def populate(self, feeds: list[Feed], counts: tuple[int, int, int]) -> None:
        """Rebuild the entries, keeping the highlighted one where it still exists."""
        previous = None
        if self.highlighted is not None and self.highlighted < self.option_count:
            previous = self.get_option_at_index(self.highlighted).id
        _total, unread, starred = counts
        options: list[Option | None] = []
        scopes: dict[str, Scope] = {}

        def add(option_id: str, prompt: Text, scope: Scope) -> None:
            scopes[option_id] = scope
            options.append(Option(prompt, id=option_id))

        add("all", _line("All", unread), ALL)
        add("unread", _line("Unread", unread), Scope("unread", "Unread"))
        add("starred", _line("Starred", starred), Scope("starred", "Starred"))
        groups: dict[str, list[Feed]] = {}
        for feed in feeds:
            for name in feed.categories or [UNCATEGORIZED]:
                groups.setdefault(name, []).append(feed)
        names = sorted((n for n in groups if n != UNCATEGORIZED), key=str.casefold)
        if UNCATEGORIZED in groups:
            names.append(UNCATEGORIZED)
        for n, name in enumerate(names):
            options.append(None)
            members = groups[name]
            add(f"cat:{n}", _line(name, sum(f.unread for f in members), bold=True), Scope("category", name, name))
            for feed in members:
                add(
                    f"feed:{feed.id}:{n}",
                    _line(feed.display_title, feed.unread, indent=2),
                    Scope("feed", feed.display_title, feed.id, feed.url),
                )
        self._scopes = scopes
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

    @property
    def highlighted_scope(self) -> Scope | None:
        if self.highlighted is None or self.highlighted >= self.option_count:
            return None
        option_id = self.get_option_at_index(self.highlighted).id
        return self._scopes.get(option_id or "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        scope = self._scopes.get(event.option_id or "")
        if scope is not None:
            self.post_message(self.ScopeSelected(scope))
