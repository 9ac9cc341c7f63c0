"""Issue 11, rules: config.toml's [[rules]] act on new posts at refresh time, in order;
`reader rules` shows what they match, `reader rules apply` applies them to every post.

Real SQLite, a real loopback feed server (tests/data: atom.xml, three posts of "Example Atom
Feed", two of them in category Python; blog-hong-kong.xml, three posts of "The Cloudflare
Blog", all in category "Hong Kong", one by Tom Paseka), the CLI run in-process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CLIResult
from feedserver import FeedServer

from reader.config import Rule
from reader.models import ParsedEntry, ParsedFeed
from reader.query import parse_query
from reader.rules import apply_rules
from reader.store import Store

HK_TOM = "CloudFlare is Now Part of the Hong Kong Internet Exchange (HKIX)"  # the post by Tom Paseka
CLOUDFLARE = {"CloudFlare meetup in Hong Kong", "Today's Outage Post Mortem", HK_TOM}
ATOM = {"First entry: two authors, three categories", "Second entry: relative link & xml:base", "Third entry: no date"}

CLI = Callable[..., CLIResult]


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def subscribe(cli: CLI, feed_server: FeedServer) -> None:
    for name in ("atom.xml", "blog-hong-kong.xml"):
        assert cli("add", "--no-fetch", feed_server.url(name)).code == 0


@contextlib.contextmanager
def open_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "data" / "reader.sqlite")
    try:
        yield store
    finally:
        store.close()


def by_title(store: Store) -> dict[str, tuple[bool, bool, bool]]:
    """title -> (read, starred, hidden) of every post, hidden ones too."""
    rows = store.db.execute("SELECT title, read, starred, hidden FROM entries").fetchall()
    return {t: (bool(r), bool(s), bool(h)) for t, r, s, h in rows}


RULES = """\
    [[rules]]
    query = 'category:"Hong Kong" author:tom'
    action = "hide"

    [[rules]]
    query = "feed:cloudflare"
    action = "star"

    [[rules]]
    query = "category:python"
    action = "tag:py"
    """


def test_issue11_rules_act_on_new_posts_at_refresh_in_order(cli: CLI, tmp_path: Path, feed_server: FeedServer) -> None:
    write_config(tmp_path, RULES)
    subscribe(cli, feed_server)
    result = cli("refresh")
    assert result.code == 0, result.err
    # Rule 1 hid Tom's post, so rule 2 (a plain query: hidden posts left out) did not star it.
    assert "rules: 1 hidden, 2 starred, 2 tagged py" in result.out
    with open_store(tmp_path) as store:
        state = by_title(store)
        assert state[HK_TOM] == (False, False, True)
        assert all(state[t] == (False, True, False) for t in CLOUDFLARE - {HK_TOM})
        assert all(state[t] == (False, False, False) for t in ATOM)
        assert {r.title for r in store.list_entries(*_sql("tag:py"))} == {
            "First entry: two authors, three categories", "Third entry: no date"
        }
    # A second refresh brings no new post: the rules have nothing to act on and say nothing.
    again = cli("refresh")
    assert again.code == 0 and "rules:" not in again.out


def test_issue11_a_later_rule_sees_what_an_earlier_one_did(store: Store) -> None:
    ids = fill(store, "https://a.example/feed", "A", 4)
    rules = [Rule("feed:a.example", "read"), Rule("is:read", "star"), Rule("is:unread", "hide")]
    outcome = apply_rules(store, rules, ids[:2])  # only the posts given, as after a refresh
    assert outcome.changed == {0: 2, 1: 2, 2: 0}
    rows = {r.id: r for r in store.entry_rows(ids)}
    assert all(rows[i].read and rows[i].starred for i in ids[:2])
    assert not any(rows[i].read or rows[i].starred for i in ids[2:])
    # Hiding first means a plain later rule never sees the post.
    outcome = apply_rules(store, [Rule("feed:a.example", "hide"), Rule("feed:a.example", "notify")], ids[2:])
    assert outcome.notify == [] and outcome.changed[0] == 2
    # ...while a rule asking for hidden posts does.
    outcome = apply_rules(store, [Rule("is:hidden", "notify")], ids)
    assert sorted(outcome.notify) == sorted(ids[2:])


def test_issue11_a_bad_rule_is_reported_with_its_line_and_the_others_apply(
    cli: CLI, tmp_path: Path, feed_server: FeedServer
) -> None:
    write_config(tmp_path, """\
        [[rules]]
        query = "feed:cloudflare"
        action = "read"

        [[rules]]
        query = "colour:red"
        action = "hide"

        [[rules]]
        query = "category:python"
        action = "explode"
        """)
    subscribe(cli, feed_server)
    result = cli("refresh")
    assert result.code == 0
    assert "line 5" in result.err and "colour" in result.err and "line 9" in result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1  # one warning line
    assert "rules: 3 marked read" in result.out
    shown = cli("rules")
    assert shown.code == 0
    skipped = shown.out.split("skipped", 1)[1]
    assert "rule 2 (line 5): bad query" in skipped and "rule 3 (line 9): action must be" in skipped
    with open_store(tmp_path) as store:
        assert {t for t, (read, _, _) in by_title(store).items() if read} == CLOUDFLARE


def test_issue11_rules_test_shows_each_rule_its_matches_and_titles(
    cli: CLI, tmp_path: Path, feed_server: FeedServer
) -> None:
    subscribe(cli, feed_server)
    assert cli("refresh").code == 0  # no rules yet: the posts come in untouched
    assert "no rules in" in cli("rules").out
    write_config(tmp_path, RULES)
    result = cli("rules", "test")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == 'line 1: hide  category:"Hong Kong" author:tom'
    assert lines[1] == "  matches 1 post now" and HK_TOM in lines[2]
    at = lines.index("line 5: star  feed:cloudflare")
    assert lines[at + 1] == "  matches 3 posts now"
    assert {line.split(maxsplit=1)[1] for line in lines[at + 2: at + 5]} == CLOUDFLARE  # up to 3 titles, with ids
    assert "line 9: tag:py  category:python" in lines
    with open_store(tmp_path) as store:  # test changes nothing
        assert not any(hidden or starred for _, starred, hidden in by_title(store).values())


def test_issue11_rules_apply_acts_on_every_post_and_says_what_changed(
    cli: CLI, tmp_path: Path, feed_server: FeedServer
) -> None:
    subscribe(cli, feed_server)
    assert cli("refresh").code == 0
    write_config(tmp_path, RULES + '\n[[rules]]\nquery = "feed:atom"\naction = "notify"\n')
    result = cli("rules", "apply")
    assert result.code == 0, result.err
    assert "  matches 1 post, 1 hidden now" in result.out
    assert "  matches 2 posts, 2 starred now" in result.out
    assert "notify is for new posts" in result.out
    assert result.out.splitlines()[-1] == "applied to every post: 1 hidden, 2 starred, 2 tagged py"
    assert cli("rules", "apply").out.splitlines()[-1] == "applied to every post: nothing changed"
    # `rules test` still counts what a hide rule matched once its posts are hidden.
    assert "  matches 0 posts now (1 more already hidden)" in cli("rules").out


def test_issue11_hidden_posts_are_left_out_everywhere_but_is_hidden(
    cli: CLI, tmp_path: Path, feed_server: FeedServer
) -> None:
    write_config(tmp_path, """\
        [[rules]]
        query = "feed:cloudflare"
        action = "tag:cf"

        [[rules]]
        query = "author:tom"
        action = "hide"
        """)
    subscribe(cli, feed_server)
    assert cli("refresh").code == 0
    assert cli("search", "save", "hk", 'category:"Hong Kong"').code == 0
    titles = {line.split("  ", 2)[-1].strip() for line in cli("entries").out.splitlines()}
    assert HK_TOM not in " ".join(titles) and len(titles) == 5
    assert [p["title"] for p in cli("entries", "--json", "is:hidden").json()] == [HK_TOM]
    assert [p["title"] for p in cli("entries", "--json", 'category:"Hong Kong"').json()].count(HK_TOM) == 0
    feeds = {f["title"]: f for f in cli("feeds", "--json").json()}
    assert (feeds["The Cloudflare Blog"]["unread"], feeds["The Cloudflare Blog"]["total"]) == (2, 2)
    assert cli("tag").out.split() == ["cf", "2/2"]
    [search] = cli("search", "list", "--json").json()
    assert (search["unread"], search["total"]) == (2, 2)
    with open_store(tmp_path) as store:
        assert store.counts() == (5, 5, 0) and store.hidden_count() == 1
        assert store.category_unread()["hong kong"] == 2
        assert ("Hong Kong", 2, 2) in store.category_counts()


def test_issue11_a_notify_rule_runs_the_notify_command_once(
    cli: CLI, tmp_path: Path, feed_server: FeedServer
) -> None:
    out = tmp_path / "notified.txt"
    script = tmp_path / "notify.py"
    script.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(out)!r}, 'a').write(repr(sys.argv[1:]) + '|' + sys.stdin.read() + '\\n')\n"
    )
    script.chmod(0o755)
    write_config(tmp_path, f"""\
        notify = [{str(script)!r}]

        [[rules]]
        query = "category:python"
        action = "notify"

        [[rules]]
        query = "feed:cloudflare"
        action = "read"
        """)
    subscribe(cli, feed_server)
    result = cli("refresh", "--quiet")
    assert result.code == 0 and result.out == "", result.err  # --quiet: no summary, but still the notification
    [line] = out.read_text().splitlines()
    args, stdin = line.split("|", 1)
    assert "2 new posts matched your rules" in args
    assert "First entry: two authors, three categories" in stdin and "Third entry: no date" in stdin
    # A refresh with nothing new sends nothing.
    assert "rules:" not in cli("refresh").out
    assert len(out.read_text().splitlines()) == 1


def test_issue11_a_failing_notify_command_is_one_line(cli: CLI, tmp_path: Path, feed_server: FeedServer) -> None:
    write_config(tmp_path, f"""\
        notify = [{str(tmp_path / "no-such-command")!r}]

        [[rules]]
        query = "feed:atom"
        action = "notify"
        """)
    subscribe(cli, feed_server)
    result = cli("refresh")
    assert result.code == 0
    [line] = [x for x in result.err.splitlines() if x.startswith("rules:")]
    assert "not found" in line and "Traceback" not in result.err
    assert "rules: 3 to notify" in result.out


def fill(store: Store, url: str, title: str, count: int) -> list[int]:
    store.add_feed(url)
    new_ids: list[int] = []
    store.save_parsed(url, ParsedFeed(title, None, [
        ParsedEntry(f"k{i}", f"Post {i} " + ("kernel" if i % 7 == 0 else "garden"), f"https://a.example/{i}",
                    "Ann" if i % 2 else "Bob", 1_700_000_000 + i, ["News" if i % 3 else "Sports"],
                    f"<p>body {i}</p>", None)
        for i in range(count)
    ]), new_ids=new_ids)
    return new_ids


def test_issue11_rules_cost_one_statement_each_whatever_the_number_of_posts(store: Store) -> None:
    """Bounded: a rule's query runs once over all the posts given, never once per post or chunk."""
    fill(store, "https://old.example/feed", "Old", 20_000)  # a cache already holding many posts
    new = fill(store, "https://a.example/feed", "A", 3_000)
    rules = [
        Rule("kernel", "tag", "k"), Rule("category:sports", "hide"), Rule("author:ann", "read"),
        Rule("feed:a.example -category:sports", "star"), Rule("garden", "notify"),
    ]
    statements: list[str] = []
    done = threading.Event()
    result: list[object] = []

    def run() -> None:
        store.db.set_trace_callback(statements.append)  # this thread's own connection
        result.append(apply_rules(store, rules, new))
        store.db.set_trace_callback(None)
        store.close()
        done.set()

    # Own thread with a deadline: a per-post regression would take far longer than this.
    worker = threading.Thread(target=run)
    worker.start()
    assert done.wait(20), "applying 5 rules to 3,000 posts took more than 20 s"
    worker.join()
    outcome = result[0]
    selects = [s for s in statements if s.startswith("SELECT e.id FROM entries e")]
    assert len(selects) == len(rules)
    # Besides the candidates' rows (one executemany), each action is a statement per 500 posts it matched.
    others = [s for s in statements if not s.startswith("INSERT OR IGNORE INTO temp.rule_candidates")]
    assert len(others) < 100
    sports = sum(1 for i in range(3_000) if i % 3 == 0)
    assert outcome.changed[1] == sports  # type: ignore[attr-defined]
    assert outcome.changed[3] == 3_000 - sports  # type: ignore[attr-defined]
    rows = store.entry_rows(new)
    assert sum(r.starred for r in rows) == 3_000 - sports
    assert outcome.seconds < 5  # type: ignore[attr-defined]


def test_issue11_rule_marks_are_queued_for_the_sync_server(store: Store) -> None:
    """A rule's read/star goes through set_flag: with a sync account the server gets it too."""
    ids = fill(store, "https://a.example/feed", "A", 3)
    # As a sync leaves them: an account, and posts the server knows by its ids.
    store.db.execute("UPDATE entries SET remote_id = id + 1000")
    store.db.execute("INSERT INTO account (id, api_url, user, added) VALUES (1, 'https://sync.example/api', 'me', 0)")
    apply_rules(store, [Rule("feed:a.example", "star")], ids)
    queued = store.queued_marks()
    assert sorted((remote, flag, value) for _, remote, flag, value in queued) == [
        (i + 1000, "starred", True) for i in sorted(ids)
    ]


def _sql(text: str) -> tuple[str, list[object]]:
    from reader.query import parse_query

    return parse_query(text).to_sql()


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real notify-send from a test: PATH keeps only the interpreter's directory."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))


def test_issue11_rules_act_on_a_new_feeds_first_posts_and_it_gets_a_schedule(
    cli: Callable[..., Any], store: Store, feed_server: FeedServer, tmp_path: Path
) -> None:
    """`reader add` stores the feed's first posts as a refresh would: the rules act on them, and the
    feed gets its next-due time from that fetch (it is not fetched again by the next `--due`)."""
    config = Path(os.environ["READER_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[[rules]]\nquery = "is:unread"\naction = "tag:first"\n', encoding="utf-8")
    url = feed_server.url("/atom.xml")
    assert cli("add", url).code == 0
    tagged = store.list_entries(*parse_query("tag:first").to_sql())
    assert tagged and len(tagged) == len(store.list_entries(*parse_query("").to_sql()))
    feed = store.get_feed(url)
    assert feed is not None and feed.next_due is not None and feed.next_due > time.time()
