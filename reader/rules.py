"""Rules: the config's `[[rules]]` applied to new posts at refresh time (and to all posts on demand).

Each rule is a query and an action. The rules run in the order they are written, and each
sees what the earlier ones did: a post hidden by rule 1 is left out of a plain rule 2's
query (hidden posts are matched only by a query asking `is:hidden`), a post rule 1 marked
read matches rule 2's `is:read`.

Bounded: a rule costs one SQL statement over the posts it is given (their ids sit in a
temporary table, so the rule's query is evaluated once, not once per post or per chunk of
ids), then one statement per chunk of the posts it matched for its action. Marks go through
`set_flag`, so with a sync account they are queued for the server like any other mark.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import Rule
from .query import QueryError, parse_query
from .store import Store, StoreError

# The posts a rule set is applied to, on the applying thread's own connection (temp tables are per connection).
_CANDIDATES = "temp.rule_candidates"


@dataclass
class RuleOutcome:
    """What the rules did: the posts each rule matched (by the rule's index) and the posts to notify about.

    `changed[i]`: how many posts rule i changed (for `tag`: posts newly tagged); a post a rule
    matched may already have been so. `errors[i]`: why rule i could not run (it is skipped).
    `rule_seconds[i]`: the time rule i took; `seconds`: all of them.
    """

    matched: dict[int, list[int]] = field(default_factory=dict)
    notify: list[int] = field(default_factory=list)
    seconds: float = 0.0
    changed: dict[int, int] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    rule_seconds: dict[int, float] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Posts changed by action ("hide", "read", "star", "tag:NAME"), and posts to notify about ("notify")."""
        totals: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.action == "notify":
                continue
            count = self.changed.get(index, 0)
            if count:
                totals[rule.action_text] = totals.get(rule.action_text, 0) + count
        if self.notify:
            totals["notify"] = len(self.notify)
        return totals

    def line(self, notify: bool = True) -> str:
        """"3 hidden, 1 starred, 2 to notify"; "" when the rules changed nothing (and notify nothing)."""
        words = {"hide": "hidden", "read": "marked read", "star": "starred", "notify": "to notify"}
        parts = [
            f"{count:,} " + (words[action] if action in words else f"tagged {action[4:]}")
            for action, count in self.totals().items()
            if notify or action != "notify"
        ]
        return ", ".join(parts)


def apply_rules(store: Store, rules: Sequence[Rule], ids: Sequence[int] | None) -> RuleOutcome:
    """Match each rule's query against the posts `ids` (None: every post) and act on the matches, in order.

    A rule whose query no longer parses (or whose action fails) is recorded in `errors` and
    skipped; the others still run. Runs on one thread (it may be the refresh's writer thread).
    """
    started = time.monotonic()
    outcome = RuleOutcome(rules=list(rules))
    if not rules or (ids is not None and not ids):
        return outcome
    store.sync_index()  # in the refresh's writer, the posts just written must be searchable
    db = store.db
    if ids is not None:
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_CANDIDATES[5:]} (id INTEGER PRIMARY KEY)")
        db.execute(f"DELETE FROM {_CANDIDATES}")
        db.executemany(f"INSERT OR IGNORE INTO {_CANDIDATES} (id) VALUES (?)", ((i,) for i in ids))
    notify: dict[int, None] = {}  # insertion-ordered set: each post once, in the order matched
    try:
        for index, rule in enumerate(rules):
            rule_started = time.monotonic()
            try:
                where, params = parse_query(rule.query).to_sql()
            except QueryError as exc:
                outcome.errors[index] = f"bad query: {exc}"
                continue
            if ids is not None:
                where = f"e.id IN (SELECT id FROM {_CANDIDATES}) AND ({where})"
            try:
                # No ORDER BY: a sort could lead SQLite to walk the whole date index instead of the candidates.
                matched = [row[0] for row in db.execute(f"SELECT e.id FROM entries e WHERE {where}", params)]
                outcome.matched[index] = matched
                outcome.changed[index] = _act(store, rule, matched, notify)
            except (StoreError, sqlite3.DatabaseError) as exc:
                # One rule's failure (a cache locked past the busy timeout) must not end the refresh
                # whose posts are already stored: it is reported, and the next rule still runs.
                outcome.errors[index] = str(exc)
            outcome.rule_seconds[index] = time.monotonic() - rule_started
    finally:
        if ids is not None:
            db.execute(f"DELETE FROM {_CANDIDATES}")
    outcome.notify = list(notify)
    outcome.seconds = time.monotonic() - started
    return outcome


def _act(store: Store, rule: Rule, matched: list[int], notify: dict[int, None]) -> int:
    """Do the rule's action to the posts it matched; how many changed."""
    if not matched:
        return 0
    if rule.action == "read":
        return store.set_flag(matched, "read", True)
    if rule.action == "star":
        return store.set_flag(matched, "starred", True)
    if rule.action == "hide":
        return store.set_hidden(matched, True)
    if rule.action == "tag":
        assert rule.tag is not None
        return store.tag_entries(matched, add=[rule.tag])
    if rule.action == "notify":
        before = len(notify)
        notify.update(dict.fromkeys(matched))
        return len(notify) - before
    raise StoreError(f"unknown action {rule.action!r}")  # config.py lets none through
