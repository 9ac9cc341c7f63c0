"""Issue 11's storage and query core: tags, hidden posts, saved searches, and the settings they read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import test_query

from reader.config import Rule, format_duration, load_settings, parse_duration
from reader.query import QueryError, parse_query
from reader.schema import MIGRATIONS, SCHEMA_VERSION
from reader.store import Store, StoreError

filled = test_query.filled  # the fixture: four posts in two feeds, with known categories and dates


def titles(store: Store, text: str) -> list[str]:
    where, params = parse_query(text).to_sql()
    return [r.title for r in store.list_entries(where, params)]


def ids_by_title(store: Store) -> dict[str, int]:
    where, params = parse_query("is:hidden").to_sql()
    hidden = {r.title: r.id for r in store.list_entries(where, params)}
    return {**{r.title: r.id for r in store.list_entries()}, **hidden}


# --- tags -----------------------------------------------------------------------------------


def test_issue11_tags_are_the_users_own_and_apart_from_categories(filled: Store) -> None:
    ids = ids_by_title(filled)
    changed = filled.tag_entries([ids["Café opening"], ids["Sports roundup"]], add=["later", "Food"])
    assert changed == 4
    assert titles(filled, "tag:later") == ["Café opening", "Sports roundup"]
    assert titles(filled, "tag:LATER") == ["Café opening", "Sports roundup"]  # names match case-insensitively
    assert titles(filled, "tag:later -tag:food") == []
    assert titles(filled, "category:later") == []  # a tag is not a category
    assert filled.entry_tags([ids["Café opening"]]) == {ids["Café opening"]: ["Food", "later"]}
    # Taking a tag off, and a tag left on no post is forgotten.
    assert filled.tag_entries([ids["Café opening"], ids["Sports roundup"]], remove=["food"]) == 2
    assert filled.tag_names() == ["later"]
    assert filled.tag_entries([ids["Café opening"]], add=["later"]) == 0  # already on: nothing changes


def test_issue11_tag_counts_count_unread_and_total(filled: Store) -> None:
    ids = ids_by_title(filled)
    filled.tag_entries(list(ids.values()), add=["all"])
    filled.set_flag([ids["Café opening"]], "read", True)
    assert filled.tag_counts() == [("all", 3, 4)]


def test_issue11_tag_names_are_cleaned_and_bounded(filled: Store) -> None:
    ids = ids_by_title(filled)
    filled.tag_entries([ids["Café opening"]], add=["a\x1b[31m[/]b\x07"])
    (name,) = filled.tag_names()
    assert "\x1b" not in name and "\x07" not in name and "[/]" in name  # markup text kept as text
    assert titles(filled, f'tag:"{name}"') == ["Café opening"]
    with pytest.raises(StoreError, match="needs a name"):
        filled.tag_entries([ids["Café opening"]], add=["\x00 \x1b"])
    with pytest.raises(StoreError, match="too long"):
        filled.tag_entries([ids["Café opening"]], add=["x" * 101])


def test_issue11_removing_a_feed_drops_its_posts_tags(filled: Store) -> None:
    ids = ids_by_title(filled)
    filled.tag_entries([ids["Café opening"]], add=["keep"])
    filled.remove_feed("https://a.example/feed")
    assert filled.entry_tags([ids["Café opening"]]) == {}
    assert filled.tag_names() == []
    assert filled.db.execute("SELECT count(*) FROM entry_tags").fetchone()[0] == 0


# --- hidden posts ------------------------------------------------------------------------------


def test_issue11_hidden_posts_are_listed_only_when_asked(filled: Store) -> None:
    ids = ids_by_title(filled)
    before = filled.counts()
    assert filled.set_hidden([ids["Sports roundup"]]) == 1
    assert "Sports roundup" not in titles(filled, "")
    assert "Sports roundup" not in titles(filled, "sports")
    assert "Sports roundup" not in titles(filled, "is:unread")
    assert titles(filled, "is:hidden") == ["Sports roundup"]
    assert titles(filled, "is:hidden sports") == ["Sports roundup"]
    assert "Sports roundup" not in titles(filled, "-is:hidden")
    # Counted nowhere: not in the totals, the feed's counts, nor its category's.
    total, unread, _starred = filled.counts()
    assert (total, unread) == (before[0] - 1, before[1] - 1)
    assert sum(f.unread for f in filled.list_feeds()) == unread
    assert "sports" not in filled.category_unread()
    assert filled.hidden_count() == 1
    assert filled.set_hidden([ids["Sports roundup"]], False) == 1
    assert "Sports roundup" in titles(filled, "")


def test_issue11_hidden_posts_keep_the_lists_indexes_covering(filled: Store) -> None:
    """The clause that leaves hidden posts out must not make a 100,000-post list read every row."""
    for text in ("", "is:unread"):
        where, params = parse_query(text).to_sql()
        plan = " ".join(
            str(row[3]) for row in filled.db.execute(
                f"EXPLAIN QUERY PLAN SELECT e.id FROM entries e WHERE {where} ORDER BY e.published DESC, e.id DESC",
                params,
            )
        )
        assert "entries_hidden" in plan
        assert "entries_by_date" in plan or "entries_unread" in plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan


# --- saved searches -------------------------------------------------------------------------------


def test_issue11_saved_searches_keep_their_order_and_replace_by_name(store: Store) -> None:
    assert store.save_search("BGP", "category:bgp is:unread") is False
    assert store.save_search("later", "tag:later") is False
    assert store.save_search("bgp", "routing") is True  # same name, any case: replaced
    assert [(s.name, s.query) for s in store.saved_searches()] == [("BGP", "routing"), ("later", "tag:later")]
    assert store.get_search("LATER") is not None
    assert store.remove_search("Later") is True
    assert store.remove_search("later") is False
    with pytest.raises(StoreError, match="needs a query"):
        store.save_search("empty", " \x00 ")
    with pytest.raises(StoreError, match="needs a name"):
        store.save_search(" ", "routing")


# --- the query language -----------------------------------------------------------------------------


def test_issue11_query_terms_tag_and_is_hidden() -> None:
    assert parse_query("tag:later").terms[0].field == "tag"
    assert parse_query("is:HIDDEN").terms[0].value == "hidden"
    with pytest.raises(QueryError, match="tag: needs a value"):
        parse_query("tag:")
    assert parse_query("").to_sql()[0]  # never empty: hidden posts are left out


# --- migration --------------------------------------------------------------------------------------


def test_issue11_a_v8_cache_migrates_with_its_posts_visible(tmp_path: Path) -> None:
    path = tmp_path / "v8.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:8]:
        step(db)
    db.execute("PRAGMA user_version = 8")
    db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://o.example/f', 'Old', 0)")
    db.execute(
        "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash, read, starred) "
        "VALUES (1, 'k', 'Kept', '', 1, 1, 1, 'h', 0, 1)"
    )
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [r.title for r in store.list_entries(*parse_query("").to_sql())] == ["Kept"]
    (feed,) = store.list_feeds()
    assert (feed.next_due, feed.every, feed.unread) == (None, None, 1)
    store.close()


# --- settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("1d", 86400), ("90s", 90), ("1w", 604800), ("1.5h", 5400), (45, 45),
     ("0", 0), (0, 0), (" 10 m ", 600), ("1h 30m", 5400), ("2h30m", 9000), ("1d 6h", 108000)],
)
def test_issue11_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "soon", "-5m", "30x", True, None, [1], "1e9", 10**12, float("inf"), "400d", "1h 30", "h30m", "300d 300d"],
)
def test_issue11_bad_durations_are_refused(text: object) -> None:
    assert parse_duration(text) is None


def test_issue11_durations_read_back_short() -> None:
    for seconds in (45, 1800, 5400, 90000, 7 * 86400 + 3600):
        assert parse_duration(format_duration(seconds)) == seconds  # what reader writes, it reads
    assert [format_duration(s) for s in (45, 1800, 7200, 5400, 86400, 90000)] == [
        "45s", "30m", "2h", "1h 30m", "1d", "1d 1h"
    ]


def test_issue11_rules_load_with_their_lines_and_a_bad_one_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'refresh_every = "15m"\n'
        'browser = "firefox --new-tab"\n'
        "\n"
        "[[rules]]\n"
        'query = "feed:heise category:Anzeige"\n'
        'action = "hide"\n'
        "\n"
        "[[rules]]\n"
        'query = "bogus:x"\n'
        'action = "read"\n'
        "\n"
        "[[rules]]\n"
        'query = "kubernetes"\n'
        'action = "tag:later"\n'
        "\n"
        "[[rules]]\n"
        'query = "x"\n'
        'action = "delete"\n',
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.rules == [
        Rule("feed:heise category:Anzeige", "hide", None, 4),
        Rule("kubernetes", "tag", "later", 12),
    ]
    assert settings.refresh_every == 900 and settings.browser == ["firefox", "--new-tab"]
    assert settings.error is not None
    assert "rule 2 (line 8): bad query 'bogus:x'" in settings.error
    assert "rule 4 (line 16): action must be" in settings.error
    assert settings.error.endswith("(those rules are skipped)") and "so the default is used" not in settings.error


def test_issue11_schedule_and_hook_settings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'refresh_every = 0\nrefresh_floor = "2h"\nrefresh_ceiling = "1h"\npipe = 5\n'
        'notify = ["notify-send", "reader"]\n'
        'rules = "hide everything"\n',
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.refresh_every == 0  # off
    assert (settings.refresh_floor, settings.refresh_ceiling) == (600, 86400)  # floor above ceiling: defaults
    assert settings.pipe == [] and settings.notify == ["notify-send", "reader"]
    assert settings.rules == []
    assert settings.error is not None
    for fragment in ("refresh_floor (2h) is above refresh_ceiling (1h)", 'pipe must be a command like "less -R"',
                     "rules must be [[rules]] tables"):
        assert fragment in settings.error


def test_issue11_tag_names_fold_in_every_script_and_hold_no_quote(filled: Store) -> None:
    ids = ids_by_title(filled)
    filled.tag_entries([ids["Café opening"]], add=["Über"])
    filled.tag_entries([ids["Sports roundup"]], add=["über"])  # the same tag: NOCASE alone would make two
    assert filled.tag_names() == ["Über"]
    assert titles(filled, "tag:ÜBER") == ["Café opening", "Sports roundup"]
    with pytest.raises(StoreError, match='can\'t hold "'):
        filled.tag_entries([ids["Café opening"]], add=['say "hi"'])  # no tag: query could name it
    with pytest.raises(StoreError, match="needs a name"):
        filled.tag_entries([ids["Café opening"]], add=["\u200b"])  # invisible


def test_issue11_a_query_of_too_many_terms_is_one_clear_error(filled: Store) -> None:
    """SQLite refuses an expression deeper than 1,000: a query is capped well below, with a message."""
    with pytest.raises(QueryError, match="too many"):
        parse_query("a " * 1500)
    assert titles(filled, " ".join(["-zzz"] * 100)) == titles(filled, "")  # 100 terms still run


def test_issue11_saved_searches_cant_take_the_words_of_reader_search(store: Store) -> None:
    for word in ("list", "Save", "REMOVE"):
        with pytest.raises(StoreError, match="word of `reader search`"):
            store.save_search(word, "tag:x")


def _cache_at(path: Path, version: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:version]:
        step(db)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO feeds (url, title, added) VALUES ('https://o.example/f', 'Old', 0)")
    for n in (1, 2):
        db.execute(
            "INSERT INTO entries (feed_id, key, title, author, published, date_known, first_seen, hash) "
            f"VALUES (1, 'k{n}', 'Post {n}', '', {n}, 1, 1, 'h')"
        )
    return db


def test_issue11_tags_that_fold_alike_are_merged_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "v11.sqlite"
    db = _cache_at(path, 11)
    db.execute("INSERT INTO tags (id, name) VALUES (1, 'Über'), (2, 'über')")  # NOCASE kept them apart
    db.execute("INSERT INTO entry_tags VALUES (1, 1, 0), (2, 2, 0), (2, 1, 0)")
    db.close()
    store = Store(path)
    assert store.tag_names() == ["Über"]
    assert titles(store, "tag:über") == ["Post 2", "Post 1"]
    assert store.tag_counts() == [("Über", 2, 2)]
    store.close()


def test_issue11_a_cache_that_has_the_folded_column_already_migrates(tmp_path: Path) -> None:
    """A build during development put `folded` in step 9: step 12 takes such a cache as it is."""
    path = tmp_path / "dev.sqlite"
    db = _cache_at(path, 11)
    db.execute("ALTER TABLE tags ADD COLUMN folded TEXT")
    db.execute("INSERT INTO tags (id, name, folded) VALUES (1, 'later', 'later')")
    db.execute("INSERT INTO entry_tags VALUES (1, 1, 0)")
    db.close()
    store = Store(path)
    assert titles(store, "tag:LATER") == ["Post 1"]
    store.tag_entries([2], add=["Later"])
    assert store.tag_names() == ["later"]
    store.close()
