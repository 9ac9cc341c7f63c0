"""`T`: the tags of one post. Shows its tags, takes `+name` / `-name` / `name` typed (quote a name
with spaces: `+"read later"`; Enter saves), and lists the tags there are: picking one (Enter on it,
or a click) puts it on the post, or takes it off when the post has it, and saves. Dismisses with
the change (tags to add, tags to remove), or None.

Every name is the user's text, shown through rich Text only (`[/]` in a name is just characters).
The list of known tags is bounded: at most MAX_SHOWN rows, narrowed by what is typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from reader.sanitize import clean_line
from reader.storage.labels import clean_name
from reader.store import StoreError
from reader.tui.screens.save_search import nocase

MAX_SHOWN = 200  # rows in the list of known tags: typing narrows it

# A sign, then a quoted name or a bare one (which can't start with a sign: `+` alone is a mistake,
# not a tag named "+"; quote such a name).
_TOKEN = re.compile(r'\s*([+-]?)(?:"([^"]*)("?)|([^\s"+-][^\s"]*))')


class TagInputError(ValueError):
    """What was typed can't be read as tags; the message says why."""


@dataclass
class TagChange:
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def describe(self) -> str:
        """`+later -todo`, for the notification (names as stored)."""
        return " ".join([*(f"+{n}" for n in self.add), *(f"-{n}" for n in self.remove)])


def parse_tag_input(text: str) -> list[tuple[bool, str]]:
    """`+a -b c "d e"` → [(True, "a"), (False, "b"), (True, "c"), (True, "d e")]: True adds.

    Names are cleaned as the store keeps them; an empty or too long one, or an open quote, raises
    TagInputError. Linear in the text (one regex pass without backtracking between tokens).
    """
    result: list[tuple[bool, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise TagInputError(f"can't read the tags at {text[pos:pos + 20]!r}")
        pos = match.end()
        sign, quoted, closed, bare = match.groups()
        if quoted is not None and not closed:
            raise TagInputError('unterminated quote: add the closing "')
        try:
            name = clean_name(quoted if quoted is not None else bare or "", "a tag")
        except StoreError as exc:
            raise TagInputError(str(exc)) from exc
        result.append((sign != "-", name))
    return result


class TagEditor(ModalScreen[TagChange | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="tags.cancel"),
        Binding("down", "to_list", "Pick a tag", show=False, id="tags.down"),
    ]

    def __init__(self, title: str, tags: list[str], known: list[str]) -> None:
        super().__init__()
        self.post_title = title
        self.original = list(tags)
        self.current = list(tags)  # the post's tags as edited so far, in order
        self.known = list(known)
        self._shown: dict[str, str] = {}  # option id -> tag name, for the rows listed now

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="tag-editor"):
            yield Static(Text.assemble(("Tags of ", "bold"), (clean_line(self.post_title) or "(untitled)", "bold")),
                         markup=False, id="tag-title")
            yield Static("", id="tag-current", markup=False)
            yield Input(placeholder='+name adds, -name removes ("a b" for spaces) · Enter saves', id="tag-input")
            yield Static("", id="tag-error", markup=False)
            yield OptionList(id="tag-list", markup=False)
            yield Static(Text("↓: pick a tag (Enter puts it on, or takes it off ✓) · Esc cancels", style="dim"),
                         markup=False)

    def on_mount(self) -> None:
        self._show_current()
        self._fill("")
        self.query_one(Input).focus()

    def _has(self, name: str) -> bool:
        return any(nocase(t) == nocase(name) for t in self.current)

    def _show_current(self) -> None:
        line = Text("On this post: ", style="dim")
        if self.current:
            for n, name in enumerate(self.current):
                if n:
                    line.append(", ")
                line.append(name, style="bold")
        else:
            line.append("no tags yet", style="dim italic")
        self.query_one("#tag-current", Static).update(line)

    def _fill(self, typed: str) -> None:
        """The known tags (and the post's new ones), narrowed to those containing the last word typed."""
        last = typed.split()[-1].lstrip("+-").strip('"').lower() if typed.split() else ""
        names = list(self.known)
        names += [t for t in self.current if all(nocase(t) != nocase(k) for k in self.known)]
        matching = [(i, n) for i, n in enumerate(names) if last in n.lower()][:MAX_SHOWN]
        options = []
        for index, name in matching:
            row = Text("✓ " if self._has(name) else "  ", style="bold green")
            row.append(clean_line(name))
            options.append(Option(row, id=f"t{index}"))
        self._shown = {f"t{index}": name for index, name in matching}
        listing = self.query_one(OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(options)
        listing.display = bool(options)
        if options:
            listing.highlighted = min(highlighted or 0, len(options) - 1)

    def _error(self, message: str) -> None:
        self.query_one("#tag-error", Static).update(Text(message, style="bold red") if message else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._error("")
        self._fill(event.value)

    def action_to_list(self) -> None:
        listing = self.query_one(OptionList)
        if listing.option_count:
            listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = self._shown.get(event.option_id or "")
        if name is None:
            return
        if self._has(name):
            self.current = [t for t in self.current if nocase(t) != nocase(name)]
        else:
            self.current.append(name)
        self.dismiss(self.change())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            edits = parse_tag_input(event.value)
        except TagInputError as exc:
            self._error(str(exc)[:1].upper() + str(exc)[1:] + ".")
            return
        for add, name in edits:
            if add and not self._has(name):
                self.current.append(name)
            elif not add:
                self.current = [t for t in self.current if nocase(t) != nocase(name)]
        self.dismiss(self.change())

    def change(self) -> TagChange:
        """What the edits come to against the post's tags when the screen opened."""
        before = {nocase(t) for t in self.original}
        after = {nocase(t) for t in self.current}
        return TagChange(
            add=[t for t in self.current if nocase(t) not in before],
            remove=[t for t in self.original if nocase(t) not in after],
        )
