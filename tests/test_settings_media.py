"""Issue 10's settings: images, image_cache_mb, player, downloads_dir (reader/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.config import downloads_dir, images_dir, load_settings


def _load(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path, "")
    assert settings.images is True
    assert settings.image_cache_mb == 500
    assert settings.player == []
    assert settings.error is None
    assert downloads_dir(settings, tmp_path / "data") == tmp_path / "data" / "downloads"
    assert images_dir(tmp_path / "data") == tmp_path / "data" / "images"


def test_good_values(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        'images = false\nimage_cache_mb = 50\n'
        'player = "mpv --no-video \'--title=a b\'"\ndownloads_dir = "~/Podcasts"\n',
    )
    assert settings.error is None
    assert settings.images is False
    assert settings.image_cache_mb == 50
    # Split like a shell would, never run by one: the quoted word stays one argument.
    assert settings.player == ["mpv", "--no-video", "--title=a b"]
    assert downloads_dir(settings) == Path("~/Podcasts").expanduser()


def test_player_as_a_list(tmp_path: Path) -> None:
    settings = _load(tmp_path, 'player = ["vlc", "--play-and-exit"]\n')
    assert settings.player == ["vlc", "--play-and-exit"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('images = "yes"\n', "images"),
        ("image_cache_mb = -5\n", "image_cache_mb"),
        ("image_cache_mb = inf\n", "image_cache_mb"),
        ("player = 3\n", "player"),
        ('player = ""\n', "player"),
        ('player = "mpv \'unclosed"\n', "player"),
        ('player = ["mpv", 1]\n', "player"),
        ('player = "mpv\\u001b]52;c;x\\u0007"\n', "player"),
        ('downloads_dir = ""\n', "downloads_dir"),
    ],
)
def test_bad_values_keep_the_default_and_are_reported(tmp_path: Path, text: str, name: str) -> None:
    settings = _load(tmp_path, text)
    default = load_settings(tmp_path / "missing.toml")
    assert settings.error is not None and name in settings.error
    assert "\x1b" not in settings.error
    assert getattr(settings, name) == getattr(default, name)
