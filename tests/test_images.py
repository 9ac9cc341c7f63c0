"""Issue 10, images: which images a post has, the cache, checking and fetching, half-block cells."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from feedserver import FeedServer
from PIL import Image
from rich.color import Color

from reader.fetch import FetchOptions, make_client
from reader.hosts import HostLimiter
from reader.images import ImageCache, check_image, fetch_images, image_urls, prefetch
from reader.images.cache import RETRY_FAILED
from reader.images.cells import MAX_ROWS, Picture, decode, image_lines, picture_lines
from reader.images.validate import MAX_IMAGE_BYTES, MAX_PIXELS
from reader.models import Entry
from reader.render import MAX_IMAGES, render_entry_text, render_html


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png(width: int = 40, height: int = 30, colour: tuple[int, ...] = (200, 30, 10)) -> bytes:
    return encode(Image.new("RGB", (width, height), colour), "PNG")


def photo(width: int = 2000, height: int = 1500) -> bytes:
    """A JPEG with detail (not one flat colour), like a photograph."""
    image = Image.effect_mandelbrot((width, height), (-2.0, -1.5, 1.0, 1.5), 80).convert("RGB")
    return encode(image, "JPEG", quality=85)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width × height pixels, with a few bytes of (deflated) pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + chunk(b"IEND", b""))


# --- which images: image_urls and the renderer agree -----------------------------------------------


def test_image_urls_in_document_order_deduplicated_http_only() -> None:
    html = (
        '<p>a<img src="/one.png">b</p><img src="two.jpg"><img src="/one.png">'
        '<img src="javascript:alert(1)"><img src="data:image/png;base64,AAAA"><img src="file:///etc/passwd">'
        '<img src="java\tscript:x"><img src="ftp://h/x.gif"><img src="//cdn.example/three.gif">'
        '<img data-src="lazy.webp" src="data:image/gif;base64,R0lGOD"><img srcset="/set.png 1x, /set2.png 2x">'
        '<img src="http://h/\x1b[31mred.png"><img>'
    )
    urls = image_urls(html, "https://example.com/posts/1")
    assert urls == [
        "https://example.com/one.png", "https://example.com/posts/two.jpg", "https://cdn.example/three.gif",
        "https://example.com/posts/lazy.webp", "https://example.com/set.png",
    ]
    # The renderer shows the same images, in the same order (its list holds every <img>,
    # with None where an image can't be fetched).
    rendered = render_html(html, "https://example.com/posts/1")
    assert list(dict.fromkeys(ref.url for ref in rendered.images if ref.url)) == urls
    assert len(rendered.images) == html.count("<img")
    assert rendered.text.count("[image") == len(rendered.images)


def test_image_urls_capped_per_post_and_the_renderer_agrees() -> None:
    html = "".join(f'<p>{n}</p><img src="https://h/{n}.png" alt="n{n}">' for n in range(MAX_IMAGES + 10))
    urls = image_urls(html, None)
    assert urls == [f"https://h/{n}.png" for n in range(MAX_IMAGES)]
    refs = render_html(html, None, image_marks=True).images
    assert [ref.url for ref in refs[:MAX_IMAGES]] == urls
    assert all(ref.url is None for ref in refs[MAX_IMAGES:])  # past the cap: placeholders only
    assert refs[-1].placeholder == f"[image: n{MAX_IMAGES + 9}]"


def test_image_urls_never_raise_on_hostile_markup() -> None:
    assert image_urls("<img src='a.png'" + "<" * 100_000, "https://h/") == []
    assert image_urls("<![if <img src=x.png>", None) == []
    assert image_urls("<img src=https://h/a.png><script><img src=https://h/b.png></script>", None) == [
        "https://h/a.png"
    ]


def test_image_marks_cannot_be_forged_by_feed_text() -> None:
    rendered = render_html("<p>\ufffc0\ufffc</p><img src='https://h/a.png' alt='A'>", None, image_marks=True)
    assert rendered.text.count("\ufffc") == 2  # only the renderer's own mark, around image 0
    assert "\ufffd0\ufffd" in rendered.text


# --- the cache --------------------------------------------------------------------------------------


def test_cache_put_get_and_least_recently_read_evicted(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "images", cap_bytes=2500)
    data = {name: bytes([n]) * 1000 for n, name in enumerate("abc")}
    for name, body in data.items():
        assert cache.put(f"https://h/{name}", body)
    for age, name in ((300, "a"), (200, "b"), (100, "c")):  # a is the oldest write
        os.utime(cache.path(f"https://h/{name}"), (time.time() - age, time.time() - age))
    assert cache.get("https://h/a") == data["a"]  # reading it makes it the most recent
    assert cache.usage() == 3000
    assert cache.evict() == 1000
    assert cache.get("https://h/b") is None  # least recently read: gone
    assert cache.get("https://h/a") == data["a"] and cache.get("https://h/c") == data["c"]
    assert cache.usage() <= 2500
    assert cache.path("https://h/a").name == f"{__import__('hashlib').sha256(b'https://h/a').hexdigest()}.img"
    assert not list((tmp_path / "images").glob("*.tmp*"))


def test_cache_remembers_failures_and_retries_after_hours(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, 10**6)
    url = "https://h/broken.png"
    assert cache.wanted(url)
    cache.fail(url, "HTTP 404 Not Found\x1b[2J")
    assert cache.failed(url) == "HTTP 404 Not Found"  # cleaned: no escape reaches a message
    assert not cache.wanted(url)
    old = time.time() - RETRY_FAILED - 60
    os.utime(next(tmp_path.glob("*.fail")), (old, old))
    assert cache.failed(url) is None and cache.wanted(url)
    assert cache.put(url, png())
    assert not list(tmp_path.glob("*.fail"))


_WRITER = """
import sys, time
from pathlib import Path
from reader.images.cache import ImageCache
cache = ImageCache(Path(sys.argv[1]), 40_000)
tag = sys.argv[2].encode()
for n in range(60):
    cache.put(f"https://h/{n % 30}", tag * 2000)  # both processes write the same 30 URLs
    cache.get(f"https://h/{(n * 7) % 30}")
    if n % 5 == 0:
        cache.evict()
cache.evict()
"""


def test_cache_two_processes_at_once(tmp_path: Path) -> None:
    root = tmp_path / "images"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root), tag], env=env, stderr=subprocess.PIPE)
               for tag in ("A", "B")]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err.decode()
    cache = ImageCache(root, 40_000)
    files = list(root.iterdir())
    assert files and all(f.suffix == ".img" for f in files)  # no temporary file left behind
    for file in files:  # every file is one writer's whole image, never a mix or a part
        body = file.read_bytes()
        assert body in (b"A" * 2000, b"B" * 2000)
    assert cache.usage() <= 40_000


# --- checking images by their bytes -----------------------------------------------------------------


def test_only_real_raster_images_are_accepted() -> None:
    assert check_image(png()) is None
    assert check_image(photo(300, 200)) is None
    assert check_image(encode(Image.new("P", (20, 20)), "GIF")) is None
    assert check_image(encode(Image.new("RGB", (20, 20), (1, 2, 3)), "WEBP")) is None
    assert check_image(b"<!DOCTYPE html><html><body>Not found</body></html>") == "not an image (an HTML page)"
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert check_image(svg) == "SVG images are not shown"
    assert check_image(b"BM" + b"\x00" * 100) == "not a PNG, JPEG, GIF or WebP image"  # a BMP: refused too
    assert check_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30) == "unreadable PNG header"
    assert check_image(b"\xff\xd8\xff" + b"\x00" * (MAX_IMAGE_BYTES)) == "image larger than 5 MB"


def test_a_png_claiming_100000_by_100000_pixels_is_refused_from_its_header() -> None:
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    started = time.perf_counter()
    assert check_image(bomb) == "image too large (over 25 megapixels)"
    assert decode(bomb) is None  # and decoding it never starts
    assert image_lines(bomb, 80) is None
    assert time.perf_counter() - started < 1.0  # 10^10 pixels would take minutes and 30 GB
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS  # Pillow's own check, as a second line
    assert check_image(png_claiming(5000, 5000)) is None  # 25 MP: within the cap
    assert check_image(png_claiming(5000, 5001)) == "image too large (over 25 megapixels)"


def test_a_truncated_jpeg_is_a_failure_not_an_exception() -> None:
    whole = photo(400, 300)
    cut = whole[: len(whole) // 2]
    assert check_image(cut) is None  # its header is fine...
    assert decode(cut) is None  # ...its pixels aren't: a placeholder, no exception
    assert decode(whole) is not None


# --- cells ------------------------------------------------------------------------------------------


def test_cells_colours_from_a_tiny_known_image() -> None:
    image = Image.new("RGBA", (3, 4), (0, 0, 0, 0))
    red, blue, green, white = (255, 0, 0, 255), (0, 0, 255, 255), (0, 255, 0, 255), (255, 255, 255, 255)
    for x in range(3):
        image.putpixel((x, 0), red)
        image.putpixel((x, 1), blue)
    image.putpixel((0, 2), green)  # (0,3) transparent: the pane's background shows
    image.putpixel((1, 3), white)  # (1,2) transparent: the lower half block
    lines = picture_lines(Picture(image), width=10)
    assert [line.cell_length for line in lines] == [3, 3]
    first = list(lines[0])
    assert [(s.text, s.style.color, s.style.bgcolor) for s in first] == [
        ("▀▀▀", Color.from_rgb(255, 0, 0), Color.from_rgb(0, 0, 255))  # one run of three equal cells
    ]
    second = [(s.text, s.style.color if s.style else None, s.style.bgcolor if s.style else None) for s in lines[1]]
    assert second == [
        ("▀", Color.from_rgb(0, 255, 0), None), ("▄", Color.from_rgb(255, 255, 255), None), (" ", None, None),
    ]


def test_decode_size_and_colour() -> None:
    picture = decode(png(80, 40, (10, 200, 30)), max_cells=100)
    assert picture is not None and picture.image.size == (10, 5)  # 8 pixels a cell at natural size
    lines = picture_lines(picture, 100)
    assert len(lines) == 3 and all(line.cell_length == 10 for line in lines)
    segment = next(iter(lines[0]))
    assert segment.style.color == Color.from_rgb(10, 200, 30) == segment.style.bgcolor
    # Wider than the pane: scaled to its width; taller than MAX_ROWS: scaled to fit.
    big = decode(png(1600, 1200), max_cells=100)
    assert big is not None and big.image.size == (100, 75)
    narrow = picture_lines(big, 50)
    assert len(narrow) == 19 and narrow[0].cell_length == 50
    tall = decode(png(200, 4000), max_cells=100)
    assert tall is not None and len(picture_lines(tall, 100)) == MAX_ROWS


def test_gif_and_webp_decode() -> None:
    for fmt in ("GIF", "WEBP"):
        data = encode(Image.new("RGB", (64, 32), (0, 0, 250)), fmt)
        lines = image_lines(data, 80)
        assert lines is not None and len(lines) == 2 and lines[0].cell_length == 8, fmt


def test_decoding_a_2000x1500_jpeg_is_fast() -> None:
    data = photo()
    decode(data)  # warm up Pillow's plugins
    started = time.perf_counter()
    picture = decode(data, max_cells=100)
    assert picture is not None and picture.image.size == (100, 75)
    lines = picture_lines(picture, 100)
    elapsed = time.perf_counter() - started
    assert len(lines) == 38
    assert elapsed < 0.5, elapsed  # ~10 ms here: the JPEG is decoded at 1/8 scale (draft mode)


# --- fetching through a real server ---------------------------------------------------------------


@pytest.fixture
def image_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "served"
    root.mkdir()
    (root / "a.png").write_bytes(png())
    (root / "b.jpg").write_bytes(photo(320, 240))
    (root / "c.gif").write_bytes(encode(Image.new("P", (10, 10)), "GIF"))
    (root / "d.webp").write_bytes(encode(Image.new("RGB", (10, 10)), "WEBP"))
    (root / "page.png").write_bytes(b"<html><body>This is not an image</body></html>")
    (root / "evil.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (root / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    noise = Image.frombytes("RGB", (1500, 1400), os.urandom(1500 * 1400 * 3))
    (root / "huge.png").write_bytes(encode(noise, "PNG", compress_level=0))  # ~6 MB
    with FeedServer(root) as server:
        yield server


def run_prefetch(urls: list[str], cache: ImageCache) -> int:
    async def go() -> int:
        async with make_client() as client:
            return await prefetch(client, urls, cache, limiter=HostLimiter(), options=FetchOptions(timeout=10))
    return asyncio.run(go())


def test_prefetch_caches_real_images_and_remembers_failures(image_server: FeedServer, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache", 10**8)
    good = [image_server.url(f"/{name}") for name in ("a.png", "b.jpg", "c.gif", "d.webp")]
    bad = {
        image_server.url("/ctype/image/png/page.png"): "not an image (an HTML page)",
        image_server.url("/evil.svg"): "SVG images are not shown",
        image_server.url("/bomb.png"): "image too large",
        image_server.url("/huge.png"): "larger than 5 MB",
        image_server.url("/status/404/a.png"): "HTTP 404",
    }
    assert os.path.getsize(Path(image_server.root) / "huge.png") > 6_000_000
    urls = [*good, *bad, "javascript:alert(1)", good[0]]
    assert run_prefetch(urls, cache) == 4
    assert all(cache.get(url) is not None for url in good)
    for url, reason in bad.items():
        assert cache.get(url) is None
        assert reason in (cache.failed(url) or ""), (url, cache.failed(url))
    # A second refresh asks the server for nothing: cached, or failed lately.
    before = sum(image_server.count(name) for name in ("a.png", "page.png", "evil.svg", "bomb.png", "huge.png"))
    assert run_prefetch(urls, cache) == 0
    assert sum(image_server.count(name) for name in ("a.png", "page.png", "evil.svg", "bomb.png", "huge.png")) == before


def test_fetch_images_blocking_and_stoppable(image_server: FeedServer, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache", 10**8)
    assert fetch_images([image_server.url("/a.png"), image_server.url("/b.jpg")], cache) == 2
    stop = threading.Event()
    stop.set()
    started = time.perf_counter()
    assert fetch_images([image_server.url("/slow/5000/c.gif")], cache, stop=stop) == 0
    assert time.perf_counter() - started < 2.0  # a stopped fetch doesn't wait for a slow server
    assert cache.get(image_server.url("/slow/5000/c.gif")) is None


def noise_jpeg(width: int, height: int, quality: int = 95) -> bytes:
    """A valid JPEG that doesn't compress: about 1.1 bytes a pixel at quality 95."""
    return encode(Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)), "JPEG", quality=quality)


def test_item1_an_image_bigger_than_the_cache_is_not_kept_and_evicts_nothing(tmp_path: Path) -> None:
    """image_cache_mb = 1 and one valid 3.2 MB JPEG used to evict every cached image (and then
    itself). Now an image over half the cap is not kept: nothing is evicted, the failure is
    remembered (a refresh doesn't download it again), and opening its post shows it from memory."""
    from reader.images.cache import TOO_BIG

    root = tmp_path / "served"
    root.mkdir()
    big = noise_jpeg(1800, 1500)
    assert 3_000_000 < len(big) < MAX_IMAGE_BYTES and check_image(big) is None
    (root / "big.jpg").write_bytes(big)
    (root / "over-half.jpg").write_bytes(noise_jpeg(700, 650))  # ~0.55 MB: fits the cap, not half of it
    cache = ImageCache(tmp_path / "cache", 1024 * 1024)
    kept = {f"https://h/{n}.png": bytes([n]) * 150_000 for n in range(3)}
    for url, data in kept.items():
        assert cache.put(url, data)
    with FeedServer(root) as server:
        urls = [server.url("/big.jpg"), server.url("/over-half.jpg")]
        assert run_prefetch(urls, cache) == 0
        assert all(cache.get(url) == data for url, data in kept.items())
        for url in urls:
            assert not cache.has(url) and cache.failed(url) == TOO_BIG
        assert run_prefetch(urls, cache) == 0 and server.count("big.jpg") == 1  # remembered: not again
        # The app opening the post: fetched, handed over to be shown, still not kept.
        shown: dict[str, bytes] = {}
        assert fetch_images(urls, cache, on_image=shown.__setitem__) == 0
        assert shown[urls[0]] == big and server.count("big.jpg") == 2
        assert all(cache.get(url) == data for url, data in kept.items()) and not cache.has(urls[0])
    assert cache.usage() == 450_000


def test_item1_eviction_removes_only_what_is_needed(tmp_path: Path) -> None:
    root = tmp_path / "served"
    root.mkdir()
    new = noise_jpeg(500, 500)  # ~0.27 MB
    (root / "new.jpg").write_bytes(new)
    cache = ImageCache(tmp_path / "cache", 1024 * 1024)
    old = [f"https://h/{n}.png" for n in range(3)]
    for age, url in zip((300, 200, 100), old, strict=True):
        assert cache.put(url, b"x" * 300_000)
        os.utime(cache.path(url), (time.time() - age, time.time() - age))
    with FeedServer(root) as server:
        assert run_prefetch([server.url("/new.jpg")], cache) == 1
        assert cache.get(server.url("/new.jpg")) == new
    assert [cache.has(url) for url in old] == [False, True, True]  # the least recently read one, only
    assert cache.usage() <= cache.cap_bytes


def test_item1_a_cap_of_zero_keeps_no_image(tmp_path: Path) -> None:
    """image_cache_mb = 0: a refresh downloads no image, opening a post fetches its images and
    shows them without keeping them (nothing written, not even failures), and what an earlier
    cap left behind is removed."""
    from reader.articles import ArticleStage

    root = tmp_path / "served"
    root.mkdir()
    (root / "a.png").write_bytes(png())
    (root / "page.png").write_bytes(b"<html>not an image</html>")
    before = ImageCache(tmp_path / "images", 10**8)
    assert before.put("https://h/left.png", png())
    cache = ImageCache(tmp_path / "images", 0)
    assert not cache.keeps and cache.get("https://h/left.png") is None
    assert ArticleStage(None, FetchOptions(), None, images=cache).images is None  # type: ignore[arg-type]
    with FeedServer(root) as server:
        urls = [server.url("/a.png"), server.url("/ctype/image/png/page.png")]
        assert run_prefetch(urls, cache) == 0 and server.count("a.png") == 0
        shown: dict[str, bytes] = {}
        assert fetch_images(urls, cache, on_image=shown.__setitem__) == 0
        assert shown == {urls[0]: png()}
        assert fetch_images(urls, cache, on_image=shown.__setitem__) == 0 and server.count("a.png") == 2
    assert list((tmp_path / "images").iterdir()) == []  # the leftover evicted; no failure files


# --- which text: the article or the feed's -------------------------------------------------------


def article_entry(article: str | None = "<p>The whole article.</p>") -> Entry:
    return Entry(
        id=1, feed_id=1, feed_title="F", feed_url="https://f/feed", title="T", link="https://f/1", author="",
        published=0.0, date_known=True, read=False, starred=False, categories=[],
        content="<p>A teaser…</p><img src='/t.png'>", base_url="https://f/",
        article=article, article_url="https://f/posts/1" if article else None,
    )


def test_render_entry_text_source() -> None:
    entry = article_entry()
    auto = render_entry_text(entry)
    assert "The whole article." in auto and "teaser" not in auto and "Text:       the full article" in auto
    feed = render_entry_text(entry, source="feed")
    assert "A teaser" in feed and "whole article" not in feed and "the feed's text" in feed
    plain = article_entry(None)
    assert "A teaser" in render_entry_text(plain, source="article")  # no article: the feed's text
    assert "Text:" not in render_entry_text(plain)
    with pytest.raises(ValueError):
        render_entry_text(entry, source="both")


def test_build_post_source_and_header() -> None:
    from reader.tui.post_layout import build_post

    entry = article_entry('<p>Article text</p><img src="pic.png" alt="A pic">')
    post = build_post(entry)
    assert post.shown == "article" and "Full article · t: feed text" in post.header.plain
    (_, block), = post.images
    assert block.ref.url == "https://f/posts/pic.png" and block.ref.alt == "A pic"  # against the article's URL
    post = build_post(entry, source="feed")
    assert post.shown == "feed" and "Feed text · t: full article" in post.header.plain
    assert [b.ref.url for _, b in post.images] == ["https://f/t.png"]
    assert "Feed text" not in build_post(article_entry(None)).header.plain


def test_the_preview_of_a_long_post_shows_placeholders_not_marks() -> None:
    from rich.console import Console

    from reader.tui.post_layout import build_post

    words = " ".join(f"word{n}" for n in range(80))
    html = "".join(f"<p>P{n}: {words}</p><img src='https://h/{n}.png' alt='pic {n}'>" for n in range(40))
    entry = article_entry(None)
    entry.content = html
    previews: list[list] = []
    post = build_post(entry, Console(width=100), 80, on_preview=previews.append)
    assert previews, "a long post lays out a first screenful first"
    preview_text = "\n".join(line.text for line in previews[0])
    assert "[image: pic 0]" in preview_text and "\ufffc" not in preview_text
    full = "\n".join(line.text for line in post.lines)
    assert full.count("[image: pic") == 40 and "\ufffc" not in full
    assert len(post.images) == 40


@pytest.mark.parametrize(("mode", "fmt", "colour"), [
    ("CMYK", "JPEG", (0, 100, 200, 0)), ("L", "JPEG", 128), ("I;16", "PNG", 30000), ("1", "PNG", 1),
    ("LA", "PNG", (100, 255)), ("P", "GIF", 3), ("RGBA", "WEBP", (1, 2, 3, 255)),
])
def test_every_common_pixel_mode_decodes(mode: str, fmt: str, colour: object) -> None:
    lines = image_lines(encode(Image.new(mode, (64, 32), colour), fmt), 80)  # type: ignore[arg-type]
    assert lines is not None and len(lines) == 2 and lines[0].cell_length == 8
    assert set(lines[0].text) == {"▀"}  # opaque: both halves coloured


def test_evict_after_every_post_does_not_rescan_a_big_cache(tmp_path: Path) -> None:
    """A refresh evicts after each post's images: with thousands of images cached, a scan
    each time cost seconds. One scan, then only what this process wrote is counted."""
    cache = ImageCache(tmp_path, cap_bytes=10**9)
    for n in range(5000):
        (tmp_path / f"{n:064x}.img").write_bytes(b"x" * 10)
    assert cache.evict() == 0  # the one scan
    started = time.perf_counter()
    for n in range(300):
        cache.put(f"https://h/{n}", b"y" * 10)
        cache.evict()
    assert time.perf_counter() - started < 1.0
    # Over the cap, it scans again and evicts the least recently read.
    small = ImageCache(tmp_path, cap_bytes=100)
    assert small.evict() > 0 and small.usage() <= 100


def test_fifty_thousand_images_stay_placeholders_past_the_cap() -> None:
    """Each image the pane may draw is a block of its own; 50,000 of them were 50,000 blocks to
    lay out (4 s). Past MAX_IMAGES they stay inline placeholders: the blocks are bounded."""
    from rich.console import Console

    from reader.tui.post_layout import build_post

    entry = article_entry(None)
    entry.content = "<img src='https://h/x.png' alt='x'>" * 50_000
    started = time.perf_counter()
    post = build_post(entry, Console(width=100), 80)
    assert len(post.images) == MAX_IMAGES and len(post.blocks) < MAX_IMAGES + 10
    assert time.perf_counter() - started < 10


def test_alt_text_is_cleaned() -> None:
    refs = render_html('<img src="https://h/a.png" alt="\x1b[31mred\x07 \u202eevil\n  text">', None).images
    assert refs[0].alt == "red evil text" and refs[0].placeholder == "[image: red evil text]"


def test_a_failure_with_no_server_answer_is_retried_soon(tmp_path: Path) -> None:
    """Offline (no DNS, refused, timed out) is the normal case for an offline reader: such a
    failure is believed for RETRY_TRANSIENT only, not the hours a 404 or an HTML "image" is."""
    from reader.images.cache import RETRY_TRANSIENT

    cache = ImageCache(tmp_path / "cache", 10**6)
    with socket_closed_port() as port:
        refused = f"http://127.0.0.1:{port}/x.png"
        assert run_prefetch([refused], cache) == 0
    assert "refused" in (cache.failed(refused) or "")
    record = next((tmp_path / "cache").glob("*.fail")).read_text()
    expires = float(record.split(" ", 1)[0])
    assert expires <= time.time() + RETRY_TRANSIENT + 1
    cache.fail(refused, "connection refused", retry_after=0)
    assert cache.failed(refused) is None and cache.wanted(refused)


class socket_closed_port:
    """A loopback port bound but not listening (connections are refused), held for the test so
    no other process can take it meanwhile."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# --- Kitty's graphics protocol (Unicode placeholders) ----------------------------------------------


def test_kitty_only_where_the_environment_says_kitty_or_ghostty_and_never_in_tmux() -> None:
    from reader.images.kitty import supported

    assert supported({"TERM": "xterm-kitty"}) and supported({"KITTY_WINDOW_ID": "3", "TERM": "xterm-256color"})
    assert supported({"TERM": "xterm-ghostty"}) and supported({"TERM_PROGRAM": "ghostty"})
    assert not supported({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"})
    assert not supported({"TERM": "screen-256color", "KITTY_WINDOW_ID": "1"})
    assert not supported({"TERM": "xterm-256color"}) and not supported({})
    assert not supported({"TERM": "xterm-kitty", "READER_IMAGES": "halfblocks"})
    assert supported({"TERM": "xterm-256color", "READER_IMAGES": "kitty"})


def test_kitty_sequences_follow_the_protocol() -> None:
    import base64
    import re as regex

    from reader.images.kitty import CHUNK, DIACRITICS, PLACEHOLDER, delete, payload, placeholder_lines, transmit

    data = payload(Image.effect_mandelbrot((1600, 1200), (-2.0, -1.5, 1.0, 1.5), 60).convert("RGB"))
    sequence = transmit(0x12AB34, data, cols=40, rows=12)
    commands = regex.findall(r"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\", sequence)
    assert "".join(f"\x1b_G{c}{';' + p if p else ''}\x1b\\" for c, p in commands) == sequence  # nothing else
    first, *rest, place = commands
    assert first[0] == f"a=t,f=100,t=d,i={0x12AB34},q=2,m=1"
    assert all(keys == "m=1,q=2" for keys, _ in rest[:-1]) and rest[-1][0] == "m=0,q=2"
    assert all(len(chunk) == CHUNK for _, chunk in [first, *rest[:-1]]) and len(rest[-1][1]) <= CHUNK
    assert place == (f"a=p,U=1,i={0x12AB34},c=40,r=12,q=2", "")
    sent = base64.b64decode("".join(chunk for _, chunk in [first, *rest]))
    assert sent.startswith(b"\x89PNG") and Image.open(io.BytesIO(sent)).size == (800, 600)
    lines = placeholder_lines(0x12AB34, cols=3, rows=2)
    assert [line.cell_length for line in lines] == [3, 3]
    (segment,) = list(lines[1])
    assert segment.style.color == Color.from_rgb(0x12, 0xAB, 0x34)  # the id, in the foreground colour
    cells = [segment.text[i:i + 3] for i in range(0, len(segment.text), 3)]
    assert cells == [PLACEHOLDER + chr(DIACRITICS[1]) + chr(DIACRITICS[c]) for c in range(3)]
    assert delete([5, 6]) == "\x1b_Ga=d,d=I,i=5,q=2\x1b\\\x1b_Ga=d,d=I,i=6,q=2\x1b\\"


def test_kitty_placeholder_cells_survive_cropping() -> None:
    """Textual crops and divides lines at cell boundaries (scrolling, overlapping widgets):
    each placeholder cell must stay whole, its diacritics with it."""
    from reader.images.kitty import PLACEHOLDER, placeholder_lines

    (line,) = placeholder_lines(7, cols=10, rows=1)
    cropped = line.crop(3, 7)
    assert cropped.cell_length == 4 and cropped.text == line.text[9:21]
    assert all(part.text.startswith(PLACEHOLDER) for part in line.divide([2, 5, 10]))


def test_kitty_picture_geometry_matches_half_blocks() -> None:
    data = png(1600, 1200)
    half, kitty = decode(data, 100), decode(data, 100, MAX_ROWS, True)
    assert half is not None and kitty is not None and half.kitty is None and kitty.kitty
    assert kitty.size_at(100) == half.size_at(100) == (100, 38) == (100, len(picture_lines(half, 100)))
    assert kitty.size_at(50) == (50, len(picture_lines(half, 50)))


def test_item3_a_figure_placeholder_is_its_own_line_in_plain_output() -> None:
    """`reader show` printed "[image: article figure 1]Figure 1 caption": html2text passes HTML5's
    blocks (figure, figcaption, section...) through as inline. Each is a paragraph break now."""
    html = ('<figure><img src="https://e.com/f1.png" alt="article figure 1"><figcaption>Figure 1 caption'
            '</figcaption></figure><section>One</section><section>Two</section>')
    text = render_html(html, "https://e.com/").text
    assert text.split("\n\n") == ["[image: article figure 1]", "Figure 1 caption", "One", "Two"]
    entry = article_entry(None)
    entry.content = html
    shown = render_entry_text(entry)
    assert "[image: article figure 1]\n\nFigure 1 caption" in shown


def test_item2_pictures_fit_a_number_of_rows_keeping_their_proportions() -> None:
    picture = decode(encode(Image.new("RGB", (4000, 3000), (9, 9, 9)), "JPEG"), 100)
    assert picture is not None and picture.size_at(100) == (100, 38)
    assert picture.size_at(100, 35) == (93, 35) and len(picture_lines(picture, 100, 35)) == 35
    assert picture.size_at(76, 19) == (51, 19) and {line.cell_length for line in picture_lines(picture, 76, 19)} == {51}
    assert picture.size_at(100, 50) == (100, 38)  # short enough already: unchanged


def test_item4_icons_and_emoji_images_stay_inline_and_are_not_fetched() -> None:
    from reader.render import is_icon

    html = ('<p>An icon <img src="/i.png" width="16" height="16" alt="pdf"> here, a badge '
            '<img src="/b.svg" height="20px" width="90" alt="build">, a smile '
            '<img src="/s.png" class="wp-smiley" alt=":)"> and <img src="/e.png" alt="🙂">.</p>'
            '<img src="/photo.jpg" width="800" height="600" alt="photo">'
            '<img src="/plain.jpg" alt="plain"><img src="/w.png" width="100%" height="40%" alt="wide">')
    rendered = render_html(html, "https://e.com/", image_marks=True)
    first = rendered.text.split("\n\n")[0]
    assert first == "An icon [image: pdf] here, a badge [image: build], a smile [image: :)] and [image: 🙂]."
    assert image_urls(html, "https://e.com/") == ["https://e.com/photo.jpg", "https://e.com/plain.jpg",
                                                  "https://e.com/w.png"]
    assert [ref.url is None for ref in rendered.images] == [True, True, True, True, False, False, False]
    assert not is_icon({"width": "40", "height": "100"}) and not is_icon({"alt": "A"}) and is_icon({"alt": "→"})
    assert not is_icon({"width": "16"}) and is_icon({"width": "48", "height": "48"})  # both needed, or a low height


def test_item5_placeholders_one_after_another_are_apart() -> None:
    """Images that stay placeholders next to each other read as separate ones, in the pane and in reader show."""
    html = "<p><img src='javascript:x' alt='js'><img src='data:image/png;base64,AA' alt='data'> <img alt='c'></p>"
    for marks in (False, True):
        assert render_html(html, image_marks=marks).text == "[image: js] [image: data] [image: c]"
