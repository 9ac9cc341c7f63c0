"""The app's full-article actions: fetch the open post's article now, toggle article / feed text.

A mixin of ReaderApp (reader/tui/app.py). (Scaffold: filled in by the full-text work.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class FullTextActions:
    def action_fetch_article(self: ReaderApp) -> None:
        self.notify("Fetching full articles is not built yet.", markup=False)

    def action_toggle_article(self: ReaderApp) -> None:
        self.notify("Fetching full articles is not built yet.", markup=False)
