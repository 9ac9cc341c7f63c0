"""What a refresh or a sync tells the `notify` hook: one (title, body) for the posts the rules'
`notify` action matched, and, after the app's background refresh, its new unread posts.

One text for both clients: `reader refresh`/`reader sync` (reader/cli_rules.py) and the app
(reader/tui/schedule.py):. The hook itself runs in reader/hooks.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from .sanitize import clean_line
from .storage.base import chunks, placeholders
from .storage.labels import VISIBLE_SQL
from .store import Store

# Titles a notification names before "…": a summary, not a list.
TITLES_SHOWN = 5


def _titles(rows: Sequence[object]) -> list[str]:
    return [clean_line(getattr(row, "title", "") or "(untitled)", 120) for row in rows]


def _listed(titles: list[str], total: int) -> str:
    return ", ".join(titles) + (", …" if total > len(titles) else "")


def announcement(
    store: Store, new_ids: Sequence[int], notify_ids: Sequence[int], *, new_posts: bool
) -> tuple[str, str] | None:
    """(title, body) of the notification after a refresh, or None when there is nothing to say.

    `notify_ids`: the posts the rules' `notify` action matched (always announced). With
    `new_posts` (a background refresh), the new posts still unread and not hidden (a rule may
    have read or hidden some) are announced too. Bounded: one count per chunk of ids and a
    few titles, however many posts came.
    """
    matched = list(dict.fromkeys(notify_ids))
    fresh = 0
    fresh_titles: list[str] = []
    if new_posts and new_ids:
        where = f"e.read = 0 AND {VISIBLE_SQL} AND e.id IN "
        for chunk in chunks(list(new_ids)):
            fresh += store.count_entries(where + f"({placeholders(chunk)})", chunk)
            if len(fresh_titles) < TITLES_SHOWN:
                rows = store.list_entries(where + f"({placeholders(chunk)})", chunk, limit=TITLES_SHOWN)
                fresh_titles.extend(_titles(rows))
        fresh_titles = fresh_titles[:TITLES_SHOWN]
    if matched:
        titles = _titles(store.entry_rows(matched[:TITLES_SHOWN]))
        count = f"{len(matched)} new post{'s' if len(matched) != 1 else ''} matched your rules"
        if fresh:
            return f"{fresh} new post{'s' if fresh != 1 else ''} ({len(matched)} matched your rules)", (
                f"Matched: {_listed(titles, len(matched))}"
            )
        return count, _listed(titles, len(matched))
    if fresh:
        return f"{fresh} new post{'s' if fresh != 1 else ''}", _listed(fresh_titles, fresh)
    return None
