"""The CLI's `reader import-newsboat [DIR]`: feeds, posts and their marks, saved searches and rules from newsboat."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .sanitize import clean_line


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
    p = sub.add_parser(
        "import-newsboat",
        help="import newsboat's feeds, posts, read/flagged state, query feeds and ignore-article rules",
        description=(
            "Reads newsboat's urls, config and cache.db from DIR (default ~/.newsboat if it exists, else "
            "$XDG_CONFIG_HOME/newsboat and $XDG_DATA_HOME/newsboat). Running it again changes nothing."
        ),
    )
    p.add_argument("dir", nargs="?", type=Path, metavar="DIR", help="the directory holding urls, config and cache.db")
    p.add_argument("--urls", type=Path, metavar="FILE", help="newsboat's urls file (default DIR/urls)")
    p.add_argument("--config", type=Path, metavar="FILE", help="newsboat's config file (default DIR/config)")
    p.add_argument("--cache", type=Path, metavar="FILE", help="newsboat's cache.db (default DIR/cache.db)")
    p.add_argument(
        "--offline", action="store_true",
        help="don't fetch the feeds whose cached posts lack a guid (their keys are then a best guess)",
    )
    p.set_defaults(func=cmd_import_newsboat)


def cmd_import_newsboat(args: argparse.Namespace) -> int:
    from .cli import CLIError, _store
    from .fetch import FetchOptions
    from .newsboat import NewsboatImportError, find_sources, import_newsboat

    try:
        sources = find_sources(args.dir, urls=args.urls, config=args.config, cache=args.cache)
        settings = getattr(args, "settings", None)
        options = None if args.offline else FetchOptions(timeout=getattr(settings, "timeout", 30.0))
        store = _store(args)
        report = import_newsboat(
            store, sources, config_path=getattr(settings, "path", None), fetch_options=options,
            progress=lambda text: print(f"… {clean_line(text, 200)}", file=sys.stderr),
        )
    except NewsboatImportError as exc:
        raise CLIError(clean_line(str(exc), 500)) from None
    files = ", ".join(
        str(p) for p in (sources.urls, sources.config, sources.cache) if p is not None
    )
    print(f"newsboat: {clean_line(files, 1000)}")
    print(f"feeds: {report.feeds} ({report.feeds_new} new here), {len(report.categories_added)} categories added")
    print(
        f"posts: {report.posts} ({report.posts_new} new here), {report.read} read, {report.starred} starred"
        + (f", {report.deleted} deleted in newsboat (kept here, hidden)" if report.deleted else "")
    )
    if report.marked_read or report.marked_starred or report.hidden or any(report.flag_tags.values()):
        tags = "".join(f", {n} tagged {t}" for t, n in report.flag_tags.items() if n)
        print(f"marked: {report.marked_read} read, {report.marked_starred} starred, {report.hidden} hidden{tags}")
    print(f"saved searches: {len(report.searches_saved)} saved, {report.searches_present} already there")
    for line in report.searches_saved:
        print(f"  {clean_line(line, 300)}")
    if report.config_path is not None:
        backup = f" (backup: {report.config_backup})" if report.config_backup else ""
        print(f"rules: {len(report.rules_added)} added to {report.config_path}{backup}, "
              f"{report.rules_present} already there")
        for line in report.rules_added:
            print(f"  {clean_line(line, 300)}")
    else:
        print("rules: none (no ignore-article lines)")
    if report.rules_applied:
        print(f"rules on the imported posts: {clean_line(report.rules_applied, 300)}")
    if report.problems:
        print(f"not imported or approximated ({len(report.problems)}):")
        for problem in report.problems:
            for n, line in enumerate(problem.splitlines()):
                print(("  " if n == 0 else "      ") + clean_line(line, 500))
    if report.changed:
        fetch = "reader sync" if store.get_account() is not None else "reader refresh"
        print(f"done; fetch the feeds with: {fetch}")
    else:
        print("nothing changed: everything was already imported")
    sys.stdout.flush()
    from .cli_account import push_now

    push_now(args, store)  # with a sync account, the new subscriptions go to the server now, as `import` does
    return 0
