"""The app's tags and saved searches: `T` tags the post under the cursor, `ctrl+s` in the filter bar
saves the query as a saved search (shown in the sidebar with its unread count).

A mixin of ReaderApp (reader/tui/app.py). STUB (issue 11 scaffold): the app-labels helper fills this in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class LabelActions:
    """Tagging posts and saving searches."""

    def action_tag_post(self: ReaderApp) -> None:
        self.notify("Tagging is not built yet.", markup=False)

    def action_save_search(self: ReaderApp) -> None:
        self.notify("Saving a search is not built yet.", markup=False)
