"""Ctrl+S in the filter bar: name the query to save it as a saved search. Dismisses with the name (as
it will be stored), or None.

A name already taken (matched as the cache matches names: ASCII case ignored) asks before replacing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from reader.sanitize import clean_line
from reader.storage.labels import SavedSearch, clean_name
from reader.store import StoreError


def nocase(name: str) -> str:
    """A name as SQLite's NOCASE compares it: only A-Z fold (casefold would call "É" and "é" one name,
    and the cache would then add a second search instead of replacing the one the user confirmed)."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


class SaveSearchScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="save_search.cancel"),
    ]

    def __init__(self, query: str, existing: list[SavedSearch], left_out: str | None = None) -> None:
        super().__init__()
        self.query_text = query
        self.left_out = left_out  # the sidebar scope shown, which the saved query can't say
        self.existing = {nocase(s.name): s for s in existing}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="save-search"):
            yield Static(Text("Save this search", style="bold"), markup=False)
            # The query is the user's text: plain Text, never markup.
            yield Static(Text.assemble(("Query: ", "dim"), clean_line(self.query_text)), markup=False)
            if self.left_out:
                yield Static(Text.assemble(
                    ("Not part of it: ", "dim"), clean_line(self.left_out),
                    (" (the query language can't name one feed exactly)", "dim"),
                ), markup=False, id="save-search-left-out")
            yield Input(placeholder="a name for it, e.g. BGP news", id="save-search-name")
            yield Static("", id="save-search-error", markup=False)
            yield Static(Text("Enter saves · Esc cancels", style="dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#save-search-error", Static).update(Text(message, style="bold red"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            name = clean_name(event.value, "a saved search")
        except StoreError as exc:
            self._error(str(exc)[:1].upper() + str(exc)[1:] + ".")
            return
        old = self.existing.get(nocase(name))
        if old is None:
            self.dismiss(name)
            return
        from reader.tui.screens.confirm import ConfirmScreen

        def answered(replace: bool | None) -> None:
            if replace:
                self.dismiss(name)
            else:
                self.query_one(Input).focus()

        question = (f"Replace the saved search {old.name}?\nIts query now: {old.query}\n"
                    f"The new query: {self.query_text}")
        self.app.push_screen(ConfirmScreen(question, "Replace"), answered)
