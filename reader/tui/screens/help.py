"""The `?` screen: every key, generated from the bindings (so a rebound key shows as rebound)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_label(keys: str) -> str:
    names = {"question_mark": "?", "slash": "/", "space": "Space", "enter": "Enter", "escape": "Esc",
             "up": "↑", "down": "↓", "home": "Home", "end": "End", "pageup": "PgUp", "pagedown": "PgDn",
             "ctrl+p": "Ctrl+P"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False, id="help.up"),
        Binding("space,pagedown", "page(1)", "Page down", show=False, id="help.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="help.page_up"),
        Binding("g,home", "ends(0)", "Top", show=False, id="help.top"),
        Binding("G,end", "ends(1)", "Bottom", show=False, id="help.bottom"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        """rows: (keys, description, binding id)."""
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False)
        # Headers as Text: a plain string header is Rich markup, and "[keys]" would vanish.
        table.add_column(Text("Key"), no_wrap=True, style="bold")
        table.add_column(Text("Action"))
        table.add_column(Text("Binding id (config.toml [keys])"), style="dim", no_wrap=True)
        for keys, description, binding_id in self.rows:
            table.add_row(Text(key_label(keys)), Text(description), Text(binding_id))
        with Vertical(classes="dialog wide", id="help"):
            yield Static(Text("Keys", style="bold"), markup=False)
            with VerticalScroll(id="help-scroll"):
                yield Static(table, markup=False)
            yield Static(
                Text("j/k, Space, g/G scroll · Ctrl+P opens the command palette · Esc closes", style="dim"),
                markup=False,
            )

    @property
    def _scroller(self) -> VerticalScroll:
        return self.query_one("#help-scroll", VerticalScroll)

    def action_scroll(self, lines: int) -> None:
        self._scroller.scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        scroller = self._scroller
        scroller.scroll_relative(y=pages * max(scroller.scrollable_content_region.height - 1, 1), animate=False)

    def action_ends(self, end: int) -> None:
        if end:
            self._scroller.scroll_end(animate=False)
        else:
            self._scroller.scroll_home(animate=False)


def binding_rows(bindings: list[Binding], keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    rows = []
    for binding in bindings:
        if binding.id is None:
            continue
        if binding.id.startswith("app.link_") and binding.id != "app.link_1":
            continue  # links 1-9 share one row
        keys = keymap.get(binding.id, binding.key)
        if binding.id == "app.link_1":
            rows.append(("1-9", "Open link N of the open post", "app.link_1 … app.link_9"))
            continue
        rows.append((keys, binding.description, binding.id))
    return rows
