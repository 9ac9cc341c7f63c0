"""What one image may cost, shared by the cache (which must not import Pillow) and the checks."""

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# 25 megapixels: a 6000 × 4000 camera picture fits; decoding it costs ~75 MB for a PNG.
MAX_PIXELS = 25_000_000
