"""Issue 11, hooks: the `browser`, `pipe`, `bookmark` and `notify` commands (reader/hooks.py).

Real commands throughout: small scripts written into tmp_path that record their arguments and
stdin to a JSON file, run as the user's command would be (no shell, no mocks of subprocess).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from reader import hooks
from reader.config import Settings
from reader.hooks import BELL, HookError, bookmark, notify, open_url, run_detached, run_foreground, run_with_stdin

RECORDER = """#!{python}
import json, sys
data = sys.stdin.read() if {read_stdin} else ""
with open({out!r}, "w", encoding="utf-8") as f:
    json.dump({{"argv": sys.argv[1:], "stdin": data}}, f)
"""


def recorder(tmp_path: Path, name: str = "hook", read_stdin: bool = True) -> tuple[Path, Path]:
    """A script that records its argv and stdin to `<name>.json`; (script, record)."""
    out = tmp_path / f"{name}.json"
    script = tmp_path / name
    script.write_text(RECORDER.format(python=sys.executable, out=str(out), read_stdin=read_stdin))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, out


def shell_script(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def read_record(out: Path, timeout: float = 5.0) -> dict:
    """The record a (possibly detached) script wrote, once it is complete."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(out.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                raise AssertionError(f"{out.name} was never written") from None
            time.sleep(0.02)


HOSTILE = "x; touch {marker} && $(touch {marker}) `touch {marker}` | touch {marker}"


def test_issue11_hooks_command_gets_its_words_then_the_arguments_and_stdin(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    url = "https://a.example/p?q=1&r=2"
    run_with_stdin([str(script), "--flag", "two words"], [url, "Title"], "the post\nbody")
    record = read_record(out)
    assert record == {"argv": ["--flag", "two words", url, "Title"], "stdin": "the post\nbody"}


def test_issue11_hooks_no_shell_a_hostile_argument_is_one_argument(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    hostile = HOSTILE.format(marker=marker)
    script, out = recorder(tmp_path)
    run_with_stdin([str(script)], [hostile], hostile)
    assert read_record(out)["argv"] == [hostile]
    # detached too (the browser's way)
    script2, out2 = recorder(tmp_path, "detached", read_stdin=False)
    run_detached([str(script2)], [hostile], what="browser")
    assert read_record(out2)["argv"] == [hostile]
    time.sleep(0.1)
    assert not marker.exists()


def test_issue11_hooks_missing_command_is_one_clear_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-command")
    for run in (
        lambda: run_with_stdin([missing], [], "x", what="bookmark", hint="check bookmark in config.toml"),
        lambda: run_detached([missing], ["https://a.example/"], what="bookmark", hint="check bookmark in config.toml"),
        lambda: run_foreground([missing], [], "x", what="bookmark", hint="check bookmark in config.toml"),
    ):
        with pytest.raises(HookError) as info:
            run()
        assert str(info.value) == f'bookmark "{missing}" not found: check bookmark in config.toml'


def test_issue11_hooks_not_executable_says_so(tmp_path: Path) -> None:
    script = tmp_path / "plain.txt"
    script.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(HookError, match=r'^pipe ".*plain.txt" cannot be run \(not executable\)$'):
        run_with_stdin([str(script)], [], "x", what="pipe")


def test_issue11_hooks_failing_command_says_its_exit_status_and_last_stderr_line(tmp_path: Path) -> None:
    script = shell_script(
        tmp_path, "fails",
        'cat >/dev/null; echo "first line" >&2; printf "\\033[31mdisk full\\033[0m\\n\\n" >&2; exit 3',
    )
    with pytest.raises(HookError) as info:
        run_with_stdin([str(script)], [], "text", what="bookmark")
    message = str(info.value)
    assert message == f'bookmark "{script}" failed (exit 3): disk full'
    assert "\n" not in message and "\x1b" not in message


def test_issue11_hooks_stderr_read_back_is_bounded(tmp_path: Path) -> None:
    # Megabytes on stderr: only the tail is read, and the error is still one short line.
    script = shell_script(
        tmp_path, "spews", 'head -c 3000000 /dev/zero | tr "\\0" "x" >&2; echo >&2; echo "the end" >&2; exit 1'
    )
    with pytest.raises(HookError) as info:
        run_with_stdin([str(script)], [], None, what="notify")
    assert str(info.value).endswith("failed (exit 1): the end")


def test_issue11_hooks_slow_command_is_stopped_at_the_timeout_with_its_children(tmp_path: Path) -> None:
    late = tmp_path / "LATE"
    script = shell_script(tmp_path, "slow", f'(sleep 1; touch "{late}") & sleep 30')
    started = time.monotonic()
    with pytest.raises(HookError) as info:
        run_with_stdin([str(script)], [], None, 0.3, what="notify")
    assert time.monotonic() - started < 2.0
    assert str(info.value) == f'notify "{script}" timed out after 0.3 s and was stopped'
    time.sleep(1.3)  # the child would have written by now had only the script been killed
    assert not late.exists()


def test_issue11_hooks_command_that_ignores_its_stdin_is_fine(tmp_path: Path) -> None:
    script, out = recorder(tmp_path, read_stdin=False)
    run_with_stdin([str(script)], ["a"], "y" * 1_000_000)  # more than a pipe buffer, never read
    assert read_record(out)["argv"] == ["a"]


# --- notify -----------------------------------------------------------------------------------


def test_issue11_notify_command_gets_title_and_body_as_arguments_and_body_on_stdin(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    settings = Settings(notify=[str(script), "--urgency=low"])
    assert notify(settings, "3 new posts", "One, Two, Three") is None
    assert read_record(out) == {"argv": ["--urgency=low", "3 new posts", "One, Two, Three"], "stdin": "One, Two, Three"}


def test_issue11_notify_cleans_hostile_text(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    title = "\x1b]0;owned\x07Title\nsecond line\0"
    body = "body\x1b[2J" + "z" * 10_000
    assert notify(Settings(notify=[str(script)]), title, body) is None
    record = read_record(out)
    sent_title, sent_body = record["argv"]
    assert "\x1b" not in sent_title + sent_body and "\0" not in sent_title and "\n" not in sent_title
    assert sent_title.startswith("Title")
    assert len(sent_body) <= hooks.NOTIFY_BODY_MAX


def test_issue11_notify_without_a_command_uses_notify_send_on_path(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script, out = recorder(bin_dir, "notify-send")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert notify(Settings(), "New posts", "A, B") is None
    assert read_record(out)["argv"] == ["--app-name=reader", "--", "New posts", "A, B"]


def test_issue11_a_post_title_is_never_an_option_of_the_notify_command(tmp_path: Path) -> None:
    """A new post titled "--wait" leads the body: getopt (notify-send's) takes options anywhere in argv."""
    script, out = recorder(tmp_path)
    assert notify(Settings(notify=[str(script)]), "-n", "--wait, Second") is None
    title, body = read_record(out)["argv"]
    assert not title.startswith("-") and not body.startswith("-")
    assert (title.strip(), body.strip()) == ("-n", "--wait, Second")


def test_issue11_notify_falls_back_to_the_bell(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert notify(Settings(), "New posts", "A") == BELL
    # notify-send present but failing (no desktop session): the bell, not an error every refresh
    shell_script(empty, "notify-send", 'echo "Cannot autolaunch D-Bus" >&2; exit 1')
    assert notify(Settings(), "New posts", "A") == BELL


def test_issue11_notify_command_errors_are_returned_never_raised(tmp_path: Path, monkeypatch) -> None:
    missing = str(tmp_path / "gone")
    assert notify(Settings(notify=[missing]), "t", "b") == f'notify "{missing}" not found: check notify in config.toml'
    failing = shell_script(tmp_path, "fails", "echo nope >&2; exit 2")
    assert notify(Settings(notify=[str(failing)]), "t", "b") == f'notify "{failing}" failed (exit 2): nope'
    monkeypatch.setattr(hooks, "NOTIFY_TIMEOUT", 0.3)
    slow = shell_script(tmp_path, "slow", "exec sleep 30")
    started = time.monotonic()
    result = notify(Settings(notify=[str(slow)]), "t", "b")
    assert result == f'notify "{slow}" timed out after 0.3 s and was stopped'
    assert time.monotonic() - started < 2.0


def test_issue11_ring_bell_writes_nothing_into_a_pipe(capsys) -> None:
    hooks.ring_bell()
    assert capsys.readouterr().out == ""


# --- browser ----------------------------------------------------------------------------------


def test_issue11_browser_command_gets_the_url_last(tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "browser", read_stdin=False)
    open_url("https://example.com/a?b=1&c=$(id)", Settings(browser=[str(script), "--new-tab"]))
    assert read_record(out)["argv"] == ["--new-tab", "https://example.com/a?b=1&c=$(id)"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "-e http://x.example/", "", None])
def test_issue11_browser_opens_only_http_links(tmp_path: Path, url: str | None) -> None:
    script, out = recorder(tmp_path, "browser", read_stdin=False)
    with pytest.raises(HookError, match="not an http"):
        open_url(url, Settings(browser=[str(script)]))
    time.sleep(0.1)
    assert not out.exists()


def test_issue11_browser_missing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HookError) as info:
        open_url("https://example.com/", Settings(browser=["no-such-browser-here"]))
    assert str(info.value) == 'browser "no-such-browser-here" not found: check browser in config.toml'


def test_issue11_browser_unset_uses_webbrowser_and_says_when_none_works(monkeypatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    open_url("https://example.com/x", Settings())
    assert opened == ["https://example.com/x"]
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: False)
    with pytest.raises(HookError, match=r"^no browser could open https://example\.com/x: set browser in config\.toml$"):
        open_url("https://example.com/x", Settings())


# --- bookmark ---------------------------------------------------------------------------------


def test_issue11_bookmark_gets_url_title_description_feed_as_newsboat_does(tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "bookmark")
    marker = tmp_path / "PWNED"
    title = f"A post; touch {marker}"
    bookmark(Settings(bookmark=[str(script)]), "https://example.com/p", title, "The Feed")
    assert read_record(out) == {"argv": ["https://example.com/p", title, "", "The Feed"], "stdin": ""}
    assert not marker.exists()


def test_issue11_bookmark_errors(tmp_path: Path) -> None:
    with pytest.raises(HookError, match="no bookmark command is set: add bookmark ="):
        bookmark(Settings(), "https://example.com/p", "t")
    script, out = recorder(tmp_path, "bookmark")
    with pytest.raises(HookError, match="not an http"):
        bookmark(Settings(bookmark=[str(script)]), "ftp://example.com/p", "t")
    assert not out.exists()
    failing = shell_script(tmp_path, "fails", "echo 'database locked' >&2; exit 1")
    with pytest.raises(HookError, match=r'failed \(exit 1\): database locked$'):
        bookmark(Settings(bookmark=[str(failing)]), "https://example.com/p", "t")


# --- pipe (foreground) ------------------------------------------------------------------------


def test_issue11_pipe_runs_in_the_foreground_with_the_post_on_stdin(tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "pipe")
    run_foreground([str(script), "-R"], [], "Title\n=====\n\nbody ünïcode\n")
    assert read_record(out, timeout=0) == {"argv": ["-R"], "stdin": "Title\n=====\n\nbody ünïcode\n"}


def test_issue11_pipe_reader_that_quits_early_is_not_an_error(tmp_path: Path) -> None:
    script = shell_script(tmp_path, "head1", "head -c 10 >/dev/null")
    # A pager quit after the first screen: the rest of the post meets a broken pipe, which is no error
    # (run_foreground raises HookError for a failure; here it returns).
    started = time.monotonic()
    assert run_foreground([str(script)], [], "x" * 2_000_000) is None
    assert time.monotonic() - started < 10  # it never waits on a reader that has gone


def test_issue11_pipe_failing_says_its_status(tmp_path: Path) -> None:
    script = shell_script(tmp_path, "fails", "cat >/dev/null; exit 4")
    with pytest.raises(HookError, match=r'^pipe ".*fails" failed \(exit 4\)$'):
        run_foreground([str(script)], [], "x", what="pipe")


def test_issue11_player_shares_the_detached_runner(tmp_path: Path) -> None:
    # reader/player.py starts its command through hooks.run_detached: same no-shell argv, same errors.
    from reader.player import PlayerError, play

    script, out = recorder(tmp_path, "player", read_stdin=False)
    play("https://example.com/a.mp3", Settings(player=[str(script), "--no-video"]))
    assert read_record(out)["argv"] == ["--no-video", "https://example.com/a.mp3"]
    with pytest.raises(PlayerError) as info:
        play("https://example.com/a.mp3", Settings(player=["no-such-player-here"]))
    assert isinstance(info.value, HookError)
    assert str(info.value) == 'player "no-such-player-here" not found: set player in config.toml'


def test_issue11_hooks_leave_no_zombies(tmp_path: Path) -> None:
    if not Path("/proc/self/task").exists():
        pytest.skip("needs /proc")
    script = shell_script(tmp_path, "quick", "exit 0")
    for _ in range(5):
        run_detached([str(script)], [], what="browser")
    time.sleep(0.5)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    zombies = [
        pid for pid in children.read_text().split()
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    ]
    assert zombies == []


def test_issue11_pipe_interrupted_or_killed_says_so(tmp_path: Path) -> None:
    interrupted = shell_script(tmp_path, "interrupted", "cat >/dev/null; kill -INT $$")
    with pytest.raises(HookError, match=r'^pipe ".*interrupted" was interrupted$'):
        run_foreground([str(interrupted)], [], "x", what="pipe")
    killed = shell_script(tmp_path, "killed", "cat >/dev/null; kill -TERM $$")
    with pytest.raises(HookError, match=r'^pipe ".*killed" was killed by signal 15$'):
        run_foreground([str(killed)], [], "x", what="pipe")


def test_issue11_browser_percent_u_takes_the_url_in_place_as_newsboat_does(tmp_path: Path) -> None:
    script, out = recorder(tmp_path, "browser", read_stdin=False)
    open_url("https://example.com/a b", Settings(browser=[str(script), "--url=%u", "--new-tab"]))
    assert read_record(out)["argv"] == ["--url=https://example.com/a%20b", "--new-tab"]
