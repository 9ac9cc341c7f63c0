"""Playing or opening an enclosure with the user's player (`player` in config.toml).

The command is the setting's words plus one more, the target: a downloaded file, or the
enclosure's URL (http(s) only). It runs without a shell, so a URL holding `;rm -rf ~` is
one argument and nothing else; detached in a session of its own, with stdin, stdout and
stderr on /dev/null, so it never draws over the app or waits for a key, and outlives it
(reader/hooks.py's run_detached, which starts the `browser` hook the same way).
With no player set, the system's opener (xdg-open, macOS's open) decides. Python's
`webbrowser`, which the app uses for links when no `browser` is set, is not used here: it would hand an episode to
the web browser rather than to the program the system plays audio and video with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .config import Settings
from .hooks import HookError, run_detached
from .sanitize import clean_line, clean_message, safe_url


class PlayerError(HookError):
    """Why the player could not be started: one clean line."""


def system_opener() -> list[str]:
    """The command that opens a file or URL with the user's default program ([] where there is none)."""
    if sys.platform == "darwin":
        return ["open"]
    if sys.platform == "win32":
        return []  # os.startfile
    return ["xdg-open"]


def player_argv(target: str | os.PathLike[str], settings: Settings) -> list[str]:
    """The words to run: the player (or the opener), then the target.

    A `str` target is a URL and must be http(s); a path is a file that must exist (made
    absolute, so a name starting with "-" can't read as an option).
    """
    if isinstance(target, str):
        safe = safe_url(target)
        if safe is None:
            raise PlayerError(f"not an http(s) URL, not played: {clean_message(target, 200)}")
        argument = safe
    else:
        path = Path(target).absolute()
        if not path.is_file():
            raise PlayerError(f"no such file: {clean_line(str(path), 500)}")
        argument = str(path)
    command = list(settings.player) or system_opener()
    return [*command, argument]


def play(target: str | os.PathLike[str], settings: Settings) -> None:
    """Start the player on `target` and return at once (it is never waited for)."""
    argv = player_argv(target, settings)
    if len(argv) == 1 and sys.platform == "win32":  # no player set on Windows: the shell's association
        try:
            os.startfile(argv[0])  # type: ignore[attr-defined]
        except OSError as exc:
            raise PlayerError(f"could not open it: {exc.strerror or exc}") from None
        return
    hint = "set player in config.toml" if settings.player else "no player is set: set player in config.toml"
    try:
        run_detached(argv[:1], argv[1:], what="player", hint=hint)
    except HookError as exc:
        raise PlayerError(str(exc)) from None
