"""A reload that lands while the reader moves (a refresh's new posts) keeps where the cursor is now."""

from __future__ import annotations

import threading

import pytest
from tui_support import fill, make_app, settle, wait_for

from reader.store import Store
from reader.tui import loading
from reader.tui.source import StoreSource


@pytest.mark.asyncio
async def test_issue10_a_key_pressed_while_a_reload_runs_is_not_undone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store)
    app = make_app(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        before = app.post_list.current_entry
        assert before is not None
        gate = threading.Event()
        started = threading.Event()
        query = StoreSource.query

        def slow_query(*args: object, **kwargs: object) -> StoreSource:
            started.set()
            gate.wait(5)  # the rows come back only after the key below
            return query(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(loading.StoreSource, "query", staticmethod(slow_query))
        app.reload()
        await wait_for(pilot, started.is_set)
        await pilot.press("j")
        moved = app.post_list.current_entry
        assert moved is not None and moved.id != before.id
        gate.set()
        await settle(pilot)
        after = app.post_list.current_entry
        assert after is not None and after.id == moved.id  # before the fix: back on `before`
