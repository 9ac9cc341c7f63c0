"""Parsing off the main process, so a refresh keeps both cores busy.

A worker does everything CPU-bound about a fetched feed: parse it, then compress,
hash and extract the search text of every entry. The main process is left with
the network and the SQLite writes. In a process with no other threads (the CLI)
workers are forked at the start of the refresh, which costs milliseconds; in one
that runs threads (the app), forking is unsafe, so they come from a forkserver,
started at the first feed that needs parsing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .entry_codec import EncodedEntry, encode_entries
from .models import ParsedFeed
from .parse import parse_feed


def parse_and_encode(body: bytes, url: str, headers: dict[str, str]) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
    parsed = parse_feed(body, url, headers)
    return parsed, encode_entries(parsed)


def _ready() -> None:
    """A no-op task: submitting it makes the pool start a worker now rather than later."""


def _exit_with_parent(main_pid: int) -> None:
    """Worker initializer: end this worker when the refresh that started it is gone.

    A worker blocks reading its task pipe, and if `reader` is killed (SIGKILL, the
    OOM killer) nothing ever closes that pipe, so without this the workers would
    live on, orphaned, forever.

    Ctrl+C on a terminal sends SIGINT to the whole process group, workers included: they
    ignore it, so only the main process reacts (one line, exit 130) and no worker prints
    a KeyboardInterrupt traceback; they end when the main process shuts the pool down.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked across the fork, see ParsePool._start
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:  # our forkserver exited: the main process is gone
                os._exit(0)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="reader-parent-watch", daemon=True).start()


class ParsePool:
    """Parses in worker processes when worth it (several feeds, several cores), else inline."""

    def __init__(self, enabled: bool) -> None:
        self.workers = os.cpu_count() or 1
        self.enabled = enabled and self.workers > 1
        self._executor: ProcessPoolExecutor | None = None
        # A process with no other threads yet (the CLI, at the start of a refresh) can
        # simply fork: workers are ready in milliseconds with everything imported, so
        # they start now. Otherwise (the app) a forkserver, started at the first parse.
        self._fork = hasattr(os, "fork") and sys.platform == "linux" and threading.active_count() == 1
        if self._fork:
            self._start()

    def _start(self) -> None:
        """Start the workers at the first feed that needs parsing: a refresh of 304s needs none."""
        if self.enabled and self._executor is None:
            try:
                if self._fork:
                    context = multiprocessing.get_context("fork")
                else:
                    context = multiprocessing.get_context("forkserver")
                    context.set_forkserver_preload(["reader.parse_pool"])
                # SIGINT stays blocked while the workers are forked (here, in submit) until
                # their initializer ignores it: a Ctrl+C in between would otherwise give a
                # worker a KeyboardInterrupt traceback. The parent gets it when unblocked.
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    self._executor = ProcessPoolExecutor(
                        max_workers=self.workers, mp_context=context,
                        initializer=_exit_with_parent, initargs=(os.getpid(),),
                    )
                    for _ in range(self.workers):
                        self._executor.submit(_ready)
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            except (OSError, ValueError, BrokenProcessPool):
                self._disable()

    async def parse(
        self, body: bytes, url: str, headers: dict[str, str]
    ) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
        self._start()
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
