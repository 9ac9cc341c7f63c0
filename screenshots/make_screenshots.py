"""Drive the real app headlessly on the seed feed and the Welcome feed; write SVG and PNG screenshots.

Run:  python screenshots/make_screenshots.py   (writes into screenshots/)

The PNGs need cairosvg (`pip install cairosvg`) and the DejaVu Sans Mono font
(`apt-get install fonts-dejavu-core`). The SVGs name Fira Code, fetched from the web,
which cairosvg cannot do: it fell back to a proportional font, and the columns of a
terminal app drifted apart. So the PNGs are drawn from a copy naming a local monospace font.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
os.environ["READER_IMAGES"] = "halfblocks"  # the same shots in any terminal (Kitty would draw them itself)
os.environ["TZ"] = "UTC"
time.tzset()

from reader.config import Settings  # noqa: E402
from reader.images.cache import image_cache  # noqa: E402
from reader.parse import parse_feed  # noqa: E402
from reader.refresh import refresh_async  # noqa: E402
from reader.store import Store  # noqa: E402
from reader.tui.app import ReaderApp  # noqa: E402
from reader.welcome import offer_welcome  # noqa: E402

HERE = Path(__file__).parent
SEED = HERE.parent / "tests" / "data" / "blog-hong-kong.xml"
SEED_URL = "https://blog.cloudflare.com/rss/"
PNG_FONT = "DejaVu Sans Mono"


def monospace_svg(svg: str) -> str:
    """The SVG with its web font swapped for PNG_FONT: no @font-face, every family monospace."""
    svg = re.sub(r"@font-face\s*\{[^}]*\}", "", svg)
    return re.sub(r"font-family:[^;]*;", f'font-family: "{PNG_FONT}", monospace;', svg)


def font_installed(family: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=False).stdout
    return any(family in line.split(",") for line in listed.splitlines())


def build_cache(path: Path) -> Store:
    store = Store(path)
    offer_welcome(store)
    store.add_feed(SEED_URL, "", ["Blogs"])
    store.save_parsed(SEED_URL, parse_feed(SEED.read_bytes(), SEED_URL))
    store.db.execute("UPDATE feeds SET last_checked = ?, last_updated = ?", (1_764_000_000.0,) * 2)
    return store


def add_power_use(store: Store) -> None:
    """Saved searches and tags, as a power user's sidebar has them (issue 11)."""
    store.save_search("Hong Kong", '"Hong Kong"')
    store.save_search("Unread blogs", "category:Blogs is:unread")
    rows = {r.title: r.id for r in store.list_entries()}
    later = [i for t, i in rows.items() if "Hong Kong" in t][:2]
    store.tag_entries(later, add=["later"])
    store.tag_entries(later[:1], add=["to cite"])


def add_offline_account(store: Store) -> None:
    """The cache as a sync account leaves it when its server is down: the seed feed synced, two marks waiting."""
    store.set_account("https://rss.example.com/api/greader.php", "alice")
    store.db.execute("UPDATE feeds SET remote_id = 'feed/1' WHERE url = ?", (SEED_URL,))
    store.db.execute(
        "UPDATE entries SET remote_id = id WHERE feed_id = (SELECT id FROM feeds WHERE url = ?)", (SEED_URL,)
    )
    store.record_sync()
    store.db.execute("UPDATE account SET last_sync = ?", (1_764_000_000.0,))
    first, second = store.entry_ids("e.feed_id = (SELECT id FROM feeds WHERE url = ?)", [SEED_URL])[:2]
    store.set_flag([first], "starred", True)
    store.set_flag([second], "read", True)
    down = "cannot reach rss.example.com: connection refused (is the server down?)"
    store.record_sync(error=down, kind="unreachable")


# A summary-only feed whose post links a full article with a picture, and carries an episode:
# served on loopback and fetched by the real refresh (article stage, image cache) before the shot.
ARTICLE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Notes</title><link>{base}/</link>
<item><title>Evening ferries across the harbour</title><link>{base}/ferries.html</link>
<guid>{base}/ferries.html</guid><pubDate>Tue, 25 Nov 2025 18:30:00 GMT</pubDate>
<author>ann@harbour.invalid (Ann Lee)</author>
<description>The last crossings of the day, and what the light does to the water&#8230;</description>
<enclosure url="{base}/episode-12.mp3" length="48234112" type="audio/mpeg"/>
</item></channel></rss>
"""
ARTICLE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Evening ferries | Harbour Notes</title></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a> <a href="/archive">Archive</a></nav>
<article><h1>Evening ferries across the harbour</h1>
<p>The last crossings of the day leave every twenty minutes from the central pier. By half past six the
queue reaches the ticket hall, and the boats go out full in both directions.</p>
<p><img src="/sunset.png" alt="The harbour from the upper deck"></p>
<p>From the upper deck the skyline turns orange, then violet, and the water takes the colour of the sky.
The crossing takes nine minutes; the view is worth <a href="/timetable">the timetable</a> on its own.</p>
<h2>When to go</h2>
<ul><li>Between 18:00 and 19:00 for the light.</li><li>After 20:00 for a seat.</li></ul>
<p>The episode below is the sound of one crossing, engine and gulls included.</p>
</article><aside><h3>Related</h3><a href="/trams">Trams</a></aside><footer>© Harbour Notes</footer></body></html>
"""


def landscape_png() -> bytes:
    """A fixed evening picture (sky, sun, hills, water), drawn here so the shot needs no network."""
    import io

    from PIL import Image, ImageDraw

    width, height = 800, 400
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(240):  # the sky: violet to orange
        t = y / 240
        draw.line([(0, y), (width, y)], fill=(int(70 + 180 * t), int(40 + 90 * t), int(120 - 60 * t)))
    draw.ellipse([520, 150, 600, 230], fill=(255, 200, 90))
    draw.polygon([(0, 240), (120, 170), (260, 215), (400, 160), (560, 225), (700, 185), (800, 230), (800, 240)],
                 fill=(45, 35, 60))
    for y in range(240, height):  # the water, with the sun's reflection
        t = (y - 240) / 160
        draw.line([(0, y), (width, y)], fill=(int(90 - 50 * t), int(60 - 30 * t), int(110 - 40 * t)))
        if y % 6 < 3:
            draw.line([(560 - 40 * (1 - t), y), (560 + 40 * (1 - t), y)], fill=(240, 170, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def build_article_cache(path: Path, site: Path) -> Store:
    """A cache whose one post has its full article and picture, fetched from a loopback server."""
    import functools
    import http.server
    import threading

    from reader.fetch import FetchOptions

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (site / "feed.xml").write_text(ARTICLE_FEED.format(base=base), encoding="utf-8")
    (site / "ferries.html").write_text(ARTICLE_PAGE, encoding="utf-8")
    (site / "sunset.png").write_bytes(landscape_png())
    store = Store(path)
    store.add_feed(f"{base}/feed.xml", "", ["Photos"])
    try:
        await refresh_async(store, options=FetchOptions(timeout=10), images=image_cache(Settings(), path.parent))
    finally:
        server.shutdown()
    store.db.execute("UPDATE feeds SET last_checked = ?, last_updated = ?", (1_764_000_000.0,) * 2)
    return store


async def shoot(store: Store, size: tuple[int, int], name: str, keys: list[str]) -> Path:
    app = ReaderApp(store, Settings(mark_read_after=-1))
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        for key in keys:
            await pilot.press(key)
            for _ in range(2):
                await app.workers.wait_for_complete()
                await pilot.pause()
        await pilot.pause(0.2)
        app.save_screenshot(f"{name}.svg", str(HERE))
    return HERE / f"{name}.svg"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = build_cache(Path(tmp) / "reader.sqlite")
        shots = [
            await shoot(store, (140, 40), "main", ["G", "k", "enter"]),
            await shoot(store, (80, 24), "post-80x24", ["G", "k", "enter"]),
            await shoot(store, (140, 40), "category-picker", ["c"]),
            await shoot(store, (140, 40), "help", ["question_mark"]),
        ]
        store.close()
        power = build_cache(Path(tmp) / "power.sqlite")
        add_power_use(power)
        # The sidebar: down to the first saved search, Enter lists it (the list takes the keys),
        # Enter opens its first post.
        shots.append(await shoot(power, (140, 40), "saved-search", ["shift+tab", "j", "j", "j", "enter", "enter"]))
        shots.append(await shoot(power, (140, 40), "tag-editor", ["shift+tab", "j", "j", "j", "enter", "enter", "T"]))
        power.close()
        synced = build_cache(Path(tmp) / "synced.sqlite")
        add_offline_account(synced)
        shots.append(await shoot(synced, (140, 40), "sync-offline", ["e"]))
        synced.close()
        site = Path(tmp) / "site"
        site.mkdir()
        (Path(tmp) / "article").mkdir()
        article = await build_article_cache(Path(tmp) / "article" / "reader.sqlite", site)
        shots.append(await shoot(article, (120, 44), "inline-image", ["enter"]))
        article.close()
    try:
        import cairosvg
    except ImportError:
        print("cairosvg is not installed (pip install cairosvg): SVGs only", file=sys.stderr)
        cairosvg = None
    if cairosvg is not None and not font_installed(PNG_FONT):
        # A PNG in a proportional font is worse than none: keep the old PNGs.
        print(f"{PNG_FONT} is not installed (apt-get install fonts-dejavu-core): SVGs only", file=sys.stderr)
        cairosvg = None
    for svg in shots:
        if cairosvg is not None:
            png = svg.with_suffix(".png")
            cairosvg.svg2png(bytestring=monospace_svg(svg.read_text()).encode(), write_to=str(png))
            print(png)
        print(svg)


if __name__ == "__main__":
    asyncio.run(main())
