"""Where things live and what the user has set.

The data dir (the cache) and the config dir come from platformdirs, overridden by
`--data-dir`, READER_DATA_DIR and READER_CONFIG_DIR. Settings come from
`config.toml` in the config dir; a broken file or setting is reported, never fatal:
each bad setting keeps its default.

The directories are named "reader-tui" (the distribution's name), not "reader": that
one belongs to the lemon24/reader library too (its config.yaml and db.sqlite live in
~/.config/reader). Files an older version of this program left under "reader" are
moved once, by name, and nothing else there is touched.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

APP_NAME = "reader-tui"
LEGACY_APP_NAME = "reader"  # shared with the lemon24/reader library: only our own files move out of it
DB_NAME = "reader.sqlite"
CONFIG_NAME = "config.toml"
# SQLite's sidecar files move with the database: the -wal holds committed transactions.
DB_FILES = (DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME)

# The range a setting may take; outside it the default is used and the file is reported.
TIMEOUT_MAX = 600.0  # seconds: past ten minutes a feed is not coming
MARK_READ_AFTER_MAX = 3600.0
CONCURRENCY_MAX = 256
PER_HOST_MAX = 64
IMAGE_CACHE_MB_MAX = 1_000_000.0  # a terabyte: past that it is a typo
DURATION_MAX = 366 * 86400.0  # a year: past that a schedule means "never"
RULES_MAX = 1000
RULE_ACTIONS = ("read", "hide", "star", "notify")  # and "tag:NAME"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("READER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    env = os.environ.get("READER_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def db_path(override: str | os.PathLike[str] | None = None) -> Path:
    return data_dir(override) / DB_NAME


def move_legacy_files(data: bool = True, report: Callable[[str], None] | None = None) -> list[Path]:
    """Move this program's files from the old "reader" dirs to the "reader-tui" ones, once.

    Only config.toml and the cache (reader.sqlite, -wal, -shm) move, and only while the
    new place has no such file: nothing there is ever overwritten, and what else the
    old dirs hold (the lemon24/reader library's files) stays put. A dir set by
    READER_CONFIG_DIR, READER_DATA_DIR or `--data-dir` (data=False) is the user's
    choice and is left alone. Returns the new paths; `report` hears one line per move.
    """
    moved: list[Path] = []
    if not os.environ.get("READER_CONFIG_DIR"):
        import platformdirs

        old = Path(platformdirs.user_config_dir(LEGACY_APP_NAME, appauthor=False))
        moved += _move_files(old, config_dir(), (CONFIG_NAME,), CONFIG_NAME, "settings", report)
    if data and not os.environ.get("READER_DATA_DIR"):
        import platformdirs

        old = Path(platformdirs.user_data_dir(LEGACY_APP_NAME, appauthor=False))
        moved += _move_files(old, data_dir(), DB_FILES, DB_NAME, "cache", report)
    return moved


def _move_files(
    old: Path, new: Path, names: tuple[str, ...], main: str, what: str, report: Callable[[str], None] | None,
) -> list[Path]:
    if old == new or not (old / main).is_file() or (new / main).exists():
        return []  # nothing of ours there, or the new place is in use: never clobber
    moved: list[Path] = []
    try:
        new.mkdir(parents=True, exist_ok=True)
        # The main file goes last: if this is interrupted, it is still in the old place
        # and the next run finishes the move, with the sidecars already beside it.
        for name in names:
            source, target = old / name, new / name
            if source.is_file() and not target.exists():
                import shutil

                shutil.move(source, target)
                moved.append(target)
    except OSError as exc:
        if report:
            report(f"could not move your {what} from {old} to {new}: {exc.strerror or exc}; move {main} yourself")
        return moved
    if report:
        report(
            f"moved your {what} ({main}) from {old} to {new}: \"{LEGACY_APP_NAME}\" is also the "
            f"lemon24/reader library's directory (its files there were left alone)"
        )
    return moved


@dataclass(frozen=True, slots=True)
class Rule:
    """One `[[rules]]` table of config.toml: a query every new post is matched against, and what to do.

    `action` is "read", "hide", "star", "notify" or "tag"; `tag` is the tag's name for "tag".
    `line` is where the rule starts in the file (1-based; None when it can't be told), for messages.
    """

    query: str
    action: str
    tag: str | None = None
    line: int | None = None

    @property
    def action_text(self) -> str:
        return f"tag:{self.tag}" if self.action == "tag" else self.action


@dataclass
class Settings:
    # Seconds a post must stay open before it counts as read; a negative value turns
    # marking on open off.
    mark_read_after: float = 1.0
    refresh_on_start: bool = False
    theme: str = "textual-dark"
    concurrency: int = 16
    per_host: int = 4  # feeds fetched from one host at once
    timeout: float = 30.0
    keymap: dict[str, str] = field(default_factory=dict)
    # Images in posts: downloaded with the post and shown inline; false shows `[image: alt]`.
    images: bool = True
    image_cache_mb: float = 500.0  # the image cache's cap; the least recently read go first
    # The command that plays or opens an enclosure, as its words (run without a shell, the
    # URL or file appended); empty: the system's opener.
    player: list[str] = field(default_factory=list)
    downloads_dir: Path | None = None  # where `reader download` saves enclosures; None: data dir/downloads
    # Background refresh in the app: seconds between looks for due feeds; 0 turns it off.
    refresh_every: float = 30 * 60.0
    # No feed is fetched more often than the floor nor less often than the ceiling by
    # `refresh --due` and the app's background refresh, whatever the feed says (seconds).
    refresh_floor: float = 10 * 60.0
    refresh_ceiling: float = 24 * 3600.0
    # Hooks: commands as their words, run without a shell. Empty: the built-in behaviour
    # (the system's browser; no pipe or bookmark command; notify-send, else the terminal bell).
    browser: list[str] = field(default_factory=list)
    pipe: list[str] = field(default_factory=list)
    bookmark: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    rule_problems: list[str] = field(default_factory=list)  # the rules left out, each message with its line
    error: str | None = None  # why config.toml could not be read, shown to the user
    path: Path | None = None


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_dir() / CONFIG_NAME
    settings = Settings(path=path)
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        return settings
    except tomllib.TOMLDecodeError as exc:
        settings.error = f"{path}: not valid TOML: {exc}; every setting is at its default"
        return settings
    except UnicodeDecodeError:
        settings.error = f"{path}: not UTF-8 text; every setting is at its default"
        return settings
    except OSError as exc:
        settings.error = f"{path}: cannot read it ({exc.strerror or exc}); every setting is at its default"
        return settings
    problems: list[str] = []

    def number(name: str, low: float, high: float, *, low_open: bool = False) -> None:
        if name not in raw:
            return
        value = raw[name]
        # TOML has inf and nan; neither bounds anything.
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (value > low if low_open else value >= low) and value <= high
        if ok:
            setattr(settings, name, float(value))
        else:
            above = f"more than {low:g} and " if low_open else "" if low == -math.inf else f"at least {low:g} and "
            problems.append(f"{name} must be a number {above}at most {high:g}, not {_shown(value)}")

    number("timeout", 0, TIMEOUT_MAX, low_open=True)
    # Any negative number turns marking on open off, so below there is no bound but finiteness.
    number("mark_read_after", -math.inf, MARK_READ_AFTER_MAX)
    if "refresh_on_start" in raw:
        if isinstance(raw["refresh_on_start"], bool):
            settings.refresh_on_start = raw["refresh_on_start"]
        else:
            problems.append(f"refresh_on_start must be true or false, not {_shown(raw['refresh_on_start'])}")
    if "theme" in raw:
        theme = raw["theme"]
        if isinstance(theme, str) and theme.strip() and theme.isprintable() and len(theme) <= 100:
            settings.theme = theme.strip()
        else:
            problems.append(f"theme must be a theme's name, not {_shown(theme)}")
    if "concurrency" in raw:
        value = raw["concurrency"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= CONCURRENCY_MAX:
            settings.concurrency = value
        else:
            problems.append(f"concurrency must be a whole number from 1 to {CONCURRENCY_MAX}, not {_shown(value)}")
    if "images" in raw:
        if isinstance(raw["images"], bool):
            settings.images = raw["images"]
        else:
            problems.append(f"images must be true or false, not {_shown(raw['images'])}")
    number("image_cache_mb", 0, IMAGE_CACHE_MB_MAX)
    if "player" in raw:
        player = _command(raw["player"])
        if player is None:
            example = '"mpv" or ["mpv", "--no-video"]'
            problems.append(f"player must be a command like {example}, not {_shown(raw['player'])}")
        else:
            settings.player = player
    if "downloads_dir" in raw:
        where = raw["downloads_dir"]
        if isinstance(where, str) and where.strip() and where.isprintable():
            settings.downloads_dir = Path(where.strip()).expanduser()
        else:
            problems.append(f"downloads_dir must be a directory's path, not {_shown(where)}")
    if "per_host" in raw:
        value = raw["per_host"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= PER_HOST_MAX:
            settings.per_host = value
        else:
            problems.append(f"per_host must be a whole number from 1 to {PER_HOST_MAX}, not {_shown(value)}")
    for name in ("browser", "pipe", "bookmark", "notify"):
        if name in raw:
            words = _command(raw[name])
            if words is None:
                problems.append(f'{name} must be a command like "{_HOOK_EXAMPLES[name]}", not {_shown(raw[name])}')
            else:
                setattr(settings, name, words)
    for name in ("refresh_every", "refresh_floor", "refresh_ceiling"):
        if name in raw:
            seconds = parse_duration(raw[name])
            if seconds is None or (seconds == 0 and name != "refresh_every"):
                zero = " or 0 for off" if name == "refresh_every" else ""
                problems.append(f'{name} must be a duration like "30m", "2h" or "1d"{zero}, not {_shown(raw[name])}')
            else:
                setattr(settings, name, seconds)
    if settings.refresh_floor > settings.refresh_ceiling:
        problems.append(
            f"refresh_floor ({format_duration(settings.refresh_floor)}) is above refresh_ceiling "
            f"({format_duration(settings.refresh_ceiling)}): both are at their defaults"
        )
        settings.refresh_floor, settings.refresh_ceiling = Settings.refresh_floor, Settings.refresh_ceiling
    if "rules" in raw:
        settings.rules, settings.rule_problems = _rules(raw["rules"], text)
    rule_problems = settings.rule_problems
    keys = raw.get("keys", {})
    if isinstance(keys, dict):
        settings.keymap = {str(k): v for k, v in keys.items() if isinstance(v, str)}
        bad = [str(k) for k, v in keys.items() if not isinstance(v, str)]
        if bad:
            problems.append(f"[keys] values must be strings like \"j,down\" ({_shown(', '.join(bad))})")
    else:
        problems.append("[keys] must be a table of binding id = \"key,key\"")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        problems.append(f"unknown setting {_shown(', '.join(unknown))} (known: {', '.join(sorted(_KNOWN))})")
    # A bad setting keeps its default; a bad rule is left out (the others still apply).
    said = []
    if problems:
        said.append("; ".join(problems) + " (so the default is used)")
    if rule_problems:
        said.append("; ".join(rule_problems) + (" (that rule is skipped)" if len(rule_problems) == 1 else
                                                " (those rules are skipped)"))
    if said:
        settings.error = f"{path}: " + "; ".join(said)
    return settings


_KNOWN = frozenset({
    "mark_read_after", "refresh_on_start", "theme", "concurrency", "timeout", "keys",
    "images", "image_cache_mb", "player", "downloads_dir", "per_host",
    "refresh_every", "refresh_floor", "refresh_ceiling", "browser", "pipe", "bookmark", "notify", "rules",
})

_HOOK_EXAMPLES = {
    "browser": "firefox --new-tab",
    "pipe": "less -R",
    "bookmark": "/home/me/bin/save-link",
    "notify": "notify-send --app-name=reader",
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_COMPOUND = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: object) -> float | None:
    """Seconds from "30m", "2h", "1d", "90s", "1w", "1h 30m" or a number of seconds; None when it is none of those.

    0 is a duration ("off" where a setting allows it); past a year is refused as a typo.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.lower().strip()
        match = _DURATION.match(text)
        if match is not None:
            seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        elif len(text) <= 40 and _COMPOUND.fullmatch(text):
            # "1h 30m", "2h30m", "1d 6h": what format_duration writes reads back
            seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in _PART.findall(text))
        else:
            return None
    else:
        return None
    if not math.isfinite(seconds) or not 0 <= seconds <= DURATION_MAX:
        return None
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact-enough way to say a duration: "45s", "30m", "2h", "1d", "1d 6h"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours}h" + (f" {minutes}m" if minutes else "")
    days, hours = divmod(seconds // 3600, 24)
    return f"{days}d" + (f" {hours}h" if hours else "")


_RULES_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*rules[ \t]*\]\]", re.MULTILINE)


def _rules(value: object, text: str) -> tuple[list[Rule], list[str]]:
    """The `[[rules]]` tables: each valid rule, and a message (with its line) for each bad one.

    A bad rule is left out and reported; the others still apply. Lines are found by counting
    `[[rules]]` headers (tomllib gives none); rules written another way have no line.
    """
    from .query import QueryError, parse_query

    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        return [], ['rules must be [[rules]] tables with a query and an action, e.g. query = "feed:heise", '
                    'action = "hide"']
    headers = [text.count("\n", 0, m.start()) + 1 for m in _RULES_HEADER.finditer(text)]
    lines: list[int | None] = list(headers) if len(headers) == len(value) else [None] * len(value)
    rules: list[Rule] = []
    problems: list[str] = []
    for n, (raw, line) in enumerate(zip(value, lines, strict=True), start=1):
        where = f"rule {n}" + (f" (line {line})" if line else "")
        if n > RULES_MAX:
            problems.append(f"more than {RULES_MAX} rules: the rest are ignored")
            break
        query, action = raw.get("query"), raw.get("action")
        unknown = sorted(set(raw) - {"query", "action"})
        if unknown:
            keys = _shown(", ".join(map(str, unknown)))
            problems.append(f"{where}: unknown key {keys} (a rule has query and action)")
            continue
        if query is None:
            problems.append(f'{where}: has no query (e.g. query = "feed:heise category:Anzeige")')
            continue
        if not isinstance(query, str) or not query.strip():
            problems.append(f'{where}: query must be a query like "feed:heise category:Anzeige", not {_shown(query)}')
            continue
        try:
            parse_query(query)
        except QueryError as exc:
            problems.append(f"{where}: bad query {_shown(query)}: {exc}")
            continue
        tag = None
        if isinstance(action, str) and action.startswith("tag:"):
            tag = action[4:].strip()
            ok = bool(tag) and tag.isprintable() and len(tag) <= 100
            action = "tag"
        else:
            ok = isinstance(action, str) and action in RULE_ACTIONS
        if not ok:
            shown = _shown(raw.get("action"))
            problems.append(f'{where}: action must be "read", "hide", "star", "notify" or "tag:NAME", not {shown}')
            continue
        rules.append(Rule(query.strip(), action, tag, line))
    return rules, problems


def _command(value: object) -> list[str] | None:
    """A command setting as its words: "mpv --no-video" or ["mpv", "--no-video"]; None if it is neither.

    Split like a shell would (quotes kept together) but never run by one.
    """
    import shlex

    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError:
            return None
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = list(value)
    else:
        return None
    if not words or not all(w.isprintable() and w for w in words) or len(words) > 64:
        return None
    return words


def downloads_dir(settings: Settings, override: str | os.PathLike[str] | None = None) -> Path:
    return settings.downloads_dir or data_dir(override) / "downloads"


def images_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return data_dir(override) / "images"



def _shown(value: object) -> str:
    """A value from the file, short and printable, for a one-line message."""
    text = repr(value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 60 else text[:59] + "…"


def save_setting(name: str, value: str | bool | float, path: Path | None = None) -> None:
    """Persist one top-level setting (the theme, say), keeping the rest of the file as it is."""
    path = path or config_dir() / CONFIG_NAME
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    if isinstance(value, bool):
        rendered = "true" if value else "false"
    elif isinstance(value, (int, float)):
        rendered = repr(value)
    else:
        rendered = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    new_line = f"{name} = {rendered}"
    # Top-level keys must come before the first [table]; replace in place if present.
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    for i in range(first_table):
        if lines[i].split("=", 1)[0].strip() == name:
            lines[i] = new_line
            break
    else:
        lines.insert(first_table, new_line)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
