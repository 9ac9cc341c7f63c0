"""The command line: `reader [--data-dir DIR] COMMAND`. With no command, the TUI opens."""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

# Only what every command needs is imported here: `reader entries` is a start-up race (issue 12),
# so each command's own modules (the other cli_* modules, json, signal, threading, the fetcher)
# are imported where they are used, and the parser is built only for the command given (_parser).
from . import __version__
from .config import data_dir, db_path, load_settings, move_legacy_files
from .sanitize import clean_line, clean_message
from .store import CorruptCacheError, Store, StoreError, explain_db_error, move_aside

if TYPE_CHECKING:
    import threading

    from .config import Settings
    from .models import FeedOutcome, ParsedFeed


class CLIError(Exception):
    """A failure to report as one line and exit status 1."""


# SQLite integers are 64-bit: a bigger id or limit can't name anything, and would overflow.
MAX_INT = 2**63 - 1


def main(argv: Sequence[str] | None = None) -> int:
    from .cli_entries import negated_terms_last, plain_listing

    words = list(sys.argv[1:] if argv is None else argv)
    try:
        # A plain `reader entries …` is read without building a parser (issue 12: a start-up race).
        args = plain_listing(words) or _parser(words).parse_args(negated_terms_last(words))
        # Old files move to the new directories before anything opens them (once; see config.py).
        move_legacy_files(data=args.data_dir is None, report=_warn)
        try:
            code = _run(args)
        except sqlite3.DatabaseError as exc:
            raise explain_db_error(exc, db_path(args.data_dir)) from exc
        # Flush here, inside the handlers: a pipe closed early then fails now, not in the
        # interpreter's final flush, where it would print "Exception ignored ... BrokenPipeError".
        sys.stdout.flush()
        if argv is None and args.command in _QUICK_EXIT:
            _exit_now(code)
        return code
    except BrokenPipeError:
        # `reader entries | head` closes the pipe early: the reader has what it wanted, not an error.
        _discard_stdout()
        return 0
    except CorruptCacheError as exc:
        if _offer_fresh_cache(exc) and args.command is None:
            return _run(args)  # the app starts on a fresh cache straight away
        return 1
    except _reported_errors() as exc:
        print(f"reader: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"reader: {_describe_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl+C is a request, not a failure to explain: one line, the shell's usual status.
        print("reader: interrupted", file=sys.stderr)
        return 130


# Commands that, run as the program (not main(argv) in-process), end the process as soon as their output
# is flushed: the interpreter's teardown (freeing every module imported, the C libraries' own clean-up)
# cost ~12 ms after `reader entries`, a fifth of it, and ~60 ms after a refresh of 100 feeds that all
# answered 304, a quarter of it (issue 12). Only commands that leave nothing to clean up belong here:
# their caches' connections closed, their worker processes and threads ended.
_QUICK_EXIT = frozenset({"entries", "refresh"})


def _exit_now(code: int) -> None:
    """os._exit once everything is flushed and the atexit handlers have run, unless another thread still
    runs (then it returns, and the process ends the usual way: threading's shutdown joins it).

    What os._exit skips is only the teardown: what a normal exit runs (atexit handlers, multiprocessing's
    clean-up among them) is run here first."""
    threads = sys.modules.get("threading")  # not imported: no thread was started
    if threads is not None and any(
        thread is not threads.main_thread() and not thread.daemon and thread.is_alive()
        for thread in threads.enumerate()
    ):
        return
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _reported_errors() -> tuple[type[Exception], ...]:
    """The failures `main` reports as one line. A function, since an `except` clause evaluates it only when
    something was raised: the modules that define them are then imported, not at every start."""
    from .cli_account import AccountCLIError
    from .query import QueryError

    return (CLIError, AccountCLIError, StoreError, QueryError)


def _discard_stdout() -> None:
    """Point stdout at /dev/null (the Python docs' recipe for SIGPIPE), so nothing later fails writing to it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests capture stdout in memory): nothing will flush to a pipe


def _describe_os_error(exc: OSError) -> str:
    """`[Errno 2] No such file or directory: 'x'` as a person would say it: the file, then the reason."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{clean_line(os.fsdecode(exc.filename), 500)}: {reason}"
    return clean_line(reason, 500)


def _warn(message: str) -> None:
    print(f"reader: {clean_message(message, 2000)}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (and a pointer to --help) instead of usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def _run(args: argparse.Namespace) -> int:
    if args.command is None and sys.stdout.isatty() and sys.stdin.isatty():
        from .tui.app import run_app

        return run_app(data_dir(args.data_dir))  # the app shows a bad config.toml itself
    args.settings = load_settings()
    if args.settings.error:
        # One line, every command: a setting that was ignored must not go unnoticed.
        _warn(f"warning: {args.settings.error}")
    if args.command is None:
        # `reader > file` or `reader | less`: a full-screen app can't draw there. Give the
        # list, which is what such a reader can use, and say how to ask for it by name.
        what = "stdout" if not sys.stdout.isatty() else "stdin"
        _warn(f"{what} is not a terminal, so the app can't start; listing the posts instead, as `reader entries` does")
        args.query, args.json, args.limit = [], False, None
        from .cli_entries import cmd_entries

        return cmd_entries(args)
    return args.func(args)


def _offer_fresh_cache(exc: CorruptCacheError) -> bool:
    """Say what is wrong; on a terminal, offer to move the damaged file aside. True if it was moved."""
    print(f"reader: {exc}", file=sys.stderr)
    if exc.path is None:
        return False
    if sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write("Move it aside and start with a fresh cache? Nothing is deleted. [y/N] ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline()
        except (OSError, KeyboardInterrupt):
            answer = ""
        if answer.strip().lower() in ("y", "yes"):
            moved = move_aside(exc.path)
            print(f"reader: moved the damaged cache to {moved}", file=sys.stderr)
            return True
    print(
        f"reader: to start fresh, move it aside (nothing is deleted):\n    mv '{exc.path}' '{exc.path}.damaged'",
        file=sys.stderr,
    )
    return False


# The commands whose parsers cli_entries.add_parsers builds: for these, main builds no other command's parser.
_POST_COMMANDS = frozenset({"entries", "show", "mark"})


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The CLI's parser; with `argv`, only as much of it as that command line needs.

    Building every command's parser imports every cli_* module and costs more than a listing's query
    (argparse calls gettext, which looks for catalogues on disk, for each one). When the command is
    surely one of _POST_COMMANDS, only those are built: it parses exactly as the whole parser would.
    Any other command line (another command, --help, an abbreviated option, a typo) gets the whole
    parser, so help and errors (`invalid choice`, with every command listed) are unchanged.
    """
    parser = _Parser(
        prog="reader",
        description="A terminal feed reader with an offline cache. With no command, the app opens.",
        epilog="Queries: words, \"phrases\", category:NAME, feed:TEXT, author:TEXT, tag:NAME, "
        "is:unread|read|starred|hidden, since:7d, before:2024-01-31, has:enclosure, type:audio or type:video/mp4 "
        "(an enclosure's type); a leading - negates a term. Hidden posts are left out unless a term says is:hidden.",
    )
    parser.add_argument("--version", action="version", version=f"reader {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="where the cache lives (env READER_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from . import cli_entries

    if _command_given(argv) in _POST_COMMANDS:
        cli_entries.add_parsers(sub)  # entries, show, mark
        return parser
    from . import cli_account, cli_fulltext, cli_labels, cli_media, cli_newsboat, cli_rename, cli_rules, cli_schedule

    p = sub.add_parser("add", help="subscribe to a feed (or the feed a web page links)")
    p.add_argument("url")
    p.add_argument("--category", "-c", action="append", default=[], metavar="NAME", help="repeatable")
    p.add_argument("--no-fetch", action="store_true", help="subscribe without checking the URL")
    p.add_argument("--full-text", nargs="?", const="on", type=cli_fulltext.parse_mode, metavar="on|off|auto",
                   help="fetch posts' full articles (bare flag: on; " + cli_fulltext.MODE_HELP + ")")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="unsubscribe from a feed and drop its posts")
    p.add_argument("url")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("feeds", help="list subscriptions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("refresh", help="fetch feeds (all, or the ones given)")
    p.add_argument("urls", nargs="*", metavar="FEED", help="a feed's URL or its id (as `reader feeds` shows them)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the feeds that failed (for cron)")
    p.add_argument("--due", action="store_true", help="only the feeds due a fetch by their schedule (for cron)")
    p.set_defaults(func=cmd_refresh)

    cli_entries.add_parsers(sub)  # entries, show, mark

    p = sub.add_parser("import", help="subscribe to the feeds of an OPML file")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="write subscriptions as OPML 2.0 (stdout without FILE)")
    p.add_argument("file", type=Path, nargs="?")
    p.set_defaults(func=cmd_export)

    cli_account.add_parsers(sub)  # account, sync
    cli_fulltext.add_parsers(sub)  # full-text
    cli_media.add_parsers(sub)  # download
    cli_labels.add_parsers(sub)  # search, tag
    cli_rules.add_parsers(sub)  # rules
    cli_schedule.add_parsers(sub)  # schedule
    cli_newsboat.add_parsers(sub)  # import-newsboat
    cli_rename.add_parsers(sub)  # rename
    return parser


def _command_given(argv: Sequence[str]) -> str | None:
    """The command word when argparse is sure to read it as the command, else None.

    Sure only when all that comes before it is `--data-dir DIR` or `--data-dir=DIR`, spelt out:
    argparse also takes an abbreviation (`--data DIR`), or a DIR like `-x` as an error, which a
    simple scan could misread; those get the whole parser.
    """
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--data-dir" and index + 1 < len(argv) and not argv[index + 1].startswith("-"):
            index += 2
        elif word.startswith("--data-dir="):
            index += 1
        elif word.startswith("-"):
            return None
        else:
            return word
    return None


def _whole_number(text: str, what: str) -> int:
    """A whole number from 1 to MAX_INT, or a one-line argparse error saying so."""
    shown = clean_line(text, 40)
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {shown!r}") from None
    if not 1 <= value <= MAX_INT:
        raise argparse.ArgumentTypeError(f"{what} must be from 1 to {MAX_INT}, not {shown}")
    return value


def _post_id(text: str) -> int:
    return _whole_number(text, "a post id")


def _store(args: argparse.Namespace) -> Store:
    return Store(db_path(args.data_dir))


# --- add / remove ------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    from . import cli_fulltext
    from .cli_account import push_now
    from .subscribe import SubscribeError, normalize_url

    try:
        url = normalize_url(args.url)  # `reader add example.com/feed` means https
    except SubscribeError as exc:
        raise CLIError(str(exc)) from None
    store = _store(args)
    if store.get_feed(url):
        if args.category:
            existing = store.get_feed(url)
            assert existing is not None
            store.set_feed_categories(url, [*existing.categories, *args.category])
            push_now(args, store)
        if args.full_text:
            store.set_full_text(url, args.full_text)
        print(f"already subscribed: {_shown_url(url)}" + (f" (full text {args.full_text})" if args.full_text else ""))
        return 0
    if args.no_fetch:
        store.add_feed(url, categories=args.category)
        if args.full_text:
            store.set_full_text(url, args.full_text)
        print(f"subscribed (not checked): {_shown_url(url)}")
        push_now(args, store)
        return 0
    import asyncio  # not at the top: listing commands start faster without it

    url, parsed, result = asyncio.run(_validate(url, args.settings))
    if store.get_feed(url):
        print(f"already subscribed: {_shown_url(url)}")
        return 0
    from .subscribe import store_checked_feed

    new, new_ids = store_checked_feed(store, url, parsed, result, args.category, args.settings)
    if args.full_text:
        store.set_full_text(url, args.full_text)
    print(f"subscribed: {parsed.title or _shown_url(url)} <{_shown_url(url)}> ({new} post{'' if new == 1 else 's'})")
    sys.stdout.flush()  # said before the articles are fetched
    # Its first posts' articles, as a refresh fetches those of later ones (by the feed's mode).
    articles = cli_fulltext.fetch_after_add(store, url, new_ids, args)
    if articles:
        print(articles)
    push_now(args, store)
    return 0


async def _validate(url: str, settings: Settings) -> tuple[str, ParsedFeed, object]:
    """Fetch a URL once; return the feed it is, or the feed it links. Raise CLIError if neither."""
    from .fetch import FetchOptions
    from .subscribe import SubscribeError, discover

    def told(page: str, feed: str) -> None:
        print(f"{_shown_url(page)} is a web page; it links the feed {_shown_url(feed)}", file=sys.stderr)

    try:
        return await discover(url, FetchOptions(timeout=settings.timeout), on_redirect=told)
    except SubscribeError as exc:
        raise CLIError(str(exc)) from None


def cmd_remove(args: argparse.Namespace) -> int:
    from .cli_account import push_now

    store = _store(args)
    if not store.remove_feed(args.url):
        raise CLIError(f"not subscribed: {_shown_url(args.url)}")
    print(f"removed: {_shown_url(args.url)}")
    push_now(args, store)
    return 0


def _shown_url(url: str | None) -> str:
    """A URL fit for the terminal: a password in it masked (the stored URL keeps it), no escapes."""
    return clean_message(url, 2000)


def _shown_title(title: str, url: str) -> str:
    """A feed's title; when it has none the store gives its URL, which must be masked like any URL."""
    return _shown_url(url) if title == url else title


# --- feeds / refresh ---------------------------------------------------------------------


def cmd_feeds(args: argparse.Namespace) -> int:
    import json
    import time

    from .config import format_duration
    from .dates import format_time, iso_utc
    from .schedule import format_due

    store = _store(args)
    feeds = store.list_feeds()
    modes = store.full_text_modes()
    if args.json:
        print(json.dumps([
            {
                "id": f.id, "url": _shown_url(f.url), "title": f.title, "categories": f.categories, "unread": f.unread,
                "total": f.total, "last_updated": iso_utc(f.last_updated),
                "last_error": clean_message(f.last_error) if f.last_error else f.last_error,
                "synced": f.remote_id is not None,  # its posts come from the sync server
                "full_text": modes.get(f.url, "auto"),
                # When `refresh --due` fetches it next (null: due now); the user's interval (null: worked out).
                "next_due": iso_utc(f.next_due) if f.remote_id is None else None,
                "every": int(f.every) if f.every is not None and f.every.is_integer() else f.every,
            }
            for f in feeds
        ], indent=2, ensure_ascii=False))
        return 0
    if not feeds:
        print("no subscriptions yet: reader add URL")
    print("unread/total  feed")
    now = time.time()
    for f in feeds:
        cats = f" [{', '.join(f.categories)}]" if f.categories else ""
        updated = "synced" if f.remote_id else f"updated {format_time(f.last_updated) or 'never'}"
        if f.remote_id is None:  # the sync server fetches its own feeds: no schedule here
            updated += f"; {format_due(f.next_due, now)}"
            if f.every is not None:
                updated += f", every {format_duration(f.every)}"
        if modes.get(f.url, "auto") != "auto":  # only the non-default full-text modes
            updated += f", full text {modes[f.url]}"
        # The URL line is what tells two feeds of the same title apart.
        print(
            f"{f.unread:>6}/{f.total:<6} {_shown_title(f.display_title, f.url)}{cats}\n"
            f"              {_shown_url(f.url)}  ({updated}; id {f.id})"
        )
        if f.last_error:
            print(f"              error: {clean_message(f.last_error)}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    import threading
    import time

    from . import cli_fulltext, cli_rules
    from .schedule import format_when

    store = _store(args)
    not_due = 0
    if args.due and not args.urls:
        ceiling = args.settings.refresh_ceiling  # the setting now, not the one of each feed's last fetch
        due, not_due, soonest = store.due_summary(time.time(), ceiling)
        if not due:
            # A cron run between due times: one line, no network, nothing imported that a fetch needs.
            if not args.quiet:
                when = f"; next at {format_when(soonest)}" if soonest is not None else ""
                print(f"no feed due ({not_due} {'feed' if not_due == 1 else 'feeds'} not due yet{when})")
            if store.get_account() is not None:
                from .cli_account import cmd_sync

                return cmd_sync(args)
            store.close()
            return 0
    from .fetch import FetchOptions
    from .refresh import refresh

    if args.urls:
        # A feed named as every FEED argument is (its URL or its id, as `reader feeds` shows them).
        args.urls = list(dict.fromkeys(cli_fulltext.find_feed(store, text) for text in args.urls))
        synced = [f.url for f in store.list_feeds(urls=args.urls) if f.remote_id]
        if synced:
            raise CLIError(f"the sync server fetches {', '.join(map(_shown_url, synced))}: "
                           "its posts come with `reader sync`")
    settings = args.settings
    options = FetchOptions.of(settings)
    show_bar = not args.quiet and sys.stderr.isatty()

    def progress(done: int, total: int, outcome: FeedOutcome) -> None:
        if show_bar:
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(f"\rrefreshing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ")
            sys.stderr.flush()

    stop = threading.Event()
    with _interrupt_sets(stop):
        summary = refresh(
            store, args.urls or None, options=options, progress=progress, stop=stop,
            images=cli_fulltext.image_cache(args),  # None with images = false
            rules=settings.rules, due=args.due,
        )
    if show_bar:
        sys.stderr.write("\r\x1b[K")
    if stop.is_set():
        # What finished is stored; main() says "interrupted" once and exits 130.
        raise KeyboardInterrupt
    # Failures are printed even with --quiet: that is what a cron job mails to its owner.
    for outcome in summary.failed:
        print(f"failed: {_shown_url(outcome.url)}: {clean_message(outcome.error)}", file=sys.stderr)
    if not args.quiet:
        print(summary.line())
        if not_due:
            # The next time anything is due, counting the feeds just fetched.
            soonest = store.due_summary(time.time(), args.settings.refresh_ceiling)[2]
            when = f"; next at {format_when(soonest)}" if soonest is not None else ""
            print(f"{not_due} {'feed' if not_due == 1 else 'feeds'} not due{when}")
    cli_rules.after_refresh(args, summary)
    if not args.urls and store.get_account() is not None:
        # With a sync account, the server's feeds come by sync: one `reader refresh` does both (cron).
        from .cli_account import cmd_sync

        return cmd_sync(args)
    store.close()  # this thread's connection (the writer's is closed by the refresh): see _QUICK_EXIT
    return 0


@contextlib.contextmanager
def _interrupt_sets(stop: threading.Event) -> Iterator[None]:
    """While refreshing, Ctrl+C sets `stop` instead of raising inside the event loop.

    A KeyboardInterrupt raised in asyncio.run cancels the lanes mid-request and asyncio
    then logs every abandoned future with its traceback; `stop` makes the refresh end
    its lanes itself, within a tenth of a second. A second Ctrl+C interrupts at once.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (tests run the CLI in-process)
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --- OPML -------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from .cli_account import push_now
    from .opml import OPMLError, parse_opml

    skipped: list[str] = []
    try:
        outlines = parse_opml(args.file.read_bytes(), skipped)
    except OPMLError as exc:
        raise CLIError(f"{args.file}: {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read {args.file}: {exc.strerror}") from None
    store = _store(args)
    known = {f.url for f in store.list_feeds()}
    for outline in outlines:
        store.add_feed(outline.url, outline.title, outline.categories)
    added = sum(o.url not in known for o in outlines)
    if skipped:
        shown = ", ".join(_shown_url(url) for url in skipped[:3]) + (", …" if len(skipped) > 3 else "")
        print(f"reader: skipped {len(skipped)} outline(s) whose feed URL can't be subscribed to "
              f"(not http(s), or a bad host or port): {shown}", file=sys.stderr)
    fetch = "reader sync" if store.get_account() is not None else "reader refresh"
    print(f"imported {len(outlines)} feeds ({added} new); fetch them with: {fetch}")
    push_now(args, store)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .opml import to_opml

    data = to_opml(_store(args).list_feeds())
    if args.file is None:
        sys.stdout.buffer.write(data)
        return 0
    shown = clean_line(str(args.file), 500)
    folder = args.file.parent
    if not folder.is_dir():
        raise CLIError(f"cannot write {shown}: there is no directory {clean_line(str(folder), 500)}")
    try:
        args.file.write_bytes(data)
    except OSError as exc:
        raise CLIError(f"cannot write {shown}: {exc.strerror or exc}") from None
    print(f"wrote {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
