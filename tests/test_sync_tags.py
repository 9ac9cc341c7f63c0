"""Issue 11: tags are Google Reader user labels on a sync server (a real FreshRSS), both ways."""

from __future__ import annotations

import pytest
from sync_support import log_in, served

from reader.config import db_path
from reader.query import parse_query
from reader.store import Store

pytestmark = pytest.mark.usefixtures("freshrss")

LABEL = "user/-/label/"


def _tag_on_server(freshrss, item_ids, name: str, add: bool = True) -> None:  # type: ignore[no-untyped-def]
    pairs = [("i", str(i)) for i in item_ids]
    freshrss.api.post("/reader/api/0/edit-tag", [*pairs, ("a" if add else "r", LABEL + name)])


def _tagged(store: Store, name: str) -> list[str]:
    return [r.title for r in store.list_entries(*parse_query(f'tag:"{name}"').to_sql())]


def test_issue11_tags_sync_both_ways_and_are_not_categories(freshrss, feeds, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served(freshrss, feeds, "alpha", range(4), category="Tech")
    by_title = {c["title"]: int(c["id"].rsplit("/", 1)[-1], 16) for c in freshrss.api.contents()}
    # Tagged on the server (another machine) before this cache ever synced.
    _tag_on_server(freshrss, [by_title["alpha post 0"]], "to read")
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    assert cli("sync").code == 0
    store = Store(db_path())
    ids = {r.title: r.id for r in store.list_entries()}
    assert _tagged(store, "to read") == ["alpha post 0"]
    assert store.tag_names() == ["to read"]  # the feed's folder "Tech" is a category, not a tag
    entry = store.get_entry(ids["alpha post 0"])
    assert entry is not None and "to read" not in entry.categories and "Tech" in entry.categories

    # Tagged here: queued, then pushed as the user label.
    assert cli("tag", str(ids["alpha post 2"]), "+later").code == 0
    assert store.pending_changes() >= 1
    synced = cli("sync")
    assert synced.code == 0, synced.err
    assert set(freshrss.api.item_ids(LABEL + "later")) == {by_title["alpha post 2"]}
    assert store.pending_changes() == 0

    # Changed on the server: added and removed there, reconciled here.
    _tag_on_server(freshrss, [by_title["alpha post 3"]], "later")
    _tag_on_server(freshrss, [by_title["alpha post 0"]], "to read", add=False)
    synced = cli("sync")
    assert "tag change" in synced.out
    assert sorted(_tagged(store, "later")) == ["alpha post 2", "alpha post 3"]
    assert _tagged(store, "to read") == []

    # A change made here and not yet pushed wins over the server's older state.
    assert cli("tag", str(ids["alpha post 3"]), "-later").code == 0
    assert cli("sync").code == 0
    assert _tagged(store, "later") == ["alpha post 2"]
    assert set(freshrss.api.item_ids(LABEL + "later")) == {by_title["alpha post 2"]}
    store.close()
