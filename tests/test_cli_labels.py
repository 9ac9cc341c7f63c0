"""Issue 11, the CLI's saved searches and tags, `mark --hide`, and `entries --json --body`.

Real SQLite through the CLI in-process (`cli`), posts stored through the core (`save_parsed`),
or fetched from the loopback feed server.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import CLIResult
from feedserver import FeedServer

from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store

CLI = Callable[..., CLIResult]


def fill(store: Store, url: str, title: str, count: int, content: str = "<p>hello <b>world</b></p>") -> list[int]:
    store.add_feed(url)
    new_ids: list[int] = []
    store.save_parsed(url, ParsedFeed(title, None, [
        ParsedEntry(f"k{i}", f"Post {i}", f"https://example.com/{i}", "Ann", 1_700_000_000 + i,
                    ["Sports" if i % 2 else "News"], content, None)
        for i in range(count)
    ]), new_ids=new_ids)
    return new_ids


# --- saved searches ------------------------------------------------------------------------


def test_issue11_search_save_list_show_remove(cli: CLI, store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 4)
    # A negated first word is a query term, not an option.
    saved = cli("search", "save", "no sports", "-category:Sports", "post")
    assert saved.code == 0, saved.err
    assert saved.out.startswith("saved 'no sports': -category:Sports post (2 unread of 2")
    store.set_flag([ids[0]], "read", True)
    listed = cli("search")
    assert listed.code == 0 and listed.out.split() == ["no", "sports", "1/2", "-category:Sports", "post"]
    assert cli("search", "list", "--json").json() == [
        {"name": "no sports", "query": "-category:Sports post", "unread": 1, "total": 2, "error": None}
    ]
    posts = cli("search", "no sports", "--json").json()
    assert sorted(p["id"] for p in posts) == sorted(ids[0::2])
    assert cli("search", "NO SPORTS", "--limit", "1").out.count("\n") == 1  # names match case-insensitively
    # Saving under the same name replaces.
    assert cli("search", "save", "No Sports", "category:News").out.startswith("replaced")
    assert [s["query"] for s in cli("search", "list", "--json").json()] == ["category:News"]
    assert cli("search", "remove", "no sports").code == 0
    assert cli("search", "list", "--json").json() == []
    gone = cli("search", "remove", "no sports")
    assert gone.code == 1 and "no saved search named 'no sports'" in gone.err


@pytest.mark.parametrize(("args", "words"), [
    (("save", "bad", "colour:red"), "unknown filter colour:"),
    (("save", "bad", 'since:"next tuesday"'), "bad date"),
    (("save", "bad"), "say the query to save"),
    (("save", "list", "is:unread"), "'list' is a word of `reader search`"),
    (("save", "\x1b[31m", "is:unread"), "needs a name"),
    (("nothing-saved",), "no saved search named 'nothing-saved'"),
])
def test_issue11_search_refuses_bad_input_in_one_line(cli: CLI, store: Store, args: tuple[str, ...],
                                                       words: str) -> None:
    result = cli("search", *args)
    assert result.code == 1 and words in result.err and result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert store.saved_searches() == []  # nothing saved


def test_issue11_a_saved_query_that_no_longer_parses_is_listed_with_why(cli: CLI, store: Store) -> None:
    store.save_search("old", "colour:red")  # saved by hand, or by another version of the language
    [record] = cli("search", "list", "--json").json()
    assert record["error"].startswith("unknown filter colour:") and record["total"] is None
    assert "bad query" in cli("search").out


# --- tags ----------------------------------------------------------------------------------


def test_issue11_tag_adds_removes_and_lists(cli: CLI, store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 3)
    a, b, c = (str(i) for i in ids)
    result = cli("tag", a, b, "+later", "work")  # a bare name is +name
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["4 changes: +later +work", f"{a:>7}  later, work", f"{b:>7}  later, work"]
    result = cli("tag", b, "-work")  # "-work" is a tag to take off, not an option
    assert result.out.splitlines()[0] == "1 change: -work"
    assert cli("tag", a, b, c).out.splitlines() == [f"{a:>7}  later, work", f"{b:>7}  later", f"{c:>7}  (no tags)"]
    store.set_flag([ids[0]], "read", True)
    assert cli("tag").out.splitlines() == ["later  1/2", "work   0/1"]
    assert sorted(p["id"] for p in cli("entries", "--json", "tag:later").json()) == sorted(ids[:2])
    # Taking the last post's tag off forgets the tag.
    cli("tag", a, "-work")
    assert cli("tag").out.split() == ["later", "1/2"]


def test_issue11_tag_reports_bad_input_in_one_line(cli: CLI, store: Store) -> None:
    [post] = fill(store, "https://a.example/feed", "A", 1)
    missing = cli("tag", str(post), "99", "+x")
    assert missing.code == 1 and missing.err.strip() == "reader: no post with id 99"
    assert store.entry_tags([post]) == {post: ["x"]}  # the posts that exist are tagged
    no_ids = cli("tag", "+x")
    assert no_ids.code == 1 and "say which posts" in no_ids.err
    empty = cli("tag", str(post), "+")
    assert empty.code == 1 and "needs a name" in empty.err and empty.err.count("\n") == 1
    assert cli("tag", "0", "+x").code == 1
    cli("tag", str(post), "-x")
    assert cli("tag").out.startswith("no tags yet")


# --- mark --hide, show and entries --json ----------------------------------------------------


def test_issue11_mark_hide_and_unhide(cli: CLI, store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 3)
    assert cli("mark", str(ids[0]), "--hide", "--read").code == 0
    assert ids[0] not in {p["id"] for p in cli("entries", "--json").json()}
    [hidden] = cli("entries", "--json", "is:hidden").json()
    assert hidden["id"] == ids[0] and hidden["read"] is True
    both = cli("mark", str(ids[0]), "--hide", "--unhide")
    assert both.code == 1 and "--hide and --unhide contradict" in both.err
    assert cli("mark", str(ids[0]), "--unhide").code == 0
    assert len(cli("entries", "--json").json()) == 3


def test_issue11_show_and_entries_json_give_the_tags(cli: CLI, store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 2)
    cli("tag", str(ids[0]), "+later", "+to read")
    shown = cli("show", str(ids[0])).out
    header = shown.split("\n\n", 1)[0].splitlines()
    assert "Tags:       later, to read" in header  # after the categories, as the app shows it
    assert "Tags:" not in cli("show", str(ids[1])).out
    tags = {p["id"]: p["tags"] for p in cli("entries", "--json").json()}
    assert tags == {ids[0]: ["later", "to read"], ids[1]: []}


def test_issue11_entries_json_body_is_the_whole_post_as_show_prints_it(
    cli: CLI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reader.cli_entries

    html = '<p>Read <a href="https://example.org/x">this</a> &amp; more</p>' + "<p>" + "word " * 400 + "</p>"
    ids = fill(store, "https://a.example/feed", "A", 2, html)
    cli("tag", str(ids[0]), "+later")
    posts = {p["id"]: p for p in cli("entries", "--json", "--body").json()}
    for post_id in ids:
        assert posts[post_id]["body"] == cli("show", str(post_id)).out  # no need to call show per post
    assert "body" not in cli("entries", "--json").json()[0]  # only when asked: it repeats the text
    # `text` is cut at JSON_BODY_CHARS (and says so); `body` never is.
    monkeypatch.setattr(reader.cli_entries, "JSON_BODY_CHARS", 100)
    post = cli("entries", "--json", "--body", "--limit", "1").json()[0]
    assert len(post["text"]) == 100 and post["truncated"] is True
    assert post["body"] == cli("show", str(post["id"])).out and len(post["body"]) > 2000
    assert "[1] https://example.org/x" in post["body"]
    alone = cli("entries", "--body")
    assert alone.code == 1 and "--body adds each post's body to --json" in alone.err


def test_issue11_body_option_and_negated_terms_together(cli: CLI, store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 4)
    posts = cli("entries", "--json", "-category:Sports", "--body").json()
    assert sorted(p["id"] for p in posts) == sorted(ids[0::2]) and all("body" in p for p in posts)


def test_issue11_tags_from_a_fetched_feed_survive_its_refresh(cli: CLI, store: Store, feed_server: FeedServer) -> None:
    """Tags are the user's: a refresh that rewrites a changed post keeps them."""
    url = feed_server.url("/nocache/atom.xml")  # answered 200 every time, so the posts are looked at again
    assert cli("add", url).code == 0
    first = min(r.id for r in store.list_entries())
    cli("tag", str(first), "+keep")
    store.db.execute("UPDATE entries SET hash = 'changed' WHERE id = ?", (first,))  # as if the post was edited
    store.db.execute("UPDATE feeds SET body_hash = NULL")
    assert cli("refresh").code == 0
    [(digest,)] = store.db.execute("SELECT hash FROM entries WHERE id = ?", (first,)).fetchall()
    assert digest != "changed"  # the post was rewritten
    assert store.entry_tags([first]) == {first: ["keep"]}


def test_issue11_a_query_word_entries_in_another_command_is_not_taken_for_the_command() -> None:
    """`reader search save x entries -foo`: only `entries` as the command moves negated terms behind `--`."""
    from reader.cli_entries import negated_terms_last

    assert negated_terms_last(["search", "save", "x", "entries", "-foo"]) == ["search", "save", "x", "entries", "-foo"]
    assert negated_terms_last(["--data-dir", "/d", "entries", "-foo", "--json"]) == [
        "--data-dir", "/d", "entries", "--json", "--", "-foo"
    ]


def test_issue11_tag_echoes_the_names_as_stored_never_raw_escapes(cli: CLI, store: Store) -> None:
    [post] = fill(store, "https://a.example/feed", "A", 1)
    result = cli("tag", str(post), "+\x1b]0;TITLE\x07ok", "-\x1b[31mred")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "+ok -red" in result.out  # the names as stored
    assert store.entry_tags([post]) == {post: ["ok"]}
