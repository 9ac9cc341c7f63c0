"""Details of what failed: the last sync (with an account), and the feeds that failed in the last refresh."""

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

    def __init__(
        self, failed: list[FeedOutcome], titles: dict[str, str], sync_error: tuple[str, str] | None = None
    ) -> None:
        """`sync_error`: (server, message) of the last sync when it failed after the last one that completed."""
        super().__init__()
        self.failed = failed
        self.titles = titles
        self.sync_error = sync_error

    def heading(self) -> str:
        feeds = f"{len(self.failed)} feed{'s' if len(self.failed) != 1 else ''} failed in the last refresh"
        if self.sync_error is None:
            return feeds
        return f"The last sync failed; {feeds}" if self.failed else "The last sync failed"

    def compose(self) -> ComposeResult:
        text = Text()
        if self.sync_error is not None:
            server, message = self.sync_error
            # Cleaned (and the URL masked) here too, where it is shown, whoever built the pair.
            text.append(clean_line(f"Sync with {mask_credentials(server)}"), style="bold")
            text.append("\n  ")
            text.append(clean_message(message or "failed"))
            text.append("\n\n")
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
            yield Static(Text(self.heading(), style="bold"), markup=False)
            with VerticalScroll():
                yield Static(text or Text("No errors."), markup=False)
            yield Static(Text("Esc closes", style="dim"), markup=False)
