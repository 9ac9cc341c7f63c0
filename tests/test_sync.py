"""Sync against a real FreshRSS (tests/freshrss_fixtures.py): accounts, the four steps, offline marks, faults.

Every test talks to a real server over loopback; the server's state is read back with the
fixture's own stdlib client (ServerAPI), not with reader's, so a mistake in reader's client
can't hide itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sync_support import local_state, log_in, served, write_feed

from reader.config import db_path
from reader.store import Store

pytestmark = pytest.mark.usefixtures("freshrss")





def data_dir() -> Path:
    return Path(os.environ["READER_DATA_DIR"])


def open_store() -> Store:
    return Store(db_path())





# --- accounts -------------------------------------------------------------------------------


def test_login_keeps_only_the_token_in_a_0600_file(freshrss, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    result = log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    assert result.code == 0, result.err
    assert f"logged in as {freshrss.user}" in result.out
    token_file = data_dir() / "sync-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert token and freshrss.password not in token
    shown = cli("account")
    assert freshrss.greader_url in shown.out and "last sync:  never" in shown.out
    as_json = cli("account", "--json").json()
    assert as_json["server"] == freshrss.greader_url and as_json["user"] == freshrss.user
    assert as_json["logged_in"] is True and as_json["last_sync"] is None
    for text in (result.out, result.err, shown.out, str(as_json)):
        assert token not in text and freshrss.password not in text


def test_the_plain_base_url_is_accepted(freshrss, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    result = log_in(cli, monkeypatch, freshrss.base_url, freshrss.user, freshrss.password)
    assert result.code == 0, result.err
    assert cli("account", "--json").json()["server"] == freshrss.greader_url


def test_a_wrong_password_is_a_clear_error_and_saves_nothing(freshrss, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    result = log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, "not-the-password")
    assert result.code == 1
    assert "cannot log in: the server refused the user name or password" in result.err
    assert "not-the-password" not in result.out + result.err
    assert not (data_dir() / "sync-token").exists()
    assert "no sync account" in cli("account").out


def test_a_revoked_token_says_log_in_again_and_logging_in_again_resumes(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(3))
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    assert cli("sync").code == 0
    freshrss.revoke_tokens()
    failed = cli("sync")
    assert failed.code == 1
    assert "log in again" in failed.err and "reader account add" in failed.err
    assert "log in again" in cli("account").out  # the last error is shown until a sync completes
    assert log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password).code == 0
    again = cli("sync")
    assert again.code == 0, again.err
    assert len(cli("entries", "--json").json()) == 3  # the same cache, nothing pulled twice


def test_account_remove_goes_back_to_a_local_cache_keeping_the_posts(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, _ = feeds
    served(freshrss, feeds, "alpha", range(4))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    removed = cli("account", "remove")
    assert removed.code == 0 and "posts and feeds stay" in removed.out
    assert not (data_dir() / "sync-token").exists()
    assert len(cli("entries", "--json").json()) == 4
    before = server.count("alpha.xml")
    refreshed = cli("refresh")  # the feed is fetched from here again
    assert refreshed.code == 0, refreshed.err
    assert server.count("alpha.xml") == before + 1
    assert len(cli("entries", "--json").json()) == 4  # the feed's own posts are the synced ones (same links)


# --- the four steps -----------------------------------------------------------------------


def test_initial_then_incremental_sync_of_feeds_categories_and_posts(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, folder = feeds
    alpha = served(freshrss, feeds, "alpha", range(5), category="Tech")
    served(freshrss, feeds, "beta", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    first = cli("sync")
    assert first.code == 0, first.err
    assert "8 new posts" in first.out
    feeds_json = {f["title"]: f for f in cli("feeds", "--json").json()}
    assert feeds_json["Alpha"]["categories"] == ["Tech"]
    assert feeds_json["Beta"]["categories"] == []  # FreshRSS's default category is no category here
    assert feeds_json["Alpha"]["total"] == 5
    posts = cli("entries", "category:Tech", "--json").json()
    assert [p["title"] for p in posts] == [f"alpha post {n}" for n in (4, 3, 2, 1, 0)]
    shown = cli("show", str(posts[0]["id"]))
    # Rendered like a fetched post: numbered links, resolved against the post's link.
    assert "Body of alpha post 4" in shown.out and "https://alpha.example.org/rel/4" in shown.out
    assert len(cli("entries", "Body of beta").out.splitlines()) == 3  # searchable
    assert cli("account", "--json").json()["last_sync"] is not None

    write_feed(folder, "alpha", range(8))
    freshrss.refresh(int(alpha.split("/")[1]))
    second = cli("sync")
    assert second.code == 0, second.err
    assert "3 new posts" in second.out
    assert len(cli("entries", "--json").json()) == 11
    nothing = cli("sync")
    assert "0 new posts" in nothing.out


def test_marks_go_both_ways(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(6))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    store = open_store()
    by_title = {r.title: r.id for r in store.list_entries()}
    remote = dict(store.db.execute("SELECT id, remote_id FROM entries"))
    # Server-side marks reach the cache.
    freshrss.api.mark([remote[by_title["alpha post 0"]]], read=True)
    freshrss.api.mark([remote[by_title["alpha post 1"]]], starred=True)
    assert cli("sync").code == 0
    state = local_state(db_path())
    assert state[remote[by_title["alpha post 0"]]] == (True, False)
    assert state[remote[by_title["alpha post 1"]]] == (False, True)
    # Local marks reach the server.
    assert cli("mark", "--read", "--star", str(by_title["alpha post 2"])).code == 0
    assert cli("mark", "--unstar", str(by_title["alpha post 1"])).code == 0
    assert cli("account", "--json").json()["waiting_changes"] == 3
    synced = cli("sync")
    assert "pushed 3 marks" in synced.out
    assert remote[by_title["alpha post 2"]] in freshrss.api.read_ids()
    assert freshrss.api.starred_ids() == {remote[by_title["alpha post 2"]]}
    # Unstar on the server, unread on the server.
    freshrss.api.mark([remote[by_title["alpha post 2"]]], read=False, starred=False)
    cli("sync")
    assert local_state(db_path())[remote[by_title["alpha post 2"]]] == (False, False)
    assert cli("account", "--json").json()["waiting_changes"] == 0
    store.close()


def test_a_local_mark_still_queued_wins_over_the_servers_older_state(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(2))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    store = open_store()
    entry_id, remote_id = store.db.execute("SELECT id, remote_id FROM entries ORDER BY id LIMIT 1").fetchone()
    freshrss.api.mark([remote_id], read=True)  # the server says read...
    cli("mark", "--unread", str(entry_id))  # ...but here it was marked unread afterwards, offline
    assert cli("sync").code == 0
    assert local_state(db_path())[remote_id] == (False, False)
    assert remote_id in freshrss.api.unread_ids()  # after the push, the server agrees
    store.close()


def test_feeds_added_and_removed_go_both_ways(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    served(freshrss, feeds, "alpha", range(2))
    write_feed(folder, "gamma", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    # Added here: on the server at once, in its category.
    added = cli("add", server.url("/gamma.xml"), "--category", "News")
    assert added.code == 0, added.err
    subs = {s["url"]: s for s in freshrss.api.subscriptions()}
    assert server.url("/gamma.xml") in subs
    assert [c["label"] for c in subs[server.url("/gamma.xml")]["categories"]] == ["News"]
    # Moved here: moved there.
    assert cli("add", server.url("/gamma.xml"), "--category", "World").code == 0
    subs = {s["url"]: s for s in freshrss.api.subscriptions()}
    assert "World" in [c["label"] for c in subs[server.url("/gamma.xml")]["categories"]]
    # Removed here: gone there.
    assert cli("remove", server.url("/alpha.xml")).code == 0
    assert server.url("/alpha.xml") not in {s["url"] for s in freshrss.api.subscriptions()}
    # Added there: here after a sync; removed there: gone here.
    delta = served(freshrss, feeds, "delta", range(2), category="Science")
    synced = cli("sync")
    assert synced.code == 0, synced.err
    local = {f["url"]: f for f in cli("feeds", "--json").json()}
    assert local[server.url("/delta.xml")]["categories"] == ["Science"]
    assert local[server.url("/delta.xml")]["total"] == 2
    freshrss.api.unsubscribe(delta)
    assert "1 removed" in cli("sync").out
    assert server.url("/delta.xml") not in {f["url"] for f in cli("feeds", "--json").json()}


def test_local_feeds_are_offered_for_upload_when_the_account_is_added(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    write_feed(folder, "local", range(3))
    assert cli("add", server.url("/local.xml"), "--category", "Mine").code == 0
    result = log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password, "--upload")
    assert "queued 1 feed for the server; it goes with the next sync" in result.out
    synced = cli("sync")
    assert synced.code == 0, synced.err
    subs = {s["url"]: s for s in freshrss.api.subscriptions()}
    assert [c["label"] for c in subs[server.url("/local.xml")]["categories"]] == ["Mine"]
    # The posts fetched here and the server's copies of them are one post each, not two.
    assert len(cli("entries", "--json").json()) == 3


def test_opml_import_subscribes_on_the_server(freshrss, feeds, cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    for name in ("one", "two"):
        write_feed(folder, name, range(2))
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Folder">'
        f'<outline type="rss" text="One" xmlUrl="{server.url("/one.xml")}"/>'
        f'<outline type="rss" text="Two" xmlUrl="{server.url("/two.xml")}"/>'
        "</outline></body></opml>"
    )
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    imported = cli("import", str(opml))
    assert imported.code == 0, imported.err
    subs = {s["url"]: [c["label"] for c in s["categories"]] for s in freshrss.api.subscriptions()}
    assert subs == {server.url("/one.xml"): ["Folder"], server.url("/two.xml"): ["Folder"]}
    assert cli("account", "--json").json()["waiting_changes"] == 0
    synced = cli("sync")
    assert synced.code == 0, synced.err
    feeds_json = cli("feeds", "--json").json()
    assert {f["url"] for f in feeds_json if f["synced"]} == set(subs)


def test_a_sync_with_nothing_new_fetches_no_post_again(freshrss, fault_proxy, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # FreshRSS stamps every post of one fetch run with the same second: a pull by time alone
    # would send them all again on every sync. Ids are asked first; only unknown posts are fetched.
    _, folder = feeds
    alpha = served(freshrss, feeds, "alpha", range(30))
    log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password)
    assert "30 new posts" in cli("sync").out
    fault_proxy.requests.clear()
    assert "0 new posts" in cli("sync").out
    assert not [path for _, path in fault_proxy.requests if "items/contents" in path]
    write_feed(folder, "alpha", range(32))
    freshrss.refresh(int(alpha.split("/")[1]))
    fault_proxy.requests.clear()
    assert "2 new posts" in cli("sync").out
    assert len([path for _, path in fault_proxy.requests if "items/contents" in path]) == 1


def test_marks_made_before_the_account_are_kept_and_sent(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    write_feed(folder, "old", range(4))
    assert cli("add", server.url("/old.xml")).code == 0
    posts = {p["title"]: p["id"] for p in cli("entries", "--json").json()}
    cli("mark", "--star", str(posts["old post 0"]))
    cli("mark", "--read", "--star", str(posts["old post 1"]))
    cli("mark", "--read", str(posts["old post 2"]))
    # The server has the same feed already (subscribed on another machine), with no marks.
    stream_id = freshrss.api.subscribe(server.url("/old.xml"))
    freshrss.refresh(stream_id)
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password, "--no-upload")
    synced = cli("sync")
    assert synced.code == 0, synced.err
    after = {p["title"]: (p["read"], p["starred"]) for p in cli("entries", "--json").json()}
    assert len(after) == 4  # one post each, the fetched copy and the server's merged
    assert after["old post 0"] == (False, True)
    assert after["old post 1"] == (True, True)
    assert after["old post 2"] == (True, False)
    assert after["old post 3"] == (False, False)
    server_state = local_state(db_path())
    assert {i for i, (_, starred) in server_state.items() if starred} == freshrss.api.starred_ids()
    assert {i for i, (read, _) in server_state.items() if not read} == freshrss.api.unread_ids()
    assert cli("account", "--json").json()["waiting_changes"] == 0


def test_posts_of_a_feed_this_cache_lacks_are_not_fetched_again_until_it_arrives(
    freshrss, fault_proxy, feeds, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    from reader.sync.client import GReaderClient

    served(freshrss, feeds, "alpha", range(2))
    beta = served(freshrss, feeds, "beta", range(3))
    listed = GReaderClient.subscriptions
    # As if the client could not take beta's subscription (a URL reader refuses): its posts have no feed here.
    monkeypatch.setattr(GReaderClient, "subscriptions", lambda self: [f for f in listed(self) if f.stream_id != beta])
    log_in(cli, monkeypatch, fault_proxy.greader_url, freshrss.user, freshrss.password)
    assert "2 new posts" in cli("sync").out
    fault_proxy.requests.clear()
    assert "0 new posts" in cli("sync").out
    assert not [path for _, path in fault_proxy.requests if "items/contents" in path]
    monkeypatch.setattr(GReaderClient, "subscriptions", listed)
    arrived = cli("sync")
    assert "3 new posts" in arrived.out and "feeds 1 added" in arrived.out


def test_marks_made_while_the_cache_was_local_again_are_kept_when_the_account_returns(
    freshrss, feeds, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    served(freshrss, feeds, "alpha", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    cli("account", "remove")
    post = cli("entries", "--json").json()[0]["id"]
    cli("mark", "--read", "--star", str(post))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password, "--no-upload")
    synced = cli("sync")
    assert synced.code == 0, synced.err
    after = {p["id"]: (p["read"], p["starred"]) for p in cli("entries", "--json").json()}
    assert len(after) == 3 and after[post] == (True, True)
    state = local_state(db_path())
    assert {i for i, (_, starred) in state.items() if starred} == freshrss.api.starred_ids()
    assert {i for i, (read, _) in state.items() if not read} == freshrss.api.unread_ids()


def test_posts_without_links_are_matched_by_title(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, folder = feeds
    items = "".join(
        f"<item><title>No link {n}</title><guid isPermaLink='false'>nolink-{n}</guid>"
        f"<description>body {n}</description></item>" for n in range(2)
    )
    (folder / "nolink.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>NL</title>{items}</channel></rss>'
    )
    assert cli("add", server.url("/nolink.xml")).code == 0
    first = cli("entries", "--json").json()[0]["id"]
    cli("mark", "--star", str(first))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password, "--upload")
    assert cli("sync").code == 0
    posts = cli("entries", "--json").json()
    assert sorted(p["title"] for p in posts) == ["No link 0", "No link 1"]
    assert [p["starred"] for p in posts if p["id"] == first] == [True]
    assert len(freshrss.api.starred_ids()) == 1


def test_moving_to_another_server_adopts_the_posts_instead_of_doubling_them(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    cli("sync")
    post = cli("entries", "--json").json()[0]["id"]
    cli("mark", "--star", str(post))
    cli("sync")
    cli("account", "remove")
    freshrss.reset()  # a new server: the same feed, new item ids, no marks
    served(freshrss, feeds, "alpha", range(3))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password, "--no-upload")
    synced = cli("sync")
    assert synced.code == 0, synced.err
    posts = cli("entries", "--json").json()
    assert len(posts) == 3
    assert [p["starred"] for p in posts if p["id"] == post] == [True]
    assert len(freshrss.api.starred_ids()) == 1
