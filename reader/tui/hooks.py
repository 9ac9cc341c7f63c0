"""The app's hook keys: `|` pipes the rendered post to the `pipe` command, `b` sends its title and URL
to the `bookmark` command (reader/hooks.py runs them, never through a shell).

Both act on the open post, else the one under the list cursor.

- `|`: the post is rendered as `reader show` renders it (reader/render.py's render_entry_text, the
  text the pane shows: the full article or the feed's) in a worker; then the app suspends itself
  and the command gets the terminal and the post on stdin (`less -R`, a notes script), however
  long it takes. Where the app can't hand over the terminal (Textual's headless and web drivers),
  the command runs without it, in a worker, its output discarded, at most HOOK_TIMEOUT.
- `b`: the bookmark command runs in a worker with a timeout; a notification says done or why not.

A mixin of ReaderApp (reader/tui/app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import SuspendNotSupported

# reader.hooks (subprocess, shlex) is imported by the keys that run a hook: the app starts without it.
from reader.sanitize import clean_line, clean_message, safe_url

if TYPE_CHECKING:
    from reader.models import Entry
    from reader.tui.app import ReaderApp


def shown_feed_title(entry: Entry) -> str:
    """The feed's title as `reader show` gives it: the store gives the URL for a feed with no title,
    and a URL is shown masked."""
    return clean_message(entry.feed_url, 2000) if entry.feed_title == entry.feed_url else entry.feed_title


class HookActions:
    """Piping and bookmarking the open post."""

    def _hook_target(self: ReaderApp) -> tuple[int, str] | None:
        """(id, which text) of the post a hook key acts on: the open post with the text it shows, else the
        post under the cursor ("auto": the full article when there is one, as `reader show`)."""
        post = self.reading_pane.post
        if post is not None:
            return post.entry.id, post.shown
        pending = self.reading_pane.pending_id
        if pending is not None:
            return pending, "auto"
        row = self._target()
        return (row.id, "auto") if row is not None else None

    # --- | : pipe ---------------------------------------------------------------------------

    def action_pipe_post(self: ReaderApp) -> None:
        from reader.hooks import PIPE_HINT

        if not self.settings.pipe:
            self.notify(f"Can't pipe: {PIPE_HINT}", severity="warning", markup=False, timeout=8)
            return
        target = self._hook_target()
        if target is None:
            self.notify("No post to pipe.", markup=False)
            return
        self._render_for_pipe(*target)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pipe")
    def _render_for_pipe(self: ReaderApp, entry_id: int, source: str) -> None:
        # Rendering a long post takes a while: never on the UI thread.
        from reader.render import render_entry_text

        entry = self.store.get_entry(entry_id)
        if entry is None:
            self.call_from_thread(self.notify, "That post is no longer in the cache.", markup=False)
            return
        entry.feed_title = shown_feed_title(entry)
        text = render_entry_text(entry, source=source, downloads=self._downloads_dir())
        if not self._refresh_stop.is_set():  # not after quitting
            self.call_from_thread(self._pipe_text, text)

    def _pipe_text(self: ReaderApp, text: str) -> None:
        """Hand the terminal to the pipe command with the post on its stdin; back when it exits."""
        if self._exit:
            return
        from reader.hooks import HookError, run_foreground

        words = self.settings.pipe
        error: HookError | None = None
        try:
            with self.suspend():
                try:
                    run_foreground(words, [], text, what="pipe", hint="check pipe in config.toml")
                except HookError as exc:
                    error = exc
        except SuspendNotSupported:
            self._pipe_detached(text)
            return
        if error is not None:
            self.notify(str(error), severity="error", markup=False, timeout=8)

    @work(thread=True, exit_on_error=False, group="pipe-run")
    def _pipe_detached(self: ReaderApp, text: str) -> None:
        from reader.hooks import HOOK_TIMEOUT, HookError, run_with_stdin

        name = clean_line(self.settings.pipe[0], 200)
        try:
            run_with_stdin(self.settings.pipe, [], text, HOOK_TIMEOUT, what="pipe", hint="check pipe in config.toml")
        except HookError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False, timeout=8)
            return
        self.call_from_thread(
            self.notify, f"Piped to {name} (this terminal can't be handed over: its output was not shown).",
            markup=False,
        )

    # --- b : bookmark -----------------------------------------------------------------------

    def action_bookmark_post(self: ReaderApp) -> None:
        from reader.hooks import BOOKMARK_HINT

        if not self.settings.bookmark:
            self.notify(f"Can't bookmark: {BOOKMARK_HINT}", severity="warning", markup=False, timeout=8)
            return
        post = self.reading_pane.post
        if post is not None:
            entry_id, link, title = post.entry.id, post.entry.link, post.entry.title
        else:
            row = self._target()
            if row is None:
                self.notify("No post to bookmark.", markup=False)
                return
            entry_id, link, title = row.id, row.link, row.title
        if safe_url(link) is None:
            self.notify("This post has no http(s) link to bookmark.", severity="warning", markup=False)
            return
        self._bookmark(entry_id, title)

    @work(thread=True, exit_on_error=False, group="bookmark")
    def _bookmark(self: ReaderApp, entry_id: int, title: str) -> None:
        from reader.hooks import HookError, bookmark

        entry = self.store.get_entry(entry_id)
        if entry is None:
            self.call_from_thread(self.notify, "That post is no longer in the cache.", markup=False)
            return
        shown = clean_line(entry.title or title, 80) or "(untitled)"
        try:
            bookmark(self.settings, entry.link, entry.title, shown_feed_title(entry))
        except HookError as exc:
            self.call_from_thread(self.notify, f"Bookmark failed: {exc}", severity="error", markup=False, timeout=8)
            return
        self.call_from_thread(self.notify, f"Bookmarked {shown}", markup=False)
