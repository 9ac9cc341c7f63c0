"""What rules cost a cold refresh of 500 feeds (issue 11: at most 10% of the refresh).

Run:  python tests/benchmarks/bench_rules.py [--feeds 500] [--items 20] [--repeat 1] [--json out.json]

Feeds come from the team's generator (../shared/bench/genfeeds.py, about 250 KB per 20-item
feed, RSS and Atom; cached under $TMPDIR/reader-bench-rules/) and are served on loopback by
../shared/bench/feedserver.py in a process of its own. Each run starts from an empty cache
(every post new) and calls reader's refresh() as `reader refresh` does, with the feeds'
full-article mode off and images off, so what is timed is the feeds (fetch, parse, store)
and, after them, the rules: the part of a refresh rules run in. Runs alternate 0 rules and
RULES (11 rules written as a user would: words, feed:, category:, author:, since:, is:,
with hide, read, star, tag and notify), --repeat times each.

After each run without rules, the rules are applied to the last 200 posts of that full cache
(a refresh bringing a few posts to a big cache) and timed.

Two figures per run with rules: the rules' own time (RuleOutcome.seconds, measured around
apply_rules on the refresh's writer thread) as a share of that refresh's feeds time, and the
difference of the medians with and without rules (noisier: the machine is shared). The load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))

from reader.config import Rule  # noqa: E402
from reader.fetch import FetchOptions  # noqa: E402
from reader.refresh import refresh  # noqa: E402
from reader.rules import apply_rules  # noqa: E402
from reader.store import Store  # noqa: E402

GOAL = 0.10  # rules at most 10% of a cold refresh
FEW = 200  # new posts in the "few new posts, big cache" figure

# Words and names genfeeds.py writes: its WORDS, TAGS (categories) and FIRST/LAST (authors, feed titles).
RULES = [
    Rule('category:travel category:photography', "hide"),
    Rule("feed:Linus category:music", "hide"),
    Rule('"morning coffee"', "hide"),
    Rule("kernel patch", "star"),
    Rule("author:Torvalds kernel", "star"),
    Rule("author:Hopper", "tag", "hopper"),
    Rule("category:security", "tag", "security"),
    Rule("is:unread category:books", "tag", "books"),
    Rule("benchmark -category:python", "read"),
    Rule("feed:Grace", "read"),
    Rule("category:rust since:5y", "notify"),
]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def feeds_dir(feeds: int, items: int) -> Path:
    out = Path(tempfile.gettempdir()) / "reader-bench-rules" / f"feeds{feeds}-items{items}"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [sys.executable, str(SHARED / "genfeeds.py"), "--out", str(out), "--feeds", str(feeds),
             "--items", str(items), "--seed", "1"],
            check=True,
        )
    return out


class FeedServer:
    """../shared/bench/feedserver.py on a free loopback port, in its own process."""

    def __init__(self, root: Path, work: Path) -> None:
        portfile = work / "port"
        self.proc = subprocess.Popen(
            [sys.executable, str(SHARED / "feedserver.py"), "--root", str(root), "--port", "0",
             "--portfile", str(portfile), "--max-seconds", "3600"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not (portfile.exists() and portfile.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the feed server did not start")
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{int(portfile.read_text().strip())}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def one_run(urls: list[str], work: Path, rules: list[Rule], n: int) -> dict[str, object]:
    store = Store(work / f"run{n}" / "reader.sqlite")
    for url in urls:
        store.add_feed(url)
        store.set_full_text(url, "off")  # the feeds and the rules, not article pages on hosts that don't exist
    # One loopback server stands in for many hosts (as in bench_refresh.py): no per-host cap.
    options = FetchOptions(concurrency=16, per_host=16)
    summary = refresh(store, options=options, rules=rules)
    store.close()
    outcome = summary.rules
    feeds_seconds = summary.feeds_seconds or summary.seconds
    record: dict[str, object] = {
        "rules": len(rules), "feeds_seconds": round(feeds_seconds, 3), "seconds": round(summary.seconds, 3),
        "new_entries": summary.new_entries, "failed": len(summary.failed),
    }
    if outcome is not None:
        record["rules_seconds"] = round(outcome.seconds, 4)
        record["share"] = round(outcome.seconds / feeds_seconds, 4)
        record["per_rule_ms"] = {
            f"{r.action_text} {r.query}": round(outcome.rule_seconds.get(i, 0.0) * 1000, 1) for i, r in enumerate(rules)
        }
        record["changed"] = outcome.line()
        record["matched"] = {f"{r.action_text} {r.query}": len(outcome.matched.get(i, [])) for i, r in enumerate(rules)}
    else:
        # The same rules on the last FEW posts of this full cache: a refresh that brings a few posts
        # to a big cache. A rule's word terms are looked up in the whole search index once.
        store = Store(work / f"run{n}" / "reader.sqlite")
        ids = [row[0] for row in store.db.execute("SELECT id FROM entries ORDER BY id DESC LIMIT ?", (FEW,))]
        few = apply_rules(store, RULES, ids)
        store.close()
        record["few_seconds"] = round(few.seconds, 4)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (0 rules, the rules), alternating")
    parser.add_argument("--json", type=Path, default=Path(tempfile.gettempdir()) / "bench_rules.json")
    args = parser.parse_args(argv)

    root = feeds_dir(args.feeds, args.items)
    names = sorted(p.name for p in root.iterdir() if p.suffix in (".rss", ".atom"))[: args.feeds]
    print(f"load average before: {loadavg()}  ({os.cpu_count()} cores, Python {platform.python_version()})")
    runs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        work = Path(tmp)
        server = FeedServer(root, work)
        try:
            urls = [f"{server.base}/{name}" for name in names]
            for n in range(args.repeat * 2):
                rules = RULES if n % 2 else []
                record = one_run(urls, work, rules, n)
                runs.append(record)
                extra = ""
                if "share" in record:
                    extra = (f"; rules {record['rules_seconds']:.3f} s = {100 * float(record['share']):.1f}% "
                             f"({record['changed']})")
                print(f"  run {n + 1}: {record['rules']:>2} rules: feeds {record['feeds_seconds']:.2f} s, "
                      f"{record['new_entries']:,} new posts, {record['failed']} failed{extra}", flush=True)
        finally:
            server.stop()
    print(f"load average after: {loadavg()}")
    with_rules = [r for r in runs if r["rules"]]
    without = [r for r in runs if not r["rules"]]
    share = statistics.median(float(r["share"]) for r in with_rules)
    rules_s = statistics.median(float(r["rules_seconds"]) for r in with_rules)
    feeds_with = statistics.median(float(r["feeds_seconds"]) for r in with_rules)
    feeds_without = statistics.median(float(r["feeds_seconds"]) for r in without)
    print()
    print(f"cold refresh of {len(names)} feeds, {int(with_rules[0]['new_entries']):,} new posts, {len(RULES)} rules:")
    print(f"  feeds stored, no rules:    {feeds_without:.2f} s (median of {len(without)})")
    print(f"  feeds stored, with rules:  {feeds_with:.2f} s (median of {len(with_rules)})")
    print(f"  the rules themselves:      {rules_s:.3f} s = {100 * share:.1f}% of the refresh "
          f"(goal <= {100 * GOAL:.0f}%: {'met' if share <= GOAL else 'NOT met'})")
    print(f"  difference of the medians: {feeds_with - feeds_without:+.2f} s (noise: the machine is shared)")
    few = statistics.median(float(r["few_seconds"]) for r in without)
    print(f"  the same rules on {FEW} new posts of that full cache: {few * 1000:.0f} ms")
    slowest = sorted(with_rules[-1]["per_rule_ms"].items(), key=lambda kv: -kv[1])[:3]  # type: ignore[union-attr]
    print("  slowest rules: " + "; ".join(f"{name}: {ms:.0f} ms" for name, ms in slowest))
    args.json.write_text(json.dumps({"runs": runs, "rules": [r.action_text + " " + r.query for r in RULES]}, indent=1))
    print(f"results: {args.json}")
    return 0 if share <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
