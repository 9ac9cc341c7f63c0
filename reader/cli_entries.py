"""The CLI's post commands: `reader entries`, `reader show ID`, `reader mark ID… --read|--star…`.

Helpers shared by every command (the store, CLIError, how a URL is shown, the id parser) stay
in cli.py and are imported inside the functions: cli.py imports this module while it loads.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

# cli.py imports this module for every command, to build its parser and reorder `entries` terms: what only
# one command uses (json, the renderer, the full-text commands) is imported in that command.
from .config import downloads_dir
from .dates import format_day
from .query import parse_query
from .store import Store

if TYPE_CHECKING:
    from .models import Entry, EntryRow

FEED_COLUMN = 20  # terminal cells

# What one post may put into `entries --json`: the body of a huge post is cut, and says so.
JSON_BODY_CHARS = 1_000_000


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the post commands to the CLI."""
    from .cli import _post_id

    p = sub.add_parser("entries", help="list posts, newest first")
    p.add_argument("query", nargs="*", help="a query, e.g. 'category:BGP is:unread'")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--body", action="store_true",
        help="with --json: each post's `body`, the whole post as `reader show ID` prints it, never cut",
    )
    p.add_argument("--limit", "-n", type=_limit, metavar="N")
    p.set_defaults(func=cmd_entries)

    p = sub.add_parser("show", help="print a post as text (its full article when one was fetched)")
    p.add_argument("id", type=_post_id)
    p.add_argument("--feed-text", action="store_true", help="the feed's own text, not the full article")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("mark", help="mark posts read, unread, starred, unstarred, hidden or not (--star --read: both)")
    p.add_argument("ids", nargs="+", type=_post_id, metavar="ID")
    # Not mutually exclusive: `--star --read` is one command; only opposites are refused.
    for flag in ("read", "unread", "star", "unstar"):
        p.add_argument(f"--{flag}", action="store_true", help=f"mark {flag if flag != 'star' else 'starred'}")
    p.add_argument("--hide", action="store_true", help="hide: kept, but listed only by a query with is:hidden")
    p.add_argument("--unhide", action="store_true", help="list a hidden post again")
    p.set_defaults(func=cmd_mark)


def _limit(text: str) -> int:
    from .cli import _whole_number

    return _whole_number(text, "the limit")


# The options of the `entries` parser above, with how many values each takes: keep the two in step.
_ENTRIES_OPTIONS = {"--json": 0, "--body": 0, "--limit": 1, "-n": 1, "-h": 0, "--help": 0}


def negated_terms_last(argv: list[str]) -> list[str]:
    """`reader entries -category:Sports -news`: negated query terms look like options to argparse.

    After `entries`, every word that isn't one of its options is moved behind `--`,
    where argparse takes it as part of the query.
    """
    command = _command_index(argv)
    if command is None or argv[command] != "entries" or "--" in argv:
        return argv  # only when `entries` is the command, not a word of another's (`search save x entries`)
    at = command + 1
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


def plain_listing(argv: list[str]) -> argparse.Namespace | None:
    """What the CLI's parser makes of a plain `entries` command line, read without building it; else None.

    Plain: at most one `--data-dir DIR` (or `--data-dir=DIR`) before `entries`, then `--json`, `--body`,
    one `--limit N` (`-n N`, `--limit=N`) with a valid N, and query terms, which negated_terms_last
    puts behind `--`. Any other line, and any value argparse would refuse, gets None: the parser
    then reads it and words its help or error. Building the parser cost a listing more than its
    query (HelpFormatter imports shutil, every parser asks gettext for catalogues; issue 12).
    tests/test_startup_imports.py checks that both read every line alike.
    """
    if "--" in argv:
        return None  # negated_terms_last leaves such a line alone: its words are argparse's to read
    data_dir: str | None = None
    at = 0
    if argv[:1] == ["--data-dir"] and len(argv) > 1 and not argv[1].startswith("-"):
        data_dir, at = argv[1], 2
    elif argv[:1] and argv[0].startswith("--data-dir="):
        data_dir, at = argv[0].split("=", 1)[1], 1
    if argv[at : at + 1] != ["entries"]:
        return None
    words = negated_terms_last(argv)
    end = words.index("--")
    options, query = iter(words[at + 1 : end]), words[end + 1 :]
    flags = {"--json": False, "--body": False}
    limit: int | None = None
    for word in options:
        if word in flags:
            flags[word] = True
            continue
        if word in ("--limit", "-n"):
            value = next(options, None)
        elif word.startswith("--limit="):
            value = word.split("=", 1)[1]
        else:
            return None  # -h, -n=N: argparse's
        if value is None or value.startswith("-") or limit is not None:
            return None
        try:
            limit = _limit(value)
        except argparse.ArgumentTypeError:
            return None  # argparse says why
    return argparse.Namespace(
        data_dir=data_dir, command="entries", query=query, json=flags["--json"], body=flags["--body"], limit=limit,
        func=cmd_entries,
    )


def _command_index(argv: list[str]) -> int | None:
    """Where the command's name is: the first word that is not a global option (`--data-dir DIR`)."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--data-dir":
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index
    return None


def _entries(store: Store, query_text: str, limit: int | None) -> list[EntryRow]:
    where, params = parse_query(query_text).to_sql()
    return store.list_entries(where, params, limit)


def cmd_entries(args: argparse.Namespace) -> int:
    from .cli import CLIError, _store

    body = getattr(args, "body", False)  # `reader` with no terminal lists posts without this option
    if body and not args.json:
        raise CLIError("--body adds each post's body to --json: give both (reader show ID prints one post)")
    store = _store(args)
    try:
        _print_entries(store, args, body)
    finally:
        # Closed here, not whenever the Store's reference cycle is collected: run as the program, `entries`
        # ends by os._exit (cli._exit_now), and SQLite checkpoints and removes the WAL file at this close.
        store.close()
    return 0


def _print_entries(store: Store, args: argparse.Namespace, body: bool) -> None:
    rows = _entries(store, " ".join(args.query), args.limit)
    if args.json:
        downloads = downloads_dir(args.settings, args.data_dir) if body else None
        _entries_json(store, rows, body=body, downloads=downloads)
        return
    out = sys.stdout
    if rows and sys.stdout.isatty():
        out.write("     ID    DATE        FEED                  TITLE   (N unread, * starred)\n")
    labels = _feed_labels(rows)
    for r in rows:
        flags = ("N" if not r.read else " ") + ("*" if r.starred else " ")
        date = format_day(r.published)
        out.write(f"{r.id:>7} {flags} {date}  {labels[r.feed_id]}  {r.title or '(untitled)'}\n")


def _entries_json(
    store: Store, rows: list[EntryRow], *, body: bool = False, downloads: str | os.PathLike[str] | None = None
) -> None:
    """One JSON array, written a post at a time: a big listing never sits whole in memory twice.

    `text` and `links` come from what `reader show` shows (the full article when there is one,
    `source` says which); `content_html` stays the feed's own HTML; `article` says whether an
    article was fetched or tried, when, and why the last fetch failed; `tags` the user's tags.
    `text` and `content_html` are cut at JSON_BODY_CHARS (`truncated` says so): a listing of
    many posts stays bounded. With `body`, `body` is the whole post exactly as `reader show ID`
    prints it (header, text, numbered links), not cut here: the renderer's own cap (2 MB of
    HTML a post) bounds it, so a script gets in one call what it would get from `show`."""
    import json

    from .cli import _shown_title, _shown_url
    from .dates import iso_utc
    from .render import own_pages, post_source, render_html
    from .sanitize import clean_message

    tags = store.entry_tags([r.id for r in rows])
    out = sys.stdout
    out.write("[")
    for n, r in enumerate(rows):
        entry = store.get_entry(r.id)
        html = entry.content if entry else ""
        shown_html, base_url, source = post_source(entry) if entry else ("", None, "feed")
        # own_pages as `show` passes it: a link to the post's own page gets no number there either.
        rendered = render_html(shown_html, base_url, own_pages=own_pages(entry) if entry else ())
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
            "text": rendered.text[:JSON_BODY_CHARS], "links": rendered.links, "source": source,
            "content_html": html[:JSON_BODY_CHARS],
            "article": article,
            "truncated": len(html) > JSON_BODY_CHARS or len(rendered.text) > JSON_BODY_CHARS,
            "tags": tags.get(r.id, []),
        }
        if body:
            record["body"] = _show_text(store, entry, downloads) if entry else ""
        out.write(("," if n else "") + "\n  " + json.dumps(record, ensure_ascii=False))
    out.write("\n]\n" if rows else "]\n")


def _feed_labels(rows: list[EntryRow]) -> dict[int, str]:
    """Each feed's FEED column: FEED_COLUMN terminal cells, whatever the script.

    len() counts a CJK character as one, but a terminal gives it two cells, so the
    column is padded and cut by cell width. Feeds with the same title get the shortest
    part of their URL that tells them apart (as in the app), kept visible when the
    title is cut, so their posts can be told apart.
    """
    from .cli import _shown_title

    groups: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        title = _shown_title(r.feed_title, r.feed_url)
        group = groups.setdefault(title, [])
        if (r.feed_id, r.feed_url) not in group:
            group.append((r.feed_id, r.feed_url))
    labels: dict[int, str] = {}
    for title, group in groups.items():
        if len(group) > 1:
            from rich.cells import cell_len, set_cell_size

            from .feednames import qualifiers, shorten_suffix

            names = qualifiers(group)
        else:
            names = {}
        for feed_id, _url in group:
            label = title
            if feed_id in names:
                suffix = shorten_suffix(f" ({names[feed_id]})", FEED_COLUMN - 6)  # a little title stays
                label = set_cell_size(title, FEED_COLUMN - cell_len(suffix)).rstrip() + suffix
            labels[feed_id] = _fit(label, FEED_COLUMN)
    return labels


def _fit(text: str, cells: int) -> str:
    """`text` cut or padded to `cells` terminal cells (rich's set_cell_size).

    Printable ASCII is one cell a character, where rich's own shortcut gives the same result:
    most listings then never import rich's width tables (issue 12: `entries` is a start-up race).
    """
    if text.isascii() and text.isprintable():
        return text[:cells] if len(text) >= cells else text + " " * (cells - len(text))
    from rich.cells import set_cell_size

    return set_cell_size(text, cells)


def cmd_show(args: argparse.Namespace) -> int:
    from .cli import CLIError, _store

    store = _store(args)
    entry = store.get_entry(args.id)
    if entry is None:
        raise CLIError(f"no post with id {args.id} (see: reader entries)")
    downloads = downloads_dir(args.settings, args.data_dir)
    sys.stdout.write(_show_text(store, entry, downloads, source="feed" if args.feed_text else "auto"))
    return 0


def _show_text(
    store: Store, entry: Entry, downloads: str | os.PathLike[str] | None, source: str = "auto"
) -> str:
    """The post as `reader show` prints it: the header (with a Tags: line when it has tags), the
    text, the numbered links, and why its full article could not be fetched, if it could not."""
    from . import cli_fulltext
    from .cli import _shown_title
    from .render import render_entry_text

    entry.feed_title = _shown_title(entry.feed_title, entry.feed_url)
    text = render_entry_text(entry, source=source, downloads=downloads)
    # A fetch that failed says why, so a teaser is not taken for the whole post.
    return text + cli_fulltext.article_error_note(store.get_article(entry.id))


def cmd_mark(args: argparse.Namespace) -> int:
    from .cli import CLIError, _store

    if args.read and args.unread:
        raise CLIError("--read and --unread contradict each other: give one")
    if args.star and args.unstar:
        raise CLIError("--star and --unstar contradict each other: give one")
    if args.hide and args.unhide:
        raise CLIError("--hide and --unhide contradict each other: give one")
    changes = [
        (flag, value)
        for flag, value, given in (
            ("read", True, args.read), ("read", False, args.unread),
            ("starred", True, args.star), ("starred", False, args.unstar),
        )
        if given
    ]
    if not changes and not (args.hide or args.unhide):
        raise CLIError(
            "say what to mark: --read, --unread, --star, --unstar, --hide or --unhide (--read --star works too)"
        )
    store = _store(args)
    found = store.existing_ids(args.ids)
    for flag, value in changes:
        store.set_flag([i for i in args.ids if i in found], flag, value)
    if args.hide or args.unhide:
        # Local only: no sync server has hidden posts.
        store.set_hidden([i for i in args.ids if i in found], args.hide)
    missing = [str(i) for i in args.ids if i not in found]
    if missing:
        raise CLIError(f"no post with id {', '.join(missing)}")
    return 0
