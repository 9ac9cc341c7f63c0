"""An image as terminal cells: Unicode half blocks, two pixels a cell.

"▀" with the foreground colour of the top pixel and the background colour of the bottom
one draws two pixels in every cell, in any terminal with true colour or 256 colours, tmux
and screen included (Rich maps colours down to what the terminal has). Transparent pixels
take no colour: the pane's own background shows through.

Decoding is done once per image, to a small picture (at most the text measure wide, at
most MAX_ROWS rows tall), off the UI thread; laying it out at a width is then cheap (a
resize of a few thousand pixels), so a relayout at another width needs no second decode.
JPEG decodes at 1/2, 1/4 or 1/8 scale straight from the file (Pillow's draft mode, used by
`thumbnail`): a 2000 × 1500 photo costs a few milliseconds, not a full decode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from reader.images.validate import ImageError, open_checked

# Rows an image may take at most: a tall image is scaled down to fit, so one picture never
# pushes the text a whole screen away.
MAX_ROWS = 40
# Source pixels a cell stands for at an image's natural size: a 64-pixel icon stays 8 cells
# wide instead of being blown up to the full measure.
PIXELS_PER_CELL = 8
# Alpha below this is transparent (half blocks can't blend).
OPAQUE = 128
UPPER, LOWER = "▀", "▄"


@dataclass(frozen=True)
class Picture:
    """A decoded image, small: `image` is RGBA, one pixel a half cell. With `kitty` (the
    picture for Kitty's graphics protocol, base64 PNG), the terminal draws that instead."""

    image: Image.Image
    kitty: str | None = None

    @property
    def width(self) -> int:
        return self.image.width

    def pixels_at(self, width: int, max_rows: int | None = None) -> tuple[int, int]:
        """(cells, half-cell pixels high) the picture takes at most `width` cells wide and
        `max_rows` rows tall: scaled down to fit both, keeping its proportions."""
        columns = max(1, min(width, self.image.width))
        pixels_high = max(1, round(self.image.height * columns / self.image.width))
        if max_rows is not None and pixels_high > 2 * max(max_rows, 1):
            pixels_high = 2 * max(max_rows, 1)
            columns = max(1, min(columns, round(self.image.width * pixels_high / self.image.height)))
        return columns, pixels_high

    def size_at(self, width: int, max_rows: int | None = None) -> tuple[int, int]:
        """(cells, rows) the picture takes at most `width` cells wide (and `max_rows` tall)."""
        columns, pixels_high = self.pixels_at(width, max_rows)
        return columns, (pixels_high + 1) // 2

    def __repr__(self) -> str:
        return f"Picture({self.image.width}×{self.image.height})"


def decode(data: bytes, max_cells: int = 100, max_rows: int = MAX_ROWS, kitty: bool = False) -> Picture | None:
    """Decode `data` (checked first: see validate.py) to a Picture at most `max_cells` wide
    and `max_rows` tall, or None if it can't be shown. With `kitty`, also the PNG to send the
    terminal (kitty.py). Never raises."""
    try:
        image = open_checked(data)
    except ImageError:
        return None
    try:
        with image:
            width, height = image.size
            cells = max(1, min(max_cells, math.ceil(width / PIXELS_PER_CELL)))
            # Half blocks: a cell is one pixel wide and two tall, which is about a cell's own
            # shape (1:2), so the picture keeps its proportions at `cells` pixels wide.
            target_h = max(1, round(height * cells / width))
            if target_h > 2 * max_rows:
                target_h = 2 * max_rows
                cells = max(1, round(width * target_h / height))
            image.seek(0)  # an animated GIF or WebP: its first frame
            if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                # 16-bit (or 32-bit) greyscale, as some PNGs are: Pillow can't reduce or convert
                # those to RGBA directly; scaled to 8 bits first.
                image.load()
                scale = 1 / 256 if image.mode.startswith("I;16") else 1.0
                image = image.convert("I").point(lambda value: value * scale).convert("L")
            sent = None
            if kitty:
                from reader.images import kitty as protocol

                image.draft("RGB", (protocol.MAX_PIXELS_WIDE, protocol.MAX_PIXELS_HIGH))  # JPEG: a reduced decode
                sent = protocol.payload(image)
            image.thumbnail((cells, target_h), Image.Resampling.LANCZOS, reducing_gap=2.0)
            small = image.convert("RGBA")
            if small.size != (cells, target_h):
                small = small.resize((cells, target_h), Image.Resampling.LANCZOS)
            small.load()
            return Picture(small, sent)
    except Exception:  # a truncated or corrupt file: Pillow raises many kinds
        return None


def _style(top: tuple[int, ...], bottom: tuple[int, ...]) -> tuple[str, Style | None]:
    top_on, bottom_on = top[3] >= OPAQUE, bottom[3] >= OPAQUE
    if top_on and bottom_on:
        return UPPER, Style.from_color(Color.from_rgb(*top[:3]), Color.from_rgb(*bottom[:3]))
    if top_on:
        return UPPER, Style.from_color(Color.from_rgb(*top[:3]))
    if bottom_on:
        return LOWER, Style.from_color(Color.from_rgb(*bottom[:3]))
    return " ", None


def picture_lines(picture: Picture, width: int, max_rows: int | None = None) -> list[Strip]:
    """The picture as lines of cells, at most `width` cells wide and `max_rows` tall (scaled
    down to fit)."""
    image = picture.image
    size = picture.pixels_at(width, max_rows)
    if size != image.size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    columns, rows = image.size
    pixels = image.tobytes()
    stride = columns * 4
    styles: dict[bytes, tuple[str, Style | None]] = {}
    lines: list[Strip] = []
    for y in range(0, rows, 2):
        top_row = pixels[y * stride:(y + 1) * stride]
        bottom_row = pixels[(y + 1) * stride:(y + 2) * stride] if y + 1 < rows else bytes(stride)
        segments: list[Segment] = []
        run_key: bytes | None = None
        run = 0
        for x in range(0, stride, 4):
            key = top_row[x:x + 4] + bottom_row[x:x + 4]
            if key != run_key:
                if run:
                    char, style = styles[run_key]  # type: ignore[index]
                    segments.append(Segment(char * run, style))
                if key not in styles:
                    styles[key] = _style(tuple(key[:4]), tuple(key[4:]))
                run_key, run = key, 0
            run += 1
        if run:
            char, style = styles[run_key]  # type: ignore[index]
            segments.append(Segment(char * run, style))
        lines.append(Strip(segments, columns))
    return lines


def image_lines(data: bytes, width: int, max_rows: int = MAX_ROWS) -> list[Strip] | None:
    """Bytes to lines of cells at most `width` wide and `max_rows` tall, or None. Never raises."""
    picture = decode(data, width, max_rows)
    return None if picture is None else picture_lines(picture, width)
