"""Snapshot tests of the main views at 80×24 and 140×40 (fixed data, UTC, a pinned refresh time).

Regenerate after an intended change:  pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from tui_support import make_app, settle

from reader.store import Store


@pytest.fixture
def app(filled: Store, utc: None):
    return make_app(filled)


async def _ready(pilot: Pilot) -> None:
    await settle(pilot)


async def _open_seed_post(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("G", "k", "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)], ids=["140x40", "80x24"])
def test_main_view(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)], ids=["140x40", "80x24"])
def test_post_open(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_open_seed_post)


def test_filter_with_error(snap_compare, app) -> None:
    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"is:bogus")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
