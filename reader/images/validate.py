"""Is this a real raster image we may decode? Decided by its bytes, never its name or type.

Only PNG, JPEG, GIF and WebP, recognised by their magic bytes: an HTML error page served as
an image, an SVG (which may carry script) or anything else is refused without being parsed.
The dimensions are read from the header (Pillow's `Image.open` is lazy: it reads the header,
not the pixels) and checked against MAX_PIXELS before anything is decoded, so a PNG that
claims 100,000 × 100,000 pixels costs nothing.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from reader.images.limits import MAX_IMAGE_BYTES, MAX_PIXELS

# Pillow's own bomb check, as a second line (it warns above this and raises above twice it).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


class ImageError(Exception):
    """Why an image can't be shown: one line, for a failure record."""


def sniff(data: bytes) -> str | None:
    """The format by magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def open_checked(data: bytes) -> Image.Image:
    """The image, opened lazily (header only) after every check. Raises ImageError."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"image larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind is None:
        head = data[:256].lstrip().lower()
        if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
            raise ImageError("SVG images are not shown")
        if head.startswith((b"<!doctype", b"<html", b"<")):
            raise ImageError("not an image (an HTML page)")
        raise ImageError("not a PNG, JPEG, GIF or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own check on the header's size, before any pixel is read.
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels)") from exc
    except Exception as exc:  # Pillow raises many kinds on a bad header
        raise ImageError(f"unreadable {kind} header") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError("image with no pixels")
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageError(f"image too large ({width} × {height} pixels)")
    return image


def check_image(data: bytes) -> str | None:
    """None if `data` may be cached and shown, else why not (one line)."""
    try:
        open_checked(data).close()
    except ImageError as exc:
        return str(exc)
    return None
