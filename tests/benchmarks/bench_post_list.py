"""Benchmark the post list with 100,000 rows in a headless app.

Run:  python tests/benchmarks/bench_post_list.py [--rows N] [--presses N]

Prints time-to-first-paint, key-to-frame latency over repeated `j` presses
and for `G`, and the cost of rendering one screen of rows. A "frame" is the
moment Textual hands a compositor update to the (headless) driver; it is
turned into terminal escape codes here so that cost is counted too. Frames
are paced by Textual's screen update timer (1/MAX_FPS, 60 fps by default),
so key-to-frame includes up to ~17 ms of waiting that is not the widget's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from typing import Any

from textual.app import App, ComposeResult

from reader.models import EntryRow
from reader.tui.widgets.post_list import ListRowSource, PostList

SIZE = (120, 52)  # ~50 visible rows


class CountingSource(ListRowSource):
    def __init__(self, rows: list[EntryRow]) -> None:
        super().__init__(rows)
        self.calls = 0

    def rows(self, start: int, count: int) -> list[EntryRow]:
        self.calls += 1
        return super().rows(start, count)


def make_rows(n: int) -> list[EntryRow]:
    base = time.time()
    return [
        EntryRow(
            id=i,
            feed_id=i % 97,
            feed_title=f"Feed number {i % 97} — a long feed name",
            title=f"Post {i}: [bold]not markup[/] and some words to fill the line 漢字",
            published=base - i * 300,
            read=i % 3 == 0,
            starred=i % 11 == 0,
        )
        for i in range(n)
    ]


class BenchApp(App[None]):
    def __init__(self, source: CountingSource) -> None:
        super().__init__()
        self.animation_level = "none"
        self.source = source
        self.frames: list[float] = []
        self.frame_event = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield PostList(self.source)

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and hasattr(renderable, "render_segments"):
            renderable.render_segments(self.console)  # what a real terminal would get
            self.frames.append(time.perf_counter())
            self.frame_event.set()
        super()._display(screen, renderable)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


async def wait_frame(app: BenchApp, after: float, timeout: float = 2.0) -> float:
    """Time of the first frame at or after `after`."""
    deadline = time.perf_counter() + timeout
    while True:
        first = None
        for t in reversed(app.frames):
            if t < after:
                break
            first = t
        if first is not None:
            return first
        app.frame_event.clear()
        await asyncio.wait_for(app.frame_event.wait(), max(0.0, deadline - time.perf_counter()))


async def key_to_frame(app: BenchApp, pilot: Any, key: str) -> float:
    start = time.perf_counter()
    await pilot.press(key)
    return await wait_frame(app, start) - start


async def first_paint(rows: list[EntryRow]) -> tuple[float, int]:
    source = CountingSource(rows)
    app = BenchApp(source)
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        frame = await wait_frame(app, start, timeout=10)
        await pilot.pause()
        return frame - start, source.calls


async def bench(n_rows: int, presses: int) -> None:
    t = time.perf_counter()
    rows = make_rows(n_rows)
    print(f"built {n_rows:,} rows in {fmt_ms(time.perf_counter() - t)} (not counted below)")

    # The rows live in memory here (in the app they stay in SQLite): keep the
    # garbage collector from walking 100,000 objects during the timings.
    gc.collect()
    gc.freeze()

    await first_paint(rows)  # warm-up: lazy imports, first CSS parse
    empty_paint = statistics.median([(await first_paint([]))[0] for _ in range(5)])
    runs = [await first_paint(rows) for _ in range(5)]
    paint = statistics.median(t for t, _ in runs)
    print(f"time to first paint, {n_rows:,} rows: {fmt_ms(paint)} median of 5 ({runs[0][1]} source.rows() call)")
    print(f"time to first paint, empty list:   {fmt_ms(empty_paint)} (Textual start-up baseline)")

    source = CountingSource(rows)
    app = BenchApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        post_list = app.query_one(PostList)
        await pilot.pause(0.1)

        latencies = [await key_to_frame(app, pilot, "j") for _ in range(presses)]
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"'j' x{presses}: key-to-frame mean {fmt_ms(statistics.mean(latencies))}, "
            f"p95 {fmt_ms(p95)}, max {fmt_ms(latencies[-1])}  (cursor now {post_list.cursor})"
        )

        calls = source.calls
        g = await key_to_frame(app, pilot, "G")
        print(
            f"'G' key-to-frame: {fmt_ms(g)}  (cursor {post_list.cursor:,}, "
            f"{source.calls - calls} new source.rows() calls)"
        )
        g_back = await key_to_frame(app, pilot, "g")
        print(f"'g' key-to-frame: {fmt_ms(g_back)}")

        # The widget's own cost for one screen (render_line per visible row),
        # outside the frame pacing and Textual's own line cache.
        height = post_list.scrollable_content_region.height
        post_list.scroll_to(y=n_rows // 2, animate=False)
        await pilot.pause()

        def screen() -> float:
            t = time.perf_counter()
            for y in range(height):
                post_list.render_line(y)
            return time.perf_counter() - t

        screen()  # pages fetched
        cold = []
        for _ in range(50):
            post_list._strips.clear()
            cold.append(screen())
        warm = [screen() for _ in range(50)]
        print(
            f"render_line x{height} rows, strips built:  {fmt_ms(statistics.mean(cold))} mean, {fmt_ms(max(cold))} max"
        )
        print(f"render_line x{height} rows, strips cached: {fmt_ms(statistics.mean(warm))} mean")
        post_list._pages.clear()
        post_list._strips.clear()
        print(f"render_line x{height} rows, pages + strips: {fmt_ms(screen())} (1-2 source.rows() calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(bench(args.rows, args.presses))


if __name__ == "__main__":
    main()
