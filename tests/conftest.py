"""Shared pytest fixtures."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from feedserver import FeedServer

from reader.cli import main
from reader.store import Store

# The real FreshRSS for the sync tests: freshrss_server, freshrss, fault_proxy.
pytest_plugins = ["freshrss_fixtures"]

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


# --- the cache and the command line ---


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the real user's cache or config."""
    monkeypatch.setenv("READER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("READER_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _loopback_articles_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Article pages and images only from loopback: the sample feeds' posts link real sites,
    and full text is on (auto) by default, so a refresh in a test would reach the network."""
    monkeypatch.setattr("reader.articles.ONLY_HOSTS", frozenset({"127.0.0.1", "localhost", "::1"}))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data" / "reader.sqlite")
    yield s
    s.close()


@pytest.fixture
def filled(store: Store) -> Store:
    """The cache as a first run leaves it, plus the seed feed: through the core, like the app's users."""
    from tui_support import fill  # here: it imports the app (Textual), which most tests don't need

    fill(store)
    return store


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin local time to UTC (the app shows local dates), and put the real zone back after."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@dataclass
class CLIResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CLIResult]:
    """Run `reader ARGS...` in-process against the test's own data dir."""

    def run(*args: str) -> CLIResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CLIResult(code, captured.out, captured.err)

    return run
