"""The acceptance path of the core: the seed feed over loopback HTTP, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from feedserver import FeedServer


def test_seed_feed_end_to_end(cli, tmp_path: Path) -> None:
    root = Path(__file__).parent / "data"
    with FeedServer(root) as server:
        url = server.url("blog-hong-kong.xml")
        added = cli("add", url, "--category", "Blogs")
        assert added.code == 0, added.err
        refreshed = cli("refresh")
        assert refreshed.code == 0
        assert refreshed.out.startswith("1 feed checked in") and "0 failed" in refreshed.out
        # `add` stored the posts already, so this refresh finds nothing new.
        assert "0 with new posts (0 new entries), 1 not modified, 0 failed" in refreshed.out

        entries = cli("entries", "--json").json()
        assert len(entries) == 3
        assert {e["feed_url"] for e in entries} == {url}

        def count(query: str) -> int:
            return len(cli("entries", query, "--json").json())

        assert count('category:"Hong Kong"') == 3
        assert count("category:BGP") == 1
        assert count("category:Blogs") == 3
        assert count("category:blogs") == 3  # case-insensitive
        meetup = cli("entries", "meetup", "--json").json()
        assert [e["title"] for e in meetup] == ["CloudFlare meetup in Hong Kong"]

        shown = cli("show", str(meetup[0]["id"]))
        assert shown.code == 0
        assert "### Meetup Details" in shown.out
        assert "](#" not in shown.out and "[ ]" not in shown.out
        assert "&amp;" not in shown.out
        assert "RSVP & More information" in shown.out
        assert "http://www.meetup.com/CloudFlare-Meetups/events/77779312/" in shown.out
        assert "Author:     Kristin Tarr" in shown.out

        cli("mark", str(meetup[0]["id"]), "--read")
        cli("mark", str(meetup[0]["id"]), "--star")

    # The server is gone: the refresh records the failure and loses nothing.
    refreshed = cli("refresh")
    assert refreshed.code == 0
    assert "1 failed" in refreshed.out
    assert "connection refused" in refreshed.err
    quiet = cli("refresh", "--quiet")  # cron: nothing but the failures
    assert quiet.code == 0 and quiet.out == "" and "failed: " in quiet.err
    feeds = cli("feeds", "--json").json()
    assert feeds[0]["last_error"] and "refused" in feeds[0]["last_error"]
    assert feeds[0]["total"] == 3 and feeds[0]["unread"] == 2
    after = {e["id"]: e for e in cli("entries", "--json").json()}
    assert len(after) == 3
    assert after[meetup[0]["id"]]["read"] and after[meetup[0]["id"]]["starred"]


def test_add_refuses_a_page_that_is_not_a_feed(cli, feed_server: FeedServer) -> None:
    result = cli("add", feed_server.url("plain.html"))
    assert result.code == 1
    assert "HTML page" in result.err
    assert cli("feeds", "--json").json() == []


def test_add_follows_a_page_to_the_feed_it_links(cli, feed_server: FeedServer) -> None:
    result = cli("add", feed_server.url("not-a-feed.html"))
    assert result.code == 0, result.err
    feeds = cli("feeds", "--json").json()
    assert [f["url"] for f in feeds] == [feed_server.url("blog-hong-kong.xml")]
    assert feeds[0]["total"] == 3


def test_add_refuses_other_schemes_and_dead_servers(cli, feed_server: FeedServer) -> None:
    assert cli("add", "file:///etc/passwd").code == 1
    assert cli("add", "javascript:alert(1)").code == 1
    dead = cli("add", feed_server.url("status/404/x.xml"))
    assert dead.code == 1 and "HTTP 404" in dead.err
    junk = cli("add", feed_server.url("junk.bin"))
    assert junk.code == 1 and "not a feed" in junk.err
    empty = cli("add", feed_server.url("empty.xml"))
    assert empty.code == 1 and "empty" in empty.err
    assert cli("feeds", "--json").json() == []


def test_add_no_fetch_then_remove(cli) -> None:
    assert cli("add", "https://example.invalid/feed.xml", "--no-fetch", "-c", "X").code == 0
    assert cli("feeds", "--json").json()[0]["categories"] == ["X"]
    assert cli("remove", "https://example.invalid/feed.xml").code == 0
    assert cli("remove", "https://example.invalid/feed.xml").code == 1
    assert cli("feeds", "--json").json() == []


def test_mark_and_bad_input(cli, feed_server: FeedServer) -> None:
    cli("add", feed_server.url("blog-hong-kong.xml"))
    ids = [e["id"] for e in cli("entries", "--json").json()]
    assert cli("mark", str(ids[0]), str(ids[1]), "--read").code == 0
    assert len(cli("entries", "is:read", "--json").json()) == 2
    assert cli("mark", str(ids[0]), "--unread").code == 0
    assert len(cli("entries", "is:unread", "--json").json()) == 2
    missing = cli("mark", "999999", "--star")
    assert missing.code == 1 and "999999" in missing.err
    bad = cli("entries", 'category:"Hong')
    assert bad.code == 1 and "quote" in bad.err and "Traceback" not in bad.err
    assert cli("show", "999999").code == 1
    assert cli("entries", "--limit", "1", "--json").json()[0]["id"] == ids[0]


def test_console_script_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "reader", "feeds", "--json"], capture_output=True, text=True, timeout=60,
        env={"READER_DATA_DIR": str(tmp_path / "d"), "READER_CONFIG_DIR": str(tmp_path / "c"), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_cli_details(cli, feed_server: FeedServer, tmp_path: Path) -> None:
    cli("add", feed_server.url("blog-hong-kong.xml"))
    # A negated term right after `entries` is a query term, not an unknown option.
    titles = [e["title"] for e in cli("entries", "-category:BGP", "--json").json()]
    assert len(titles) == 2 and "Today's Outage Post Mortem" not in titles
    assert len(cli("entries", "--limit", "5", "-nowhere", "--json").json()) == 3  # not `-n owhere`
    assert len(cli("entries", "-n", "1", "hong", "--json").json()) == 1
    assert len(cli("entries", "--limit=2", "--json", "-meetup").json()) == 2
    with pytest.raises(SystemExit) as refused:  # other commands still refuse unknown options
        cli("feeds", "-x")
    assert refused.value.code == 2
    missing = cli("import", str(tmp_path / "nope.opml"))
    assert missing.code == 1 and "cannot read" in missing.err and "Errno" not in missing.err
    spaced = cli("add", "not a url")
    assert spaced.code == 1 and "not a URL" in spaced.err
    listing = cli("feeds")
    assert "(updated 2" in listing.out


def test_emphasis_before_punctuation_has_no_stray_space() -> None:
    from reader.render import render_html

    assert render_html("<p>what is <em>visible</em>, it pairs</p>").text == "what is _visible_, it pairs"
