"""Issue 10, enclosures from the sync server: a Google Reader API item's `enclosure` array (FreshRSS:
`[{href, type, length}]`) is stored like a fetched post's enclosures. Against a real FreshRSS."""

from __future__ import annotations

import json
from email.utils import formatdate

import pytest
from sync_support import BASE_TIME, log_in

from reader.config import db_path
from reader.models import Enclosure
from reader.store import Store
from reader.sync.items import parse_item

ITEM = {"id": "tag:google.com,2005:reader/item/0000000000000001", "origin": {"streamId": "feed/1"}}


def test_enclosures_of_an_item_are_cleaned_like_a_fetched_feeds() -> None:
    item = parse_item({**ITEM, "enclosure": [
        {"href": "https://cast.example/ep1.mp3", "type": "audio/mpeg", "length": 48200000},
        {"href": "javascript:alert(1)", "type": "audio/mpeg"},
        {"href": "https://cast.example/\x1b]52;c;aGk=\x07ep.mp3", "type": "audio/mpeg"},
        {"href": "https://cast.example/ep1.mp3", "type": "audio/mpeg"},  # the same file again
        {"url": "https://cast.example/v.mp4", "type": "VIDEO/MP4; codecs=x", "length": "1000"},
        {"href": "https://cast.example/pic.jpg", "type": "image", "length": True},  # FreshRSS's medium, no MIME type
        {"href": 5}, "not a dict", None,
    ]})
    assert item is not None
    assert item.enclosures == [
        Enclosure("https://cast.example/ep1.mp3", "audio/mpeg", 48200000),
        Enclosure("https://cast.example/v.mp4", "video/mp4", 1000),
        Enclosure("https://cast.example/pic.jpg", "", None),
    ]


def test_other_servers_shapes_and_caps() -> None:
    # Atom-like: the file among the alternates, marked rel="enclosure"; the page itself is not one.
    item = parse_item({**ITEM, "alternate": [
        {"href": "https://blog.example/post", "type": "text/html"},
        {"href": "https://blog.example/report.pdf", "type": "application/pdf", "rel": "enclosure"},
    ]})
    assert item is not None and item.link == "https://blog.example/post"
    assert item.enclosures == [Enclosure("https://blog.example/report.pdf", "application/pdf")]
    many = parse_item({**ITEM, "enclosure": [{"href": f"https://x.example/{n}.mp3"} for n in range(10_000)]})
    assert many is not None and len(many.enclosures) == 20
    for junk in ({"enclosure": "https://x.example/a.mp3"}, {"enclosure": {"href": None}}, {"enclosure": 7}, {}):
        parsed = parse_item({**ITEM, **junk})
        assert parsed is not None and parsed.enclosures == []


PODCAST = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Cast</title><link>https://cast.example.org/</link><description>x</description>
<item><title>Episode 1</title><link>https://cast.example.org/1</link><guid>https://cast.example.org/1</guid>
  <pubDate>{date}</pubDate><description>Show notes</description>
  <enclosure url="https://cdn.example.org/ep1.mp3" type="audio/mpeg" length="48200000"/></item>
<item><title>Hostile</title><link>https://cast.example.org/2</link><guid>https://cast.example.org/2</guid>
  <pubDate>{date}</pubDate><description>x</description>
  <enclosure url="javascript:alert(1)" type="audio/mpeg" length="1"/></item>
<item><title>Plain</title><link>https://cast.example.org/3</link><guid>https://cast.example.org/3</guid>
  <pubDate>{date}</pubDate><description>No file</description></item>
</channel></rss>"""


@pytest.mark.usefixtures("freshrss")
def test_enclosures_arrive_from_freshrss_into_the_cache(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    (folder / "cast.xml").write_text(PODCAST.format(date=formatdate(BASE_TIME, usegmt=True)), encoding="utf-8")
    stream_id = freshrss.api.subscribe(server.url("/cast.xml"))
    freshrss.refresh(stream_id)
    # What the server says, read with the fixture's own client: the shape this relies on.
    raw = {item["title"]: item for item in freshrss.api.contents()}
    assert raw["Episode 1"]["enclosure"][0]["href"] == "https://cdn.example.org/ep1.mp3"
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    assert cli("sync").code == 0
    store = Store(db_path())
    try:
        by_title = {row.title: store.get_entry(row.id) for row in store.list_entries()}
    finally:
        store.close()
    assert by_title["Episode 1"].enclosures == [Enclosure("https://cdn.example.org/ep1.mp3", "audio/mpeg", 48200000)]
    assert by_title["Hostile"].enclosures == []
    assert by_title["Plain"].enclosures == []
    # Shown and queried like a fetched post's.
    shown = cli("entries", "has:enclosure", "--json").json()
    assert [(e["title"], [x["url"] for x in e["enclosures"]]) for e in shown] == [
        ("Episode 1", ["https://cdn.example.org/ep1.mp3"])
    ]
    assert "javascript" not in json.dumps(shown)
