"""The HTTP transfer: a GET with checked redirects, Range/If-Range for a resume, the body to the .part."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from ..fetch import MAX_REDIRECTS, USER_AGENT, redirect_target
from ..net_errors import describe_error
from ..sanitize import clean_line, clean_message, media_type, safe_url
from .errors import DownloadError, DownloadStopped, Progress
from .part import Part, choose, discard, finish, lock_part, lock_path

MAX_TOTAL = 4 * 1024**3  # bytes: bigger than any episode; a server can't fill the disk
# The stall rule: fewer than this many bytes in `timeout` seconds counts as no progress.
STALL_BYTES = 1024

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
    chosen = choose(folder, safe, name_hint, mime_type)
    if isinstance(chosen, Path):
        return chosen
    part = chosen
    try:
        return _download(folder, part, safe, progress, stop, timeout, web_page_ok=_is_web_page(mime_type))
    except DownloadError as exc:
        if part.size() > 0:
            exc.part = part.path
        raise


def _download(folder: Path, part: Part, safe: str, progress: Progress | None, stop: threading.Event | None,
              timeout: float, *, web_page_ok: bool = False) -> Path:
    lock = lock_part(part)
    try:
        with httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            _transfer(client, part, progress, stop, timeout, web_page_ok=web_page_ok)
        return finish(folder, part, safe)
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
                lock_path(part).unlink()
            lock.close()


_WEB_PAGES = frozenset({"text/html", "application/xhtml+xml"})


def _is_web_page(content_type: str | None) -> bool:
    return media_type(content_type) in _WEB_PAGES


def _transfer(client: httpx.Client, part: Part, progress: Progress | None, stop: threading.Event | None,
              timeout: float, *, web_page_ok: bool = False) -> None:
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
            if not web_page_ok and _is_web_page(response.headers.get("content-type")):
                # A login page, a "not found" page served with 200, a directory listing: saving it
                # as episode.mp3 would only fail later, in the player, with a worse message.
                raise DownloadError("the server sent a web page (text/html), not the file: nothing saved")
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


def _same_file(part: Part, headers: httpx.Headers, total: int | None, *, required: bool) -> bool:
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


def _start_over(part: Part) -> int:
    """Drop the .part and what was saved about it: the next request asks for the whole file."""
    discard(part)
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
            target = redirect_target(url, response.headers)
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


def _write_body(response: httpx.Response, part: Part, offset: int, total: int | None, encoded: bool,
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
                discard(part)
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
