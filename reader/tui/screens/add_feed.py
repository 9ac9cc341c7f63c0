"""`a`: subscribe to a feed. The URL is fetched and checked (in a worker) before it is added.

Cancelling (Esc, the Cancel button, quitting) while the check runs means nothing is added:
the worker only fetches and parses, and it may write to the cache only after it has moved
the dialog from "checking" to "adding" under a lock that cancelling takes too. The fetch
itself is cancelled at once, so a slow server holds nothing up.
"""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from reader.config import Settings
from reader.sanitize import clean_message
from reader.store import Store

# A status is one line in a 72-column dialog: a server's essay of a reason phrase gets cut.
MAX_STATUS = 300

State = Literal["idle", "checking", "adding", "closed"]


def status_text(message: object) -> str:
    """Any message fit for the terminal: one line, no escapes or controls, no passwords.

    Server text (a reason phrase, a Location header, an exception's words) reaches the
    dialog through here, so an OSC 52 or a bidi override in it is stripped, whatever raised
    it. The same cleaner as the CLI's errors (sanitize.clean_message): every URL in it masked.
    """
    return clean_message(str(message), limit=MAX_STATUS)


def unexpected_error(url: str, exc: BaseException) -> str:
    """The last resort, for an exception nobody foresaw: a sentence for a person, not a traceback's
    last line. The exception's name stays, to quote in a report; its words (often Python's
    internals, "Python int too large to convert to C int") don't."""
    return f"Could not add {url}: the feed could not be read (unexpected {type(exc).__name__}; please report it)"


class AddFeedScreen(ModalScreen[str | None]):
    """Dismisses with a one-line summary of what was added, or None."""

    DEFAULT_CSS = """
    #add-status { height: auto; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="add.cancel")]

    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__()
        self.store = store
        self.settings = settings  # its rules act on the first posts; its schedule times the next fetch
        self.new_ids: list[int] = []
        self.timeout = settings.timeout
        # Guards `state` and `_inflight` between the UI thread and the check worker.
        self._lock = threading.Lock()
        self.state: State = "idle"
        self._inflight: tuple[asyncio.AbstractEventLoop, asyncio.Task[object]] | None = None
        self.check_done = threading.Event()  # set when a check's worker ends, however it ends

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-feed"):
            yield Static(Text("Add a feed", style="bold"), markup=False)
            yield Input(placeholder="https://example.com/feed.xml (or a page that links its feed)", id="add-url")
            yield Input(placeholder="categories, comma separated (optional)", id="add-categories")
            yield Static("", id="add-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#add-url", Input).focus()

    def _status(self, message: object, error: bool = False) -> None:
        self.query_one("#add-status", Static).update(
            Text(status_text(message), style="bold red" if error else "italic")
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter in either field adds the feed (Tab moves between them).
        if not self.query_one("#add", Button).disabled:  # not while a check is running
            self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self._submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        with self._lock:
            if self.state == "adding":
                # The cache is being written: it takes a moment and the dialog then closes.
                self._status("Adding it now; too late to cancel.")
                return
            self.state = "closed"
            inflight, self._inflight = self._inflight, None
        self._cancel_fetch(inflight)
        self.dismiss(None)

    def on_unmount(self) -> None:
        # Quitting the app with the dialog open: the check must not hold anything up.
        with self._lock:
            if self.state != "adding":
                self.state = "closed"
            inflight, self._inflight = self._inflight, None
        self._cancel_fetch(inflight)

    @staticmethod
    def _cancel_fetch(inflight: tuple[asyncio.AbstractEventLoop, asyncio.Task[object]] | None) -> None:
        if inflight is None:
            return
        loop, task = inflight
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:
            pass  # the check's loop has just finished: nothing left to cancel

    def _submit(self) -> None:
        from reader.subscribe import SubscribeError, normalize_url

        text = self.query_one("#add-url", Input).value
        if not text.strip():
            self._status("Type the URL of a feed or of a site.", error=True)
            return
        try:
            url = normalize_url(text)
        except SubscribeError as exc:
            self._status(exc, error=True)
            return
        categories = [c.strip() for c in self.query_one("#add-categories", Input).value.split(",") if c.strip()]
        with self._lock:
            if self.state != "idle":
                return
            self.state = "checking"
        self.check_done.clear()
        self._status(f"Checking {url} …")
        self.query_one("#add", Button).disabled = True
        self._check(url, categories)

    @work(thread=True, exclusive=True, exit_on_error=False, group="add")
    def _check(self, url: str, categories: list[str]) -> None:
        try:
            summary = self._check_and_add(url, categories)
        except Exception as exc:  # whatever a hostile server provokes, the dialog must not hang
            from reader.store import StoreError
            from reader.subscribe import SubscribeError

            if isinstance(exc, (SubscribeError, StoreError)):
                message = str(exc)
            else:
                message = unexpected_error(url, exc)
            self._finish(None, message)
        else:
            self._finish(summary, None)
        finally:
            self.check_done.set()

    def _check_and_add(self, url: str, categories: list[str]) -> str | None:
        """The summary of what was added, or None if the dialog was closed meanwhile."""
        from reader.fetch import FetchOptions
        from reader.subscribe import SubscribeError, discover, store_checked_feed

        if self.store.get_feed(url):
            raise SubscribeError(f"already subscribed: {url}")

        async def check() -> object:
            task = asyncio.current_task()
            assert task is not None
            with self._lock:
                if self.state != "checking":
                    return None
                self._inflight = (asyncio.get_running_loop(), task)
            return await discover(url, FetchOptions(timeout=self.timeout))

        try:
            found = asyncio.run(check())
        except asyncio.CancelledError:
            return None
        finally:
            with self._lock:
                self._inflight = None
        if found is None:
            return None
        final_url, parsed, result = found  # type: ignore[misc]
        if self.store.get_feed(final_url):
            raise SubscribeError(f"already subscribed: {final_url}")
        with self._lock:
            if self.state != "checking":
                return None  # cancelled while the answer was on its way: add nothing
            self.state = "adding"
        new, ids = store_checked_feed(self.store, final_url, parsed, result, categories, self.settings)
        self.new_ids = ids  # their full articles and images are fetched next, by the app
        return f"Subscribed to {parsed.title or final_url} ({new} posts)"

    def _finish(self, summary: str | None, error: str | None) -> None:
        """From the worker: show the outcome, unless the dialog is gone."""
        with self._lock:
            if self.state == "closed":
                return
            self.state = "idle" if summary is None else "closed"
        if not self.app.is_running:
            return  # quitting: call_from_thread would wait on a loop that is gone
        try:
            self.app.call_from_thread(self._show_outcome, summary, error)
        except RuntimeError:
            pass  # the app stopped just now

    def _show_outcome(self, summary: str | None, error: str | None) -> None:
        if not self.is_attached:
            return
        if summary is not None:
            self.dismiss(status_text(summary))
            return
        self._status(error or "Not added.", error=True)
        self.query_one("#add", Button).disabled = False
