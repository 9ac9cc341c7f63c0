"""The FreshRSS fixtures (tests/freshrss_fixtures.py) and the FaultProxy work against the real server.

These guard the sync suite's ground truth: if the fixture lied (a reset that leaves items, a refresh that
does not fetch, a proxy that drops the Authorization header), every sync test built on it would too.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from faultproxy import FaultProxy
from feedserver import FeedServer
from freshrss_fixtures import ITEM_PREFIX, FreshRSS, ServerAPI, ServerAPIError, item_id, process_group_alive

ATOM_ENTRIES = 3  # tests/data/atom.xml


class GrowingFeed:
    """An RSS feed on the suite's feed server whose item count a test sets, to see refreshes."""

    _lock = threading.Lock()
    _serial = 0

    def __init__(self, feed_server: FeedServer) -> None:
        with GrowingFeed._lock:
            GrowingFeed._serial += 1
            self.path = f"/growing-{GrowingFeed._serial}-{time.monotonic_ns()}.rss"
        self.items = 1
        self.url = feed_server.url(self.path)
        feed_server.route(self.path, self._serve)

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        entries = "".join(
            f"<item><title>Post {n}</title><link>http://example.org/p{n}</link><guid>{self.path}#{n}</guid>"
            f"<pubDate>Mon, 0{1 + n % 9} Jan 2024 10:00:00 GMT</pubDate><description>body {n}</description></item>"
            for n in range(self.items)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Growing</title>'
            f"<link>http://example.org/</link><description>d</description>{entries}</channel></rss>"
        ).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def _get(url: str, timeout: float = 3.0, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


# --- the server and ServerAPI ---


def test_login_gives_a_token_and_a_wrong_password_is_refused(freshrss: FreshRSS) -> None:
    token = freshrss.api.login()
    assert token.startswith(freshrss.user + "/")
    assert freshrss.greader_url == freshrss.base_url + "/api/greader.php"
    with pytest.raises(ServerAPIError) as info:
        freshrss.api.login(freshrss.user, "not-the-password")
    assert info.value.status == 401


def test_subscribe_shows_feed_and_items_and_reset_empties_the_user(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    stream = freshrss.api.subscribe(feed_server.url("/atom.xml"), title="My Atom", category="Tech")
    subs = freshrss.api.subscriptions()
    assert [(s["id"], s["title"], [c["label"] for c in s["categories"]]) for s in subs] == [
        (stream, "My Atom", ["Tech"])
    ]
    ids = freshrss.api.item_ids()
    assert len(ids) == ATOM_ENTRIES and all(isinstance(i, int) for i in ids)
    freshrss.api.mark(ids[:1], starred=True)

    started = time.perf_counter()
    freshrss.reset()
    elapsed = time.perf_counter() - started

    assert freshrss.api.subscriptions() == []
    assert freshrss.api.item_ids() == []
    assert freshrss.api.starred_ids() == set()
    assert elapsed < 0.5  # ~10 ms: a file copy, not a reinstall


def test_item_ids_long_and_decimal_forms_are_the_same_number(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    long_ids = [item["id"] for item in freshrss.api.contents()]
    assert long_ids and all(i.startswith(ITEM_PREFIX) for i in long_ids)
    assert sorted(item_id(i) for i in long_ids) == sorted(freshrss.api.item_ids())
    assert item_id(ITEM_PREFIX + "00066151f9e21faa") == item_id("1795854572855210") == 1795854572855210


def test_item_ids_follow_continuations(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    assert sorted(freshrss.api.item_ids(count=1)) == sorted(freshrss.api.item_ids())


def test_refresh_fetches_a_changed_feed_even_twice_in_a_row(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    feed = GrowingFeed(feed_server)
    stream = freshrss.api.subscribe(feed.url)
    assert len(freshrss.api.item_ids()) == 1
    feed.items = 2
    freshrss.refresh()
    assert len(freshrss.api.item_ids()) == 2
    feed.items = 4  # at once, within the feed's TTL and the same second
    freshrss.refresh(stream)  # "feed/N", or N
    assert len(freshrss.api.item_ids()) == 4


def test_marks_read_and_starred_round_trip(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    freshrss.api.subscribe(feed_server.url("/atom.xml"))
    a, b, c = freshrss.api.item_ids()
    assert freshrss.api.unread_ids() == {a, b, c}
    freshrss.api.mark([a, b], read=True, starred=True)
    assert freshrss.api.unread_ids() == {c}
    assert freshrss.api.read_ids() == {a, b}
    assert freshrss.api.starred_ids() == {a, b}
    freshrss.api.mark([b], read=False, starred=False)
    assert freshrss.api.unread_ids() == {b, c}
    assert freshrss.api.starred_ids() == {a}


def test_unsubscribe_and_edit(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    keep = freshrss.api.subscribe(feed_server.url("/atom.xml"))
    gone = freshrss.api.subscribe(feed_server.url("/rss-no-guid.xml"))
    freshrss.api.edit(keep, title="Renamed", add_category="News")
    freshrss.api.unsubscribe(gone)
    subs = freshrss.api.subscriptions()
    assert [(s["id"], s["title"], s["categories"][0]["label"]) for s in subs] == [(keep, "Renamed", "News")]


def test_revoke_tokens_refuses_old_tokens_and_reset_restores(freshrss: FreshRSS) -> None:
    old = {"Authorization": f"GoogleLogin auth={freshrss.api.login()}"}
    token_url = freshrss.greader_url + "/reader/api/0/token"
    freshrss.revoke_tokens()
    assert _get(token_url, headers=old)[0] == 401
    assert freshrss.api.subscriptions() == []  # ServerAPI logs in again by itself
    freshrss.reset()
    assert _get(token_url, headers=old)[0] == 200


def test_revoke_and_reset_take_effect_at_once_every_time(freshrss: FreshRSS) -> None:
    # PHP's opcache caches the user's config.php (where the token's hash lives): each change must be seen
    # by the very next request, even several changes within one second.
    old = {"Authorization": f"GoogleLogin auth={freshrss.api.login()}"}
    token_url = freshrss.greader_url + "/reader/api/0/token"
    for _ in range(3):
        assert _get(token_url, headers=old)[0] == 200
        freshrss.revoke_tokens()
        assert _get(token_url, headers=old)[0] == 401
        freshrss.reset()
    # The worst case: config.php old enough to be cached (opcache.file_update_protection = 2 s) and checked
    # just before the change (opcache.revalidate_freq defaults to 2 s; the fixture sets 0).
    time.sleep(2.2)
    assert _get(token_url, headers=old)[0] == 200
    freshrss.revoke_tokens()
    assert _get(token_url, headers=old)[0] == 401


def test_stop_refuses_connections_and_start_serves_the_same_state(freshrss: FreshRSS, feed_server: FeedServer) -> None:
    stream = freshrss.api.subscribe(feed_server.url("/atom.xml"))
    pid = freshrss.pid
    freshrss.stop()
    assert not freshrss.running
    assert _refused(freshrss.port)
    assert pid is not None and not process_group_alive(pid)  # the workers too, not just the master
    freshrss.start()
    assert freshrss.running and freshrss.pid != pid
    assert [s["id"] for s in freshrss.api.subscriptions()] == [stream]
    assert len(freshrss.api.item_ids()) == ATOM_ENTRIES


# --- FaultProxy ---


def test_proxy_forwards_method_query_auth_and_body(
    freshrss: FreshRSS, fault_proxy: FaultProxy, feed_server: FeedServer
) -> None:
    via = ServerAPI(fault_proxy.greader_url, freshrss.user, freshrss.password)
    stream = via.subscribe(feed_server.url("/atom.xml"), category="Tech")  # POST bodies with T=
    ids = via.item_ids(count=2)  # query strings and continuations
    via.mark(ids[:1], read=True)
    assert freshrss.api.read_ids() == {ids[0]}
    assert [s["id"] for s in freshrss.api.subscriptions()] == [stream]
    methods = {(m, t.split("?")[0]) for m, t in fault_proxy.requests}
    assert ("POST", "/api/greader.php/accounts/ClientLogin") in methods
    assert ("GET", "/api/greader.php/reader/api/0/token") in methods
    assert ("POST", "/api/greader.php/reader/api/0/edit-tag") in methods
    assert fault_proxy.count("stream/items/ids") == 2


@pytest.mark.parametrize(
    ("mode", "status", "ctype", "body_has"),
    [
        ("500", 500, "text/plain", b"Internal Server Error"),
        ("badjson", 200, "application/json", b'{"items": ['),
        ("html", 200, "text/html", b"<form"),
    ],
)
def test_proxy_fault_modes(fault_proxy: FaultProxy, mode: str, status: int, ctype: str, body_has: bytes) -> None:
    fault_proxy.fail("subscription/list", mode, times=2)
    url = fault_proxy.greader_url + "/reader/api/0/subscription/list?output=json"
    for _ in range(2):
        got_status, got_ctype, body = _get(url)
        assert (got_status, got_ctype.split(";")[0]) == (status, ctype)
        assert body_has in body
    assert _get(url)[0] == 401  # the third is forwarded: FreshRSS wants a token
    assert _get(fault_proxy.greader_url)[2] == b"OK"  # other paths were never faulted
    assert fault_proxy.pending_faults == 0


def test_proxy_timeout_holds_then_drops_and_close_does_not_wait(fault_proxy: FaultProxy) -> None:
    fault_proxy.timeout_seconds = 30
    fault_proxy.fail("stream/contents", "timeout")
    started = time.perf_counter()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(fault_proxy.greader_url + "/reader/api/0/stream/contents", timeout=0.3)
    assert 0.25 < time.perf_counter() - started < 3
    fault_proxy.timeout_seconds = 0.2
    fault_proxy.fail("stream/contents", "timeout")
    with pytest.raises(http.client.RemoteDisconnected):  # held, then closed without an answer
        urllib.request.urlopen(fault_proxy.greader_url + "/reader/api/0/stream/contents", timeout=3)
    started = time.perf_counter()
    fault_proxy.close()  # the first request is still held for 30 s: close() must not wait for it
    assert time.perf_counter() - started < 2


def test_proxy_down_refuses_and_up_serves_on_the_same_port(fault_proxy: FaultProxy) -> None:
    port = fault_proxy.port
    assert _get(fault_proxy.greader_url)[2] == b"OK"
    fault_proxy.down()
    assert _refused(port)
    fault_proxy.up()
    assert fault_proxy.port == port
    assert _get(fault_proxy.greader_url)[2] == b"OK"


def test_proxy_answers_502_when_the_server_is_stopped(freshrss: FreshRSS, fault_proxy: FaultProxy) -> None:
    freshrss.stop()
    try:
        assert _get(fault_proxy.greader_url)[0] == 502
    finally:
        freshrss.start()
    assert _get(fault_proxy.greader_url)[2] == b"OK"


def test_unknown_fault_mode_is_refused() -> None:
    with FaultProxy("http://127.0.0.1:9") as proxy, pytest.raises(ValueError):
        proxy.fail("x", "slow")
