"""The .part being written and what is known about it: choosing its name, locking it, finishing it."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import DownloadError
from .index import index_lock, read_index, remember
from .names import name_for, numbered

MAX_SUFFIX_TRIES = 1000  # "NAME (2)" … : past that something is wrong with the directory
PART = ".part"
META = ".part.meta"


@dataclass
class Part:
    path: Path  # NAME.part
    final: Path  # NAME
    url: str
    validator: str | None = None
    total: int | None = None  # the whole file's size, as the answer that began the .part gave it

    @property
    def meta(self) -> Path:
        return self.final.with_name(self.final.name + META)

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def save_meta(self) -> None:
        tmp = self.meta.with_name(self.meta.name + ".tmp")
        tmp.write_text(json.dumps({"url": self.url, "validator": self.validator, "total": self.total}),
                       encoding="utf-8")
        os.replace(tmp, self.meta)

    def drop_meta(self) -> None:
        with contextlib.suppress(OSError):
            self.meta.unlink()


def _read_meta(meta: Path) -> dict[str, object] | None:
    try:
        with open(meta, "rb") as f:
            raw = f.read(64 * 1024)
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def choose(folder: Path, url: str, name_hint: str, mime_type: str | None = None) -> Path | Part:
    """The finished file for `url` (a Path), or the .part to write: a name no other file holds."""
    files = read_index(folder)
    known = files.get(url)
    if known is not None and (folder / known).is_file():
        return folder / known
    base = known or name_for(url, name_hint, mime_type)
    taken = set(files.values()) - {known}
    for n in range(1, MAX_SUFFIX_TRIES + 1):
        name = numbered(base, n)
        final = folder / name
        part = final.with_name(name + PART)
        if final.exists() or final.is_symlink() or (name in taken and name != known):
            continue  # another file (or another URL's download) has the name: never clobbered
        meta = _read_meta(final.with_name(name + META))
        if part.exists() or meta is not None:
            if meta is None or meta.get("url") != url:
                continue  # another URL's unfinished download
            validator, total = meta.get("validator"), meta.get("total")
            return Part(part, final, url, validator if isinstance(validator, str) else None,
                         total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None)
        return Part(part, final, url)
    raise DownloadError(f"no free file name for {base} in {folder}")


def lock_part(part: Part) -> IO[bytes] | None:
    """Hold the .part's lock for the whole download: a second download of the same URL (the
    app and the CLI at once) must not append to it too."""
    try:
        import fcntl
    except ImportError:
        return None
    handle = open(lock_path(part), "a+b")  # held until the download ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DownloadError(f"{part.final.name} is already being downloaded") from None
    return handle


def lock_path(part: Part) -> Path:
    # Hidden (a leading dot), so it can never be the name of a download: those never start with one.
    return part.final.with_name(f".{part.final.name}.lock")


def discard(part: Part) -> None:
    with contextlib.suppress(OSError):
        part.path.unlink()
    part.drop_meta()


def finish(folder: Path, part: Part, url: str) -> Path:
    """The .part becomes the file; if its name was taken meanwhile, the next free "NAME (n)"."""
    base = part.final.name
    with index_lock(folder):
        taken = set(read_index(folder).values())
        for n in range(1, MAX_SUFFIX_TRIES + 1):
            final = folder / numbered(base, n)
            if final.exists() or final.is_symlink() or (final.name in taken and final != part.final):
                continue
            try:
                os.link(part.path, final)  # fails if the name appeared since: never clobbers
            except FileExistsError:
                continue
            except OSError:
                os.replace(part.path, final)  # a file system without hard links
            else:
                part.path.unlink()
            break
        else:
            raise DownloadError(f"no free file name for {base} in {folder}")
    part.drop_meta()
    remember(folder, url, final.name)
    return final
