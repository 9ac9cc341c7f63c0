"""Full articles in a refresh: a summary-only feed of N posts linking real pages.

Run:  python tests/benchmarks/bench_fulltext.py [--posts 20] [--repeat 3]

Needs ../shared/articles (or READER_SHARED_DIR). Serves a feed of N teaser posts, each
linking one page of the corpus, on 127.0.0.1 (tests/article_server.py), and times
`refresh()` on a fresh cache with the feed's full text off (the feed alone) and on (the
feed and its N articles), median of --repeat runs. Inside the refresh, the extraction of
each page (extract, compress, index text; in the stage's worker thread) is timed by its
thread CPU time and wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from article_server import ArticleSite, shared_dir

from reader import articles
from reader.fetch import FetchOptions
from reader.refresh import refresh
from reader.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = shared_dir() / "articles" / "pages"
    names = sorted(p.name for p in root.iterdir() if (p / "source.html").is_file())[: args.posts]
    if len(names) < args.posts:
        sys.exit(f"need {args.posts} pages under {root}")
    pages = {n: (root / n / "source.html").read_bytes() for n in names}
    articles.ONLY_HOSTS = frozenset({"127.0.0.1"})  # the pages' own images are on real hosts: not fetched

    timings: list[tuple[float, float, int]] = []
    original = articles.ArticleStage.extract

    # Timed around the stage's own extract step, which may run in a worker process: the CPU
    # time comes back with the result (Extracted.seconds), the wall time is measured here.
    async def timed(
        self: articles.ArticleStage, page: bytes, url: str, content_type: str | None
    ) -> articles.Extracted | None:
        wall = time.perf_counter()
        result = await original(self, page, url, content_type)
        timings.append((result.seconds if result else 0.0, time.perf_counter() - wall, len(page)))
        return result

    articles.ArticleStage.extract = timed  # type: ignore[method-assign]
    results: dict[str, list[float]] = {"off": [], "on": []}
    fetched: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, ArticleSite(Path(tmp) / "site", pages) as site:
        site.write_feed()
        for run in range(args.repeat):
            for mode in ("off", "on"):
                store = Store(Path(tmp) / f"{mode}-{run}" / "reader.sqlite")
                store.add_feed(site.feed_url)
                store.set_full_text(site.feed_url, mode)
                timings.clear()
                started = time.perf_counter()
                summary = refresh(store, options=FetchOptions(timeout=30))
                results[mode].append(time.perf_counter() - started)
                stored = store.db.execute("SELECT count(*) FROM articles WHERE content IS NOT NULL")
                fetched[mode] = stored.fetchone()[0]
                assert summary.new_entries == args.posts, summary.line()
                store.close()
            per_page = list(timings)
    print(f"{args.posts} teaser posts, {len(pages)} real pages ({sum(map(len, pages.values())) / 1e6:.1f} MB of HTML)")
    print("| refresh | median | runs | articles stored |")
    print("|---|---|---|---|")
    for mode in ("off", "on"):
        runs = ", ".join(f"{s:.2f}" for s in results[mode])
        print(f"| full text {mode} | {statistics.median(results[mode]):.2f} s | {runs} | {fetched[mode]} |")
    cpu = [t[0] * 1000 for t in per_page]
    wall = [t[1] * 1000 for t in per_page]
    print(f"extraction inside the refresh (last run, {len(per_page)} pages): CPU mean {statistics.mean(cpu):.0f} ms, "
          f"median {statistics.median(cpu):.0f} ms, max {max(cpu):.0f} ms; wall mean {statistics.mean(wall):.0f} ms, "
          f"max {max(wall):.0f} ms")


if __name__ == "__main__":
    main()
