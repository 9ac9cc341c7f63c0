"""Benchmark the app headlessly on a cache of 100,000 generated posts.

Run:  python tests/benchmarks/bench_tui.py [--feeds 500] [--posts 200] [--json out.json]

Builds the cache once through Store.save_parsed (synthetic ParsedFeed objects,
a few posts with 50 KB bodies) and keeps it in the temp dir between runs. Prints:
time to first paint (app start to the first frame showing rows), time for a filter
to apply, time to open a 50 KB post, keypress latency moving the cursor, and the
peak memory (max RSS) of the process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from reader.config import Settings
from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store

GOALS = {"first_paint_s": 1.0, "filter_ms": 100.0, "open_50k_ms": 100.0, "peak_rss_mb": 250.0}
BIG_EVERY = 5_000  # one post in this many gets a 50 KB body
WORDS = "network packet router latency cache feed reader terminal keyboard offline python sqlite".split()


def big_html(seed: int) -> str:
    parts: list[str] = []
    size = 0
    n = 0
    while size < 50_000:
        words = " ".join(WORDS[(seed + n + k) % len(WORDS)] for k in range(60))
        block = (f"<h2>Section {n}</h2><p>{words} <a href='https://example.com/{seed}/{n}'>link {n}</a> "
                 f"<em>emphasis</em> <code>code()</code></p><ul><li>{words[:80]}</li><li>two</li></ul>")
        parts.append(block)
        size += len(block)
        n += 1
    return "".join(parts)


def build(path: Path, feeds: int, posts: int) -> None:
    store = Store(path)
    base = 1_700_000_000.0
    for f in range(feeds):
        url = f"https://feed{f}.example/rss"
        store.add_feed(url, f"Feed {f}", [f"Category {f % 20}"])
        entries = []
        for p in range(posts):
            n = f * posts + p
            content = big_html(n) if n % BIG_EVERY == 0 else f"<p>Post {n} about {WORDS[n % len(WORDS)]}.</p>"
            entries.append(ParsedEntry(
                key=str(p), title=f"Post {n}: {WORDS[n % len(WORDS)]} {WORDS[(n * 7) % len(WORDS)]}",
                link=f"https://feed{f}.example/{p}", author=f"Author {n % 50}", published=base - n * 37.0,
                categories=[WORDS[n % len(WORDS)]], content=content, base_url=f"https://feed{f}.example/",
            ))
        store.save_parsed(url, ParsedFeed(f"Feed {f}", f"https://feed{f}.example/", entries))
    store.db.execute("UPDATE feeds SET last_checked = ?", (base,))
    store.close()


def frame_recording_app(frames: list[float]) -> type:
    """ReaderApp that notes when each frame goes out (bench_searches.py uses it too)."""
    from reader.tui.app import ReaderApp

    class BenchApp(ReaderApp):
        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            # A frame: what a real terminal would be sent, turned into escape codes here.
            if renderable is not None and hasattr(renderable, "render_segments"):
                renderable.render_segments(self.console)
                frames.append(time.perf_counter())
            super()._display(screen, renderable)

    return BenchApp


async def measure(path: Path) -> dict[str, float]:
    import_start = time.perf_counter()
    frames: list[float] = []
    BenchApp = frame_recording_app(frames)

    store = Store(path)
    app = BenchApp(store, Settings(mark_read_after=-1))
    results: dict[str, float] = {}
    start = time.perf_counter()
    async with app.run_test(size=(140, 40)) as pilot:
        # First paint with rows: wait until the list holds the 100k source and a frame has gone out.
        while app.post_list.row_count == 0:
            await asyncio.sleep(0.002)
        loaded = app.list_loaded_at
        while not frames or frames[-1] < loaded:
            await asyncio.sleep(0.002)
        painted = min(f for f in frames if f >= loaded)
        results["first_paint_s"] = painted - import_start
        results["first_paint_after_start_s"] = painted - start
        results["rows"] = app.post_list.row_count
        await app.workers.wait_for_complete()
        await pilot.pause()

        # Filter: from the debounced Changed message to the rows swapped in.
        timings = []
        for query in ("category:\"Category 3\"", "is:unread router", "author:\"Author 7\"", ""):
            app.list_loaded_at = 0.0
            t0 = time.perf_counter()
            app.set_filter(query)
            while app.list_loaded_at == 0.0:
                await asyncio.sleep(0.001)
            timings.append((app.list_loaded_at - t0) * 1000)
        results["filter_ms"] = statistics.median(timings)
        results["filter_max_ms"] = max(timings)

        # Open a 50 KB post: Enter to the rendered body in the pane and painted.
        ids = app.source.ids
        big_ids = [i for i in ids if (i - 1) % BIG_EVERY == 0][:3]
        opens: list[float] = []
        completes: list[float] = []
        # Warm up once on a small post: the first open imports html2text, markdown-it and pygments.
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.pause()
        for entry_id in big_ids:
            index = app.source.index_of(entry_id)
            app.post_list.cursor = index
            await pilot.pause()
            app.post_shown_at = 0.0
            t0 = time.perf_counter()
            await pilot.press("enter")
            while app.post_shown_at == 0.0:
                await asyncio.sleep(0.001)
            shown = app.post_shown_at
            while not frames or frames[-1] < shown:
                await asyncio.sleep(0.001)
            # The first frame at or after it (the loop may wake up a few frames later).
            opens.append((min(f for f in frames if f >= shown) - t0) * 1000)
            while app.post_complete_at == 0.0:
                await asyncio.sleep(0.001)
            completes.append((app.post_complete_at - t0) * 1000)
            if os.environ.get("BENCH_DEBUG"):
                after = [round((f - t0) * 1000) for f in frames if f > t0]
                print("shown", round((shown - t0) * 1000), "complete", round(completes[-1]), "frames", after)
            results["open_width"] = app.reading_pane.post.width
            results["open_lines"] = len(app.reading_pane.post.lines)
            await pilot.press("escape")
            await pilot.pause()
        # To the first frame showing the post's text (a long post shows its first screen
        # while the rest is laid out), and to the whole post being ready to scroll.
        results["open_50k_ms"] = statistics.median(opens) if opens else float("nan")
        results["open_50k_complete_ms"] = statistics.median(completes) if completes else float("nan")

        # Key latency: `j` to the next frame (includes Textual's ~16 ms frame pacing).
        app.post_list.focus()
        await pilot.pause()
        lat = []
        for _ in range(50):
            before = len(frames)
            t0 = time.perf_counter()
            await pilot.press("j")
            while len(frames) == before:
                await asyncio.sleep(0.0005)
            lat.append((frames[before] - t0) * 1000)
        results["key_latency_ms_median"] = statistics.median(lat)
        results["key_latency_ms_p95"] = sorted(lat)[int(len(lat) * 0.95) - 1]
        t0 = time.perf_counter()
        before = len(frames)
        await pilot.press("G")
        while len(frames) == before:
            await asyncio.sleep(0.0005)
        results["key_G_ms"] = (frames[before] - t0) * 1000
    store.close()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--json", type=Path, default=Path(tempfile.gettempdir()) / "bench_tui.json")
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / f"reader-bench-{args.feeds}x{args.posts}.sqlite"
    if not cache.exists():
        t0 = time.perf_counter()
        tmp = cache.with_suffix(".building")
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        build(tmp, args.feeds, args.posts)
        tmp.rename(cache)
        print(f"built {cache} in {time.perf_counter() - t0:.1f} s")
    results = asyncio.run(measure(cache))
    for key, value in results.items():
        goal = GOALS.get(key)
        verdict = "" if goal is None else ("  ok" if value <= goal else f"  OVER goal {goal}")
        print(f"{key:>26}: {value:10.3f}{verdict}")
    args.json.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
