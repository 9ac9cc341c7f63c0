"""Hooks: the commands a power user wires in (`browser`, `pipe`, `bookmark`, `notify` in config.toml).

Every command is the setting's words plus the arguments this module appends, run WITHOUT a
shell: a URL or title holding `; rm -rf ~` is one argument and nothing else. Three ways to run:

- detached (`run_detached`, for the browser and the player in reader/player.py): a session of
  its own, stdin/stdout/stderr on /dev/null, never waited for, so it can't draw over the app
  and outlives it;
- waited for with a timeout (`run_with_stdin`, for bookmark and notify scripts): text on
  stdin, stdout discarded, the tail of stderr kept for the error line; killed (its whole
  process group) when it runs past the timeout, so a hung script costs at most that long.

- in the foreground (`run_foreground`, for `pipe`): the terminal is the command's (the app
  suspends itself around it: reader/tui/hooks.py), the text on its stdin, waited for however
  long it takes (a pager waits for the user); Ctrl+C meanwhile is the command's, not the app's.

Errors are one clean line (`HookError`, or the string `notify`/`bookmark` return): the
command's name, what went wrong (not found, not executable, exit status with the last line it
wrote to stderr, timed out) and, where it helps, which setting to change.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import IO

from .config import Settings
from .sanitize import clean_line, clean_message, clean_text, mask_credentials, safe_url

# A hook script that hangs must not hold a worker (or the CLI) for long.
HOOK_TIMEOUT = 5.0
NOTIFY_TIMEOUT = 5.0
BOOKMARK_TIMEOUT = 10.0
# What a notification may carry: a summary line, not a feed's worth of titles.
NOTIFY_TITLE_MAX = 200
NOTIFY_BODY_MAX = 2000
# Only the end of a failing command's stderr is read back: it holds the message that matters,
# and a script that writes megabytes must not cost megabytes.
STDERR_TAIL = 4096
# The value notify() returns when there is nothing to run: the caller rings the terminal bell.
BELL = "bell"
# What to do about a key whose command is not set.
BOOKMARK_HINT = 'no bookmark command is set: add bookmark = "/path/to/save-link" to config.toml'
PIPE_HINT = 'no pipe command is set: add pipe = "less -R" (or a notes script) to config.toml'


class HookError(Exception):
    """Why a hook command could not run or failed: one clean line."""


def _name(words: Sequence[str]) -> str:
    return clean_line(words[0], 200) if words else "?"


def _start_error(what: str, name: str, exc: OSError, hint: str) -> HookError:
    """The one line for a command that could not be started at all."""
    tail = f": {hint}" if hint else ""
    if isinstance(exc, FileNotFoundError):
        return HookError(f'{what} "{name}" not found{tail}')
    if isinstance(exc, PermissionError):
        return HookError(f'{what} "{name}" cannot be run (not executable){tail}')
    return HookError(f'{what} "{name}" could not start: {clean_line(exc.strerror or str(exc), 200)}{tail}')


def _ended(returncode: int) -> str:
    """How a command that did not succeed ended, for its error line."""
    if returncode == -signal.SIGINT:
        return "was interrupted"
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"failed (exit {returncode})"


def _argv(words: Sequence[str], args: Sequence[str]) -> list[str]:
    # A NUL can't be passed in an argument (exec would refuse it with a ValueError): the
    # arguments come from feeds and are cleaned, but a NUL must never turn into a traceback.
    return [word.replace("\0", "") for word in (*words, *args)]


def run_detached(words: Sequence[str], args: Sequence[str], *, what: str = "command", hint: str = "") -> None:
    """Start `words + args` detached and return at once (it is never waited for).

    Raises HookError (one line) when it can't be started. `what` names the setting in the
    message ("browser", "player"); `hint` says what to change ("set browser in config.toml").
    """
    if not words:
        raise HookError(f"no {what} command is set")
    argv = _argv(words, args)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own session: Ctrl+C in the terminal or quitting the app leaves it running
            close_fds=True,
        )
    except OSError as exc:
        raise _start_error(what, _name(argv), exc, hint) from None
    # Reaped when it ends, so a long session of the app leaves no zombies behind.
    threading.Thread(target=process.wait, name=f"{what}-reaper", daemon=True).start()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the command and whatever it started (it leads its own process group)."""
    try:
        if sys.platform != "win32":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _stderr_tail(file: IO[bytes]) -> str:
    """The last non-empty line the command wrote to stderr, cleaned ("" when none).

    stderr went to a temporary file, so memory is bounded however much the command wrote.
    """
    try:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - STDERR_TAIL))
        data = file.read(STDERR_TAIL)
    except (OSError, ValueError):
        return ""
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return clean_message(lines[-1], 300) if lines else ""


def run_with_stdin(
    words: Sequence[str],
    args: Sequence[str],
    text: str | None = None,
    timeout: float = HOOK_TIMEOUT,
    *,
    what: str = "command",
    hint: str = "",
) -> None:
    """Run `words + args` with `text` on stdin (UTF-8) and wait for it, at most `timeout` seconds.

    Its stdout is discarded. Raises HookError (one line) when it is missing, can't be run,
    exits non-zero (with the last line of its stderr) or runs past the timeout (then it and
    its children are killed). Blocks: call it from a worker thread in the app.
    """
    if not words:
        raise HookError(f"no {what} command is set")
    argv = _argv(words, args)
    name = _name(argv)
    data = (text or "").encode("utf-8", "replace")
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,  # a process group of its own, so a timeout kills its children too
                close_fds=True,
            )
        except OSError as exc:
            raise _start_error(what, name, exc, hint) from None
        try:
            process.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()
            raise HookError(f'{what} "{name}" timed out after {timeout:g} s and was stopped') from None
        except BaseException:
            _kill_group(process)
            process.wait()
            raise
        if process.returncode != 0:
            said = _stderr_tail(errors)
            raise HookError(f'{what} "{name}" {_ended(process.returncode)}' + (f": {said}" if said else ""))


def notify(settings: Settings, title: str, body: str) -> str | None:
    """Tell the user something (new posts, rule matches) by the `notify` hook.

    The `notify` command gets two arguments, the title and the body, and the body on stdin
    too. With no command set: `notify-send` when it is on PATH; else (or when notify-send
    fails: no desktop session) "bell", and the caller rings the terminal bell. Returns None
    when done, "bell", or a one-line error. Never raises; waits at most NOTIFY_TIMEOUT.
    """
    title = clean_line(title, NOTIFY_TITLE_MAX) or "reader"
    body = clean_text(body)
    if len(body) > NOTIFY_BODY_MAX:
        body = body[: NOTIFY_BODY_MAX - 1].rstrip() + "…"
    # A post's title leads the body: one like "--wait" must never be read as an option of the command
    # (notify-send's getopt takes options anywhere in argv). A leading space makes it a plain word.
    title, body = (f" {text}" if text.startswith("-") else text for text in (title, body))
    try:
        if settings.notify:
            run_with_stdin(
                settings.notify, [title, body], body, NOTIFY_TIMEOUT, what="notify", hint="check notify in config.toml"
            )
            return None
        program = shutil.which("notify-send")
        if program is None:
            return BELL
        try:
            run_with_stdin(
                [program, "--app-name=reader", "--", title, body], [], None, NOTIFY_TIMEOUT, what="notify-send"
            )
        except HookError:
            return BELL  # installed but no desktop session to show it (ssh, a bare tty): the bell still works
        return None
    except HookError as exc:
        return str(exc)
    except Exception as exc:  # a notification must never take down a refresh
        return f"notify failed: {clean_message(str(exc), 300)}"


def ring_bell() -> None:
    """The CLI's bell: "\\a" to the terminal, only when stdout is one (never into a pipe or a file)."""
    try:
        if sys.stdout.isatty():
            sys.stdout.write("\a")
            sys.stdout.flush()
    except (OSError, ValueError):
        pass


def shown_url(url: str) -> str:
    """A URL fit for a message: credentials masked, one line."""
    return clean_message(mask_credentials(url), 300)


def check_url(url: str | None) -> str:
    """The URL if http(s), else HookError: nothing else is ever handed to a command."""
    safe = safe_url(url)
    if safe is None:
        raise HookError("not an http(s) link" + (f": {shown_url(url)}" if url else ""))
    return safe


# --- the hooks the app's keys run ----------------------------------------------------------


def browser_argv(words: Sequence[str], url: str) -> tuple[list[str], list[str]]:
    """(words, arguments) for the browser: the URL in place of `%u` where a word holds one (newsboat's
    `browser "firefox %u"` carried over works), else appended. Either way it stays one argument."""
    if any("%u" in word for word in words):
        return [word.replace("%u", url) for word in words], []
    return list(words), [url]


def open_url(url: str | None, settings: Settings) -> None:
    """Open an http(s) link: with the `browser` command (detached, the URL its last argument or in place
    of `%u`), else
    Python's `webbrowser` (which honours $BROWSER and runs it without a shell). Blocks at most as long
    as the system's opener does: call it from a worker in the app. Raises HookError (one line)."""
    safe = check_url(url)
    if settings.browser:
        words, args = browser_argv(settings.browser, safe)
        run_detached(words, args, what="browser", hint="check browser in config.toml")
        return
    import webbrowser

    try:
        opened = webbrowser.open(safe)
    except Exception as exc:  # webbrowser may raise from a broken $BROWSER entry
        raise HookError(f"no browser could open {shown_url(safe)}: {clean_message(str(exc), 200)}") from None
    if not opened:
        raise HookError(f"no browser could open {shown_url(safe)}: set browser in config.toml")


def bookmark(settings: Settings, url: str | None, title: str, feed_title: str = "") -> None:
    """Send a post to the `bookmark` command, as newsboat's bookmark-cmd gets it: the arguments are the
    URL, the title, a description (empty: reader has none to ask for) and the feed's title.

    Waits at most BOOKMARK_TIMEOUT (call it from a worker in the app). Raises HookError (one line).
    """
    if not settings.bookmark:
        raise HookError(BOOKMARK_HINT)
    safe = check_url(url)
    run_with_stdin(
        settings.bookmark, [safe, clean_line(title, 1000), "", clean_line(feed_title, 1000)], None,
        BOOKMARK_TIMEOUT, what="bookmark", hint="check bookmark in config.toml",
    )


def _ignore_interrupt(_signum: int, _frame: object) -> None:
    """Ctrl+C while a piped command has the terminal is the command's, not the app's.

    A handler rather than SIG_IGN: an ignored signal stays ignored in the child after exec,
    a handled one is reset to the default there, so the command can still be interrupted.
    """


def run_foreground(words: Sequence[str], args: Sequence[str], text: str, *, what: str = "pipe", hint: str = "") -> None:
    """Run `words + args` in the foreground with the terminal (stdout and stderr inherited) and `text`
    on stdin; wait for it however long it takes (a pager waits for the user). For the app's `pipe`,
    which suspends itself around this. Raises HookError (one line) when it can't start or fails.
    """
    if not words:
        raise HookError(f"no {what} command is set")
    argv = _argv(words, args)
    name = _name(argv)
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, close_fds=True)
    except OSError as exc:
        raise _start_error(what, name, exc, hint) from None
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _ignore_interrupt)
    try:
        # A pager that quits before reading it all closes the pipe: communicate() ignores that.
        process.communicate(text.encode("utf-8", "replace"))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if process.returncode:
        raise HookError(f'{what} "{name}" {_ended(process.returncode)}')
