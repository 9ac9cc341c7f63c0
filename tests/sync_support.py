"""Helpers for the sync tests: feeds for the real FreshRSS to fetch, and logging the CLI in to it."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Callable, Iterable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

BASE_TIME = 1_790_000_000  # 2026-09: recent enough that FreshRSS keeps every post


def write_feed(folder: Path, name: str, numbers: Iterable[int], *, title: str | None = None) -> str:
    """An RSS file of posts numbered `numbers` (post N is dated N hours after BASE_TIME). Returns the file name."""
    items = []
    for n in numbers:
        items.append(
            f"<item><title>{name} post {n}</title><link>https://{name}.example.org/posts/{n}</link>"
            f"<guid>https://{name}.example.org/posts/{n}</guid>"
            f"<pubDate>{formatdate(BASE_TIME + n * 3600, usegmt=True)}</pubDate>"
            f'<description>&lt;p&gt;Body of {name} post {n}, with a &lt;a href="/rel/{n}"&gt;link&lt;/a&gt;.'
            f"&lt;/p&gt;</description></item>"
        )
    (folder / f"{name}.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title or name.capitalize()}</title><link>https://{name}.example.org/</link>"
        f"<description>x</description>{''.join(items)}</channel></rss>",
        encoding="utf-8",
    )
    return f"{name}.xml"


def served(freshrss: Any, feeds: tuple[Any, Path], name: str, numbers: Iterable[int],
           category: str | None = None) -> str:
    """A feed written, subscribed on the server, and fetched by it. Returns its stream id."""
    server, folder = feeds
    write_feed(folder, name, numbers)
    stream_id = freshrss.api.subscribe(server.url(f"/{name}.xml"), category=category)
    freshrss.refresh(stream_id)
    return stream_id


def log_in(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, url: str, user: str, password: str, *extra: str
) -> Any:
    """`reader account add URL --user USER --password-stdin` with the password on stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return cli("account", "add", url, "--user", user, "--password-stdin", *extra)


def local_state(db: Path) -> dict[int, tuple[bool, bool]]:
    """{server item id: (read, starred)} of every synced post in the cache at `db`."""
    with sqlite3.connect(db) as conn:
        return {
            remote_id: (bool(read), bool(starred))
            for remote_id, read, starred in conn.execute(
                "SELECT remote_id, read, starred FROM entries WHERE remote_id IS NOT NULL"
            )
        }


def unsigned(n: int) -> int:
    """The cache keeps item ids as signed 64-bit; the fixture's ServerAPI gives them unsigned."""
    return n + 2**64 if n < 0 else n
