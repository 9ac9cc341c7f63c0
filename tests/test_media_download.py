"""Issue 10, enclosures: resumable downloads (reader/download.py) against a real loopback server."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from feedserver import FeedServer
from media_support import BODY, MediaFile, redirect
from media_support import media_server as media_server  # fixture `server` (the alias: imported for pytest)

from reader.download import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    DownloadError,
    DownloadStopped,
    download,
    downloaded_path,
    name_for,
)
from reader.models import Enclosure


def broken_off(server: FeedServer, tmp_path: Path, media: MediaFile, match: str | None = None) -> str:
    """`media` served at /ep.mp3 and a first download of it into `tmp_path` broken off (by its
    drop_after): the URL, for the test to download again."""
    server.route("/ep.mp3", media)
    url = server.url("/ep.mp3")
    with pytest.raises(DownloadError, match=match):
        download(url, tmp_path)
    return url


def test_download_complete_and_known_afterwards(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY)
    server.route("/cast/ep1.mp3", media)
    url = server.url("/cast/ep1.mp3?token=1")
    seen: list[tuple[int, int | None]] = []
    path = download(url, tmp_path / "dl", progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "dl" / "ep1.mp3"
    assert path.read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY))
    assert not list((tmp_path / "dl").glob("*.part*"))
    assert downloaded_path(url, tmp_path / "dl") == path
    # Asked again: the file on disk, without a request.
    requests = len(media.ranges_seen)
    assert download(url, tmp_path / "dl") == path
    assert len(media.ranges_seen) == requests
    assert downloaded_path(server.url("/other.mp3"), tmp_path / "dl") is None


def test_interrupted_then_resumed_with_range_gives_identical_bytes(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, drop_after=[300_000])
    url = broken_off(server, tmp_path, media, match=r"incomplete|broken")
    part = tmp_path / "ep.mp3.part"
    assert part.stat().st_size == 300_000  # what arrived stays
    assert downloaded_path(url, tmp_path) is None
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] == "bytes=300000-"
    assert media.if_range_seen[-1] == media.current_etag()
    assert path.read_bytes() == BODY
    assert not part.exists()


def test_a_server_ignoring_range_restarts_cleanly(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, ranges=False, drop_after=[100_000])
    url = broken_off(server, tmp_path, media)
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] == "bytes=100000-"  # asked for the rest, got the whole file (200)
    assert path.read_bytes() == BODY  # not the first 100,000 bytes twice


def test_if_range_mismatch_when_the_file_changed_restarts(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, drop_after=[200_000])
    url = broken_off(server, tmp_path, media)
    media.body = bytes(reversed(BODY))  # republished: a new ETag
    path = download(url, tmp_path)
    assert media.if_range_seen[-1] is not None and media.if_range_seen[-1] != media.current_etag()
    assert path.read_bytes() == media.body


NEW = bytes(reversed(BODY))  # the same size, other bytes: a splice shows


@pytest.mark.parametrize(("first", "then"), [
    ({"etag": '"v1"'}, {"etag": '"v2"'}),  # a new strong ETag
    ({"etag": "", "last_modified": "Sat, 01 Nov 2026 10:00:00 GMT"},
     {"etag": "", "last_modified": "Sun, 02 Nov 2026 10:00:00 GMT"}),  # a new Last-Modified
    ({"etag": '"v1"'}, {"etag": ""}),  # no validator at all any more
])
def test_issue10_a_206_of_a_changed_file_is_not_spliced(server: FeedServer, tmp_path: Path,
                                                       first: dict[str, str], then: dict[str, str]) -> None:
    # The server ignores If-Range and answers 206 with a range of the NEW file: the .part is
    # dropped and the whole new file fetched without a Range, never old head + new tail.
    media = MediaFile(BODY, if_range=False, drop_after=[300_000], **first)
    url = broken_off(server, tmp_path, media)
    media.body = NEW
    for key, value in then.items():
        setattr(media, key, value)
    path = download(url, tmp_path)
    assert media.ranges_seen[-2] == "bytes=300000-"  # the resume was tried, and its 206 refused
    assert media.ranges_seen[-1] is None  # then the whole file, fresh
    assert path.read_bytes() == NEW
    assert not list(tmp_path.glob("*.part*"))


def test_issue10_a_206_whose_size_changed_under_the_same_etag_is_not_spliced(server: FeedServer,
                                                                             tmp_path: Path) -> None:
    media = MediaFile(BODY, etag='"same"', if_range=False, drop_after=[300_000])
    url = broken_off(server, tmp_path, media)
    media.body = NEW + b"more"  # Content-Range's total no longer the size the first answer gave
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] is None
    assert path.read_bytes() == NEW + b"more"


def test_issue10_a_206_starting_elsewhere_restarts(tmp_path: Path) -> None:
    # A crafted server: asked for bytes=300000-, it answers 206 from byte 0 (same ETag, size).
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    asked: list[str] = []

    def serve() -> None:
        for answer in ("drop", "wrong-start", "whole"):
            conn, _ = listener.accept()
            request = conn.recv(65536).decode("latin-1")
            asked.append(next((line for line in request.split("\r\n") if line.lower().startswith("range:")), ""))
            head = f"ETag: \"e\"\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n"
            if answer == "drop":
                conn.sendall(f"HTTP/1.1 200 OK\r\n{head}\r\n".encode() + BODY[:300_000])
            elif answer == "wrong-start":
                conn.sendall(f"HTTP/1.1 206 Partial Content\r\n{head}Content-Range: bytes 0-{len(BODY) - 1}/"
                             f"{len(BODY)}\r\n\r\n".encode() + BODY)
            else:
                conn.sendall(f"HTTP/1.1 200 OK\r\n{head}\r\n".encode() + BODY)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/ep.mp3"
        with pytest.raises(DownloadError):
            download(url, tmp_path)
        path = download(url, tmp_path)
    finally:
        thread.join(5)
        listener.close()
    assert asked == ["", "Range: bytes=300000-", ""]
    assert path.read_bytes() == BODY


def test_last_modified_stands_in_for_a_weak_etag(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, etag='W/"weak"', last_modified="Sat, 01 Nov 2026 10:00:00 GMT", drop_after=[50_000])
    url = broken_off(server, tmp_path, media)
    path = download(url, tmp_path)
    assert media.if_range_seen[-1] == "Sat, 01 Nov 2026 10:00:00 GMT"
    assert media.ranges_seen[-1] == "bytes=50000-"
    assert path.read_bytes() == BODY


def test_without_any_validator_a_part_is_not_spliced(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, etag="", drop_after=[50_000])
    url = broken_off(server, tmp_path, media)
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] is None  # nothing to prove it unchanged: the whole file again
    assert path.read_bytes() == BODY


def test_416_for_a_whole_part_finishes_it(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, drop_after=[500_000])
    url = broken_off(server, tmp_path, media)
    # Every byte arrived but the process was killed before the rename: the .part is whole.
    (tmp_path / "ep.mp3.part").write_bytes(BODY)
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] == f"bytes={len(BODY)}-"  # answered 416 bytes */SIZE
    assert path.read_bytes() == BODY


def test_stop_leaves_the_part_and_the_next_call_resumes(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY)
    server.route("/ep.mp3", media)
    url = server.url("/ep.mp3")
    stop = threading.Event()

    def halfway(done: int, total: int | None) -> None:
        if done >= 200_000:
            stop.set()

    with pytest.raises(DownloadStopped):
        download(url, tmp_path, progress=halfway, stop=stop)
    size = (tmp_path / "ep.mp3.part").stat().st_size
    assert 0 < size < len(BODY)
    path = download(url, tmp_path)
    assert media.ranges_seen[-1] == f"bytes={size}-"
    assert path.read_bytes() == BODY


@pytest.mark.parametrize("target", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.example/a.mp3"])
def test_a_redirect_off_http_is_refused(server: FeedServer, tmp_path: Path, target: str) -> None:
    server.route("/ep.mp3", redirect(target))
    with pytest.raises(DownloadError, match="refused"):
        download(server.url("/ep.mp3"), tmp_path / "dl")
    assert not any((tmp_path / "dl").iterdir())


def test_redirects_are_followed_within_the_cap(server: FeedServer, tmp_path: Path) -> None:
    server.route("/ep.mp3", MediaFile(BODY[:1000]))
    server.route("/go", redirect("/ep.mp3", 301))
    assert download(server.url("/go"), tmp_path).read_bytes() == BODY[:1000]
    for n in range(7):
        server.route(f"/loop{n}", redirect(f"/loop{n + 1}"))
    with pytest.raises(DownloadError, match="too many redirects"):
        download(server.url("/loop0"), tmp_path)


def test_non_http_urls_are_refused_before_any_request(tmp_path: Path) -> None:
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:audio/mpeg;base64,AAAA", "http://x\x1b]52;c;aGk=\x07"):
        with pytest.raises(DownloadError, match="not an http"):
            download(url, tmp_path)
    assert not any(tmp_path.iterdir())


def test_http_errors_are_one_clean_line(server: FeedServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as info:
        download(server.url("/status/404/ep.mp3"), tmp_path)
    assert str(info.value).startswith("HTTP 404")
    url = server.url("/ep.mp3")
    server.stop()
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path)
    assert "connection refused" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("path", "expected"), [
    ("/../../etc/passwd", "passwd"),
    ("/a/%2e%2e%2f", "Hint"),  # "../" decoded: nothing of it is a name
    ("/a/..%2f..%2fetc%2fpasswd", "_.._etc_passwd"),
    ("/a/%1b]52;c;aGVsbG8=%07ep.mp3", "ep.mp3"),  # an OSC 52 clipboard write in the name
    ("/a/%1b[2J%1b[31mred.mp3", "red.mp3"),
    ("/a/.hidden", "hidden"),
    ("/a/", "Hint"),
    ("/a/%00%01", "Hint"),
])
def test_hostile_file_names_are_cleaned(path: str, expected: str) -> None:
    assert name_for("https://x.example" + path, "Hint") == expected


@pytest.mark.parametrize(("url", "hint", "mime", "expected"), [
    ("https://x.example/", "Episode 3", "audio/mpeg", "Episode 3.mp3"),
    ("https://x.example/", "Episode 1.5", "audio/mp4", "Episode 1.5.m4a"),  # ".5" is no extension
    ("https://x.example/", "", "video/mp4", "enclosure.mp4"),
    ("https://x.example/ep/9/download", "T", "AUDIO/OGG; codecs=vorbis", "download.ogg"),
    ("https://x.example/ep.mp3", "T", "audio/mp4", "ep.mp3"),  # the URL's own extension stays
    ("https://x.example/", "Talk", "application/pdf", "Talk.pdf"),
    ("https://x.example/", "Talk", "[bold]x[/]/../y", "Talk"),  # no MIME type: nothing added
    ("https://x.example/", "Talk", None, "Talk"),
])
def test_issue10_a_name_without_extension_gets_one_from_the_type(url: str, hint: str, mime: str | None,
                                                                 expected: str) -> None:
    assert name_for(url, hint, mime) == expected


def test_issue10_a_download_named_by_its_title_is_saved_with_the_types_extension(server: FeedServer,
                                                                                 tmp_path: Path) -> None:
    server.route("/", MediaFile(b"x" * 100))
    path = download(server.url("/"), tmp_path, name_hint="Episode 3: the return", mime_type="audio/mpeg")
    assert path.name == "Episode 3_ the return.mp3" and path.read_bytes() == b"x" * 100


def test_very_long_and_empty_names(tmp_path: Path) -> None:
    long = name_for("https://x.example/" + "a" * 5000 + ".mp3")
    assert long.endswith(".mp3") and len(long) <= MAX_NAME_CHARS
    wide = name_for("https://x.example/" + "€" * 500 + ".ogg")
    assert wide.endswith(".ogg") and len(wide.encode()) <= MAX_NAME_BYTES
    assert name_for("https://x.example/", "") == "enclosure"
    assert name_for("https://x.example/", "Episode 3: the return / part 1") == "Episode 3_ the return _ part 1"
    # The long name is a name the file system takes (255 bytes), .part.meta and " (99)" included.
    (tmp_path / (wide + " (99).part.meta")).write_bytes(b"")


def test_a_hostile_name_lands_inside_the_downloads_dir(server: FeedServer, tmp_path: Path) -> None:
    server.route("/a/..%2f..%2fescape.mp3", MediaFile(b"x" * 100))
    path = download(server.url("/a/..%2f..%2fescape.mp3"), tmp_path / "dl")
    assert path.parent == tmp_path / "dl"
    assert not (tmp_path / "escape.mp3").exists()


def test_a_different_existing_file_is_never_clobbered(server: FeedServer, tmp_path: Path) -> None:
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "ep.mp3").write_bytes(b"mine")
    server.route("/one/ep.mp3", MediaFile(b"one" * 100))
    server.route("/two/ep.mp3", MediaFile(b"two" * 100))
    first = download(server.url("/one/ep.mp3"), dest)
    second = download(server.url("/two/ep.mp3"), dest)
    assert (dest / "ep.mp3").read_bytes() == b"mine"
    assert first.name == "ep (2).mp3" and first.read_bytes() == b"one" * 100
    assert second.name == "ep (3).mp3" and second.read_bytes() == b"two" * 100
    assert downloaded_path(server.url("/one/ep.mp3"), dest) == first
    assert downloaded_path(server.url("/two/ep.mp3"), dest) == second


def test_a_deleted_download_is_fetched_again(server: FeedServer, tmp_path: Path) -> None:
    server.route("/ep.mp3", MediaFile(b"abc" * 10))
    url = server.url("/ep.mp3")
    path = download(url, tmp_path)
    path.unlink()
    assert downloaded_path(url, tmp_path) is None
    assert download(url, tmp_path) == path and path.read_bytes() == b"abc" * 10


def test_a_stalled_server_times_out_and_the_part_stays(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, stall_after=10_000)
    server.route("/ep.mp3", media)
    started = time.monotonic()
    try:
        with pytest.raises(DownloadError, match="stalled"):
            download(server.url("/ep.mp3"), tmp_path, timeout=0.5)
    finally:
        media.stop.set()
    assert time.monotonic() - started < 3
    assert (tmp_path / "ep.mp3.part").stat().st_size == 10_000


def test_more_bytes_than_content_length_is_an_error(tmp_path: Path) -> None:
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n" + b"y" * 5000)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        # httpx itself stops at Content-Length; either way no file claims to be complete with the extra bytes.
        path = download(f"http://127.0.0.1:{port}/x.bin", tmp_path)
        assert path.read_bytes() == b"y" * 10
    except DownloadError:
        assert not (tmp_path / "x.bin").exists()
    finally:
        thread.join(2)
        listener.close()


def test_a_size_over_the_cap_is_refused_before_the_body(server: FeedServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import reader.download.transfer as module

    monkeypatch.setattr(module, "MAX_TOTAL", 1000)
    server.route("/big.mp3", MediaFile(BODY))
    with pytest.raises(DownloadError, match="too big"):
        download(server.url("/big.mp3"), tmp_path)
    server.route("/chunked.mp3", lambda request: _chunked(request, BODY[:5000]))
    with pytest.raises(DownloadError, match="too big"):
        download(server.url("/chunked.mp3"), tmp_path)
    assert not (tmp_path / "chunked.mp3.part").exists()


def _chunked(request, body: bytes) -> None:  # type: ignore[no-untyped-def]
    request.send_response(200)
    request.send_header("Transfer-Encoding", "chunked")
    request.end_headers()
    for i in range(0, len(body), 1000):
        piece = body[i:i + 1000]
        request.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    request.wfile.write(b"0\r\n\r\n")


def test_a_second_download_of_the_same_url_at_once_is_refused(server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, stall_after=1000)
    server.route("/ep.mp3", media)
    url = server.url("/ep.mp3")
    errors: list[BaseException] = []

    def first() -> None:
        try:
            download(url, tmp_path, timeout=3)
        except DownloadError as exc:
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 3
        while not (tmp_path / "ep.mp3.part").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(DownloadError, match="already being downloaded"):
            download(url, tmp_path)
    finally:
        media.stop.set()
        thread.join(5)
    assert os.path.exists(tmp_path / "ep.mp3.part")


def test_a_server_dripping_bytes_counts_as_stalled(server: FeedServer, tmp_path: Path) -> None:
    stop = threading.Event()

    def drip(request) -> None:  # type: ignore[no-untyped-def]
        # A byte every 50 ms: every read is within the timeout, yet the file would take weeks.
        request.send_response(200)
        request.send_header("Content-Length", str(len(BODY)))
        request.send_header("ETag", '"drip"')
        request.end_headers()
        for n in range(200):
            if stop.wait(0.05):
                break
            request.wfile.write(BODY[n:n + 1])
            request.wfile.flush()
        request.close_connection = True

    server.route("/drip.mp3", drip)
    started = time.monotonic()
    try:
        with pytest.raises(DownloadError, match=r"stalled: almost no data for 0\.5 s"):
            download(server.url("/drip.mp3"), tmp_path, timeout=0.5)
    finally:
        stop.set()
    assert time.monotonic() - started < 3
    assert 0 < (tmp_path / "drip.mp3.part").stat().st_size < 100  # kept for a resume


def test_issue10_build_header_says_where_an_enclosure_was_downloaded(server: FeedServer, tmp_path: Path) -> None:
    from reader.download import download
    from reader.models import Entry
    from reader.tui.post_layout import build_header

    server.route("/ep.mp3", MediaFile(b"e" * 100))
    url = server.url("/ep.mp3")
    entry = Entry(id=1, feed_id=1, feed_title="Cast", feed_url="https://cast.invalid/feed.xml", title="Ep",
                  link="https://cast.invalid/1", author="", published=0.0, date_known=True, read=False,
                  starred=False, categories=[], content="", base_url=None, enclosures=[Enclosure(url, "audio/mpeg")])
    folder = tmp_path / "dl"
    assert "downloaded" not in build_header(entry, downloads=folder).plain  # no directory yet: nothing, no error
    path = download(url, folder)
    assert f"Enclosure: {url} (audio/mpeg) · downloaded: {path}" in build_header(entry, downloads=folder).plain
    assert "downloaded" not in build_header(entry).plain  # no downloads dir given: nothing looked up
    path.unlink()
    assert "downloaded" not in build_header(entry, downloads=folder).plain


def test_issue10_a_web_page_instead_of_the_file_is_not_saved(server: FeedServer, tmp_path: Path) -> None:
    """A login page or a "not found" page served with 200 is not saved as episode.mp3."""
    page = MediaFile(b"<!doctype html><title>Sign in</title>", content_type="text/html; charset=utf-8")
    server.route("/cast/ep9.mp3", page)
    with pytest.raises(DownloadError, match=r"sent a web page \(text/html\), not the file"):
        download(server.url("/cast/ep9.mp3"), tmp_path / "dl", mime_type="audio/mpeg")
    assert not [p for p in (tmp_path / "dl").iterdir() if not p.name.startswith(".")]
    # An enclosure that says it is a web page is saved as one.
    server.route("/notes.html", MediaFile(b"<p>show notes</p>", content_type="text/html"))
    saved = download(server.url("/notes.html"), tmp_path / "dl", mime_type="text/html")
    assert saved.read_bytes() == b"<p>show notes</p>"
