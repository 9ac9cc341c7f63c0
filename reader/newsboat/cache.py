"""newsboat's `cache.db` (SQLite), read-only: each feed's cached posts and their read and flagged state.

    rss_feed (rssurl, url, title, …)
    rss_item (id, guid, title, author, url, feedurl, pubDate, content, unread, enclosure_url,
              enclosure_type, flags, deleted, base, …)

The point is the key: a post imported from here must be the post reader's own parser will
find in the feed later, or the next `reader refresh` would list it twice. reader keys a post
by its guid (a permalink guid resolved against the feed's URL), else its link, else a hash
of its title and date text (reader/parse.py `_entry`). newsboat keeps the guid it made by
the same kind of rule: the item's guid, else its link followed by its date, else its link,
else its title. `reader_key` undoes newsboat's rule and applies reader's.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from ..sanitize import clean_line, strip_tags

MAX_CONTENT = 1_000_000  # characters of one post's body: a cap on what one post can cost


class CacheError(ValueError):
    """The file is not a newsboat cache reader can read."""


class CacheReadError(Exception):
    """Reading the cache failed part way (newsboat writing to it, a damaged page); the cause is chained."""


@dataclass(frozen=True, slots=True)
class CachedItem:
    guid: str
    title: str
    author: str
    url: str
    pub_date: int
    content: str
    unread: bool
    enclosure_url: str
    enclosure_type: str
    flags: str
    deleted: bool
    base: str


def _running_newsboat(path: Path) -> int | None:
    """The pid of a newsboat that has this cache open: it holds `cache.db.lock` with its pid in it (a lock
    file, not a SQLite lock: reads would not notice it writing). None when no live process holds it."""
    try:
        text = Path(f"{path}.lock").read_text(encoding="ascii", errors="replace")[:40].strip()
    except OSError:
        return None
    if not text.isdigit() or not 0 < int(text) <= 4_194_304:  # Linux pid_max at most
        return None
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a lock left by a newsboat that crashed
    except PermissionError:
        return pid  # alive, another user's
    except OSError:
        return None
    return pid


@dataclass(frozen=True, slots=True)
class Key:
    key: str
    others: tuple[str, ...] = ()  # other keys reader may have given it (used when one of them is already stored)
    sure: bool = True  # False: reader's key depends on something newsboat doesn't keep (see `why`)
    why: str = ""


class NewsboatCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        running = _running_newsboat(path)
        if running is not None:
            raise CacheError(f"newsboat is running (pid {running}, {path}.lock): quit it, then run the import again")
        try:
            # Read-only and never written: newsboat may be running (it keeps a lock file, not a SQLite lock).
            # A short busy timeout: newsboat writing its cache holds the lock for moments, not seconds.
            self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc):
                raise CacheError(f"{path}: locked by another program (is newsboat running? quit it and try again)") \
                    from None
            raise CacheError(f"{path}: not a SQLite database newsboat wrote ({clean_line(str(exc), 200)})") from None
        missing = {"rss_feed", "rss_item"} - tables
        if missing:
            raise CacheError(f"{path}: not a newsboat cache (no {', '.join(sorted(missing))} table)")
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(rss_item)")}
        need = {"guid", "title", "author", "url", "feedurl", "pubDate", "content", "unread"}
        if need - columns:
            lacks = ", ".join(sorted(need - columns))
            raise CacheError(f"{path}: rss_item lacks {lacks}: not a cache newsboat 2.x wrote")
        # Columns added over newsboat's versions: read when there, else a neutral value.
        self._optional = {
            name: name if name in columns else default
            for name, default in (
                ("enclosure_url", "''"), ("enclosure_type", "''"), ("flags", "''"), ("deleted", "0"), ("base", "''"),
            )
        }

    def close(self) -> None:
        self.db.close()

    def feed_titles(self) -> dict[str, tuple[str, str]]:
        """{feed URL: (title, site URL)} as newsboat last fetched them."""
        try:
            return {
                str(r[0]): (clean_line(str(r[1] or ""), 1000), str(r[2] or ""))
                for r in self.db.execute("SELECT rssurl, title, url FROM rss_feed")
            }
        except sqlite3.DatabaseError as exc:
            raise CacheReadError(str(exc)) from exc

    def feed_urls_with_items(self) -> dict[str, int]:
        try:
            rows = self.db.execute("SELECT feedurl, count(*) FROM rss_item GROUP BY feedurl").fetchall()
        except sqlite3.DatabaseError as exc:
            raise CacheReadError(str(exc)) from exc
        return {str(r[0]): r[1] for r in rows}

    def items(self, feed_url: str) -> Iterator[CachedItem]:
        try:
            yield from self._items(feed_url)
        except sqlite3.DatabaseError as exc:
            raise CacheReadError(str(exc)) from exc

    def _items(self, feed_url: str) -> Iterator[CachedItem]:
        o = self._optional
        rows = self.db.execute(
            "SELECT guid, title, author, url, pubDate, substr(content, 1, ?), unread, "
            f"{o['enclosure_url']}, {o['enclosure_type']}, {o['flags']}, {o['deleted']}, {o['base']} "
            "FROM rss_item WHERE feedurl = ? ORDER BY id",
            (MAX_CONTENT, feed_url),
        )
        for r in rows:
            yield CachedItem(
                guid=_text(r[0]), title=_text(r[1]), author=_text(r[2]), url=_text(r[3]),
                pub_date=r[4] if isinstance(r[4], int) else 0, content=_text(r[5]),
                unread=bool(r[6]), enclosure_url=_text(r[7]), enclosure_type=_text(r[8]), flags=_text(r[9]),
                deleted=bool(r[10]), base=_text(r[11]),
            )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def _is_date_text(text: str) -> bool:
    """Whether `text` is a feed's date as newsboat appends it to a link to make a guid."""
    if _ISO_DATE.match(text):
        return True
    try:
        return email.utils.parsedate_tz(text) is not None
    except (TypeError, ValueError, IndexError):
        return False


def reader_title(title: str) -> str:
    """A title as reader's parser stores it (reader/parse.py `_title`)."""
    return clean_line(strip_tags(title) if "<" in title else title)


def reader_key(item: CachedItem, feed_url: str) -> Key:
    """The key reader's parser gives this post when it reads the same feed."""
    from ..sanitize import safe_url

    guid, url = item.guid.strip(), item.url.strip()
    link = safe_url(url)
    if url and guid.startswith(url) and len(guid) > len(url) and _is_date_text(guid[len(url):]):
        # newsboat's link + date: the item had no guid, so reader keys it by its link.
        if link:
            return Key(link)
    if url and guid == url:
        if link:
            return Key(link)
    if not url and guid == item.title.strip():
        # No guid and no link: reader hashes the title with the date *as the feed wrote it*,
        # which newsboat doesn't keep. Without a date in the feed the date text is empty.
        title = reader_title(item.title)
        key = "sha1:" + hashlib.sha1(f"{title}\x00".encode("utf-8", "surrogatepass")).hexdigest()
        return Key(key, sure=False, why="no guid and no link: reader's key depends on the date as the feed wrote it")
    if not guid:
        return Key("", sure=False, why="no guid, link or title")
    key = clean_line(guid, 2000)
    if not _SCHEME.match(guid) and link and clean_line(urljoin(item.base or feed_url, guid), 2000) == link:
        # A relative permalink guid: newsboat kept the link it resolves to, which is what reader keys it by.
        return Key(link, others=(key,))
    if not _SCHEME.match(guid):
        # A guid that is no URL: reader resolves it against the feed's URL when it is a permalink
        # (isPermaLink missing or true), which newsboat doesn't record. Both are tried.
        resolved = clean_line(urljoin(item.base or feed_url, guid), 2000)
        if resolved != key:
            return Key(key, others=(resolved,), sure=False, why="a relative guid: it may be a permalink")
    return Key(key)
