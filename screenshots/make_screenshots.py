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
os.environ["TZ"] = "UTC"
time.tzset()

from reader.config import Settings  # noqa: E402
from reader.parse import parse_feed  # noqa: E402
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
        synced = build_cache(Path(tmp) / "synced.sqlite")
        add_offline_account(synced)
        shots.append(await shoot(synced, (140, 40), "sync-offline", ["e"]))
        synced.close()
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
