"""A small threaded loopback feed server for benchmarks (stdlib only).

    python tests/benchmarks/server.py ROOT [--port 0] [--gzip]

Prints its base URL (http://127.0.0.1:PORT) on the first line of stdout, then serves
the files directly under ROOT until stdin closes (so it dies with the benchmark that
started it) or it gets SIGTERM. Run it as its own process: a server thread inside the
benchmark would share a GIL with, and steal time from, the client being measured.

  /NAME            200 with ETag (sha1 of the bytes) and Last-Modified (file mtime);
                   304 when If-None-Match matches, or, without If-None-Match, when
                   If-Modified-Since is not older than the mtime
  /nocache/NAME    200 with the same bytes, no validators, never 304
  /__stats         JSON {"200": n, "304": n, ...} counted since the last
                   /__stats?reset=1 (which also answers with the counts)

Every file is read (and hashed, and with --gzip compressed) into memory before the
URL is printed, so no client pays for the server's first look at a file. With --gzip,
clients that send Accept-Encoding: gzip get the compressed body.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import json
import signal
import socket
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".xml": "application/xml"}


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    gzipped: bytes | None
    etag: str
    mtime: float
    last_modified: str
    ctype: str


class FeedFiles(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # a client may open hundreds of connections at once

    def __init__(self, root: Path, port: int, use_gzip: bool) -> None:
        self.root = root.resolve()
        self.use_gzip = use_gzip
        self.stats: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._bodies: dict[str, Body] = {}
        super().__init__(("127.0.0.1", port), Handler)

    def body(self, name: str) -> Body | None:
        with self.lock:
            found = self._bodies.get(name)
        if found is not None:
            return found
        path = self.root / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return None
        data = path.read_bytes()
        mtime = path.stat().st_mtime
        found = Body(
            data=data,
            gzipped=gzip.compress(data, mtime=0) if self.use_gzip else None,
            etag='"' + hashlib.sha1(data).hexdigest() + '"',
            mtime=mtime,
            last_modified=email.utils.formatdate(mtime, usegmt=True),
            ctype=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        )
        with self.lock:
            self._bodies[name] = found
        return found

    def preload(self) -> int:
        return sum(self.body(p.name) is not None for p in sorted(self.root.iterdir()))

    def count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reader-bench/1"
    timeout = 60

    @property
    def files(self) -> FeedFiles:
        return cast(FeedFiles, self.server)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/__stats":
            with self.files.lock:
                counts = dict(self.files.stats)
                if query == "reset=1":
                    self.files.stats.clear()
            self._send(200, json.dumps(counts).encode(), {"Content-Type": "application/json"}, counted=False)
            return
        nocache = path.startswith("/nocache/")
        name = path.removeprefix("/nocache/" if nocache else "/")
        body = self.files.body(name)
        if body is None:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        if not nocache and self._not_modified(body):
            self._send(304, b"", {"ETag": body.etag, "Last-Modified": body.last_modified})
            return
        headers = {"Content-Type": body.ctype}
        data = body.data
        if body.gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", ""):
            data = body.gzipped
            headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        if not nocache:
            headers |= {"ETag": body.etag, "Last-Modified": body.last_modified}
        self._send(200, data, headers)

    def _not_modified(self, body: Body) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or body.etag in tags or "W/" + body.etag in tags
        ims = self.headers.get("If-Modified-Since")
        if not ims:
            return False
        try:
            return int(body.mtime) <= email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False

    def _send(self, code: int, data: bytes, headers: dict[str, str], counted: bool = True) -> None:
        if counted:
            self.files.count(str(code))
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        if code != 304:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and code != 304:
            try:
                self.wfile.write(data)
            except OSError:
                self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="serve benchmark feeds on 127.0.0.1")
    ap.add_argument("root", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--gzip", action="store_true", help="gzip bodies for clients that accept it")
    args = ap.parse_args(argv)
    server = FeedFiles(args.root, args.port, args.gzip)
    server.preload()
    signal.signal(signal.SIGTERM, _exit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
    finally:
        server.shutdown()
        server.server_close()
    return 0


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    raise SystemExit(main())
