"""The directory's index: which URL each finished file came from (`.reader-downloads.json`).

It is how `downloaded_path` knows an episode is on disk without the network, and how a
different file that happens to have the same name is never overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .names import clean_name

INDEX_NAME = ".reader-downloads.json"
MAX_INDEX_BYTES = 8 * 1024 * 1024  # a hostile or broken index is ignored, not read whole


def read_index(folder: Path) -> dict[str, str]:
    try:
        with open(folder / INDEX_NAME, "rb") as f:
            raw = f.read(MAX_INDEX_BYTES + 1)
    except OSError:
        return {}
    if len(raw) > MAX_INDEX_BYTES:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    # Only plain names in this directory count: an index edited to say "../x" points nowhere.
    return {u: n for u, n in files.items() if isinstance(u, str) and isinstance(n, str) and clean_name(n) == n}


@contextlib.contextmanager
def index_lock(folder: Path) -> Iterator[None]:
    """The index is read, changed and written under a lock: the app and `reader download` may finish at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a lost entry only means a "(2)" copy later
        yield
        return
    with open(folder / (INDEX_NAME + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remember(folder: Path, url: str, name: str) -> None:
    with index_lock(folder):
        files = read_index(folder)
        files[url] = name
        tmp = folder / f"{INDEX_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps({"version": 1, "files": files}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / INDEX_NAME)


def downloaded_path(url: str, dest_dir: str | os.PathLike[str]) -> Path | None:
    """The finished download of `url` in `dest_dir`, or None (never downloaded, or deleted since)."""
    folder = Path(dest_dir)
    name = read_index(folder).get(url)
    if name is None:
        return None
    path = folder / name
    return path if path.is_file() else None


_index_cache: dict[Path, tuple[tuple[int, int, int], dict[str, str]]] = {}
_index_cache_lock = threading.Lock()
INDEX_CACHE_DIRS = 8  # folders whose parsed index is kept (the downloads dir, a few --to dirs)
MAX_HEADER_URLS = 50  # enclosures of one post looked up: a post can't cost a stat per thousand


def downloaded_paths(urls: list[str], dest_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """The finished downloads among `urls` in `dest_dir` (URL → file), for a post's header.

    Cheap enough for a UI thread: the index is parsed once and kept until it changes (a stat
    tells), then one stat per URL found; nothing at all when the directory has no index."""
    folder = Path(dest_dir)
    try:
        info = (folder / INDEX_NAME).stat()
    except OSError:
        return {}
    stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
    with _index_cache_lock:
        cached = _index_cache.get(folder)
    if cached is None or cached[0] != stamp:
        files = read_index(folder)
        with _index_cache_lock:
            if len(_index_cache) >= INDEX_CACHE_DIRS:
                _index_cache.clear()
            _index_cache[folder] = (stamp, files)
    else:
        files = cached[1]
    found: dict[str, Path] = {}
    for url in urls[:MAX_HEADER_URLS]:
        name = files.get(url)
        if name is not None and (folder / name).is_file():
            found[url] = folder / name
    return found
