"""Issue 10, images in the app: the text first, then each image as it is decoded, off the UI thread."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tui_support
from feedserver import FeedServer
from PIL import Image
from tui_support import add_post, fill, make_app, screen_text, settle, wait_for

from reader.images import cells
from reader.images.cache import ImageCache
from reader.store import Store
from reader.tui.app import ReaderApp

pytestmark = [pytest.mark.usefixtures("utc")]


@pytest.fixture(autouse=True)
def _half_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half blocks, whatever terminal runs the tests (Kitty's protocol is tested on its own)."""
    monkeypatch.setenv("READER_IMAGES", "halfblocks")

COUNT = 20


def jpeg(n: int) -> bytes:
    image = Image.new("RGB", (640, 480), (10 * n % 256, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def cache_of(store: Store) -> ImageCache:
    return ImageCache(store.path.parent / "images", 10**9)  # where the app keeps it: beside the cache


def post_with_images(urls: list[str]) -> str:
    words = " ".join(f"w{n}" for n in range(40))
    return "".join(f"<p>P{n:03d}: {words}</p><img src='{url}' alt='pic {n}'>" for n, url in enumerate(urls))


def image_bytes(size: tuple[int, int], colour: tuple[int, int, int], kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def cached_post(store: Store, images: list[bytes], extension: str = "jpg") -> None:
    """The only post: a paragraph before each of `images`, every one already in the app's image cache."""
    fill(store, seed=False)
    urls = [f"https://img.invalid/{n}.{extension}" for n in range(len(images))]
    cache = cache_of(store)
    for url, data in zip(urls, images, strict=True):
        assert cache.put(url, data)
    add_post(store, post_with_images(urls))


class Gate:
    """Holds every decode until opened: shows what the pane does before any image is decoded."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.calls = 0
        self._decode = cells.decode

    def __call__(self, data: bytes, *args: object) -> object:
        self.calls += 1
        if not self.open.wait(10):
            raise AssertionError("the gate was never opened")
        return self._decode(data, *args)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    monkeypatch.setattr(cells, "decode", gate)
    yield gate
    gate.open.set()  # never leave a worker waiting


async def open_post_at_the_gate(pilot, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    """Open the top post and wait until the pane is showing it and its first decode is held at `gate`."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.reading_pane.post is not None and gate.calls >= 1)
    await pilot.pause(0.1)


def placeholders(app: ReaderApp) -> int:
    """Placeholders in the lines the pane shows (images spliced in below the screen are shown
    a moment after they are decoded)."""
    assert app.reading_pane.post is not None
    return sum("[image" in line.text for line in app.reading_pane.body.lines)


def pictures(app: ReaderApp) -> int:
    post = app.reading_pane.post
    assert post is not None
    return sum(block.picture is not None for _, block in post.images)


@pytest.mark.asyncio
async def test_twenty_cached_images_text_first_then_each_image(store: Store, gate: Gate) -> None:
    cached_post(store, [jpeg(n) for n in range(COUNT)])
    app = make_app(store)
    async with app.run_test(size=tui_support.WIDE) as pilot:
        await open_post_at_the_gate(pilot, gate)
        # The text is on the screen, every image a placeholder, before a single image is decoded.
        assert app.post_shown_at > 0
        text = screen_text(app)
        assert "P000: w0 w1" in text and "[image: pic 0]" in text and "P001:" in text
        assert pictures(app) == 0 and placeholders(app) == COUNT
        gate.open.set()
        await wait_for(pilot, lambda: placeholders(app) == 0, timeout=20)
        assert pictures(app) == COUNT
        post = app.reading_pane.post
        assert post is not None
        lines = [line.text for line in post.lines]
        # Every paragraph still there, in order, each followed by its picture's cells.
        paragraph_lines = [i for i, line in enumerate(lines) if line.startswith("P0")]
        assert [lines[i][:4] for i in paragraph_lines] == [f"P{n:03d}" for n in range(COUNT)]
        for i in paragraph_lines:
            after = next(line for line in lines[i + 1:] if line.strip() and not line.startswith("w"))
            assert set(after.strip()) <= {"▀", "▄"}, after
        # The starts of the blocks still point at their blocks (the reading position uses them).
        assert all(lines[post.starts[b]].strip() == "" or lines[post.starts[b]].startswith(("P0", "▀"))
                   for b in range(len(post.starts)) if post.starts[b] < len(lines))
        await pilot.pause(0.1)
        assert "▀" in screen_text(app)


@pytest.mark.asyncio
async def test_images_decoded_above_the_reader_do_not_move_the_text(store: Store, gate: Gate) -> None:
    cached_post(store, [jpeg(n) for n in range(COUNT)])
    app = make_app(store)
    async with app.run_test(size=tui_support.NARROW) as pilot:
        await open_post_at_the_gate(pilot, gate)
        for _ in range(3):
            await pilot.press("space")  # page down into the post
        await pilot.pause(0.2)
        before = tui_support.paragraph_at_top(app, r"P(\d{3}):", default=-1)
        assert before >= 3
        gate.open.set()
        await wait_for(pilot, lambda: placeholders(app) == 0, timeout=20)
        await pilot.pause(0.3)
        assert tui_support.paragraph_at_top(app, r"P(\d{3}):", default=-1) == before


@pytest.mark.asyncio
async def test_images_off_placeholders_only_nothing_fetched(store: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "served"
    root.mkdir()
    (root / "a.jpg").write_bytes(jpeg(1))
    decoded: list[int] = []
    real = cells.decode
    monkeypatch.setattr(cells, "decode", lambda data, *a: decoded.append(1) or real(data, *a))
    with FeedServer(root) as server:
        fill(store, seed=False)
        add_post(store, post_with_images([server.url("/a.jpg"), server.url("/a.jpg?2")]))
        app = make_app(store, images=False)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.pause(0.3)
            assert "[image: pic 0]" in screen_text(app) and placeholders(app) == 2
            assert server.count("a.jpg") == 0 and not decoded
            assert not (store.path.parent / "images").exists()


@pytest.mark.asyncio
async def test_a_failed_image_is_a_placeholder_and_the_rest_of_the_post_is_intact(store: Store,
                                                                                 tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    (root / "fresh.jpg").write_bytes(jpeg(3))  # not cached: fetched when the post is opened
    (root / "page.jpg").write_bytes(b"<!doctype html><html>404 page</html>")
    with FeedServer(root) as server:
        fill(store, seed=False)
        cache = cache_of(store)
        whole = Image.effect_mandelbrot((400, 300), (-2, -1.5, 1, 1.5), 50).convert("RGB")
        buffer = io.BytesIO()
        whole.save(buffer, "JPEG")
        (root / "cut.jpg").write_bytes(buffer.getvalue()[:3000])  # the server's copy is cut short too
        cached, truncated = "https://img.invalid/ok.jpg", server.url("/cut.jpg")
        cache.put(cached, jpeg(1))
        cache.put(truncated, buffer.getvalue()[:3000])
        html_image = server.url("/ctype/image/jpeg/page.jpg")
        fresh = server.url("/fresh.jpg")
        add_post(store, post_with_images([cached, truncated, html_image, fresh, "javascript:alert(1)"])
                 + "<p>THE END</p>")
        app = make_app(store)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.reading_pane.post is not None and pictures(app) == 2, timeout=15)
            await settle(pilot)
            post = app.reading_pane.post
            assert post is not None
            drawn = {block.ref.url: block.picture is not None for _, block in post.images}
            assert drawn == {cached: True, truncated: False, html_image: False, fresh: True}  # (javascript: is text)
            text = "\n".join(line.text for line in post.lines)
            for n, alt in ((1, "pic 1"), (2, "pic 2"), (4, "pic 4")):
                assert f"[image: {alt}]" in text and f"P{n:03d}:" in text
            assert "THE END" in text and "P003:" in text
            # The failures are remembered: opening the post again doesn't fetch the page again.
            assert cache.failed(truncated) and "not an image" in (cache.failed(html_image) or "")
            assert server.count("page.jpg") == 1 and server.count("fresh.jpg") == 1
            assert server.count("cut.jpg") == 1  # the damaged cached copy was fetched again, once


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 3]  # a JPEG cut short: its header reads, its pixels don't


@pytest.mark.asyncio
async def test_item6_a_corrupt_cached_image_is_dropped_and_fetched_again(store: Store, tmp_path: Path) -> None:
    """A cached file that fails to decode (damaged on disk) used to be remembered as the URL's
    failure for 6 h. Now the copy is dropped and the image fetched again: shown, no failure."""
    from reader.images.cache import RETRY_TRANSIENT

    root = tmp_path / "served"
    root.mkdir()
    whole = Image.effect_mandelbrot((400, 300), (-2, -1.5, 1, 1.5), 50).convert("RGB")
    buffer = io.BytesIO()
    whole.save(buffer, "JPEG")
    good = buffer.getvalue()
    (root / "pic.jpg").write_bytes(good)
    with FeedServer(root) as server:
        fill(store, seed=False)
        cache = cache_of(store)
        url = server.url("/pic.jpg")
        offline = "http://127.0.0.1:9/gone.jpg"  # nothing listens there: no network
        assert cache.put(url, _cut(good)) and cache.put(offline, _cut(good))
        assert cells.decode(cache.get(url) or b"") is None  # really undecodable
        add_post(store, post_with_images([url, offline]))
        app = make_app(store)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.reading_pane.post is not None and pictures(app) == 1, timeout=15)
            await wait_for(pilot, lambda: cache.failed(offline) is not None, timeout=15)
            assert server.count("pic.jpg") == 1
            assert cache.failed(url) is None and cache.get(url) == good
            # Offline, the image is only as failed as any unreachable one: tried again in minutes, not hours.
            record = cache._fail_path(offline).read_text()
            assert "decoded" not in record and float(record.split()[0]) <= time.time() + RETRY_TRANSIENT + 5
            assert not cache.has(offline)


@pytest.mark.asyncio
async def test_images_follow_a_resize_without_a_second_decode(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    cached_post(store, [image_bytes((1600, 400), (0, 90, 200), "PNG")] * 3, "png")  # 200 cells at natural size
    calls: list[int] = []
    real = cells.decode
    monkeypatch.setattr(cells, "decode", lambda data, *a: calls.append(1) or real(data, *a))
    app = make_app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0)
        widths = {line.cell_length for line in app.reading_pane.post.lines if "▀" in line.text}
        assert widths == {app.reading_pane.post.width}  # as wide as the text measure, no wider
        await pilot.resize_terminal(70, 30)
        await wait_for(pilot, lambda: app.reading_pane.post.width < 70)
        await settle(pilot)
        post = app.reading_pane.post
        widths = {line.cell_length for line in post.lines if "▀" in line.text}
        assert widths == {post.width} and placeholders(app) == 0
        assert len(calls) == 3  # each image decoded once: the relayout redrew the pictures


@pytest.mark.asyncio
async def test_a_relayout_made_before_the_pictures_were_ready_gets_them_drawn(store: Store) -> None:
    """A relayout worker may lay the post out while an image is still a placeholder and hand
    the lines over after the picture was decoded (and its splice dropped, being for the old
    width): the pane redraws such images itself."""
    from reader.tui.post_layout import layout_blocks

    cached_post(store, [jpeg(n) for n in range(3)])
    app = make_app(store)
    async with app.run_test(size=tui_support.WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0)
        pane = app.reading_pane
        post = pane.post
        assert post is not None
        pictures_now = [(block, block.picture) for _, block in post.images]
        for block, _ in pictures_now:
            block.picture = None
        lines, starts = layout_blocks(app.console, post.blocks, post.width)  # as a relayout saw it
        for block, picture in pictures_now:
            block.picture = picture
        pane.relaid(post, lines, starts, post.width)
        assert placeholders(app) == 3
        await wait_for(pilot, lambda: placeholders(app) == 0)
        assert pictures(app) == 3


def sunset_png() -> bytes:
    """A fixed picture with shapes and a transparent corner (the pane's background shows there)."""
    from PIL import ImageDraw

    image = Image.new("RGBA", (640, 320), (30, 60, 120, 255))
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 40):
        draw.rectangle([x, 200, x + 30, 320], fill=(200, 120 + x // 8, 40, 255))
    draw.ellipse([420, 30, 520, 130], fill=(250, 220, 80, 255))
    draw.rectangle([0, 0, 80, 40], fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_snapshot_a_post_with_an_inline_image(snap_compare, store: Store) -> None:  # type: ignore[no-untyped-def]
    from reader.models import ParsedEntry, ParsedFeed

    fill(store, seed=False)
    url = "https://pictures.invalid/feed"
    image = "https://pictures.invalid/sunset.png"
    store.add_feed(url, "Pictures")
    store.save_parsed(url, ParsedFeed("Pictures", "https://pictures.invalid/", [ParsedEntry(
        key="sunset", title="Sunset over the harbour", link="https://pictures.invalid/sunset", author="Ann",
        published=1_600_000_000.0, categories=[], base_url=None,
        content=f"<p>Seen from the ferry this evening.</p><img src='{image}' alt='the harbour'>"
                "<p>The light faded quickly after that.</p>",
    )]))
    store.db.execute("UPDATE feeds SET last_checked = ?, last_updated = ?", (tui_support.FIXED_CHECK,) * 2)
    cache_of(store).put(image, sunset_png())
    app = make_app(store)

    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("G", "enter")  # the oldest post: ours
        await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 40), run_before=open_it)


@pytest.mark.asyncio
async def test_images_fetched_on_open_appear_as_each_arrives(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    (root / "quick.jpg").write_bytes(jpeg(1))
    (root / "late.jpg").write_bytes(jpeg(2))
    with FeedServer(root) as server:
        fill(store, seed=False)
        late, quick = server.url("/slow/1500/late.jpg"), server.url("/quick.jpg")
        add_post(store, post_with_images([late, quick]))
        app = make_app(store)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")

            def drawn() -> dict[str | None, bool]:
                post = app.reading_pane.post
                return {} if post is None else {b.ref.url: b.picture is not None for _, b in post.images}

            await wait_for(pilot, lambda: drawn().get(quick, False))
            assert drawn()[late] is False  # the quick one didn't wait for the slow one
            await wait_for(pilot, lambda: drawn().get(late, False))
            await wait_for(pilot, lambda: placeholders(app) == 0)


@pytest.mark.asyncio
async def test_kitty_images_are_sent_before_their_cells_show_and_freed_on_leaving(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    import textual.constants

    from reader.tui.widgets.post_body import PostBody

    monkeypatch.setenv("READER_IMAGES", "kitty")
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")  # as Kitty's COLORTERM gives
    # 150 cells at natural size
    cached_post(store, [image_bytes((1200, 600), (n, 100, 200), "JPEG") for n in range(3)])
    written: list[str] = []
    sent: set[int] = set()
    shown_before_sent: list[int] = []
    set_lines = PostBody.set_lines

    def checking(body: PostBody, lines: list) -> None:  # every id in the lines must be in the terminal
        for line in lines:
            for segment in line:
                if segment.text.startswith("\U0010EEEE") and segment.style and segment.style.color:
                    red, green, blue = segment.style.color.get_truecolor()
                    if (red << 16 | green << 8 | blue) not in sent:
                        shown_before_sent.append(red << 16 | green << 8 | blue)
        set_lines(body, lines)

    monkeypatch.setattr(PostBody, "set_lines", checking)
    app = make_app(store)
    async with app.run_test(size=tui_support.WIDE) as pilot:
        driver_write = app._driver.write

        def capture(data: str) -> None:
            if data.startswith("\x1b_G"):
                written.append(data)
                sent.update(int(n) for n in re.findall(r"a=p,U=1,i=(\d+)", data))
            driver_write(data)

        app._driver.write = capture  # type: ignore[method-assign]
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and pictures(app) == 3
                       and placeholders(app) == 0)
        post = app.reading_pane.post
        assert post is not None
        text = "\n".join(line.text for line in post.lines)
        assert "\U0010EEEE" in text and "▀" not in text  # the terminal draws them: no half blocks
        assert len(sent) == 3 and not shown_before_sent
        assert all("a=t,f=100" in sequence for sequence in written)
        await pilot.resize_terminal(120, 40)  # laid out again narrower: each image placed anew, sent first
        await wait_for(pilot, lambda: post.width < 100)
        await settle(pilot)
        assert not shown_before_sent, (shown_before_sent, sent)
        assert len(sent) == 6
        await pilot.press("escape")  # close the post (wide screen): its images are freed
        await settle(pilot)
        deleted = {int(n) for n in re.findall(r"a=d,d=I,i=(\d+)", "".join(written))}
        assert deleted == sent


@pytest.mark.asyncio
async def test_kitty_needs_true_colour_else_half_blocks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image id travels as a 24-bit colour: with 256 colours (ssh without COLORTERM, say) it
    would arrive changed and no image would show, so such a terminal gets half blocks."""
    import textual.constants

    monkeypatch.setenv("READER_IMAGES", "kitty")
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "256")
    fill(store, seed=False)
    cache_of(store).put("https://img.invalid/0.jpg", jpeg(0))
    add_post(store, post_with_images(["https://img.invalid/0.jpg"]))
    app = make_app(store)
    async with app.run_test(size=tui_support.WIDE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0)
        text = "\n".join(line.text for line in app.reading_pane.post.lines)
        assert "▀" in text and "\U0010EEEE" not in text


@pytest.mark.asyncio
async def test_item1_cap_zero_the_app_shows_images_without_keeping_them(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    (root / "a.jpg").write_bytes(jpeg(1))
    with FeedServer(root) as server:
        fill(store, seed=False)
        add_post(store, post_with_images([server.url("/a.jpg")]))
        app = make_app(store, image_cache_mb=0)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0, timeout=15)
            assert pictures(app) == 1 and server.count("a.jpg") == 1
        images = store.path.parent / "images"
        assert not images.exists() or not list(images.iterdir())


@pytest.mark.asyncio
async def test_item2_a_large_image_fits_the_panes_height_and_refits_on_resize(store: Store) -> None:
    """A 4000 × 3000 photo was 100 × 38 cells in a ~37-row pane (140 × 45) and 76 × 29 in a
    21-row one (80 × 24): never seen whole. Its rows are capped to the pane's visible height
    less two, its width scaled down with it; a resize to another height fits it again."""
    fill(store, seed=False)
    url = "https://img.invalid/photo.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (40, 120, 200)).save(buffer, "JPEG")
    cache_of(store).put(url, buffer.getvalue())
    add_post(store, "<p>Before the photo.</p>" + f"<img src='{url}' alt='photo'>" + "<p>After it.</p>")
    app = make_app(store)

    def drawn() -> tuple[int, int]:
        post = app.reading_pane.post
        assert post is not None
        rows = [line for line in post.lines if "▀" in line.text]
        return (rows[0].cell_length if rows else 0), len(rows)

    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None and placeholders(app) == 0)
        await settle(pilot)
        pane = app.reading_pane
        visible = pane.scrollable_content_region.height
        columns, rows = drawn()
        assert rows == visible - 2, (rows, visible)
        assert abs(columns / (2 * rows) - 4 / 3) < 0.05  # the proportions kept: narrower, not squashed
        for size in ((140, 30), (80, 24), (140, 45)):  # (the first: the height alone, no relayout)
            await pilot.resize_terminal(*size)
            await settle(pilot)
            await pilot.pause(0.2)
            await settle(pilot)
            visible = pane.scrollable_content_region.height
            columns, rows = drawn()
            assert rows == visible - 2, (size, rows, visible)
            assert columns <= pane.post.width and abs(columns / (2 * rows) - 4 / 3) < 0.08
            assert placeholders(app) == 0


@pytest.mark.asyncio
async def test_item4_a_small_inline_icon_stays_in_its_sentence(store: Store, tmp_path: Path) -> None:
    """"Inline icon <img 16×16> in a sentence." was three blocks in the app (text / picture /
    text). Small images (by their width/height attributes) and emoji images stay in the line
    as their placeholder, and aren't downloaded; a big image is still a picture of its own."""
    root = tmp_path / "served"
    root.mkdir()
    for name in ("icon.png", "smiley.png", "big.jpg"):
        (root / name).write_bytes(jpeg(2))
    with FeedServer(root) as server:
        fill(store, seed=False)
        add_post(store, f"<p>Inline icon <img src='{server.url('/icon.png')}' width='16' height='16' alt='icon'>"
                        f" in a sentence. Glad <img class='wp-smiley' src='{server.url('/smiley.png')}' alt=':)'>"
                        f" too.</p><p><img src='{server.url('/big.jpg')}' width='640' height='480' alt='big'></p>")
        app = make_app(store)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.reading_pane.post is not None and pictures(app) == 1)
            await settle(pilot)
            post = app.reading_pane.post
            assert post is not None
            lines = [line.text.rstrip() for line in post.lines]
            assert "Inline icon [image: icon] in a sentence. Glad [image: :)] too." in lines
            assert [block.ref.alt for _, block in post.images] == ["big"]
            assert server.count("icon.png") == 0 and server.count("smiley.png") == 0 and server.count("big.jpg") == 1


@pytest.mark.asyncio
async def test_item5_every_placeholder_looks_the_same(store: Store, tmp_path: Path) -> None:
    """A failed http(s) image (a block of its own) was dim, a javascript:/data:/file: one (text
    in the paragraph) was not: every image not shown is now `[image: alt]` in the same style."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "page.png").write_bytes(b"<!doctype html><html>not an image</html>")
    with FeedServer(root) as server:
        fill(store, seed=False)
        failed = server.url("/ctype/image/png/page.png")
        add_post(store, f"<p>Intro.</p><img src='{failed}' alt='failed'><p>Then</p><img src='javascript:x' alt='js'>"
                        "<img src='data:image/png;base64,AAAA' alt='data'><img src='file:///etc/passwd' alt='file'>"
                        "<ul><li>item <img src='https://img.invalid/x.png' alt='in list'></li></ul>")
        app = make_app(store)
        async with app.run_test(size=tui_support.WIDE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            cache = cache_of(store)
            await wait_for(pilot, lambda: app.reading_pane.post is not None and cache.failed(failed) is not None,
                           timeout=15)
            await settle(pilot)
            post = app.reading_pane.post
            assert post is not None
            styles = {}
            for line in post.lines:
                for segment in line:
                    if "[image" in segment.text:
                        styles[segment.text.strip()] = segment.style
            shown = "".join(styles)
            assert all(f"[image: {alt}]" in shown for alt in ("failed", "js", "data", "file", "in list")), styles
            assert len(set(styles.values())) == 1, styles
            assert not any(style and style.dim for style in styles.values())
