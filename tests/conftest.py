"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer

DATA_DIR = Path(__file__).parent / "data"


# --- HTTP server ---


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    """One loopback server over tests/data for the whole run.

    Shared across tests, so assert on request counts as deltas (or call
    feed_server.reset() first), never on absolute totals.
    """
    with FeedServer(DATA_DIR) as server:
        yield server
