"""Benchmark saved searches and tags in the app on a cache of 100,000 posts (issue 11).

Run:  python tests/benchmarks/bench_searches.py [--feeds 500] [--posts 200] [--read 0.0] [--runs 5]

Builds (or reuses) bench_tui.py's 100,000-post cache, copies it, and adds 10 saved searches of
various kinds (a word, a phrase, category:, is:unread feed:, tag:, author:, is:starred, since:) and
two tags (on 500 and 50 posts). `--read F` marks that fraction of the posts read first (0: all
unread, the worst case for unread counts). Prints, with the load average before and after:

- per saved search: the time from selecting it (what Enter on its sidebar row does) to its rows
  swapped into the list, and to the next frame; goal ≤ 100 ms;
- the counts: each saved search's unread count (one query each), the tags' counts, and the whole
  counts worker's work (feeds, totals, categories, searches, tags), median of --runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).parent))

from bench_tui import build, frame_recording_app

from reader.config import Settings
from reader.store import Store
from reader.tui.loading import label_counts, search_unread

GOAL_SELECT_MS = 100.0

SEARCHES = [
    ("word", "router"),
    ("phrase", '"packet router"'),
    ("category", 'category:"Category 3"'),
    ("entry category", "category:network is:unread"),
    ("unread in a feed", 'is:unread feed:"Feed 12"'),
    ("tag", "tag:later"),
    ("tag, unread", "tag:todo is:unread"),
    ("author", 'author:"Author 7"'),
    ("starred", "is:starred"),
    ("recent unread word", "since:2023-11-01 is:unread latency"),
]


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def prepare(source: Path, target: Path, read_fraction: float) -> None:
    """A copy of the 100k cache with the saved searches, tags, some stars and `read_fraction` read."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    src.backup(dst)  # consistent with any WAL content
    src.close()
    dst.close()
    store = Store(target)  # migrates the copy to the current schema
    ids = store.entry_ids()
    store.tag_entries(ids[::200], add=["later"])  # 500 posts
    store.tag_entries(ids[::2000], add=["todo"])  # 50 posts
    store.set_flag(ids[::1000], "starred", True)
    if read_fraction >= 1:
        store.set_flag(ids, "read", True)
    elif read_fraction > 0:
        keep = max(1, round(1 / (1 - read_fraction)))  # one post in `keep` stays unread
        store.set_flag([i for n, i in enumerate(ids) if n % keep != 0], "read", True)
    for name, query in SEARCHES:
        store.save_search(name, query)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def count_figures(path: Path, runs: int) -> dict[str, float]:
    store = Store(path)
    figures: dict[str, float] = {}
    searches = store.saved_searches()
    for search in searches:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            search_unread(store, search.query)
            times.append((time.perf_counter() - t0) * 1000)
        figures[f"count {search.name}"] = statistics.median(times)
    for label, work in (
        ("all saved searches' counts", lambda: label_counts(store)),
        ("tags' counts", store.tag_counts),
        ("the whole counts worker", lambda: (store.list_feeds(), store.counts(), store.category_unread(),
                                            label_counts(store))),
    ):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            work()
            times.append((time.perf_counter() - t0) * 1000)
        figures[label] = statistics.median(times)
    store.close()
    return figures


async def idle(app) -> None:  # type: ignore[no-untyped-def]
    """Every worker done (a list load cancelled by a newer one counts as done)."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def select_figures(path: Path, runs: int) -> dict[str, tuple[float, float, int]]:
    """Per saved search: (median ms to rows in, median ms to the next frame, rows)."""
    frames: list[float] = []
    BenchApp = frame_recording_app(frames)

    store = Store(path)
    app = BenchApp(store, Settings(mark_read_after=-1, refresh_every=0))
    results: dict[str, tuple[float, float, int]] = {}
    ui_ms: list[float] = []  # the UI thread's own share: set_scope until it returns
    async with app.run_test(size=(140, 40)) as pilot:
        while not app.sidebar.saved_searches or app.post_list.row_count == 0:
            await asyncio.sleep(0.005)
        await idle(app)
        await pilot.pause()
        app.external_poll.pause()  # type: ignore[union-attr]
        from reader.tui.widgets.sidebar import ALL

        for search in app.sidebar.saved_searches:
            scope = app.sidebar.search_scope(search)
            loaded, painted = [], []
            for _ in range(runs):
                app.set_scope(ALL)
                await idle(app)
                await pilot.pause()
                app.list_loaded_at = 0.0
                t0 = time.perf_counter()
                app.set_scope(scope)  # what Enter on the sidebar row does (app._scope_selected)
                ui_ms.append((time.perf_counter() - t0) * 1000)
                while app.list_loaded_at == 0.0:
                    await asyncio.sleep(0.0005)
                done = app.list_loaded_at
                while not frames or frames[-1] < done:
                    await asyncio.sleep(0.0005)
                loaded.append((done - t0) * 1000)
                painted.append((min(f for f in frames if f >= done) - t0) * 1000)
            results[search.name] = (statistics.median(loaded), statistics.median(painted), app.post_list.row_count)
        await idle(app)
    store.close()
    print(f"the UI thread's share of a selection (set_scope, sidebar included): median "
          f"{statistics.median(ui_ms):.1f} ms, max {max(ui_ms):.1f} ms")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--read", type=float, default=0.0, help="fraction of posts marked read (0 to 1)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.gettempdir())
    cache = tmp / f"reader-bench-{args.feeds}x{args.posts}.sqlite"  # bench_tui.py's, built once
    if not cache.exists():
        t0 = time.perf_counter()
        building = cache.with_suffix(".building")
        for suffix in ("", "-wal", "-shm"):
            Path(str(building) + suffix).unlink(missing_ok=True)
        build(building, args.feeds, args.posts)
        building.rename(cache)
        print(f"built {cache} in {time.perf_counter() - t0:.1f} s")
    copy = tmp / f"reader-bench-searches-{args.feeds}x{args.posts}.sqlite"
    prepare(cache, copy, args.read)
    print(f"load average before: {load()}  ({args.feeds * args.posts:,} posts, {args.read:.0%} read, "
          f"median of {args.runs})")
    counts = count_figures(copy, args.runs)
    selects = asyncio.run(select_figures(copy, args.runs))
    print(f"{'saved search':<20} {'query':<38} {'rows':>7} {'to rows':>9} {'to frame':>9} {'its count':>10}")
    queries = dict((name, query) for name, query in SEARCHES)
    for name, (rows_ms, frame_ms, rows) in selects.items():
        verdict = "" if frame_ms <= GOAL_SELECT_MS else f"  OVER goal {GOAL_SELECT_MS:.0f} ms"
        print(f"{name:<20} {queries.get(name, ''):<38} {rows:>7,} {rows_ms:>7.1f}ms {frame_ms:>7.1f}ms "
              f"{counts[f'count {name}']:>8.1f}ms{verdict}")
    worst = max(frame for _rows, frame, _n in selects.values())
    print(f"slowest selection to its frame: {worst:.1f} ms (goal ≤ {GOAL_SELECT_MS:.0f} ms)")
    for label in ("all saved searches' counts", "tags' counts", "the whole counts worker"):
        print(f"{label}: {counts[label]:.1f} ms")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
