"""The images of a post: the same <img> the renderer shows, in the same order."""

from __future__ import annotations

from html.parser import HTMLParser

from reader.render import MAX_HTML_CHARS, ImageList, _bound_whitespace, image_source


class _ImageScanner(HTMLParser):
    """Only <img> start tags: the renderer's converter is an HTMLParser too, so both see the
    same tags (script and style bodies are text to both) with the same attributes (dict(attrs):
    the last of a repeated attribute wins in both)."""

    def __init__(self, base_url: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.images = ImageList()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.add(image_source(dict(attrs), self.base_url), "")


def image_urls(html: str, base_url: str | None) -> list[str]:
    """The distinct http(s) image URLs of a post, in document order, at most MAX_IMAGES
    (render.ImageList decides for both this and the renderer). Never raises."""
    scanner = _ImageScanner(base_url or None)
    try:
        scanner.feed(_bound_whitespace(html[:MAX_HTML_CHARS]))
        scanner.close()
    except Exception:  # a parser hiccup on hostile markup: the images found so far
        pass
    return list(scanner.images.urls)
