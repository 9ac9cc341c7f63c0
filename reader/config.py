"""Where things live and what the user has set.

The data dir (the cache) and the config dir come from platformdirs, overridden by
`--data-dir`, READER_DATA_DIR and READER_CONFIG_DIR. Settings come from
`config.toml` in the config dir; a broken file is reported, never fatal.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "reader"
DB_NAME = "reader.sqlite"
CONFIG_NAME = "config.toml"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("READER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    env = os.environ.get("READER_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def db_path(override: str | os.PathLike[str] | None = None) -> Path:
    return data_dir(override) / DB_NAME


@dataclass
class Settings:
    # Seconds a post must stay open before it counts as read; a negative value turns
    # marking on open off.
    mark_read_after: float = 1.0
    refresh_on_start: bool = False
    theme: str = "textual-dark"
    concurrency: int = 16
    timeout: float = 30.0
    keymap: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why config.toml could not be read, shown to the user
    path: Path | None = None


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_dir() / CONFIG_NAME
    settings = Settings(path=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return settings
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        settings.error = f"{path}: {exc}"
        return settings
    problems: list[str] = []

    for name in ("mark_read_after", "timeout"):
        if name in raw:
            value = raw[name]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(settings, name, float(value))
            else:
                problems.append(f"{name} must be a number")
    if "refresh_on_start" in raw:
        if isinstance(raw["refresh_on_start"], bool):
            settings.refresh_on_start = raw["refresh_on_start"]
        else:
            problems.append("refresh_on_start must be true or false")
    if "theme" in raw:
        if isinstance(raw["theme"], str):
            settings.theme = raw["theme"]
        else:
            problems.append("theme must be a string")
    if "concurrency" in raw:
        value = raw["concurrency"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 256:
            settings.concurrency = value
        else:
            problems.append("concurrency must be a whole number from 1 to 256")
    keys = raw.get("keys", {})
    if isinstance(keys, dict):
        settings.keymap = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
    else:
        problems.append("[keys] must be a table of binding id = \"key,key\"")
    if problems:
        settings.error = f"{path}: " + "; ".join(problems)
    return settings


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
