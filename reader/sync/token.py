"""The saved login token of a sync account: one file, readable by the user alone.

The password is never written anywhere; only the token the server gave for it is,
in `sync-token` in the data dir, created with mode 0600 from its first byte (a file
created with the default umask and chmod-ed afterwards would be readable by others
for a moment, and forever if the chmod never ran).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

TOKEN_FILE = "sync-token"
# A token is a short line of printable ASCII (it goes into an HTTP header); anything
# longer than this is not a token, and reading it all would cost for nothing.
MAX_TOKEN = 4096


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / TOKEN_FILE


def save_token(data_dir: Path, token: str) -> None:
    """Write the token atomically (temp file with mode 0600, fsync, rename over the old one)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii() or not token.isprintable() or token != token.strip():
        raise ValueError("not a usable login token")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    final = token_path(data_dir)
    temp = data_dir / f".{TOKEN_FILE}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()  # left by a crash of this same pid: O_EXCL would refuse it
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            os.write(fd, token.encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(data_dir)


def load_token(data_dir: Path) -> str | None:
    """The saved token, or None when there is none (missing, unreadable, empty or not a token).

    A file that others can read (copied by hand, restored from a backup) is narrowed to
    0600 and still used: refusing it would lock the user out for no gain.
    """
    path = token_path(data_dir)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_mode & 0o077:
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o600)
        data = os.read(fd, MAX_TOKEN + 2)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not token or len(token) > MAX_TOKEN or not token.isprintable():
        return None
    return token


def delete_token(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        token_path(data_dir).unlink()
    with contextlib.suppress(OSError):
        _fsync_dir(Path(data_dir))


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (a crash right after must not bring the old file back)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
