"""The query language, shared by the CLI and the TUI.

    meetup "post mortem" category:"Hong Kong" feed:cloudflare author:tom
    is:unread is:starred since:7d before:2024-01-31 -category:Sports
    has:enclosure type:audio type:video/mp4 tag:later is:hidden

Terms are ANDed; a leading `-` negates one. `parse_query` gives a Query whose
`to_sql()` is a WHERE clause over `entries e` with bound parameters: feed text is
never pasted into SQL. Hidden posts (a rule's `hide`) are left out unless a term
asks about them (`is:hidden`, `-is:hidden`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from .sanitize import clean_line
from .storage.labels import VISIBLE_SQL

FIELDS = ("category", "feed", "author", "tag", "is", "has", "type", "since", "before")
IS_VALUES = ("unread", "read", "starred", "unstarred", "hidden")
HAS_VALUES = ("enclosure",)
# Terms in one query: SQLite refuses an expression deeper than 1,000, and no person types 100.
MAX_TERMS = 100
_RELATIVE = re.compile(r"^(\d{1,6})([hdwmy])$")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}


class QueryError(ValueError):
    """A malformed query, with a message that says what to fix."""


@dataclass(frozen=True)
class Term:
    field: str | None  # None: full text
    value: str
    negated: bool = False
    phrase: bool = False


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def asks_hidden(self) -> bool:
        """Whether a term is about hidden posts: then they are not left out by default."""
        return any(t.field == "is" and t.value == "hidden" for t in self.terms)

    def to_sql(self, now: float | None = None) -> tuple[str, list[object]]:
        """A WHERE clause over `entries e`, never empty: an empty query still leaves hidden posts out."""
        now = time.time() if now is None else now
        clauses: list[str] = [] if self.asks_hidden else [VISIBLE_SQL]
        params: list[object] = []
        for term in self.terms:
            clause, values = _clause(term, now)
            clauses.append(f"NOT ({clause})" if term.negated else clause)
            params.extend(values)
        return " AND ".join(clauses), params


def _fts(term: Term) -> str:
    quoted = '"' + term.value.replace('"', '""') + '"'
    # A bare word matches as a prefix, so the list narrows while the user is still typing.
    return quoted if term.phrase else quoted + "*"


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _like_prefix(value: str) -> str:
    return _like(value)[1:]  # "value%": starts with it


def _clause(term: Term, now: float) -> tuple[str, list[object]]:
    value = term.value
    if term.field is None:
        # Each word may be in the post (title, author, text) or in its full article: a post
        # matches "a b" with a in its teaser and b only in the article. Both indexes are FTS5.
        return _TEXT_CLAUSE, [_fts(term), _fts(term)]
    if term.field == "category":
        return (
            "(e.id IN (SELECT ec.entry_id FROM entry_categories ec JOIN categories c ON c.id = ec.category_id "
            "WHERE c.name = ?) OR e.feed_id IN (SELECT fc.feed_id FROM feed_categories fc "
            "JOIN categories c ON c.id = fc.category_id WHERE c.name = ?))",
            [value, value],
        )
    if term.field == "feed":
        return (
            "e.feed_id IN (SELECT id FROM feeds WHERE title LIKE ? ESCAPE '\\' OR url LIKE ? ESCAPE '\\')",
            [_like(value), _like(value)],
        )
    if term.field == "author":
        return "e.author LIKE ? ESCAPE '\\'", [_like(value)]
    if term.field == "tag":
        # Matched on the folded name: any case, in any script (COLLATE NOCASE folds ASCII only).
        return (
            "e.id IN (SELECT et.entry_id FROM entry_tags et JOIN tags t ON t.id = et.tag_id WHERE t.folded = ?)",
            [value.casefold()],
        )
    if term.field == "is":
        return {
            "unread": ("e.read = 0", []),
            "read": ("e.read = 1", []),
            "starred": ("e.starred = 1", []),
            "unstarred": ("e.starred = 0", []),
            "hidden": ("e.hidden = 1", []),
        }[value]
    if term.field == "has":
        return "e.id IN (SELECT entry_id FROM enclosures)", []
    if term.field == "type":
        # `audio` means any audio/…; `audio/mpeg` means that type. Types are stored lowercased.
        kind = value.lower()
        if "/" in kind:
            return "e.id IN (SELECT entry_id FROM enclosures WHERE type = ?)", [kind]
        return "e.id IN (SELECT entry_id FROM enclosures WHERE type LIKE ? ESCAPE '\\')", [_like_prefix(kind + "/")]
    if term.field == "since":
        return "e.published >= ?", [_when(value, now)]
    if term.field == "before":
        return "e.published < ?", [_when(value, now)]
    raise QueryError(f"unknown filter {term.field}:")  # parse_query never lets this through


_TEXT_CLAUSE = (
    "e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? "
    "UNION ALL SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
)


def _when(value: str, now: float) -> float:
    match = _RELATIVE.match(value)
    if match:
        return now - int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return _timestamp(parsed)
    raise QueryError(f"bad date {value!r}: use 7d, 24h, 2w, 3m, 1y or a date like 2024-01-31")


_EPOCH = datetime(1970, 1, 1)


def _timestamp(parsed: datetime) -> float:
    """Epoch seconds of a date the user typed, for any year strptime accepts (1 to 9999).

    A bare date means local midnight: what a person typing it means. Near year 1 or
    9999 the local offset can't be computed (datetime.timestamp raises "year 0 is out
    of range"); there, hours don't matter, so the date is read as UTC: a usable bound,
    never an exception.
    """
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return (parsed.replace(tzinfo=None) - _EPOCH).total_seconds()


_TOKEN = re.compile(
    r"""
    \s*
    (?P<neg>-)?
    (?:(?P<field>[A-Za-z]+):)?
    (?: "(?P<quoted>[^"]*)(?P<closed>")? | (?P<bare>[^\s"]+) )?
    """,
    re.VERBOSE,
)


def parse_query(text: str) -> Query:
    """Parse a query string. Raises QueryError with a helpful message when malformed."""
    terms: list[Term] = []
    pos = 0
    text = clean_line(text, 2000)  # control characters mean nothing in a query and upset FTS5
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"cannot read the query at {text[pos:pos + 20]!r}")
        pos = match.end()
        neg, name, quoted, bare = match["neg"], match["field"], match["quoted"], match["bare"]
        if quoted is None and bare is None and neg is None and name is None:
            continue  # trailing whitespace
        if quoted is not None and match["closed"] is None:
            raise QueryError('unterminated quote: add the closing "')
        value = quoted if quoted is not None else (bare or "")
        if name is not None:
            field_name = name.lower()
            if field_name not in FIELDS:
                raise QueryError(
                    f"unknown filter {name}: (try {', '.join(f + ':' for f in FIELDS)}; "
                    f'quote it to search for the text: "{name}:{value}")'
                )
            value = value.strip()
            if not value:
                raise QueryError(f"{field_name}: needs a value, e.g. {_EXAMPLES[field_name]}")
            if field_name == "is":
                value = value.lower()
                if value not in IS_VALUES:
                    raise QueryError(f"is:{value} is not known: use {', '.join('is:' + v for v in IS_VALUES)}")
            if field_name == "has":
                value = value.lower()
                if value not in HAS_VALUES:
                    raise QueryError(f"has:{value} is not known: use {', '.join('has:' + v for v in HAS_VALUES)}")
            if field_name in ("since", "before"):
                _when(value, time.time())  # validate now, so the error shows while typing
            terms.append(Term(field_name, value, negated=bool(neg)))
            continue
        if not value.strip():
            if neg:
                raise QueryError("a lone - must be followed by a term to exclude, e.g. -category:Sports")
            if quoted is not None:
                raise QueryError('empty quotes "" match nothing: put a phrase inside')
            continue
        if not re.search(r"\w", value):
            raise QueryError(f"{value!r} has no letters or digits to search for")
        terms.append(Term(None, value, negated=bool(neg), phrase=quoted is not None))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"{len(terms)} terms is too many for one query (at most {MAX_TERMS})")
    return Query(terms, text)


_EXAMPLES = {
    "category": 'category:BGP or category:"Hong Kong"',
    "feed": "feed:lwn",
    "author": "author:tom",
    "tag": "tag:later",
    "is": "is:unread",
    "has": "has:enclosure",
    "type": "type:audio or type:video/mp4",
    "since": "since:7d",
    "before": "before:2024-01-31",
}
