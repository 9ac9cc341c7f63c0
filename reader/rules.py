"""Rules: the config's `[[rules]]` applied to new posts at refresh time (and to all posts on demand).

STUB (issue 11 scaffold): the rules helper fills this in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .config import Rule
from .store import Store


@dataclass
class RuleOutcome:
    """What the rules did: the posts each rule matched (by the rule's index) and the posts to notify about."""

    matched: dict[int, list[int]] = field(default_factory=dict)
    notify: list[int] = field(default_factory=list)
    seconds: float = 0.0


def apply_rules(store: Store, rules: Sequence[Rule], ids: Sequence[int]) -> RuleOutcome:
    """Match each rule's query against the posts `ids` and act on the matches, in the rules' order."""
    return RuleOutcome()
