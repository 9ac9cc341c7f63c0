"""The app's enclosure actions: play or open the open post's enclosure (`m`), download it (`D`).

A mixin of ReaderApp (reader/tui/app.py). Neither waits on the UI thread: starting the
player (a fork and exec) runs in a thread worker, and a download runs in a daemon thread
watched by a thread worker. The watcher hands progress to the status line a few times a
second and ends the moment the app quits (its worker is cancelled): it sets the download's
stop event and returns, and the daemon thread, which may sit in a read for up to the
timeout, never holds up the exit. The .part stays, and the next `D` resumes it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from reader.config import downloads_dir
from reader.sanitize import clean_line, mask_credentials

if TYPE_CHECKING:
    from reader.models import Enclosure, Entry
    from reader.tui.app import ReaderApp

PROGRESS_INTERVAL = 0.25  # seconds between status line updates: a fast download reports thousands a second
POLL = 0.1  # how often the watcher looks at the download and at the app quitting


@dataclass
class _Download:
    """One download in flight, as the watcher sees it (written by the download thread, read by the watcher)."""

    name: str
    done: int = 0
    total: int | None = None
    path: Path | None = None
    error: str | None = None
    finished: bool = False


class MediaActions:
    # --- which enclosure -------------------------------------------------------------------

    def _open_enclosure(self: ReaderApp) -> tuple[Entry, Enclosure] | None:
        post = self.reading_pane.post
        if post is None:
            self.notify("Open a post first (Enter).", markup=False)
            return None
        if not post.entry.enclosures:
            self.notify("This post has no enclosure to play or download.", markup=False)
            return None
        return post.entry, post.entry.enclosures[0]

    def _downloads_dir(self: ReaderApp) -> Path:
        return downloads_dir(self.settings, self.store.path.parent)

    def _downloads_in_flight(self: ReaderApp) -> dict[str, _Download]:
        # Kept on the app (created on first use): app.py's __init__ belongs to the layout.
        found: dict[str, _Download] | None = getattr(self, "_media_downloads", None)
        if found is None:
            found = {}
            self._media_downloads = found
        return found

    # --- m: play ---------------------------------------------------------------------------

    def action_play_enclosure(self: ReaderApp) -> None:
        found = self._open_enclosure()
        if found is None:
            return
        _entry, enclosure = found
        self._play_enclosure(enclosure.url, self._downloads_dir())

    @work(thread=True, exit_on_error=False, group="player")
    def _play_enclosure(self: ReaderApp, url: str, folder: Path) -> None:
        from reader.download import downloaded_path
        from reader.player import PlayerError, play

        local = downloaded_path(url, folder)
        try:
            play(local if local is not None else url, self.settings)
        except PlayerError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        what = clean_line(local.name, 200) if local is not None else mask_credentials(url)
        self.call_from_thread(self.notify, f"Playing {what}", markup=False)

    # --- D: download -----------------------------------------------------------------------

    def action_download_enclosure(self: ReaderApp) -> None:
        found = self._open_enclosure()
        if found is None:
            return
        entry, enclosure = found
        from reader.download import downloaded_path, name_for

        # One stat of the downloads index: cheap enough here, and it saves a "Downloading…" for nothing.
        saved = downloaded_path(enclosure.url, self._downloads_dir())
        if saved is not None:
            self.notify(f"Already downloaded: {saved}; m plays it", markup=False)
            return
        in_flight = self._downloads_in_flight()
        if enclosure.url in in_flight:
            self.notify(f"Already downloading {in_flight[enclosure.url].name}", markup=False)
            return
        state = _Download(name_for(enclosure.url, entry.title, enclosure.type))
        in_flight[enclosure.url] = state
        self.notify(f"Downloading {state.name}…", markup=False)
        self._show_downloads()
        self._download_enclosure(enclosure.url, entry.title, enclosure.type, self._downloads_dir(), state)

    @work(thread=True, exit_on_error=False, group="download")
    def _download_enclosure(self: ReaderApp, url: str, title: str, mime_type: str | None, folder: Path,
                            state: _Download) -> None:
        from reader.download import DownloadError, download

        worker = get_current_worker()
        stop = threading.Event()
        timeout = self.settings.timeout

        def progress(done: int, total: int | None) -> None:
            state.done, state.total = done, total

        def run() -> None:
            try:
                path = download(url, folder, name_hint=title, mime_type=mime_type, progress=progress, stop=stop,
                                timeout=timeout)
                state.name = clean_line(path.name, 200)
                state.done = path.stat().st_size  # also when it was on disk already
                state.path = path
            except DownloadError as exc:
                state.error = str(exc)
            except Exception as exc:  # a bug must not leave "downloading" on the status line forever
                state.error = f"unexpected error: {type(exc).__name__}"
            finally:
                state.finished = True

        # A daemon thread: the one thing that may block (a read, up to `timeout` seconds) is
        # in it, and a daemon thread never holds up the interpreter's exit.
        thread = threading.Thread(target=run, name="download", daemon=True)
        thread.start()
        shown = (-1, None)
        last = 0.0
        while not state.finished:
            thread.join(POLL)
            if worker.is_cancelled or self._exit:
                stop.set()  # the app is quitting: the .part stays, the next D resumes it
                return
            now = time.monotonic()
            if (state.done, state.total) != shown and now - last >= PROGRESS_INTERVAL and not state.finished:
                shown, last = (state.done, state.total), now
                self.call_from_thread(self._download_progress, url, state)
        if not (worker.is_cancelled or self._exit):
            self.call_from_thread(self._download_finished, url, state)

    def _download_progress(self: ReaderApp, url: str, state: _Download) -> None:
        self._show_downloads()

    def _show_downloads(self: ReaderApp) -> None:
        """The status line's download part, from every download in flight (none: no part)."""
        self.status_bar.set_download(*_describe(list(self._downloads_in_flight().values())))

    def _download_finished(self: ReaderApp, url: str, state: _Download) -> None:
        self._downloads_in_flight().pop(url, None)
        self._show_downloads()
        if state.path is not None:
            post = self.reading_pane.post
            if post is not None and any(e.url == url for e in post.entry.enclosures):
                self.reading_pane.update_header()  # its enclosure line can say it's on disk now
            from reader.render import format_size  # html2text with it: not needed to start the app

            size = format_size(state.done) if state.done else "done"
            self.notify(f"Saved {state.name} ({size}) in {clean_line(str(state.path.parent), 300)}; m plays it",
                        title="Download", markup=False)
        else:
            resume = "; D resumes it" if state.done else ""
            self.notify(f"Download of {state.name} failed: {state.error}{resume}", title="Download",
                        severity="error", markup=False, timeout=10)



NAME_CHARS = 40  # of a file name on the status line: the percentage matters more


def _describe(states: list[_Download]) -> tuple[str | None, ...]:
    """The status line's text for the downloads in flight, then shorter forms for a narrow line; (None,) for none."""
    if not states:
        return (None,)
    from reader.render import format_size  # html2text with it: not needed to start the app

    done = sum(d.done for d in states)
    totals = [d.total for d in states]
    total = sum(t for t in totals if t) if all(totals) else None
    if len(states) == 1:
        name = states[0].name
        what = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
    else:
        what = f"{len(states)} files"
    if total:
        percent, sizes = f"{100 * done // total}%", f"({format_size(done)}/{format_size(total)})"
        return f"downloading {what} {percent} {sizes}", f"downloading {percent} {sizes}", f"↓ {percent}"
    return f"downloading {what} {format_size(done)}", f"downloading {format_size(done)}", f"↓ {format_size(done)}"
