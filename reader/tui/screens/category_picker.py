"""`c`: a fuzzy category picker with counts. Dismisses with the chosen name, or None."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from reader.sanitize import clean_line


def category_query(name: str) -> str:
    """`category:NAME` in the query language, quoted when the name has spaces."""
    if any(c.isspace() for c in name) or not name or name.startswith("-"):
        return f'category:"{name}"'
    return f"category:{name}"


class CategoryPicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
    ]

    def __init__(self, categories: list[tuple[str, int, int]]) -> None:
        super().__init__()
        # A `"` cannot be quoted in the query language, so such a name could not be picked.
        self.categories = [c for c in categories if '"' not in c[0]]
        self._search = FuzzySearch()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="picker"):
            yield Static(Text("Pick a category", style="bold"), markup=False)
            yield Input(placeholder="type to narrow", id="picker-input")
            yield OptionList(id="picker-list", markup=False)
            yield Static(Text("No category matches", style="dim italic"), id="picker-empty", markup=False)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        scored: list[tuple[float, int, str, int, int, list[int]]] = []
        for order, (name, unread, total) in enumerate(self.categories):
            if query:
                score, offsets = self._search.match(query, name)
                if score <= 0:
                    continue
            else:
                score, offsets = 1.0, ()
            scored.append((-score, order, name, unread, total, list(offsets)))
        scored.sort()
        options = []
        for _neg, _order, name, unread, total, offsets in scored:
            # Highlight by hand: Matcher.highlight would parse the name as markup.
            label = Text(clean_line(name))
            for offset in offsets:
                if offset < len(label):
                    label.stylize("reverse", offset, offset + 1)
            label.append(f"  {unread} unread / {total}", style="dim")
            options.append(Option(label, id=f"{_order}"))
        picker = self.query_one(OptionList)
        picker.clear_options()
        picker.add_options(options)
        if options:
            picker.highlighted = 0
        picker.display = bool(options)
        self.query_one("#picker-empty", Static).display = not options

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        picker = self.query_one(OptionList)
        if picker.option_count:
            picker.highlighted = max(0, min(picker.option_count - 1, (picker.highlighted or 0) + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        picker = self.query_one(OptionList)
        if picker.highlighted is not None and picker.option_count:
            self._pick(picker.get_option_at_index(picker.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_id)

    def _pick(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.categories[int(option_id)][0])
