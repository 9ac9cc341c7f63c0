"""Details of the feeds that failed in the last refresh."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from reader.models import FeedOutcome
from reader.sanitize import clean_line, clean_message, mask_credentials


class ErrorsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,e", "dismiss", "Close", id="errors.close")]

    def __init__(self, failed: list[FeedOutcome], titles: dict[str, str]) -> None:
        super().__init__()
        self.failed = failed
        self.titles = titles

    def compose(self) -> ComposeResult:
        text = Text()
        for outcome in self.failed:
            # Masked here, where it is shown: a stored URL keeps its password.
            url = mask_credentials(outcome.url)
            text.append(clean_line(self.titles.get(outcome.url) or url), style="bold")
            text.append("\n  ")
            text.append(clean_line(url), style="dim")
            text.append("\n  ")
            text.append(clean_message(outcome.error or "failed"))
            text.append("\n\n")
        with Vertical(classes="dialog wide"):
            yield Static(Text(f"{len(self.failed)} feeds failed in the last refresh", style="bold"), markup=False)
            with VerticalScroll():
                yield Static(text or Text("No errors."), markup=False)
            yield Static(Text("Esc closes", style="dim"), markup=False)
