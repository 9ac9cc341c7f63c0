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
             "ctrl+p": "Ctrl+P", "vertical_line": "|", "ctrl+s": "Ctrl+S"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


SECTIONS = ("Moving", "Reading", "Marks", "Filtering", "Feeds", "App")

# Which section each binding belongs in; a binding not named here shows under App, so a
# new key is never left out of the help.
SECTION_OF: dict[str, str] = {
    **dict.fromkeys(
        ("post_list.down", "post_list.up", "post_list.page_down", "post_list.page_up", "post_list.top",
         "post_list.bottom", "sidebar.down", "sidebar.up", "sidebar.top", "sidebar.bottom"),
        "Moving",
    ),
    **dict.fromkeys(
        ("post_list.open", "app.page", "app.next_unread", "app.previous_unread", "reading.down", "reading.up",
         "reading.top", "reading.bottom", "app.open_browser", "app.link_1", "app.copy_url", "app.fetch_article",
         "app.toggle_article", "app.play_enclosure", "app.download_enclosure", "app.pipe_post",
         "app.bookmark_post"),
        "Reading",
    ),
    **dict.fromkeys(("app.toggle_read", "app.toggle_star", "app.mark_all_read", "app.tag_post"), "Marks"),
    **dict.fromkeys(("app.filter", "app.category", "app.unread_only", "filter.save_search"), "Filtering"),
    **dict.fromkeys(
        ("app.refresh", "app.errors", "app.add_feed", "app.remove_feed", "sidebar.remove_search"), "Feeds"
    ),
}

# Keys that are not bindings of ours but that a user must know (Textual's): (keys, what, section).
EXTRA_ROWS: list[tuple[str, str, str]] = [
    ("Tab / Shift+Tab", "Move the focus between the sidebar, the post list and the open post", "Moving"),
    ("Ctrl+P", "The command palette: every action by name, and the theme picker", "App"),
]


def group_rows(rows: list[tuple[str, str, str]]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(keys, description, binding id) rows by section, in SECTIONS order, with Textual's keys added."""
    grouped: dict[str, list[tuple[str, str, str]]] = {name: [] for name in SECTIONS}
    for row in rows:
        first_id = row[2].split()[0] if row[2] else ""
        grouped[SECTION_OF.get(first_id, "App")].append(row)
    for keys, description, section in EXTRA_ROWS:
        grouped[section].append((keys, description, "(Textual)"))
    return [(name, section_rows) for name, section_rows in grouped.items() if section_rows]


class HelpScreen(ModalScreen[None]):
    """The keys by section. The column headings stay put; only the body scrolls."""

    DEFAULT_CSS = """
    #help-scroll { height: 1fr; scrollbar-gutter: stable; }
    /* The headings line up with the scrolled table: the same width less the scrollbar gutter. */
    #help-columns { padding-right: 2; }
    """

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

    def _table(self, key_width: int, id_width: int, header: bool) -> Table:
        table = Table(box=None, show_header=header, header_style="bold", expand=True, pad_edge=False)
        # Headers as Text: a plain string header is Rich markup, and "[keys]" would vanish.
        table.add_column(Text("Key"), no_wrap=True, style="bold", width=key_width)
        table.add_column(Text("Action"), ratio=1)
        table.add_column(Text("Binding id (config.toml [keys])"), style="dim", no_wrap=True, width=id_width)
        return table

    def compose(self) -> ComposeResult:
        sections = group_rows([(key_label(keys), what, binding_id) for keys, what, binding_id in self.rows])
        rows = [row for _name, section_rows in sections for row in section_rows]
        key_width = max(len(row[0]) for row in rows)
        id_width = max(len("Binding id (config.toml [keys])"), *(len(row[2]) for row in rows))
        body = self._table(key_width, id_width, header=False)
        for number, (section, section_rows) in enumerate(sections):
            if number:
                body.add_row()
            body.add_row(Text(section, style="bold underline"))
            for keys, description, binding_id in section_rows:
                body.add_row(Text(keys), Text(description), Text(binding_id))
        with Vertical(classes="dialog wide", id="help"):
            yield Static(Text("Keys", style="bold"), markup=False)
            yield Static(self._table(key_width, id_width, header=True), id="help-columns", markup=False)
            with VerticalScroll(id="help-scroll"):
                yield Static(body, markup=False)
            yield Static(
                Text("j/k, Space, g/G scroll · Tab / Shift+Tab move between the panes · "
                     "Ctrl+P opens the command palette · Esc closes", style="dim"),
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
