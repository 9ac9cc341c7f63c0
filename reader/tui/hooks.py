"""The app's hook keys: `|` pipes the rendered post to the `pipe` command, `b` sends its title and URL
to the `bookmark` command (reader/hooks.py runs them).

A mixin of ReaderApp (reader/tui/app.py). STUB (issue 11 scaffold): the hooks helper fills this in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class HookActions:
    """Piping and bookmarking the open post."""

    def action_pipe_post(self: ReaderApp) -> None:
        self.notify("Piping is not built yet.", markup=False)

    def action_bookmark_post(self: ReaderApp) -> None:
        self.notify("Bookmarking is not built yet.", markup=False)
