"""Telling apart feeds that share a title: the shortest part of each URL that no other of them has.

A site's posts feed and its comments feed often have one title and one host, so the host
alone (what the sidebar once added) named them all the same. Each feed of a clashing title
gets, in this order, the first qualifier that is unique among those feeds:

- its host, if no other of them is on that host ("example.com");
- else the host and the shortest leading part of its path that no other feed on that host
  starts with ("example.com/comments" beside "example.com/feed");
- else (the same host and path) the port and the query, where they differ;
- else (the same URL but for its scheme, credentials or fragment) a number.

Only the hostname, port, path and query are ever shown: never the credentials. Everything
is cleaned for the terminal, and each part is capped, so a hostile 100 KB path costs nothing
downstream. The work is linear in the URLs' lengths (a trie of path segments per host).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from rich.cells import cell_len

from reader.sanitize import clean_line, mask_credentials

K = TypeVar("K", bound=Hashable)

MAX_SEGMENTS = 32  # path segments looked at; the rest is one last segment
MAX_PART = 40  # characters of one path segment, query or bare URL shown


@dataclass(frozen=True)
class _Parts:
    host: str
    port: str
    segments: tuple[str, ...]
    query: str


def _cap(text: str) -> str:
    return text if len(text) <= MAX_PART else text[: MAX_PART - 1] + "…"


def _parts(url: str) -> _Parts:
    # Masked first, before any part is cut: a password cut in half would no longer be found.
    url = mask_credentials(url)
    try:
        split = urlsplit(url)
        host = split.hostname or ""
    except ValueError:  # "http://[::1" and the like, as an OPML import can bring
        split, host = None, ""
    if split is None or not host:
        # No host to speak of (a "reader:" URL, a malformed one): the URL, masked, is the name.
        return _Parts(_cap(clean_line(url)), "", (), "")
    # Read by hand: `split.port` raises on an invalid port (":99999"), which must still show.
    hostport = split.netloc.rpartition("@")[2].rpartition("]")[2]
    port = hostport.rpartition(":")[2] if ":" in hostport else ""
    segments = [s for s in split.path.split("/") if s]
    if len(segments) > MAX_SEGMENTS:
        segments[MAX_SEGMENTS - 1 :] = ["/".join(segments[MAX_SEGMENTS - 1 :])]
    return _Parts(clean_line(host), clean_line(port), tuple(segments), split.query)


def _path(segments: tuple[str, ...]) -> str:
    return "".join("/" + _cap(s) for s in segments)


def qualifiers(feeds: Iterable[tuple[K, str]]) -> dict[K, str]:
    """For feeds that share a title, given as (key, url): each one's qualifier (see the module)."""
    items = [(key, _parts(url)) for key, url in feeds]
    hosts = Counter(p.host for _key, p in items)
    found: dict[K, str] = {}
    by_host: dict[str, list[tuple[K, _Parts]]] = {}
    for key, p in items:
        if hosts[p.host] == 1:
            found[key] = p.host
        else:
            by_host.setdefault(p.host, []).append((key, p))
    for host, group in by_host.items():
        found.update(_by_path(host, group))
    # Cleaned before they are compared: two labels may differ only in what cleaning removes.
    found = {key: clean_line(label) for key, label in found.items()}
    # Whatever is still alike (one URL but for scheme, password or fragment) is numbered.
    totals = Counter(found.values())
    seen: Counter[str] = Counter()
    named: dict[K, str] = {}
    for key, _p in items:  # in the order given: the first subscribed is #1
        label = found[key]
        if totals[label] > 1:
            seen[label] += 1
            label = f"{label} #{seen[label]}"
        named[key] = label
    return named


def _by_path(host: str, group: list[tuple[K, _Parts]]) -> dict[K, str]:
    """Feeds on one host: the shortest leading path that only one of them has."""
    # A trie of path segments, each node counting the feeds whose path passes through it.
    root: dict[str, list] = {}  # segment -> [count, children]
    for _key, p in group:
        children = root
        for segment in p.segments:
            node = children.setdefault(segment, [0, {}])
            node[0] += 1
            children = node[1]
    found: dict[K, str] = {}
    rest: list[tuple[K, _Parts]] = []
    for key, p in group:
        children = root
        for depth, segment in enumerate(p.segments, 1):
            node = children[segment]
            if node[0] == 1:
                found[key] = host + _path(p.segments[:depth])
                break
            children = node[1]
        else:
            rest.append((key, p))
    # No leading path of its own: its whole path is a prefix of another's, or the same path.
    paths = Counter(p.segments for _key, p in rest)
    alike: dict[tuple[str, ...], list[tuple[K, _Parts]]] = {}
    for key, p in rest:
        if paths[p.segments] == 1:
            found[key] = host + _path(p.segments)
        else:
            alike.setdefault(p.segments, []).append((key, p))
    for segments, same in alike.items():
        ports = len({p.port for _key, p in same}) > 1
        queries = len({p.query for _key, p in same}) > 1
        shared = _shared_params([p.query for _key, p in same]) if queries else set()
        for key, p in same:
            label = host + (f":{p.port}" if ports and p.port else "") + _path(segments)
            found[key] = label + (f"?{_cap(_own_params(p.query, shared))}" if queries and p.query else "")
    return found


def _shared_params(queries: list[str]) -> set[str]:
    """The `name=value` pairs every one of these queries has (`format=rss`): they tell nothing apart."""
    sets = [set(query.split("&")) for query in queries]
    return set.intersection(*sets) if sets else set()


def _own_params(query: str, shared: set[str]) -> str:
    """The query without the pairs all its twins share: `?category=science&format=rss` beside
    `?category=sports&format=rss` shows as `?category=science`, which fits a narrow column."""
    own = [pair for pair in query.split("&") if pair not in shared]
    return "&".join(own) or query


def keep_end(text: str, cells: int) -> str:
    """The last `cells` terminal cells of `text` (at most)."""
    if cells <= 0:
        return ""
    if text.isascii():
        return text[-cells:]
    taken, start = 0, len(text)
    while start > 0 and taken + cell_len(text[start - 1]) <= cells:
        start -= 1
        taken += cell_len(text[start])
    return text[start:]


def shorten_suffix(suffix: str, cells: int) -> str:
    """A " (qualifier)" suffix in `cells` cells: the end of the qualifier (the part of the path
    that differs) is kept and its start cut, "example.com/comments" becoming "…/comments"."""
    if cell_len(suffix) <= cells:
        return suffix
    qualifier = suffix.removeprefix(" (").removesuffix(")")
    end = keep_end(qualifier, cells - 4)
    if "/" in end and not end.startswith("/"):
        end = end[end.index("/") :]  # whole path segments read better than a host's last digits
    return " (…" + end + ")"
