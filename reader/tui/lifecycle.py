"""The app's lifecycle plumbing: background threads that never hold up quitting.

Textual runs thread workers through the event loop's default executor, and both
`asyncio.run()` (shutdown_default_executor) and the interpreter's exit (the
concurrent.futures atexit hook) join that executor's threads. One slow render or a
stuck query would then keep `q` from quitting until it finished. The app installs
`DaemonExecutor` instead: each job runs on a daemon thread that nobody joins; a job
still running at exit is simply abandoned (its result was going nowhere).

`LifecycleMixin` (a mixin of ReaderApp) holds the rest of what happens at the edges of
the app's life: one handler for a damaged cache, keys and lookups after `q`, and
notifications that don't pile up.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches
from textual.notifications import SeverityLevel

from reader.sanitize import clean_message
from reader.store import CorruptCacheError, explain_db_error

# A toast is a few lines of a sentence, whatever text it was handed.
MAX_TOAST = 500
MAX_TOAST_LINES = 6

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class DaemonExecutor(ThreadPoolExecutor):
    """An executor whose jobs run on daemon threads and whose shutdown never waits.

    A subclass of ThreadPoolExecutor only because asyncio's set_default_executor
    insists on one; none of its pool is used. Threads are kept for reuse while there is
    work (each holds its own SQLite connection, whose page cache a fresh thread would
    have to warm again) and end after IDLE_SECONDS without any.
    """

    IDLE_SECONDS = 60.0

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="reader-worker")
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple, dict]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that no submit has counted on yet
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("cannot schedule new work after shutdown")
        future: Future[Any] = Future()
        self._jobs.put((future, fn, args, kwargs))
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # an idle thread will take it
        if spawn:
            threading.Thread(target=self._work, name="reader-worker", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            try:
                future, fn, args, kwargs = self._jobs.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody counts on this thread: it may go
                        self._idle -= 1
                        return
                continue  # a submit counted on it just now: its job is in the queue
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to whoever awaits the future, as a pool would
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs  # drop references to the job while idle
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Never joins: quitting must not wait on work in flight.
        self._closed = True


def install_daemon_executor() -> None:
    """Make the running loop's default executor a DaemonExecutor (call from inside the loop)."""
    asyncio.get_running_loop().set_default_executor(DaemonExecutor())


class LifecycleMixin:
    """Errors, notifications and quitting, for ReaderApp."""

    def notify(
        self: ReaderApp,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        if not markup:
            # Every toast of ours goes through the core's cleaner, whatever put the text
            # together (a server's reason phrase, a feed title, a URL with a password).
            message = "\n".join(clean_message(line, MAX_TOAST) for line in message.splitlines()[:MAX_TOAST_LINES])
            title = clean_message(title, 100)
        # The same message again while it is still shown (Space at the last post, held
        # down) would stack identical toasts: the one on screen says it already.
        if threading.get_ident() == self._thread_id:
            for shown in self._notifications:
                if shown.message == message and shown.title == title and shown.severity == severity:
                    return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def cache_failed(self: ReaderApp, error: BaseException) -> bool:
        """A damaged cache, from any worker or handler, ends up here: the app exits cleanly
        and run_app raises it, so the CLI says what is wrong and offers to move it aside.
        Returns whether `error` was such a failure."""
        if isinstance(error, sqlite3.DatabaseError):
            error = explain_db_error(error, self.store.path)
        if not isinstance(error, CorruptCacheError):
            return False
        if self.fatal_error is None:
            self.fatal_error = error
            self._refresh_stop.set()
            self.exit(1, return_code=1)
        return True

    def _handle_exception(self: ReaderApp, error: Exception) -> None:
        # The one place every unhandled error passes: a damaged cache exits cleanly, and a
        # widget looked up while the app is shutting down (a key or a worker's result that
        # arrived after `q`) is not a failure.
        if self.cache_failed(error):
            return
        if self._exit and isinstance(error, NoMatches):
            return
        super()._handle_exception(error)

    async def run_action(self: ReaderApp, action: str | object, default_namespace: object = None) -> bool:
        if self._exit:
            return False  # keys typed after `q` (q then a) act on nothing: the widgets are going
        return await super().run_action(action, default_namespace)  # type: ignore[arg-type]

    async def action_quit(self: ReaderApp) -> None:
        self._refresh_stop.set()
        await super().action_quit()

