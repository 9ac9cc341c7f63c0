"""Issue 11: the config's rules act on posts that come by sync, as on fetched ones, and their marks reach the server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sync_support import log_in, served

from reader.config import db_path
from reader.query import parse_query
from reader.store import Store

pytestmark = pytest.mark.usefixtures("freshrss")


def test_issue11_rules_act_on_synced_posts_and_their_marks_go_to_the_server(  # type: ignore[no-untyped-def]
    freshrss, feeds, cli, monkeypatch
) -> None:
    config = Path(os.environ["READER_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[[rules]]\nquery = \'"alpha post 1"\'\naction = "star"\n\n'
        '[[rules]]\nquery = \'"alpha post 2"\'\naction = "hide"\n\n'
        '[[rules]]\nquery = \'"alpha post 3"\'\naction = "read"\n\n'
        '[[rules]]\nquery = \'"alpha post 3"\'\naction = "tag:seen"\n',
        encoding="utf-8",
    )
    served(freshrss, feeds, "alpha", range(5))
    log_in(cli, monkeypatch, freshrss.greader_url, freshrss.user, freshrss.password)
    synced = cli("sync")
    assert synced.code == 0, synced.err
    assert "rules: " in synced.out and "1 hidden" in synced.out and "1 starred" in synced.out
    store = Store(db_path())
    listed = [r.title for r in store.list_entries(*parse_query("").to_sql())]
    assert "alpha post 2" not in listed and len(listed) == 4
    assert [r.title for r in store.list_entries(*parse_query("is:hidden").to_sql())] == ["alpha post 2"]
    assert [r.title for r in store.list_entries(*parse_query("tag:seen").to_sql())] == ["alpha post 3"]
    remote = dict(store.db.execute("SELECT title, remote_id FROM entries"))
    # The rules' marks were queued and pushed in the same sync: the server has them now.
    assert freshrss.api.starred_ids() == {remote["alpha post 1"]}
    assert remote["alpha post 3"] in freshrss.api.read_ids()
    assert store.pending_changes() == 0
    # A second sync brings nothing new: the rules don't run again, and no mark is undone.
    again = cli("sync")
    assert "rules:" not in again.out
    assert freshrss.api.starred_ids() == {remote["alpha post 1"]}
    store.close()
