"""newsboat's `config`: the `ignore-article` kill rules, which become reader rules.

    ignore-article "*" "title =~ \\"Sponsored\\""
    ignore-article "https://example.com/feed.xml" "author = \\"Bot\\""

Nothing else in it is imported (reader has its own settings); `include` lines are reported,
not followed, and backticks (newsboat runs those commands) are never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tokens import MAX_LINE, TokenError, read_lines, tokenize
from .urls import shown


@dataclass
class IgnoreRule:
    feed: str  # "*" for every feed, else the feed's URL
    expr: str
    line: int


@dataclass
class ConfigFile:
    ignores: list[IgnoreRule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    other_settings: int = 0  # lines that set something reader doesn't import


def parse_config(data: bytes) -> ConfigFile:
    result = ConfigFile()
    for number, line in enumerate(read_lines(data), start=1):
        if len(line) > MAX_LINE:
            result.problems.append(f"config line {number}: longer than {MAX_LINE} characters: not read")
            continue
        if line.lstrip().startswith("ignore-article") and "`" in line:
            result.problems.append(f"config line {number}: ignore-article with a `command`: not run, not imported")
            continue
        try:
            words = tokenize(line)
        except TokenError as exc:
            if line.lstrip().startswith("ignore-article"):
                result.problems.append(f"config line {number}: {exc}: not imported")
            continue  # other settings' syntax is newsboat's business
        if not words:
            continue
        if words[0] == "ignore-article":
            if len(words) != 3:
                result.problems.append(
                    f"config line {number}: ignore-article needs a feed (or \"*\") and an expression: not imported"
                )
                continue
            result.ignores.append(IgnoreRule(words[1].strip(), words[2], number))
        elif words[0] == "include":
            result.problems.append(
                f"config line {number}: include {shown(' '.join(words[1:]), 100)!r} is not followed: "
                "import that file's ignore-article lines with --config"
            )
        elif words[0] in ("ignore-mode",):
            continue  # when newsboat drops them; reader's rules keep hidden posts in the cache either way
        else:
            result.other_settings += 1
    return result
