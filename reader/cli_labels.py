"""The CLI's saved searches and tags.

    reader search save NAME QUERY...     save (or replace) a named query; checked before it is saved
    reader search [list] [--json]        each saved search: name, unread/total, query
    reader search remove NAME
    reader search NAME [--json] [--body] [--limit N]   its posts, as `reader entries QUERY` lists them
    reader tag ID... +NAME -NAME         put tags on posts / take them off (a bare NAME is +NAME)
    reader tag ID...                     the posts' tags
    reader tag                           every tag, with unread/total counts

Query words and tag names may start with "-" (`-category:Sports`, `-later`): they are read
as words, not options, so both commands take what follows them as it is (argparse.REMAINDER)
and parse it here.
"""

from __future__ import annotations

import argparse
import json

from .query import parse_query
from .sanitize import clean_line
from .storage.labels import clean_name
from .store import Store


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
    p = sub.add_parser(
        "search",
        help="saved searches: search save NAME QUERY, search [list] [--json], search remove NAME, search NAME",
        description=(
            "reader search save NAME QUERY...: save a query under a name (replaces one of that name); "
            "reader search [list] [--json]: every saved search with unread/total; reader search remove NAME; "
            "reader search NAME [--json] [--body] [--limit N]: its posts, as reader entries lists them"
        ),
    )
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="save NAME QUERY | list | remove NAME | NAME")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "tag", help="tag posts (tag ID... +NAME -NAME), show posts' tags (tag ID...), list tags (tag)",
        description=(
            "reader tag ID... +NAME -NAME: put tags on posts and take them off (a bare NAME is +NAME); "
            "reader tag ID...: the posts' tags; reader tag: every tag with unread/total. "
            "Posts with a tag: reader entries tag:NAME"
        ),
    )
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="ID... +NAME -NAME")
    p.set_defaults(func=cmd_tag)


def _words(args: argparse.Namespace) -> list[str]:
    # `--` is how argparse users keep "-word" a word; `negated_terms_last` may add one too.
    return [w for w in args.words if w != "--"]


def _sub_parser(prog: str) -> argparse.ArgumentParser:
    from .cli import _Parser

    return _Parser(prog=f"reader search {prog}", add_help=True)


# --- saved searches ----------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    words = _words(args)
    verb = words[0].lower() if words else "list"
    rest = words[1:]
    if verb == "save":
        p = _sub_parser("save")
        p.add_argument("name")
        p.add_argument("query", nargs=argparse.REMAINDER)
        parsed = p.parse_args(rest)
        return _save(args, parsed.name, [w for w in parsed.query if w != "--"])
    if verb == "list":
        p = _sub_parser("list")
        p.add_argument("--json", action="store_true")
        return _list(args, p.parse_args(rest).json)
    if verb == "remove":
        p = _sub_parser("remove")
        p.add_argument("name")
        return _remove(args, p.parse_args(rest).name)
    return _show(args, words[0], rest)


def _save(args: argparse.Namespace, name: str, query_words: list[str]) -> int:
    from .cli import CLIError, _store

    text = " ".join(query_words).strip()
    if not text:
        raise CLIError("say the query to save: reader search save NAME QUERY (e.g. reader search save work tag:work)")
    name = clean_name(name, "a saved search")  # refuses the words of `reader search` too
    query = parse_query(text)  # a QueryError is the one-line message: nothing is saved
    store = _store(args)
    replaced = store.save_search(name, query.text)
    unread, total = _counts(store, query.text)
    verb = "replaced" if replaced else "saved"
    print(f"{verb} {name!r}: {query.text} ({unread:,} unread of {total:,}; see: reader search {_arg(name)})")
    return 0


def _counts(store: Store, query_text: str) -> tuple[int, int]:
    where, params = parse_query(query_text).to_sql()
    return store.count_entries(f"e.read = 0 AND {where}", params), store.count_entries(where, params)


def _list(args: argparse.Namespace, as_json: bool) -> int:
    from .cli import _store
    from .query import QueryError

    store = _store(args)
    records: list[dict[str, object]] = []
    for search in store.saved_searches():
        record: dict[str, object] = {"name": search.name, "query": search.query, "unread": None, "total": None,
                                     "error": None}
        try:
            record["unread"], record["total"] = _counts(store, search.query)
        except QueryError as exc:  # saved by another version of the language, or by hand
            record["error"] = str(exc)
        records.append(record)
    if as_json:
        print(json.dumps(records, ensure_ascii=False, indent=1))
        return 0
    if not records:
        print("no saved searches (save one: reader search save NAME QUERY)")
        return 0
    width = min(max(len(str(r["name"])) for r in records), 30)
    for r in records:
        counts = f"{r['unread']:,}/{r['total']:,}" if r["error"] is None else "bad query"
        print(f"{clean_line(str(r['name']), 100):<{width}}  {counts:>13}  {r['query']}")
        if r["error"] is not None:
            print(f"{'':<{width}}  {'':>13}  ({r['error']})")
    return 0


def _remove(args: argparse.Namespace, name: str) -> int:
    from .cli import CLIError, _store

    if not _store(args).remove_search(name):
        raise CLIError(f"no saved search named {clean_line(name, 100)!r} (see: reader search list)")
    print(f"removed {clean_line(name, 100)!r}")
    return 0


def _show(args: argparse.Namespace, name: str, rest: list[str]) -> int:
    """`reader search NAME`: the saved search's posts, exactly as `reader entries QUERY` lists them."""
    from .cli import CLIError, _store
    from .cli_entries import _limit, cmd_entries

    p = _sub_parser(name)
    p.add_argument("--json", action="store_true")
    p.add_argument("--body", action="store_true")
    p.add_argument("--limit", "-n", type=_limit, metavar="N")
    options = p.parse_args(rest)
    search = _store(args).get_search(name)
    if search is None:
        known = ", ".join(s.name for s in _store(args).saved_searches()[:10]) or "none yet"
        raise CLIError(
            f"no saved search named {clean_line(name, 100)!r} (saved: {known}; "
            "or: reader search save NAME QUERY, reader search list)"
        )
    args.query, args.json, args.body, args.limit = [search.query], options.json, options.body, options.limit
    return cmd_entries(args)


def _arg(name: str) -> str:
    """A name as a shell word, for the hints printed."""
    return name if name.replace("-", "").replace("_", "").isalnum() else "'" + name.replace("'", "'\\''") + "'"


# --- tags --------------------------------------------------------------------------------


def cmd_tag(args: argparse.Namespace) -> int:
    from .cli import CLIError, _post_id, _store

    ids: list[int] = []
    add: list[str] = []
    remove: list[str] = []
    for word in _words(args):
        if word.strip().isascii() and word.strip().isdigit():
            try:
                ids.append(_post_id(word))
            except argparse.ArgumentTypeError as exc:
                raise CLIError(str(exc)) from None
        elif word.startswith("-"):
            remove.append(word[1:])
        else:
            add.append(word[1:] if word.startswith("+") else word)
    store = _store(args)
    if not ids:
        if add or remove:
            raise CLIError("say which posts: reader tag ID... +NAME -NAME (ids as `reader entries` shows them)")
        return _list_tags(store)
    found = store.existing_ids(ids)
    present = list(dict.fromkeys(i for i in ids if i in found))  # as `reader mark`: the others are reported
    if add or remove:
        add, remove = [clean_name(n) for n in add], [clean_name(n) for n in remove]  # as stored, and as shown
        changed = store.tag_entries(present, add=add, remove=remove)
        print(f"{changed:,} change{'' if changed == 1 else 's'}: "
              + " ".join([f"+{n}" for n in add] + [f"-{n}" for n in remove]))
    tags = store.entry_tags(present)
    for entry_id in present:
        print(f"{entry_id:>7}  {', '.join(tags.get(entry_id, [])) or '(no tags)'}")
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise CLIError(f"no post with id {', '.join(missing)}")
    return 0


def _list_tags(store: Store) -> int:
    counts = store.tag_counts()
    if not counts:
        print("no tags yet (tag posts: reader tag ID... +NAME)")
        return 0
    width = min(max(len(name) for name, _, _ in counts), 40)
    for name, unread, total in counts:
        print(f"{name:<{width}}  {unread:,}/{total:,}")
    return 0
