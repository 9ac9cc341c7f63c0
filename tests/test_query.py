"""The query language: parsing, errors, and what each term matches in a real cache."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reader.models import ParsedEntry, ParsedFeed
from reader.query import QueryError, Term, parse_query
from reader.store import Store

DAY = 86400


def test_terms() -> None:
    q = parse_query('meetup "post mortem" category:"Hong Kong" -category:BGP feed:cloud author:tom is:Unread since:7d')
    assert q.terms == [
        Term(None, "meetup"),
        Term(None, "post mortem", phrase=True),
        Term("category", "Hong Kong"),
        Term("category", "BGP", negated=True),
        Term("feed", "cloud"),
        Term("author", "tom"),
        Term("is", "unread"),
        Term("since", "7d"),
    ]
    assert not parse_query("   ")
    assert parse_query('"re:invent"').terms == [Term(None, "re:invent", phrase=True)]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"unterminated', "unterminated quote"),
        ('category:"Hong', "unterminated quote"),
        ("category:", "needs a value"),
        ('category:""', "needs a value"),
        ("colour:red", "unknown filter"),
        ("is:maybe", "is:maybe is not known"),
        ("since:yesterday", "bad date"),
        ("before:2024-13-45", "bad date"),
        ("-", "lone -"),
        ('""', "empty quotes"),
        ("***", "no letters"),
    ],
)
def test_malformed_queries_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert fragment in str(info.value)


@pytest.fixture
def filled(tmp_path: Path) -> Store:
    store = Store(tmp_path / "q.sqlite")
    now = time.time()

    def entry(key: str, title: str, author: str, age_days: float, cats: list[str], content: str) -> ParsedEntry:
        return ParsedEntry(key, title, f"https://e.x/{key}", author, now - age_days * DAY, cats, content, None)

    store.add_feed("https://a.example/feed", categories=["Tech News"])
    store.save_parsed("https://a.example/feed", ParsedFeed("Alpha Weekly", None, [
        entry("a1", "Routing with BGP", "Tom Paseka", 1, ["BGP", "Networking"], "<p>anycast routes</p>"),
        entry("a2", "Café opening", "Zoë", 10, ["Food"], "<p>the new café serves coffee</p>"),
    ]))
    store.add_feed("https://b.example/feed")
    store.save_parsed("https://b.example/feed", ParsedFeed("Beta Blog", None, [
        entry("b1", "Post mortem of an outage", "Ann", 3, ["Outage"], "<p>a routing mistake</p>"),
        entry("b2", "Sports roundup", "Bob", 400, ["sports"], "<p>scores</p>"),
    ]))
    return store


def titles(store: Store, text: str) -> list[str]:
    where, params = parse_query(text).to_sql()
    return [r.title for r in store.list_entries(where, params)]


def test_matching(filled: Store) -> None:
    assert titles(filled, "") == ["Routing with BGP", "Post mortem of an outage", "Café opening", "Sports roundup"]
    assert titles(filled, "routing") == ["Routing with BGP", "Post mortem of an outage"]
    assert titles(filled, "rout") == ["Routing with BGP", "Post mortem of an outage"]  # prefix while typing
    assert titles(filled, '"post mortem"') == ["Post mortem of an outage"]
    assert titles(filled, "cafe") == ["Café opening"]  # diacritics folded
    assert titles(filled, "category:bgp") == ["Routing with BGP"]
    assert titles(filled, 'category:"tech news"') == ["Routing with BGP", "Café opening"]  # the feed's category
    assert titles(filled, "category:SPORTS") == ["Sports roundup"]
    assert titles(filled, "-category:sports -category:bgp") == ["Post mortem of an outage", "Café opening"]
    assert titles(filled, "feed:beta") == ["Post mortem of an outage", "Sports roundup"]
    assert titles(filled, "feed:a.example") == ["Routing with BGP", "Café opening"]
    assert titles(filled, "author:paseka") == ["Routing with BGP"]
    assert titles(filled, "since:7d") == ["Routing with BGP", "Post mortem of an outage"]
    assert titles(filled, "before:30d") == ["Sports roundup"]
    assert titles(filled, "routing -mistake") == ["Routing with BGP"]
    assert titles(filled, "author:100%") == []  # LIKE wildcards are literal


def test_read_and_starred(filled: Store) -> None:
    ids = {r.title: r.id for r in filled.list_entries()}
    filled.set_flag([ids["Café opening"]], "read", True)
    filled.set_flag([ids["Sports roundup"]], "starred", True)
    assert titles(filled, "is:read") == ["Café opening"]
    assert "Café opening" not in titles(filled, "is:unread")
    assert titles(filled, "is:starred") == ["Sports roundup"]
    assert len(titles(filled, "is:unstarred")) == 3


def test_absolute_dates(filled: Store) -> None:
    assert titles(filled, "since:2000-01-01 before:2000-02-01") == []
    assert len(titles(filled, "since:2000-01-31")) == 4


# --- issue 8, item 5 (crashes): dates at the ends of the calendar --------------------------

EXTREME_DATES = [
    "since:0001-01", "since:0001-01-01", "before:0001-01-01", "since:0001-01-01T00:00",
    "since:9999-12-31", "before:9999-12-31", "before:9999-12-31T23:59:59", "since:9999-12",
    "since:999999y", "before:999999y", "since:999999h", "-since:0001-01-01",
]


@pytest.fixture(params=["Asia/Tokyo", "America/Adak", "UTC"])
def zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """East of UTC, year 1 local midnight is in year 0 UTC; west of it, 9999-12-31 ends in year 10000."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("text", EXTREME_DATES)
def test_issue8_extreme_dates_give_a_bound_not_a_crash(zone: str, text: str) -> None:
    where, params = parse_query(text).to_sql()  # what the app's filter bar and `reader entries` call
    assert "published" in where
    assert all(isinstance(p, float) for p in params)


def test_issue8_extreme_dates_bound_the_right_side(zone: str, filled: Store) -> None:
    everything = titles(filled, "")
    assert titles(filled, "since:0001-01") == everything
    assert titles(filled, "before:0001-01-01") == []
    assert titles(filled, "since:9999-12-31") == []
    assert titles(filled, "before:9999-12-31T23:59:59") == everything
    assert titles(filled, "since:999999y") == everything


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["since", "before", "-since"]), value=st.text(min_size=1, max_size=30))
def test_issue8_any_date_text_is_a_bound_or_a_query_error(field: str, value: str) -> None:
    try:
        query = parse_query(f'{field}:"{value}"')
    except QueryError:
        return
    query.to_sql()  # parsed means usable: nothing else may escape
