"""Images in posts: which to show (urls), downloading and checking them (fetch, validate),
keeping them offline (cache), and drawing them as terminal cells (cells).

How pictures reach the screen: Kitty's graphics protocol with Unicode placeholders where the
environment says the terminal is Kitty or Ghostty (kitty.py), half blocks everywhere else
(cells.py), tmux and screen included. textual-image (0.12) was measured and not used:
- Its protocol detection runs when `textual_image.renderable` is imported: it writes queries
  to the terminal and reads the answers from stdin, which only works before Textual starts
  (Textual's input thread takes stdin), and would have to be done by the app's launcher.
- Its Kitty renderable writes the image to `sys.__stdout__` from inside `__rich_console__`.
  Posts are laid out in worker threads here, so that write would land in the middle of a
  frame Textual's writer thread is sending. kitty.py builds the same sequences and the pane
  sends them through Textual's driver, on the UI thread, before the lines that show them.
- Its Sixel output only works through its own widget, which emits cursor moves and sixel
  data for that widget's region on every render (re-encoding for each crop). The post is one
  Line-API widget of pre-laid-out lines that scroll; making every image a child widget would
  give up the single-widget design that keeps a post's first frame under 100 ms. iTerm2's
  inline images have the same shape (drawn at the cursor, not cells). So no Sixel or iTerm2:
  those terminals get half blocks.
- Its half-cell renderable works in the pane but costs ~150-170 ms per 2000 × 1500 JPEG (a
  full decode, a copy, a resize, a Style per cell); cells.py takes ~4 ms to decode (JPEG
  draft mode) plus ~5-9 ms for the cells.
Kitty's placeholders fit the Line-API pane because they are text: Rich measures each cell as
one cell, and Textual's Strip crop/divide keep the diacritics with their cell (tested).
Not checked against a real Kitty here (none in this environment): the sequences are tested
against the protocol's description and the order of sending against the pane's lines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reader.images.cache import ImageCache
    from reader.images.fetch import ACCEPT, fetch_images, prefetch
    from reader.images.limits import MAX_IMAGE_BYTES, MAX_PIXELS
    from reader.images.urls import image_urls
    from reader.images.validate import ImageError, check_image

# Loaded when first asked for (PEP 562): `reader refresh` needs the cache's paths, not Pillow
# (30 ms and 10 MB to import), which only checking or drawing an image does.
_WHERE = {
    "ImageCache": "cache", "ACCEPT": "fetch", "fetch_images": "fetch", "prefetch": "fetch",
    "image_urls": "urls", "MAX_IMAGE_BYTES": "limits", "MAX_PIXELS": "limits", "ImageError": "validate",
    "check_image": "validate",
}
__all__ = [
    "ACCEPT", "MAX_IMAGE_BYTES", "MAX_PIXELS", "ImageCache", "ImageError", "check_image", "fetch_images",
    "image_urls", "prefetch",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reader.images' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reader.images.{module}"), name)
