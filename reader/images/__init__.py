"""Images in posts: which to show (urls), downloading and checking them (fetch, validate),
keeping them offline (cache), and drawing them as terminal cells (cells).

Why half blocks everywhere, and not Kitty/Sixel/iTerm2 through textual-image (0.12, measured):
- Its protocol detection runs when `textual_image.renderable` is imported: it writes queries
  to the terminal and reads the answers from stdin, which only works before Textual starts
  (Textual's input thread takes stdin), and would have to be done by the app's launcher.
- Its Kitty renderable writes the image to `sys.__stdout__` from inside `__rich_console__`.
  Posts are laid out in worker threads here, so that write would land in the middle of a
  frame Textual's writer thread is sending.
- Its Sixel output only works through its own widget, which emits cursor moves and sixel
  data for that widget's region on every render (re-encoding for each crop). The post is one
  Line-API widget of pre-laid-out lines that scroll; making every image a child widget would
  give up the single-widget design that keeps a post's first frame under 100 ms.
- Its half-cell renderable works in the pane but costs ~150-170 ms per 2000 × 1500 JPEG (a
  full decode, a copy, a resize, a Style per cell); cells.py takes ~4 ms to decode (JPEG
  draft mode) plus ~5-9 ms for the cells.
Kitty's Unicode placeholders (U+10EEEE with row/column diacritics, the image id in the
foreground colour) would fit the Line-API pane: Rich measures each placeholder cell as one
cell and Textual's Strip crop/divide keep the diacritics with their cell (checked). What it
needs: detecting Kitty before Textual starts (or from TERM/KITTY_WINDOW_ID, never under tmux),
and sending the image through the driver's ordered output on the UI thread. Not done: no
terminal with the protocol here to check it against.
"""

from reader.images.cache import ImageCache
from reader.images.fetch import ACCEPT, fetch_images, prefetch
from reader.images.urls import image_urls
from reader.images.validate import MAX_IMAGE_BYTES, MAX_PIXELS, ImageError, check_image

__all__ = [
    "ACCEPT", "MAX_IMAGE_BYTES", "MAX_PIXELS", "ImageCache", "ImageError", "check_image", "fetch_images",
    "image_urls", "prefetch",
]
