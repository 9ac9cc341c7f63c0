"""The app's link keys: `o` opens the post's link, `1` … `9` the open post's numbered links (through
the `browser` hook, else the system's browser: reader/hooks.py), `y` copies the link (OSC 52).

Only http(s) links are ever opened or copied. A mixin of ReaderApp (reader/tui/app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from reader.sanitize import mask_credentials, safe_url

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class LinkActions:
    """Opening and copying links."""

    def _post_link(self: ReaderApp) -> str | None:
        post = self.reading_pane.post
        if post is not None:
            return post.entry.link
        entry = self._target()
        return entry.link if entry else None

    def _open_url(self: ReaderApp, url: str | None) -> None:
        safe = safe_url(url)
        if safe is None:
            self.notify("This post has no http(s) link to open.", severity="warning", markup=False)
            return
        self._browse(safe)
        self.notify(f"Opening {mask_credentials(safe)}", markup=False)

    @work(thread=True, exit_on_error=False, group="browser")
    def _browse(self: ReaderApp, url: str) -> None:
        # The `browser` hook (detached, no shell), else the system's browser: reader/hooks.py.
        # A worker: the system's opener may take a moment, and a console $BROWSER waits.
        from reader.hooks import HookError, open_url

        try:
            open_url(url, self.settings)
        except HookError as exc:
            self.call_from_thread(self.notify, str(exc), severity="warning", markup=False)

    def action_open_in_browser(self: ReaderApp) -> None:
        self._open_url(self._post_link())

    def action_open_link(self: ReaderApp, number: int) -> None:
        post = self.reading_pane.post
        if post is None:
            self.notify("Open a post first (Enter).", markup=False)
            return
        if not 1 <= number <= len(post.links):
            self.notify(f"This post has no link {number}.", markup=False)
            return
        self._open_url(post.links[number - 1])

    def action_copy_url(self: ReaderApp) -> None:
        url = safe_url(self._post_link())
        if url is None:
            self.notify("This post has no link to copy.", severity="warning", markup=False)
            return
        self.copy_to_clipboard(url)
        self.notify(f"Copied {mask_credentials(url)}", markup=False)
