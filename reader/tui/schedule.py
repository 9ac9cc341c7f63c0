"""The app's background refresh: every `refresh_every`, the feeds that are due (reader/schedule.py)
are fetched as `R` fetches, without moving the cursor; new posts may be announced by the `notify` hook.

A mixin of ReaderApp (reader/tui/app.py). STUB (issue 11 scaffold): the hooks helper fills this in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class ScheduleMixin:
    """The timer that refreshes due feeds in the background."""

    def start_background_refresh(self: ReaderApp) -> None:
        """Called once from on_mount: start the timer (none when `refresh_every` is 0)."""
