"""The status line: the active filter, counts, the last refresh, and a refresh progress bar."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import ProgressBar, Static

from reader.dates import format_time
from reader.sanitize import clean_line


def describe_refresh(when: float | None, offline: bool) -> str:
    if when is None:
        return "never refreshed"
    return f"refreshed {format_time(when)}" + (" (offline)" if offline else "")


class StatusBar(Horizontal):
    class Resized(Message):
        """The terminal's width changed (the bar always spans it)."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def compose(self) -> ComposeResult:
        yield Static("", id="status-text", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="refresh-progress")

    def show(
        self,
        *,
        scope: str,
        query: str,
        unread_only: bool,
        shown: int,
        shown_unread: int,
        counts: tuple[int, int, int],
        last_refresh: float | None,
        offline: bool,
        failed: int = 0,
        note: str = "",
    ) -> None:
        total, unread, starred = counts
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {clean_line(scope)}", style="bold")
        if unread_only:
            text.append(" · unread only")
        if query:
            text.append(" · filter: ")
            text.append(clean_line(query), style="italic")
        # What the list shows, then the whole cache: "in all" keeps the two apart.
        text.append(f" │ {shown} shown ({shown_unread} unread) · {unread} unread of {total} in all · {starred} ★ │ ")
        if failed:  # before the refresh time: a narrow screen cuts the line's end
            text.append(f"{failed} feed{'s' if failed != 1 else ''} failed (e for details)", style="bold red")
            text.append(" │ ")
        text.append(describe_refresh(last_refresh, offline), style="bold" if offline else "")
        if note:
            text.append(" │ ")
            text.append(clean_line(note))
        text.append(" │ ? help")
        self.query_one("#status-text", Static).update(text)

    def progress(self, done: int | None, total: int | None) -> None:
        bar = self.query_one(ProgressBar)
        if total is None:
            bar.remove_class("-active")
            return
        bar.add_class("-active")
        bar.update(total=max(total, 1), progress=done or 0)
