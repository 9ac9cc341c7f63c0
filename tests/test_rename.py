"""Issue 11: a feed's title of the user's own (`reader rename`, newsboat's "~Name") outlives every refresh."""

from __future__ import annotations

from collections.abc import Callable

from feedserver import FeedServer

from reader.store import Store


def _title(store: Store, url: str) -> str:
    feed = store.get_feed(url)
    assert feed is not None
    return feed.title


def test_issue11_a_renamed_feed_keeps_its_title_through_refreshes_until_reset(
    cli: Callable[..., object], store: Store, feed_server: FeedServer
) -> None:
    url = feed_server.url("/nocache/atom.xml")  # answered 200 every time: each refresh parses the title again
    assert cli("add", url).code == 0
    own = _title(store, url)
    feed_id = store.get_feed(url).id  # type: ignore[union-attr]
    renamed = cli("rename", str(feed_id), "My", "[b]news[/b]")
    assert renamed.code == 0, renamed.err
    assert "refreshes keep it" in renamed.out
    store.db.execute("UPDATE feeds SET body_hash = NULL")  # parse it again, as a changed feed would be
    assert cli("refresh").code == 0
    assert _title(store, url) == "My [b]news[/b]"  # markup-looking text is just text
    assert cli("rename", url, "--reset").code == 0
    store.db.execute("UPDATE feeds SET body_hash = NULL")
    assert cli("refresh").code == 0
    assert _title(store, url) == own


def test_issue11_rename_refuses_bad_input_in_one_line(cli: Callable[..., object], store: Store) -> None:
    store.add_feed("https://a.example/feed", "A")
    for args, fragment in [
        (("rename", "https://a.example/feed"), "either a new title or --reset"),
        (("rename", "https://a.example/feed", "x", "--reset"), "either a new title or --reset"),
        (("rename", "https://nope.example/feed", "x"), "not subscribed"),
        (("rename", "https://a.example/feed", "\x1b\x07"), "needs something printable"),
    ]:
        result = cli(*args)
        assert result.code != 0 and fragment in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1
    assert _title(store, "https://a.example/feed") == "A"
