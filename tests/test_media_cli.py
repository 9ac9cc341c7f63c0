"""Issue 10, enclosures: `reader download ID` and `reader play ID`, against a real cache and a loopback server."""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from feedserver import FeedServer
from media_support import BODY, MediaFile
from media_support import media_server as media_server  # fixture `server` (the alias: imported for pytest)
from test_media_player import recorded, recorder

from reader.cli_media import Progress
from reader.models import Enclosure, ParsedEntry, ParsedFeed
from reader.store import Store


def add_episode(store: Store, enclosures: list[Enclosure], title: str = "Episode 1") -> int:
    url = "https://cast.invalid/feed.xml"
    if store.get_feed(url) is None:
        store.add_feed(url, "Cast")
    store.save_parsed(url, ParsedFeed("Cast", "https://cast.invalid/", [ParsedEntry(
        key=title, title=title, link="https://cast.invalid/1", author="", published=2_000_000_000.0,
        categories=[], content="<p>Notes</p>", base_url=None, enclosures=enclosures,
    )]))
    return store.list_entries("e.title = ?", [title], None)[0].id


def downloads() -> Path:
    return Path(os.environ["READER_DATA_DIR"]) / "downloads"


def test_download_saves_to_the_downloads_dir_then_knows_it(store: Store, server: FeedServer, cli) -> None:  # type: ignore[no-untyped-def]
    server.route("/ep1.mp3", MediaFile(BODY))
    post = add_episode(store, [Enclosure(server.url("/ep1.mp3"), "audio/mpeg", len(BODY))])
    result = cli("download", str(post))
    assert result.code == 0, result.err
    path = downloads() / "ep1.mp3"
    assert result.out == f"saved {path} (1.0 MB)\n"
    assert path.read_bytes() == BODY
    # Not a terminal: a plain line per tenth of the file, never a bar redrawn with \r.
    lines = result.err.splitlines()
    assert lines[-1] == "downloading: 100% (1.0 MB of 1.0 MB)" and len(lines) <= 11 and "\r" not in result.err
    again = cli("download", str(post))
    assert again.code == 0 and again.out == f"already downloaded: {path}\n"


def test_download_to_a_dir_quietly(store: Store, server: FeedServer, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server.route("/a.mp3", MediaFile(b"a" * 10))
    server.route("/b.ogg", MediaFile(b"b" * 20))
    post = add_episode(store, [Enclosure(server.url("/a.mp3")), Enclosure(server.url("/b.ogg"))])
    result = cli("download", str(post), "--enclosure", "2", "--to", str(tmp_path / "mine"), "--quiet")
    assert result.code == 0 and result.err == ""
    assert (tmp_path / "mine" / "b.ogg").read_bytes() == b"b" * 20


def test_download_errors_are_one_line(store: Store, server: FeedServer, cli) -> None:  # type: ignore[no-untyped-def]
    bare = add_episode(store, [], title="No files")
    result = cli("download", str(bare))
    assert result.code == 1
    assert result.err == f"reader: post {bare} has no enclosure (see: reader entries has:enclosure)\n"
    one = add_episode(store, [Enclosure(server.url("/status/404/x.mp3"))], title="One")
    result = cli("download", str(one), "--enclosure", "3")
    assert result.code == 1 and result.err == f"reader: post {one} has one enclosure: --enclosure takes 1 to 1\n"
    assert cli("download", "999999").err == "reader: no post with id 999999 (see: reader entries)\n"
    failed = cli("download", str(one), "--quiet")
    assert failed.code == 1 and failed.err == "reader: download failed: HTTP 404 Not Found\n"
    with pytest.raises(SystemExit) as info:
        cli("download", str(one), "--enclosure", "0")
    assert info.value.code == 2  # argparse's usage error, one line naming the option


def test_a_broken_download_says_how_to_resume_and_resumes(store: Store, server: FeedServer, cli) -> None:  # type: ignore[no-untyped-def]
    media = MediaFile(BODY, drop_after=[400_000])
    server.route("/ep.mp3", media)
    post = add_episode(store, [Enclosure(server.url("/ep.mp3"))])
    failed = cli("download", str(post), "-q")
    assert failed.code == 1
    assert failed.err.startswith("reader: download failed: connection broken mid-response")
    assert failed.err.endswith(f"(the part saved is kept: run `reader download {post}` again to resume)\n")
    assert failed.err.count("\n") == 1
    done = cli("download", str(post), "-q")
    assert done.code == 0
    assert media.ranges_seen[-1] == "bytes=400000-"
    assert (downloads() / "ep.mp3").read_bytes() == BODY


def test_issue10_the_resume_hint_repeats_to_and_enclosure(store: Store, server: FeedServer, cli,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    # `reader download 29 --to dl3` said "run `reader download 29` again": that starts from zero elsewhere.
    media = MediaFile(BODY, drop_after=[400_000, 400_000])
    server.route("/ep.mp3", media)
    post = add_episode(store, [Enclosure("https://cast.invalid/other.mp3"), Enclosure(server.url("/ep.mp3"))])
    folder = tmp_path / "my dl's\x1b[31m"
    failed = cli("download", str(post), "--enclosure", "2", "--to", str(folder), "-q")
    assert failed.code == 1 and failed.err.count("\n") == 1 and "\x1b" not in failed.err
    hint = failed.err.split("(the part saved is kept: run `", 1)[1].split("` again to resume)", 1)[0]
    words = shlex.split(hint)
    assert words[:6] == ["reader", "download", str(post), "--enclosure", "2", "--to"]
    assert len(words) == 7 and words[6].startswith(str(tmp_path / "my dl's"))
    # The hint, run as printed (the cleaned folder is the one the part is in when nothing was cleaned).
    plain = tmp_path / "dl3"
    failed = cli("download", str(post), "-e", "2", "--to", str(plain), "-q")
    hint = failed.err.split("run `", 1)[1].split("` again", 1)[0]
    assert shlex.split(hint) == ["reader", "download", str(post), "--enclosure", "2", "--to", str(plain)]
    done = cli(*shlex.split(hint)[1:], "-q")
    assert done.code == 0, done.err
    assert media.ranges_seen[-1] == "bytes=400000-"  # resumed where the part is, not from zero
    assert (plain / "ep.mp3").read_bytes() == BODY


def test_ctrl_c_keeps_the_part_and_says_how_to_resume(store: Store, server: FeedServer, tmp_path: Path) -> None:
    media = MediaFile(BODY, stall_after=300_000)
    server.route("/ep.mp3", media)
    post = add_episode(store, [Enclosure(server.url("/ep.mp3"))])
    part = downloads() / "ep.mp3.part"
    child = subprocess.Popen(
        [sys.executable, "-m", "reader", "download", str(post)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 10
        while not (part.exists() and part.stat().st_size >= 300_000) and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=10)
    finally:
        media.stop.set()
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130
    resume = f"run `reader download {post}` again to resume"
    assert err.strip().endswith(f"reader: interrupted; the part saved is kept: {resume}")
    assert "Traceback" not in err
    assert part.stat().st_size == 300_000
    media.stall_after = None
    finished = subprocess.run([sys.executable, "-m", "reader", "download", str(post), "-q"],
                              capture_output=True, text=True, env=os.environ.copy(), timeout=30)
    assert finished.returncode == 0, finished.stderr
    assert media.ranges_seen[-1] == "bytes=300000-"
    assert (downloads() / "ep.mp3").read_bytes() == BODY


def test_the_bar_on_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress(out, tty=True, quiet=False)
    for done in range(0, 10_000_001, 10_000):  # a thousand calls in a moment: drawn a few times, not a thousand
        bar.update(done, 10_000_000)
    text = out.getvalue()
    assert text.count("\r") < 20
    last = text.rsplit("\r\x1b[K", 1)[-1]
    assert last.startswith("downloading [########################] 100% 9.5 MB/9.5 MB") and last.endswith("B/s")
    bar.clear()
    assert out.getvalue().endswith("\r\x1b[K")
    quiet = io.StringIO()
    Progress(quiet, tty=True, quiet=True).update(5, 10)
    assert quiet.getvalue() == ""


def test_issue10_show_and_download_say_the_same_size(store: Store, server: FeedServer, cli) -> None:  # type: ignore[no-untyped-def]
    # 5,000,000 bytes: `show` said 4.8 MB (units of 1024), `download` 5.0 MB; one formatter now.
    body = b"z" * 5_000_000
    server.route("/five.mp3", MediaFile(body))
    post = add_episode(store, [Enclosure(server.url("/five.mp3"), "audio/mpeg", len(body))])
    shown = cli("show", str(post)).out
    assert "(audio/mpeg, 4.8 MB)" in shown
    result = cli("download", str(post))
    assert result.code == 0 and result.out.endswith("(4.8 MB)\n")
    assert result.err.splitlines()[-1] == "downloading: 100% (4.8 MB of 4.8 MB)"
    assert "5.0 MB" not in result.err + result.out


@pytest.mark.parametrize("columns", [12, 30, 40, 50, 63, 64, 80, 200])
def test_issue10_the_bar_never_reaches_the_terminals_edge(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Below ~64 columns the bar wrapped, and every redraw left a new line behind.
    monkeypatch.setenv("COLUMNS", str(columns))  # what shutil.get_terminal_size reads first
    out = io.StringIO()
    bar = Progress(out, tty=True, quiet=False)
    bar.started -= 1  # a rate of some MB/s, as on a real link
    total = 1_073_741_000
    for done in (0, 5_000_000, 512_000_000, 1_000_000_000, total):
        bar.last_draw = 0.0  # each call draws
        bar.update(done, total)
    bar.last_draw = 0.0
    bar.update(123_456_789, None)  # a size the server didn't give
    lines = out.getvalue().split("\r\x1b[K")[1:]
    assert len(lines) == 6
    for line in lines:
        assert 0 < len(line) < columns, line
        assert "%" in line or "MB" in line
    assert "100%" in lines[4]
    if columns >= 40:
        assert "[" in lines[4] and "1.0 GB/1.0 GB" in lines[4]


def write_player_config(script: Path) -> None:
    config = Path(os.environ["READER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(f"player = {json.dumps([str(script), '--no-video'])}\n")


def test_play_uses_the_player_on_the_url_then_on_the_downloaded_file(store: Store, server: FeedServer, cli,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    server.route("/ep.mp3", MediaFile(b"x" * 100))
    url = server.url("/ep.mp3")
    post = add_episode(store, [Enclosure(url, "audio/mpeg")])
    script, out = recorder(tmp_path)
    write_player_config(script)
    result = cli("play", str(post))
    assert result.code == 0, result.err
    assert result.out == f"playing {url}\n"
    assert recorded(out)["argv"] == ["--no-video", url]
    out.unlink()
    assert cli("download", str(post), "-q").code == 0
    assert cli("play", str(post)).code == 0
    assert recorded(out)["argv"] == ["--no-video", str(downloads() / "ep.mp3")]


def test_play_errors_are_one_line(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    post = add_episode(store, [Enclosure("https://cast.invalid/ep.mp3")])
    config = Path(os.environ["READER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('player = "mpv-not-installed-here --no-video"\n')
    result = cli("play", str(post))
    assert result.code == 1
    assert result.err == 'reader: player "mpv-not-installed-here" not found: set player in config.toml\n'


def test_issue10_show_numbers_several_enclosures_and_says_which_are_downloaded(  # type: ignore[no-untyped-def]
    store: Store, server: FeedServer, cli, tmp_path: Path
) -> None:
    from reader.render import render_entry_text

    server.route("/a.mp3", MediaFile(b"a" * 10))
    server.route("/b.ogg", MediaFile(b"b" * 20))
    post = add_episode(store, [Enclosure(server.url("/a.mp3"), "audio/mpeg"), Enclosure(server.url("/b.ogg"))])
    shown = cli("show", str(post)).out
    assert f"Enclosure 1: {server.url('/a.mp3')} (audio/mpeg)\n" in shown
    assert f"Enclosure 2: {server.url('/b.ogg')}\n" in shown
    assert cli("download", str(post), "--enclosure", "2", "--to", str(tmp_path / "dl"), "-q").code == 0
    entry = store.get_entry(post)
    assert entry is not None
    text = render_entry_text(entry, downloads=tmp_path / "dl")
    assert f"Enclosure 1: {server.url('/a.mp3')} (audio/mpeg)\n" in text  # not downloaded: nothing said
    assert f"Enclosure 2: {server.url('/b.ogg')} · downloaded: {tmp_path / 'dl' / 'b.ogg'}\n" in text
    (tmp_path / "dl" / "b.ogg").unlink()  # deleted since: no longer said
    assert "downloaded:" not in render_entry_text(entry, downloads=tmp_path / "dl")
    # `reader show` itself looks in the downloads directory.
    assert cli("download", str(post), "--enclosure", "1", "-q").code == 0
    assert "· downloaded: " in cli("show", str(post)).out.split("Enclosure 1:")[1].splitlines()[0]
    single = add_episode(store, [Enclosure(server.url("/a.mp3"), "audio/mpeg")], title="Single")
    # One enclosure: no number (and the same URL, downloaded above, says so).
    assert f"Enclosure:  {server.url('/a.mp3')} (audio/mpeg) · downloaded: " in cli("show", str(single)).out
