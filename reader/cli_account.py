"""`reader account …` and `reader sync`: the command line's side of sync.

The password is read from the terminal (no echo) or one line of stdin, handed to the
login and dropped; the token is written only to its 0600 file and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading
from pathlib import Path

from .config import data_dir, db_path
from .dates import format_time, iso_utc
from .sanitize import clean_message
from .store import Store


class AccountCLIError(Exception):
    """Raised as the CLI's CLIError by cli.py (same one-line report, status 1)."""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("account", help="the sync server this cache belongs to (show, add, remove)")
    p.add_argument("--json", action="store_true", help="show as JSON")
    p.set_defaults(func=cmd_account_show)
    actions = p.add_subparsers(dest="account_command", metavar="ACTION")
    a = actions.add_parser("add", help="log in to a Google Reader API server (FreshRSS, Miniflux, …)")
    a.add_argument("url", help="the server's API URL (FreshRSS: https://host/api/greader.php) or its base URL")
    a.add_argument("--user", "-u", required=True, metavar="NAME")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    upload = a.add_mutually_exclusive_group()
    upload.add_argument("--upload", action="store_true", default=None,
                        help="subscribe the server to this cache's local feeds (asked on a terminal)")
    upload.add_argument("--no-upload", dest="upload", action="store_false", help="keep local feeds local")
    a.set_defaults(func=cmd_account_add)
    r = actions.add_parser("remove", help="back to a local cache (posts and feeds stay)")
    r.set_defaults(func=cmd_account_remove)

    p = sub.add_parser("sync", help="push local changes to the sync server, then pull its feeds, posts and marks")
    p.add_argument("--quiet", "-q", action="store_true", help="print only failures (for cron)")
    p.set_defaults(func=cmd_sync)


def _where(args: argparse.Namespace) -> tuple[Store, Path]:
    return Store(db_path(args.data_dir)), data_dir(args.data_dir)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    elif sys.stdin.isatty():
        try:
            password = getpass.getpass(f"Password for {clean_message(args.user, 100)}: ")
        except EOFError:
            password = ""
    else:
        raise AccountCLIError("stdin is not a terminal: give the password on stdin with --password-stdin")
    if not password:
        raise AccountCLIError("no password given")
    return password


def cmd_account_add(args: argparse.Namespace) -> int:
    from .sync.account import log_in
    from .sync.client import SyncError

    store, folder = _where(args)
    password = _read_password(args)
    try:
        account = log_in(store, folder, args.url, args.user, password, timeout=args.settings.timeout)
    except SyncError as exc:
        raise AccountCLIError(f"cannot log in: {exc}") from None
    print(f"logged in as {clean_message(account.user, 200)} at {clean_message(account.api_url, 500)}")
    local = store.local_feed_count()
    if local:
        upload = args.upload
        if upload is None and sys.stdin.isatty() and sys.stderr.isatty() and not args.password_stdin:
            sys.stderr.write(
                f"This cache has {local} feed{'s' if local != 1 else ''} of its own. Subscribe the server to "
                f"{'them (each in its category' if local != 1 else 'it (in its category'}; one it has already "
                "is matched, not doubled)? [Y/n] "
            )
            sys.stderr.flush()
            upload = sys.stdin.readline().strip().lower() in ("", "y", "yes")
        if upload:
            queued = store.queue_uploads()
            goes = "they go" if queued != 1 else "it goes"
            print(f"queued {queued} feed{'s' if queued != 1 else ''} for the server; {goes} with the next sync")
        else:
            print(f"{local} feed{'s' if local != 1 else ''} of this cache not uploaded: any the server has "
                  "already join it at the next sync, the rest stay local (fetched from here); "
                  "to upload them later: reader account add … --upload")
    print("now run: reader sync")
    return 0


def cmd_account_remove(args: argparse.Namespace) -> int:
    from .sync.account import log_out

    store, folder = _where(args)
    waiting = store.pending_changes()
    account = log_out(store, folder)
    if account is None:
        print("this cache has no sync account")
        return 0
    lost = f"; {waiting} change{'s' if waiting != 1 else ''} never reached the server" if waiting else ""
    print(f"removed the account {clean_message(account.user, 200)} at {clean_message(account.api_url, 500)}: "
          f"posts and feeds stay, and are fetched from here again{lost}")
    return 0


def cmd_account_show(args: argparse.Namespace) -> int:
    from .sync.token import load_token

    store, folder = _where(args)
    account = store.get_account()
    waiting = store.pending_changes() if account else 0
    if args.json:
        print(json.dumps(None if account is None else {
            "server": clean_message(account.api_url, 500), "user": clean_message(account.user, 200),
            "last_sync": iso_utc(account.last_sync), "last_attempt": iso_utc(account.last_attempt),
            "last_error": clean_message(account.last_error) if account.last_error else None,
            "waiting_changes": waiting, "logged_in": load_token(folder) is not None,
        }, indent=2, ensure_ascii=False))
        return 0
    if account is None:
        print("no sync account: this cache is local. Add one with: reader account add URL --user NAME")
        return 0
    print(f"server:     {clean_message(account.api_url, 500)}")
    print(f"user:       {clean_message(account.user, 200)}")
    print(f"last sync:  {format_time(account.last_sync) if account.last_sync else 'never'}")
    print(f"waiting:    {waiting} change{'s' if waiting != 1 else ''} for the server")
    if account.last_error:  # kept only while it is the latest word (Store.record_sync)
        print(f"last error: {clean_message(account.last_error)}")
    if load_token(folder) is None:
        print("login:      none saved; log in again with: reader account add URL --user NAME")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from .sync.account import sync
    from .sync.client import SyncError
    from .sync.engine import SyncStopped

    store, folder = _where(args)
    if store.get_account() is None:
        raise AccountCLIError("this cache has no sync account: add one with `reader account add URL --user NAME`")
    show = not args.quiet and sys.stderr.isatty()

    def progress(text: str) -> None:
        if show:
            sys.stderr.write(f"\r\x1b[Ksync: {text}")
            sys.stderr.flush()

    stop = threading.Event()
    try:
        summary = sync(
            store, folder, timeout=args.settings.timeout, progress=progress, stop=stop, rules=args.settings.rules
        )
    except SyncError as exc:
        waiting = store.pending_changes()
        kept = f" ({waiting} local change{'s' if waiting != 1 else ''} kept for the next sync)" if waiting else ""
        raise AccountCLIError(f"sync failed: {exc}{kept}") from None
    except SyncStopped:
        raise KeyboardInterrupt from None
    finally:
        if show:
            sys.stderr.write("\r\x1b[K")
    for warning in summary.warnings:
        print(f"reader: {clean_message(warning)}", file=sys.stderr)
    if not args.quiet:
        print(summary.line())
    from .cli_rules import after_refresh

    after_refresh(args, summary)  # the rules' line, and the notify hook for their matches
    return 0


def push_now(args: argparse.Namespace, store: Store) -> None:
    """After `add`, `remove` or `import` with an account: send the change now; if that fails, say it waits."""
    if store.get_account() is None or not store.pending_changes():
        return
    from .sync.account import push
    from .sync.client import SyncError

    try:
        summary = push(store, data_dir(args.data_dir), timeout=args.settings.timeout)
    except SyncError as exc:
        waiting = store.pending_changes()
        wait = "s wait" if waiting != 1 else " waits"
        print(f"reader: not sent to the sync server yet ({exc}); {waiting} change{wait} for the next `reader sync`",
              file=sys.stderr)
        return
    for warning in summary.warnings:
        print(f"reader: {clean_message(warning)}", file=sys.stderr)
