"""Benchmark the app headlessly on a cache of 100,000 generated posts, and its start in a fresh process.

Run:  python tests/benchmarks/bench_tui.py [--feeds 500] [--posts 200] [--json out.json]
      python tests/benchmarks/bench_tui.py --start [--runs 5]   # issue 12: start time and peak RSS

--start runs `reader` itself (the console script, else `python -m reader`) on a pseudo-terminal of
140×40, once per run, on a cache of 1,200 posts (60 feeds × 20) and on the 100,000-post one. It times
from just before the process is started to the moment the terminal receives the first frame that shows
a post row (a post title in the bytes the app writes; nothing in the app is hooked), lets the app settle
for a second, quits it with `q` and takes the process's peak RSS from wait4. On the same run it times
`python -c "import textual.app"` (start to exit), the floor the goal is measured from. Every command
runs with compiled bytecode (as installed) after one uncounted warm-up run.

Builds the cache once through Store.save_parsed (synthetic ParsedFeed objects,
a few posts with 50 KB bodies) and keeps it in the temp dir between runs. Prints:
time to first paint (app start to the first frame showing rows), time for a filter
to apply, time to open a 50 KB post, keypress latency moving the cursor, and the
peak memory (max RSS) of the process.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import re
import resource
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from reader.config import Settings
from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store

GOALS = {"first_paint_s": 1.0, "filter_ms": 100.0, "open_50k_ms": 100.0, "peak_rss_mb": 250.0}
# Issue 12, in a fresh process: start to the first frame with rows ≤ `import textual.app` + this, and peak RSS.
START_MARGIN_S = 0.15
START_RSS_GOAL_MB = {1_200: 60.0, 100_000: 120.0}
ROW_MARKER = re.compile(rb"Post \d+: ")  # a post title of build()'s caches, as the list draws it
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


def cache_path(feeds: int, posts: int) -> Path:
    """The generated cache for feeds × posts, built once and kept in the temp dir between runs."""
    cache = Path(tempfile.gettempdir()) / f"reader-bench-{feeds}x{posts}.sqlite"
    if not cache.exists():
        t0 = time.perf_counter()
        tmp = cache.with_suffix(".building")
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        build(tmp, feeds, posts)
        tmp.rename(cache)
        print(f"built {cache} in {time.perf_counter() - t0:.1f} s")
    return cache


def data_dir_for(cache: Path) -> Path:
    """A data dir holding a copy of `cache` as the app's cache, the welcome feed already offered.

    A copy, so the runs never change the shared cache (and the in-process benchmarks stay comparable).
    """
    from reader.config import DB_NAME

    target = cache.with_suffix(".appdir")
    db = target / DB_NAME
    if not db.exists() or db.stat().st_mtime < cache.stat().st_mtime:
        target.mkdir(exist_ok=True)
        shutil.copyfile(cache, db)
        store = Store(db)
        store.set_meta("welcome_offered", "1")  # else the first run adds the Welcome feed
        store.db.commit()
        store.close()
    return target


# With --tree: run reader from that source tree (e.g. an older commit's `git archive`) instead of the
# installed one, to compare before and after on the same run. An editable install's import hook would
# otherwise win over PYTHONPATH, so the launcher drops it first.
TREE: Path | None = None
_TREE_LAUNCHER = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "sys.path.insert(0, {tree!r}); from reader.cli import main; sys.exit(main())"
)


def _reader_command(data: Path) -> list[str]:
    script = Path(sys.executable).with_name("reader")
    if TREE is not None:
        base = [sys.executable, "-c", _TREE_LAUNCHER.format(tree=str(TREE))]
    else:
        base = [str(script)] if script.exists() else [sys.executable, "-m", "reader"]
    return [*base, "--data-dir", str(data)]


def run_fresh(command: list[str], env: dict[str, str], marker: re.Pattern[bytes] | None,
              settle: float = 1.0, size: tuple[int, int] = (140, 40), timeout: float = 30.0) -> tuple[float, float]:
    """Run `command` on a new pseudo-terminal: (seconds from just before the start to `marker` in its output,
    or to its exit when `marker` is None; its peak RSS in MB). After the marker it runs `settle` seconds
    more (the start's background loads finish) and gets `q`."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    usage: resource.struct_rusage | None = None
    ended = float("nan")

    def exited() -> bool:
        # wait4, not Popen.poll: only wait4 gives this one child's peak RSS.
        nonlocal usage, ended
        if usage is None:
            pid, _status, found = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                usage, ended = found, time.perf_counter()
                proc.returncode = 0  # reaped here: Popen must not wait for it again
        return usage is not None

    seen = b""
    elapsed = float("nan")
    quit_at: float | None = None
    try:
        while time.perf_counter() < t0 + timeout and not exited():
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal is closed: the child is exiting
                    chunk = b""
                if not chunk:
                    time.sleep(0.001)
                    continue
                if quit_at is None and marker is not None:
                    seen = seen[-64:] + chunk  # a title split across two reads still matches
                    if marker.search(seen):
                        elapsed = time.perf_counter() - t0
                        quit_at = time.perf_counter() + settle
            if quit_at is not None and time.perf_counter() >= quit_at:
                os.write(master, b"q")
                quit_at = float("inf")
    finally:
        if not exited():
            proc.kill()
            while not exited():
                time.sleep(0.01)
        os.close(master)
    if marker is None:
        elapsed = ended - t0
    assert usage is not None
    return elapsed, usage.ru_maxrss / 1024


def measure_start(runs: int, sizes: list[tuple[int, int]]) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Issue 12's start goals, each a median of `runs` fresh processes, measured alternately (and the samples)."""
    env = dict(os.environ)
    config = Path(tempfile.mkdtemp(prefix="reader-bench-config-"))
    env.update(READER_CONFIG_DIR=str(config), TERM="xterm-256color", COLORTERM="truecolor")
    env.pop("READER_DATA_DIR", None)
    env.pop("TEXTUAL", None)
    # Compiled bytecode, as an installed reader has (pip compiles it): with PYTHONDONTWRITEBYTECODE
    # (some sandboxes set it) every start would compile reader's sources again, ~0.1 s of the app's
    # start that no installed copy pays. The .pyc files go to their own directory, not the checkout.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "reader-bench-pycache")
    dirs = {feeds * posts: data_dir_for(cache_path(feeds, posts)) for feeds, posts in sizes}
    samples: dict[str, list[float]] = {"textual_import_s": []}
    for total in dirs:
        samples[f"start_{total}_s"] = []
        samples[f"rss_{total}_mb"] = []
    # One warm-up of each, not counted: it writes the bytecode, and brings the caches into the page cache.
    run_fresh([sys.executable, "-c", "import textual.app"], env, None)
    for data in dirs.values():
        run_fresh(_reader_command(data), env, ROW_MARKER, settle=0.2)
    for _ in range(runs):
        samples["textual_import_s"].append(
            run_fresh([sys.executable, "-c", "import textual.app"], env, None)[0])
        for total, data in dirs.items():
            elapsed, rss = run_fresh(_reader_command(data), env, ROW_MARKER)
            samples[f"start_{total}_s"].append(elapsed)
            samples[f"rss_{total}_mb"].append(rss)
    shutil.rmtree(config, ignore_errors=True)
    results: dict[str, float] = {key: statistics.median(values) for key, values in samples.items()}
    for key, values in samples.items():
        print(f"{key:>26}: " + " ".join(f"{v:.3f}" for v in values))
    return results, samples


def report_start(results: dict[str, float]) -> None:
    floor = results["textual_import_s"]
    print(f"{'textual_import_s':>26}: {floor:10.3f}  (the floor: python -c 'import textual.app')")
    for key, value in results.items():
        if key.startswith("start_"):
            goal = floor + START_MARGIN_S
            verdict = "met" if value <= goal else "NO"
            print(f"{key:>26}: {value:10.3f}  goal <= {goal:.3f} (floor + {START_MARGIN_S}): {verdict}"
                  f"  [floor + {value - floor:.3f}]")
        elif key.startswith("rss_"):
            goal = START_RSS_GOAL_MB[int(key.split("_")[1])]
            print(f"{key:>26}: {value:10.1f}  goal <= {goal:.0f} MB: {'met' if value <= goal else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--json", type=Path, default=Path(tempfile.gettempdir()) / "bench_tui.json")
    parser.add_argument("--start", action="store_true", help="issue 12: start time and peak RSS, fresh processes")
    parser.add_argument("--runs", type=int, default=5, help="with --start: runs of each (the median is reported)")
    parser.add_argument("--tree", type=Path, help="with --start: run reader from this source tree")
    args = parser.parse_args()
    if args.tree is not None:
        global TREE
        TREE = args.tree.resolve()
    if args.start:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        load_before = os.getloadavg()
        results, samples = measure_start(args.runs, [(60, 20), (args.feeds, args.posts)])
        report_start(results)
        load_after = os.getloadavg()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
        args.json.write_text(json.dumps(
            {"medians": results, "samples": samples, "load_before": load_before, "load_after": load_after}, indent=2))
        print(f"wrote {args.json}")
        return
    cache = cache_path(args.feeds, args.posts)
    results = asyncio.run(measure(cache))
    for key, value in results.items():
        goal = GOALS.get(key)
        verdict = "" if goal is None else ("  ok" if value <= goal else f"  OVER goal {goal}")
        print(f"{key:>26}: {value:10.3f}{verdict}")
    args.json.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
