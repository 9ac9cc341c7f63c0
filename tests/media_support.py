"""A loopback file server for the enclosure tests: Range, If-Range, ETag, and the ways servers break.

`MediaFile` is a FeedServer route (tests/feedserver.py) answering one path with `body`:
- `Range: bytes=N-` gets a 206 with Content-Range, unless `ranges` is off (then a 200, as
  servers without range support answer); `If-Range` not matching the ETag gets the whole
  file (200), as RFC 9110 says, unless `if_range` is off (a server that ignores If-Range
  and answers a range of whatever it has now, with its new validator);
  a range past the end gets a 416 with `bytes */SIZE`;
- `drop_after`: the next responses send the full headers, that many body bytes, then close
  (a connection broken mid-body), once each value in the list;
- `stall_after`: send that many body bytes, then nothing (until the server stops).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from feedserver import FeedServer

BODY = bytes(range(256)) * 4096  # 1 MiB, every byte value, so a splice in the wrong place shows


@pytest.fixture(name="server")
def media_server(tmp_path: Path) -> Iterator[FeedServer]:
    """Fixture `server`: a FeedServer of its own over an empty directory, the media tests route their
    paths on it. A test module imports `media_server` to use it (named apart so the test's `server`
    argument does not shadow the import)."""
    root = tmp_path / "www"
    root.mkdir()
    with FeedServer(root) as s:
        yield s


@dataclass
class MediaFile:
    body: bytes
    ranges: bool = True
    if_range: bool = True  # off: If-Range is ignored, a range of the current body is sent regardless
    etag: str | None = None  # None: the body's sha1, quoted; "" for none
    last_modified: str | None = None
    content_type: str = "audio/mpeg"
    drop_after: list[int] = field(default_factory=list)
    stall_after: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    ranges_seen: list[str | None] = field(default_factory=list)
    if_range_seen: list[str | None] = field(default_factory=list)

    def current_etag(self) -> str:
        if self.etag is not None:
            return self.etag
        return '"' + hashlib.sha1(self.body).hexdigest() + '"'

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        wanted = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        self.ranges_seen.append(wanted)
        self.if_range_seen.append(if_range)
        body, start, status = self.body, 0, 200
        etag = self.current_etag()
        honoured = if_range is None or not self.if_range or if_range in (etag, self.last_modified)
        if wanted and self.ranges and honoured:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                request.send_response(416)
                request.send_header("Content-Range", f"bytes */{len(body)}")
                request.send_header("Content-Length", "0")
                request.end_headers()
                return
            status = 206
        part = body[start:]
        request.send_response(status)
        request.send_header("Content-Type", self.content_type)
        request.send_header("Content-Length", str(len(part)))
        if etag:
            request.send_header("ETag", etag)
        if self.last_modified:
            request.send_header("Last-Modified", self.last_modified)
        if self.ranges:
            request.send_header("Accept-Ranges", "bytes")
        if status == 206:
            request.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        request.end_headers()
        if self.drop_after:
            cut = self.drop_after.pop(0)
            request.wfile.write(part[:cut])
            request.wfile.flush()
            request.close_connection = True
            return
        if self.stall_after is not None:
            request.wfile.write(part[: self.stall_after])
            request.wfile.flush()
            self.stop.wait(30)
            request.close_connection = True
            return
        request.wfile.write(part)


def redirect(location: str, code: int = 302):  # type: ignore[no-untyped-def]
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(code)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler
