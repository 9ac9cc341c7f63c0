"""newsboat's filter language, translated to reader's query language (reader/query.py).

    unread = "yes" and tags # "linux" and age < 7     →   is:unread category:linux since:7d

newsboat's expressions are conditions `ATTRIBUTE OP VALUE` joined by `and`/`or`, with
parentheses. reader's terms are all ANDed and have no regex, so not everything carries
over. Each condition is translated on its own and says how faithfully:

- "exact": the same posts (to the day, for `age`);
- "narrower": a subset of what newsboat matched (never more);
- "wider": may match posts newsboat did not (e.g. `feedtitle = "X"` → `feed:X`, a substring);
- "mixed": neither (a title regex read as a word search of the whole post);
- untranslatable: no term at all (`or`, regexes with metacharacters, `link`, `guid`, …).

A saved search takes every term it can and reports what it approximated or dropped. A
rule (it hides posts) must never match more than newsboat did: `Translation.safe` tells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..query import QueryError, parse_query
from ..sanitize import clean_line

MAX_EXPR = 4000  # characters in one expression; newsboat's are a line long
MAX_DEPTH = 50  # parentheses deep

OPS = ("=~", "!~", "!=", "!#", "<=", ">=", "=", "#", "<", ">", "between")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<range>-?\d+:-?\d+)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>=~|!~|!=|!\#|<=|>=|=|\#|<|>)
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_REGEX_META = re.compile(r"[.^$*+?()\[\]{}|\\]")


def flag_tag(letter: str) -> str:
    """The reader tag for a newsboat flag letter ("s" is starred instead). reader's tag names match
    case-insensitively and newsboat's flags don't: "A" and "a" must be two tags."""
    return f"newsboat-flag-{letter}" if letter.islower() else f"newsboat-flag-upper-{letter.lower()}"


class FilterError(ValueError):
    """An expression newsboat itself would reject (or one too big to read)."""


@dataclass(frozen=True)
class Cond:
    attr: str
    op: str
    value: str  # a string's text, a number's digits, or "a:b" for a range
    quoted: bool


@dataclass(frozen=True)
class Node:
    kind: str  # "and" | "or"
    children: tuple[Node | Cond, ...]


@dataclass
class Translation:
    query: str | None  # the reader query; None when nothing could be translated
    notes: list[str] = field(default_factory=list)  # one per condition that is not exact
    exact: bool = True  # every condition translated exactly
    # Every condition translated to the same posts or fewer: a rule with this query never hides a post newsboat kept.
    safe: bool = True


# --- parsing ---------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterError(f"cannot read the expression at {clean_line(text[pos:pos + 20], 40)!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse_filter(text: str) -> Node | Cond:
    """The expression as a tree. Raises FilterError when malformed."""
    if len(text) > MAX_EXPR:
        raise FilterError(f"longer than {MAX_EXPR} characters")
    tokens = _tokens(text)
    if not tokens:
        raise FilterError("empty expression")
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise FilterError("the expression ends too early")
        pos += 1
        return tokens[pos - 1]

    def expr(depth: int) -> Node | Cond:
        # `and` binds tighter than `or`, as in newsboat's grammar.
        parts = [conj(depth)]
        while (t := peek()) is not None and t == ("word", "or"):
            take()
            parts.append(conj(depth))
        return parts[0] if len(parts) == 1 else Node("or", tuple(parts))

    def conj(depth: int) -> Node | Cond:
        parts = [primary(depth)]
        while (t := peek()) is not None and t == ("word", "and"):
            take()
            parts.append(primary(depth))
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def primary(depth: int) -> Node | Cond:
        if depth > MAX_DEPTH:
            raise FilterError(f"parentheses more than {MAX_DEPTH} deep")
        kind, value = take()
        if (kind, value) == ("paren", "("):
            inner = expr(depth + 1)
            if take() != ("paren", ")"):
                raise FilterError("a ( without its )")
            return inner
        if kind != "word" or value in ("and", "or"):
            raise FilterError(f"expected an attribute, found {clean_line(value, 40)!r}")
        kind2, op = take()
        if not (kind2 == "op" or (kind2, op) == ("word", "between")):
            raise FilterError(f"expected an operator after {value}, found {clean_line(op, 40)!r}")
        kind3, raw = take()
        if kind3 == "str":
            return Cond(value, op, _unquote(raw), True)
        if kind3 in ("num", "range"):
            return Cond(value, op, raw, False)
        raise FilterError(f"expected a value after {value} {op}, found {clean_line(raw, 40)!r}")

    tree = expr(0)
    if pos != len(tokens):
        raise FilterError(f"unexpected {clean_line(tokens[pos][1], 40)!r}")
    return tree


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def show_cond(c: Cond) -> str:
    value = '"' + c.value.replace("\\", "\\\\").replace('"', '\\"') + '"' if c.quoted else c.value
    return clean_line(f"{c.attr} {c.op} {value}", 200)


def show_tree(node: Node | Cond) -> str:
    if isinstance(node, Cond):
        return show_cond(node)
    return f" {node.kind} ".join(
        f"({show_tree(c)})" if isinstance(c, Node) else show_tree(c) for c in node.children
    )


# --- translating one condition ---------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str | None  # reader query text, or None when untranslatable
    fidelity: str  # exact | narrower | wider | mixed | none
    why: str = ""


# FeedCounter: how many subscribed feeds a `feed:VALUE` term would match (title or URL containing it).
FeedCounter = Callable[[str], int]

_TEXT_ATTRS = {"title": "title", "content": "text", "description": "text", "author": "author"}
_FEED_ATTRS = ("feedtitle", "rssurl", "feedlink")
_NEGATED = {"!=": "=", "!~": "=~", "!#": "#"}
_FLIP = {"exact": "exact", "narrower": "wider", "wider": "narrower", "mixed": "mixed", "none": "none"}


def _q(value: str) -> str | None:
    """A value as one term of reader's language: quoted when it holds spaces; None when it can't be (a `"`)."""
    if '"' in value or not value.strip() or not value.isprintable():
        return None
    value = value.strip()
    return f'"{value}"' if any(c.isspace() for c in value) or ":" in value else value


def translate_cond(c: Cond, feeds: FeedCounter | None = None) -> Term:
    if c.op in _NEGATED:
        term = translate_cond(Cond(c.attr, _NEGATED[c.op], c.value, c.quoted), feeds)
        if term.text is None:
            return term
        if len(parse_query(term.text).terms) > 1:
            # `age != 7` would be "before:7d OR since:8d"; reader negates one term at a time.
            return Term(None, "none", "its negation needs OR, which reader's queries don't have")
        # A negated approximation errs the other way: `-feed:X` leaves out more than `rssurl != "X"`.
        text = term.text[1:] if term.text.startswith("-") else "-" + term.text
        return Term(text, _FLIP[term.fidelity], term.why)
    attr, op, value = c.attr, c.op, c.value
    if attr == "unread" and op == "=" and value in ("yes", "no"):
        return Term("is:unread" if value == "yes" else "is:read", "exact")
    if attr == "flags":
        return _flags(op, value)
    if attr == "age":
        return _age(op, value)
    if attr == "tags" and op == "#":
        name = _q(value)
        if name is None:
            return Term(None, "none", "a tag reader can't write in a query")
        return Term(f"category:{name}", "wider", "category: also matches the posts' own categories")
    if attr in _FEED_ATTRS and op in ("=", "=~", "#"):
        return _feed(attr, op, value, feeds)
    if attr in _TEXT_ATTRS and op in ("=", "=~", "#"):
        return _text(attr, op, value)
    if attr == "enclosure_type" and op in ("=", "=~"):
        return _enclosure_type(op, value)
    if attr == "enclosure_url" and op == "=" and value == "":
        return Term("-has:enclosure", "exact")
    return Term(None, "none", "no equivalent in reader's query language")


def _flags(op: str, value: str) -> Term:
    if op == "#" and len(value) == 1 and value.isascii() and value.isalpha():
        if value == "s":
            return Term("is:starred", "exact")
        return Term(f"tag:{flag_tag(value)}", "exact")
    if op == "=" and value == "":
        return Term("is:unstarred", "wider", "is:unstarred also matches posts with other flags (tags)")
    if op == "=" and value == "s":
        return Term("is:starred", "wider", "is:starred also matches starred posts with other flags")
    return Term(None, "none", "only flags # \"X\" (one letter) has an equivalent")


def _age(op: str, value: str) -> Term:
    """`age` is whole days since the post's date: `age > 7` is 8 days or more."""
    if op == "between":
        low, _, high = value.partition(":")
        if not (low.isdigit() and high.isdigit()):
            return Term(None, "none", "age between needs whole days, like 1:7")
        a, b = sorted((int(low), int(high)))
        return Term(f"before:{a}d since:{b + 1}d" if a else f"since:{b + 1}d", "exact")
    if not value.isdigit() or int(value) > 99999:
        return Term(None, "none", "age needs a whole number of days")
    n = int(value)
    term = {
        ">": f"before:{n + 1}d", ">=": f"before:{n}d" if n else None,
        "<": f"since:{n}d" if n else None, "<=": f"since:{n + 1}d",
        "=": f"before:{n}d since:{n + 1}d" if n else f"since:{n + 1}d",
    }.get(op)
    if op in (">=", "<") and n == 0:
        return Term(None, "none", f"age {op} 0 is always or never true")
    if term is None:
        return Term(None, "none", f"age {op} has no equivalent")
    return Term(term, "exact")


def _literal(op: str, value: str) -> str | None:
    """The text a condition asks for, when it is plain text (not a regex with metacharacters)."""
    if op == "=~" and _REGEX_META.search(value):
        return None
    return value


def _feed(attr: str, op: str, value: str, feeds: FeedCounter | None) -> Term:
    text = _literal(op, value)
    name = _q(text) if text is not None else None
    if name is None:
        return Term(None, "none", "a regular expression (reader has none)" if text is None else "not writable")
    if attr == "rssurl" and op == "=" and feeds is not None and feeds(value) == 1:
        # Exactly one subscribed feed's URL or title holds it: `feed:` names that feed alone.
        return Term(f"feed:{name}", "exact")
    return Term(f"feed:{name}", "wider", "feed: matches every feed whose title or URL contains the text")


def _text(attr: str, op: str, value: str) -> Term:
    text = _literal(op, value)
    if text is None:
        return Term(None, "none", "a regular expression (reader has none)")
    if attr == "author":
        name = _q(text)
        if name is None:
            return Term(None, "none", "not writable as a term")
        return Term(f"author:{name}", "wider", "author: matches authors containing the text, in any case")
    words = text.strip()
    if not words or '"' in words or not re.search(r"\w", words) or not words.isprintable():
        return Term(None, "none", "no words to search for")
    term = f'"{words}"' if " " in words else words
    where = "the title" if attr == "title" else "the post's text"
    return Term(term, "mixed", f"a word search of the whole post, not {where} alone, by whole words")


def _enclosure_type(op: str, value: str) -> Term:
    kind = value.strip().lower()
    if op == "=" and re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", kind):
        return Term(f"type:{kind}", "exact")
    match = re.fullmatch(r"\^?([a-z]+)/?", kind)
    if op == "=~" and match:
        exact = kind.startswith("^") and kind.endswith("/")
        why = "" if exact else f"type:{match.group(1)} matches types starting {match.group(1)}/ only"
        return Term(f"type:{match.group(1)}", "exact" if exact else "narrower", why)
    return Term(None, "none", "no equivalent for this enclosure type test")


# --- translating an expression ---------------------------------------------------------------


def translate(text: str, feeds: FeedCounter | None = None) -> Translation:
    """Translate a whole expression. Never raises: a malformed one is a Translation with no query."""
    try:
        tree = parse_filter(text)
    except FilterError as exc:
        return Translation(None, [f"not a valid newsboat expression: {exc}"], exact=False, safe=False)
    conds: list[Cond] = []
    stack: list[Node | Cond] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Cond):
            conds.append(node)
        elif node.kind == "and":
            stack.extend(reversed(node.children))
        else:
            return Translation(
                None, [f"{show_tree(node)}: reader's queries have no OR (save one search per alternative)"],
                exact=False, safe=False,
            )
    result = Translation(None)
    terms: list[str] = []
    for cond in conds:
        term = translate_cond(cond, feeds)
        if term.text is None:
            result.notes.append(f"{show_cond(cond)}: {term.why}: left out")
            result.exact = result.safe = False  # dropping a condition matches more
            continue
        if term.fidelity != "exact":
            result.exact = False
            result.notes.append(f"{show_cond(cond)} → {term.text}: {term.fidelity} ({term.why})")
            if term.fidelity != "narrower":
                result.safe = False
        terms.append(term.text)
    if terms:
        query = " ".join(terms)
        try:
            parse_query(query)
        except QueryError as exc:  # a value reader reads otherwise (a bad date, say)
            result.notes.append(f"{clean_line(query, 200)}: {exc}: left out")
            return Translation(None, result.notes, exact=False, safe=False)
        result.query = query
    return result
