"""The command line: `reader [--data-dir DIR] COMMAND`. With no command, the TUI opens."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, cli_fulltext, cli_media
from .cli_account import AccountCLIError, add_parsers, push_now
from .config import Settings, data_dir, db_path, downloads_dir, load_settings, move_legacy_files
from .dates import format_day, format_time, iso_utc
from .models import EntryRow, FeedOutcome, ParsedFeed
from .query import QueryError, parse_query
from .sanitize import clean_line, clean_message
from .store import CorruptCacheError, Store, StoreError, explain_db_error, move_aside


class CLIError(Exception):
    """A failure to report as one line and exit status 1."""


# SQLite integers are 64-bit: a bigger id or limit can't name anything, and would overflow.
MAX_INT = 2**63 - 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(_negated_terms_last(list(sys.argv[1:] if argv is None else argv)))
        # Old files move to the new directories before anything opens them (once; see config.py).
        move_legacy_files(data=args.data_dir is None, report=_warn)
        try:
            code = _run(args)
        except sqlite3.DatabaseError as exc:
            raise explain_db_error(exc, db_path(args.data_dir)) from exc
        # Flush here, inside the handlers: a pipe closed early then fails now, not in the
        # interpreter's final flush, where it would print "Exception ignored ... BrokenPipeError".
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `reader entries | head` closes the pipe early: the reader has what it wanted, not an error.
        _discard_stdout()
        return 0
    except CorruptCacheError as exc:
        if _offer_fresh_cache(exc) and args.command is None:
            return _run(args)  # the app starts on a fresh cache straight away
        return 1
    except (CLIError, AccountCLIError, StoreError, QueryError) as exc:
        print(f"reader: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"reader: {_describe_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl+C is a request, not a failure to explain: one line, the shell's usual status.
        print("reader: interrupted", file=sys.stderr)
        return 130


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


_ENTRIES_OPTIONS = {"--json": 0, "--limit": 1, "-n": 1, "-h": 0, "--help": 0}


def _negated_terms_last(argv: list[str]) -> list[str]:
    """`reader entries -category:Sports -news`: negated query terms look like options to argparse.

    After `entries`, every word that isn't one of its options is moved behind `--`,
    where argparse takes it as part of the query.
    """
    if "entries" not in argv or "--" in argv:
        return argv
    at = argv.index("entries") + 1
    options: list[str] = []
    terms: list[str] = []
    rest = argv[at:]
    while rest:
        word = rest.pop(0)
        name = word.split("=", 1)[0]
        if name in _ENTRIES_OPTIONS:
            options.append(word)
            if _ENTRIES_OPTIONS[name] and "=" not in word and rest:
                options.append(rest.pop(0))
        else:
            terms.append(word)
    return [*argv[:at], *options, "--", *terms]


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reader",
        description="A terminal feed reader with an offline cache. With no command, the app opens.",
        epilog="Queries: words, \"phrases\", category:NAME, feed:TEXT, author:TEXT, is:unread|read|starred, "
        "since:7d, before:2024-01-31, has:enclosure, type:audio or type:video/mp4 (an enclosure's type); "
        "a leading - negates a term.",
    )
    parser.add_argument("--version", action="version", version=f"reader {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="where the cache lives (env READER_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    p = sub.add_parser("refresh", help="fetch feeds (all, or the URLs given)")
    p.add_argument("urls", nargs="*", metavar="URL")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the feeds that failed (for cron)")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("entries", help="list posts, newest first")
    p.add_argument("query", nargs="*", help="a query, e.g. 'category:BGP is:unread'")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", "-n", type=_limit, metavar="N")
    p.set_defaults(func=cmd_entries)

    p = sub.add_parser("show", help="print a post as text (its full article when one was fetched)")
    p.add_argument("id", type=_post_id)
    p.add_argument("--feed-text", action="store_true", help="the feed's own text, not the full article")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("mark", help="mark posts read, unread, starred or unstarred (--star --read: both)")
    p.add_argument("ids", nargs="+", type=_post_id, metavar="ID")
    # Not mutually exclusive: `--star --read` is one command; only opposites are refused.
    for flag in ("read", "unread", "star", "unstar"):
        p.add_argument(f"--{flag}", action="store_true", help=f"mark {flag if flag != 'star' else 'starred'}")
    p.set_defaults(func=cmd_mark)

    p = sub.add_parser("import", help="subscribe to the feeds of an OPML file")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="write subscriptions as OPML 2.0 (stdout without FILE)")
    p.add_argument("file", type=Path, nargs="?")
    p.set_defaults(func=cmd_export)

    add_parsers(sub)  # account, sync
    cli_fulltext.add_parsers(sub)  # full-text
    cli_media.add_parsers(sub)  # download
    return parser


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


def _limit(text: str) -> int:
    return _whole_number(text, "the limit")


def _store(args: argparse.Namespace) -> Store:
    return Store(db_path(args.data_dir))


# --- add / remove ------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
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
    store.add_feed(url, parsed.title, args.category)
    if args.full_text:
        store.set_full_text(url, args.full_text)
    new_ids: list[int] = []
    new, _ = store.save_parsed(
        url, parsed, etag=result.etag, last_modified=result.last_modified, new_ids=new_ids,
    )
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
    store = _store(args)
    feeds = store.list_feeds()
    modes = store.full_text_modes()
    if args.json:
        print(json.dumps([
            {
                "url": _shown_url(f.url), "title": f.title, "categories": f.categories, "unread": f.unread,
                "total": f.total, "last_updated": iso_utc(f.last_updated),
                "last_error": clean_message(f.last_error) if f.last_error else f.last_error,
                "synced": f.remote_id is not None,  # its posts come from the sync server
                "full_text": modes.get(f.url, "auto"),
            }
            for f in feeds
        ], indent=2, ensure_ascii=False))
        return 0
    if not feeds:
        print("no subscriptions yet: reader add URL")
    print("unread/total  feed")
    for f in feeds:
        cats = f" [{', '.join(f.categories)}]" if f.categories else ""
        updated = "synced" if f.remote_id else f"updated {format_time(f.last_updated) or 'never'}"
        if modes.get(f.url, "auto") != "auto":  # only the non-default full-text modes
            updated += f", full text {modes[f.url]}"
        # The URL line is what tells two feeds of the same title apart.
        print(
            f"{f.unread:>6}/{f.total:<6} {_shown_title(f.display_title, f.url)}{cats}\n"
            f"              {_shown_url(f.url)}  ({updated})"
        )
        if f.last_error:
            print(f"              error: {clean_message(f.last_error)}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from .fetch import FetchOptions
    from .refresh import refresh

    store = _store(args)
    if args.urls:
        known = {f.url for f in store.list_feeds()}
        missing = [u for u in args.urls if u not in known]
        if missing:
            raise CLIError(f"not subscribed: {', '.join(map(_shown_url, missing))}")
        synced = [f.url for f in store.list_feeds(urls=args.urls) if f.remote_id]
        if synced:
            raise CLIError(f"the sync server fetches {', '.join(map(_shown_url, synced))}: "
                           "its posts come with `reader sync`")
    settings = args.settings
    options = FetchOptions(timeout=settings.timeout, concurrency=settings.concurrency)
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
    if not args.urls and store.get_account() is not None:
        # With a sync account, the server's feeds come by sync: one `reader refresh` does both (cron).
        from .cli_account import cmd_sync

        return cmd_sync(args)
    return 0


@contextlib.contextmanager
def _interrupt_sets(stop: threading.Event) -> Iterator[None]:
    """While refreshing, Ctrl+C sets `stop` instead of raising inside the event loop.

    A KeyboardInterrupt raised in asyncio.run cancels the lanes mid-request and asyncio
    then logs every abandoned future with its traceback; `stop` makes the refresh end
    its lanes itself, within a tenth of a second. A second Ctrl+C interrupts at once.
    """
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


# --- entries / show / mark ---------------------------------------------------------------


def _entries(store: Store, query_text: str, limit: int | None) -> list[EntryRow]:
    where, params = parse_query(query_text).to_sql()
    return store.list_entries(where, params, limit)


# What one post may put into `entries --json`: the body of a huge post is cut, and says so.
JSON_BODY_CHARS = 1_000_000
FEED_COLUMN = 20  # terminal cells


def cmd_entries(args: argparse.Namespace) -> int:
    store = _store(args)
    rows = _entries(store, " ".join(args.query), args.limit)
    if args.json:
        _entries_json(store, rows)
        return 0
    out = sys.stdout
    if rows and sys.stdout.isatty():
        out.write("     ID    DATE        FEED                  TITLE   (N unread, * starred)\n")
    labels = _feed_labels(rows)
    for r in rows:
        flags = ("N" if not r.read else " ") + ("*" if r.starred else " ")
        date = format_day(r.published)
        out.write(f"{r.id:>7} {flags} {date}  {labels[r.feed_id]}  {r.title or '(untitled)'}\n")
    return 0


def _entries_json(store: Store, rows: list[EntryRow]) -> None:
    """One JSON array, written a post at a time: a big listing never sits whole in memory twice.

    `text` and `links` come from what `reader show` shows (the full article when there is one,
    `source` says which); `content_html` stays the feed's own HTML; `article` says whether an
    article was fetched or tried, when, and why the last fetch failed."""
    from .render import post_source, render_html

    out = sys.stdout
    out.write("[")
    for n, r in enumerate(rows):
        entry = store.get_entry(r.id)
        html = entry.content if entry else ""
        shown_html, base_url, source = post_source(entry) if entry else ("", None, "feed")
        body = render_html(shown_html, base_url)
        status = store.article_status(r.id)
        article = None
        if status is not None:
            url, fetched, error = status
            article = {"url": _shown_url(url), "fetched": iso_utc(fetched),
                       "error": clean_message(error) if error else None}
        record = {
            "id": r.id, "title": r.title, "link": r.link, "author": r.author or None,
            "published": iso_utc(r.published) if r.date_known else None,
            "categories": entry.categories if entry else [],
            "feed": _shown_title(r.feed_title, r.feed_url), "feed_url": _shown_url(r.feed_url),
            "read": r.read, "starred": r.starred,
            "enclosures": [
                {"url": _shown_url(x.url), "type": x.type or None, "length": x.length, "duration": x.duration}
                for x in (entry.enclosures if entry else [])
            ],
            # The body as `reader show` prints it (Markdown, numbered links), and as the feed sent it.
            "text": body.text[:JSON_BODY_CHARS], "links": body.links, "source": source,
            "content_html": html[:JSON_BODY_CHARS],
            "article": article,
            "truncated": len(html) > JSON_BODY_CHARS or len(body.text) > JSON_BODY_CHARS,
        }
        out.write(("," if n else "") + "\n  " + json.dumps(record, ensure_ascii=False))
    out.write("\n]\n" if rows else "]\n")


def _feed_labels(rows: list[EntryRow]) -> dict[int, str]:
    """Each feed's FEED column: FEED_COLUMN terminal cells, whatever the script.

    len() counts a CJK character as one, but a terminal gives it two cells, so the
    column is padded and cut by cell width. Feeds with the same title get the shortest
    part of their URL that tells them apart (as in the app), kept visible when the
    title is cut, so their posts can be told apart.
    """
    from rich.cells import cell_len, set_cell_size

    from .feednames import qualifiers, shorten_suffix

    groups: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        title = _shown_title(r.feed_title, r.feed_url)
        group = groups.setdefault(title, [])
        if (r.feed_id, r.feed_url) not in group:
            group.append((r.feed_id, r.feed_url))
    labels: dict[int, str] = {}
    for title, group in groups.items():
        names = qualifiers(group) if len(group) > 1 else {}
        for feed_id, _url in group:
            label = title
            if feed_id in names:
                suffix = shorten_suffix(f" ({names[feed_id]})", FEED_COLUMN - 6)  # a little title stays
                label = set_cell_size(title, FEED_COLUMN - cell_len(suffix)).rstrip() + suffix
            labels[feed_id] = set_cell_size(label, FEED_COLUMN)
    return labels


def cmd_show(args: argparse.Namespace) -> int:
    from .render import render_entry_text

    store = _store(args)
    entry = store.get_entry(args.id)
    if entry is None:
        raise CLIError(f"no post with id {args.id} (see: reader entries)")
    entry.feed_title = _shown_title(entry.feed_title, entry.feed_url)
    downloads = downloads_dir(args.settings, args.data_dir)
    sys.stdout.write(render_entry_text(entry, source="feed" if args.feed_text else "auto", downloads=downloads))
    # A fetch that failed says why, so a teaser is not taken for the whole post.
    sys.stdout.write(cli_fulltext.article_error_note(store.get_article(args.id)))
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    if args.read and args.unread:
        raise CLIError("--read and --unread contradict each other: give one")
    if args.star and args.unstar:
        raise CLIError("--star and --unstar contradict each other: give one")
    changes = [
        (flag, value)
        for flag, value, given in (
            ("read", True, args.read), ("read", False, args.unread),
            ("starred", True, args.star), ("starred", False, args.unstar),
        )
        if given
    ]
    if not changes:
        raise CLIError("say what to mark: --read, --unread, --star or --unstar (--read --star works too)")
    store = _store(args)
    found = store.existing_ids(args.ids)
    for flag, value in changes:
        store.set_flag([i for i in args.ids if i in found], flag, value)
    missing = [str(i) for i in args.ids if i not in found]
    if missing:
        raise CLIError(f"no post with id {', '.join(missing)}")
    return 0


# --- OPML -------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
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
