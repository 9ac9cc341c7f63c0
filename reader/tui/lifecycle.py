"""The app's lifecycle plumbing: background threads that never hold up quitting.

Textual runs thread workers through the event loop's default executor, and both
`asyncio.run()` (shutdown_default_executor) and the interpreter's exit (the
concurrent.futures atexit hook) join that executor's threads. One slow render or a
stuck query would then keep `q` from quitting until it finished. The app installs
`DaemonExecutor` instead: each job runs on a daemon thread that nobody joins; a job
still running at exit is simply abandoned (its result was going nowhere).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class DaemonExecutor(ThreadPoolExecutor):
    """An executor whose jobs run on daemon threads and whose shutdown never waits.

    A subclass of ThreadPoolExecutor only because asyncio's set_default_executor
    insists on one; none of its pool is used.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="reader-worker")
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("cannot schedule new work after shutdown")
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future, as a pool would
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="reader-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Never joins: quitting must not wait on work in flight.
        self._closed = True


def install_daemon_executor() -> None:
    """Make the running loop's default executor a DaemonExecutor (call from inside the loop)."""
    asyncio.get_running_loop().set_default_executor(DaemonExecutor())
