"""The app's responsiveness while a refresh fetches and extracts full articles.

Run:  python tests/benchmarks/bench_refresh_ui.py [--posts 40] [--repeat 2] [--burn 2] [--modes on,off]

Needs ../shared/articles (or READER_SHARED_DIR); says it skipped (exit 0) without it. The real app
(ReaderApp under Textual's run_test, as bench_tui.py) on a cache holding a filler feed of 300
posts; a summary-only feed of --posts teaser posts, each linking one real page of the corpus,
served on 127.0.0.1 (tests/article_server.py). R starts the refresh; while it runs (and at least
--window seconds) `j`/`k` are sent one at a time, like a held key, and each press is timed from
the key event being sent to the first frame (the screen as a terminal would get it) showing the
cursor on another post. Every --open-every presses, Enter opens the post under the cursor instead,
timed to the first frame showing its text, then Escape. The same run with the teaser feed's full
text off (only the feeds are fetched) is the baseline. --burn N keeps N other processes spinning
on the CPU meanwhile (the "both cores busy" case). Prints the load average before and after each
run, and per mode: median / p95 / max key latency, the posts' first frames, and the articles stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from article_server import ArticleSite, shared_dir
from textual import events

from reader import articles
from reader.config import Settings
from reader.refresh import refresh
from reader.store import Store

FILLER_POSTS = 300
GAP = 0.02  # seconds between one press being shown and the next (a key held down repeats ~30/s)
# A key whose effect no frame shows by then is counted lost: a reload of the list (the refresh's new posts)
# that started before the key puts the cursor back on the entry it had then.
KEY_TIMEOUT = 2.0


def filler_feed(site: ArticleSite) -> str:
    """A feed of FILLER_POSTS short posts, older than the teasers: rows for the cursor to move over."""
    items = "".join(
        f"<item><title>Filler post {n}</title><link>{escape(site.url(f'/filler/{n}'))}</link><guid>f{n}</guid>"
        f"<pubDate>Mon, 01 Jan 2024 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
        f"<description>&lt;p&gt;A short post, number {n}, about nothing much.&lt;/p&gt;</description></item>"
        for n in range(FILLER_POSTS)
    )
    (site.root / "filler.xml").write_text(
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Filler</title>"
        f"<link>{site.url('/')}</link><description>rows</description>{items}</channel></rss>", "utf-8"
    )
    return site.url("/filler.xml")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


async def measure(store: Store, window: float, open_every: int) -> dict[str, object]:
    from reader.tui.app import ReaderApp

    # (time, (the cursor's row, its entry id), post_shown_at): a key shows as either changing (the list
    # reloaded with the refresh's new posts keeps the cursor's entry, on another row).
    frames: list[tuple[float, tuple[int, int | None], float]] = []

    class BenchApp(ReaderApp):
        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            # A frame: what a real terminal would be sent, turned into escape codes here.
            if renderable is not None and hasattr(renderable, "render_segments"):
                renderable.render_segments(self.console)
                row = self.post_list.current_entry
                at = (self.post_list.cursor, row.id if row is not None else None)
                frames.append((time.perf_counter(), at, self.post_shown_at))
            super()._display(screen, renderable)

    app = BenchApp(store, Settings(mark_read_after=-1, images=False))
    app.animation_level = "none"
    keys: list[float] = []
    busy: list[float] = []  # the keys pressed while the refresh ran
    opens: list[float] = []
    lost = 0
    async with app.run_test(size=(140, 40)) as pilot:
        while app.post_list.row_count < FILLER_POSTS:
            await asyncio.sleep(0.01)
        await app.workers.wait_for_complete()
        app.post_list.focus()
        app.post_list.cursor = FILLER_POSTS // 2
        await pilot.pause(0.2)
        driver = app._driver
        assert driver is not None

        async def shown(since: float, done) -> float | None:  # type: ignore[no-untyped-def]
            deadline = since + KEY_TIMEOUT
            seen = len(frames)
            while time.perf_counter() < deadline:
                for stamp, at, post_at in frames[seen:]:
                    if stamp >= since and done(at, post_at):
                        return (stamp - since) * 1000
                seen = len(frames)
                await asyncio.sleep(0.0005)
            return None

        def send(key: str) -> float:
            started = time.perf_counter()
            driver.send_message(events.Key(key, key if len(key) == 1 else None))
            return started

        # The first open imports the renderer's modules: once, before anything is timed.
        send("enter")
        while app._open_id() is None:
            await asyncio.sleep(0.001)
        await app.workers.wait_for_complete()
        send("escape")
        while app._open_id() is not None:
            await asyncio.sleep(0.001)
        app.post_list.focus()
        await pilot.pause(0.1)

        # Sent, not pilot.press: that waits for the app to be idle, the refresh's worker included.
        started = send("R")
        while not app.refreshing:
            await asyncio.sleep(0.001)
        down = True
        n = 0
        while app.refreshing or time.perf_counter() - started < window:
            refreshing = app.refreshing
            n += 1
            if open_every and n % open_every == 0:
                app.post_shown_at = 0.0
                t0 = send("enter")
                took = await shown(t0, lambda at, post_at, t=t0: post_at >= t)
                if took is None:
                    lost += 1
                else:
                    opens.append(took)
                    if os.environ.get("BENCH_DEBUG"):
                        print(f"open at {t0 - started:.2f} s: {took:.0f} ms, refreshing {refreshing}")
                send("escape")
                closing = time.perf_counter() + KEY_TIMEOUT
                while app._open_id() is not None and time.perf_counter() < closing:
                    await asyncio.sleep(0.001)
            else:
                row = app.post_list.current_entry
                before = (app.post_list.cursor, row.id if row is not None else None)
                t0 = send("j" if down else "k")
                down = not down
                took = await shown(t0, lambda at, post_at, b=before: at != b)
                if took is None:
                    lost += 1
                    continue
                keys.append(took)
                if refreshing:
                    busy.append(took)
            await asyncio.sleep(GAP)
        refresh_seconds = time.perf_counter() - started
        await app.workers.wait_for_complete()
    stored = store.db.execute("SELECT count(*) FROM articles WHERE content IS NOT NULL").fetchone()[0]
    return {"keys": keys, "busy": busy, "opens": opens, "refresh_s": refresh_seconds, "articles": stored,
            "lost": lost}


def burners(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--burn", type=int, default=0, help="processes spinning on the CPU meanwhile")
    ap.add_argument("--window", type=float, default=2.0, help="seconds of key presses at least")
    ap.add_argument("--open-every", type=int, default=8)
    ap.add_argument("--modes", default="on,off")
    ap.add_argument("--extract-in", choices=("process", "thread"), default="process",
                    help="thread: the refresh's extraction in a thread of the app's process (as the CLI does)")
    args = ap.parse_args()
    articles.EXTRACT_IN_PROCESS = args.extract_in == "process"
    root = shared_dir() / "articles" / "pages"
    if not root.is_dir():
        print(f"skipped: no article pages under {root} (set READER_SHARED_DIR to the shared dir)")
        return
    names = sorted(p.name for p in root.iterdir() if (p / "source.html").is_file())[: args.posts]
    if len(names) < args.posts:
        sys.exit(f"need {args.posts} pages under {root}")
    pages = {n: (root / n / "source.html").read_bytes() for n in names}
    articles.ONLY_HOSTS = frozenset({"127.0.0.1"})
    modes = args.modes.split(",")
    results: dict[str, list[dict[str, object]]] = {m: [] for m in modes}
    print(f"{len(pages)} teaser posts linking real pages ({sum(map(len, pages.values())) / 1e6:.1f} MB of HTML), "
          f"{FILLER_POSTS} filler posts, {args.burn} CPU burners, {os.cpu_count()} CPUs, "
          f"extraction in a {args.extract_in}")
    with tempfile.TemporaryDirectory() as tmp, ArticleSite(Path(tmp) / "site", pages) as site:
        site.write_feed()
        filler = filler_feed(site)
        for run in range(args.repeat):
            for mode in modes:
                store = Store(Path(tmp) / f"{mode}-{run}" / "reader.sqlite")
                store.add_feed(filler)
                store.set_full_text(filler, "off")
                refresh(store)  # the filler's posts, before the app starts: the cursor's rows
                store.add_feed(site.feed_url, "Teasers")
                store.set_full_text(site.feed_url, mode)
                spinning = burners(args.burn)
                try:
                    load = os.getloadavg()[0]
                    result = asyncio.run(measure(store, args.window, args.open_every))
                finally:
                    for proc in spinning:
                        proc.kill()
                        proc.wait()
                store.close()
                result["load"] = (load, os.getloadavg()[0])
                results[mode].append(result)
                keys = result["keys"]
                assert isinstance(keys, list)
                print(f"run {run} full text {mode}: load {load:.2f} -> {os.getloadavg()[0]:.2f}, "
                      f"refresh {result['refresh_s']:.2f} s, {len(keys)} keys ({len(result['busy'])} during it), "
                      f"{result['lost']} lost, {result['articles']} articles stored")
    print("| full text | keys | median | p95 | max | while refreshing: keys | median | p95 | max "
          "| post first frame median / max | articles |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        row = [mode]
        for field in ("keys", "busy"):
            keys = [k for r in results[mode] for k in r[field]]  # type: ignore[attr-defined]
            row += [str(len(keys))] + ([f"{f(keys):.0f} ms" for f in (statistics.median, lambda v: pct(v, 0.95), max)]
                                       if keys else ["-"] * 3)
        opens = [k for r in results[mode] for k in r["opens"]]  # type: ignore[attr-defined]
        row.append(f"{statistics.median(opens):.0f} / {max(opens):.0f} ms" if opens else "-")
        row.append(", ".join(str(r["articles"]) for r in results[mode]))
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
