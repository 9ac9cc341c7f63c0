"""The CLI's enclosure commands: `reader download ID` and `reader play ID`."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .models import Enclosure, Entry

BAR_WIDTH = 24
BAR_INTERVAL = 0.1  # seconds between redraws of the bar: a fast link calls back thousands of times a second


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the enclosure commands to the CLI."""
    from .cli import _post_id  # here, not at the top: cli.py imports this module while it loads

    p = sub.add_parser("download", help="save a post's enclosure (a podcast episode, a video); resumable")
    p.add_argument("id", type=_post_id, metavar="ID")
    p.add_argument("--enclosure", "-e", type=_number, default=1, metavar="N",
                   help="which of the post's enclosures (1, the first, by default)")
    p.add_argument("--to", metavar="DIR", help="save it here instead of the downloads directory")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress; errors still print")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("play", help="play or open a post's enclosure with the player set in config.toml")
    p.add_argument("id", type=_post_id, metavar="ID")
    p.add_argument("--enclosure", "-e", type=_number, default=1, metavar="N",
                   help="which of the post's enclosures (1, the first, by default)")
    p.set_defaults(func=cmd_play)


def _number(text: str) -> int:
    from .cli import _whole_number

    return _whole_number(text, "the enclosure number")


def _enclosure(args: argparse.Namespace) -> tuple[Entry, Enclosure]:
    from .cli import CLIError, _store

    entry = _store(args).get_entry(args.id)
    if entry is None:
        raise CLIError(f"no post with id {args.id} (see: reader entries)")
    count = len(entry.enclosures)
    if count == 0:
        raise CLIError(f"post {args.id} has no enclosure (see: reader entries has:enclosure)")
    if args.enclosure > count:
        which = "one enclosure" if count == 1 else f"{count} enclosures"
        raise CLIError(f"post {args.id} has {which}: --enclosure takes 1 to {count}")
    return entry, entry.enclosures[args.enclosure - 1]


def _destination(args: argparse.Namespace) -> Path:
    from .config import downloads_dir

    if getattr(args, "to", None):
        return Path(args.to).expanduser()
    return downloads_dir(args.settings, args.data_dir)


def cmd_download(args: argparse.Namespace) -> int:
    from .cli import CLIError
    from .download import DownloadError, download, downloaded_path, shown

    entry, enclosure = _enclosure(args)
    dest = _destination(args)
    already = downloaded_path(enclosure.url, dest)
    if already is not None:
        print(f"already downloaded: {shown(already)}")
        return 0
    bar = Progress(sys.stderr, tty=sys.stderr.isatty(), quiet=args.quiet)
    resume = f"run `{_again(args)}` again to resume"
    try:
        path = download(enclosure.url, dest, name_hint=entry.title, mime_type=enclosure.type, progress=bar.update,
                        timeout=args.settings.timeout)
    except DownloadError as exc:
        bar.clear()
        kept = f" (the part saved is kept: {resume})" if exc.part is not None else ""
        raise CLIError(f"download failed: {exc}{kept}") from None
    except KeyboardInterrupt:
        bar.clear()
        print(f"reader: interrupted; the part saved is kept: {resume}", file=sys.stderr)
        return 130
    bar.clear()
    print(f"saved {shown(path)} ({format_size(path.stat().st_size)})")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from .cli import CLIError
    from .download import downloaded_path, shown
    from .player import PlayerError, play
    from .sanitize import mask_credentials

    _entry, enclosure = _enclosure(args)
    local = downloaded_path(enclosure.url, _destination(args))
    try:
        play(local if local is not None else enclosure.url, args.settings)
    except PlayerError as exc:
        raise CLIError(str(exc)) from None
    print(f"playing {shown(local) if local is not None else mask_credentials(enclosure.url)}")
    return 0


def _again(args: argparse.Namespace) -> str:
    """The command that resumes this download: the same cache, post, enclosure and directory
    (a run without --to would start from zero in the downloads directory), each word cleaned (no
    escape sequences reach the terminal) and shell-quoted, so it can be pasted as it is."""
    import shlex

    from .sanitize import clean_line

    words = ["reader"]
    if getattr(args, "data_dir", None):  # another cache: another post 29, another downloads directory
        words += ["--data-dir", clean_line(str(args.data_dir), 1000)]
    words += ["download", str(args.id)]
    if args.enclosure != 1:
        words += ["--enclosure", str(args.enclosure)]
    if getattr(args, "to", None):
        words += ["--to", clean_line(args.to, 1000)]
    return " ".join(shlex.quote(word) for word in words)


def _terminal_columns() -> int:
    return shutil.get_terminal_size((80, 24)).columns


MIN_BAR = 5  # narrower than this a bar says nothing the percentage doesn't


def bar_line(done: int, total: int | None, rate: float, width: int) -> str:
    """The progress line at most `width` characters wide: the richest form that fits, the bar
    itself shrunk to the room left (at most BAR_WIDTH); the percentage is the last to go."""
    width = max(width, 1)
    speed = f"{format_size(rate)}/s"
    if not total:
        forms = [f"downloading {format_size(done)} {speed}", f"{format_size(done)} {speed}", format_size(done)]
        return next((form for form in forms if len(form) <= width), forms[-1][:width])
    percent = f"{100 * done // total:3d}%"
    sizes = f"{format_size(done)}/{format_size(total)}"
    # (words before the bar, words after it): the first whose bar gets MIN_BAR cells wins.
    for before, after in (("downloading ", f" {percent} {sizes} {speed}"), ("", f" {percent} {sizes} {speed}"),
                          ("", f" {percent} {sizes}"), ("", f" {percent}")):
        room = min(BAR_WIDTH, width - len(before) - len(after) - 2)  # 2: the brackets
        if room >= MIN_BAR:
            filled = room * done // total
            return f"{before}[{'#' * filled}{'.' * (room - filled)}]{after}"
    return percent.strip()[:width]


def format_size(size: float) -> str:
    """reader.render's format_size (the one way sizes are said), imported on first use: cli.py
    loads this module at every start, and the renderer (html2text) is only needed here."""
    from .render import format_size as render_size

    return render_size(size)


class Progress:
    """The download's progress on stderr: a bar redrawn in place on a terminal; elsewhere
    (a log, cron) a plain line at each tenth of the file, or each 10 MB when the size is
    unknown; nothing with --quiet.

    The bar's line is fitted to the terminal's width at each redraw (it may be resized while
    a download runs) and kept one column short of it: a line that reaches the edge wraps,
    and "\r" then redraws only the last row, leaving a new line behind at every update."""

    def __init__(self, out: TextIO, *, tty: bool, quiet: bool, columns: Callable[[], int] | None = None) -> None:
        self.out, self.tty, self.quiet = out, tty, quiet
        self.columns = columns or _terminal_columns
        self.started = time.monotonic()
        self.first: int | None = None  # bytes already on disk when this run began (a resume)
        self.last_draw = 0.0
        self.last_step = -1
        self.drawn = False

    def update(self, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if self.first is None:
            self.first = done
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-6)
        rate = (done - self.first) / elapsed
        if self.tty:
            if now - self.last_draw < BAR_INTERVAL and done != total:
                return
            self.last_draw = now
            self.out.write("\r\x1b[K" + bar_line(done, total, rate, self.columns() - 1))
            self.out.flush()
            self.drawn = True
            return
        step = 10 * done // total if total else done // 10_000_000
        if step == self.last_step:
            return
        self.last_step = step
        if total:
            self.out.write(f"downloading: {10 * step}% ({format_size(done)} of {format_size(total)})\n")
        else:
            self.out.write(f"downloading: {format_size(done)}\n")
        self.out.flush()

    def clear(self) -> None:
        if self.drawn:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.drawn = False
