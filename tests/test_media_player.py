"""Issue 10, enclosures: the player (reader/player.py), run for real: a tiny script records its argv."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from reader.config import Settings
from reader.player import PlayerError, play, player_argv

RECORDER = """#!{python}
import json, os, sys
# What the player saw: its words, whether it has a terminal, and its session.
json.dump({{"argv": sys.argv[1:], "tty": os.isatty(0) or os.isatty(1) or os.isatty(2),
           "sid": os.getsid(0), "pid": os.getpid()}}, open({out!r}, "w"))
"""


def recorder(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "argv.json"
    script = tmp_path / "fake-player"
    script.write_text(RECORDER.format(python=sys.executable, out=str(out)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, out


def recorded(out: Path, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            try:
                return json.loads(out.read_text())
            except ValueError:
                pass  # being written
        time.sleep(0.02)
    raise AssertionError("the player never ran")


def test_the_player_gets_its_words_then_the_url_as_one_argument(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    url = "https://cast.example/ep.mp3?a=1;rm -rf ~&b=$(id)`id`"
    play(url, Settings(player=[str(script), "--no-video", "--title=x y"]))
    seen = recorded(out)
    # No shell: the URL is one word (its space made %20, as every URL reader keeps), nothing ran.
    assert seen["argv"] == ["--no-video", "--title=x y", "https://cast.example/ep.mp3?a=1;rm%20-rf%20~&b=$(id)`id`"]
    assert seen["tty"] is False  # stdin/stdout/stderr on /dev/null: it can't draw over the app
    assert seen["sid"] == seen["pid"]  # a session of its own: detached from the terminal's Ctrl+C


def test_a_downloaded_file_is_played_by_its_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, out = recorder(tmp_path)
    episode = tmp_path / "-rf ep.mp3"  # a name that would read as an option if passed relative
    episode.write_bytes(b"ID3")
    monkeypatch.chdir(tmp_path)
    play(Path(episode.name), Settings(player=[str(script)]))
    assert recorded(out)["argv"] == [str(episode)]


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "file:///etc/passwd", "data:audio/mpeg;base64,AAAA", "ftp://x.example/a.mp3",
    "https://x.example/\x1b]52;c;aGk=\x07a.mp3", "not a url",
])
def test_only_http_urls_are_played(tmp_path: Path, url: str) -> None:
    script, out = recorder(tmp_path)
    with pytest.raises(PlayerError, match="not an http"):
        play(url, Settings(player=[str(script)]))
    time.sleep(0.1)
    assert not out.exists()


def test_a_missing_player_is_a_clear_one_line_error() -> None:
    with pytest.raises(PlayerError) as info:
        play("https://x.example/a.mp3", Settings(player=["mpv-not-installed-here", "--no-video"]))
    assert str(info.value) == 'player "mpv-not-installed-here" not found: set player in config.toml'


def test_a_player_that_is_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "player"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PlayerError, match="cannot be run"):
        play("https://x.example/a.mp3", Settings(player=[str(script)]))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlayerError, match="no such file"):
        play(tmp_path / "gone.mp3", Settings(player=["true"]))


@pytest.mark.skipif(sys.platform != "linux", reason="the system opener on Linux is xdg-open")
def test_no_player_set_uses_the_system_opener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert player_argv("https://x.example/a.mp3", Settings()) == ["xdg-open", "https://x.example/a.mp3"]
    # A real run: an xdg-open of our own first on PATH.
    script, out = recorder(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(script, bin_dir / "xdg-open")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    play("https://x.example/a.mp3", Settings())
    assert recorded(out)["argv"] == ["https://x.example/a.mp3"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PlayerError, match=r'"xdg-open" not found: no player is set: set player in config\.toml'):
        play("https://x.example/a.mp3", Settings())
