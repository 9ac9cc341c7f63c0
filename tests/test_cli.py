"""The command line's edges (issue 8): interrupts, pipes, bad numbers, masked URLs, config and paths."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reader.cli import main
from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(READER_DATA_DIR=str(tmp_path / "data"), READER_CONFIG_DIR=str(tmp_path / "config"), **extra)
    env.pop("COLUMNS", None)
    return env


def _reader(*args: str) -> list[str]:
    return [sys.executable, "-m", "reader", *args]


class Hanging(str):
    """The server's base URL; `held` lists the connections it is sitting on."""

    held: list[socket.socket]


@pytest.fixture
def hanging_server() -> Iterator[Hanging]:
    """A loopback server that accepts connections and never answers: a refresh waits on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    url = Hanging(f"http://127.0.0.1:{server.getsockname()[1]}")
    url.held = held
    yield url
    server.close()
    for conn in held:
        conn.close()


# --- item 8: Ctrl+C in refresh -----------------------------------------------------------


def test_issue8_ctrl_c_in_refresh_is_one_line_and_130(tmp_path: Path, hanging_server: Hanging) -> None:
    store = Store(tmp_path / "data" / "reader.sqlite")
    for i in range(3):
        store.add_feed(f"{hanging_server}/feed{i}")
    store.close()
    proc = subprocess.Popen(
        _reader("refresh"), env=_env(tmp_path), cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while len(hanging_server.held) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # until every request is in flight
    assert len(hanging_server.held) == 3
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert err == "reader: interrupted\n"
    assert out == ""


# --- helpers for the rest ----------------------------------------------------------------


def _fill(store: Store, url: str, title: str, count: int, content: str = "<p>hello <b>world</b></p>") -> None:
    store.add_feed(url)
    store.save_parsed(url, ParsedFeed(title, None, [
        ParsedEntry(f"k{i}", f"Post {i}", f"https://example.com/{i}", "Ann", 1_700_000_000 + i, ["News"], content, None)
        for i in range(count)
    ]))


def _refused_port() -> int:
    """A loopback port nothing listens on: a fetch fails at once with "connection refused"."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _argparse_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    assert info.value.code == 2
    return capsys.readouterr().err


# --- item 5 (crashes): numbers too big for SQLite, and dates at the ends of the calendar ---


@pytest.mark.parametrize(
    "args",
    [
        ("show", "99999999999999999999"),
        ("show", "0"),
        ("show", "-1"),
        ("show", "abc"),
        ("mark", "99999999999999999999", "--read"),
        ("mark", "1", "0", "--star"),
        ("mark", "--read", "--", "-7"),
        ("entries", "--limit", "99999999999999999999"),
        ("entries", "--limit", "0"),
        ("entries", "-n", "-3"),
    ],
)
def test_issue8_out_of_range_ids_and_limits_are_one_line_errors(
    args: tuple[str, ...], store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(store, "https://a.example/feed", "A", 2)
    err = _argparse_error(capsys, *args)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"reader {args[0]}: ") and ("from 1 to 9223372036854775807" in err or "whole number" in err)


def test_issue8_largest_id_and_limit_are_accepted(cli, store: Store) -> None:
    _fill(store, "https://a.example/feed", "A", 2)
    top = str(2**63 - 1)
    assert cli("show", top).err == f"reader: no post with id {top} (see: reader entries)\n"
    assert len(cli("entries", "--limit", top, "--json").json()) == 2


@pytest.mark.parametrize("query", ["since:0001-01", "since:0001-01-01", "before:9999-12-31T23:59:59", "since:999999y"])
def test_issue8_entries_with_extreme_dates(cli, store: Store, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # east of UTC: local midnight of year 1 is in year 0 UTC
    time.tzset()
    try:
        _fill(store, "https://a.example/feed", "A", 2)
        result = cli("entries", query, "--json")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert result.code == 0, result.err
    assert len(result.json()) == 2


# --- pipes and terminals --------------------------------------------------------------------


@pytest.mark.parametrize("extra", [(), ("--json",)])
def test_issue8_broken_pipe_exits_0_silently(tmp_path: Path, store: Store, extra: tuple[str, ...]) -> None:
    """`reader entries | head -1`: far more than a pipe buffer (64 KB) of output, the reader gone after one line."""
    _fill(store, "https://a.example/feed", "A feed", 3000)
    store.close()
    proc = subprocess.Popen(
        _reader("entries", *extra), env=_env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    assert first.strip()
    assert err == b""


def test_issue8_broken_pipe_through_a_shell_pipeline(tmp_path: Path, store: Store) -> None:
    _fill(store, "https://a.example/feed", "A feed", 3000)
    store.close()
    command = " ".join(_reader("entries")) + " | head -1; echo \"status ${PIPESTATUS[0]}\" >&2"
    result = subprocess.run(
        ["bash", "-c", command], env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.stdout.count("\n") == 1 and "Post 2999" in result.stdout
    assert result.stderr == "status 0\n"


def test_issue8_no_terminal_lists_posts_instead_of_starting_the_app(tmp_path: Path, store: Store) -> None:
    """`reader > file`: the app can't draw into a file; the list goes there and stderr says what to run."""
    _fill(store, "https://a.example/feed", "A feed", 3)
    store.close()
    out_file = tmp_path / "out.txt"
    with out_file.open("w") as out:
        result = subprocess.run(
            _reader(), env=_env(tmp_path), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.PIPE, text=True, timeout=60,
        )
    assert result.returncode == 0
    lines = out_file.read_text().splitlines()
    assert len(lines) == 3 and lines[0].endswith("Post 2") and "\x1b" not in out_file.read_text()
    assert result.stderr.count("\n") == 1
    assert "not a terminal" in result.stderr and "reader entries" in result.stderr


def test_issue8_refresh_without_a_terminal_prints_no_progress_bar(tmp_path: Path, feed_server) -> None:
    store = Store(tmp_path / "data" / "reader.sqlite")
    store.add_feed(feed_server.url("atom.xml"))
    store.add_feed(f"http://127.0.0.1:{_refused_port()}/gone.xml")
    store.close()
    result = subprocess.run(
        _reader("refresh"), env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0
    assert "\r" not in result.stderr and "\x1b" not in result.stderr and "refreshing [" not in result.stderr
    assert result.stderr.startswith("failed: ") and result.stderr.count("\n") == 1
    assert result.stdout.startswith("2 feeds checked")


# --- item: entries --json, mark, export, columns, same titles ------------------------------


def test_issue8_entries_json_has_the_body(cli, store: Store) -> None:
    _fill(store, "https://a.example/feed", "A", 1, '<p>Read <a href="https://example.org/x">this</a> &amp; more</p>')
    [post] = cli("entries", "--json").json()
    assert post["content_html"] == '<p>Read <a href="https://example.org/x">this</a> &amp; more</p>'
    assert post["text"] == "Read this[1] & more"
    assert post["links"] == ["https://example.org/x"]
    assert post["truncated"] is False


def test_issue8_entries_json_bounds_a_huge_body(cli, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import reader.cli_entries

    monkeypatch.setattr(reader.cli_entries, "JSON_BODY_CHARS", 1000)  # the mechanism, at a size a test can afford
    _fill(store, "https://a.example/feed", "A", 1, "<p>" + "word " * 2000 + "</p>")
    [post] = cli("entries", "--json").json()
    assert len(post["content_html"]) == 1000 and len(post["text"]) == 1000
    assert post["truncated"] is True


def test_issue8_mark_takes_several_flags(cli, store: Store) -> None:
    _fill(store, "https://a.example/feed", "A", 2)
    ids = [str(r.id) for r in store.list_entries()]
    assert cli("mark", *ids, "--star", "--read").code == 0
    assert all(r.read and r.starred for r in store.list_entries())
    assert cli("mark", ids[0], "--unread", "--unstar").code == 0
    row = store.entry_rows([int(ids[0])])[0]
    assert not row.read and not row.starred


@pytest.mark.parametrize(("flags", "words"), [(("--read", "--unread"), "--read and --unread"),
                                                (("--star", "--unstar"), "--star and --unstar"),
                                                ((), "say what to mark")])
def test_issue8_mark_refuses_opposites(cli, store: Store, flags: tuple[str, ...], words: str) -> None:
    _fill(store, "https://a.example/feed", "A", 1)
    [row] = store.list_entries()
    result = cli("mark", str(row.id), *flags)
    assert result.code == 1 and words in result.err and result.err.count("\n") == 1
    assert store.entry_rows([row.id])[0].read is False  # nothing half-done


def test_issue8_export_to_a_missing_directory(cli, store: Store, tmp_path: Path) -> None:
    _fill(store, "https://a.example/feed", "A", 1)
    target = tmp_path / "no" / "such" / "feeds.opml"
    result = cli("export", str(target))
    assert result.code == 1
    assert result.err == f"reader: cannot write {target}: there is no directory {target.parent}\n"
    assert "Errno" not in result.err
    assert cli("export", str(tmp_path / "feeds.opml")).code == 0


def test_issue8_wide_titles_keep_the_columns(cli, store: Store) -> None:
    from rich.cells import cell_len

    _fill(store, "https://a.example/feed", "日本語のニュースフィード・長い名前", 1)
    _fill(store, "https://b.example/feed", "Plain", 1)
    _fill(store, "https://c.example/feed", "漢", 1)
    lines = cli("entries").out.splitlines()
    assert len(lines) == 3
    starts = {cell_len(line[: line.index("Post 0")]) for line in lines}
    assert len(starts) == 1  # every title starts in the same terminal column


def test_issue8_feeds_with_the_same_title_can_be_told_apart(cli, store: Store) -> None:
    _fill(store, "https://one.example/feed", "Daily News", 1)
    _fill(store, "https://two.example/feed", "Daily News", 1)
    feeds = cli("feeds").out
    assert "https://one.example/feed" in feeds and "https://two.example/feed" in feeds
    listed = cli("entries").out.splitlines()
    assert sorted("one.example" in line for line in listed) == [False, True]
    assert sorted("two.example" in line for line in listed) == [False, True]
    assert {p["feed_url"] for p in cli("entries", "--json").json()} == {
        "https://one.example/feed", "https://two.example/feed",
    }


# --- credentials in feed URLs ----------------------------------------------------------------


def test_issue8_credentials_are_masked_wherever_a_url_is_printed(cli, store: Store) -> None:
    port = _refused_port()
    url = f"http://alice:hunter2@127.0.0.1:{port}/feed.xml"
    added = cli("add", "--no-fetch", url)
    assert added.code == 0 and "hunter2" not in added.out and "alice:***@" in added.out
    again = cli("add", "--no-fetch", url)
    assert "hunter2" not in again.out + again.err

    refreshed = cli("refresh")  # fails: nothing listens there
    assert refreshed.err.startswith(f"failed: http://alice:***@127.0.0.1:{port}/feed.xml: ")
    text = cli("feeds").out
    assert "alice:***@" in text and "hunter2" not in text
    [feed] = cli("feeds", "--json").json()
    assert feed["url"] == f"http://alice:***@127.0.0.1:{port}/feed.xml"
    assert store.get_feed(url) is not None  # the stored URL keeps the password: it is needed to fetch

    store.save_parsed(url, ParsedFeed("", None, [ParsedEntry("k", "P", None, "", 1_700_000_000, [], "<p>x</p>", None)]))
    listed = cli("entries").out + cli("entries", "--json").out
    [post] = cli("entries", "--json").json()
    assert post["feed_url"] == feed["url"] and "hunter2" not in listed
    assert "hunter2" not in cli("show", str(post["id"])).out  # an untitled feed is shown by its URL

    removed = cli("remove", url)
    assert removed.code == 0 and "hunter2" not in removed.out and "alice:***@" in removed.out
    missing = cli("remove", url)
    assert missing.code == 1 and "hunter2" not in missing.err


# --- config.toml: every setting checked, every command says so -------------------------------


def _write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "name", "default"),
    [
        ("timeout = -1", "timeout", 30.0),
        ("timeout = 0", "timeout", 30.0),
        ("timeout = 1e9", "timeout", 30.0),
        ("timeout = nan", "timeout", 30.0),
        ('timeout = "3"', "timeout", 30.0),
        ("timeout = true", "timeout", 30.0),
        ("mark_read_after = inf", "mark_read_after", 1.0),
        ("mark_read_after = 1e6", "mark_read_after", 1.0),
        ("concurrency = 0", "concurrency", 16),
        ("concurrency = 100000", "concurrency", 16),
        ("concurrency = 2.5", "concurrency", 16),
        ("theme = 7", "theme", "textual-dark"),
        ('theme = ""', "theme", "textual-dark"),
        ('theme = "a\\u001b]0;x\\u0007"', "theme", "textual-dark"),
        ('refresh_on_start = "yes"', "refresh_on_start", False),
    ],
)
def test_issue8_bad_setting_falls_back_and_is_reported(tmp_path: Path, text: str, name: str, default: object) -> None:
    from reader.config import load_settings

    full = text if "concurrency" in text else text + "\nconcurrency = 4\n"
    settings = load_settings(_write_config(tmp_path, full))
    assert getattr(settings, name) == default
    assert settings.error is not None and name in settings.error and "\n" not in settings.error
    assert "\x1b" not in settings.error
    if name != "concurrency":
        assert settings.concurrency == 4  # one bad setting costs only itself


def test_issue8_good_settings_and_negative_mark_read_after(tmp_path: Path) -> None:
    from reader.config import load_settings

    settings = load_settings(_write_config(tmp_path, 'timeout = 600\nmark_read_after = -1e9\ntheme = "nord"\n'))
    assert settings.error is None
    assert (settings.timeout, settings.mark_read_after, settings.theme) == (600.0, -1e9, "nord")


def test_issue8_unknown_setting_and_bad_key_are_reported(tmp_path: Path) -> None:
    from reader.config import load_settings

    settings = load_settings(_write_config(tmp_path, 'timout = 3\n[keys]\n"app.quit" = 1\n"app.help" = "h"\n'))
    assert settings.error is not None and "timout" in settings.error and "app.quit" in settings.error
    assert settings.keymap == {"app.help": "h"} and settings.timeout == 30.0


@pytest.mark.parametrize("command", [("feeds",), ("entries",), ("export",), ("refresh",)])
def test_issue8_every_command_warns_about_a_broken_config(cli, tmp_path: Path, command: tuple[str, ...]) -> None:
    path = _write_config(tmp_path, "timeout = \n")  # not TOML
    result = cli(*command)
    assert result.code == 0
    warning = [line for line in result.err.splitlines() if line.startswith("reader: warning:")]
    assert warning == [f"reader: warning: {path}: not valid TOML: Invalid value (at line 1, column 11); "
                       "every setting is at its default"]


def test_issue8_negative_timeout_does_not_reach_the_fetcher(cli, tmp_path: Path, feed_server) -> None:
    _write_config(tmp_path, "timeout = -1\n")
    assert cli("add", "--no-fetch", feed_server.url("atom.xml")).code == 0
    result = cli("refresh")
    assert result.code == 0 and "0 failed" in result.out
    assert "timed out" not in result.err
    assert result.err.startswith("reader: warning:") and "timeout must be" in result.err


# --- item 7: our own directory names, and a one-time move of our files --------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home with the XDG dirs under it, and no READER_*_DIR overrides."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("READER_DATA_DIR", raising=False)
    monkeypatch.delenv("READER_CONFIG_DIR", raising=False)
    return home


def _legacy(home: Path) -> tuple[Path, Path]:
    """What an older reader and the lemon24/reader library left in ~/.config/reader and ~/.local/share/reader."""
    old_config, old_data = home / ".config" / "reader", home / ".local" / "share" / "reader"
    old_config.mkdir(parents=True)
    (old_config / "config.toml").write_text('theme = "nord"\n')
    (old_config / "config.yaml").write_text("reader: {url: db.sqlite}\n")  # lemon24's
    (old_config / "db.sqlite").write_bytes(b"lemon24's cache")
    store = Store(old_data / "reader.sqlite")
    store.add_feed("https://kept.example/feed")
    store.close()
    (old_data / "db.sqlite").write_bytes(b"lemon24's other cache")
    return old_config, old_data


def test_issue8_new_dirs_are_named_reader_tui(home: Path) -> None:
    from reader.config import config_dir, data_dir

    assert config_dir() == home / ".config" / "reader-tui"
    assert data_dir() == home / ".local" / "share" / "reader-tui"


def test_issue8_our_files_move_once_and_lemon24s_stay(cli, home: Path) -> None:
    old_config, old_data = _legacy(home)
    new_config, new_data = home / ".config" / "reader-tui", home / ".local" / "share" / "reader-tui"

    first = cli("feeds", "--json")
    assert first.code == 0, first.err
    assert [f["url"] for f in first.json()] == ["https://kept.example/feed"]  # the cache came along
    moves = first.err.splitlines()
    assert len(moves) == 2 and all(line.startswith("reader: moved your ") for line in moves)
    assert (new_config / "config.toml").read_text() == 'theme = "nord"\n'
    assert (new_data / "reader.sqlite").is_file()
    assert not (old_config / "config.toml").exists() and not (old_data / "reader.sqlite").exists()
    # Not ours: untouched.
    assert (old_config / "config.yaml").read_text() == "reader: {url: db.sqlite}\n"
    assert (old_config / "db.sqlite").read_bytes() == b"lemon24's cache"
    assert (old_data / "db.sqlite").read_bytes() == b"lemon24's other cache"
    assert sorted(p.name for p in new_data.iterdir() if not p.name.startswith("reader.sqlite")) == []

    second = cli("feeds", "--json")
    assert second.err == ""  # said once


def test_issue8_move_never_clobbers_the_new_dirs(cli, home: Path) -> None:
    old_config, old_data = _legacy(home)
    new_config = home / ".config" / "reader-tui"
    new_config.mkdir(parents=True)
    (new_config / "config.toml").write_text('theme = "gruvbox"\n')
    new_store = Store(home / ".local" / "share" / "reader-tui" / "reader.sqlite")
    new_store.add_feed("https://new.example/feed")
    new_store.close()

    result = cli("feeds", "--json")
    assert [f["url"] for f in result.json()] == ["https://new.example/feed"]
    assert "moved" not in result.err
    assert (new_config / "config.toml").read_text() == 'theme = "gruvbox"\n'
    assert (old_config / "config.toml").read_text() == 'theme = "nord"\n'
    assert (old_data / "reader.sqlite").is_file()


def test_issue8_overrides_skip_the_move(cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_config, old_data = _legacy(home)
    monkeypatch.setenv("READER_CONFIG_DIR", str(tmp_path / "mine"))
    result = cli("--data-dir", str(tmp_path / "elsewhere"), "feeds", "--json")
    assert result.code == 0 and result.json() == [] and result.err == ""
    assert (old_config / "config.toml").exists() and (old_data / "reader.sqlite").exists()
    assert not (home / ".config" / "reader-tui").exists() and not (home / ".local" / "share" / "reader-tui").exists()
    monkeypatch.delenv("READER_CONFIG_DIR")
    monkeypatch.setenv("READER_DATA_DIR", str(tmp_path / "elsewhere"))
    result = cli("feeds")
    assert result.err.count("moved your settings") == 1 and "cache" not in result.err
    assert (old_data / "reader.sqlite").exists()


def test_issue8_an_interrupted_move_is_finished_next_time(cli, home: Path) -> None:
    """The -wal goes first and the database last: a move cut short between them completes later, intact."""
    _, old_data = _legacy(home)
    new_data = home / ".local" / "share" / "reader-tui"
    new_data.mkdir(parents=True)
    (old_data / "reader.sqlite-wal").write_bytes(b"")
    (old_data / "reader.sqlite-wal").rename(new_data / "reader.sqlite-wal")  # as if the move stopped here
    result = cli("feeds", "--json")
    assert [f["url"] for f in result.json()] == ["https://kept.example/feed"]
    assert not (old_data / "reader.sqlite").exists()


def test_issue8_dates_a_calendar_cannot_hold_list_without_crashing(cli, store: Store) -> None:
    store.add_feed("https://a.example/feed")
    store.save_parsed("https://a.example/feed", ParsedFeed("A", None, [
        ParsedEntry("past", "far past", None, "", -1e15, [], "<p>x</p>", None),
        ParsedEntry("one", "year one", None, "", -62135596800.0, [], "<p>x</p>", None),
    ]))
    listed = cli("entries")
    assert listed.code == 0
    columns = {line.index("A ") for line in listed.out.splitlines()}
    assert len(columns) == 1  # every date is ten characters, or ten dashes
    assert "----------" in listed.out
    posts = cli("entries", "--json")
    assert posts.code == 0 and None in [p["published"] for p in posts.json()]


def test_issue10_feeds_show_the_id_other_commands_take(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    store.add_feed("https://a.example/feed", "A")
    [feed] = cli("feeds", "--json").json()
    assert isinstance(feed["id"], int)
    assert f"id {feed['id']})" in cli("feeds").out
    assert cli("full-text", str(feed["id"]), "off").code == 0  # the id `reader feeds` shows names the feed
    assert cli("feeds", "--json").json()[0]["full_text"] == "off"
    # No other number names it: not one past 64 bits cut short, not a digit of another script.
    for other in (str(feed["id"]) + "0" * 19, "\u0661" * len(str(feed["id"]))):
        assert cli("full-text", other).code == 1
