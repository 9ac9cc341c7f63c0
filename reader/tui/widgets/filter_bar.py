"""The filter bar: the core's query language, applied as you type, errors shown inline. Ctrl+S saves
the query as a saved search (the app's `save_search`, reader/tui/labels.py)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from reader.query import QueryError, parse_query

DEBOUNCE = 0.15  # seconds of quiet typing before the list is re-queried


class FilterBar(Vertical):
    """An Input plus an error line. Posts `FilterBar.Changed` (debounced) with a valid query text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # While typing a query: the app checks it (a bad one is this bar's error) and asks a name.
        Binding("ctrl+s", "app.save_search", "Save search", id="filter.save_search"),
    ]

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        """Enter (keep the filter) or Esc (clear it) was pressed."""

        def __init__(self, cleared: bool) -> None:
            super().__init__()
            self.cleared = cleared

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timer = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words \"a phrase\" category:NAME feed: tag: is:unread since:7d · Ctrl+S saves",
                    id="filter-input", select_on_focus=False)
        yield Static("", id="filter-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    def set_value(self, text: str) -> None:
        """Set the text without waiting for the debounce (used by the category picker)."""
        with self.input.prevent(Input.Changed):
            self.input.value = text
            self.input.cursor_position = len(text)
        self._show_error(None)

    def _show_error(self, message: str | None) -> None:
        error = self.query_one("#filter-error", Static)
        error.update(Text(message or "", style="bold"))
        error.set_class(bool(message), "-visible")

    def validate(self, text: str) -> bool:
        # Translated to SQL too: a term that parses but cannot be turned into a query (a date
        # out of range) is an error under the bar, never an exception in the app.
        try:
            parse_query(text).to_sql()
        except QueryError as exc:
            self._show_error(str(exc))
            return False
        except (ValueError, OverflowError) as exc:
            self._show_error(f"cannot use this filter: {exc}")
            return False
        self._show_error(None)
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if not self.validate(text):
            return
        self._timer = self.set_timer(DEBOUNCE, lambda: self.post_message(self.Changed(text)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.validate(event.value):
            self.post_message(self.Changed(event.value))
            self.post_message(self.Done(cleared=False))

    def key_escape(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.set_value("")
        self.post_message(self.Changed(""))
        self.post_message(self.Done(cleared=True))
