"""Images in posts: which to show (urls), downloading and checking them (fetch, validate),
keeping them offline (cache), and drawing them as terminal cells (cells)."""

from reader.images.cache import ImageCache
from reader.images.fetch import ACCEPT, fetch_images, prefetch
from reader.images.urls import image_urls
from reader.images.validate import MAX_IMAGE_BYTES, MAX_PIXELS, ImageError, check_image

__all__ = [
    "ACCEPT", "MAX_IMAGE_BYTES", "MAX_PIXELS", "ImageCache", "ImageError", "check_image", "fetch_images",
    "image_urls", "prefetch",
]
