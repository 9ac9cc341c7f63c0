"""Saving an enclosure (a podcast episode, a video) to the downloads directory, resumably.

The file is written as `NAME.part`, with the validator (a strong ETag, else Last-Modified)
and the URL saved beside it in `NAME.part.meta`. A later call asks for the rest with
`Range: bytes=N-` and `If-Range`: a 206 appends, a 200 (the server ignores ranges, or the
file changed) starts again from zero, a 416 for a .part that is already whole finishes it.
A 206 is not taken on trust: a server may ignore If-Range and still answer with a range of a
new version of the file. Its validator must be the one saved (and it must give one), its
Content-Range must start at the .part's size, and its total must be the size saved from the
first answer; anything else discards the .part and fetches the whole file again (no Range),
so a download never splices the head of one version to the tail of another.
When the body is complete the .part becomes NAME, and the URL → NAME pair is kept in the
directory's index (`.reader-downloads.json`), which is how `downloaded_path` knows an
episode is on disk without the network, and how a different file that happens to have the
same name is never overwritten (the new one becomes "NAME (2)").

Everything the server and the feed send is hostile: the URL's last segment becomes a file
name only after cleaning (no path parts, no control characters or escape sequences, no
leading dot, a length cap), every redirect is checked (http(s) only, at most
MAX_REDIRECTS), and the body is capped (MAX_TOTAL) and checked against Content-Length.

Blocking (httpx's sync client): run it in a worker thread. `stop` is looked at between
reads; a read waits at most `timeout` seconds, and a server that sends almost nothing for
`timeout` seconds (a drip of bytes) is "stalled": the .part stays for the next try.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import httpx

from .fetch import MAX_REDIRECTS, USER_AGENT, describe_error, redirect_target
from .sanitize import clean_line, clean_message, mask_credentials, safe_url

MAX_TOTAL = 4 * 1024**3  # bytes: bigger than any episode; a server can't fill the disk
MAX_NAME_CHARS = 120
# Most file systems allow 255 bytes a name; leave room for " (99)" and ".part.meta".
MAX_NAME_BYTES = 200
MAX_SUFFIX_TRIES = 1000  # "NAME (2)" … : past that something is wrong with the directory
INDEX_NAME = ".reader-downloads.json"
MAX_INDEX_BYTES = 8 * 1024 * 1024  # a hostile or broken index is ignored, not read whole
PART = ".part"
META = ".part.meta"
# The stall rule: fewer than this many bytes in `timeout` seconds counts as no progress.
STALL_BYTES = 1024
FALLBACK_NAME = "enclosure"

Progress = Callable[[int, int | None], None]


class DownloadError(Exception):
    """A download that failed: the message is one clean line. `part`: the .part kept for a resume, if any."""

    part: Path | None = None


class DownloadStopped(DownloadError):
    """`stop` was set: the .part stays, and the next download of the URL resumes it."""


# --- names ----------------------------------------------------------------------------------

# Characters no file name should hold on any system (Windows' reserved set, and the separators).
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def clean_name(text: str) -> str:
    """`text` as a file name fit for any directory, or "" when nothing of it is usable.

    Escape sequences and control characters go first (clean_line), then separators and
    characters file systems refuse become "_"; leading dots go (no hidden files, no "..")
    and trailing dots and spaces (Windows drops them). Capped at MAX_NAME_CHARS characters
    and MAX_NAME_BYTES of UTF-8, keeping a short extension.
    """
    if len(text) > 4 * MAX_NAME_CHARS:
        text = text[: 2 * MAX_NAME_CHARS] + text[-16:]  # bounded work, and the extension at the end kept
    text = unicodedata.normalize("NFC", clean_line(text, 8 * MAX_NAME_CHARS))
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip().rstrip(". ")
    if not text or set(text) <= {"_", " ", "."}:
        return ""
    match = _EXTENSION.search(text)
    extension = match.group(0) if match and match.start() > 0 else ""
    stem = text[: len(text) - len(extension)]
    while len(stem) + len(extension) > MAX_NAME_CHARS or len((stem + extension).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    return stem + extension if stem else ""


# What players and file managers expect for the usual podcast types (mimetypes' own answer
# varies by system: audio/mpeg is ".mp2" or ".mpga" on some).
PREFERRED_EXTENSIONS = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/wav": ".wav",
    "audio/flac": ".flac",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "application/pdf": ".pdf",
}
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def extension_for(mime_type: str | None) -> str:
    """The file extension for a MIME type (".mp3" for audio/mpeg), or "" for none or one unknown.

    The type comes from a feed: only a well-formed type is looked up, and only a short
    alphanumeric extension is given back."""
    if not mime_type:
        return ""
    kind = mime_type.split(";", 1)[0].strip().lower()
    if not _MIME.fullmatch(kind):
        return ""
    import mimetypes

    extension = PREFERRED_EXTENSIONS.get(kind) or mimetypes.guess_extension(kind, strict=False) or ""
    return extension if _EXTENSION.fullmatch(extension) else ""


def name_for(url: str, name_hint: str = "", mime_type: str | None = None) -> str:
    """The file name for `url`: its path's last segment (percent-decoded, cleaned), else the hint, else "enclosure";
    with an extension from `mime_type` when the name has none (a player, a file manager go by it)."""
    try:
        segment = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    name = clean_name(unquote(segment)) or clean_name(name_hint) or FALLBACK_NAME
    extension = extension_for(mime_type)
    if extension and not _has_extension(name, extension):
        name = clean_name(name + extension) or FALLBACK_NAME + extension
    return name


def _has_extension(name: str, wanted: str) -> bool:
    """Whether `name` ends in a real extension: `wanted`, or one the system knows a type of.
    A title's "Episode 1.5" or "v2.0" ends in a dot and digits, which is no extension."""
    match = _EXTENSION.search(name)
    if not match or match.start() == 0:
        return False
    import mimetypes

    found = match.group(0).lower()
    return found == wanted or mimetypes.guess_type("x" + found, strict=False)[0] is not None


def _numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    match = _EXTENSION.search(name)
    if match and match.start() > 0:
        return f"{name[: match.start()]} ({n}){match.group(0)}"
    return f"{name} ({n})"


# --- the directory's index: which URL each finished file came from ---------------------------


def _read_index(folder: Path) -> dict[str, str]:
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
def _index_lock(folder: Path) -> Iterator[None]:
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


def _remember(folder: Path, url: str, name: str) -> None:
    with _index_lock(folder):
        files = _read_index(folder)
        files[url] = name
        tmp = folder / f"{INDEX_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps({"version": 1, "files": files}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / INDEX_NAME)


def downloaded_path(url: str, dest_dir: str | os.PathLike[str]) -> Path | None:
    """The finished download of `url` in `dest_dir`, or None (never downloaded, or deleted since)."""
    folder = Path(dest_dir)
    name = _read_index(folder).get(url)
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
        files = _read_index(folder)
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



# --- the .part and what is known about it ---------------------------------------------------


@dataclass
class _Part:
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


def _choose(folder: Path, url: str, name_hint: str, mime_type: str | None = None) -> Path | _Part:
    """The finished file for `url` (a Path), or the .part to write: a name no other file holds."""
    files = _read_index(folder)
    known = files.get(url)
    if known is not None and (folder / known).is_file():
        return folder / known
    base = known or name_for(url, name_hint, mime_type)
    taken = set(files.values()) - {known}
    for n in range(1, MAX_SUFFIX_TRIES + 1):
        name = _numbered(base, n)
        final = folder / name
        part = final.with_name(name + PART)
        if final.exists() or final.is_symlink() or (name in taken and name != known):
            continue  # another file (or another URL's download) has the name: never clobbered
        meta = _read_meta(final.with_name(name + META))
        if part.exists() or meta is not None:
            if meta is None or meta.get("url") != url:
                continue  # another URL's unfinished download
            validator, total = meta.get("validator"), meta.get("total")
            return _Part(part, final, url, validator if isinstance(validator, str) else None,
                         total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None)
        return _Part(part, final, url)
    raise DownloadError(f"no free file name for {base} in {folder}")


# --- the download ---------------------------------------------------------------------------


def download(
    url: str,
    dest_dir: str | os.PathLike[str],
    *,
    name_hint: str = "",
    mime_type: str | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download `url` into `dest_dir` (made if missing) and return the file's path.

    An existing complete download of the URL is returned at once; an unfinished one is
    resumed. The name is name_for(url, name_hint, mime_type): `mime_type` is the enclosure's.
    `progress(done, total)` hears the bytes on disk so far and the whole size
    when known. Raises DownloadError (one clean line) on failure, DownloadStopped when
    `stop` is set; either way a .part worth resuming stays.
    """
    safe = safe_url(url)
    if safe is None:
        raise DownloadError(f"not an http(s) URL, not downloaded: {clean_message(url, 200)}")
    folder = Path(dest_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot make {clean_line(str(folder), 300)}: {exc.strerror or exc}") from None
    chosen = _choose(folder, safe, name_hint, mime_type)
    if isinstance(chosen, Path):
        return chosen
    part = chosen
    try:
        return _download(folder, part, safe, progress, stop, timeout)
    except DownloadError as exc:
        if part.size() > 0:
            exc.part = part.path
        raise


def _download(folder: Path, part: _Part, safe: str, progress: Progress | None, stop: threading.Event | None,
              timeout: float) -> Path:
    lock = _lock_part(part)
    try:
        with httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            _transfer(client, part, progress, stop, timeout)
        return _finish(folder, part, safe)
    except DownloadError:
        raise
    except httpx.ConnectTimeout:
        raise DownloadError(f"timed out connecting (after {min(timeout, 10.0):g} s)") from None
    except httpx.TimeoutException:
        raise DownloadError(f"stalled: no data for {timeout:g} s") from None
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a host name the IDNA codec refuses, say
        raise DownloadError(clean_message(describe_error(exc))) from None
    except OSError as exc:  # httpx wraps the network's own: this is the disk (full, read-only, gone)
        raise DownloadError(f"cannot write {clean_line(part.path.name, 300)}: {exc.strerror or exc}") from None
    finally:
        if lock is not None:
            # Unlinked while still held: a download starting now makes a fresh lock of its own.
            with contextlib.suppress(OSError):
                _lock_path(part).unlink()
            lock.close()


def _lock_part(part: _Part) -> IO[bytes] | None:
    """Hold the .part's lock for the whole download: a second download of the same URL (the
    app and the CLI at once) must not append to it too."""
    try:
        import fcntl
    except ImportError:
        return None
    handle = open(_lock_path(part), "a+b")  # held until the download ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DownloadError(f"{part.final.name} is already being downloaded") from None
    return handle


def _lock_path(part: _Part) -> Path:
    # Hidden (a leading dot), so it can never be the name of a download: those never start with one.
    return part.final.with_name(f".{part.final.name}.lock")


def _transfer(client: httpx.Client, part: _Part, progress: Progress | None, stop: threading.Event | None,
              timeout: float) -> None:
    offset = part.size()
    if offset and not part.validator:
        offset = 0  # nothing to prove the file is unchanged: a resumed body could splice two versions
    if offset > MAX_TOTAL:
        offset = 0
    for _attempt in range(2):  # a range answered wrongly starts over once, from zero, without a Range
        headers = {"Accept-Encoding": "identity"}  # byte ranges are of the file itself, not a gzip of it
        if offset and part.validator:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = part.validator
        with _get(client, part.url, headers) as response:
            status = response.status_code
            if status == 416 and offset:
                whole = _content_range_total(response.headers.get("content-range", ""))
                if whole == offset and _same_file(part, response.headers, whole, required=False):
                    if progress:
                        progress(offset, offset)
                    return  # the .part already holds the whole file
                offset = _start_over(part)  # past the end of what the server has now, or another file
                continue
            if status >= 400 or status < 200 or status not in (200, 206):
                raise DownloadError(f"HTTP {status} {clean_line(response.reason_phrase, 100)}".rstrip())
            encoded = response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
            if status == 206:
                start, total = _content_range(response.headers.get("content-range", ""))
                # Only the rest of the very file the .part began: asked-for bytes, the same
                # validator (a server ignoring If-Range answers a range of a new version), the same size.
                if start != offset or encoded or (offset and not _same_file(part, response.headers, total,
                                                                                  required=True)):
                    offset = _start_over(part)
                    continue
            else:
                offset = 0  # a 200 is the whole file: the server ignored the range, or the file changed
                length = response.headers.get("content-length", "").strip()
                total = int(length) if length.isascii() and length.isdigit() and not encoded else None
            if total is not None and total > MAX_TOTAL:
                raise DownloadError(f"too big: {total:,} bytes (the cap is {MAX_TOTAL // 1024**3} GB)")
            # The validator of this body, saved before a byte is written, so a broken-off
            # .part can be resumed. A weak ETag can't vouch for bytes (RFC 9110 If-Range):
            # Last-Modified stands in, and with neither the next try starts over.
            part.validator = None if encoded else _range_validator(response.headers)
            part.total = total
            part.save_meta()
            _write_body(response, part, offset, total, encoded, progress, stop, timeout)
            return
    raise DownloadError("the server answered the range request with the wrong bytes twice")


def _same_file(part: _Part, headers: httpx.Headers, total: int | None, *, required: bool) -> bool:
    """Whether an answer is about the file the .part holds the head of.

    Its validator of the saved kind (a strong ETag, or Last-Modified) must equal the saved one;
    `required`: an answer with none doesn't count (a 206 must prove itself; a 416 rarely has
    one). A total, when both the answer and the .part know one, must agree.
    """
    saved = part.validator
    if saved is None:
        return False
    if saved.startswith('"'):
        etag = headers.get("etag", "").strip()
        theirs = etag if etag and not etag.startswith("W/") else ""
    else:
        theirs = headers.get("last-modified", "").strip()
    if theirs != saved and (theirs or required):
        return False
    return total is None or part.total is None or total == part.total


def _start_over(part: _Part) -> int:
    """Drop the .part and what was saved about it: the next request asks for the whole file."""
    _discard(part)
    part.validator, part.total = None, None
    return 0


@contextlib.contextmanager
def _get(client: httpx.Client, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
    """GET with redirects followed by hand, each target checked: http(s) only, at most MAX_REDIRECTS."""
    for _hop in range(MAX_REDIRECTS + 1):
        if safe_url(url) is None:
            raise DownloadError(f"redirect to a non-http(s) or malformed URL refused: {clean_message(url, 100)}")
        try:
            response = client.send(client.build_request("GET", url, headers=headers), stream=True)
        except httpx.InvalidURL as exc:
            raise DownloadError(f"invalid URL refused ({clean_message(str(exc), 100)})") from None
        except httpx.RemoteProtocolError as exc:
            if "location header" not in str(exc).lower():
                raise
            raise DownloadError("redirect to an invalid URL refused") from None
        if response.status_code in (301, 302, 303, 307, 308):
            target = redirect_target(url, response)
            response.close()
            if target is None:
                raise DownloadError(f"HTTP {response.status_code} redirect without a Location")
            url = target
            continue
        try:
            yield response
        finally:
            response.close()
        return
    raise DownloadError(f"too many redirects (more than {MAX_REDIRECTS})")


def _write_body(response: httpx.Response, part: _Part, offset: int, total: int | None, encoded: bool,
                progress: Progress | None, stop: threading.Event | None, timeout: float) -> None:
    done = offset
    window_start, window_bytes = time.monotonic(), 0
    # Each network read as it comes (no chunk_size): a drip of bytes must reach the stall check.
    chunks = response.iter_bytes() if encoded else response.iter_raw()
    # Unbuffered: each network read goes to the file as it arrives, so what the progress says
    # is on disk is (a stall, a quit, a crash lose nothing already counted, and tests can watch it).
    with open(part.path, "r+b" if offset else "wb", buffering=0) as f:
        f.seek(offset)
        f.truncate()
        if progress:
            progress(done, total)
        for chunk in chunks:
            if stop is not None and stop.is_set():
                raise DownloadStopped("stopped")
            f.write(chunk)
            done += len(chunk)
            if done > MAX_TOTAL:
                f.close()
                _discard(part)
                raise DownloadError(f"too big: more than {MAX_TOTAL // 1024**3} GB, not kept")
            if total is not None and done > total:
                raise DownloadError(f"the server sent more than the {total:,} bytes it announced")
            if progress:
                progress(done, total)
            now = time.monotonic()
            window_bytes += len(chunk)
            if now - window_start >= timeout:
                if window_bytes < STALL_BYTES:
                    raise DownloadError(f"stalled: almost no data for {timeout:g} s")
                window_start, window_bytes = now, 0
        f.flush()
        os.fsync(f.fileno())
    if total is not None and done < total:
        raise DownloadError(f"incomplete: the server sent {done:,} of {total:,} bytes")


def _discard(part: _Part) -> None:
    with contextlib.suppress(OSError):
        part.path.unlink()
    part.drop_meta()


def _finish(folder: Path, part: _Part, url: str) -> Path:
    """The .part becomes the file; if its name was taken meanwhile, the next free "NAME (n)"."""
    base = part.final.name
    with _index_lock(folder):
        taken = set(_read_index(folder).values())
        for n in range(1, MAX_SUFFIX_TRIES + 1):
            final = folder / _numbered(base, n)
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
    _remember(folder, url, final.name)
    return final


_CONTENT_RANGE = re.compile(r"bytes\s+(\d{1,15})-(\d{1,15})/(\d{1,15}|\*)", re.I)
_UNSATISFIED = re.compile(r"bytes\s+\*/(\d{1,15})", re.I)


def _content_range(value: str) -> tuple[int | None, int | None]:
    """(first byte, whole size) of a 206's Content-Range; (None, None) when it is not one."""
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if not match:
        return None, None
    first, last = int(match.group(1)), int(match.group(2))
    if last < first:
        return None, None
    return first, None if match.group(3) == "*" else int(match.group(3))


def _content_range_total(value: str) -> int | None:
    match = _UNSATISFIED.fullmatch(value.strip())
    return int(match.group(1)) if match else None


_VALIDATOR = re.compile(r"[\x20-\x7e]{1,512}")


def _range_validator(headers: httpx.Headers) -> str | None:
    etag = headers.get("etag", "").strip()
    if etag and not etag.startswith("W/") and _VALIDATOR.fullmatch(etag):
        return etag
    modified = headers.get("last-modified", "").strip()
    return modified if modified and _VALIDATOR.fullmatch(modified) else None


def shown(path: Path) -> str:
    """A path fit to print: the file name came from a stranger's URL (cleaned already, but still)."""
    return mask_credentials(clean_line(str(path), 1000))
