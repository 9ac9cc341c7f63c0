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
