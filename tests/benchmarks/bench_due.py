"""Benchmark `reader refresh --due`: 500 feeds on a loopback server, 10 of them due, against a full refresh.

Run:  python tests/benchmarks/bench_due.py [--feeds 500] [--due 10] [--items 20] [--repeat 5]

Feeds come from ../shared/bench/genfeeds.py (cached under $TMPDIR/reader-bench-due-feeds/) and are
served by ../shared/bench/feedserver.py in a process of its own (ETag/Last-Modified, 304s; its
/__stats counts the requests each step made). The cache is built by one cold full refresh (timed,
once), then these are timed, median of --repeat runs each:

  full (in-process)      refresh(store): every feed asked, every one answers 304
  full (CLI)             `reader refresh`, a child process: the same, plus Python's start
  due (in-process)       10 feeds made due (next_due = NULL), then refresh(store, due=True)
  due (CLI)              the same through `reader refresh --due`
  nothing due (CLI)      `reader refresh --due` with no feed due: one line, no request

reader runs with per_host = 16 (every feed is on one loopback server standing in for many hosts,
as bench_refresh.py does), full text off and images off (the generated posts link real domains:
nothing leaves loopback), and otherwise default settings in a config dir of its own. The load
averages before and after are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "bench"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reader.fetch import FetchOptions  # noqa: E402
from reader.refresh import refresh  # noqa: E402
from reader.schedule import Policy  # noqa: E402
from reader.store import Store  # noqa: E402


def feeds_dir(feeds: int, items: int) -> Path:
    out = Path(tempfile.gettempdir()) / "reader-bench-due-feeds" / f"{feeds}x{items}"
    manifest = out / "manifest.json"
    if not manifest.exists():
        subprocess.run(
            [sys.executable, str(SHARED / "genfeeds.py"), "--out", str(out), "--feeds", str(feeds),
             "--items", str(items)],
            check=True,
        )
    return out


@contextmanager
def serve(root: Path) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        portfile = Path(tmp) / "port"
        proc = subprocess.Popen(
            [sys.executable, str(SHARED / "feedserver.py"), "--root", str(root), "--portfile", str(portfile),
             "--max-seconds", "1800"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not (portfile.exists() and portfile.read_text().strip()):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the feed server did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{int(portfile.read_text())}"
        finally:
            proc.terminate()  # our own child, by its handle
            proc.wait(timeout=10)


def requests_since(base: str) -> int:
    """Requests the server answered since the last call (its counters reset)."""
    with urllib.request.urlopen(f"{base}/__stats?reset=1", timeout=10) as answer:
        return int(json.load(answer)["requests"])  # (the stats request itself is not counted)


def median_of(repeat: int, setup: Callable[[], None], action: Callable[[], object]) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--due", type=int, default=10)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    root = feeds_dir(args.feeds, args.items)
    names = sorted(f["file"] for f in json.loads((root / "manifest.json").read_text())["files"])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as home, serve(root) as base:
        env = dict(os.environ, READER_DATA_DIR=f"{home}/data", READER_CONFIG_DIR=f"{home}/config")
        Path(f"{home}/config").mkdir()
        Path(f"{home}/config/config.toml").write_text("per_host = 16\nimages = false\n")
        os.environ.update(READER_DATA_DIR=env["READER_DATA_DIR"], READER_CONFIG_DIR=env["READER_CONFIG_DIR"])
        options = FetchOptions(per_host=16, schedule=Policy())
        store = Store(Path(f"{home}/data/reader.sqlite"))
        urls = [f"{base}/{name}" for name in names[: args.feeds]]
        for url in urls:
            store.add_feed(url)
            # The generated posts link real domains (blog0001.example.org): no article or image leaves loopback.
            store.set_full_text(url, "off")
        requests_since(base)

        start = time.perf_counter()
        cold = refresh(store, options=options)
        cold_s = time.perf_counter() - start
        print(f"cold full refresh ({len(cold.outcomes)} feeds, {cold.new_entries} posts): {cold_s:.2f} s, "
              f"{requests_since(base)} requests", flush=True)

        picked = random.Random(1).sample(urls, args.due)

        def make_due() -> None:
            store.db.executemany("UPDATE feeds SET next_due = NULL WHERE url = ?", [(u,) for u in picked])

        def cli(*words: str) -> None:
            subprocess.run([sys.executable, "-m", "reader", *words], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        rows: list[tuple[str, float, list[float], float]] = []
        for label, setup, action in [
            ("full refresh (in-process)", lambda: None, lambda: refresh(store, options=options)),
            ("full refresh (CLI)", lambda: None, lambda: cli("refresh")),
            (f"--due, {args.due} due (in-process)", make_due, lambda: refresh(store, options=options, due=True)),
            (f"--due, {args.due} due (CLI)", make_due, lambda: cli("refresh", "--due")),
            ("--due, nothing due (CLI)", lambda: None, lambda: cli("refresh", "--due")),
        ]:
            requests_since(base)
            median, times = median_of(args.repeat, setup, action)
            rows.append((label, median, times, requests_since(base) / args.repeat))
            print(f"  {label}: median {median:.3f} s", flush=True)
        store.close()

    print()
    print(f"{'step':<32} {'median':>8}  {'requests/run':>12}  runs")
    for label, median, times, requests in rows:
        print(f"{label:<32} {median:>7.3f}s  {requests:>12.0f}  {' '.join(f'{t:.3f}' for t in times)}")
    full_cli = rows[1][1]
    due_cli = rows[3][1]
    print(f"\n--due with {args.due} of {args.feeds} due takes {due_cli / full_cli:.0%} of a full refresh's time (CLI); "
          f"in-process {rows[2][1] / rows[0][1]:.0%}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
