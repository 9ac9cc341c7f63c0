"""The refresh's one writer thread: every cache write, several to a commit.

SQLite work releases the GIL, so one thread doing every write overlaps the cache with the
network and the parse workers. Each write stays all or nothing by itself (a savepoint,
Store.batch), but the writes already queued when the thread gets to them share one commit:
fewer, bigger flushes of the search index, which cost a third of a cold refresh's writes when
every feed had its own. Nothing waits to fill a batch: a write that finds the queue empty is
committed at once, so a batch only grows while the writer is busy anyway.

A write's future is resolved only after its commit, so whoever awaits it (a lane, the app
showing new posts) never reads the cache before the write is in it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from .storage.base import StoreBase

_Write = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]  # what submit queues

# Writes per commit at most: a batch holds the cache's write lock, and the app marking a post
# read waits for it (its busy timeout), so a batch stays a fraction of a second.
MAX_BATCH = 64


class BatchWriter(Executor):
    def __init__(self, store: StoreBase, name: str = "reader-writer") -> None:
        self.store = store
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._shutdown = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new writes after shutdown")
            future: Future[Any] = Future()
            self._queue.put((future, fn, args, kwargs))
            return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Write what is queued, close this thread's connection to the cache, end the thread."""
        with self._lock:
            if not self._shutdown:
                self._shutdown = True
                self._queue.put(None)
        if wait:
            self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                batch = [item]
                ending = False
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        ending = True
                        break
                    batch.append(item)
                self._write(batch)
                if ending:
                    return
        finally:
            self.store.close()  # the writer thread's own connection

    def _write(self, batch: list[_Write]) -> None:
        done: list[tuple[Future[Any], bool, Any]] = []
        started = 0
        try:
            with self.store.batch() as db:
                for future, fn, args, kwargs in batch:
                    started += 1
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        done.append((future, True, fn(*args, **kwargs)))
                    except BaseException as exc:
                        done.append((future, False, exc))
                    if not db.in_transaction:
                        # SQLite ended the whole transaction (a full disk): what ran so far is gone.
                        raise _Ended()
        except BaseException as exc:
            # The commit failed, or the transaction ended: none of the writes that ran is in the
            # cache, and each says why. Those that never ran are written one by one, as they came.
            cause: BaseException = exc
            if isinstance(exc, _Ended):
                last_ok, last_value = done[-1][1], done[-1][2]
                cause = last_value if not last_ok else RuntimeError("the cache write was rolled back")
            for future, ok, value in done:
                future.set_exception(value if not ok else cause)
            for item in batch[started:]:
                self._write([item])
            return
        for future, ok, value in done:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


class _Ended(Exception):
    """SQLite rolled the whole batch back on its own."""
