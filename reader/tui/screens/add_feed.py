"""`a`: subscribe to a feed. The URL is fetched and checked (in a worker) before it is added."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from reader.store import Store, StoreError


class AddFeedScreen(ModalScreen[str | None]):
    """Dismisses with a one-line summary of what was added, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel", id="add.cancel")]

    def __init__(self, store: Store, timeout: float) -> None:
        super().__init__()
        self.store = store
        self.timeout = timeout

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

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#add-status", Static).update(Text(message, style="bold red" if error else "italic"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter in either field adds the feed (Tab moves between them).
        if not self.query_one("#add", Button).disabled:  # not while a check is running
            self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        from reader.subscribe import SubscribeError, normalize_url

        text = self.query_one("#add-url", Input).value
        if not text.strip():
            self._status("Type the URL of a feed or of a site.", error=True)
            return
        try:
            url = normalize_url(text)
        except SubscribeError as exc:
            self._status(str(exc), error=True)
            return
        categories = [c.strip() for c in self.query_one("#add-categories", Input).value.split(",") if c.strip()]
        self._status(f"Checking {url} …")
        self.query_one("#add", Button).disabled = True
        self._check(url, categories)

    @work(thread=True, exclusive=True, exit_on_error=False, group="add")
    def _check(self, url: str, categories: list[str]) -> None:
        import asyncio

        from reader.fetch import FetchOptions
        from reader.subscribe import SubscribeError, discover

        try:
            if self.store.get_feed(url):
                raise SubscribeError(f"already subscribed: {url}")
            final_url, parsed, result = asyncio.run(discover(url, FetchOptions(timeout=self.timeout)))
            if self.store.get_feed(final_url):
                raise SubscribeError(f"already subscribed: {final_url}")
            self.store.add_feed(final_url, parsed.title, categories)
            new, _updated = self.store.save_parsed(
                final_url, parsed, etag=result.etag, last_modified=result.last_modified
            )
        except (SubscribeError, StoreError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        summary = f"Subscribed to {parsed.title or final_url} ({new} posts)"
        self.app.call_from_thread(self.dismiss, summary)

    def _failed(self, message: str) -> None:
        self._status(message, error=True)
        self.query_one("#add", Button).disabled = False
