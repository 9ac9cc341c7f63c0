"""The image cache: one file per image URL, shared by every process using the data dir.

Files are named by the sha256 of the URL (`<hex>.img`), so a URL never becomes a path.
Writes go to a unique temporary name and are renamed into place (atomic on POSIX), so a
reader in another process sees the old file, the new one or none, never half of one. A
failed download is remembered in `<hex>.fail` (its reason, its time) so the next refresh
doesn't try it again before RETRY_FAILED. Reading an image touches it: the least recently
read image has the oldest mtime and is the first to go when the cache is over its cap.
Every file operation tolerates another process having just removed or replaced the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from reader.images.limits import MAX_IMAGE_BYTES
from reader.sanitize import clean_line

if TYPE_CHECKING:
    from reader.config import Settings

# A failed image is tried again after this long (a server that was down, a 404 fixed later).
RETRY_FAILED = 6 * 3600
# ...and after this long when no server answered at all (no network, a DNS failure, a
# timeout): offline is the normal case for a reader that works offline, and a post opened
# on the train must not keep its images from the next refresh at home for hours.
RETRY_TRANSIENT = 600
# Temporary files older than this were left by a process that died mid-write.
STALE_TMP = 3600
# The most of the cap one image may take. Storing an image evicts the least recently read ones
# until the cache is within its cap: an image as big as the cap would sweep out every other one
# (and then itself). At half, keeping one never costs more than half of what is cached, and a
# small cap (1 MB) still keeps the usual web image (100-400 KB). Bigger ones aren't kept: see TOO_BIG.
MAX_SHARE = 0.5
# The failure recorded for an image the cap can't hold (so a refresh doesn't download it every
# time); the app still fetches it when its post is opened and shows it without keeping it.
TOO_BIG = "larger than the image cache (image_cache_mb)"


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class ImageCache:
    """`cap_bytes` 0 (image_cache_mb = 0): images are never kept. Nothing is written (not even
    failures), `get` finds nothing, a refresh downloads none (prefetch), and the app fetches a
    post's images when it is opened and shows them from memory (fetch_images)."""

    def __init__(self, root: Path, cap_bytes: int) -> None:
        self.root = Path(root)
        self.cap_bytes = max(int(cap_bytes), 0)
        # The cache's size as of the last scan plus what this object wrote since: a refresh
        # calls evict() after every post's images, and a scan of thousands of files each
        # time would cost seconds. (Another process's writes are its own to evict.)
        self._usage: int | None = None
        self._lock = threading.Lock()

    def path(self, url: str) -> Path:
        return self.root / f"{_key(url)}.img"

    def _fail_path(self, url: str) -> Path:
        return self.root / f"{_key(url)}.fail"

    @property
    def keeps(self) -> bool:
        """Whether images are kept at all (a cap above 0)."""
        return self.cap_bytes > 0

    def fits(self, size: int) -> bool:
        """Whether an image of `size` bytes may be kept (at most MAX_SHARE of the cap)."""
        return self.keeps and size <= self.cap_bytes * MAX_SHARE

    def has(self, url: str) -> bool:
        return self.keeps and self.path(url).is_file()

    def get(self, url: str) -> bytes | None:
        """The image's bytes, or None; marks it as just read (its mtime) for eviction."""
        if not self.keeps:
            return None  # (files left from before the cap was 0 are evicted by the next fetch)
        path = self.path(url)
        try:
            with path.open("rb") as file:
                data = file.read(MAX_IMAGE_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_IMAGE_BYTES:
            return None  # not written by us
        with contextlib.suppress(OSError):
            os.utime(path)
        return data

    def _write(self, final: Path, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            with temp.open("wb") as file:
                file.write(data)
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise

    def put(self, url: str, data: bytes) -> bool:
        """Store a checked image. False if it doesn't fit (see fits) or the disk refused (full,
        read-only): not an error for callers."""
        if not self.fits(len(data)):
            return False
        try:
            self._write(self.path(url), data)
        except OSError:
            return False
        with self._lock:
            if self._usage is not None:
                self._usage += len(data)
        with contextlib.suppress(OSError):
            self._fail_path(url).unlink()
        return True

    def drop(self, url: str) -> None:
        """Forget the cached copy of `url` (its bytes turned out corrupt), remembering no failure:
        the URL is wanted again, and the next fetch replaces the copy."""
        with contextlib.suppress(OSError):
            self.path(url).unlink()

    def fail(self, url: str, reason: str, retry_after: float = RETRY_FAILED) -> None:
        """Remember that `url` failed (and drop any copy of it): not tried again for `retry_after`
        seconds (at most RETRY_FAILED). Nothing is written when images aren't kept."""
        with contextlib.suppress(OSError):
            self.path(url).unlink()
        if not self.keeps:
            return
        expires = time.time() + min(max(retry_after, 0), RETRY_FAILED)
        record = f"{int(expires)} {clean_line(reason, 300)}"
        with contextlib.suppress(OSError):
            self._write(self._fail_path(url), record.encode("utf-8"))

    def failed(self, url: str) -> str | None:
        """Why `url` failed, while that is still to be believed (see fail), else None."""
        path = self._fail_path(url)
        now = time.time()
        try:
            if path.stat().st_mtime < now - RETRY_FAILED:
                return None
            record = path.read_bytes()[:400].decode("utf-8", "replace")
        except OSError:
            return None
        expires, _, reason = record.partition(" ")
        try:
            if float(expires) <= now:
                return None
        except ValueError:
            return None  # not ours
        return reason or "failed"

    def wanted(self, url: str, to_show: bool = False) -> bool:
        """Worth downloading: not cached, and not failed recently. `to_show` (the app opening a
        post): an image too big to keep is worth downloading to show."""
        if self.has(url):
            return False
        reason = self.failed(url)
        return reason is None or (to_show and reason == TOO_BIG)

    def usage(self) -> int:
        return sum(size for _, size, _ in self._images())

    def _images(self) -> list[tuple[float, int, Path]]:
        found: list[tuple[float, int, Path]] = []
        now = time.time()
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return found
        for entry in entries:
            try:
                info = entry.stat()
            except OSError:
                continue  # removed by another process just now
            if entry.name.endswith(".img"):
                found.append((info.st_mtime, info.st_size, Path(entry.path)))
            elif (entry.name.endswith(".tmp") and info.st_mtime < now - STALE_TMP) or (
                entry.name.endswith(".fail") and info.st_mtime < now - RETRY_FAILED
            ):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        return found

    def evict(self) -> int:
        """Remove the least recently read images until the cache is within its cap. Returns
        the bytes freed. Another process evicting at the same time only makes it free a bit more."""
        with self._lock:
            if self._usage is not None and self._usage <= self.cap_bytes:
                return 0
            images = self._images()
            total = sum(size for _, size, _ in images)
            freed = 0
            images.sort(key=lambda item: item[0])
            for _, size, path in images:
                if total - freed <= self.cap_bytes:
                    break
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                freed += size
            self._usage = total - freed
            return freed


def image_cache(settings: Settings, data_dir: Path) -> ImageCache | None:
    """The image cache of the cache in `data_dir` (its "images" dir), or None with `images = false`.

    The one place the CLI, the refresh and the app get it from, so they share one cache and cap.
    """
    if not settings.images:
        return None
    return ImageCache(Path(data_dir) / "images", int(settings.image_cache_mb * 1024 * 1024))
