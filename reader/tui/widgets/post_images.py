"""The reading pane's inline images: decoded off the UI thread after the text is shown,
spliced in one by one.

Each image is a block of its own (ImageBlock, reader/tui/post_layout.py), drawn as
`[image: alt]` when the post is first shown, so the text paints as fast as without images.
Then a worker decodes the cached ones (and downloads the others) one at a time and the pane
splices each picture's lines in place of its placeholder; an image landing above the
reader's place scrolls with it, so what the reader looks at doesn't move. Pictures are
Kitty's Unicode placeholders in Kitty and Ghostty (sent to the terminal first, through the
driver), half-block cells everywhere else: see reader/images/__init__.py for why, and why
not textual-image.

A mixin of ReadingPane (reader/tui/widgets/reading_pane.py), whose reading position it
follows when an image above it changes the lines.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from textual.events import Resize
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.worker import get_current_worker

from reader.tui.post_layout import MEASURE, OpenPost, layout_blocks

if TYPE_CHECKING:
    from reader.images.cache import ImageCache
    from reader.tui.widgets.reading_pane import ReadingPane

# Images spliced in below the screen wait this long (seconds) to be shown with the next ones.
FLUSH_DELAY = 0.15
# A picture is never capped shorter than this many rows, however low the pane.
MIN_IMAGE_ROWS = 4


class PostImages:
    """The images part of ReadingPane: call `_init_images` from its `__init__`."""

    # (namespace: the handler keeps the name it had as ReadingPane's own message.)
    class ImagesReady(Message, bubble=False, namespace="reading_pane"):
        """Images were laid out in a worker: splice them in (ReadingPane._ready). `last`: the
        worker is done, so nothing waits for more to come."""

        def __init__(self, last: bool = False) -> None:
            super().__init__()
            self.last = last

    def _init_images(self: ReadingPane) -> None:
        self._flush_timer: Timer | None = None  # images spliced below the screen, to be shown
        self._kitty_mode = False  # Kitty's graphics protocol (else half blocks): see reader/images/kitty.py
        self._kitty_ids: list[int] = []  # images sent to the terminal for the open post (Kitty)
        # Image lines laid out by the worker, waiting for the UI thread: (post, block, lines, width).
        self._ready: list[tuple[OpenPost, int, list[Strip], int]] = []
        self._ready_lock = threading.Lock()
        self._drain_pending = False

    def _image_cache(self: ReadingPane) -> ImageCache | None:
        """The app's image cache (the one its refresh fills), or None with images turned off."""
        app_cache = getattr(self.app, "image_cache", None)
        if callable(app_cache):
            return app_cache()
        settings = getattr(self.app, "settings", None)  # (a test app without the reader's)
        store_path = getattr(getattr(self.app, "store", None), "path", None)
        if settings is None or store_path is None:
            return None
        from reader.images.cache import image_cache

        return image_cache(settings, store_path.parent)

    def _image_rows(self: ReadingPane) -> int:
        """The rows a picture may take: the pane's visible height less two lines, so an image
        (and the blank line above it) can be seen whole. UI thread."""
        height = self.scrollable_content_region.height
        if height <= 0:  # hidden (the list has a narrow screen): a guess from the screen until it shows
            height = self.app.size.height - 3
        return max(height - 2, MIN_IMAGE_ROWS)

    def _fit_images(self: ReadingPane, post: OpenPost) -> list[int]:
        """Give the post's images the rows the pane has now; the images whose cap changed."""
        rows = self._image_rows()
        changed = []
        for index, block in post.images:
            if block.max_rows != rows:
                block.max_rows = rows  # (read by layouts in workers: one assignment, atomic)
                changed.append(index)
        return changed

    def on_resize(self: ReadingPane, event: Resize) -> None:
        """(As well as ReadingPane.on_resize: Textual calls each class's handler.) A new height:
        the pictures drawn are drawn again to fit it. A new width is a relayout, which reads the
        new cap (set here first) as it draws them."""
        post = self.post
        if post is None or not post.images:
            return
        changed = self._fit_images(post)
        drawn = [index for index in changed if post.blocks[index].picture is not None]  # type: ignore[union-attr]
        if drawn and self.pending_id is None:
            self.run_worker(partial(self._draw_images, post, drawn, post.width), thread=True,
                            group="images-redraw", exit_on_error=False, description="fit images to the pane")

    def _start_images(self: ReadingPane, post: OpenPost) -> None:
        self._stop_images()
        self._fit_images(post)
        if not any(block.ref.url for _, block in post.images):
            return
        cache = self._image_cache()
        if cache is not None:
            from reader.images import kitty

            # The image id travels as a 24-bit foreground colour: only where colours reach the
            # terminal unchanged (not 256 colours, as over ssh without COLORTERM; not NO_COLOR).
            self._kitty_mode = (
                kitty.supported() and self.app.console.color_system == "truecolor"
                and not getattr(self.app, "no_color", False)
            )
            self.run_worker(partial(self._load_images, post, cache), thread=True, group="images", exclusive=True,
                            exit_on_error=False, description=f"images of post {post.entry.id}")

    def _stop_images(self: ReadingPane) -> None:
        self.workers.cancel_group(self, "images")
        self.workers.cancel_group(self, "images-redraw")

    def _leave_post(self: ReadingPane) -> None:
        """Leaving the open post: its image workers stop, its Kitty images are freed."""
        self._stop_images()
        self._forget_pictures()


    def _write_terminal(self: ReadingPane, sequence: str) -> None:
        """Raw output, in order with Textual's frames (its driver's writer queue), UI thread only."""
        driver = getattr(self.app, "_driver", None)
        if driver is not None and sequence:
            try:
                driver.write(sequence)
            except Exception:  # the app closing: the terminal frees its images itself then
                pass

    def _send_pictures(self: ReadingPane, post: OpenPost) -> None:
        """Send the terminal the Kitty images these lines show: before the lines are set."""
        sequences = []
        for _, block in post.images:
            for image_id, sequence in block.take_unsent():
                self._kitty_ids.append(image_id)
                sequences.append(sequence)
        self._write_terminal("".join(sequences))

    def _forget_pictures(self: ReadingPane) -> None:
        """Free the open post's Kitty images in the terminal (leaving the post)."""
        if self._kitty_ids:
            from reader.images import kitty

            self._write_terminal(kitty.delete(self._kitty_ids))
            self._kitty_ids = []

    def _load_images(self: ReadingPane, post: OpenPost, cache: ImageCache) -> None:
        """(Worker thread.) Decode the post's cached images in order, each shown as it is ready;
        then download the missing ones (the app may be online) and show those."""
        try:
            self._load_pictures(post, cache)
        finally:
            self.post_message(self.ImagesReady(last=True))

    def _load_pictures(self: ReadingPane, post: OpenPost, cache: ImageCache) -> None:
        from reader.images import cells
        from reader.images.fetch import fetch_images

        stop = get_current_worker().cancelled_event
        places: dict[str, list[int]] = {}  # an image shown twice is decoded once
        for index, block in post.images:
            if block.ref.url:
                places.setdefault(block.ref.url, []).append(index)
        missing: list[str] = []
        for url, indices in places.items():
            if stop.is_set():
                return
            data = cache.get(url)
            if data is None or not self._picture_ready(post, cache, url, data, indices, cells, stop, fresh=False):
                missing.append(url)
        if not missing or stop.is_set():
            return
        from reader.fetch import FetchOptions
        from reader.images.fetch import OPEN_TIMEOUT

        shown: set[str] = set()

        def arrived(url: str, data: bytes) -> None:  # each image as it comes, not after the slowest one
            if not stop.is_set():
                shown.add(url)
                self._picture_ready(post, cache, url, data, places[url], cells, stop)

        timeout = min(getattr(getattr(self.app, "settings", None), "timeout", OPEN_TIMEOUT), OPEN_TIMEOUT)
        # (An image too big for the cache, or any with image_cache_mb = 0, is fetched to be shown
        # from memory: fetch_images hands over the bytes, kept or not.)
        wanted = [url for url in missing if cache.wanted(url, to_show=True)]
        fetch_images(wanted, cache, FetchOptions(timeout=timeout), stop=stop, on_image=arrived)
        for url in missing:  # cached meanwhile by another process (a refresh running alongside)
            if url not in shown and not stop.is_set():
                data = cache.get(url)
                if data is not None:
                    arrived(url, data)

    def _picture_ready(self: ReadingPane, post: OpenPost, cache: ImageCache, url: str, data: bytes,
                       indices: list[int], cells: object, stop: threading.Event, fresh: bool = True) -> bool:
        """Decode and show one image; False if it can't be decoded. `fresh`: the bytes were just
        downloaded (else they came from the cache)."""
        picture = cells.decode(data, MEASURE, cells.MAX_ROWS, self._kitty_mode)  # type: ignore[attr-defined]
        if picture is None:
            if fresh:  # what the server sends can't be decoded (a truncated file): not fetched again soon
                cache.fail(url, "the image could not be decoded")
            else:
                # The cached copy is damaged (a disk error, a file cut short): the image itself may
                # be fine. Dropped, not remembered as the URL's failure: fetched again now (online).
                cache.drop(url)
            return False
        for index in indices:
            post.blocks[index].picture = picture  # type: ignore[union-attr]
        if not stop.is_set():
            self._draw_images(post, indices, post.width, stop)
        return True

    def _draw_images(self: ReadingPane, post: OpenPost, indices: list[int], width: int,
                     stop: threading.Event | None = None) -> None:
        """(Worker thread.) Lay the image blocks out at `width` and hand the lines to the UI thread."""
        if width <= 0:
            return
        stop = stop or get_current_worker().cancelled_event
        for index in indices:
            lines, _ = layout_blocks(self.app.console, [post.blocks[index]], width)
            if stop.is_set():
                return
            with self._ready_lock:
                self._ready.append((post, index, lines, width))
                wake = not self._drain_pending
                self._drain_pending = True
            if wake:  # one wake-up for all the images ready by the time the UI thread gets to them
                self.post_message(self.ImagesReady())

    def on_reading_pane_images_ready(self: ReadingPane, message: ImagesReady) -> None:
        with self._ready_lock:
            ready, self._ready = self._ready, []
            self._drain_pending = False
        post = self.post
        follow = changed = now = False
        last_seen = self._last_seen_block(post) if post is not None else 0
        for item_post, index, lines, width in ready:
            delta = self._splice(item_post, index, lines, width)
            if delta is not None:
                changed = True
                now = now or index <= last_seen
                follow = follow or (bool(delta) and not self._in_header and self._block > index)
        if message.last and self._flush_timer is not None and post is not None:
            now = changed = True  # the worker is done: nothing more to wait for
        if not changed or post is None:
            return
        if follow:
            self._restoring = True  # the scroll the new lines cause is not the reader moving
        if now:
            self._show_spliced(post, follow)
        elif self._flush_timer is None:
            # All below the screen: shown together a moment later, one repaint for many images
            # instead of one each (a repaint of a screen of pictures costs tens of milliseconds).
            self._flush_timer = self.set_timer(FLUSH_DELAY, lambda: self._show_spliced(post, False))

    def _last_seen_block(self: ReadingPane, post: OpenPost) -> int:
        """The last block (at least partly) on the screen, from the reader's place, which is
        kept as a block: line numbers go stale while images above are still being scrolled past."""
        first = 0 if self._in_header else min(self._block, max(len(post.starts) - 1, 0))
        starts = post.starts
        if not starts:
            return 0
        top, last = starts[first], first
        while last + 1 < len(starts) and starts[last + 1] - top < self.size.height:
            last += 1
        return last

    def _show_spliced(self: ReadingPane, post: OpenPost, follow: bool) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if post is not self.post:
            return
        self._send_pictures(post)
        self.body.set_lines(post.lines)  # once for every image that arrived together: one repaint
        if follow:
            self.call_after_refresh(self._follow_splice, post)

    @staticmethod
    def _block_lines(post: OpenPost, index: int) -> list[Strip]:
        end = post.starts[index + 1] if index + 1 < len(post.starts) else len(post.lines)
        return post.lines[post.starts[index]:end]

    def _splice(self: ReadingPane, post: OpenPost, index: int, lines: list[Strip], width: int) -> int | None:
        """Put block `index`'s new lines in place of its old ones in `post.lines`; how many
        lines that added, or None if they don't belong any more. (An image above the reader's
        place pushes the text down: the caller scrolls with it, so nothing the reader looks at moves.)"""
        if post is not self.post or self.pending_id is not None or post.width != width or index >= len(post.starts):
            return None  # another post, or a relayout in flight (which draws the picture itself)
        start = post.starts[index]
        end = post.starts[index + 1] if index + 1 < len(post.starts) else len(post.lines)
        delta = len(lines) - (end - start)
        post.lines = post.lines[:start] + lines + post.lines[end:]
        if delta:
            post.starts = post.starts[:index + 1] + [line + delta for line in post.starts[index + 1:]]
        return delta

    def _follow_splice(self: ReadingPane, post: OpenPost, tries: int = 5) -> None:
        if post is not self.post:
            self._restoring = False
            return
        target = self._place(post)
        if self.max_scroll_y < target and tries:
            self.call_after_refresh(self._follow_splice, post, tries - 1)  # not laid out yet
            return
        try:
            self.scroll_to(y=target, animate=False, immediate=True)
        finally:
            self._restoring = False

    def _redraw_stale(self: ReadingPane, post: OpenPost, width: int) -> None:
        """After a relayout: a picture decoded while that layout was being made may be drawn
        as its placeholder, or for the pane's height before a resize; draw those again."""
        stale = [
            i for i, block in post.images
            if block.picture is not None and not block.drawn_at(self._block_lines(post, i), width)
        ]
        if stale:
            self.run_worker(partial(self._draw_images, post, stale, width), thread=True, group="images-redraw",
                            exit_on_error=False, description="redraw images")
