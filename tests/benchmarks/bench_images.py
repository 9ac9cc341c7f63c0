"""Benchmark images in the reading pane: a post with 20 cached 2000 × 1500 JPEGs.

Run:  python tests/benchmarks/bench_images.py [--runs N] [--size WxH]

`READER_IMAGES=halfblocks` or `kitty` picks how pictures are drawn (Kitty's protocol also
needs TEXTUAL_COLOR_SYSTEM=truecolor here). Prints, for the real app driven by Textual's
pilot: the time from Enter to the post's text on the screen (`post_shown_at`), to the first
image and to every image drawn, with images on and off (the baseline); and the decode time
per image (bytes → small picture, and picture → half-block lines).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image
from tui_support import add_post, fill, make_app, settle

from reader.images.cache import ImageCache
from reader.images.cells import decode, picture_lines
from reader.store import Store
from reader.tui.widgets.post_body import PostBody

COUNT = 20


def photo(n: int, width: int, height: int) -> bytes:
    image = Image.effect_mandelbrot((width, height), (-2.0 + n * 0.02, -1.5, 1.0, 1.5), 80).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Landed:
    """When pictures reached the screen's lines (PostBody.set_lines, on the UI thread, as they
    land: the pilot's own pauses wait for the app to be idle, which it isn't while they arrive)."""

    def __init__(self) -> None:
        self.first = self.last = 0.0
        set_lines = self.set_lines = PostBody.set_lines

        def recording(body: PostBody, lines: list) -> None:  # type: ignore[type-arg]
            set_lines(body, lines)
            texts = [line.text for line in lines]
            if any(text.startswith(("▀", "▄", "\U0010EEEE")) for text in texts):
                self.first = self.first or time.perf_counter()
                if not any("[image" in text for text in texts):
                    self.last = self.last or time.perf_counter()

        PostBody.set_lines = recording  # type: ignore[method-assign]

    def close(self) -> None:
        PostBody.set_lines = self.set_lines  # type: ignore[method-assign]


async def open_post(store: Store, images: bool, size: tuple[int, int]) -> tuple[float, float, float]:
    app = make_app(store, images=images)
    landed = Landed()
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            started = time.perf_counter()
            await pilot.press("enter")
            while not app.post_shown_at or (images and not landed.last):
                await pilot.pause(0.01)
            return app.post_shown_at - started, landed.first - started, landed.last - started
    finally:
        landed.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="2000x1500")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    photos = [photo(n, width, height) for n in range(COUNT)]
    decodes, lays = [], []
    for data in photos:
        started = time.perf_counter()
        picture = decode(data, 100)
        middle = time.perf_counter()
        assert picture is not None
        picture_lines(picture, 100)
        decodes.append(middle - started)
        lays.append(time.perf_counter() - middle)
    print(f"{COUNT} JPEGs of {width}×{height} ({statistics.mean(map(len, photos)) / 1024:.0f} KB each)")
    print(f"decode per image: median {statistics.median(decodes) * 1000:.1f} ms, max {max(decodes) * 1000:.1f} ms")
    print(f"half-block lines per image (100 cells): median {statistics.median(lays) * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data" / "reader.sqlite")
        fill(store, seed=False)
        cache = ImageCache(Path(tmp) / "data" / "images", 10**9)
        urls = [f"https://img.invalid/{n}.jpg" for n in range(COUNT)]
        for url, data in zip(urls, photos, strict=True):
            cache.put(url, data)
        words = " ".join(f"word{n}" for n in range(60))
        add_post(store, "".join(f"<p>P{n}: {words}</p><img src='{url}' alt='pic {n}'>" for n, url in enumerate(urls)))
        for images in (False, True):
            runs = [asyncio.run(open_post(store, images, (140, 40))) for _ in range(args.runs)]
            label = "images on " if images else "images off"
            text = statistics.median(r[0] for r in runs) * 1000
            first = statistics.median(r[1] for r in runs) * 1000
            whole = statistics.median(r[2] for r in runs) * 1000
            tail = f", first image {first:.0f} ms, all {COUNT} images {whole:.0f} ms" if images else ""
            print(f"{label}: text on screen median {text:.0f} ms{tail}")
        store.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
