"""Issue 11, scheduled polite refresh: each feed's next-due time (reader/schedule.py), the hints
it comes from (the feed's ttl and sy:update*, the server's Cache-Control/Expires/Retry-After, the
feed's posting rhythm, failures), `refresh --due`, `reader feeds` and `reader schedule`.

Network tests go through a real loopback server (tests/feedserver.py's FeedServer, its routes
answering with the headers each test crafts) into a real SQLite file.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from feedserver import FeedServer

from reader import parse
from reader.fastfeed import parse_fast
from reader.fetch import FetchOptions
from reader.parse import parse_feed
from reader.refresh import refresh
from reader.schedule import (
    DEFAULT_EVERY,
    MAX_INTERVAL,
    Policy,
    activity,
    feed_interval,
    format_due,
    format_when,
    interval,
    next_due,
    server_interval,
)
from reader.store import Store

MIN, HOUR, DAY = 60.0, 3600.0, 86400.0
NOW = 1_800_000_000.0
POLICY = Policy(every=30 * MIN, floor=10 * MIN, ceiling=DAY)
SY = 'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'


# --- the pure function ----------------------------------------------------------------------------


def test_issue11_schedule_base_is_refresh_every_and_30m_when_off() -> None:
    assert interval(POLICY, now=NOW) == 30 * MIN
    assert interval(Policy(every=2 * HOUR, floor=10 * MIN, ceiling=DAY), now=NOW) == 2 * HOUR
    assert interval(Policy(every=0, floor=MIN, ceiling=DAY), now=NOW) == DEFAULT_EVERY == 30 * MIN


def test_issue11_schedule_what_the_feed_asks_lengthens_never_shortens() -> None:
    assert interval(POLICY, asked=2 * HOUR, now=NOW) == 2 * HOUR
    assert interval(POLICY, asked=5 * MIN, now=NOW) == 30 * MIN  # a short ttl is no reason to ask more
    assert interval(POLICY, asked=30 * DAY, now=NOW) == DAY  # the ceiling


def test_issue11_schedule_floor_and_ceiling_clamp_the_worked_out_interval() -> None:
    fast = Policy(every=MIN, floor=10 * MIN, ceiling=DAY)
    assert interval(fast, now=NOW) == 10 * MIN
    assert interval(Policy(every=2 * DAY, floor=10 * MIN, ceiling=DAY), now=NOW) == DAY
    # A floor above the ceiling (config.py refuses it) can't make the ceiling lie.
    assert Policy.of(30 * MIN, 2 * DAY, DAY).floor == DAY


def test_issue11_schedule_a_feed_silent_for_a_year_is_asked_once_a_day() -> None:
    year_ago = [NOW - 365 * DAY - n * DAY for n in range(20)]
    assert interval(POLICY, post_dates=year_ago, now=NOW) == DAY
    # ... while a busy feed (a post every 5 minutes, the last just now) stays at the base.
    busy = [NOW - n * 5 * MIN for n in range(20)]
    assert interval(POLICY, post_dates=busy, now=NOW) == 30 * MIN


def test_issue11_schedule_follows_the_feeds_rhythm() -> None:
    weekly = [NOW - n * 7 * DAY for n in range(10)]  # posted just now, weekly
    assert interval(POLICY, post_dates=weekly, now=NOW) == pytest.approx(7 * DAY / 10)
    daily_but_quiet = [NOW - 5 * DAY - n * DAY for n in range(10)]  # daily, silent 5 days: slowed down
    assert interval(POLICY, post_dates=daily_but_quiet, now=NOW) == pytest.approx(5 * DAY / 10)
    assert activity([], NOW) is None
    assert activity([NOW + DAY], NOW) == 0  # a date ahead of the clock counts as now
    # Only the newest 20 posts count: a feed's ancient archive doesn't slow it down.
    archive = [NOW - n * HOUR for n in range(20)] + [NOW - 1000 * DAY - n * DAY for n in range(500)]
    assert activity(archive, NOW) == HOUR


def test_issue11_schedule_the_users_interval_wins_over_everything_worked_out() -> None:
    year_ago = [NOW - 365 * DAY]
    assert interval(POLICY, every=5 * MIN, asked=DAY, post_dates=year_ago, now=NOW) == 5 * MIN  # under the floor
    assert interval(POLICY, every=3 * DAY, now=NOW) == 3 * DAY  # over the ceiling


def test_issue11_schedule_failures_back_off_up_to_the_ceiling() -> None:
    steps = [interval(POLICY, failures=n, now=NOW) for n in range(0, 8)]
    assert steps[:5] == [30 * MIN, 30 * MIN, 60 * MIN, 120 * MIN, 240 * MIN]  # the first may be a blip
    assert steps[-1] == DAY  # capped
    assert interval(POLICY, failures=10_000, now=NOW) == DAY  # no overflow
    # The user's longer interval is its own cap.
    assert interval(POLICY, every=3 * DAY, failures=5, now=NOW) == 3 * DAY


def test_issue11_schedule_retry_after_is_a_hard_lower_bound() -> None:
    assert next_due(POLICY, now=NOW, retry_after=NOW + 5 * HOUR) == NOW + 5 * HOUR
    assert next_due(POLICY, now=NOW, retry_after=NOW + MIN) == NOW + 30 * MIN
    assert next_due(POLICY, now=NOW, every=5 * MIN, retry_after=NOW + HOUR) == NOW + HOUR


@pytest.mark.parametrize(("ttl", "period", "frequency", "expected"), [
    ("60", "", "", HOUR),
    (" 15 ", "", "", 15 * MIN),
    ("", "hourly", "2", 30 * MIN),
    ("", "Daily", "", DAY),
    ("", "", "4", DAY / 4),  # the module's default period is daily
    ("90", "hourly", "1", 90 * MIN),  # the longer of the two
    ("", "fortnightly", "1", None),  # an unknown period asks nothing
    ("0", "", "", None),
    ("-5", "", "", None),
    ("soon", "", "", None),
    ("", "hourly", "zero", None),  # a bad frequency spoils the sy: hint (garbage asks nothing)
    ("", "", "0", None),  # not "daily, once": a feed posting hourly must not become daily
    ("60", "", "0", HOUR),  # nor does it spoil the ttl
    ("99999999999", "", "", MAX_INTERVAL),
    ("", "", "", None),
])
def test_issue11_feed_interval_reads_ttl_and_sy(ttl: str, period: str, frequency: str, expected: float | None) -> None:
    assert feed_interval(ttl, period, frequency) == expected


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"cache-control": "max-age=3600"}, HOUR),
    ({"cache-control": "public, max-age=600, must-revalidate"}, 600.0),
    ({"cache-control": 'max-age="120"'}, 120.0),
    ({"cache-control": "max-age=0"}, None),
    ({"cache-control": "no-cache"}, None),
    ({"cache-control": "s-maxage=900"}, None),  # a shared cache's, not ours
    ({"cache-control": "max-age=-5"}, None),
    ({"cache-control": "max-age=99999999999"}, MAX_INTERVAL),
    ({"expires": _http_date(NOW + 2 * HOUR), "date": _http_date(NOW)}, 2 * HOUR),
    ({"expires": _http_date(NOW + 2 * HOUR), "date": _http_date(NOW - HOUR)}, 3 * HOUR),  # by the server's clock
    ({"expires": _http_date(NOW + 2 * HOUR)}, 2 * HOUR),  # no Date: by ours
    ({"expires": "0"}, None),
    ({"expires": _http_date(NOW - HOUR)}, None),
    ({"expires": "Thu, 99 Foo 2026 99:99:99 GMT"}, None),
    ({"cache-control": "max-age=60", "expires": _http_date(NOW + 5 * HOUR)}, 60.0),  # max-age wins, as in HTTP
    ({}, None),
])
def test_issue11_server_interval_reads_cache_control_and_expires(
    headers: dict[str, str], expected: float | None
) -> None:
    assert server_interval(headers, NOW) == expected


def test_issue11_format_due(utc: None) -> None:
    now = 1_800_000_000.0  # 2027-01-15 08:00 UTC
    assert format_due(None, now) == "due now"
    assert format_due(now - 1, now) == "due now"
    assert format_due(now + 2 * HOUR + 5 * MIN, now) == "next 10:05"
    assert format_due(now + 2 * DAY, now) == "next 01-17 08:00"
    assert format_due(now + 365 * DAY, now) == "next 2028-01-15 08:00"
    assert format_when(now + 10 * MIN, now) == "08:10"


# --- both parsers read the hints alike ------------------------------------------------------------


def _rss(channel: str = "", items: str = "<item><title>a</title><guid>a</guid></item>", ns: str = SY) -> bytes:
    head = f'<?xml version="1.0"?><rss version="2.0" {ns}><channel><title>T</title>'
    return f"{head}{channel}{items}</channel></rss>".encode()


HINTED_DOCUMENTS = {
    "rss ttl": (_rss("<ttl>45</ttl>"), 45 * MIN),
    "rss sy": (_rss("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>"), 30 * MIN),
    "rss both": (_rss("<ttl>120</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"), 2 * HOUR),
    "rss item ttl is not the feed's": (_rss(items="<item><title>a</title><ttl>600</ttl></item>"), None),
    "rss other prefix": (_rss('<s:updatePeriod xmlns:s="http://purl.org/rss/1.0/modules/syndication/">'
                              "weekly</s:updatePeriod>", ns=""), 7 * DAY),
    "atom sy": (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" ' + SY.encode()
                + b"><title>A</title><sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>3"
                b"</sy:updateFrequency><entry><title>e</title><id>e</id></entry></feed>", DAY / 3),
    "two ttls: the last": (_rss("<ttl>10</ttl><ttl>99</ttl>"), 99 * MIN),
    "ttl after the items": (_rss(items="<item><title>a</title></item><ttl>42</ttl>"), 42 * MIN),
    "no hint": (_rss(), None),
}


@pytest.mark.parametrize("name", HINTED_DOCUMENTS)
def test_issue11_fast_path_and_feedparser_read_the_same_hints(name: str) -> None:
    body, expected = HINTED_DOCUMENTS[name]
    url = "http://127.0.0.1/feed"
    fast = parse_fast(body, url)
    assert fast is not None, "the fast path should read this one"
    slow = parse._parse_with_feedparser(body, url, {})
    assert feed_interval(fast.ttl, fast.update_period, fast.update_frequency) == expected
    assert feed_interval(slow.ttl, slow.update_period, slow.update_frequency) == expected
    assert parse_feed(body, url).interval == expected


def test_issue11_rss1_hints_through_feedparser() -> None:
    body = (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns="http://purl.org/rss/1.0/" ' + SY.encode() + b"><channel><title>t</title>"
            b"<sy:updatePeriod>weekly</sy:updatePeriod></channel><item><title>x</title></item></rdf:RDF>")
    assert parse_fast(body, "http://127.0.0.1/f") is None  # feedparser's alone
    assert parse_feed(body, "http://127.0.0.1/f").interval == 7 * DAY


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md") if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no corpus at {CORPUS}")
def test_issue11_corpus_hints_agree_between_parsers() -> None:
    """Every real-world feed the fast path reads gives the same schedule hint as feedparser."""
    hinted = 0
    for path in CORPUS_FILES:
        body, url = path.read_bytes(), f"http://127.0.0.1/{path.name}"
        fast = parse_fast(body, url)
        if fast is None:
            continue
        slow = parse._parse_with_feedparser(body, url, {})
        a = feed_interval(fast.ttl, fast.update_period, fast.update_frequency)
        assert a == feed_interval(slow.ttl, slow.update_period, slow.update_frequency), path
        hinted += a is not None
    assert hinted >= 5  # the corpus has ttl and sy feeds (WordPress, narro, dropbox...)


# --- through a real server ------------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # when set, a matching If-None-Match gets a 304 (with `headers`)


class Site:
    """A FeedServer whose routes answer what each test sets, counting requests per path."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.answers: dict[str, Answer] = {}

    def url(self, path: str) -> str:
        return self.server.url(path)

    def set(self, path: str, answer: Answer) -> str:
        if path not in self.answers:
            self.server.route(path, self._handler(path))
        self.answers[path] = answer
        return self.url(path)

    def count(self, path: str) -> int:
        return sum(1 for target, _ in self.server.requests if target.split("?")[0] == "/" + path.lstrip("/"))

    def _handler(self, path: str) -> Callable[[BaseHTTPRequestHandler], None]:
        def handle(request: BaseHTTPRequestHandler) -> None:
            answer = self.answers[path]
            status, body = answer.status, answer.body
            if answer.etag and request.headers.get("If-None-Match") == answer.etag:
                status, body = 304, b""
            request.send_response(status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            if answer.etag:
                request.send_header("ETag", answer.etag)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return handle


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with FeedServer(tmp_path) as server:
        yield Site(server)


def _feed(channel: str = "", dates: list[float] | None = None) -> bytes:
    """An RSS feed with one post per date (default: one post an hour, the newest now)."""
    now = time.time()
    dates = dates if dates is not None else [now - n * HOUR for n in range(5)]
    items = "".join(
        f"<item><title>p{n}</title><guid>p{n}</guid><link>https://example.invalid/{n}</link>"
        f"<pubDate>{_http_date(d)}</pubDate></item>"
        for n, d in enumerate(dates)
    )
    return _rss(channel, items)


OPTIONS = FetchOptions(timeout=10)  # the default policy: 30m, floor 10m, ceiling 1d


def _due_in(store: Store, url: str) -> float:
    state = store.schedule_of(url)
    assert state is not None and state[1] is not None
    return state[1] - time.time()


def _fetch(store: Store, url: str, **kwargs: object) -> str:
    store.add_feed(url)
    [outcome] = refresh(store, [url], options=OPTIONS, **kwargs).outcomes  # type: ignore[arg-type]
    return outcome.status


def test_issue11_new_feed_is_due_now_then_due_after_the_base(store: Store, site: Site) -> None:
    url = site.set("plain.xml", Answer(body=_feed()))
    store.add_feed(url)
    assert store.schedule_of(url) == (None, None, None, 0)  # due now
    assert _fetch(store, url) == "new"
    assert _due_in(store, url) == pytest.approx(30 * MIN, abs=60)


@pytest.mark.parametrize(("name", "answer", "expected", "asked"), [
    ("ttl", Answer(body=_feed("<ttl>180</ttl>")), 3 * HOUR, 3 * HOUR),
    ("sy", Answer(body=_feed("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>")),
     HOUR, HOUR),
    ("max-age", Answer(body=_feed(), headers={"Cache-Control": "public, max-age=7200"}), 2 * HOUR, 2 * HOUR),
    # Built when the test runs, not when it is collected: a run of minutes would move "5 hours from now".
    ("expires", lambda: Answer(body=_feed(), headers={"Expires": _http_date(time.time() + 5 * HOUR)}),
     5 * HOUR, 5 * HOUR),
    ("too long", Answer(body=_feed(), headers={"Cache-Control": "max-age=31536000"}), DAY, 365 * DAY),  # the ceiling
    ("too short", Answer(body=_feed("<ttl>1</ttl>")), 30 * MIN, MIN),  # the base
])
def test_issue11_each_hint_through_a_real_server(
    store: Store, site: Site, name: str, answer: Answer | Callable[[], Answer], expected: float, asked: float
) -> None:
    url = site.set(f"{name.replace(' ', '-')}.xml", answer() if callable(answer) else answer)
    assert _fetch(store, url) == "new"
    assert _due_in(store, url) == pytest.approx(expected, abs=60)
    assert store.schedule_of(url)[2] == pytest.approx(asked, abs=60)  # asked_interval: what was asked, unclamped


def test_issue11_a_304_keeps_the_documents_ask_and_takes_the_servers_new_one(store: Store, site: Site) -> None:
    url = site.set("etag.xml", Answer(body=_feed("<ttl>180</ttl>"), etag='"v1"'))
    assert _fetch(store, url) == "new"
    assert _due_in(store, url) == pytest.approx(3 * HOUR, abs=60)
    # The 304 is not parsed: the document's ttl still holds; its max-age, longer, is the 304's own.
    site.set("etag.xml", Answer(body=_feed("<ttl>180</ttl>"), etag='"v1"', headers={"Cache-Control": "max-age=14400"}))
    assert _fetch(store, url) == "not_modified"
    assert _due_in(store, url) == pytest.approx(4 * HOUR, abs=60)
    site.set("etag.xml", Answer(body=_feed("<ttl>180</ttl>"), etag='"v1"'))
    assert _fetch(store, url) == "not_modified"
    assert _due_in(store, url) == pytest.approx(3 * HOUR, abs=60)  # that max-age was the last answer's only


def test_issue11_an_unchanged_body_is_scheduled_too(store: Store, site: Site) -> None:
    url = site.set("same.xml", Answer(body=_feed("<ttl>120</ttl>")))
    assert _fetch(store, url) == "new"
    store.db.execute("UPDATE feeds SET next_due = NULL")  # forget it, to see the second fetch set it
    assert _fetch(store, url) == "unchanged"
    assert _due_in(store, url) == pytest.approx(2 * HOUR, abs=60)


def test_issue11_a_feed_silent_for_a_year_is_not_asked_every_30_minutes(store: Store, site: Site) -> None:
    year_ago = time.time() - 365 * DAY
    url = site.set("silent.xml", Answer(body=_feed(dates=[year_ago - n * DAY for n in range(10)])))
    assert _fetch(store, url) == "new"
    assert _due_in(store, url) == pytest.approx(DAY, abs=60)


def test_issue11_failures_back_off_and_a_success_resets(store: Store, site: Site) -> None:
    url = site.set("down.xml", Answer(status=500, body=b"down"))
    store.add_feed(url)
    for failures, expected in [(1, 30 * MIN), (2, HOUR), (3, 2 * HOUR), (4, 4 * HOUR)]:
        assert _fetch(store, url) == "error"
        assert store.schedule_of(url)[3] == failures
        assert _due_in(store, url) == pytest.approx(expected, abs=60)
    site.set("down.xml", Answer(body=_feed()))
    assert _fetch(store, url) == "new"
    assert store.schedule_of(url)[3] == 0
    assert _due_in(store, url) == pytest.approx(30 * MIN, abs=60)


def test_issue11_retry_after_holds_the_feed_and_due_skips_it(store: Store, site: Site) -> None:
    url = site.set("busy.xml", Answer(status=503, body=b"busy", headers={"Retry-After": str(int(6 * HOUR))}))
    assert _fetch(store, url) == "error"
    assert _due_in(store, url) == pytest.approx(6 * HOUR, abs=60)
    before = site.count("busy.xml")
    assert refresh(store, options=OPTIONS, due=True).outcomes == []
    assert site.count("busy.xml") == before
    # A full refresh doesn't ask either (Retry-After, as before), and the feed stays held.
    [skipped] = refresh(store, options=OPTIONS).outcomes
    assert skipped.status == "skipped" and site.count("busy.xml") == before
    assert _due_in(store, url) == pytest.approx(6 * HOUR, abs=60)


def test_issue11_a_gone_feed_is_held_for_the_ceiling(store: Store, site: Site) -> None:
    url = site.set("gone.xml", Answer(status=410, body=b"gone"))
    assert _fetch(store, url) == "error"
    [skipped] = refresh(store, options=OPTIONS).outcomes  # not asked again unless named
    assert skipped.status == "skipped"
    assert _due_in(store, url) == pytest.approx(DAY, abs=60)
    assert refresh(store, options=OPTIONS, due=True).outcomes == []  # not listed as skipped every cron run


def test_issue11_settings_shape_the_schedule(store: Store, site: Site) -> None:
    url = site.set("set.xml", Answer(body=_feed()))
    store.add_feed(url)
    options = FetchOptions(timeout=10, schedule=Policy(every=3 * HOUR, floor=MIN, ceiling=2 * DAY))
    refresh(store, [url], options=options)
    assert _due_in(store, url) == pytest.approx(3 * HOUR, abs=60)
    store.set_every(url, 20 * MIN, POLICY)  # the user's interval, counted from the last fetch
    assert _due_in(store, url) == pytest.approx(20 * MIN, abs=60)
    refresh(store, [url], options=options)
    assert _due_in(store, url) == pytest.approx(20 * MIN, abs=60)


def test_issue11_due_fetches_only_the_due_feeds(store: Store, site: Site) -> None:
    urls = [site.set(f"f{n}.xml", Answer(body=_feed())) for n in range(4)]
    for url in urls:
        store.add_feed(url)
    assert len(refresh(store, options=OPTIONS).outcomes) == 4
    counts = [site.count(f"f{n}.xml") for n in range(4)]
    assert refresh(store, options=OPTIONS, due=True).outcomes == []  # none due
    store.db.execute("UPDATE feeds SET next_due = ? WHERE url = ?", (time.time() - 1, urls[2]))
    late = site.set("late.xml", Answer(body=_feed()))
    store.add_feed(late)  # just added: due now
    summary = refresh(store, options=OPTIONS, due=True)
    assert sorted(o.url for o in summary.outcomes) == sorted([urls[2], late])
    assert [site.count(f"f{n}.xml") for n in range(4)] == [c + (n == 2) for n, c in enumerate(counts)]
    assert site.count("late.xml") == 1


# --- the command line -----------------------------------------------------------------------------


def test_issue11_refresh_due_says_what_it_left_and_exits_at_once(cli, store: Store, site: Site) -> None:
    urls = [site.set(f"c{n}.xml", Answer(body=_feed())) for n in range(3)]
    for url in urls:
        store.add_feed(url)
    first = cli("refresh", "--due")
    assert first.code == 0 and "3 feeds checked" in first.out and "not due" not in first.out
    requests = len(site.server.requests)
    started = time.monotonic()
    idle = cli("refresh", "--due")
    assert time.monotonic() - started < 1.0
    assert idle.code == 0 and len(site.server.requests) == requests  # no network
    soonest = min(store.schedule_of(u)[1] for u in urls)
    assert idle.out.strip() == f"no feed due (3 feeds not due yet; next at {format_when(soonest)})"
    assert cli("refresh", "--due", "--quiet").out == ""
    store.db.execute("UPDATE feeds SET next_due = NULL WHERE url = ?", (urls[0],))
    some = cli("refresh", "--due")
    assert some.code == 0 and "1 feed checked" in some.out
    assert "2 feeds not due; next at " in some.out
    assert len(site.server.requests) == requests + 1


def test_issue11_feeds_shows_next_due_and_every(cli, store: Store, site: Site, utc: None) -> None:
    fetched = site.set("shown.xml", Answer(body=_feed()))
    never = site.set("never.xml", Answer(body=_feed()))
    store.add_feed(fetched)
    store.add_feed(never)
    refresh(store, [fetched], options=OPTIONS)
    due = store.schedule_of(fetched)[1]
    out = cli("feeds").out
    assert f"next {format_when(due)}; id" in out
    assert "(updated never; due now; id" in out
    assert cli("schedule", fetched, "2h").code == 0
    assert f"next {format_when(store.schedule_of(fetched)[1])}, every 2h; id" in cli("feeds").out
    rows = {row["url"]: row for row in json.loads(cli("feeds", "--json").out)}
    assert rows[never]["next_due"] is None and rows[never]["every"] is None
    assert rows[fetched]["every"] == 7200 and isinstance(rows[fetched]["every"], int)
    assert rows[fetched]["next_due"].endswith("Z")
    assert abs(time.mktime(time.strptime(rows[fetched]["next_due"][:19], "%Y-%m-%dT%H:%M:%S"))
               - store.schedule_of(fetched)[1]) < 1


def test_issue11_schedule_command_shows_sets_and_clears(cli, store: Store, site: Site) -> None:
    url = site.set("cmd.xml", Answer(body=_feed("<ttl>60</ttl>")))
    store.add_feed(url)
    feed_id = store.get_feed(url).id
    assert cli("schedule", str(feed_id)).out.strip() == f"auto; due now  {url}"
    refresh(store, [url], options=OPTIONS)
    shown = cli("schedule", url).out
    assert shown.startswith("auto: every 1h after the last fetch (the feed or its server asked 1h); next ")
    result = cli("schedule", str(feed_id), "90m")
    assert result.code == 0 and result.out.startswith(f"every 1h 30m: {url} (next ")
    assert store.schedule_of(url)[0] == 90 * MIN
    assert _due_in(store, url) == pytest.approx(90 * MIN, abs=60)
    assert cli("schedule", url).out.startswith("every 1h 30m (set;")
    assert cli("schedule", url, "auto").out.startswith(f"auto: {url} (next ")
    assert store.schedule_of(url)[0] is None
    assert _due_in(store, url) == pytest.approx(HOUR, abs=60)


@pytest.mark.parametrize("bad", ["5s", "0", "soon", "1 fortnight", "2y"])
def test_issue11_schedule_command_refuses_a_bad_interval_in_one_line(
    cli, store: Store, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_feed("https://example.invalid/feed")
    with pytest.raises(SystemExit) as info:  # argparse's exit, as for every bad argument
        cli("schedule", "https://example.invalid/feed", bad)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert "a duration of a minute or more" in err and len(err.strip().splitlines()) == 1
    assert store.schedule_of("https://example.invalid/feed")[0] is None


def test_issue11_schedule_command_unknown_feed(cli, store: Store) -> None:
    result = cli("schedule", "42")
    assert result.code == 1 and result.err.strip() == "reader: not subscribed: 42 (see: reader feeds)"


def test_issue11_a_v9_cache_migrates_and_its_feeds_are_due_now(tmp_path: Path) -> None:
    import sqlite3

    from reader.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "v9.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:9]:
        step(db)
    db.execute("PRAGMA user_version = 9")
    db.execute("INSERT INTO feeds (url, title, added, every) VALUES ('https://o.example/f', 'Old', 0, 7200)")
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.schedule_of("https://o.example/f") == (7200, None, None, 0)
    assert [f.url for f in store.feeds_to_refresh(due_by=time.time())] == ["https://o.example/f"]
    assert store.reschedule("https://o.example/f", POLICY, parsed=True, feed_interval=HOUR, now=NOW) == NOW + 2 * HOUR
    store.close()


def test_issue11_a_lowered_ceiling_holds_at_once(store: Store) -> None:
    """A feed scheduled a day ahead under the old ceiling is due by the new one's reckoning, from its last
    check: lowering refresh_ceiling in config.toml takes effect now, not after each feed's next fetch."""
    store.add_feed("https://c.example/feed")
    now = time.time()
    store.db.execute(
        "UPDATE feeds SET last_checked = ?, next_due = ? WHERE url = 'https://c.example/feed'",
        (now - 2 * HOUR, now + DAY),
    )
    assert store.feeds_to_refresh(due_by=now) == []
    assert [f.url for f in store.feeds_to_refresh(due_by=now, ceiling=HOUR)] == ["https://c.example/feed"]
    assert store.due_summary(now, ceiling=HOUR)[:2] == (1, 0)
    assert store.due_summary(now, ceiling=3 * HOUR) == (0, 1, now - 2 * HOUR + 3 * HOUR)
    # The user's own interval, and a server's Retry-After still running, keep their time.
    store.db.execute("UPDATE feeds SET retry_after = ?", (now + DAY,))
    assert store.feeds_to_refresh(due_by=now, ceiling=HOUR) == []
