"""One sync with a Google Reader API server, in the issue's order.

1. push the outbox: marks (batched edit-tag calls), then subscription changes;
2. pull subscriptions and labels: adds, removals, renames, moves;
3. pull new posts since the last sync, a page at a time, each page one transaction;
4. pull the server's unread and starred id sets and reconcile local marks with them.

(The id sets of step 4 are fetched before step 3 writes anything: step 3 also fetches the
unread posts the cache lacks, and no write ever waits on the network.)

The rule for conflicts: a change made here and still in the outbox wins over the
server's older state (steps 3 and 4 leave such posts alone); once pushed, the server's
state is the truth. A failure at any step stops the sync with the client's message;
nothing is lost, because the outbox is emptied only of what the server accepted and
the pull position (`since`) moves only when the pull completed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ..config import Rule
from ..models import ParsedEntry
from ..rules import RuleOutcome, apply_rules
from ..sanitize import clean_message
from ..storage.labels import LABEL_FLAG, clean_name
from ..store import Store, StoreError
from .client import CONTENTS_BATCH, EDIT_BATCH, AuthError, GReaderClient, RefusedError, SyncError, UnreachableError
from .items import READ, READING_LIST, STARRED, RemoteFeed, RemoteItem, label_id

MARK_BATCH = 5000  # outbox rows read at a time
# The catch-all category servers file feeds under when the user chose none. Locally a feed
# with no category is already shown as Uncategorized, so the label is not kept as a category.
DEFAULT_LABELS = {"uncategorized", "uncategorised", "all"}


def error_kind(exc: SyncError) -> str:
    """What a failure calls for: "auth" (log in again), "unreachable" (waits for the network) or "failed"."""
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, UnreachableError):
        return "unreachable"
    return "failed"


FUTURE_CRAWL = 24 * 3600  # seconds a server's clock may be ahead of ours


class SyncStopped(Exception):
    """The sync was asked to stop (the app is quitting); what was done is kept."""


@dataclass(slots=True)
class SyncSummary:
    marks_pushed: int = 0
    feed_changes_pushed: int = 0
    feeds_added: int = 0
    feeds_removed: int = 0
    feeds_changed: int = 0  # renamed or moved
    new_entries: int = 0
    updated_entries: int = 0  # posts already here (fetched before, or from an earlier server) now the server's
    marks_changed: int = 0  # local posts whose read/starred the server changed
    tags_changed: int = 0  # (post, tag) pairs the server's labels added or removed here
    warnings: list[str] = field(default_factory=list)  # changes the server refused (dropped from the outbox)
    seconds: float = 0.0
    new_ids: list[int] = field(default_factory=list)  # the posts new to the cache
    rules: RuleOutcome | None = None  # what the config's rules did to them

    def line(self) -> str:
        parts = [
            f"pushed {_plural(self.marks_pushed, 'mark')}"
            + (f" and {_plural(self.feed_changes_pushed, 'subscription change')}" if self.feed_changes_pushed else ""),
            f"{_plural(self.new_entries, 'new post')}",
        ]
        if self.updated_entries:
            parts.append(f"{self.updated_entries:,} matched with posts already here")
        feeds = [
            f"{n} {what}" for n, what in (
                (self.feeds_added, "added"), (self.feeds_removed, "removed"), (self.feeds_changed, "renamed or moved")
            ) if n
        ]
        if feeds:
            parts.append("feeds " + ", ".join(feeds))
        parts.append(f"{_plural(self.marks_changed, 'mark')} from the server")
        if self.tags_changed:
            parts.append(f"{_plural(self.tags_changed, 'tag change')} from the server")
        return f"synced in {self.seconds:.1f} s: " + ", ".join(parts)


def sync(
    store: Store,
    client: GReaderClient,
    *,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    rules: Sequence[Rule] = (),
) -> SyncSummary:
    """Run the four steps. Raises SyncError (recorded on the account) or SyncStopped.

    `rules` (the config's) act on the posts new to the cache, as a refresh's do, once the
    server's marks are in: their own marks are then queued and go to the server in the last push.
    """
    started = time.monotonic()
    summary = SyncSummary()
    say = progress or (lambda _text: None)

    def check() -> None:
        if stop is not None and stop.is_set():
            raise SyncStopped

    try:
        say("pushing local changes")
        push_marks(store, client, summary, check)
        push_feed_changes(store, client, summary, check)
        check()
        say("pulling subscriptions")
        folders = pull_subscriptions(store, client, summary)
        check()
        # The id sets are fetched whole before any write: the cache is never locked while the
        # network is waited on. The unread set serves step 3 too (see pull_entries).
        say("pulling read and starred state")
        unread = set(client.item_ids(READING_LIST, exclude=READ))
        check()
        starred = set(client.item_ids(STARRED))
        check()
        say("pulling tags")
        tags = pull_tag_sets(client, folders, check)
        since = pull_entries(store, client, summary, check, say, unread, {name.casefold() for name in tags})
        check()
        summary.marks_changed += store.reconcile_flag("read", unread)
        summary.marks_changed += store.reconcile_flag("starred", starred)
        summary.tags_changed += store.reconcile_tags(tags)
        if rules and summary.new_ids:
            summary.rules = apply_rules(store, rules, summary.new_ids)
        # Marks queued meanwhile: made in the app during the sync, or those of posts fetched
        # here before the account that the server's copies lacked (see save_remote_entries).
        push_marks(store, client, summary, check)
    except SyncError as exc:
        store.record_sync(error=str(exc), kind=error_kind(exc))
        raise
    summary.seconds = time.monotonic() - started
    store.record_sync(since=since)
    return summary


def push_marks(store: Store, client: GReaderClient, summary: SyncSummary, check: Callable[[], None]) -> None:
    """Step 1a: every queued mark, one edit-tag POST per EDIT_BATCH posts of the same state and direction.

    Each POST that succeeds is dropped from the outbox at once, so a link that fails part-way
    loses nothing and repeats nothing that got through.
    """
    while True:
        check()
        rows = store.queued_marks(MARK_BATCH)
        if not rows:
            return
        groups: dict[tuple[str, bool], list[tuple[int, int]]] = {}
        for row_id, item_id, flag, value in rows:
            groups.setdefault((flag, value), []).append((row_id, item_id))
        for (flag, value), members in groups.items():
            if flag.startswith(LABEL_FLAG):
                state = label_id(flag[len(LABEL_FLAG):])  # a tag: the Google Reader user label of that name
            elif flag in ("read", "starred"):
                state = READ if flag == "read" else STARRED
            else:
                store.forget_marks([row_id for row_id, _ in members])  # a newer reader's: nothing to send
                continue
            for start in range(0, len(members), EDIT_BATCH):
                check()
                batch = members[start : start + EDIT_BATCH]
                ids = [item_id for _, item_id in batch]
                try:
                    if value:
                        client.edit_tag(ids, add=state)
                    else:
                        client.edit_tag(ids, remove=state)
                except RefusedError as exc:
                    # The server understood and said no (posts it no longer has): kept, these
                    # marks would stop every later sync here. Step 4 then takes the server's state
                    # for those posts, as for any change the server has the last word on.
                    store.forget_marks([row_id for row_id, _ in batch])
                    summary.warnings.append(f"{exc}; {_plural(len(batch), 'mark')} not sent")
                    continue
                store.forget_marks([row_id for row_id, _ in batch])
                summary.marks_pushed += len(batch)


def push_feed_changes(store: Store, client: GReaderClient, summary: SyncSummary, check: Callable[[], None]) -> None:
    """Step 1b: subscriptions added, removed or moved here, in the order they were made."""
    ops = store.queued_feed_ops()
    if not ops:
        return
    remote: dict[str, RemoteFeed] | None = None

    def server_feeds() -> dict[str, RemoteFeed]:
        nonlocal remote
        if remote is None:
            remote = {f.stream_id: f for f in client.subscriptions()}
        return remote

    def stream_of(url: str, known: str | None) -> str | None:
        if known:
            return known
        return next((f.stream_id for f in server_feeds().values() if f.url == url), None)

    for op in ops:
        check()
        shown = clean_message(op.url, 300)
        try:
            if op.op == "subscribe":
                # Already there (subscribed on another machine too): the server's subscription,
                # with its categories, is kept as it is, and this feed becomes it.
                stream_id = stream_of(op.url, None)
                if stream_id is None:
                    stream_id = client.quickadd(op.url)
                    labels = _own_labels(op.categories or [])
                    if labels:
                        client.subscription_edit(stream_id, action="edit", add_labels=labels)
                    remote = None  # the server's list changed
                store.forget_feed_op(op.id, url=op.url, remote_id=stream_id)
            elif op.op == "unsubscribe":
                stream_id = stream_of(op.url, op.remote_id)
                if stream_id is not None:
                    client.subscription_edit(stream_id, action="unsubscribe")
                store.forget_feed_op(op.id)
            elif op.op == "edit":
                stream_id = stream_of(op.url, op.remote_id)
                if stream_id is not None:
                    wanted = _own_labels(op.categories or [])
                    feed = server_feeds().get(stream_id)
                    now = feed.categories if feed is not None else []
                    wanted_folded, now_folded = {c.casefold() for c in wanted}, {c.casefold() for c in now}
                    gone = [c for c in now if c.casefold() not in wanted_folded]
                    added = [c for c in wanted if c.casefold() not in now_folded]
                    if added or gone:
                        client.subscription_edit(stream_id, action="edit", add_labels=added, remove_labels=gone)
                    remote = None
                store.forget_feed_op(op.id)
            else:
                store.forget_feed_op(op.id)  # written by a newer reader: nothing this one can do with it
                continue
        except RefusedError as exc:
            # The server said no to this one change (a URL it can't fetch): keeping it queued
            # would block every later sync, so it is dropped and reported.
            store.forget_feed_op(op.id)
            summary.warnings.append(f"{exc}; {shown} stays a feed of this cache only")
            continue
        summary.feed_changes_pushed += 1


def pull_subscriptions(store: Store, client: GReaderClient, summary: SyncSummary) -> set[str]:
    """Step 2: the server's subscriptions become the local ones, except those with a change still queued.

    Returns the labels the subscriptions are filed under (casefolded): folders, not tags.
    """
    remote = client.subscriptions()
    feeds = [(f.stream_id, f.url, f.title, f.site_url, _own_labels(f.categories)) for f in remote]
    added, changed, removed = store.apply_remote_feeds(feeds, keep=store.feeds_with_pending_ops())
    summary.feeds_added += added
    summary.feeds_changed += changed
    summary.feeds_removed += removed
    return {c.casefold() for f in remote for c in f.categories}


def pull_tag_sets(client: GReaderClient, folders: set[str], check: Callable[[], None]) -> dict[str, set[int]]:
    """Step 3a: the server's user labels on posts (reader's tags), each with the ids of its posts.

    A label the server calls a tag is one; when it doesn't say (not every server types its
    labels), a label no subscription is filed under is. One id list per tag, fetched before any
    write (the cache is never locked while the network is waited on).
    """
    sets: dict[str, set[int]] = {}
    seen: set[str] = set()  # the casefolded names taken
    for name, kind in client.tag_list():
        if kind == "folder" or (kind is None and name.casefold() in folders) or name.casefold() in DEFAULT_LABELS:
            continue
        try:
            clean_name(name)
        except StoreError:
            continue  # a label no reader tag can be (a `"` in it, too long): left to the server
        if name.casefold() in seen:
            continue  # two spellings of one tag: the first one stands
        seen.add(name.casefold())
        check()
        sets[name] = set(client.item_ids(label_id(name)))
    return sets


def pull_entries(
    store: Store, client: GReaderClient, summary: SyncSummary, check: Callable[[], None], say: Callable[[str], None],
    unread: set[int], tags: AbstractSet[str] = frozenset(),
) -> float | None:
    """Step 3: the ids of posts crawled since the last sync, then only the posts the cache lacks.

    Asking for ids first costs a few bytes a post, and a post already here is never sent
    again. `since` is the newest crawl time seen, and the ids asked for start the second
    after it; a post the server crawled within that same second, after the last pull, is
    still caught if it is unread, because every unread id the cache lacks is fetched too.
    The posts come CONTENTS_BATCH at a time, each batch one transaction, so memory stays
    flat at any account size. Returns the next `since`.
    """
    account = store.get_account()
    since = account.since if account else None
    recent = list(client.item_ids(READING_LIST, since=None if since is None else math.floor(since) + 1))
    # Newest first, as the server lists them; the unread ids are of the same clock (FreshRSS,
    # Miniflux and Inoreader ids grow with time), so sorting them keeps new posts first.
    missing = store.unknown_remote_ids(recent + sorted(unread - set(recent), reverse=True))
    newest = since
    batches = [missing[start : start + CONTENTS_BATCH] for start in range(0, len(missing), CONTENTS_BATCH)]
    # The next batch is fetched (and parsed) while this one is written: the server's time
    # and the cache's overlap. Never more than two batches are held.
    ahead = _Ahead(client.item_contents, batches[0]) if batches else None
    for n in range(len(batches)):
        check()
        assert ahead is not None
        items = ahead.get()
        ahead = _Ahead(client.item_contents, batches[n + 1]) if n + 1 < len(batches) else None
        new, updated, _ = store.save_remote_entries([_as_entry(item, tags) for item in items], summary.new_ids)
        summary.new_entries += new
        summary.updated_entries += updated
        # A crawl time in the future (a server's wrong clock) would put every later post before `since`.
        horizon = time.time() + FUTURE_CRAWL
        crawled = [item.crawled for item in items if item.crawled is not None and item.crawled <= horizon]
        if crawled:
            newest = max(newest or 0.0, *crawled)
        say(f"pulling posts: {min((n + 1) * CONTENTS_BATCH, len(missing)):,} of {len(missing):,}")
    return newest


class _Ahead:
    """One call run in a daemon thread, its result collected later.

    A daemon thread, not an executor: an executor's threads are joined at exit, so a
    quitting app would wait for a request in flight.
    """

    def __init__(self, call: Callable[[list[int]], list[RemoteItem]], arg: list[int]) -> None:
        self._result: list[RemoteItem] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call, arg), daemon=True, name="reader-sync-fetch")
        self._thread.start()

    def _run(self, call: Callable[[list[int]], list[RemoteItem]], arg: list[int]) -> None:
        try:
            self._result = call(arg)
        except BaseException as exc:  # handed to the sync's own thread by get()
            self._error = exc

    def get(self) -> list[RemoteItem]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _as_entry(item: RemoteItem, tags: AbstractSet[str] = frozenset()) -> tuple[str, int, ParsedEntry, bool, bool]:
    """A server's post as the store takes it. Its labels that are tags (casefolded in `tags`) are not its
    categories: they come as tags, by the reconcile of step 4."""
    entry = ParsedEntry(
        key="",  # the store keys synced posts by the server's item id
        title=item.title,
        link=item.link,
        author=item.author,
        published=item.published,
        categories=[c for c in _own_labels(item.categories) if c.casefold() not in tags],
        content=item.content,
        base_url=item.link,
        enclosures=item.enclosures,  # stored like a fetched post's (schema v6 `enclosures`)
    )
    return item.stream_id, item.item_id, entry, item.read, item.starred


def _own_labels(names: Sequence[str]) -> list[str]:
    """The labels a person chose: the server's catch-all default category (DEFAULT_LABELS) left out."""
    return [name for name in names if name.casefold() not in DEFAULT_LABELS]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
