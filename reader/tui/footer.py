"""The footer: as many of the most used keys as fit the width, never one cut mid-word.

Textual's Footer shows every binding marked `show` and lets the last ones run off the
right edge ("q Qui"). This one drops whole keys, least used first, and goes compact
on a narrow screen. `?` lists them all.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Most important first: what a reader needs to discover the rest.
PRIORITY = [
    "quit", "help", "next_unread", "select", "filter", "toggle_star", "toggle_read",
    "pick_category", "toggle_unread_only", "refresh_feeds",
]
# Below this width the keys are drawn compact (no padding around the key).
COMPACT_BELOW = 110
PALETTE_WIDTH = 14  # "^p palette" and its margins, on the right


class ReaderFooter(Footer):
    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.app.size.width
        self.compact = width < COMPACT_BELOW
        active = self.screen.active_bindings
        seen: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen[binding.action] = (binding, enabled, tooltip)

        def cost(binding: Binding) -> int:
            key, text = cell_len(self.app.get_key_display(binding)), cell_len(binding.description)
            return key + text + (2 if self.compact else 3)

        def rank(action: str) -> int:
            name = action.split("(")[0].rsplit(".", 1)[-1]
            return PRIORITY.index(name) if name in PRIORITY else len(PRIORITY)

        room = width - (PALETTE_WIDTH if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE else 0)
        shown: set[str] = set()
        for action in sorted(seen, key=rank):
            need = cost(seen[action][0])
            if need <= room:
                shown.add(action)
                room -= need
        self.styles.grid_size_columns = len(shown)
        for action, (binding, enabled, tooltip) in seen.items():
            if action in shown:
                yield FooterKey(
                    binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                    disabled=not enabled, tooltip=tooltip,
                ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                return
            yield FooterKey(
                binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                classes="-command-palette", disabled=not enabled, tooltip=binding.tooltip or binding.description,
            ).data_bind(compact=Footer.compact)

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
