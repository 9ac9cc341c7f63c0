"""Sync when things go wrong, against the real FreshRSS: a server that fails mid-sync, a server that is
down, and secrets that must appear nowhere. Faults come from a loopback proxy in front of the real server
(tests/faultproxy.py), so everything around the fault is FreshRSS's real behaviour.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sync_support import local_state, log_in, served, write_feed

from reader.config import db_path
from reader.store import Store
from reader.sync import engine


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two posts a page, so a fault can land between pages of one sync."""
    monkeypatch.setattr(engine, "CONTENTS_BATCH", 2)


@pytest.fixture
def short_timeout(tmp_path: Path) -> None:
    config = Path(os.environ["READER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("timeout = 1.5\n")





def server_matches_local(freshrss) -> None:  # type: ignore[no-untyped-def]
    state = local_state(db_path())
    assert state, "nothing synced"
    assert {i for i, (read, _) in state.items() if not read} == freshrss.api.unread_ids() & set(state)
    assert {i for i, (_, starred) in state.items() if starred} == freshrss.api.starred_ids() & set(state)


FAULTS = [
    # (the call it hits, the fault, what the message must say)
    ("edit-tag", "500", "HTTP 500"),
    ("subscription/list", "html", "web page, not the Google Reader API"),
    ("stream/items/contents", "badjson", "JSON"),
    ("stream/items/ids", "timeout", "no complete answer within 1.5 s"),
    ("stream/items/contents", "timeout", "no complete answer within 1.5 s"),
]


@pytest.mark.parametrize(("call", "mode", "said"), FAULTS, ids=[f"{c}-{m}" for c, m, _ in FAULTS])
def test_a_fault_mid_sync_stops_it_clearly_loses_nothing_and_the_next_sync_completes(
    freshrss, fault_proxy, feeds, cli, monkeypatch, small_pages, short_timeout, call, mode, said,  # type: ignore[no-untyped-def]
) -> None:
    served(freshrss, feeds, "alpha", range(5))
    fault_proxy.timeout_seconds = 3
    assert log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password).code == 0
    assert cli("sync").code == 0
    served(freshrss, feeds, "beta", range(5))  # new posts, to be pulled over several pages
    store = Store(db_path())
    ids = [r.id for r in store.list_entries()]
    assert cli("mark", "--read", "--star", *map(str, ids[:3])).code == 0
    queued = store.pending_changes()
    assert queued == 6
    # Each fault lands after the sync has begun: marks are pushed first, subscriptions and posts after.
    fault_proxy.fail(call, mode, times=1)
    failed = cli("sync")
    assert failed.code == 1
    assert "sync failed:" in failed.err and said in failed.err
    assert len(failed.err.strip().splitlines()) == 1  # one line, no traceback
    assert cli("account", "--json").json()["last_error"]
    if call == "edit-tag":
        assert store.pending_changes() == queued  # nothing the server didn't take was dropped
    fault_proxy.clear()
    done = cli("sync")
    assert done.code == 0, done.err
    assert store.pending_changes() == 0
    assert cli("account", "--json").json()["last_error"] is None
    titles = [p["title"] for p in cli("entries", "--json").json()]
    assert len(titles) == len(set(titles)) == 10  # every post once
    server_matches_local(freshrss)
    store.close()


def test_a_dead_server_leaves_the_cache_working_and_the_next_sync_sends_everything(
    freshrss, feeds, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    server, folder = feeds
    served(freshrss, feeds, "alpha", range(4))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    ids = [str(p["id"]) for p in cli("entries", "--json").json()]
    freshrss.stop()
    try:
        assert cli("mark", "--read", *ids[:2]).code == 0  # marks work offline
        assert cli("mark", "--star", ids[3]).code == 0
        write_feed(folder, "offline", range(2))
        added = cli("add", server.url("/offline.xml"), "--category", "Later")  # fetched from here, queued there
        assert added.code == 0, added.err
        assert "wait for the next `reader sync`" in added.err
        failed = cli("sync")
        assert failed.code == 1
        assert "cannot reach" in failed.err and "kept for the next sync" in failed.err
        assert cli("account", "--json").json()["waiting_changes"] == 4
        assert len(cli("entries", "--json").json()) == 6  # the app and the CLI read the cache as ever
    finally:
        freshrss.start()
    synced = cli("sync")
    assert synced.code == 0, synced.err
    assert "pushed 3 marks and 1 subscription change" in synced.out
    subs = {s["url"]: s for s in freshrss.api.subscriptions()}
    assert [c["label"] for c in subs[server.url("/offline.xml")]["categories"]] == ["Later"]
    server_matches_local(freshrss)


def test_no_secret_in_any_output_or_file(freshrss, feeds, cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    served(freshrss, feeds, "alpha", range(3))
    write_feed(folder, "beta", range(2))
    outputs = [log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)]
    token = (Path(os.environ["READER_DATA_DIR"]) / "sync-token").read_text().strip()
    opml = tmp_path / "subs.opml"
    outputs += [
        cli("sync"), cli("account"), cli("account", "--json"), cli("feeds"), cli("feeds", "--json"),
        cli("entries"), cli("entries", "--json"), cli("add", server.url("/beta.xml")), cli("export"),
        cli("export", str(opml)), cli("import", str(opml)), cli("refresh"),
    ]
    outputs.append(cli("show", str(cli("entries", "--json").json()[0]["id"])))
    freshrss.revoke_tokens()
    outputs += [cli("sync"), cli("account"), cli("mark", "--read", "1"), cli("remove", server.url("/beta.xml"))]
    outputs.append(log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, "wrong-" + freshrss.password))
    secrets = {freshrss.password, token, token.split("/")[-1]}
    for result in outputs:
        for secret in secrets:
            assert secret not in result.out and secret not in result.err
    files = [p for p in Path(os.environ["READER_DATA_DIR"]).rglob("*") if p.is_file() and p.name != "sync-token"]
    files += [opml]
    assert any(p.name == "reader.sqlite" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path


def test_a_refused_batch_of_marks_drops_only_that_batch(freshrss, fault_proxy, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(engine, "EDIT_BATCH", 2)
    served(freshrss, feeds, "alpha", range(5))
    log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    ids = [str(p["id"]) for p in cli("entries", "--json").json()]
    assert cli("mark", "--star", *ids).code == 0
    fault_proxy.fail("edit-tag", "400", times=1)
    synced = cli("sync")
    assert synced.code == 0, synced.err
    assert "2 marks not sent" in synced.err
    assert "pushed 3 marks" in synced.out  # the batches after the refused one still went
    assert len(freshrss.api.starred_ids()) == 3
    assert cli("account", "--json").json()["waiting_changes"] == 0


def test_a_crawl_time_from_a_wrong_clock_does_not_stop_later_pulls(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Every crawl time looks far in the future when the horizon is put in 1970: none may become `since`.
    monkeypatch.setattr(engine, "FUTURE_CRAWL", -engine.time.time() + 1000)
    served(freshrss, feeds, "alpha", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    assert "3 new posts" in cli("sync").out
    store = Store(db_path())
    account = store.get_account()
    assert account is not None and account.since is None
    store.close()


def test_logging_in_to_another_account_with_changes_waiting_is_refused(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    ids = [str(p["id"]) for p in cli("entries", "--json").json()]
    cli("mark", "--star", *ids)
    other = freshrss.greader_url.replace("127.0.0.1", "localhost")  # the same server, spelled otherwise
    refused = log_in(cli, monkeypatch, other, freshrss.user, freshrss.password)
    assert refused.code == 1
    assert "3 changes made here have not reached it yet" in refused.err and "reader sync" in refused.err
    assert cli("account", "--json").json()["waiting_changes"] == 3
    assert cli("sync").code == 0
    assert len(freshrss.api.starred_ids()) == 3
    moved = log_in(cli, monkeypatch, other, freshrss.user, freshrss.password)  # nothing waits now: allowed
    assert moved.code == 0, moved.err
    assert cli("sync").code == 0
    assert len(cli("entries", "--json").json()) == 3  # the same posts, matched again, not doubled


def test_a_web_server_that_is_no_api_is_named_so(feed_server, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    result = log_in(cli, monkeypatch, feed_server.url("/"), "alice", "pw")
    assert result.code == 1
    assert "not the Google Reader API" in result.err


def test_a_password_in_the_account_url_is_refused(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    result = log_in(cli, monkeypatch, "http://alice:secret@127.0.0.1:9/api/greader.php", "alice", "pw")
    assert result.code == 1
    assert "not in the URL" in result.err and "secret" not in result.err


def test_a_push_clears_unreachable_but_not_a_sync_that_fails_on_the_server(
    freshrss, fault_proxy, feeds, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    from reader.sync.account import push

    served(freshrss, feeds, "alpha", range(2))
    log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    store = Store(db_path())
    post = str(cli("entries", "--json").json()[0]["id"])
    fault_proxy.fail("stream/items/ids", "500")
    assert cli("sync").code == 1
    cli("mark", "--star", post)
    push(store, Path(os.environ["READER_DATA_DIR"]))
    shown = cli("account", "--json").json()
    assert shown["waiting_changes"] == 0 and "HTTP 500" in shown["last_error"]  # the sync still fails: still said
    fault_proxy.down()
    assert cli("sync").code == 1
    assert cli("account", "--json").json()["last_error"].startswith("cannot reach")
    fault_proxy.up()
    cli("mark", "--unstar", post)
    push(store, Path(os.environ["READER_DATA_DIR"]))
    assert cli("account", "--json").json()["last_error"] is None  # reachable again: that error is over
    store.close()
