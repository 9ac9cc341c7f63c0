"""pytest plugin: a real FreshRSS server (Google Reader API) on loopback for the sync tests.

Loaded from tests/conftest.py with `pytest_plugins = ["freshrss_fixtures"]`. Fixtures:

- `freshrss_server` (session): unpacks ../shared/freshrss/FreshRSS-*.tar.gz once per machine into a cache
  dir, runs its start.sh on a free port with a scratch dir of this session (so each pytest-xdist worker has
  its own server), and stops it at the end of the session, whatever happens.
- `freshrss`: the same server, its user reset to empty (~10 ms: a saved empty db.sqlite copied back).
- `fault_proxy`: a FaultProxy (tests/faultproxy.py) in front of `freshrss`.

Where `php` (with the modules start.sh needs), `curl` or the tarball is missing, the tests that use these
fixtures skip with the reason, except under CI=true, where they fail: CI installs PHP (.ci/run).

`FreshRSS.api` is a ServerAPI: a tiny Google Reader caller built on urllib only, independent of reader's
own client, so tests can set up and inspect the server's state without trusting the code under test.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faultproxy import FaultProxy
from feedserver import FeedServer

READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
LABEL_PREFIX = "user/-/label/"
ITEM_PREFIX = "tag:google.com,2005:reader/item/"

# What start.sh checks `php -m` for.
PHP_MODULES = ("pdo_sqlite", "curl", "dom", "xml", "mbstring", "ctype", "json", "session")
PHP_PACKAGES = "php-cli php-sqlite3 php-curl php-xml php-mbstring"

START_TIMEOUT = 20.0
API_TIMEOUT = 15.0


# --- where things are --------------------------------------------------------


def shared_dir() -> Path:
    """../shared beside the clone, or READER_SHARED_DIR."""
    env = os.environ.get("READER_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def _unavailable(reason: str) -> None:
    """Skip (a user's clone without PHP or ../shared), but fail under CI, which must run these tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"FreshRSS sync tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"FreshRSS sync tests skipped: {reason}")


def _check_tools() -> tuple[Path, Path]:
    """(tarball, start.sh), or skip/fail with the reason."""
    fr_dir = shared_dir() / "freshrss"
    tarballs = sorted(fr_dir.glob("FreshRSS-*.tar.gz"))
    start_sh = fr_dir / "start.sh"
    if not tarballs or not start_sh.is_file():
        _unavailable(f"no FreshRSS tarball and start.sh in {fr_dir} (set READER_SHARED_DIR to the shared dir)")
    if shutil.which("php") is None:
        _unavailable(f"`php` not found; install: apt-get install --no-install-recommends {PHP_PACKAGES}")
    if shutil.which("curl") is None:
        _unavailable("`curl` not found (start.sh uses it); install: apt-get install curl")
    try:
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"`php -m` failed: {exc}")
    have = {line.strip().lower() for line in modules.splitlines()}
    missing = [m for m in PHP_MODULES if m not in have]
    if missing:
        _unavailable(f"PHP lacks modules {', '.join(missing)}; install: apt-get install {PHP_PACKAGES}")
    return tarballs[-1], start_sh


def unpacked_source(tarball: Path) -> Path:
    """The tarball unpacked once per machine (cache keyed by its name), safe against parallel workers."""
    name = tarball.name.removesuffix(".tar.gz")
    cache = Path(tempfile.gettempdir()) / "reader-freshrss-src"
    final = cache / name
    if (final / "p" / "api" / "greader.php").is_file():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    # Unpack beside the final place, then rename: a worker sees either no tree or a whole one.
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(work, filter="data")
        try:
            os.rename(work, final)
        except OSError:
            if not (final / "p" / "api" / "greader.php").is_file():
                raise  # not a lost race with another worker: a real failure
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def process_group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is still running (zombies, which hold no socket, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After "comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(base_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/api/greader.php", timeout=timeout) as resp:
            return bool(resp.read().strip() == b"OK")
    except (OSError, ValueError):
        return False


# --- item ids ------------------------------------------------------------------


def item_id(text: str | int) -> int:
    """An item id as an int: decimal, or the long form `tag:google.com,2005:reader/item/<16 hex>`."""
    if isinstance(text, int):
        return text
    if text.startswith(ITEM_PREFIX):
        return int(text[len(ITEM_PREFIX) :], 16)
    return int(text)


def _unsigned(n: int) -> int:
    return n + 2**64 if n < 0 else n  # ids >= 2**63 may be kept wrapped to signed 64-bit


# --- ServerAPI ---------------------------------------------------------------------


class ServerAPIError(Exception):
    def __init__(self, status: int, body: str, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {body[:200]}")
        self.status = status
        self.body = body


class ServerAPI:
    """A tiny Google Reader API caller (stdlib urllib) to set up and inspect the server's state.

    Logs in lazily, and once more when the server refuses its token (e.g. after revoke_tokens()).
    """

    def __init__(self, greader_url: str, user: str, password: str, *, timeout: float = API_TIMEOUT) -> None:
        self.greader_url = greader_url.rstrip("/")
        self.user = user
        self.password = password
        self.timeout = timeout
        self._auth: str | None = None
        self._edit_token: str | None = None

    # --- raw calls ---

    def login(self, user: str | None = None, password: str | None = None) -> str:
        """ClientLogin; returns the auth token (and keeps it when no other credentials were given)."""
        form = {"Email": user or self.user, "Passwd": password if password is not None else self.password}
        body = self._request("/accounts/ClientLogin", form=form, auth=False, what="ClientLogin")
        lines = dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)
        token = lines.get("Auth", "")
        if not token:
            raise ServerAPIError(200, body.decode(errors="replace"), "ClientLogin: no Auth= line")
        if user is None and password is None:
            self._auth = token
            self._edit_token = None
        return token

    @property
    def auth(self) -> str:
        return self._auth or self.login()

    def token(self) -> str:
        """The edit token (`T=`) that POSTs need."""
        if self._edit_token is None:
            self._edit_token = self.get("/reader/api/0/token").decode().strip()
        return self._edit_token

    def forget(self) -> None:
        """Drop the cached tokens (next call logs in again)."""
        self._auth = None
        self._edit_token = None

    def get(self, path: str, params: Iterable[tuple[str, str]] | dict[str, str] = ()) -> bytes:
        query = urllib.parse.urlencode(list(params.items()) if isinstance(params, dict) else list(params))
        return self._authed(path + ("?" + query if query else ""), None)

    def get_json(self, path: str, params: Iterable[tuple[str, str]] | dict[str, str] = ()) -> Any:
        return json.loads(self.get(path, params))

    def post(self, path: str, form: Iterable[tuple[str, str]] | dict[str, str] = ()) -> bytes:
        pairs = list(form.items()) if isinstance(form, dict) else list(form)
        return self._authed(path, [*pairs, ("T", self.token())])

    def _authed(self, path: str, form: list[tuple[str, str]] | None) -> bytes:
        for attempt in (1, 2):
            try:
                return self._request(path, form=form, auth=True, what=path.split("?")[0])
            except ServerAPIError as exc:
                # A stale token (server reset, revoke_tokens) or edit token: log in again, once.
                if exc.status not in (401, 403) or attempt == 2:
                    raise
                self.forget()
                if form is not None:
                    form = [(k, v) for k, v in form if k != "T"] + [("T", self.token())]
        raise AssertionError("unreachable")

    def _request(self, path: str, *, form: Any, auth: bool, what: str) -> bytes:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.greader_url + path, data=data)
        if auth:
            req.add_header("Authorization", f"GoogleLogin auth={self.auth}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as exc:
            raise ServerAPIError(exc.code, exc.read().decode(errors="replace"), what) from None

    # --- subscriptions ---

    def subscribe(self, url: str, title: str | None = None, category: str | None = None) -> str:
        """Subscribe (the server fetches the feed at once); returns the stream id, e.g. "feed/3"."""
        answer = json.loads(self.post("/reader/api/0/subscription/quickadd", {"quickadd": url}))
        stream_id = answer.get("streamId")
        if not stream_id:
            raise ServerAPIError(200, json.dumps(answer), f"quickadd {url}")
        if title is not None or category is not None:
            self.edit(stream_id, title=title, add_category=category)
        return str(stream_id)

    def unsubscribe(self, stream_id: str) -> None:
        self.post("/reader/api/0/subscription/edit", {"ac": "unsubscribe", "s": stream_id})

    def edit(
        self,
        stream_id: str,
        *,
        title: str | None = None,
        add_category: str | None = None,
        remove_category: str | None = None,
    ) -> None:
        """Rename and/or move a subscription (FreshRSS keeps one category per feed)."""
        form = [("ac", "edit"), ("s", stream_id)]
        if title is not None:
            form.append(("t", title))
        if add_category is not None:
            form.append(("a", LABEL_PREFIX + add_category))
        if remove_category is not None:
            form.append(("r", LABEL_PREFIX + remove_category))
        self.post("/reader/api/0/subscription/edit", form)

    def subscriptions(self) -> list[dict[str, Any]]:
        data = self.get_json("/reader/api/0/subscription/list", {"output": "json"})
        return list(data.get("subscriptions", []))

    def feed_numbers(self) -> list[int]:
        """FreshRSS's numeric feed ids ("feed/3" -> 3), as the refresh URL wants them."""
        out = []
        for sub in self.subscriptions():
            sid = str(sub.get("id", ""))
            if sid.startswith("feed/") and sid[5:].isdigit():
                out.append(int(sid[5:]))
        return out

    # --- items ---

    def item_ids(self, stream: str = READING_LIST, *, exclude: str | None = None, count: int = 1000) -> list[int]:
        """Every item id in `stream` (following continuations), newest first, as ints."""
        out: list[int] = []
        cont: str | None = None
        for _ in range(10_000):
            params = [("s", stream), ("n", str(count))]
            if exclude:
                params.append(("xt", exclude))
            if cont:
                params.append(("c", cont))
            data = self.get_json("/reader/api/0/stream/items/ids", params)
            out.extend(item_id(ref["id"]) for ref in data.get("itemRefs") or [])
            cont = data.get("continuation")
            if not cont:
                return out
        raise AssertionError("stream/items/ids never ended")

    def contents(self, stream: str = READING_LIST, *, count: int = 1000) -> list[dict[str, Any]]:
        """Every item of `stream` as the server's JSON (following continuations)."""
        out: list[dict[str, Any]] = []
        cont: str | None = None
        for _ in range(10_000):
            params = [("n", str(count))] + ([("c", cont)] if cont else [])
            data = self.get_json("/reader/api/0/stream/contents/" + urllib.parse.quote(stream, safe="/"), params)
            out.extend(data.get("items") or [])
            cont = data.get("continuation")
            if not cont:
                return out
        raise AssertionError("stream/contents never ended")

    def unread_ids(self) -> set[int]:
        return set(self.item_ids(READING_LIST, exclude=READ))

    def read_ids(self) -> set[int]:
        # FreshRSS's stream/items/ids answers s=read with the whole reading list: ask for all minus unread.
        return set(self.item_ids(READING_LIST)) - self.unread_ids()

    def starred_ids(self) -> set[int]:
        return set(self.item_ids(STARRED))

    def mark(self, ids: Iterable[int | str], read: bool | None = None, starred: bool | None = None) -> None:
        """Set read and/or starred on items (one edit-tag call per change, all ids in it)."""
        id_pairs = [("i", str(_unsigned(item_id(i)))) for i in ids]
        if not id_pairs:
            return
        for tag, value in ((READ, read), (STARRED, starred)):
            if value is not None:
                self.post("/reader/api/0/edit-tag", [*id_pairs, ("a" if value else "r", tag)])


# --- FreshRSS --------------------------------------------------------------------------


class FreshRSS:
    """One throw-away FreshRSS instance (start.sh) on 127.0.0.1."""

    def __init__(
        self,
        src: Path,
        start_sh: Path,
        scratch: Path,
        port: int,
        env: dict[str, str],
        watchdog: subprocess.Popen[bytes] | None = None,
        php_env: dict[str, str] | None = None,
    ) -> None:
        self.src = src
        self.start_sh = start_sh
        self.scratch = scratch
        self.port = port
        self.base_url = env["FRESHRSS_BASE_URL"]
        self.greader_url = env["FRESHRSS_GREADER_URL"]
        self.fever_url = env.get("FRESHRSS_FEVER_URL", "")
        self.user = env["FRESHRSS_USER"]
        self.password = env["FRESHRSS_API_PASSWORD"]  # the API password (ClientLogin), not the web one
        self.refresh_url = env["FRESHRSS_REFRESH_URL"]
        self.data_path = Path(env["FRESHRSS_DATA_PATH"])
        self.api = ServerAPI(self.greader_url, self.user, self.password)
        self._proc: subprocess.Popen[bytes] | None = None  # php -S when start() ran it (start.sh's is not ours)
        self._watchdog = watchdog  # stops the server if this process dies without tearing down
        self._extra_env = dict(php_env or {})
        self._user_dir = self.data_path / "users" / self.user
        self._snapshot = scratch / "snapshot"
        self._snapshot.mkdir(exist_ok=True)
        # The empty user, to go back to: the database, and the config (revoke_tokens changes its API hash).
        for name in ("db.sqlite", "config.php"):
            shutil.copy2(self._user_dir / name, self._snapshot / name)

    @property
    def pid(self) -> int | None:
        try:
            return int((self.scratch / "server.pid").read_text())
        except (OSError, ValueError):
            return None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def _php_env(self) -> dict[str, str]:
        env = {**os.environ, **self._extra_env}
        env.update(
            DATA_PATH=str(self.data_path),
            TMPDIR=str(self.scratch / "tmp"),
            PHP_CLI_SERVER_WORKERS=os.environ.get("FRESHRSS_WORKERS", "4"),
        )
        return env

    # --- state ---

    def reset(self) -> None:
        """Back to the empty user (no feed, no item, original API password); forget cached feed files."""
        for name in ("db.sqlite", "config.php"):
            live, saved = self._user_dir / name, self._snapshot / name
            if name == "config.php" and live.read_bytes() == saved.read_bytes():
                continue  # unchanged (the usual case): keep its mtime, so php's opcache keeps it compiled
            tmp = self._user_dir / f".{name}.reset"
            shutil.copyfile(saved, tmp)
            os.replace(tmp, live)  # atomic: a request sees the old or the new file
        for leftover in ("db.sqlite-journal", "db.sqlite-wal", "db.sqlite-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self._user_dir / leftover).unlink()
        self._clear_feed_cache()

    def _clear_feed_cache(self) -> None:
        for spc in (self.data_path / "cache").glob("*.spc"):
            with contextlib.suppress(FileNotFoundError):
                spc.unlink()

    def revoke_tokens(self) -> None:
        """Invalidate every auth token handed out so far (same API password): as a server admin would.

        FreshRSS derives the token from the salted hash of the API password, so setting the same
        password again gives a new hash and new tokens. reset() brings back the original hash.
        """
        subprocess.run(
            ["php", str(self.src / "cli" / "update-user.php"), "--user", self.user, "--api-password", self.password],
            env=self._php_env(),
            check=True,
            capture_output=True,
            timeout=30,
        )

    def refresh(self, feed_number: int | str | None = None) -> None:
        """Make the server fetch its feeds now (all, or one: 3 or "feed/3"), even right after a fetch.

        Uses the per-feed refresh URL (which ignores the feed's TTL) after dropping the feed cache, which
        would otherwise answer for a feed fetched in the same second.
        """
        if feed_number is None:
            numbers = self.api.feed_numbers()
        else:
            numbers = [int(str(feed_number).removeprefix("feed/"))]
        for number in numbers:
            self._clear_feed_cache()
            url = f"{self.refresh_url}&id={number}"
            with urllib.request.urlopen(url, timeout=API_TIMEOUT) as resp:
                resp.read()

    # --- process ---

    def stop(self) -> None:
        """Really stop php -S (its whole process group): the port refuses connections afterwards."""
        pid = self.pid
        subprocess.run(["bash", str(self.start_sh), "--stop", str(self.scratch)], capture_output=True, timeout=30)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)
            self._proc = None
        # start.sh waits for the master only; its workers may take a moment more to exit.
        deadline = time.monotonic() + 5
        while pid is not None and process_group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def start(self) -> None:
        """Start php -S again on the same port and scratch dir (start.sh refuses an existing install)."""
        if self.running and _answers(self.base_url):
            return
        # Own session = own process group (pgid = pid), as start.sh's `set -m` does: --stop signals it whole.
        with open(self.scratch / "server.log", "ab") as log:
            self._proc = subprocess.Popen(
                ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.src / "p")],
                env=self._php_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.scratch / "server.pid").write_text(f"{self._proc.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.base_url, timeout=1.0):
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"php -S exited on restart (port {self.port} taken?); see {self.scratch}/server.log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"FreshRSS did not answer within {START_TIMEOUT:.0f} s after restart")
            time.sleep(0.05)

    def close(self) -> None:
        if self.running:
            self.stop()
        self._stop_watchdog()

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            _end_watchdog(self._watchdog)
            self._watchdog = None


# Run by `sh -c` beside each server: $1 pytest's pid, $2 scratch dir, $3 start.sh, $4 start.sh's pid (or 0).
# When pytest is gone (SIGKILL, a crash: no teardown ran), let a start.sh in progress finish writing
# server.pid (bounded), then stop whatever php -S the pid file names, by its process group.
_WATCHDOG = f"""
alive() {{ st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${{st#Z}}" = "$st" ]; }}
while alive "$1"; do sleep 1; done
n=0
while [ "$4" != 0 ] && alive "$4" && [ $n -lt {int(START_TIMEOUT) + 5} ]; do sleep 1; n=$((n + 1)); done
exec bash "$3" --stop "$2"
"""


def _start_watchdog(scratch: Path, start_sh: Path, starter_pid: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sh", "-c", _WATCHDOG, "freshrss-watchdog", str(os.getpid()), str(scratch), str(start_sh), str(starter_pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl+C at the terminal must not end it before pytest's own teardown ran
    )


def _end_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        watchdog.kill()
    watchdog.wait(timeout=5)


# php -S caches included PHP files, the user's config.php too (FreshRSS reads its config with `include`),
# and by default checks a cached file's mtime at most every 2 s: a token revoked or a config restored by
# reset() could go unseen for up to 2 s. Check on every include. (Files younger than 2 s are never
# cached, opcache.file_update_protection, so a change within the same second is seen too.)
PHP_INI = """; written by tests/freshrss_fixtures.py for its php -S servers
opcache.revalidate_freq=0
opcache.validate_timestamps=1
"""


def _php_ini_env(scratch_root: Path) -> dict[str, str]:
    ini_dir = scratch_root / "php.d"
    ini_dir.mkdir(parents=True, exist_ok=True)
    (ini_dir / "zz-reader-tests.ini").write_text(PHP_INI)
    # A leading ":" keeps PHP's own scan dir (the modules' .ini files) and adds ours after it.
    return {"PHP_INI_SCAN_DIR": f"{os.environ.get('PHP_INI_SCAN_DIR', '')}:{ini_dir}"}


def _stop_scratch(start_sh: Path, scratch: Path) -> None:
    if (scratch / "server.pid").exists():
        subprocess.run(["bash", str(start_sh), "--stop", str(scratch)], capture_output=True, timeout=30)


def launch(scratch_root: Path, *, attempts: int = 3) -> FreshRSS:
    """Unpack (cached) and start one instance under `scratch_root`; skips/fails where it cannot run."""
    tarball, start_sh = _check_tools()
    try:
        src = unpacked_source(tarball)
    except (OSError, tarfile.TarError) as exc:
        pytest.fail(f"cannot unpack {tarball}: {exc}", pytrace=False)
    php_env = _php_ini_env(scratch_root)
    errors = []
    for attempt in range(attempts):
        # A port found free can be taken before php binds it (another worker): then retry afresh.
        port = _free_port()
        scratch = scratch_root / f"fr{attempt}"
        starter = subprocess.Popen(
            ["bash", str(start_sh), str(src), str(scratch), str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **php_env, "FRESHRSS_START_TIMEOUT": str(int(START_TIMEOUT))},
        )
        # At once, so no moment exists where a killed pytest would leave the new server running.
        watchdog = _start_watchdog(scratch, start_sh, starter.pid)
        try:
            out, err = starter.communicate(timeout=START_TIMEOUT + 40)
        except BaseException:  # a timeout, or Ctrl+C while starting
            starter.kill()
            starter.wait()
            _stop_scratch(start_sh, scratch)
            _end_watchdog(watchdog)
            raise
        if starter.returncode == 0:
            env: dict[str, str] = {}
            for line in out.decode(errors="replace").splitlines():
                for token in shlex.split(line):
                    key, sep, value = token.partition("=")
                    if sep:
                        env[key] = value
            server = FreshRSS(src, start_sh, scratch, port, env, watchdog, php_env)
            _live.append(server)
            return server
        errors.append(err.decode(errors="replace").strip()[-2000:])
        _stop_scratch(start_sh, scratch)
        _end_watchdog(watchdog)
    pytest.fail("FreshRSS start.sh failed:\n" + "\n---\n".join(errors), pytrace=False)


# Servers of this process, stopped at exit even if a fixture teardown never ran.
_live: list[FreshRSS] = []


@atexit.register
def _stop_all() -> None:
    for server in _live:
        with contextlib.suppress(Exception):
            server.close()


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def freshrss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshRSS]:
    """A running FreshRSS for this session (this xdist worker), stopped at the end."""
    server = launch(tmp_path_factory.mktemp("freshrss"))
    try:
        yield server
    finally:
        server.close()
        with contextlib.suppress(ValueError):
            _live.remove(server)


@pytest.fixture
def freshrss(freshrss_server: FreshRSS) -> FreshRSS:
    """The session's FreshRSS, running, with its user back to empty."""
    if not freshrss_server.running:
        freshrss_server.start()  # a previous test stopped it and failed before starting it again
    freshrss_server.reset()
    return freshrss_server


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[tuple[FeedServer, Path]]:
    """A loopback server over a folder the test writes feeds into (FreshRSS fetches them from there)."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    with FeedServer(folder) as server:
        yield server, folder


@pytest.fixture
def fault_proxy(freshrss: FreshRSS) -> Iterator[FaultProxy]:
    """A FaultProxy in front of `freshrss`: use `fault_proxy.greader_url` as the account's URL."""
    with FaultProxy(freshrss.base_url) as proxy:
        yield proxy


__all__ = [
    "READ",
    "READING_LIST",
    "STARRED",
    "FaultProxy",
    "FreshRSS",
    "ServerAPI",
    "ServerAPIError",
    "fault_proxy",
    "feeds",
    "freshrss",
    "freshrss_server",
    "item_id",
    "launch",
    "shared_dir",
]
