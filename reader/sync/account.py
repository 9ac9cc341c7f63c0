"""The account of a cache, as the CLI and the app use it: log in, log out, sync, push soon.

The password passes through `log_in` and is never kept; the token goes to its own 0600
file (token.py), never into the cache, the output or a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import Rule
from ..models import Account
from ..sanitize import clean_message
from ..store import Store
from .client import AuthError, GReaderClient, SyncError
from .engine import SyncSummary, error_kind, push_feed_changes, push_marks
from .engine import sync as run_engine
from .token import delete_token, load_token, save_token

NOT_LOGGED_IN = "no saved login for the sync account: log in again with `reader account add URL --user NAME`"


def log_in(store: Store, data_dir: Path, url: str, user: str, password: str, *, timeout: float = 30.0) -> Account:
    """Log in and make this cache the account's. Logging in again to the same account keeps its state."""
    api_url, token = GReaderClient.login(url, user, password, timeout=timeout)
    current = store.get_account()
    waiting = store.pending_changes()
    if current is not None and (current.api_url, current.user) != (api_url, user) and waiting:
        # Another account (or the same server spelled another way): its server ids and the
        # outbox would be dropped, and with them changes the old server never got.
        raise SyncError(
            f"this cache belongs to {clean_message(current.user, 200)} at {clean_message(current.api_url, 500)}, "
            f"and {waiting} change{'s' if waiting != 1 else ''} made here have not reached it yet: "
            "run `reader sync` first, or `reader account remove` to drop them"
        )
    save_token(data_dir, token)
    store.set_account(api_url, user)
    store.record_sync(complete=False)  # a "log in again" or "unreachable" from before is over
    account = store.get_account()
    assert account is not None
    return account


def log_out(store: Store, data_dir: Path) -> Account | None:
    """Back to a local cache: posts and feeds stay and are fetched from here again."""
    account = store.get_account()
    store.clear_account()
    delete_token(data_dir)
    return account


def open_client(store: Store, data_dir: Path, *, timeout: float = 30.0) -> GReaderClient:
    account = store.get_account()
    if account is None:
        raise SyncError("this cache has no sync account: add one with `reader account add URL --user NAME`")
    token = load_token(data_dir)
    if token is None:
        error = AuthError(NOT_LOGGED_IN)
        store.record_sync(error=str(error), kind="auth")
        raise error
    return GReaderClient(account.api_url, token, timeout=timeout)


def sync(
    store: Store,
    data_dir: Path,
    *,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    rules: Sequence[Rule] = (),
) -> SyncSummary:
    with open_client(store, data_dir, timeout=timeout) as client:
        return run_engine(store, client, progress=progress, stop=stop, rules=rules)


def push(store: Store, data_dir: Path, *, timeout: float = 30.0) -> SyncSummary:
    """Only step 1 (the outbox), for a change the user just made: `reader add`, `remove`, a move.

    A failure leaves the change queued for the next sync and is recorded on the account.
    """
    summary = SyncSummary()
    try:
        with open_client(store, data_dir, timeout=timeout) as client:
            push_marks(store, client, summary, lambda: None)
            push_feed_changes(store, client, summary, lambda: None)
    except SyncError as exc:
        store.record_sync(error=str(exc), kind=error_kind(exc))
        raise
    store.record_sync(complete=False)
    return summary
