"""The status line: the active filter, counts, refresh progress, the last refresh, sync.

It is one line whatever the width: when everything does not fit, whole parts are
dropped, least important first, so nothing is ever cut mid-word (only a filter text
too long for the screen on its own is cut, with "…"). Refresh progress is a part of
the line too ("refreshing 12/67"), so nothing draws over it. With a sync account the
line has a sync part ("synced 14:02", "server unreachable · 5 changes waiting"), set by
reader/tui/sync.py; one that needs the user is kept longer than the counts. A download in
flight (reader/tui/media.py) has a part too, with short forms ("↓ 45%"): it outranks the
refresh time, the sync time and the whole-cache counts, and is shortened (the file name
goes, then the sizes) before anything but those is dropped: its progress shows at any usual width.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from reader.dates import format_time
from reader.sanitize import clean_line

SEPARATOR = " │ "


def describe_refresh(when: float | None, offline: bool) -> str:
    if when is None:
        return "never refreshed"
    return f"refreshed {format_time(when)}" + (" (offline)" if offline else "")


@dataclass(frozen=True)
class _Part:
    text: Text
    keep: int  # higher is dropped later
    sep: str = SEPARATOR  # what comes before it
    shorter: tuple[Text, ...] = ()  # shorter forms, each in turn put in place of `text` when the line is too long ...
    squeeze: int = 0  # ... before any part whose keep is above this is dropped


DOWNLOAD_KEEP = 75  # above the whole-cache counts (60), the refresh time (40) and the sync time (35)
DOWNLOAD_SQUEEZE = 45  # its short form once the stars, sync and refresh times are gone


@dataclass(frozen=True)
class _Fields:
    scope: str
    query: str
    unread_only: bool
    shown: int
    shown_unread: int
    counts: tuple[int, int, int]
    last_refresh: float | None
    offline: bool
    failed: int
    note: str


class StatusBar(Static):
    class Resized(Message):
        """The terminal's width changed (the bar always spans it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._fields: _Fields | None = None
        self._progress: tuple[int, int] | None = None
        self._finishing = False  # feeds stored, articles and images still coming
        self._sync: tuple[str, bool] | None = None
        self._download: tuple[str, ...] | None = None

    def on_resize(self) -> None:
        self._draw()
        self.post_message(self.Resized())

    @property
    def plain(self) -> str:
        """The line as shown now (for tests)."""
        return self._line(self.size.width or 10_000).plain

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
        self._fields = _Fields(scope, query, unread_only, shown, shown_unread, counts, last_refresh, offline,
                               failed, note)
        self._draw()

    def progress(self, done: int | None, total: int | None) -> None:
        """Show (or, with None, stop showing) refresh progress as a part of the line."""
        self._progress = None if total is None else (done or 0, max(total, 1))
        self._finishing = False
        self._draw()

    def finishing(self) -> None:
        """The feeds are stored; the refresh is still fetching full articles and images."""
        self._progress = None
        self._finishing = True
        self._draw()

    def set_sync(self, text: str | None, alert: bool = False) -> None:
        """Show (or, with None: no account, stop showing) the sync part; `alert`: it needs the user."""
        shown = None if text is None else (text, alert)
        if shown != self._sync:
            self._sync = shown
            self._draw()

    def set_download(self, text: str | None, *shorter: str) -> None:
        """Show (or, with None, stop showing) a download in flight: `text` in full ("downloading
        ep.mp3 45% (2.2 MB/4.8 MB)"), then each of `shorter` as the line narrows ("↓ 45%")."""
        shown = None if text is None else (text, *shorter)
        if shown != self._download:
            self._download = shown
            self._draw()

    def _parts(self) -> list[_Part]:
        f = self._fields
        if f is None:
            return []
        total, unread, starred = f.counts
        head = Text(f" {clean_line(f.scope)}", style="bold")
        if f.unread_only:
            head.append(" · unread only")
        if f.query:
            head.append(" · filter: ")
            head.append(clean_line(f.query), style="italic")
        parts = [_Part(head, 100)]
        if self._progress is not None:
            done, count = self._progress
            parts.append(_Part(Text(f"refreshing {done}/{count}", style="bold"), 90))
        elif self._finishing:
            parts.append(_Part(Text("fetching full articles and images", style="bold"), 90))
        # What the list shows, then the whole cache: "in all" keeps the two apart.
        parts.append(_Part(Text(f"{f.shown} shown ({f.shown_unread} unread)"), 80))
        parts.append(_Part(Text(f"{unread} unread of {total} in all"), 60, " · "))
        parts.append(_Part(Text(f"{starred} ★"), 30, " · "))
        if f.failed:
            plural = "s" if f.failed != 1 else ""
            parts.append(_Part(Text(f"{f.failed} feed{plural} failed (e for details)", style="bold red"), 70))
        if self._sync is not None:
            text, alert = self._sync
            # A sync that needs the user (unreachable, log in again) outlasts the list's counts.
            parts.append(_Part(Text(clean_line(text), style="bold" if alert else ""), 85 if alert else 35))
        # With an account whose feeds all come from the server, "never refreshed" would only
        # contradict the sync part.
        if self._progress is None and not self._finishing and not (self._sync is not None and f.last_refresh is None):
            refreshed = Text(describe_refresh(f.last_refresh, f.offline), style="bold" if f.offline else "")
            parts.append(_Part(refreshed, 55 if f.offline else 40))
        if self._download is not None:
            text, *shorter = self._download
            parts.append(_Part(Text(clean_line(text)), DOWNLOAD_KEEP,
                               shorter=tuple(Text(clean_line(form)) for form in shorter), squeeze=DOWNLOAD_SQUEEZE))
        if f.note:
            parts.append(_Part(Text(clean_line(f.note)), 50))
        parts.append(_Part(Text("? help"), 10))
        return parts

    def _line(self, width: int) -> Text:
        parts = self._parts()

        def length() -> int:
            return sum(p.text.cell_len for p in parts) + sum(len(p.sep) for p in parts[1:])

        # Drop the least important parts until the rest fits; a part with a short form takes
        # it instead, once every part ranked below its `squeeze` is gone.
        while len(parts) > 1 and length() > width:
            victim = min(parts, key=lambda p: p.keep)
            long = [p for p in parts if p.shorter and p.squeeze < victim.keep]
            if long:
                part = min(long, key=lambda p: p.squeeze)
                parts[parts.index(part)] = _Part(part.shorter[0], part.keep, part.sep, part.shorter[1:], part.squeeze)
            else:
                parts.remove(victim)
        line = Text(no_wrap=True, overflow="ellipsis")
        for n, part in enumerate(parts):
            if n:
                line.append(SEPARATOR if n == 1 else part.sep)  # the scope always stands apart
            line.append_text(part.text)
        return line

    def _draw(self) -> None:
        self.update(self._line(self.size.width or 10_000))
