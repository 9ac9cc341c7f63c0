"""Benchmark article extraction on the 90 pages of ../shared/articles.

Run:  python tests/benchmarks/bench_extract.py [--pages N] [--only NAME,...] [--candidates SUBSTR,...]
                                               [--worst N] [--oracle] [--repeat N]

Each candidate turns a page (source.html) into an article HTML fragment; its visible text is
scored against expected.html (the article Readability.js extracts) by bag-of-words precision,
recall and F1 (tokens: `\\w+` of the lower-cased text, script/style dropped, multiset overlap).
Prints a Markdown table (mean F1, pages with F1 >= 0.9, ms a page: mean, median, p95) and the
load average before and after, since the machine is shared and timings move with it
(--repeat N keeps each page's best of N runs, which the others' load can only lengthen).

Skips (exit 0 with a message) when ../shared/articles is not there (READER_SHARED_DIR or
../shared beside the clone, as tests/freshrss_fixtures.shared_dir() finds it).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.html

_TOKEN = re.compile(r"\w+")


def shared_dir() -> Path:
    """../shared beside the clone, or READER_SHARED_DIR (the same rule as tests/freshrss_fixtures.py)."""
    env = os.environ.get("READER_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


def pages_dir() -> Path:
    return shared_dir() / "articles" / "pages"


def visible_text(html: str) -> str:
    """The text a reader would see in an HTML fragment: script and style dropped."""
    if not html or not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # an empty or unparsable fragment has no visible text
        return ""
    for bad in root.xpath(".//script|.//style|.//noscript|.//template"):
        bad.drop_tree()
    return " ".join(root.itertext())


def tokens(html: str) -> Counter[str]:
    return Counter(_TOKEN.findall(visible_text(html).lower()))


def score(got_html: str, expected: Counter[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of the bag of words of `got_html` against `expected`."""
    got = tokens(got_html)
    common = sum((got & expected).values())
    n_got, n_exp = sum(got.values()), sum(expected.values())
    if not n_got or not n_exp or not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / n_got, common / n_exp
    return precision, recall, 2 * precision * recall / (precision + recall)


# --- candidates: page bytes + url -> article HTML ("" when none) ------------------------------------------


def _decode(page: bytes) -> str:
    return page.decode("utf-8", errors="replace")


def readability_lxml(page: bytes, url: str) -> str:
    from readability import Document

    return Document(_decode(page), url=url).summary(html_partial=True)


def _trafilatura(**options: bool) -> Callable[[bytes, str], str]:
    def run(page: bytes, url: str) -> str:
        import trafilatura

        return (
            trafilatura.extract(
                _decode(page),
                url=url,
                output_format="html",
                include_links=True,
                include_images=True,
                include_tables=True,
                include_comments=False,
                **options,
            )
            or ""
        )

    return run


def reader_extract(page: bytes, url: str) -> str:
    from reader.extract import extract_article

    article = extract_article(page, url, "text/html")
    return article.html if article else ""


def _text_chars(html: str) -> int:
    return len(" ".join(visible_text(html).split()))


def trafilatura_then_readability(page: bytes, url: str) -> str:
    """trafilatura's fast path, and readability-lxml only where trafilatura finds little (< 500 chars)."""
    html = _trafilatura(fast=True)(page, url)
    return html if _text_chars(html) >= 500 else readability_lxml(page, url)


def reader_then_trafilatura(page: bytes, url: str) -> str:
    """reader.extract, and trafilatura (favor_recall) only where it finds no article."""
    return reader_extract(page, url) or _trafilatura(favor_recall=True)(page, url)


CANDIDATES: dict[str, Callable[[bytes, str], str]] = {
    "readability-lxml 0.9": readability_lxml,
    "trafilatura 2.3.1": _trafilatura(),
    "trafilatura favor_precision": _trafilatura(favor_precision=True),
    "trafilatura favor_recall": _trafilatura(favor_recall=True),
    "trafilatura fast": _trafilatura(fast=True),
    "trafilatura fast, readability-lxml if < 500 chars": trafilatura_then_readability,
    "reader.extract": reader_extract,
    "reader.extract, trafilatura if none": reader_then_trafilatura,
}
# What each candidate needs installed (trafilatura is a benchmark-only comparison, not a dependency).
_NEEDS = {"trafilatura": "trafilatura", "readability": "readability"}


def load_pages(limit: int | None, only: list[str] | None) -> list[tuple[str, bytes, Counter[str]]]:
    names = sorted(p.name for p in pages_dir().iterdir() if (p / "source.html").is_file())
    if only:
        names = [n for n in names if n in only]
    if limit:
        names = names[:limit]
    out = []
    for name in names:
        page = (pages_dir() / name / "source.html").read_bytes()
        expected = (pages_dir() / name / "expected.html").read_text("utf-8", errors="replace")
        out.append((name, page, tokens(expected)))
    return out


def page_url(name: str) -> str:
    return f"http://127.0.0.1/{name}/source.html"


def run_candidate(
    fn: Callable[[bytes, str], str], pages: list[tuple[str, bytes, Counter[str]]], repeat: int = 1
) -> tuple[list[float], list[float], dict[str, tuple[float, float, float]]]:
    """Each page's F1 and time (the best of `repeat` runs: on a shared machine the others' load only adds)."""
    f1s, times, per_page = [], [], {}
    for name, page, expected in pages:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            try:
                html = fn(page, page_url(name))
            except Exception as e:  # a candidate that raises scores 0 on that page
                print(f"  {name}: {type(e).__name__}: {e}", file=sys.stderr)
                html = ""
            best = min(best, time.perf_counter() - t0)
        times.append(best * 1000)
        prf = score(html, expected)
        per_page[name] = prf
        f1s.append(prf[2])
    return f1s, times, per_page


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=None, help="only the first N pages (default: all)")
    ap.add_argument("--only", default=None, help="comma-separated page names")
    ap.add_argument("--candidates", default=None, help="comma-separated substrings of candidate names")
    ap.add_argument("--worst", type=int, default=0, help="list each candidate's N worst pages")
    ap.add_argument("--repeat", type=int, default=1, help="time each page N times and keep the best (default 1)")
    ap.add_argument("--oracle", action="store_true", help="also the mean of the per-page best of the candidates")
    args = ap.parse_args(argv)
    if not pages_dir().is_dir():
        print(f"skipped: no article pages in {pages_dir()} (set READER_SHARED_DIR to the shared dir)")
        return 0
    pages = load_pages(args.pages, args.only.split(",") if args.only else None)
    chosen = {
        name: fn
        for name, fn in CANDIDATES.items()
        if not args.candidates or any(c in name for c in args.candidates.split(","))
    }
    for name in list(chosen):
        missing = [mod for key, mod in _NEEDS.items() if key in name and importlib.util.find_spec(mod) is None]
        if missing:
            print(f"skipped {name}: {', '.join(missing)} not installed")
            del chosen[name]
    # Warm up imports and caches so the first page doesn't carry the module import time.
    for fn in chosen.values():
        try:
            fn(pages[0][1], page_url(pages[0][0]))
        except Exception:
            pass
    load_before = os.getloadavg()
    rows = []
    per_pages: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, fn in chosen.items():
        f1s, times, per_page = run_candidate(fn, pages, args.repeat)
        per_pages[name] = per_page
        good = sum(f >= 0.9 for f in f1s)
        rows.append(
            f"| {name} | {statistics.fmean(f1s):.3f} | {good}/{len(f1s)} | {statistics.fmean(times):.1f} "
            f"| {statistics.median(times):.1f} | {p95(times):.1f} |"
        )
        if args.worst:
            worst = sorted(per_page.items(), key=lambda kv: kv[1][2])[: args.worst]
            print(f"{name} worst: " + ", ".join(f"{n} P{p:.2f}/R{r:.2f}/F{f:.2f}" for n, (p, r, f) in worst))
    if args.oracle and len(per_pages) >= 2:
        best = [max(pp[name][2] for pp in per_pages.values()) for name, _page, _exp in pages]
        print(f"per-page best of {', '.join(per_pages)} (an oracle, not an extractor): {statistics.fmean(best):.3f}")
    load_after = os.getloadavg()
    print(f"\n{len(pages)} pages; load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)\n")
    print("| extractor | mean F1 | pages F1 ≥ 0.9 | mean ms/page | median ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
