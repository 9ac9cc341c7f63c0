"""Kitty's graphics protocol with Unicode placeholders: a picture that is text.

The image is sent to the terminal once (`transmit`: PNG, base64, in 4096-byte chunks, then a
virtual placement of `cols` × `rows` cells with U=1). Where it shows, the pane draws ordinary
cells: U+10EEEE followed by two combining diacritics giving the cell's row and column in the
image, in a foreground colour that is the image's id. So an image is lines of text like any
other: it scrolls, crops and lays out in the Line-API pane, and Textual needs to know nothing
about it. Kitty and Ghostty implement this; others don't, so it is used only where the
environment says the terminal is one of them, never inside tmux or screen (which would need
passthrough), and `READER_IMAGES=halfblocks` turns it off.

The sequences must reach the terminal in order with Textual's frames: the pane writes them
through the app's driver on the UI thread, before the lines that show the picture.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import random
import threading
from collections.abc import Mapping

from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

PLACEHOLDER = "\U0010EEEE"
# The row and column diacritics, from the protocol's rowcolumn-diacritics.txt: number n is DIACRITICS[n].
DIACRITICS = (
    0x00305, 0x0030D, 0x0030E, 0x00310, 0x00312, 0x0033D, 0x0033E, 0x0033F, 0x00346, 0x0034A,
    0x0034B, 0x0034C, 0x00350, 0x00351, 0x00352, 0x00357, 0x0035B, 0x00363, 0x00364, 0x00365,
    0x00366, 0x00367, 0x00368, 0x00369, 0x0036A, 0x0036B, 0x0036C, 0x0036D, 0x0036E, 0x0036F,
    0x00483, 0x00484, 0x00485, 0x00486, 0x00487, 0x00592, 0x00593, 0x00594, 0x00595, 0x00597,
    0x00598, 0x00599, 0x0059C, 0x0059D, 0x0059E, 0x0059F, 0x005A0, 0x005A1, 0x005A8, 0x005A9,
    0x005AB, 0x005AC, 0x005AF, 0x005C4, 0x00610, 0x00611, 0x00612, 0x00613, 0x00614, 0x00615,
    0x00616, 0x00617, 0x00657, 0x00658, 0x00659, 0x0065A, 0x0065B, 0x0065D, 0x0065E, 0x006D6,
    0x006D7, 0x006D8, 0x006D9, 0x006DA, 0x006DB, 0x006DC, 0x006DF, 0x006E0, 0x006E1, 0x006E2,
    0x006E4, 0x006E7, 0x006E8, 0x006EB, 0x006EC, 0x00730, 0x00732, 0x00733, 0x00735, 0x00736,
    0x0073A, 0x0073D, 0x0073F, 0x00740, 0x00741, 0x00743, 0x00745, 0x00747, 0x00749, 0x0074A,
    0x007EB, 0x007EC, 0x007ED, 0x007EE, 0x007EF, 0x007F0, 0x007F1, 0x007F3, 0x00816, 0x00817,
    0x00818, 0x00819, 0x0081B, 0x0081C, 0x0081D, 0x0081E, 0x0081F, 0x00820, 0x00821, 0x00822,
    0x00823, 0x00825, 0x00826, 0x00827, 0x00829, 0x0082A, 0x0082B, 0x0082C, 0x0082D, 0x00951,
    0x00953, 0x00954, 0x00F82, 0x00F83, 0x00F86, 0x00F87, 0x0135D, 0x0135E, 0x0135F, 0x017DD,
    0x0193A, 0x01A17, 0x01A75, 0x01A76, 0x01A77, 0x01A78, 0x01A79, 0x01A7A, 0x01A7B, 0x01A7C,
    0x01B6B, 0x01B6D, 0x01B6E, 0x01B6F, 0x01B70, 0x01B71, 0x01B72, 0x01B73, 0x01CD0, 0x01CD1,
    0x01CD2, 0x01CDA, 0x01CDB, 0x01CE0, 0x01DC0, 0x01DC1, 0x01DC3, 0x01DC4, 0x01DC5, 0x01DC6,
    0x01DC7, 0x01DC8, 0x01DC9, 0x01DCB, 0x01DCC, 0x01DD1, 0x01DD2, 0x01DD3, 0x01DD4, 0x01DD5,
    0x01DD6, 0x01DD7, 0x01DD8, 0x01DD9, 0x01DDA, 0x01DDB, 0x01DDC, 0x01DDD, 0x01DDE, 0x01DDF,
    0x01DE0, 0x01DE1, 0x01DE2, 0x01DE3, 0x01DE4, 0x01DE5, 0x01DE6, 0x01DFE, 0x020D0, 0x020D1,
    0x020D4, 0x020D5, 0x020D6, 0x020D7, 0x020DB, 0x020DC, 0x020E1, 0x020E7, 0x020E9, 0x020F0,
    0x02CEF, 0x02CF0, 0x02CF1, 0x02DE0, 0x02DE1, 0x02DE2, 0x02DE3, 0x02DE4, 0x02DE5, 0x02DE6,
    0x02DE7, 0x02DE8, 0x02DE9, 0x02DEA, 0x02DEB, 0x02DEC, 0x02DED, 0x02DEE, 0x02DEF, 0x02DF0,
    0x02DF1, 0x02DF2, 0x02DF3, 0x02DF4, 0x02DF5, 0x02DF6, 0x02DF7, 0x02DF8, 0x02DF9, 0x02DFA,
    0x02DFB, 0x02DFC, 0x02DFD, 0x02DFE, 0x02DFF, 0x0A66F, 0x0A67C, 0x0A67D, 0x0A6F0, 0x0A6F1,
    0x0A8E0, 0x0A8E1, 0x0A8E2, 0x0A8E3, 0x0A8E4, 0x0A8E5, 0x0A8E6, 0x0A8E7, 0x0A8E8, 0x0A8E9,
    0x0A8EA, 0x0A8EB, 0x0A8EC, 0x0A8ED, 0x0A8EE, 0x0A8EF, 0x0A8F0, 0x0A8F1, 0x0AAB0, 0x0AAB2,
    0x0AAB3, 0x0AAB7, 0x0AAB8, 0x0AABE, 0x0AABF, 0x0AAC1, 0x0FE20, 0x0FE21, 0x0FE22, 0x0FE23,
    0x0FE24, 0x0FE25, 0x0FE26, 0x10A0F, 0x10A38, 0x1D185, 0x1D186, 0x1D187, 0x1D188, 0x1D189,
    0x1D1AA, 0x1D1AB, 0x1D1AC, 0x1D1AD, 0x1D242, 0x1D243, 0x1D244,
)
# The pixels sent for one picture, at most (Kitty scales it to the cells it is placed in).
MAX_PIXELS_WIDE, MAX_PIXELS_HIGH = 800, 640
CHUNK = 4096

_ids = itertools.count(random.randint(1, 1 << 20))
_ids_lock = threading.Lock()


def supported(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the terminal is Kitty or Ghostty (by the environment: asking the terminal would
    need stdin, which Textual owns once it runs). Never inside tmux or screen."""
    choice = environ.get("READER_IMAGES", "").strip().lower()
    if choice in ("halfblocks", "half-blocks", "blocks"):
        return False
    if choice == "kitty":
        return True
    term = environ.get("TERM", "")
    if environ.get("TMUX") or environ.get("STY") or term.startswith(("screen", "tmux")):
        return False
    return (
        term in ("xterm-kitty", "xterm-ghostty")
        or bool(environ.get("KITTY_WINDOW_ID"))
        or environ.get("TERM_PROGRAM", "").lower() == "ghostty"
    )


def new_id() -> int:
    """A fresh image id that fits the 24-bit foreground colour (no third diacritic needed)."""
    with _ids_lock:
        while True:
            image_id = next(_ids) & 0xFFFFFF
            if image_id:
                return image_id


def payload(image: Image.Image) -> str:
    """The picture as base64 PNG, at most MAX_PIXELS_WIDE × MAX_PIXELS_HIGH."""
    image = image.copy()
    image.thumbnail((MAX_PIXELS_WIDE, MAX_PIXELS_HIGH), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return base64.standard_b64encode(buffer.getvalue()).decode("ascii")


def transmit(image_id: int, data: str, cols: int, rows: int) -> str:
    """Send the image (quietly: q=2, the terminal answers nothing that would reach stdin) and
    place it virtually over `cols` × `rows` cells."""
    parts = []
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [""]
    for index, chunk in enumerate(chunks):
        more = 1 if index + 1 < len(chunks) else 0
        if index == 0:
            parts.append(f"\x1b_Ga=t,f=100,t=d,i={image_id},q=2,m={more};{chunk}\x1b\\")
        else:
            parts.append(f"\x1b_Gm={more},q=2;{chunk}\x1b\\")
    parts.append(f"\x1b_Ga=p,U=1,i={image_id},c={cols},r={rows},q=2\x1b\\")
    return "".join(parts)


def delete(image_ids: list[int]) -> str:
    """Free the images (their data and placements) in the terminal."""
    return "".join(f"\x1b_Ga=d,d=I,i={image_id},q=2\x1b\\" for image_id in image_ids)


def placeholder_lines(image_id: int, cols: int, rows: int) -> list[Strip]:
    """The cells that show the image: row r, column c is U+10EEEE + DIACRITICS[r] + DIACRITICS[c]."""
    cols, rows = min(cols, len(DIACRITICS)), min(rows, len(DIACRITICS))
    style = Style(color=Color.from_rgb((image_id >> 16) & 255, (image_id >> 8) & 255, image_id & 255))
    lines = []
    for row in range(rows):
        mark = PLACEHOLDER + chr(DIACRITICS[row])
        text = "".join(mark + chr(DIACRITICS[col]) for col in range(cols))
        lines.append(Strip([Segment(text, style)], cols))
    return lines
