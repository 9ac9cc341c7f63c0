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
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, TypeVar

from .entry_codec import EncodedEntry, encode_entries
from .models import ParsedFeed

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
WORKER_NICENESS = 5


def parse_and_encode(body: bytes, url: str, headers: dict[str, str]) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
    from .parse import parse_feed  # loaded before the workers fork (ParsePool._start_locked)

    parsed = parse_feed(body, url, headers)
    return parsed, encode_entries(parsed)


def _ready() -> None:
    """A no-op task: submitting it makes the pool start a worker now rather than later."""


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """sys.stderr as the process's own stream while workers start.

    multiprocessing hands the forkserver and its resource tracker `sys.stderr.fileno()`; in the
    app that is Textual's print capture, whose fileno() is -1, and every start failed with
    "bad value(s) in fds_to_keep": the app's refreshes parsed and extracted in its own process,
    holding the GIL its UI thread needs. Nothing is printed meanwhile, so the swap is safe.
    """
    current = sys.stderr
    try:
        broken = current is None or current.fileno() < 0
    except (AttributeError, OSError, ValueError):
        broken = True
    if not broken or sys.__stderr__ is None:
        yield
        return
    sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = current


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
    # Below the main process's priority: its one writer thread (every cache write) and event loop are
    # what a refresh waits on, and with two workers on two cores they got a third of a core each; the
    # workers take what they leave (a cold 500-feed refresh 4.8 -> 4.2-4.4 s). In the app the UI thread
    # comes first too. A little is enough (niceness 5, 10 and 19 measured alike).
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
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
    """Parses in worker processes when worth it (several feeds, several cores), else inline.

    `run(fn, *args)` runs any other CPU work (the refresh's article extraction) in a worker.
    """

    def __init__(self, enabled: bool, workers: int | None = None, likely: bool = True) -> None:
        self.workers = workers or os.cpu_count() or 1
        # Parsing feeds in workers pays only with several cores. A caller naming its workers wants
        # them whatever the cores: its work must be off this process's GIL (the app's UI thread).
        self.enabled = enabled and (workers is not None or self.workers > 1)
        self._executor: ProcessPoolExecutor | None = None
        self._starting = threading.Lock()  # run() starts the workers from a thread, maybe two at once
        # A process with no other threads yet (the CLI, at the start of a refresh) can
        # simply fork: workers are ready in milliseconds with everything imported, so
        # they start now. Otherwise (the app) a forkserver, started at the first parse.
        self._fork = hasattr(os, "fork") and sys.platform == "linux" and threading.active_count() == 1
        if self._fork:
            if likely:
                self._start()
            else:
                # Forking later, once threads run, is not safe, and a forkserver costs more to start
                # than the few parses the caller expects (`likely` False: most feeds will answer 304).
                self.enabled = False

    def _start(self) -> None:
        """Start the workers at the first feed that needs parsing: a refresh of 304s needs none."""
        with self._starting:
            self._start_locked()

    def _start_locked(self) -> None:
        if self.enabled and self._executor is None:
            # The pool's modules, and the parser its workers run, load here, when workers start: a
            # refresh that starts none (feeds fetched before answer 304) never imports them (~14 ms).
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            from concurrent.futures.process import BrokenProcessPool

            from . import parse  # noqa: F401 -- imported once here rather than in each forked worker

            try:
                if self._fork:
                    context = multiprocessing.get_context("fork")
                else:
                    context = multiprocessing.get_context("forkserver")
                    context.set_forkserver_preload(["reader.parse_pool", "reader.parse"])
                # SIGINT stays blocked while the workers are forked (here, in submit) until
                # their initializer ignores it: a Ctrl+C in between would otherwise give a
                # worker a KeyboardInterrupt traceback. The parent gets it when unblocked.
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    with _real_stderr():  # the workers (and a forkserver) are spawned in submit
                        self._executor = ProcessPoolExecutor(
                            max_workers=self.workers, mp_context=context,
                            initializer=_exit_with_parent, initargs=(os.getpid(),),
                        )
                        for _ in range(self.workers):
                            self._executor.submit(_ready)
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                if not self.enabled:  # shut down while starting: the workers go with it
                    self._disable()
            except (OSError, ValueError, BrokenProcessPool):
                self._disable()

    async def parse(
        self, body: bytes, url: str, headers: dict[str, str]
    ) -> tuple[ParsedFeed, list[EncodedEntry] | None]:
        self._start()
        if self._executor is not None:
            from concurrent.futures.process import BrokenProcessPool  # loaded with the pool

            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._executor, parse_and_encode, body, url, headers
                )
            except BrokenProcessPool:
                # A worker died (killed, out of memory): carry on in this process.
                self._disable()
        from .parse import parse_feed

        # In-process, entries are encoded lazily by the store: unchanged ones never are.
        return parse_feed(body, url, headers), None

    async def run(self, fn: Callable[..., T], *args: object, fallback: Executor | None = None) -> T:
        """`fn(*args)` in a worker process: its CPU time holds no lock of this process (the GIL the
        app's UI thread needs). `fn` and its arguments and result must pickle (a module-level function).
        In the `fallback` thread pool (None: the event loop's) when the pool is off or a worker died.

        The workers start here at the first call, in a thread: from a forkserver that takes a moment
        the event loop would otherwise spend waiting.
        """
        loop = asyncio.get_running_loop()
        if self.enabled and self._executor is None:
            await loop.run_in_executor(fallback, self._start)
        executor = self._executor
        if executor is not None:
            from concurrent.futures.process import BrokenProcessPool  # loaded with the pool

            try:
                return await loop.run_in_executor(executor, fn, *args)
            except BrokenProcessPool:
                self._disable()  # a worker died (killed, out of memory): carry on in this process
        return await loop.run_in_executor(fallback, fn, *args)

    def _disable(self) -> None:
        self.enabled = False
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def shutdown(self, wait: bool = True) -> None:
        """End the workers. With `wait=False` nothing waits: a task in flight ends on its own (bounded
        work), and its worker exits then; what was queued is dropped. No later call starts new workers."""
        self.enabled = False  # a start in flight (run's thread) shuts its own workers down when it sees this
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)
