"""Parsing off the main process, so a refresh keeps both cores busy.

A worker does everything CPU-bound about a fetched feed: parse it, then compress,
hash and extract the search text of every entry. The main process is left with
the network and the SQLite writes. Workers come from a forkserver, because
forking a process that runs threads (the TUI does) is unsafe, and they are started
when the refresh starts, so their start-up overlaps the first fetches.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .models import ParsedFeed
from .parse import parse_feed
from .store import EncodedEntry, encode_entries


def parse_and_encode(body: bytes, url: str, headers: dict[str, str]) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
    parsed = parse_feed(body, url, headers)
    return parsed, encode_entries(parsed)


def _ready() -> None:
    """A no-op task: submitting it makes the pool start a worker now rather than later."""


class ParsePool:
    """Parses in worker processes when worth it (several feeds, several cores), else inline."""

    def __init__(self, enabled: bool) -> None:
        self.workers = os.cpu_count() or 1
        self.enabled = enabled and self.workers > 1
        self._executor: ProcessPoolExecutor | None = None
        if self.enabled:
            try:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["reader.parse_pool"])
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
                for _ in range(self.workers):
                    self._executor.submit(_ready)
            except (OSError, ValueError, BrokenProcessPool):
                self._disable()

    async def parse(
        self, body: bytes, url: str, headers: dict[str, str]
    ) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
        if self._executor is not None:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._executor, parse_and_encode, body, url, headers
                )
            except BrokenProcessPool:
                # A worker died (killed, out of memory): carry on in this process.
                self._disable()
        # In-process, entries are encoded lazily by the store: unchanged ones never are.
        return parse_feed(body, url, headers), None

    def _disable(self) -> None:
        self.enabled = False
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
