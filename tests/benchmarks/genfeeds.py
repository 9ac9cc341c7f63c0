"""Deterministic synthetic feeds for benchmarks (stdlib only).

    python tests/benchmarks/genfeeds.py --out DIR --feeds N [--items 20] [--seed 1]

Writes DIR/fNNNN.rss (two thirds) or DIR/fNNNN.atom (one third). Feed i depends only
on (seed, i, items), so a run for 100 feeds gives the first 100 files of a run for 500.
No clock and no global random state: the same arguments give byte-identical files.

A shorter take on the team's shared generator, with the same size profile (about
250 KB per 20-item feed on average). Each feed draws a profile from its own RNG:
  summary (40%)  the post is in <description>/<summary>, 0.4-2 KB of HTML
  medium  (35%)  full post in content:encoded / atom:content, 3-12 KB
  long    (25%)  full post, 15-50 KB
Posts have headings, paragraphs with links and emphasis, lists, code blocks, quotes,
images and a few non-ASCII words and entities; items carry a GUID, an author,
categories and a date. One Atom feed in five uses inline XHTML content.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import random
from pathlib import Path

WORDS = (
    "the of and to in is that for it with as on be at by this from or an are was not but have you we they "
    "which one all there can had has more when will about if out up so what its into than them only some "
    "time could after other also new first two use way even most over such because through where much "
    "server client cache request response latency throughput kernel process thread memory queue socket "
    "buffer parser compiler runtime library module package release version feature bug patch commit "
    "branch merge review test benchmark profile database index query schema migration table row column "
    "network protocol header payload stream feed reader article post editor terminal window layout render "
    "keyboard config option default value string number list object function method class interface type "
    "error exception warning log metric trace deploy cluster container image storage backup restore "
    "design pattern tradeoff problem solution result experiment data model garden coffee travel weekend "
    "morning evening city river mountain winter summer book chapter story music album concert photo camera"
).split()
RARE = ["café", "naïve", "Zürich", "São Paulo", "Ελληνικά", "Привет", "日本語", "中文", "한국어", "Ångström",
        "€", "—", "…"]
TAGS = ["python", "rust", "go", "linux", "databases", "devops", "security", "networking", "performance",
        "testing", "design", "open-source", "travel", "photography", "music", "books", "terminal", "web", "rss"]
FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Guido", "Radia", "Hedy", "José", "Zoë"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Perlman", "Müller", "O'Brien"]
CODE = [
    "def {w}_{v}(items, limit=10):", "    return [i.{w} for i in items[:limit] if i.{v}]",
    "fn {w}(input: &str) -> Result<Vec<u8>, Error> {{", "    let mut out = Vec::with_capacity(input.len());",
    "SELECT id, title FROM items WHERE {w} > ? ORDER BY published DESC LIMIT 50;",
    "for f in *.xml; do curl -s -o \"$f.new\" \"https://example.com/$f\" && mv \"$f.new\" \"$f\"; done",
    "const {w} = async (url) => (await fetch(url, {{ headers: {{ 'Accept': 'application/rss+xml' }} }})).text();",
    "if (n < 0 && {w} != NULL) {{ return -1; }}",
]
BASE_DATE = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
PROFILES = {"summary": (400, 2000), "medium": (3000, 12000), "long": (15000, 50000)}


class Writer:
    """Random prose and HTML from one seeded RNG."""

    def __init__(self, rng: random.Random, site: str) -> None:
        self.r = rng
        self.site = site

    def word(self) -> str:
        return self.r.choice(RARE) if self.r.random() < 0.01 else self.r.choice(WORDS)

    def words(self, lo: int, hi: int) -> str:
        return " ".join(self.word() for _ in range(self.r.randint(lo, hi)))

    def title(self) -> str:
        t = self.words(3, 9)
        t = t[:1].upper() + t[1:]
        return t + " & " + self.word() if self.r.random() < 0.15 else t

    def url(self) -> str:
        return f"https://{self.site}/{self.r.choice(WORDS)}/{self.r.randint(1, 9999)}"

    def sentence(self) -> str:
        bits = []
        for _ in range(self.r.randint(8, 22)):
            w, x = html.escape(self.word()), self.r.random()
            if x < 0.025:
                w = f'<a href="{self.url()}">{w}</a>'
            elif x < 0.04:
                w = f"<em>{w}</em>"
            elif x < 0.05:
                w = f"<code>{w}()</code>"
            bits.append(w)
        s = " ".join(bits)
        return s[:1].upper() + s[1:] + self.r.choice([".", ".", ".", "!", "?", " (see &lt;x&gt; &amp; co.)."])

    def paragraph(self) -> str:
        return "<p>" + " ".join(self.sentence() for _ in range(self.r.randint(3, 7))) + "</p>"

    def block(self) -> str:
        r, x = self.r, self.r.random()
        if x < 0.10:
            return f"<h2>{html.escape(self.title())}</h2>"
        if x < 0.60:
            return self.paragraph()
        if x < 0.72:
            tag = r.choice(["ul", "ol"])
            return f"<{tag}>" + "".join(f"<li>{self.sentence()}</li>" for _ in range(r.randint(3, 8))) + f"</{tag}>"
        if x < 0.83:
            lines = [r.choice(CODE).format(w=r.choice(WORDS), v=r.choice(WORDS)) for _ in range(r.randint(4, 18))]
            return "<pre><code>" + html.escape("\n".join(lines)) + "</code></pre>"
        if x < 0.92:
            img = f'<img src="https://{self.site}/img/{r.randint(1, 999)}.jpg" alt="{self.words(2, 5)}" width="800" />'
            return f"<figure>{img}<figcaption>{self.sentence()}</figcaption></figure>"
        return f"<blockquote>{self.paragraph()}</blockquote>"

    def body(self, target: int) -> str:
        out = [self.paragraph()]
        size = len(out[0])
        while size < target:
            out.append(self.block())
            size += len(out[-1])
        return "\n".join(out)


def cdata(s: str) -> str:
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def make_feed(index: int, items: int, seed: int = 1) -> tuple[str, bytes]:
    """(file name, document bytes) of feed number `index` (from 1)."""
    rng = random.Random(f"{seed}:{index}")
    site = f"blog{index:04d}.example.org"
    w = Writer(rng, site)
    x = rng.random()
    profile = "summary" if x < 0.40 else "medium" if x < 0.75 else "long"
    atom = index % 3 == 2
    xhtml = atom and rng.random() < 0.2
    every = rng.choice([6, 24, 24, 72, 168])  # hours between posts
    authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 3))]
    title = f"{authors[0].split()[0]}'s {w.title()}"
    e = html.escape
    if atom:
        out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
               f"<title>{e(title)}</title>", f'<subtitle type="html">{e(w.sentence())}</subtitle>',
               f"<id>tag:{site},2024:feed</id>", f"<updated>{BASE_DATE:%Y-%m-%dT%H:%M:%SZ}</updated>",
               f'<link rel="alternate" type="text/html" href="https://{site}/" />',
               f"<author><name>{e(authors[0])}</name></author>"]
    else:
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
               'xmlns:dc="http://purl.org/dc/elements/1.1/">', "<channel>",
               f"<title>{e(title)}</title>", f"<link>https://{site}/</link>",
               f"<description>{e(w.sentence())}</description>", "<language>en-us</language>",
               f"<lastBuildDate>{BASE_DATE:%a, %d %b %Y %H:%M:%S +0000}</lastBuildDate>"]
    for j in range(items):
        date = BASE_DATE - dt.timedelta(hours=every * j + rng.randint(0, every - 1), minutes=rng.randint(0, 59))
        slug = "-".join(rng.choice(WORDS) for _ in range(4))
        link = f"https://{site}/{date.year}/{date.month:02d}/{slug}.html"
        guid = f"https://{site}/?p={100000 - index * 50 - j}" if rng.random() < 0.5 else link
        body = w.body(rng.randint(*PROFILES[profile]))
        summary = body if profile == "summary" else " ".join(w.sentence() for _ in range(rng.randint(1, 3)))
        content = None if profile == "summary" else body
        item_title, author, cats = w.title(), rng.choice(authors), rng.sample(TAGS, rng.randint(1, 4))
        if atom:
            out += ["<entry>", f'<title type="html">{e(item_title)}</title>',
                    f'<link rel="alternate" type="text/html" href="{link}" />', f"<id>{e(guid)}</id>",
                    f"<published>{date:%Y-%m-%dT%H:%M:%SZ}</published>",
                    f"<updated>{date + dt.timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}</updated>",
                    f"<author><name>{e(author)}</name></author>",
                    *(f'<category term="{c}" label="{c.title()}" />' for c in cats),
                    f'<summary type="html">{e(summary)}</summary>']
            if content and xhtml:
                out.append(f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{content}</div></content>')
            elif content:
                out.append(f'<content type="html" xml:base="https://{site}/">{e(content)}</content>')
            out.append("</entry>")
        else:
            permalink = "true" if guid == link else "false"
            out += ["<item>", f"<title>{e(item_title)}</title>", f"<link>{link}</link>",
                    f'<guid isPermaLink="{permalink}">{e(guid)}</guid>',
                    f"<pubDate>{date:%a, %d %b %Y %H:%M:%S +0000}</pubDate>",
                    f"<dc:creator>{cdata(author)}</dc:creator>", *(f"<category>{c}</category>" for c in cats),
                    f"<description>{cdata(summary)}</description>"]
            if content:
                out.append(f"<content:encoded>{cdata(content)}</content:encoded>")
            out.append("</item>")
    out += ["</feed>", ""] if atom else ["</channel>", "</rss>", ""]
    return f"f{index:04d}.{'atom' if atom else 'rss'}", "\n".join(out).encode()


def generate(out: Path, feeds: int, items: int = 20, seed: int = 1) -> list[Path]:
    """Write feeds 1..`feeds` into `out`, skipping files already there; return their paths in order."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, feeds + 1):
        existing = sorted(out.glob(f"f{i:04d}.*"))
        if existing:
            paths.append(existing[0])
            continue
        name, data = make_feed(i, items, seed)
        tmp = out / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out / name)  # never leave a half-written feed behind for a later run to trust
        paths.append(out / name)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--feeds", type=int, required=True)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.feeds, args.items, args.seed)
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} feeds, {args.items} items each, {total / 1e6:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
