"""issue 9: the Google Reader API client (reader/sync/client.py) and the token file (reader/sync/token.py).

Against the real FreshRSS (fixtures `freshrss` / `fault_proxy` from tests/freshrss_fixtures.py), with its
state set up and checked through the fixture's own stdlib caller (`freshrss.api`), never through the client
under test. Crafted answers a real server would not give (escapes, dripping bytes, an echoed token) come
from a tiny raw-socket server in this file.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reader.sync import client as client_module
from reader.sync.client import (
    EDIT_BATCH,
    AuthError,
    GReaderClient,
    RefusedError,
    SyncError,
    UnreachableError,
)
from reader.sync.items import READ, READING_LIST, STARRED, item_id_long, parse_item_id
from reader.sync.token import delete_token, load_token, save_token, token_path

EXPIRED = "log in again with `reader account add URL --user NAME`"
WEB_PAGE = "the server answered with a web page, not the Google Reader API"


# --- helpers ---------------------------------------------------------------------------------------


def _login(freshrss: Any, url: str | None = None, **kw: Any) -> GReaderClient:
    api_url, token = GReaderClient.login(url or freshrss.greader_url, freshrss.user, freshrss.password)
    return GReaderClient(api_url, token, **kw)


@contextlib.contextmanager
def _revoked(freshrss: Any, client: GReaderClient) -> Iterator[None]:
    """Revoke the server's tokens, wait until the server sees it, and undo it afterwards.

    php -S runs with OPcache (revalidate_freq=2 s), which may serve the user's config.php from before a
    change for up to 2 s: hence the waits, both ways, so no test around this one sees a half-revoked server.
    """
    freshrss.revoke_tokens()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            client.subscriptions()
        except AuthError:
            break
        time.sleep(0.1)
    try:
        yield
    finally:
        freshrss.reset()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                _login(freshrss).subscriptions()
                break
            except AuthError:
                time.sleep(0.1)


def _secrets_absent(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked in {text!r}"


def _feed_xml(n: int, title: str = "Generated") -> str:
    items = "".join(
        f"<item><title>Post {i}</title><link>http://example.org/gen/{i}</link><guid>gen-{i}</guid>"
        f"<description>Body {i}</description><pubDate>Mon, 03 Jun 2024 10:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.org/gen/</link><description>d</description>{items}</channel></rss>"
    )


class RawServer:
    """One-thread loopback server: `respond(request_bytes, conn)` writes whatever it likes."""

    def __init__(self, respond: Callable[[bytes, socket.socket], None], *, read_request: bool = True) -> None:
        self.respond = respond
        self.read_request = read_request
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/greader.php"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                if not self.read_request:  # answer at once, whatever comes (a TLS hello, say)
                    self.respond(b"", conn)
                    return
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(body) < length:
                    body += conn.recv(65536)
                self.respond(head + b"\r\n\r\n" + body, conn)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[bytes, socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def make(respond: Callable[[bytes, socket.socket], None], read_request: bool = True) -> RawServer:
        server = RawServer(respond, read_request=read_request)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _reply(status: str, body: bytes, ctype: str = "application/json", extra: str = "") -> Callable[..., None]:
    def respond(_request: bytes, conn: socket.socket) -> None:
        conn.sendall(
            f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}"
            "Connection: close\r\n\r\n".encode("latin-1")
            + body
        )

    return respond


# --- item ids and the token file (no server) ---------------------------------------------------------


def test_item_id_forms_round_trip() -> None:
    assert parse_item_id("tag:google.com,2005:reader/item/00066151f9e21faa") == parse_item_id("1795854572855210")
    assert item_id_long(1795854572855210) == "tag:google.com,2005:reader/item/00066151f9e21faa"
    big = "tag:google.com,2005:reader/item/ffffffffffffffff"
    assert parse_item_id(big) == -1  # >= 2**63 wraps to signed 64-bit, as SQLite stores it
    assert parse_item_id(str(2**64 - 1)) == -1
    assert item_id_long(-1) == big
    for bad in ("", "abc", "-5", "1" * 100, str(2**64), "tag:google.com,2005:reader/item/xyz", "１２３"):
        with pytest.raises(ValueError):
            parse_item_id(bad)


def test_token_file_is_0600_from_creation_and_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert load_token(data) is None
    save_token(data, "alice/0123456789abcdef")
    path = token_path(data)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(data) == "alice/0123456789abcdef"
    save_token(data, "alice/fedcba9876543210")  # atomic replace, still 0600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(data) == "alice/fedcba9876543210"
    assert [p.name for p in data.iterdir()] == ["sync-token"]  # no temp file left behind
    os.chmod(path, 0o644)  # restored from a backup, say: narrowed, and still used
    assert load_token(data) == "alice/fedcba9876543210"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")
    assert load_token(data) is None
    path.write_bytes(b"\xff\xfe junk")
    assert load_token(data) is None
    delete_token(data)
    assert not path.exists()
    delete_token(data)  # twice is fine
    with pytest.raises(ValueError):
        save_token(data, "has space\n")


def test_token_file_never_world_readable_even_with_open_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_token(tmp_path, "alice/0123456789abcdef")
    finally:
        os.umask(old)
    assert stat.S_IMODE(token_path(tmp_path).stat().st_mode) == 0o600


# --- login ---------------------------------------------------------------------------------------------


def test_login_with_endpoint_and_with_base_url(freshrss: Any) -> None:
    api_url, token = GReaderClient.login(freshrss.greader_url, freshrss.user, freshrss.password)
    assert api_url == freshrss.greader_url
    assert token.isascii() and token.isprintable() and " " not in token
    base_api, base_token = GReaderClient.login(freshrss.base_url + "/", freshrss.user, freshrss.password)
    assert base_api == freshrss.greader_url  # worked out from the plain base URL
    assert base_token == token
    with GReaderClient(api_url, token) as client:
        assert client.subscriptions() == []
        assert token not in repr(client)


@pytest.mark.parametrize("use_base", [False, True])
def test_login_wrong_password_is_a_clear_auth_error(freshrss: Any, use_base: bool) -> None:
    url = freshrss.base_url if use_base else freshrss.greader_url
    password = "wrong-pw-Secret42"
    with pytest.raises(AuthError) as info:
        GReaderClient.login(url, freshrss.user, password)
    # With the base URL the second try (…/api/greader.php) refuses the password: that, not a 404, is said.
    assert str(info.value) == "the server refused the user name or password"
    _secrets_absent([str(info.value), repr(info.value)], password)


def test_login_to_a_web_page_says_check_the_url(freshrss: Any) -> None:
    with pytest.raises(SyncError) as info:
        GReaderClient.login(freshrss.base_url + "/i/", freshrss.user, freshrss.password)
    assert not isinstance(info.value, AuthError)
    assert str(info.value).startswith(WEB_PAGE)


def test_revoked_token_says_log_in_again(freshrss: Any) -> None:
    client = _login(freshrss)
    client.subscriptions()
    client.edit_tag([1], add=STARRED)  # caches the edit token
    old_token = client._token
    with _revoked(freshrss, client):
        _check_revoked(freshrss, client, old_token)


def _check_revoked(freshrss: Any, client: GReaderClient, old_token: str) -> None:
    for call in (
        client.subscriptions,
        lambda: client.edit_tag([1], add=READ),
        lambda: list(client.item_ids(READING_LIST)),
        lambda: client.quickadd("http://127.0.0.1:9/x.xml"),
    ):
        with pytest.raises(AuthError) as info:
            call()
        assert str(info.value).endswith(EXPIRED)
        assert "expired or revoked" in str(info.value)
        _secrets_absent([str(info.value), repr(info.value)], old_token, freshrss.password)
    with pytest.raises(AuthError, match="log in again"):
        GReaderClient(freshrss.greader_url, "alice/not-a-real-token").subscriptions()


def test_stale_edit_token_is_fetched_again_once(freshrss: Any, fault_proxy: Any, feed_server: Any) -> None:
    """FreshRSS answers a bad edit token `T` with 401, as it does a bad login: the client asks for a
    fresh one once, and only calls the login gone if that is refused too."""
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    ids = sorted(freshrss.api.item_ids())
    client = _login(freshrss, fault_proxy.greader_url)
    client._edit_token = "0" * 57  # as after a server-side password change that kept the login
    client.edit_tag(ids[:1], add=STARRED)
    assert freshrss.api.starred_ids() == {ids[0]}
    posts = [p for m, p in fault_proxy.requests if m == "POST" and p.endswith("/edit-tag")]
    assert len(posts) == 2  # refused once, sent again with the fresh token
    assert sum(p.endswith("/reader/api/0/token") for _, p in fault_proxy.requests) == 1


# --- reading ----------------------------------------------------------------------------------------------


def test_subscriptions_with_labels(freshrss: Any, feed_server: Any) -> None:
    atom = freshrss.api.subscribe(feed_server.url("/atom.xml"), title="Atom & co", category="Tech")
    plain = freshrss.api.subscribe(feed_server.url("/latin1.xml"))
    client = _login(freshrss)
    feeds = {f.stream_id: f for f in client.subscriptions()}
    assert set(feeds) == {atom, plain}
    assert feeds[atom].url == feed_server.url("/atom.xml")
    assert feeds[atom].title == "Atom & co"
    assert feeds[atom].categories == ["Tech"]
    assert feeds[atom].site_url and feeds[atom].site_url.startswith("http")
    assert feeds[plain].categories == ["Uncategorized"]  # FreshRSS files every feed in a category


def test_stream_contents_pages_with_continuation(freshrss: Any, feed_server: Any) -> None:
    stream = freshrss.api.subscribe(feed_server.url("/atom.xml"), category="Tech")
    freshrss.api.subscribe(feed_server.url("/latin1.xml"))
    expected = set(freshrss.api.item_ids())
    assert len(expected) >= 4
    client = _login(freshrss)
    seen: list[int] = []
    pages = 0
    continuation = None
    while True:
        items, continuation = client.stream_contents(count=2, continuation=continuation)
        pages += 1
        assert len(items) <= 2
        seen += [i.item_id for i in items]
        if continuation is None:
            break
        assert pages < 20
    assert pages >= 2
    assert len(seen) == len(set(seen)) and set(seen) == expected
    # Fields of a known post, as the server holds them.
    items, _ = client.stream_contents(stream, count=100)
    assert {i.stream_id for i in items} == {stream}
    raw = {parse_item_id(r["id"]): r for r in freshrss.api.contents(stream)}
    for item in items:
        # FreshRSS sends "&" as "＆" (fullwidth) in titles; the client gives it back as "&".
        assert item.title == raw[item.item_id]["title"].replace("\uff06", "&")
        assert item.link and item.link.startswith("http")
        assert item.content
        assert "Tech" in item.categories
        assert not any(c.startswith("user/") for c in item.categories)
        assert item.read is False and item.starred is False
        assert item.crawled is not None and abs(item.crawled - time.time()) < 3600
    # ot=: nothing crawled after an hour from now.
    later, cont = client.stream_contents(since=time.time() + 3600)
    assert later == [] and cont is None


def test_item_ids_follow_continuations_and_exclude(freshrss: Any, feed_server: Any) -> None:
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    freshrss.api.subscribe(feed_server.url("/latin1.xml"))
    expected = freshrss.api.item_ids()
    client = _login(freshrss)
    assert list(client.item_ids(READING_LIST, count=2)) == expected
    freshrss.api.mark(expected[:2], read=True)
    assert set(client.item_ids(READING_LIST, exclude=READ, count=2)) == set(expected[2:])


def test_edit_tag_read_unread_star_unstar_seen_on_server(freshrss: Any, feed_server: Any) -> None:
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    ids = freshrss.api.item_ids()
    client = _login(freshrss)
    client.edit_tag(ids[:2], add=READ)
    assert freshrss.api.unread_ids() == set(ids[2:])
    client.edit_tag(ids[:1], remove=READ)
    assert freshrss.api.unread_ids() == set(ids) - {ids[1]}
    client.edit_tag(ids, add=STARRED)
    assert freshrss.api.starred_ids() == set(ids)
    client.edit_tag(ids[1:], remove=STARRED)
    assert freshrss.api.starred_ids() == {ids[0]}
    # And the other way round: a mark made on the server is seen by the client.
    freshrss.api.mark([ids[2]], read=True, starred=True)
    items = {i.item_id: i for i in client.stream_contents(count=100)[0]}
    assert items[ids[2]].read and items[ids[2]].starred
    assert not items[ids[0]].read and items[ids[0]].starred
    client.edit_tag([], add=READ)  # nothing to do is not an error


def test_edit_tag_1000_ids_takes_a_few_requests(freshrss: Any, fault_proxy: Any, feeds: Any) -> None:
    """1,000 marks are 4 POSTs (250 ids each), not 1,000 requests. 300 of the ids are real posts (the
    server's own feed import is what costs here, not the marks); the rest, unknown to the server, still
    travel in the same requests."""
    server, root = feeds
    (root / "many.xml").write_text(_feed_xml(300))
    freshrss.api.subscribe(server.url("/many.xml"))
    real = freshrss.api.item_ids()
    assert len(real) == 300
    ids = real + [max(real) + 1 + n for n in range(700)]
    client = _login(freshrss, fault_proxy.greader_url)
    fault_proxy.clear()
    started = time.monotonic()
    client.edit_tag(ids, add=STARRED)
    elapsed = time.monotonic() - started
    assert freshrss.api.starred_ids() == set(real)
    posts = [p for m, p in fault_proxy.requests if m == "POST"]
    assert len(posts) == -(-1000 // EDIT_BATCH) == 4
    assert elapsed < 2.0
    client.edit_tag(ids, remove=STARRED)
    assert freshrss.api.starred_ids() == set()


# --- subscriptions ------------------------------------------------------------------------------------


def test_quickadd_rename_move_unsubscribe(freshrss: Any, feed_server: Any) -> None:
    client = _login(freshrss)
    url = feed_server.url("/atom.xml")
    stream = client.quickadd(url)
    assert stream.startswith("feed/")

    def server_feed() -> dict[str, Any] | None:
        return next((s for s in freshrss.api.subscriptions() if s["id"] == stream), None)

    feed = server_feed()
    assert feed and feed["url"] == url
    client.subscription_edit(stream, action="edit", title="Renamed feed")
    feed = server_feed()
    assert feed and feed["title"] == "Renamed feed"
    client.subscription_edit(stream, action="edit", add_labels=["Work"])
    feed = server_feed()
    assert feed and [c["label"] for c in feed["categories"]] == ["Work"]
    assert [f.categories for f in client.subscriptions()] == [["Work"]]
    client.subscription_edit(stream, action="edit", add_labels=["Home"], remove_labels=["Work"])
    feed = server_feed()
    assert feed and [c["label"] for c in feed["categories"]] == ["Home"]
    client.subscription_edit(stream, action="unsubscribe")
    assert server_feed() is None
    with pytest.raises(RefusedError, match="HTTP 400"):
        client.subscription_edit(stream, action="unsubscribe")  # already gone: the server's refusal, clean
    with pytest.raises(ValueError):
        client.subscription_edit(stream, action="delete")


def test_quickadd_failure_is_the_servers_clean_message(freshrss: Any) -> None:
    client = _login(freshrss)
    with pytest.raises(RefusedError) as info:
        client.quickadd("http://user:hunter2@127.0.0.1:9/nothing.xml")
    message = str(info.value)
    assert message.startswith("the server could not subscribe to http://user:***@127.0.0.1:9/nothing.xml")
    assert "hunter2" not in message and "\n" not in message


# --- faults ---------------------------------------------------------------------------------------------


def test_server_error_500(freshrss: Any, fault_proxy: Any) -> None:
    client = _login(freshrss, fault_proxy.greader_url)
    fault_proxy.fail("stream/contents", "500")
    with pytest.raises(SyncError) as info:
        client.stream_contents()
    assert type(info.value) is SyncError
    assert str(info.value) == "the server failed (HTTP 500) on stream/contents: try again later"
    assert client.stream_contents() == ([], None)  # the next call goes through


def test_timeout_is_unreachable_within_the_timeout(freshrss: Any, fault_proxy: Any) -> None:
    api_url, token = GReaderClient.login(fault_proxy.greader_url, freshrss.user, freshrss.password)
    client = GReaderClient(api_url, token, timeout=1.0)
    fault_proxy.fail("subscription/list", "timeout")
    started = time.monotonic()
    with pytest.raises(UnreachableError) as info:
        client.subscriptions()
    assert time.monotonic() - started < 3.5  # the proxy holds it 5 s
    assert str(info.value).startswith(f"cannot reach 127.0.0.1:{fault_proxy.port}: no complete answer within 1 s")
    assert client.subscriptions() == []


def test_bad_json_names_the_call(freshrss: Any, fault_proxy: Any) -> None:
    client = _login(freshrss, fault_proxy.greader_url)
    fault_proxy.fail("subscription/list", "badjson")
    with pytest.raises(SyncError) as info:
        client.subscriptions()
    assert type(info.value) is SyncError
    assert str(info.value).startswith("the server's answer to subscription/list is not valid JSON")


@pytest.mark.parametrize("path", ["stream/items/ids", "stream/contents", "reader/api/0/token"])
def test_html_page_instead_of_json(freshrss: Any, fault_proxy: Any, path: str) -> None:
    client = _login(freshrss, fault_proxy.greader_url)
    fault_proxy.fail(path, "html")
    with pytest.raises(SyncError) as info:
        if path == "reader/api/0/token":
            client.edit_tag([1], add=READ)
        elif path == "stream/contents":
            client.stream_contents()
        else:
            list(client.item_ids(READING_LIST))
    assert str(info.value).startswith(WEB_PAGE)
    assert "/api/greader.php" in str(info.value)


def test_html_login_page_at_login(freshrss: Any, fault_proxy: Any) -> None:
    fault_proxy.fail("ClientLogin", "html", times=2)
    with pytest.raises(SyncError) as info:
        GReaderClient.login(fault_proxy.greader_url, freshrss.user, freshrss.password)
    assert str(info.value).startswith(WEB_PAGE)


def test_bad_urls_are_refused_before_any_request() -> None:
    for url in ("ftp://example.org/api", "javascript:alert(1)", "", "http://", "http://h:99999/x",
                "https://example.org/api/greader.php?x=1", "https://u:hunter2@example.org/#frag"):
        with pytest.raises(SyncError) as info:
            GReaderClient.login(url, "alice", "pw-Secret")
        assert "hunter2" not in str(info.value)
        with pytest.raises(SyncError):
            GReaderClient(url, "alice/tok123456")


def test_unreachable_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for call in (
        lambda: GReaderClient.login(f"http://127.0.0.1:{port}", "alice", "pw-Secret"),
        lambda: GReaderClient(f"http://127.0.0.1:{port}/api/greader.php", "alice/tok123456").subscriptions(),
    ):
        with pytest.raises(UnreachableError) as info:
            call()
        assert str(info.value) == f"cannot reach 127.0.0.1:{port}: connection refused (is the server down?)"


def test_dripping_server_cannot_hold_a_call_past_the_timeout(raw_server: Any) -> None:
    """httpx's own timeouts are per read: a byte every 0.1 s never trips them. The deadline does."""

    def drip(_request: bytes, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(200):
            conn.sendall(b" ")
            time.sleep(0.1)

    def drip_headers(_request: bytes, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):
            conn.sendall(b"X: y\r\n")
            time.sleep(0.1)

    for respond in (drip, drip_headers):
        server = raw_server(respond)
        client = GReaderClient(server.url, "alice/tok123456", timeout=1.0)
        started = time.monotonic()
        with pytest.raises(UnreachableError, match="no complete answer within 1 s"):
            client.subscriptions()
        assert time.monotonic() - started < 3.0  # unbounded, it would be 20 s
        client.close()


def test_hostile_error_text_is_cleaned_and_secrets_redacted(raw_server: Any) -> None:
    """A server that echoes the Authorization header in its error, with escapes in the reason phrase."""

    def echo(request: bytes, conn: socket.socket) -> None:
        auth = next(line for line in request.split(b"\r\n") if line.lower().startswith(b"authorization:"))
        body = b"bad \x1b]0;pwned\x07request from " + auth + b"\n\xe2\x80\xaespoof"
        conn.sendall(
            b"HTTP/1.1 400 Bad \x1b[31mthing\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )

    server = raw_server(echo)
    token = "alice/5ecre7t0ken5ecre7"
    client = GReaderClient(server.url, token)
    with pytest.raises(RefusedError) as info:
        client.subscriptions()
    message = str(info.value)
    assert message.startswith("the server refused subscription/list (HTTP 400 Bad")
    assert "***" in message
    _secrets_absent([message, repr(info.value), repr(client)], token, "5ecre7t0ken5ecre7")
    assert message.isprintable() and "\x1b" not in message and "\u202e" not in message


def test_redirects_stay_on_the_host(raw_server: Any) -> None:
    elsewhere = raw_server(_reply("302 Found", b"", extra="Location: http://127.0.0.2:1/api/greader.php/x\r\n"))
    with pytest.raises(SyncError, match="redirected subscription/list to another host"):
        GReaderClient(elsewhere.url, "alice/tok123456").subscriptions()
    scheme = raw_server(_reply("302 Found", b"", extra="Location: file:///etc/passwd\r\n"))
    with pytest.raises(SyncError, match="non-http"):
        GReaderClient(scheme.url, "alice/tok123456").subscriptions()
    loop = raw_server(_reply("302 Found", b"", extra="Location: /api/greader.php/again\r\n"))
    with pytest.raises(SyncError, match="too many redirects"):
        GReaderClient(loop.url, "alice/tok123456").subscriptions()


def test_post_redirected_on_the_same_host_stays_a_post(raw_server: Any) -> None:
    """A 307/308 (or a 301 from http:// to https:// on the same path) keeps the POST and its form; the
    URL the login ended at is the one kept, so later calls skip the hop."""
    seen: list[bytes] = []

    def respond(request: bytes, conn: socket.socket) -> None:
        line = request.split(b"\r\n", 1)[0]
        seen.append(line)
        if line.startswith(b"POST /api/greader.php/accounts/ClientLogin"):
            _reply("308 Permanent Redirect", b"", extra="Location: /moved/accounts/ClientLogin\r\n")(request, conn)
        elif line.startswith(b"POST /moved/accounts/ClientLogin") and b"Passwd=pw-Secret" in request:
            _reply("200 OK", b"SID=x\nLSID=null\nAuth=alice/0123456789\n", ctype="text/plain")(request, conn)
        else:
            _reply("404 Not Found", b"no", ctype="text/plain")(request, conn)

    server = raw_server(respond)
    moved = server.url.replace("/api/greader.php", "/moved")
    assert GReaderClient.login(server.url, "alice", "pw-Secret") == (moved, "alice/0123456789")  # kept: no more hops
    assert seen == [b"POST /api/greader.php/accounts/ClientLogin HTTP/1.1",
                    b"POST /moved/accounts/ClientLogin HTTP/1.1"]


def test_repeated_continuation_stops(raw_server: Any) -> None:
    server = raw_server(_reply("200 OK", b'{"itemRefs":[{"id":"5"}],"continuation":"42"}'))
    client = GReaderClient(server.url, "alice/tok123456")
    with pytest.raises(SyncError, match="repeated a continuation"):
        list(client.item_ids(READING_LIST))


def test_items_parsed_defensively(raw_server: Any) -> None:
    """Missing and wrong-typed fields are tolerated; server text is cleaned; links are http(s) only."""
    body = (
        b'{"items":['
        b'{"id":"tag:google.com,2005:reader/item/000000000000002a","origin":{"streamId":"feed/1"},'
        b'"title":"T\\u001b]0;evil\\u0007itle \\u202eok &amp; more","author":7,'
        b'"canonical":[{"href":"javascript:alert(1)"}],"alternate":[{"href":"https://example.org/a"}],'
        b'"content":{"content":"<p>hi</p>"},"published":"1717185540","crawlTimeMsec":"1717185541000",'
        b'"categories":["user/-/state/com.google/reading-list","user/123/state/com.google/read",'
        b'"user/-/state/com.google/starred","user/-/label/Tech","devops",5,"user/-/label/Tech"]},'
        b'{"id":"43","origin":{"streamId":"feed/2"},"title":["not","a","string"],"summary":{"content":5},'
        b'"published":1e300,"crawlTimeMsec":"-5","categories":"nope","canonical":"nope"},'
        b'{"origin":{"streamId":"feed/1"},"title":"no id"},'
        b'{"id":"44","title":"no stream"},'
        b'"not an object",'
        b'{"id":"45","origin":{"streamId":"feed/1"},"title":"' + b"x" * 5000 + b'"}'
        b'],"continuation":{"weird":1}}'
    )
    server = raw_server(_reply("200 OK", body))
    items, continuation = GReaderClient(server.url, "alice/tok123456").stream_contents()
    assert continuation is None
    assert [i.item_id for i in items] == [42, 43, 45]
    first, second, third = items
    assert first.title == "Title ok & more"
    assert first.link == "https://example.org/a"
    assert first.author == ""
    assert first.content == "<p>hi</p>"
    assert first.published == 1717185540.0 and first.crawled == 1717185541.0
    assert first.read and first.starred and first.categories == ["Tech", "devops"]
    assert (second.title, second.content, second.link, second.published, second.categories) == ("", "", None, None, [])
    assert not second.read and not second.starred
    assert len(third.title) == 1000


def test_no_secret_in_any_message(freshrss: Any, fault_proxy: Any) -> None:
    """Every error this client can give, against the real server: none holds the token or the password."""
    api_url, token = GReaderClient.login(fault_proxy.greader_url, freshrss.user, freshrss.password)
    client = GReaderClient(api_url, token, timeout=1.0)
    texts = [repr(client)]
    for mode in ("500", "timeout", "badjson", "html"):
        fault_proxy.fail("reader/api/0/", mode)
        with pytest.raises(SyncError) as info:
            client.edit_tag([1, 2], add=READ)
        texts += [str(info.value), repr(info.value)]
    with pytest.raises(AuthError) as auth:
        GReaderClient.login(fault_proxy.greader_url, freshrss.user, freshrss.password + "x")
    texts += [str(auth.value), repr(auth.value)]
    with _revoked(freshrss, client), pytest.raises(AuthError) as revoked:
        client.subscriptions()
    texts += [str(revoked.value), repr(revoked.value)]
    edit_token = client._edit_token or ""
    _secrets_absent(texts, token, token.partition("/")[2], freshrss.password)
    if edit_token:
        _secrets_absent(texts, edit_token)
    assert all("\n" not in t for t in texts)


def test_tls_to_a_plain_http_port_is_unreachable(raw_server: Any) -> None:
    server = raw_server(_reply("400 Bad Request", b"plain http here"), read_request=False)
    client = GReaderClient(server.url.replace("http://", "https://"), "alice/tok123456", timeout=2.0)
    with pytest.raises(UnreachableError) as info:
        client.subscriptions()
    assert str(info.value) == (
        f"cannot reach 127.0.0.1:{server.port}: TLS handshake failed: the server does not speak https on this port"
    )


def test_answer_size_is_capped_plain_and_compressed(raw_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_BODY", 1024 * 1024)
    big = raw_server(_reply("200 OK", b" " * (2 * 1024 * 1024)))
    with pytest.raises(SyncError, match="larger than 1 MB"):
        GReaderClient(big.url, "alice/tok123456").subscriptions()
    # A gzip bomb: 32 MB of zeros in ~32 KB. Inflated in bounded steps, it stops at the cap.
    bomb = raw_server(_reply("200 OK", gzip.compress(b"\0" * (32 * 1024 * 1024)), extra="Content-Encoding: gzip\r\n"))
    with pytest.raises(SyncError, match="larger than 1 MB"):
        GReaderClient(bomb.url, "alice/tok123456").subscriptions()
    zipped = raw_server(_reply("200 OK", gzip.compress(b'{"subscriptions":[]}'), extra="Content-Encoding: gzip\r\n"))
    assert GReaderClient(zipped.url, "alice/tok123456").subscriptions() == []
    corrupt = raw_server(_reply("200 OK", b"\x1f\x8b\x08\x00garbage-garbage", extra="Content-Encoding: gzip\r\n"))
    with pytest.raises(SyncError, match="corrupt"):
        GReaderClient(corrupt.url, "alice/tok123456").subscriptions()


def test_rate_limit_says_try_again_later(raw_server: Any) -> None:
    server = raw_server(_reply("429 Too Many Requests", b"slow down", ctype="text/plain"))
    with pytest.raises(SyncError) as info:
        GReaderClient(server.url, "alice/tok123456").subscriptions()
    assert str(info.value) == "the server is limiting requests (HTTP 429) on subscription/list: try again later"


def test_deadline_is_per_thread(raw_server: Any) -> None:
    """One client used from two threads: a fast call finishing in one thread must not lift the
    deadline of a slow call in the other (the app syncs in a worker thread while the CLI may not)."""
    def respond(request: bytes, conn: socket.socket) -> None:
        if b"subscription/list" in request.split(b"\r\n", 1)[0]:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100):
                conn.sendall(b" ")
                time.sleep(0.05)
        else:
            _reply("200 OK", b'{"itemRefs":[{"id":"7"}]}')(request, conn)

    server = raw_server(respond)
    client = GReaderClient(server.url, "alice/tok123456", timeout=1.0)
    outcome: list[BaseException] = []

    def slow() -> None:
        try:
            client.subscriptions()
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=slow)
    thread.start()
    fast_calls = 0
    while thread.is_alive() and time.monotonic() - started < 4:
        assert list(client.item_ids(READING_LIST)) == [7]
        fast_calls += 1
    thread.join(5)
    assert fast_calls > 1
    assert len(outcome) == 1 and isinstance(outcome[0], UnreachableError)
    assert time.monotonic() - started < 3.0  # with a shared deadline, ~5 s
