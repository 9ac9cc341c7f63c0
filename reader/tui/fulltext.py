"""The app's full-article actions: `f` fetches the open post's article now, `t` toggles between
the article and the feed's own text.

A mixin of ReaderApp (reader/tui/app.py). The fetch runs in a thread worker (never the UI
thread; quitting never waits for it: the app's workers are daemon threads), and its outcome
is a notification; when the article arrives and the post is still open, the post is shown
again with the article. Which text is shown goes to `build_post(source=...)` through
`_render_post` (reader/tui/actions_reading.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from reader.sanitize import clean_message
from reader.store import StoreError

if TYPE_CHECKING:
    from reader.articles import ArticleOutcome
    from reader.tui.app import ReaderApp


class FullTextActions:
    def action_fetch_article(self: ReaderApp) -> None:
        entry_id = self._open_id()
        if entry_id is None:
            self.notify("Open a post first (Enter).", markup=False)
            return
        self.notify("Fetching the full article…", markup=False)
        self._fetch_article(entry_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="article")
    def _fetch_article(self: ReaderApp, entry_id: int) -> None:
        # Here, not at the top: the HTTP client and the article stage are not needed to open the app.
        from reader.articles import ArticleOutcome, fetch_article_now
        from reader.fetch import FetchOptions

        try:
            outcome = fetch_article_now(self.store, entry_id, FetchOptions(timeout=self.settings.timeout))
        except StoreError as exc:  # the post went (its feed removed meanwhile), or the cache failed
            outcome = ArticleOutcome(entry_id, "error", error=clean_message(str(exc)))
        except Exception as exc:  # whatever it is, a notification, never the app's end
            outcome = ArticleOutcome(entry_id, "error", error=clean_message(f"{type(exc).__name__}: {exc}"))
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._article_fetched, outcome)

    def _article_fetched(self: ReaderApp, outcome: ArticleOutcome) -> None:
        line = outcome.line()
        severity = "warning" if outcome.status == "error" else "information"
        self.notify(line[:1].upper() + line[1:] + ".", severity=severity, markup=False)
        if outcome.status != "error" and self._open_id() == outcome.entry_id:
            self._show_text_of(outcome.entry_id, "article")

    def action_toggle_article(self: ReaderApp) -> None:
        post = self.reading_pane.post
        if post is None:
            self.notify("Open a post first (Enter).", markup=False)
            return
        if not post.entry.article:
            self.notify("This post has no full article: f fetches it.", markup=False)
            return
        self._show_text_of(post.entry.id, "feed" if post.shown == "article" else "article")

    def _show_text_of(self: ReaderApp, entry_id: int, source: str) -> None:
        """Render the open post again with this text ("article" or "feed"); it stays open."""
        pane = self.reading_pane
        pane.pending_id = entry_id  # what the render's result is for (see _show_post)
        self._render_post(entry_id, pane.body_width, source)
