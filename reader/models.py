"""Plain data types shared by the core, the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .sanitize import mask_credentials

if TYPE_CHECKING:
    from .rules import RuleOutcome


@dataclass(slots=True)
class Feed:
    id: int
    url: str
    title: str
    site_url: str | None = None
    categories: list[str] = field(default_factory=list)
    unread: int = 0
    total: int = 0
    last_updated: float | None = None  # epoch seconds of the last successful fetch
    last_checked: float | None = None
    last_error: str | None = None
    gone: bool = False
    retry_after: float | None = None
    remote_id: str | None = None  # the sync server's stream id ("feed/12"); None for a feed fetched here
    next_due: float | None = None  # when `refresh --due` fetches it next (epoch seconds); None: due now
    every: float | None = None  # the user's interval for this feed (seconds); None: worked out (reader/schedule.py)
    # (etag, last_modified, body_hash) as a refresh read them: what its conditional GET sends.
    fetch_state: tuple[str | None, str | None, str | None] = (None, None, None)

    @property
    def display_title(self) -> str:
        # A URL with `user:password@` is stored whole (it is needed to fetch) but never shown so.
        return self.title or mask_credentials(self.url)

    @property
    def display_url(self) -> str:
        return mask_credentials(self.url)

    @property
    def fetched_before(self) -> bool:
        """A body of it was stored: the next fetch is likely a 304, or the same body (its hash is known)."""
        return self.fetch_state[2] is not None


@dataclass(slots=True)
class EntryRow:
    """One row of the post list: what a listing needs, nothing heavier."""

    id: int
    feed_id: int
    feed_title: str
    title: str
    published: float  # epoch seconds, UTC
    read: bool
    starred: bool
    author: str = ""
    link: str | None = None
    date_known: bool = True
    feed_url: str = ""


@dataclass(slots=True)
class Entry:
    """A whole post, as stored."""

    id: int
    feed_id: int
    feed_title: str
    feed_url: str
    title: str
    link: str | None
    author: str
    published: float
    date_known: bool  # False when `published` fell back to first-seen time
    read: bool
    starred: bool
    categories: list[str]
    content: str  # HTML (content:encoded, else the summary)
    base_url: str | None  # what relative links in `content` resolve against
    enclosures: list[Enclosure] = field(default_factory=list)
    # The full article fetched from `link` (HTML, already extracted from the page), when there is one.
    article: str | None = None
    article_url: str | None = None  # what the article's relative links resolve against (the page's final URL)
    article_error: str | None = None  # why the last fetch of the article failed (cleaned, one line), if it did
    tags: list[str] = field(default_factory=list)  # the user's own labels (reader/storage/labels.py)


@dataclass(slots=True)
class Enclosure:
    """A file a post carries: a podcast episode, a video, an attachment (http(s) only)."""

    url: str
    type: str = ""  # a MIME type, lowercased ("audio/mpeg"), or "" when the feed gave none
    length: int | None = None  # bytes, as the feed says
    duration: float | None = None  # seconds, as the feed says


@dataclass(slots=True)
class ParsedEntry:
    key: str  # stable identity within its feed
    title: str
    link: str | None
    author: str
    published: float | None  # None when the feed gave no usable date
    categories: list[str]
    content: str
    base_url: str | None
    enclosures: list[Enclosure] = field(default_factory=list)


@dataclass(slots=True)
class ParsedFeed:
    title: str
    site_url: str | None
    entries: list[ParsedEntry]
    # The interval (seconds) the document asks between fetches: the longer of RSS <ttl> and
    # sy:updatePeriod/updateFrequency (reader/schedule.py's feed_interval); None when it asks none.
    interval: float | None = None


@dataclass(slots=True)
class Account:
    """The sync server a cache belongs to. The token is not here: see reader/sync/token.py."""

    api_url: str
    user: str
    added: float
    last_sync: float | None = None  # the last sync that completed
    last_attempt: float | None = None
    last_error: str | None = None  # why the last attempt failed; None when it completed
    # What that error calls for: "auth" (log in again), "unreachable" (waits for the network), "failed".
    last_error_kind: str | None = None
    since: float | None = None  # posts crawled before this were all pulled (the next `ot=`)


@dataclass(slots=True)
class FeedOp:
    """A subscription change made here, waiting in the outbox for the next sync."""

    id: int
    op: str  # "subscribe", "unsubscribe" or "edit"
    url: str
    remote_id: str | None
    title: str
    categories: list[str] | None  # the whole new set, for "subscribe" and "edit"


@dataclass(slots=True)
class FetchResult:
    """What one HTTP fetch of a feed gave. Exactly one of body/error/not_modified holds."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    permanent_redirect: bool = False  # every hop was 301/308: the stored URL should change
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    gone: bool = False
    error: str | None = None
    retry_after: float | None = None  # epoch seconds before which not to fetch again
    # How long the server says its answer stays fresh (Cache-Control max-age, else Expires), seconds;
    # None when it says nothing. reader/schedule.py reads it as "don't ask again sooner".
    fresh_for: float | None = None
    unreachable: bool = False  # the error came before any response: no connection, or no TLS handshake


@dataclass(slots=True)
class FeedOutcome:
    url: str
    status: str  # "new", "unchanged", "not_modified", "error", "skipped"
    new_entries: int = 0
    updated_entries: int = 0
    error: str | None = None


@dataclass(slots=True)
class RefreshSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0
    # When the feeds were all stored: full articles and images may take up to one more timeout
    # after that, and a summary that put all of it on the feeds would mislead.
    feeds_seconds: float | None = None
    stopped: bool = False  # abandoned part-way (the app quit)
    # The full articles the refresh fetched (or found unchanged), and the posts whose article
    # fetch failed (each says why in `reader show ID`): not feed failures.
    articles_fetched: int = 0
    articles_failed: list[int] = field(default_factory=list)
    # The posts this refresh stored that were new, and what the config's rules did to them
    # (reader/rules.py; applied once every feed is stored, before `feeds_done`).
    new_ids: list[int] = field(default_factory=list)
    rules: RuleOutcome | None = None

    @property
    def new_entries(self) -> int:
        return sum(o.new_entries for o in self.outcomes)

    @property
    def updated(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "new"]

    @property
    def not_modified(self) -> int:
        return sum(o.status in ("not_modified", "unchanged") for o in self.outcomes)

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def skipped(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    def line(self) -> str:
        """One line whose feed counts add up to the feeds checked."""
        total = len(self.outcomes)
        parts = [
            f"{len(self.updated)} with new posts ({_plural(self.new_entries, 'new entry', 'new entries')})",
            f"{self.not_modified} not modified",
            f"{len(self.failed)} failed",
        ]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.articles_fetched or self.articles_failed:
            articles = _plural(self.articles_fetched, "full article", "full articles")
            failed = self.articles_failed
            if len(failed) == 1:
                articles += f" (1 failed: reader show {failed[0]} says why)"
            elif failed:
                articles += f" ({len(failed)} failed: reader show ID says why, e.g. {min(failed)})"
            parts.append(articles)
        feeds = self.seconds if self.feeds_seconds is None else self.feeds_seconds
        line = f"{_plural(total, 'feed', 'feeds')} checked in {feeds:.1f} s: " + ", ".join(parts)
        if self.seconds - feeds >= 1.0:
            line += f"; full articles and images took {self.seconds - feeds:.1f} s more"
        return line


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
