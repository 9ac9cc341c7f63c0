"""`c`: a fuzzy category picker with counts. Dismisses with the chosen name, or None.

Bounded per keystroke, whatever the cache holds: matching is one linear pass of cheap
string searches (no per-name fuzzy alignment), only the best MAX_SHOWN matches become
options, and past LARGE categories the pass runs in a worker so typing never waits.
"""

from __future__ import annotations

import heapq
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from reader.sanitize import clean_line, is_uri_term

# The option list never holds more than this: building 20,000 options took seconds.
MAX_SHOWN = 200
# Up to this many categories are matched on the UI thread (a few ms); more go to a worker.
LARGE = 3000


def category_query(name: str) -> str:
    """`category:NAME` in the query language, quoted when the name has spaces."""
    if any(c.isspace() for c in name) or not name or name.startswith("-"):
        return f'category:"{name}"'
    return f"category:{name}"


class Match(NamedTuple):
    rank: tuple[int, int, int]  # smaller is better: kind of match, its spread, the list order
    index: int  # into the picker's categories
    offsets: tuple[int, ...]  # characters to highlight


def match_name(query: str, name: str) -> tuple[int, int, tuple[int, ...]] | None:
    """How well `name` (lower-cased) matches `query` (lower-cased): (kind, spread, offsets) or None.

    Kinds: 0 the whole name, 1 a prefix, 2 a word start, 3 a substring, 4 the letters in order.
    Each is a few str.find calls, linear in the name: no backtracking, whatever the input.
    """
    at = name.find(query)
    if at >= 0:
        if at == 0:
            kind = 0 if len(name) == len(query) else 1
        else:
            kind = 2 if not name[at - 1].isalnum() else 3
        return kind, 0, tuple(range(at, at + len(query)))
    offsets = []
    position = 0
    for char in query:
        if char.isspace():
            continue
        position = name.find(char, position)
        if position < 0:
            return None
        offsets.append(position)
        position += 1
    if not offsets:
        return None
    return 4, offsets[-1] - offsets[0], tuple(offsets)


def rank(names: list[str], query: str, limit: int = MAX_SHOWN) -> tuple[list[Match], int]:
    """The best `limit` matches for `query` among lower-cased `names`, and how many matched in all."""
    query = query.strip().lower()
    if not query:
        return [Match((0, 0, i), i, ()) for i in range(min(limit, len(names)))], len(names)
    found = []
    for index, name in enumerate(names):
        matched = match_name(query, name)
        if matched is not None:
            kind, spread, offsets = matched
            found.append(Match((kind, spread, index), index, offsets))
    return heapq.nsmallest(limit, found), len(found)


class CategoryPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    #picker-list { height: auto; max-height: 16; }
    #picker-more { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
    ]

    def __init__(self, categories: list[tuple[str, int, int]]) -> None:
        super().__init__()
        # A `"` cannot be quoted in the query language, so such a name could not be picked.
        # A URI category (`http://schemas.google.com/g/2005#kind`) is a machine label, not a
        # topic: parsing drops them, and so does the picker for whatever a cache still holds.
        self.categories = [c for c in categories if '"' not in c[0] and not is_uri_term(c[0])]
        self._lowered = [clean_line(c[0]).lower() for c in self.categories]
        self.query_text = ""
        self.shown_for: str | None = None  # the query whose matches the list shows
        self._pick_when_shown = False  # Enter came before the matches for the last keystroke

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="picker"):
            yield Static(Text("Pick a category", style="bold"), markup=False)
            yield Input(placeholder="type to narrow", id="picker-input")
            yield OptionList(id="picker-list", markup=False)
            yield Static("", id="picker-more", markup=False)
            yield Static(Text("No category matches", style="dim italic"), id="picker-empty", markup=False)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        self.query_text = query
        if len(self.categories) <= LARGE:
            self._show(query, *rank(self._lowered, query))
        else:
            self._rank_in_worker(query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def _rank_in_worker(self, query: str) -> None:
        matches, total = rank(self._lowered, query)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, query, matches, total)

    def _show(self, query: str, matches: list[Match], total: int) -> None:
        if query != self.query_text or not self.is_attached:
            return  # typing went on: a newer ranking is coming
        options = []
        for match in matches:
            name, unread, count = self.categories[match.index]
            # Highlight by hand: Matcher.highlight would parse the name as markup.
            label = Text(clean_line(name))
            for offset in match.offsets:
                if offset < len(label):
                    label.stylize("reverse", offset, offset + 1)
            label.append(f"  {unread} unread / {count}", style="dim")
            options.append(Option(label, id=str(match.index)))
        picker = self.query_one(OptionList)
        picker.clear_options()
        picker.add_options(options)
        if options:
            picker.highlighted = 0
        picker.display = bool(options)
        more = self.query_one("#picker-more", Static)
        more.display = total > len(options)
        more.update(Text(f"… {total - len(options):,} more, type to narrow", style="dim italic"))
        self.query_one("#picker-empty", Static).display = not options
        self.shown_for = query
        if self._pick_when_shown:
            self._pick_when_shown = False
            self._pick_highlighted()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        picker = self.query_one(OptionList)
        if picker.option_count:
            picker.highlighted = max(0, min(picker.option_count - 1, (picker.highlighted or 0) + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.shown_for != self.query_text:
            # The list is for an older query: pick from the matches for what was typed, when they land.
            self._pick_when_shown = True
            return
        self._pick_highlighted()

    def _pick_highlighted(self) -> None:
        picker = self.query_one(OptionList)
        if picker.highlighted is not None and picker.option_count:
            self._pick(picker.get_option_at_index(picker.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_id)

    def _pick(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.categories[int(option_id)][0])
