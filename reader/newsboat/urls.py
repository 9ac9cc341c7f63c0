"""newsboat's `urls` file: one feed a line, its tags after it.

    https://lwn.net/headlines/rss linux "~LWN" "long reads"
    "query:Unread:unread = \\"yes\\""
    https://example.com/only-in-queries.xml "!" hidden-tag

Tags become reader categories; `"~Name"` is the feed's title; `"!"` hides the feed from
newsboat's list (reader has no hidden feeds: it is listed, and reported). `query:NAME:EXPR`
lines are saved searches (filters.py translates EXPR). `exec:`, `filter:` and every other
scheme but http(s) are reported and left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sanitize import clean_line, safe_url
from .tokens import MAX_LINE, TokenError, read_lines, tokenize

MAX_TAGS = 100  # categories kept per feed, as OPML import keeps
TAG_MAX = 200  # characters in one category's name


@dataclass
class UrlsFeed:
    url: str
    line: int
    title: str = ""
    tags: list[str] = field(default_factory=list)
    hidden: bool = False


@dataclass
class UrlsQuery:
    name: str
    expr: str
    line: int


@dataclass
class UrlsFile:
    feeds: list[UrlsFeed] = field(default_factory=list)
    queries: list[UrlsQuery] = field(default_factory=list)
    # One cleaned line for each thing left out: "line 7: exec:… is a command's output, not a feed: not imported".
    problems: list[str] = field(default_factory=list)


def shown(text: str, limit: int = 120) -> str:
    """A value from the file, fit for a one-line message."""
    return clean_line(text, limit)


def parse_urls(data: bytes) -> UrlsFile:
    """Read a urls file. Never raises on content: every line it can't use is in `problems`."""
    result = UrlsFile()
    by_url: dict[str, UrlsFeed] = {}
    for number, line in enumerate(read_lines(data), start=1):
        if len(line) > MAX_LINE:
            result.problems.append(f"line {number}: longer than {MAX_LINE} characters: not read")
            continue
        try:
            words = tokenize(line)
        except TokenError as exc:
            result.problems.append(f"line {number}: {exc}: {shown(line)!r} not read")
            continue
        if not words:
            continue  # a blank line or a comment
        url, rest = words[0].strip(), words[1:]
        if url.startswith("query:"):
            _query(result, url, number)
            continue
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in ("http", "https"):
            result.problems.append(f"line {number}: {_special(scheme, url)}: not imported")
            continue
        if safe_url(url) != url:
            result.problems.append(f"line {number}: {shown(url)!r} is not a URL reader can fetch: not imported")
            continue
        feed = by_url.get(url)
        if feed is None:
            feed = by_url[url] = UrlsFeed(url, number)
            result.feeds.append(feed)
        else:
            result.problems.append(f"line {number}: {shown(url)} is listed again (line {feed.line}): tags merged")
        for word in rest:
            _tag(feed, word, number, result.problems)
    return result


def _tag(feed: UrlsFeed, word: str, number: int, problems: list[str]) -> None:
    if word == "!":
        feed.hidden = True
        return
    if word.startswith("~"):
        title = clean_line(word[1:], 1000)
        if title:
            feed.title = title
        return
    # Control characters and escape sequences go here, at the boundary; `[/]` and the like are
    # plain text to reader (shown only through rich Text), so they are kept as the user wrote them.
    name = clean_line(word, TAG_MAX)
    if not name:
        problems.append(f"line {number}: a tag with nothing printable in it: left out")
        return
    if name.casefold() in (t.casefold() for t in feed.tags):
        return
    if len(feed.tags) >= MAX_TAGS:
        problems.append(f"line {number}: more than {MAX_TAGS} tags: {shown(name, 60)!r} and after left out")
        return
    feed.tags.append(name)


def _query(result: UrlsFile, word: str, number: int) -> None:
    name, sep, expr = word[len("query:"):].partition(":")
    name = clean_line(name, 100)
    if not sep or not expr.strip():
        result.problems.append(f"line {number}: {shown(word)!r}: a query feed needs query:NAME:EXPRESSION")
        return
    if not name:
        result.problems.append(f"line {number}: a query feed with no name: not imported")
        return
    result.queries.append(UrlsQuery(name, expr.strip(), number))


def _special(scheme: str, url: str) -> str:
    if scheme == "exec":
        return f"{shown(url)!r} is a command's output (exec:), not a feed reader can fetch"
    if scheme == "filter":
        return f"{shown(url)!r} runs a filter script on a feed (filter:), which reader doesn't do"
    if scheme.startswith("http+") or scheme.endswith("+http") or scheme.endswith("+https"):
        return f"{shown(url)!r} is a special URL ({shown(scheme, 30)}:) newsboat handles itself"
    if not scheme:
        return f"{shown(url)!r} is not a URL"
    return f"{shown(url)!r} is not http(s) ({shown(scheme, 30)}:)"
