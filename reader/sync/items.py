"""What the Google Reader API's answers mean: item ids, and feeds and posts parsed from JSON.

Every field is tolerated missing or wrong-typed, and every string is cleaned here, where
it enters: titles, labels and links; post content stays HTML for the renderer, which
sanitises it.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from ..models import Enclosure
from ..sanitize import clean_line, clean_text, safe_url

READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
MAX_CONTENT = 2 * 1024 * 1024  # characters of one post's HTML
MAX_CATEGORIES = 100  # labels/tags kept per post or feed
# Enclosure entries looked at per post; reader.parse.clean_enclosures keeps at most 20 of them.
MAX_RAW_ENCLOSURES = 80
MAX_URL = 8192

_LONG_PREFIX = "tag:google.com,2005:reader/item/"
# A continuation goes back into a query: a short run of printable ASCII, no spaces.
_TOKEN = re.compile(r"[\x21-\x7e]{1,1024}")
_STATE = re.compile(r"user/[^/]*/state/")
_LABEL = re.compile(r"user/[^/]*/label/(.+)", re.S)
_READ = re.compile(r"user/[^/]*/state/com\.google/read")
_STARRED = re.compile(r"user/[^/]*/state/com\.google/starred")

@dataclass(slots=True)
class RemoteFeed:
    stream_id: str
    url: str
    title: str
    site_url: str | None
    categories: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RemoteItem:
    item_id: int
    stream_id: str
    title: str
    link: str | None
    author: str
    published: float | None
    content: str
    categories: list[str]
    read: bool
    starred: bool
    crawled: float | None
    enclosures: list[Enclosure] = field(default_factory=list)


# --- item ids ---------------------------------------------------------------------------------


def parse_item_id(text: str) -> int:
    """An item id, long form (`tag:google.com,2005:reader/item/<16 hex>`) or decimal, as one
    signed 64-bit integer (what SQLite stores): ids >= 2**63 wrap to negative.

    Raises ValueError for anything else.
    """
    if not isinstance(text, str) or not text or len(text) > 64:
        raise ValueError("not an item id")
    if text.startswith(_LONG_PREFIX):
        digits = text[len(_LONG_PREFIX):]
        if not (0 < len(digits) <= 16) or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("not an item id")
        value = int(digits, 16)
    elif text.isascii() and text.isdigit():
        value = int(text)
    else:
        raise ValueError("not an item id")
    if value >= 1 << 64:
        raise ValueError("item id out of range")
    return value - (1 << 64) if value >= 1 << 63 else value


def item_id_long(item_id: int) -> str:
    """The long form of an id, as the Google Reader API documents it (`…/item/00066151f9e21faa`)."""
    return f"{_LONG_PREFIX}{item_id & 0xFFFFFFFFFFFFFFFF:016x}"


def item_id_of(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not 0 <= value < 1 << 64:
            return None
        return value - (1 << 64) if value >= 1 << 63 else value
    if isinstance(value, str):
        try:
            return parse_item_id(value)
        except ValueError:
            return None
    return None


# --- parsing (every field tolerated missing or wrong-typed) ---------------------------------------










def stream_path(stream: str) -> str:
    # Stream ids go in the path, percent-encoded (a feed id may be a URL: `feed/http://…`).
    return quote(stream, safe="/-_.~")


def label_id(name: str) -> str:
    return name if name.startswith("user/") else f"user/-/label/{name}"


def valid_stream_id(value: str) -> bool:
    return 0 < len(value) <= 2048 and value.isprintable()


def continuation_token(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# FreshRSS sends `&`, `<`, `>` in titles as their fullwidth forms (its escapeToUnicodeAlternative), so
# that clients that show titles as HTML can't be fooled. Shown as text here, they are turned back (the
# fullwidth forms are all but unknown in real titles; its other replacements, such as the fullwidth
# comma, are ordinary CJK punctuation and stay).
_FULLWIDTH = str.maketrans({"\uff06": "&", "\uff1c": "<", "\uff1e": ">"})


def _title(value: object, limit: int = 1000) -> str:
    text = _text(value)
    if "&" in text:
        text = html.unescape(text)  # the API documents titles as HTML text (`&amp;`)
    return clean_line(text.translate(_FULLWIDTH), limit)


# Times outside year 1970..9999 are junk (and would overflow a datetime downstream).
_MAX_TIME = 253402300799.0


def _time(value: object, scale: float = 1.0) -> float | None:
    number = _number(value)
    if number is None:
        return None
    number /= scale
    return number if 0 < number <= _MAX_TIME else None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 40 else None
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _label_name(category: str) -> str | None:
    """`user/-/label/Tech` -> "Tech"; states -> None; a plain tag stays as it is."""
    if _STATE.match(category):
        return None
    match = _LABEL.fullmatch(category)
    name = clean_line(match.group(1) if match else category, 200)
    return name or None


MAX_TAGS = 500  # user labels taken from tag/list: one id-list call each per sync


def parse_tag_list(raw: object) -> list[tuple[str, str | None]]:
    """tag/list's labels as (name, kind): kind "tag" (a label on posts), "folder", or None when the
    server doesn't say (FreshRSS does; others may not). States and malformed entries are left out."""
    tags = raw.get("tags") if isinstance(raw, dict) else None
    if not isinstance(tags, list):
        return []
    found: list[tuple[str, str | None]] = []
    for entry in tags[: MAX_TAGS * 4]:
        tag_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(tag_id, str) or not _LABEL.fullmatch(tag_id):
            continue
        name = _label_name(tag_id)
        kind = entry.get("type")
        if name and len(found) < MAX_TAGS:
            found.append((name, kind if kind in ("tag", "folder") else None))
    return found


def parse_item(raw: object) -> RemoteItem | None:
    if not isinstance(raw, dict):
        return None
    item_id = item_id_of(raw.get("id"))
    origin = raw.get("origin")
    stream_id = origin.get("streamId") if isinstance(origin, dict) else None
    if item_id is None or not isinstance(stream_id, str) or not valid_stream_id(stream_id):
        return None
    link = None
    for key in ("canonical", "alternate"):
        refs = raw.get(key)
        if isinstance(refs, list) and refs and isinstance(refs[0], dict):
            link = safe_url(_text(refs[0].get("href"))[:8192])
            if link:
                break
    content = ""
    for key in ("summary", "content"):
        body = raw.get(key)
        if isinstance(body, dict) and isinstance(body.get("content"), str) and body["content"]:
            content = clean_text(body["content"][:MAX_CONTENT])
            break
    read = starred = False
    categories: list[str] = []
    raw_categories = raw.get("categories")
    if isinstance(raw_categories, list):
        for category in raw_categories[: MAX_CATEGORIES * 4]:
            if not isinstance(category, str):
                continue
            if _READ.fullmatch(category):
                read = True
            elif _STARRED.fullmatch(category):
                starred = True
            elif len(categories) < MAX_CATEGORIES:
                name = _label_name(category)
                if name and name not in categories:
                    categories.append(name)
    crawled = _time(raw.get("crawlTimeMsec"), 1000)
    if crawled is None:
        crawled = _time(raw.get("timestampUsec"), 1_000_000)
    author = raw.get("author")
    return RemoteItem(
        item_id=item_id,
        stream_id=stream_id,
        title=_title(raw.get("title")),
        link=link,
        author=_title(author, 300),
        published=_time(raw.get("published")),
        content=content,
        categories=categories,
        read=read,
        starred=starred,
        crawled=crawled,
        enclosures=_enclosures(raw),
    )


def _enclosures(raw: dict[str, object]) -> list[Enclosure]:
    """A post's files: FreshRSS (and Inoreader) send `enclosure: [{href, type, length}]`; some servers
    say `url` for `href`, name the array `enclosures`, or list them in `alternate` with
    `rel: "enclosure"` (as Atom does). Cleaned by the same rules as a fetched feed's (http(s) only,
    once each, a plain MIME type, at most 20): reader.parse.clean_enclosures.
    """
    found: list[tuple[str, str, str, str]] = []
    for key in ("enclosure", "enclosures", "alternate"):
        refs = raw.get(key)
        if isinstance(refs, dict):
            refs = [refs]
        if not isinstance(refs, list):
            continue
        for ref in refs[:MAX_RAW_ENCLOSURES]:
            if not isinstance(ref, dict) or (key == "alternate" and ref.get("rel") != "enclosure"):
                continue
            url = ref.get("href") if isinstance(ref.get("href"), str) else ref.get("url")
            if isinstance(url, str) and url:
                found.append((url[:MAX_URL], _text(ref.get("type"))[:200], _whole_text(ref.get("length")),
                              _whole_text(ref.get("duration"))))
    if not found:
        return []
    from ..parse import clean_enclosures  # here: the parser's import costs ~50 ms a sync without files doesn't pay

    return clean_enclosures(found)


def _whole_text(value: object) -> str:
    """A number the server may send as JSON number or string, as the text clean_enclosures reads."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value[:40] if isinstance(value, str) else ""


def parse_feed(raw: object) -> RemoteFeed | None:
    if not isinstance(raw, dict):
        return None
    stream_id = raw.get("id")
    url = safe_url(_text(raw.get("url"))[:8192])
    if not isinstance(stream_id, str) or not valid_stream_id(stream_id) or url is None:
        return None
    categories: list[str] = []
    raw_categories = raw.get("categories")
    if isinstance(raw_categories, list):
        for category in raw_categories[:MAX_CATEGORIES]:
            if not isinstance(category, dict):
                continue
            label = category.get("label")
            name = clean_line(label, 200) if isinstance(label, str) else None
            if not name and isinstance(category.get("id"), str):
                name = _label_name(category["id"])
            if name and name not in categories:
                categories.append(name)
    return RemoteFeed(
        stream_id=stream_id,
        url=url,
        title=_title(raw.get("title")),
        site_url=safe_url(_text(raw.get("htmlUrl"))[:8192]),
        categories=categories,
    )

