"""Reading a response body the way servers really send it: inflated here in bounded steps, capped.

httpx would inflate each chunk whole, ~1,000 times its size for a gzip bomb, before any cap
could be checked; so bodies are read raw and inflated here, every step bounded by the cap.
Used by the feed fetcher (fetch.py) and the sync client (sync/client.py) alike.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

_GZIP_MAGIC = b"\x1f\x8b"
MAX_GZIP_MEMBERS = 4096


class BodyError(Exception):
    """A body that can't be read; str() says why in a few words."""


class UnsupportedEncoding(BodyError):
    def __init__(self, encoding: str) -> None:
        super().__init__(f"unsupported Content-Encoding: {encoding[:40]}")
        self.encoding = encoding[:40]


class BodyTooLarge(BodyError):
    def __init__(self, cap: int) -> None:
        super().__init__(f"response larger than {cap // (1024 * 1024)} MB, gave up")


class CorruptBody(BodyError):
    pass


class TooManyMembers(CorruptBody):
    pass


class BodyReader:
    """One response body: fed raw chunks, gives the whole body, inflated (gzip, deflate) and capped."""

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        # A list is allowed ("gzip, identity"); identity means nothing was done.
        codings = [c.strip() for c in (content_encoding or "").lower().split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        self.encoding = codings[0] if len(codings) == 1 else ", ".join(codings)
        if self.encoding not in ("", "gzip", "x-gzip", "deflate"):
            raise UnsupportedEncoding(self.encoding)
        self.cap = cap
        self._inflater = Inflater(cap) if self.encoding else None
        self._chunks: list[bytes] = []
        self._total = 0

    def feed(self, raw: bytes) -> None:
        if self._inflater is None:
            self._add(raw)
            return
        try:
            for data in self._inflater.feed(raw):
                self._add(data)
        except zlib.error as exc:
            raise CorruptBody(f"corrupt {self.encoding} body ({exc})") from exc

    def finish(self) -> bytes:
        if self._inflater is not None:
            try:
                for data in self._inflater.finish():
                    self._add(data)
            except zlib.error as exc:
                raise CorruptBody(f"corrupt {self.encoding} body ({exc})") from exc
        return b"".join(self._chunks)

    def _add(self, data: bytes) -> None:
        self._total += len(data)
        if self._total > self.cap:
            raise BodyTooLarge(self.cap)
        self._chunks.append(data)


class Inflater:
    """gzip/deflate bodies as servers really send them, inflated in steps of at most `cap` bytes.

    - gzip may have several members back to back (concatenated files): each is read in
      turn, where one decompressobj alone would stop silently after the first.
    - "deflate" is meant to be zlib-wrapped, but many servers send raw deflate: when the
      first bytes are not a zlib (or gzip) header, the body is read as raw deflate.
    Every decompress call is bounded by `cap`, so a bomb stops at the cap.
    """

    AUTO = 47  # zlib or gzip header, auto-detected
    RAW = -15
    # Input kept while the format is still undecided; a header is a few bytes, so this is plenty.
    SNIFF = 64 * 1024

    def __init__(self, cap: int) -> None:
        self.cap = cap + 1
        self._wbits = self.AUTO
        self._obj = zlib.decompressobj(self._wbits)
        self._decided = False
        self._sniffed = b""
        self._between = b""  # what followed a finished member, until we know if another starts
        self._done = False
        self._members = 1

    def feed(self, raw: bytes) -> Iterator[bytes]:
        if self._done or not raw:
            return
        if self._obj.eof:
            raw = self._next_member(raw)
        elif not self._decided:
            self._sniffed += raw
            if len(self._sniffed) > self.SNIFF:
                self._decided = True
        yield from self._inflate(raw)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        # A loop, not recursion from member to member: a body of 1,500 tiny members is valid.
        while data:
            try:
                out = self._obj.decompress(data, self.cap)
            except zlib.error:
                if self._members > 1:
                    # Bytes after complete members that only looked like another one
                    # (`\x1f\x8b` then junk): ignored like other trailing junk.
                    self._done = True
                    return
                if self._decided or self._wbits == self.RAW:
                    raise
                # No zlib/gzip header: raw deflate. Start again on everything seen so far.
                self._wbits, self._decided = self.RAW, True
                self._obj = zlib.decompressobj(self.RAW)
                data, self._sniffed = self._sniffed, b""
                continue
            if out:
                if not self._decided:
                    self._decided, self._sniffed = True, b""
                yield out
            if self._obj.eof:
                data = self._next_member(self._obj.unused_data)
            else:
                data = self._obj.unconsumed_tail

    def _next_member(self, raw: bytes) -> bytes:
        """After a finished stream: the bytes another gzip member starts with, or b"" (the
        rest is padding or junk to ignore, or not enough has arrived to tell)."""
        if not raw:
            return b""
        if self._wbits == self.RAW:
            self._done = True
            return b""
        self._between += raw
        rest = self._between.lstrip(b"\x00")  # some servers pad with zeros, as gzip(1) tolerates
        if len(rest) < 2:
            self._between = rest
            return b""
        self._between = b""
        if rest[:2] != _GZIP_MAGIC and not _is_zlib_header(rest[:2]):
            self._done = True  # trailing junk after a complete body: ignored, as gzip(1) and browsers do
            return b""
        self._members += 1
        if self._members > MAX_GZIP_MEMBERS:
            # Each member boundary copies what follows it in the chunk (zlib's unused_data):
            # past a few thousand members that is quadratic, and no server sends so many.
            raise TooManyMembers(f"a gzip body of more than {MAX_GZIP_MEMBERS:,} members, gave up")
        self._obj = zlib.decompressobj(self.AUTO)
        self._decided = True
        return rest

    def finish(self) -> Iterator[bytes]:
        if self._done or self._obj.eof:
            return
        data = self._obj.flush(self.cap)  # what the last input still held back; bounded like the rest
        if data:
            yield data


def _is_zlib_header(head: bytes) -> bool:
    """A zlib stream's first two bytes: deflate, a window size, and a check that they are."""
    return len(head) == 2 and head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0
