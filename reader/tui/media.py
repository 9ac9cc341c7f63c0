"""The app's enclosure actions: play or open the open post's enclosure, download it.

A mixin of ReaderApp (reader/tui/app.py). (Scaffold: filled in by the enclosure work.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class MediaActions:
    def action_play_enclosure(self: ReaderApp) -> None:
        self.notify("Playing enclosures is not built yet.", markup=False)

    def action_download_enclosure(self: ReaderApp) -> None:
        self.notify("Downloading enclosures is not built yet.", markup=False)
