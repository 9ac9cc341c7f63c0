"""The CLI's `reader rules test|apply`, and what a refresh reports of the rules' matches.

`reader rules` (= `reader rules test`) shows each rule of config.toml with its line, its query
and action, how many posts it matches in the cache now and a few of them, and the rules that
were skipped as bad. `reader rules apply` applies them to every post already in the cache.
A refresh applies them to its new posts by itself (reader/refresh.py); `after_refresh` says
what they did and runs the `notify` hook for the posts a `notify` rule matched.
"""

from __future__ import annotations

import argparse
import sys

from .config import Rule, Settings
from .query import QueryError, parse_query
from .rules import RuleOutcome, apply_rules
from .sanitize import clean_line, clean_message
from .store import Store

SHOWN_MATCHES = 3  # posts `rules test` lists under each rule
TITLE_CHARS = 80


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
    p = sub.add_parser(
        "rules", help="show what each rule in config.toml matches now (test, the default), or apply them to every post"
    )
    p.add_argument(
        "what", nargs="?", choices=("test", "apply"), default="test",
        help="test: each rule, its matches now (changes nothing); apply: act on every post already in the cache",
    )
    p.set_defaults(func=cmd_rules)


def cmd_rules(args: argparse.Namespace) -> int:
    from .cli import _store

    settings: Settings = args.settings
    rules, bad = settings.rules, [clean_message(m, 1000) for m in settings.rule_problems]
    if not rules and not bad:
        where = settings.path or "config.toml"
        print(f'no rules in {clean_message(str(where), 500)}; a rule is a table like:\n\n'
              '[[rules]]\nquery = "feed:heise category:Anzeige"\naction = "hide"   # or read, star, notify, tag:NAME')
        return 0
    store = _store(args)
    if args.what == "apply":
        _apply(store, rules)
    else:
        _test(store, rules)
    if bad:
        print("skipped (fix them in config.toml):")
        for message in bad:
            print(f"  {message}")
    return 0


def _label(rule: Rule, index: int) -> str:
    return f"line {rule.line}" if rule.line else f"rule {index + 1}"


def _heading(rule: Rule, index: int) -> str:
    return f"{_label(rule, index)}: {rule.action_text}  {clean_line(rule.query, 2000)}"


def _test(store: Store, rules: list[Rule]) -> None:
    """Each rule's matches now, on its own (a rule's action changes nothing here)."""
    for index, rule in enumerate(rules):
        print(_heading(rule, index))
        try:
            query = parse_query(rule.query)
            where, params = query.to_sql()
        except QueryError as exc:  # config.py checked it; a `since:` date may still fail
            print(f"  bad query: {exc}")
            continue
        count = store.count_entries(where, params)
        note = ""
        if rule.action == "hide" and not query.asks_hidden:
            # Its matches hidden by an earlier `apply` or refresh are left out of the count above.
            hidden_where, hidden_params = parse_query(f"{rule.query} is:hidden").to_sql()
            hidden = store.count_entries(hidden_where, hidden_params)
            note = f" ({hidden:,} more already hidden)" if hidden else ""
        print(f"  matches {_posts(count)} now{note}")
        for row in store.list_entries(where, params, SHOWN_MATCHES):
            print(f"  {row.id:>7}  {clean_line(row.title or '(untitled)', TITLE_CHARS)}")


def _apply(store: Store, rules: list[Rule]) -> None:
    outcome = apply_rules(store, rules, None)
    for index, rule in enumerate(rules):
        print(_heading(rule, index))
        if index in outcome.errors:
            print(f"  not applied: {clean_message(outcome.errors[index])}")
            continue
        matched = len(outcome.matched.get(index, []))
        if rule.action == "notify":
            print(f"  matches {_posts(matched)} (notify is for new posts, at refresh: nothing was sent)")
        elif matched:
            print(f"  matches {_posts(matched)}, {_changed(rule, outcome.changed.get(index, 0))}")
        else:
            print("  matches no post")
    print("applied to every post: " + (outcome.line(notify=False) or "nothing changed"))


def _changed(rule: Rule, count: int) -> str:
    done = {"read": "marked read", "star": "starred", "hide": "hidden"}.get(rule.action, f"tagged {rule.tag}")
    return f"{count:,} {done} now" if count else "all already were"


def _posts(n: int) -> str:
    return f"{n:,} post" + ("" if n == 1 else "s")


def after_refresh(args: argparse.Namespace, summary: object) -> None:
    """After `reader refresh`: report what the rules did and run the notify hook for their `notify` matches."""
    outcome: RuleOutcome | None = getattr(summary, "rules", None)
    if outcome is None:
        return
    for index, error in outcome.errors.items():
        rule = outcome.rules[index] if index < len(outcome.rules) else None
        where = _label(rule, index) if rule else f"rule {index + 1}"
        print(f"rules: {where} not applied: {clean_message(error)}", file=sys.stderr)
    line = outcome.line()
    if line and not getattr(args, "quiet", False):
        print(f"rules: {line}")
    if outcome.notify:
        # Even with --quiet: a cron job's notification is the point of a notify rule.
        from .cli import _store

        notify_matches(args.settings, _store(args), outcome.notify)


def notify_matches(settings: Settings, store: Store, ids: list[int]) -> None:
    """One notification for the posts `notify` rules matched: how many, and the first few titles
    (the text the app's notification has too: reader/announce.py)."""
    from .announce import announcement
    from .hooks import BELL, notify, ring_bell

    message = announcement(store, [], ids, new_posts=False)
    if message is None:
        return  # no ids: nothing to say
    result = notify(settings, *message)
    if result == BELL:
        ring_bell()
    elif result:
        print(f"rules: {clean_message(result)}", file=sys.stderr)
