"""Enclosures (issue 10, first part): podcast episodes, videos and attachments, parsed from RSS
<enclosure>, Atom rel="enclosure" and Media RSS on both parse paths, stored, shown, listed and queried."""

from __future__ import annotations

from pathlib import Path

import pytest
from feedserver import FeedServer

from reader.models import Enclosure
from reader.parse import parse_duration, parse_feed

RSS = """<?xml version="1.0" encoding="utf-8"?>{doctype}
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Cast</title><link>https://cast.example/</link>
<item><title>Episode 12</title><link>https://cast.example/12</link><guid>ep12</guid>
  <enclosure url="/media/ep12.mp3" type="audio/mpeg" length="48200000"/>
  <itunes:duration>1:02:03</itunes:duration><description>Show notes</description></item>
<item><title>A video</title><link>https://cast.example/v</link><guid>v1</guid>
  <media:group><media:content url="https://cdn.example/v1.mp4" type="video/mp4" fileSize="1000" duration="95"/>
  </media:group></item>
<item><title>Hostile</title><link>https://cast.example/h</link><guid>h</guid>
  <enclosure url="javascript:alert(1)" type="audio/mpeg" length="1"/>
  <enclosure url="https://cast.example/a.ogg" type="AUDIO/OGG; codecs=vorbis" length="0"/>
  <enclosure url="https://cast.example/a.ogg" type="audio/ogg" length="5"/>
  <enclosure url="https://cast.example/b.bin" type="[bold]x[/]" length="lots"/></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>a</id>
<entry><title>Attached</title><id>e1</id><updated>2026-01-01T00:00:00Z</updated>
  <link rel="alternate" href="https://a.example/e1"/>
  <link rel="enclosure" href="files/report.pdf" type="application/pdf" length="2048"/></entry>
</feed>"""


@pytest.mark.parametrize("doctype", ["", "<!DOCTYPE rss>"], ids=["fast path", "feedparser"])
def test_rss_enclosures_and_media_rss_on_both_parse_paths(doctype: str) -> None:
    feed = parse_feed(RSS.format(doctype=doctype).encode(), "https://cast.example/feed.xml")
    episode, video, hostile = feed.entries
    assert episode.enclosures == [Enclosure("https://cast.example/media/ep12.mp3", "audio/mpeg", 48200000, 3723.0)]
    assert video.enclosures == [Enclosure("https://cdn.example/v1.mp4", "video/mp4", 1000, 95.0)]
    # javascript: dropped; a URL once; the type without its parameters, lowercased; "0" and "lots"
    # are no length; a type that is no MIME type is none.
    assert hostile.enclosures == [
        Enclosure("https://cast.example/a.ogg", "audio/ogg", None, None),
        Enclosure("https://cast.example/b.bin", "", None, None),
    ]


def test_atom_enclosure_links_resolve_against_the_entry() -> None:
    feed = parse_feed(ATOM.encode(), "https://a.example/feed.atom")
    assert feed.entries[0].enclosures == [Enclosure("https://a.example/files/report.pdf", "application/pdf", 2048)]
    assert feed.entries[0].link == "https://a.example/e1"  # the enclosure link is not the post's link


@pytest.mark.parametrize(("text", "seconds"), [
    ("2700", 2700.0), ("45:00", 2700.0), ("1:02:03", 3723.0), ("90.5", 90.5), ("", None), ("soon", None),
    ("1:2:3:4", None), ("-5", None), ("nan", None), ("9" * 30, None),
])
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.fixture
def cast(tmp_path: Path) -> FeedServer:
    folder = tmp_path / "cast"
    folder.mkdir()
    (folder / "cast.xml").write_text(RSS.format(doctype=""))
    with FeedServer(folder) as server:
        yield server


def test_enclosures_are_stored_shown_listed_and_queried(cast, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("add", cast.url("/cast.xml")).code == 0
    posts = {p["title"]: p for p in cli("entries", "--json").json()}
    assert posts["Episode 12"]["enclosures"] == [
        {"url": cast.url("/media/ep12.mp3"), "type": "audio/mpeg", "length": 48200000, "duration": 3723.0}
    ]
    assert posts["Hostile"]["enclosures"][0]["url"] == "https://cast.example/a.ogg"
    shown = cli("show", str(posts["Episode 12"]["id"])).out
    assert f"Enclosure:  {cast.url('/media/ep12.mp3')} (audio/mpeg, 46.0 MB, 1:02:03)" in shown
    titles = lambda *q: sorted(p["title"] for p in cli("entries", "--json", *q).json())  # noqa: E731
    assert titles("has:enclosure") == ["A video", "Episode 12", "Hostile"]
    assert titles("type:audio") == ["Episode 12", "Hostile"]
    assert titles("type:video/mp4") == ["A video"]
    assert titles("-type:audio") == ["A video"]
    assert "has:pictures is not known" in cli("entries", "has:pictures").err


def test_a_changed_enclosure_is_stored_again(cast, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cli("add", cast.url("/cast.xml"))
    feed = tmp_path / "cast" / "cast.xml"
    feed.write_text(feed.read_text().replace("/media/ep12.mp3", "/media/ep12-fixed.mp3"))
    assert cli("refresh").code == 0
    episode = next(p for p in cli("entries", "--json").json() if p["title"] == "Episode 12")
    assert [e["url"] for e in episode["enclosures"]] == [cast.url("/media/ep12-fixed.mp3")]


@pytest.mark.asyncio
async def test_the_reading_pane_header_lists_enclosures(cast, cli, store) -> None:  # type: ignore[no-untyped-def]
    from tui_support import make_app, screen_text, settle

    store.add_feed(cast.url("/cast.xml"))
    store.save_parsed(cast.url("/cast.xml"), parse_feed(RSS.format(doctype="").encode(), cast.url("/cast.xml")))
    store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("/")
        await pilot.press(*"type:audio/mpeg", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Enclosure: " in text and "ep12.mp3 (audio/mpeg, 46.0 MB, 1:02:03)" in text


def test_hostile_enclosure_urls_never_reach_the_terminal() -> None:
    from reader.parse import clean_enclosures
    from reader.render import describe_enclosure

    found = clean_enclosures([
        ("https://x.example/a\x1b]52;c;SGVsbG8=\x07.mp3", "audio/mpeg\x1b[2J", "12", ""),  # escapes: refused
        ("javascript:alert(1)", "audio/mpeg", "1", ""),
        ("https://u:pw@x.example/b.mp3", "audio/mpeg", "1234567", "65"),
        ("https://x.example/feed.xml", "audio/mpeg", "", ""),  # the feed itself: an empty href resolved
    ], feed_url="https://x.example/feed.xml")
    assert [e.url for e in found] == ["https://u:pw@x.example/b.mp3"]
    assert describe_enclosure(found[0]) == "https://u:***@x.example/b.mp3 (audio/mpeg, 1.2 MB, 1:05)"
