"""`reader import-newsboat`: everything newsboat knows, moved into reader's cache and config.

- urls: feeds (tags → categories, "~Name" → title), query feeds → saved searches;
- config: ignore-article → `[[rules]]` appended to config.toml (a backup first);
- cache.db: every cached post, stored through the store's own writing path under the key
  reader's parser gives it (so a later refresh finds it, not a copy), then its marks:
  read, starred (flag "s"), other flags as tags `newsboat-flag-X`, deleted → hidden and read.

Running it again changes nothing: feeds and categories are added idempotently, posts
already stored are left as they are (only marks newsboat has are added: an import never
unreads or unstars a post), saved searches and rules already there are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import CONFIG_NAME, Settings, config_dir, load_settings
from ..fetch import FetchOptions
from ..models import Feed, ParsedEntry
from ..parse import clean_enclosures
from ..rules import apply_rules
from ..sanitize import clean_line, clean_text, safe_url, strip_tags
from ..store import Store, StoreError
from .align import LiveFeed, current_entries
from .cache import CachedItem, CacheError, CacheReadError, Key, NewsboatCache, reader_key, reader_title
from .filters import Translation, flag_tag, translate
from .nbconfig import ConfigFile, parse_config
from .urls import UrlsFile, parse_urls, shown

IGNORE_TAG = "newsboat-ignore"  # the action of a rule whose query may match more than newsboat's did
WRITE_BATCH = 500  # posts per save_parsed call: one transaction stays short, memory stays flat


class NewsboatImportError(ValueError):
    """A one-line reason the import can't start (no urls file, an unreadable cache)."""


@dataclass
class Sources:
    urls: Path
    config: Path | None
    cache: Path | None
    where: str  # what was looked at, for the report


def find_sources(
    directory: Path | None = None, *, urls: Path | None = None, config: Path | None = None, cache: Path | None = None,
    home: Path | None = None, env: dict[str, str] | None = None,
) -> Sources:
    """Where newsboat's files are: DIR, else where newsboat 2.x itself looks: the XDG directories when
    $XDG_CONFIG_HOME/newsboat exists (newsboat moves there then, even with a ~/.newsboat beside it),
    else ~/.newsboat."""
    env = dict(os.environ) if env is None else env
    home = home or Path(env.get("HOME") or Path.home())
    xdg_conf = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "newsboat"
    if directory is not None:
        conf_dir = data_dir = directory.expanduser()
    elif urls is not None:
        conf_dir = data_dir = urls.expanduser().parent  # the other files beside it: one newsboat setup, not two
    elif xdg_conf.is_dir() or not (home / ".newsboat").is_dir():
        conf_dir = xdg_conf
        data_dir = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "newsboat"
    else:
        conf_dir = data_dir = home / ".newsboat"
    for given in (urls, config, cache):
        if given is not None and not given.is_file():
            raise NewsboatImportError(f"no such file: {given}")
    urls_path = urls or conf_dir / "urls"
    if not urls_path.is_file():
        where = "" if urls else " (give newsboat's directory, or --urls FILE)"
        raise NewsboatImportError(f"no newsboat urls file at {urls_path}{where}")
    config_path = config or conf_dir / "config"
    cache_path = cache or data_dir / "cache.db"
    where = str(conf_dir) if conf_dir == data_dir else f"{conf_dir} and {data_dir}"
    return Sources(
        urls_path, config_path if config_path.is_file() else None, cache_path if cache_path.is_file() else None, where,
    )


@dataclass
class Report:
    feeds: int = 0
    feeds_new: int = 0
    categories_added: set[str] = field(default_factory=set)  # casefolded names new on some feed
    posts: int = 0  # newsboat's cached posts of the imported feeds
    posts_new: int = 0  # stored now
    read: int = 0  # read in newsboat
    starred: int = 0
    deleted: int = 0
    marked_read: int = 0  # marks that changed here
    marked_starred: int = 0
    hidden: int = 0
    flag_tags: dict[str, int] = field(default_factory=dict)  # tag → posts tagged now
    unsure_keys: int = 0
    searches_saved: list[str] = field(default_factory=list)
    searches_present: int = 0
    rules_added: list[str] = field(default_factory=list)
    rules_present: int = 0
    config_backup: Path | None = None
    new_ids: list[int] = field(default_factory=list)  # posts stored now: the rules act on them
    rules_applied: str = ""  # what the rules did to them
    config_path: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.feeds_new or self.categories_added or self.posts_new or self.marked_read or self.marked_starred
            or self.hidden or any(self.flag_tags.values()) or self.searches_saved or self.rules_added
        )


def import_newsboat(
    store: Store, sources: Sources, *, config_path: Path | None = None, progress: Callable[[str], None] | None = None,
    fetch_options: FetchOptions | None = None,
) -> Report:
    """Import everything; raises NewsboatImportError only when a file can't be read at all.

    With `fetch_options`, feeds holding posts whose reader key newsboat can't tell are fetched
    once to read it (align.py); without, those keys are a best guess, reported.
    """
    report = Report()
    urls = parse_urls(_read(sources.urls))
    report.problems += [f"urls {p}" for p in urls.problems]
    conf = parse_config(_read(sources.config)) if sources.config else ConfigFile()
    report.problems += conf.problems
    cache: NewsboatCache | None = None
    if sources.cache is not None:
        try:
            cache = NewsboatCache(sources.cache)
        except CacheError as exc:
            raise NewsboatImportError(str(exc)) from None
    else:
        report.problems.append("no cache.db: feeds imported without their posts or read state")
    try:
        _import_feeds(store, urls, cache, report, progress, fetch_options)
    except CacheReadError as exc:
        # What was stored so far stays (every step is its own transaction) and a rerun carries on from it.
        raise NewsboatImportError(
            f"{sources.cache}: {clean_line(str(exc.__cause__ or exc), 200)} (is newsboat running? quit it and "
            "run the import again: what was imported so far is kept)"
        ) from None
    finally:
        if cache is not None:
            cache.close()
    counter = _feed_counter(store.list_feeds())
    _import_searches(store, urls, counter, report)
    config_path = config_path or config_dir() / CONFIG_NAME
    _import_rules(conf, counter, config_path, report)
    # The imported posts are new here: the rules act on them as on a refresh's, newsboat's kill rules
    # (just appended) included, so what newsboat's ignore-article kept out of sight stays out of it.
    rules = load_settings(config_path).rules
    if rules and report.new_ids:
        report.rules_applied = apply_rules(store, rules, report.new_ids).line()
    return report


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NewsboatImportError(f"cannot read {path}: {exc.strerror or exc}") from None


# --- feeds and posts -------------------------------------------------------------------------


def _import_feeds(
    store: Store, urls: UrlsFile, cache: NewsboatCache | None, report: Report,
    progress: Callable[[str], None] | None, fetch_options: FetchOptions | None,
) -> None:
    before = {f.url: f for f in store.list_feeds()}
    titles = cache.feed_titles() if cache else {}
    cached = cache.feed_urls_with_items() if cache else {}
    live: dict[str, list[ParsedEntry] | str] = {}
    if cache is not None and fetch_options is not None:
        unsure = [
            f.url for f in urls.feeds
            if f.url in cached and any(not reader_key(i, f.url).sure for i in cache.items(f.url))
        ]
        if unsure and progress:
            progress(f"fetching {len(unsure)} feeds to match posts that have no guid")
        live = current_entries(unsure, fetch_options)
        for url, got in live.items():
            if isinstance(got, str):
                report.problems.append(f"{shown(url)}: could not be fetched to match posts without a guid ({got})")
    for entry in urls.feeds:
        report.feeds += 1
        old = before.get(entry.url)
        title = entry.title or titles.get(entry.url, ("", ""))[0]
        try:
            feed = store.add_feed(entry.url, title if old is None else "", entry.tags)
        except StoreError as exc:
            report.problems.append(f"urls line {entry.line}: {exc}")
            continue
        if old is None:
            report.feeds_new += 1
        if entry.title and old is None:
            # "~Name": the user's title, which refreshes keep; a feed already here keeps the title it has
            # (a rename since the first import is the user's too).
            store.set_feed_title(entry.url, entry.title)
        known = {c.casefold() for c in (old.categories if old else [])}
        report.categories_added.update(c.casefold() for c in feed.categories if c.casefold() not in known)
        if entry.hidden:
            report.problems.append(
                f"urls line {entry.line}: {shown(entry.url)} is hidden in newsboat (\"!\"): "
                "reader lists it like any feed"
            )
        if cache is not None and entry.url in cached:
            if progress:
                progress(f"posts of {shown(feed.display_title, 80)}")
            got = live.get(entry.url)
            _import_posts(store, feed, cache, report, got if isinstance(got, list) else None)
    listed = {f.url for f in urls.feeds}
    orphans = {url: n for url, n in cached.items() if url not in listed}
    if orphans:
        report.problems.append(
            f"cache.db: {sum(orphans.values())} posts of {len(orphans)} feeds no longer in urls: not imported"
        )


def _stored_keys(store: Store, feed_id: int) -> dict[str, int]:
    """{key: id} of the feed's stored posts (a read; every write goes through the store's methods)."""
    return dict(store.db.execute("SELECT key, id FROM entries WHERE feed_id = ?", (feed_id,)).fetchall())


def _import_posts(
    store: Store, feed: Feed, cache: NewsboatCache, report: Report, entries: list[ParsedEntry] | None,
) -> None:
    """Store the feed's cached posts reader lacks, then add newsboat's marks to all of them.

    Streamed: posts are written WRITE_BATCH at a time and only their marks are kept (a few bytes
    a post), so a feed with years of history costs memory for one batch, not for its history.
    """
    stored = _stored_keys(store, feed.id)
    live = LiveFeed(entries) if entries is not None else None
    marks: dict[str, tuple[bool, bool, str]] = {}  # key → (unread, deleted, flags)
    unsure = written = 0
    batch: list[ParsedEntry] = []

    def flush() -> None:
        nonlocal written
        # Posts only: the import is not a fetch, so the feed's fetch state (validators, when it was
        # last updated, its schedule) is left as it was, and the next refresh asks the server as it would have.
        count, _ = store.import_entries(feed.url, batch, report.new_ids)
        report.posts_new += count
        written += len(batch)
        batch.clear()

    for item in cache.items(feed.url):
        key = reader_key(item, feed.url)
        name = key.key
        if name not in stored:
            name = next((k for k in key.others if k in stored), name)
        if not key.sure and name not in stored and live is not None:
            # The feed as reader parses it now says; a post no longer in it can't come back twice.
            name = live.match_key(item, key) or name
            key = Key(name)
        if not name:
            report.problems.append(f"cache.db: a post of {shown(feed.url)} with no guid, link or title: not imported")
            continue
        if name in marks:
            continue  # newsboat keeps one row per guid; two guids that are one key for reader are one post
        marks[name] = (item.unread, item.deleted, item.flags[:52])
        if name not in stored:
            unsure += not key.sure
            batch.append(_parsed_entry(name, item, feed.url))
            if len(batch) >= WRITE_BATCH:
                flush()
    if batch:
        flush()
    if written:
        stored = _stored_keys(store, feed.id)
    report.unsure_keys += unsure
    if unsure:
        report.problems.append(
            f"cache.db: {unsure} posts of {shown(feed.url)} have no guid (or a relative one) and the feed "
            "was not read: their key is a best guess, so a refresh may list them again"
        )
    read: list[int] = []
    starred: list[int] = []
    deleted: list[int] = []
    flagged: dict[str, list[int]] = {}
    for key, (unread, gone, flags) in marks.items():
        entry_id = stored.get(key)
        if entry_id is None:
            continue
        report.posts += 1
        if not unread or gone:
            read.append(entry_id)
        if gone:
            deleted.append(entry_id)
        for letter in dict.fromkeys(flags):
            if letter == "s":
                starred.append(entry_id)
            elif letter.isascii() and letter.isalpha():
                flagged.setdefault(letter, []).append(entry_id)
    report.read += len(read)
    report.starred += len(starred)
    report.deleted += len(deleted)
    # Marks are only added: an import never unreads or unstars what the user did here.
    report.marked_read += store.set_flag(read, "read", True) if read else 0
    report.marked_starred += store.set_flag(starred, "starred", True) if starred else 0
    report.hidden += store.set_hidden(deleted, True) if deleted else 0
    for letter, ids in sorted(flagged.items()):
        tag = flag_tag(letter)
        report.flag_tags[tag] = report.flag_tags.get(tag, 0) + store.tag_entries(ids, add=[tag])


def _parsed_entry(key: str, item: CachedItem, feed_url: str) -> ParsedEntry:
    """A cached post as reader's parser would have given it (the same cleaning, at the same boundary)."""
    link = safe_url(item.url)
    return ParsedEntry(
        key=key,
        title=reader_title(item.title),
        link=link,
        author=clean_line(strip_tags(item.author), 300),
        published=float(item.pub_date) if item.pub_date > 0 else None,
        categories=[],  # newsboat doesn't keep a post's categories; the next refresh fills them in
        content=clean_text(item.content),
        base_url=safe_url(item.base) or link or safe_url(feed_url),
        enclosures=clean_enclosures([(item.enclosure_url, item.enclosure_type, "", "")], "", feed_url),
    )


# --- saved searches and rules ----------------------------------------------------------------


def _feed_counter(feeds: list[Feed]) -> Callable[[str], int]:
    """How many feeds `feed:VALUE` matches (title or URL containing it, case-insensitively), as query.py's LIKE does."""
    names = [(f.url.casefold(), f.title.casefold()) for f in feeds]

    def count(value: str) -> int:
        folded = value.casefold()
        return sum(folded in url or folded in title for url, title in names)

    return count


def _translated(expr: str, counter: Callable[[str], int], where: str, report: Report) -> Translation:
    """A newsboat expression as a reader query, each inexact condition (or its refusal) reported at `where`."""
    result = translate(expr, counter)
    report.problems += [f"{where}: {note}" for note in result.notes]
    if result.query is None:
        report.problems.append(f"{where}: not imported")
    return result


def _import_searches(store: Store, urls: UrlsFile, counter: Callable[[str], int], report: Report) -> None:
    for query in urls.queries:
        where = f"urls line {query.line}: query feed {query.name!r}"
        result = _translated(query.expr, counter, where, report)
        if result.query is None:
            continue
        existing = store.get_search(query.name)
        if existing is not None:
            if existing.query == result.query:
                report.searches_present += 1
            else:
                report.problems.append(f"{where}: you already have a saved search of that name: kept yours")
            continue
        try:
            store.save_search(query.name, result.query)
        except StoreError as exc:
            report.problems.append(f"{where}: {exc}: not imported")
            continue
        report.searches_saved.append(f"{query.name}: {result.query}" + ("" if result.exact else " (approximate)"))


def _toml(value: str) -> str:
    # JSON's string escapes are TOML's, but for DEL, which TOML wants escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _import_rules(conf: ConfigFile, counter: Callable[[str], int], path: Path, report: Report) -> None:
    if not conf.ignores:
        return
    report.config_path = path
    before = load_settings(path)
    have = {(r.query, r.action_text) for r in before.rules}
    blocks: list[str] = []
    added: list[str] = []
    for rule in conf.ignores:
        where = f"config line {rule.line}: ignore-article"
        terms: list[str] = []
        safe = True
        if rule.feed != "*":
            if safe_url(rule.feed) != rule.feed or '"' in rule.feed:
                report.problems.append(f"{where}: {shown(rule.feed)!r} is not a feed URL: not imported")
                continue
            terms.append(f'feed:"{rule.feed}"')
            if counter(rule.feed) > 1:
                safe = False
                report.problems.append(
                    f"{where}: feed:{shown(rule.feed)} also matches other feeds whose URL or title contains it"
                )
        result = _translated(rule.expr, counter, where, report)
        if result.query is None:
            continue
        query = " ".join([*terms, result.query])
        action = "hide"
        if not (safe and result.safe):
            # It may match posts newsboat kept: they are tagged for review, never hidden on a guess.
            action = f"tag:{IGNORE_TAG}"
            report.problems.append(
                f"{where}: {query!r} may match more than newsboat's rule: imported with action = \"{action}\" "
                "(check it with `reader rules test`, then make it \"hide\")"
            )
        if (query, action) in have:
            report.rules_present += 1
            continue
        have.add((query, action))
        original = clean_line(f"ignore-article {rule.feed} {rule.expr}", 300)
        blocks.append(f"# newsboat config line {rule.line}: {original}\n[[rules]]\nquery = {_toml(query)}\n"
                      f"action = {_toml(action)}\n")
        added.append(f"{query} → {action}")
    if not blocks:
        return
    if before.error and ("not valid TOML" in before.error or "not UTF-8" in before.error):
        report.problems.append(f"{path} can't be read ({before.error}): rules not added; add them by hand:\n"
                               + "\n".join(blocks))
        return
    _append_rules(path, before, blocks, added, report)


def _append_rules(path: Path, before: Settings, blocks: list[str], added: list[str], report: Report) -> None:
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    stamp = time.strftime("%Y-%m-%d %H:%M")
    text = (old or "")
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"\n# Imported from newsboat by `reader import-newsboat` on {stamp}.\n" + "\n".join(blocks)
    backup = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if old is not None:
            backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            shutil.copy2(path, backup)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        report.problems.append(f"cannot write {path}: {exc.strerror or exc}: rules not added")
        return
    after = load_settings(path)
    if len(after.rules) != len(before.rules) + len(blocks) or (after.error or "") != (before.error or ""):
        # The file reads differently than planned: put it back as it was, and say so.
        if backup is not None:
            shutil.copy2(backup, path)
            backup.unlink(missing_ok=True)  # the file is as it was: no backup of it is needed
        else:
            path.unlink(missing_ok=True)
        report.problems.append(
            f"{path}: the rules did not read back cleanly ({after.error or 'its rules are written another way'}): "
            "file left as it was; add them by hand:\n" + "\n".join(blocks)
        )
        return
    report.config_backup = backup
    report.rules_added = added

