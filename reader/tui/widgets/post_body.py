"""The reading pane's body: the post's pre-rendered lines, drawn with Textual's Line API."""

from __future__ import annotations

from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from reader.tui.post_layout import MEASURE


class PostBody(Widget):
    """Shows pre-rendered lines (Line API), so a 50 KB post costs the UI thread one screenful.

    A Static holding the Markdown would lay the whole post out on the UI thread, more
    than once per layout pass. When the width changes, `Relayout` asks for new lines.
    """

    DEFAULT_CSS = f"""
    PostBody {{ width: 1fr; max-width: {MEASURE}; height: auto; }}
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Strip] = []
        self.placeholder: Text | None = None

    def set_lines(self, lines: list[Strip]) -> None:
        self.lines = lines
        self.placeholder = None
        self.refresh(layout=True)

    def set_placeholder(self, text: Text | None) -> None:
        self.lines = []
        self.placeholder = text
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines) if self.lines else (1 if self.placeholder else 0)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if not self.lines:
            if y == 0 and self.placeholder is not None:
                return Strip(self.placeholder.render(self.app.console)).apply_style(style).crop_extend(0, width, style)
            return Strip.blank(width, style)
        if y >= len(self.lines):
            return Strip.blank(width, style)
        return self.lines[y].apply_style(style).crop_extend(0, width, style)

    def on_resize(self, event: Resize) -> None:
        from reader.tui.widgets.reading_pane import ReadingPane  # here: that module imports this one

        pane = self.parent
        if isinstance(pane, ReadingPane):
            pane.body_resized(event.size.width)
