"""What storing a post costs in CPU: its compressed body, its hash and its search text.

Kept apart from the store so a parse worker (another process) can do it and hand the
results over; the store only writes them.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from typing import Any

from .models import ParsedEntry, ParsedFeed
from .sanitize import strip_tags

# Text indexed per post: enough for any real post, bounded for a 4 MB one.
INDEX_TEXT_LIMIT = 200_000


# Posts (and articles) are stored zstd-compressed: on our feeds zstd level 1 compresses 3x as fast as
# zlib level 1 and decompresses twice as fast, to a file no bigger (ratio 0.333 against 0.341 on the
# benchmark's posts, 0.387 against 0.391 on ../shared/corpus'). Caches written before hold zlib
# blobs: both are read, told apart by zstd's magic number.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@functools.cache
def _zstd() -> tuple[Any, Any]:
    import zstandard  # here: a listing never decompresses, and `reader entries` must start fast

    return zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor()


def compress(text: str) -> bytes:
    return _zstd()[0].compress(text.encode("utf-8"))


def decompress(blob: bytes | None) -> str:
    """A stored post's text. A damaged blob reads as "" (the post shows empty until its feed
    rewrites it) rather than failing the listing, search or post that touched it."""
    if not blob:
        return ""
    try:
        if blob[:4] == _ZSTD_MAGIC:
            # Streamed, not one call: the frame's claimed size is never trusted for an allocation.
            data = _zstd()[1].decompressobj().decompress(blob)
        else:
            data = zlib.decompress(blob)
    except Exception:  # zlib.error, zstandard.ZstdError: a damaged cache must not crash anything
        return ""
    return data.decode("utf-8", "replace")


def index_text(html: str) -> str:
    """The body text the search index holds. Deletes recompute it, so keep it deterministic."""
    return strip_tags(html[:INDEX_TEXT_LIMIT])


@dataclass(slots=True)
class EncodedEntry:
    """The CPU-heavy part of storing an entry, computable in another process."""

    hash: str
    blob: bytes
    index_text: str


def encode_entries(parsed: ParsedFeed) -> list[EncodedEntry]:
    """Encode every entry, dropping the now-redundant content so less crosses a process pipe."""
    codes = []
    for entry in parsed.entries:
        codes.append(EncodedEntry(entry_hash(entry), compress(entry.content), index_text(entry.content)))
        entry.content = ""
    return codes


def entry_hash(entry: ParsedEntry) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    parts = (entry.title, entry.link or "", entry.author, repr(entry.published), "\x1f".join(entry.categories),
             entry.content)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    # Only when there are any, so the hash of every post without one stays what it was.
    for enclosure in entry.enclosures:
        h.update(repr((enclosure.url, enclosure.type, enclosure.length, enclosure.duration)).encode())
    return h.hexdigest()
