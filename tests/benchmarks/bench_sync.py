"""Benchmark `reader sync` against a real FreshRSS (PHP, SQLite) on loopback.

Run:  python tests/benchmarks/bench_sync.py [--feeds 200] [--items 100] [--repeat 5] [--marks 1000]
                                            [--keep] [--profile] [--rebuild] [--cache-dir DIR] [--json out.json]

Needs `php` (apt: php-cli php-sqlite3 php-curl php-xml php-mbstring) and the FreshRSS tarball with
start.sh in ../shared/freshrss (or --freshrss DIR). Run by hand, not in CI.

The server side (prepared once, then cached):
  genfeeds.py writes --feeds feeds of --items posts (about 1.2 MB per 100-post feed; 200 x 100 is
  235 MB), cached under $TMPDIR/reader-bench-feeds/ like bench_refresh.py's. server.py serves them
  on loopback, start.sh installs a FreshRSS with an OPML of those feeds spread over 10 categories
  and runs its actualize (the server fetches every feed once), then the API is asked for the
  reading list's ids to check that every post arrived. FreshRSS's purge (keep_max 200 / keep_period
  P3M / keep_min 50 by default) keys on `lastSeen`, and always keeps what the last refresh saw, so
  a single actualize keeps every post whatever its date. The prepared scratch dir is cached under
  --cache-dir (default $TMPDIR/reader-bench-sync/), keyed by feeds, items, seed, generator source
  and FreshRSS tarball; each run serves a fresh copy of it (the push step changes the server's
  state), with its own `php -S` on a free port.

Measured, each as `python -m reader --data-dir D ...` in a child process, wall clock from spawn
to reap, with the child's peak RSS from wait4() (ru_maxrss: the largest single process in its
tree; the figure cannot be below this benchmark's own RSS, printed as the floor, since the child
starts as a copy of it):
  initial   `account add` (untimed), then `sync` into the empty cache: every feed, category and post.
  nothing   `sync` again with nothing new on the server: median of --repeat runs.
  push      `mark --read` on --marks synced posts (queued in the outbox), then `sync`: its time and
            the requests FreshRSS answered (counted in php -S's log), edit-tag ones separately;
            then the server's read set must hold exactly those posts.
Alongside, a bare stdlib caller times the server's own share: every page of stream/contents (the
floor under the initial sync) and edit-tag of the same ids in as many requests (the floor under the
push; FreshRSS on SQLite updates one id per transaction). With --profile, one more initial sync and
a nothing-new sync into a new cache run under cProfile and the top functions (cumulative and own
time) are printed. The load average is printed before and after each run. Exit status: 0 when
every goal is met, 1 when one is not (or a check failed: see "notes"), 2 when the run could not
be made.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import genfeeds  # noqa: E402

READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
CATEGORIES = 10
GOALS = {"initial_s": 30.0, "initial_mb": 150.0, "nothing_s": 0.5, "push_s": 2.0, "push_requests": 20}
SECONDS_IN_SUMMARY = re.compile(r"\bin ([\d.]+) ?s\b")  # the sync's own time, if its summary line gives one
# php -S logs one line per answered request: "[date] 127.0.0.1:PORT [200]: POST /api/greader.php/...".
PHP_LOG_REQUEST = re.compile(r"\[(\d{3})\]: (GET|POST|PUT|DELETE|HEAD) (\S+)")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f})"


def log(msg: str) -> None:
    print(msg, flush=True)


# --- running a command -----------------------------------------------------------------


@dataclass
class Run:
    cmd: list[str]
    seconds: float
    returncode: int
    maxrss_kb: int
    stdout: str
    stderr: str
    load_before: float = 0.0
    load_after: float = 0.0


def run(cmd: Sequence[str], env: dict[str, str], *, stdin: str | None = None, check: bool = True,
        timeout: float = 1800) -> Run:
    """Run `cmd`, timing it wall-clock; its peak RSS comes from wait4() on that very child."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin.encode())
            inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, stdin=inp, stdout=out, stderr=err)
        deadline = start + timeout
        while True:
            # wait4, not Popen.wait: its rusage is this child's own (RUSAGE_CHILDREN is a maximum over
            # every child this benchmark ever reaped).
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)  # short: the nothing-new sync is timed to the millisecond
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        result = Run(list(cmd), seconds, proc.returncode, usage.ru_maxrss,
                     out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                     load_before, os.getloadavg()[0])
    if check and result.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


# --- a tiny Google Reader caller (stdlib; independent of reader's own client) ---------------


class GReader:
    def __init__(self, api_url: str, user: str, password: str) -> None:
        self.api_url = api_url
        body = urllib.parse.urlencode({"Email": user, "Passwd": password}).encode()
        with urllib.request.urlopen(api_url + "/accounts/ClientLogin", body, timeout=60) as resp:
            text = resp.read().decode()
        auth = [line[5:] for line in text.splitlines() if line.startswith("Auth=")]
        if not auth:
            raise RuntimeError("ClientLogin answered without Auth=")
        self.headers = {"Authorization": "GoogleLogin auth=" + auth[0]}

    def get(self, path: str, **params: str | int) -> bytes:
        url = f"{self.api_url}/reader/api/0/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(urllib.request.Request(url, headers=self.headers), timeout=300) as resp:
            return resp.read()

    def item_ids(self, stream: str = READING_LIST, exclude: str | None = None, include: str | None = None) -> list[int]:
        ids: list[int] = []
        cont = ""
        while True:
            params: dict[str, str | int] = {"s": stream, "n": 50000, "output": "json"}
            if exclude:
                params["xt"] = exclude
            if include:
                params["it"] = include  # FreshRSS has no s=…/read stream; it= filters the reading list
            if cont:
                params["c"] = cont
            page = json.loads(self.get("stream/items/ids", **params))
            ids += [int(ref["id"]) for ref in page.get("itemRefs") or []]
            cont = page.get("continuation") or ""
            if not cont or not page.get("itemRefs"):
                return ids

    def edit_tag(self, ids: Sequence[int], *, add: str | None = None, remove: str | None = None) -> None:
        token = self.get("token").decode().strip()
        form = [("T", token), *((("a", add),) if add else ()), *((("r", remove),) if remove else ()),
                *(("i", str(i)) for i in ids)]
        req = urllib.request.Request(self.api_url + "/reader/api/0/edit-tag",
                                     urllib.parse.urlencode(form).encode(), headers=self.headers)
        with urllib.request.urlopen(req, timeout=600) as resp:
            resp.read()

    def pull_all(self, page: int = 1000) -> tuple[int, int]:
        """Every page of the reading list's contents, as a client's initial pull asks: (posts, bytes)."""
        posts = size = 0
        cont = ""
        while True:
            params: dict[str, str | int] = {"n": page, "output": "json"}
            if cont:
                params["c"] = cont
            raw = self.get("stream/contents/" + READING_LIST, **params)
            size += len(raw)
            data = json.loads(raw)
            posts += len(data.get("items") or [])
            cont = data.get("continuation") or ""
            if not cont or not data.get("items"):
                return posts, size

    def subscriptions(self) -> list[dict[str, object]]:
        return list(json.loads(self.get("subscription/list", output="json"))["subscriptions"])


# --- the FreshRSS side -----------------------------------------------------------------


@dataclass
class Server:
    scratch: Path
    greader_url: str
    user: str
    password: str
    log_offset: int = 0

    def take_requests(self) -> Counter[str]:
        """Requests php -S answered since the last call, by "STATUS METHOD path-without-query"."""
        path = self.scratch / "server.log"
        with path.open("rb") as fh:
            fh.seek(self.log_offset)
            data = fh.read()
        # Only whole lines: php -S may be writing the next one.
        end = data.rfind(b"\n") + 1
        self.log_offset += end
        counts: Counter[str] = Counter()
        for m in PHP_LOG_REQUEST.finditer(data[:end].decode(errors="replace")):
            counts[f"{m.group(1)} {m.group(2)} {m.group(3).split('?')[0]}"] += 1
        return counts


def ensure_source(tarball: Path, cache: Path) -> Path:
    """The FreshRSS tree unpacked once under the cache (start.sh only reads it)."""
    src = cache / f"fr-src-{sha(tarball)}"
    if not (src / "p" / "api" / "greader.php").exists():
        tmp = Path(tempfile.mkdtemp(prefix="fr-src-", dir=cache))
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        shutil.rmtree(src, ignore_errors=True)
        tmp.rename(src)
    return src


def write_opml(path: Path, base: str, names: list[str]) -> None:
    groups: list[list[str]] = [[] for _ in range(CATEGORIES)]
    for i, name in enumerate(names):
        groups[i % CATEGORIES].append(
            f'  <outline type="rss" text="Feed {i + 1:04d}" xmlUrl={quoteattr(f"{base}/{name}")} />')
    body = "".join(f'<outline text="Category {c + 1:02d}">\n' + "\n".join(g) + "\n</outline>\n"
                   for c, g in enumerate(groups) if g)
    path.write_text(f'<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n{body}</body></opml>\n')


def start_sh(fr: Path, *args: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["bash", str(fr / "start.sh"), *map(str, args)], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"start.sh {' '.join(map(str, args))} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def env_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = shlex.split(value)[0] if value else ""
    return out


def prepare(args: argparse.Namespace, src: Path, cache: Path) -> tuple[Path, dict[str, str]]:
    """A FreshRSS scratch dir whose user has every feed and post: from the cache, or built now."""
    feeds = (Path(tempfile.gettempdir()) / "reader-bench-feeds"
             / f"items{args.items}-seed{args.seed}-{sha(HERE / 'genfeeds.py')}")
    key = f"freshrss-{args.feeds}x{args.items}-seed{args.seed}-{sha(HERE / 'genfeeds.py')}-{src.name[7:]}"
    ready = cache / key
    if ready.exists() and not args.rebuild:
        info = json.loads((ready / "bench-info.json").read_text())
        log(f"server data: cached {ready} (built in {info['build_seconds']:.0f} s)")
        return ready, info
    shutil.rmtree(ready, ignore_errors=True)

    t0 = time.perf_counter()
    paths = genfeeds.generate(feeds, args.feeds, args.items, args.seed)
    size = sum(p.stat().st_size for p in paths)
    log(f"feeds: {len(paths)} x {args.items} posts, {size / 1e6:.0f} MB in {feeds} "
        f"({time.perf_counter() - t0:.1f} s to generate or check)")

    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=cache))
    feed_server = subprocess.Popen([sys.executable, str(HERE / "server.py"), str(feeds)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert feed_server.stdin is not None and feed_server.stdout is not None
    started = False
    try:
        base = feed_server.stdout.readline().strip()
        if not base.startswith("http://"):
            raise RuntimeError("the feed server did not start")
        opml = scratch / "subs.opml"
        write_opml(opml, base, [p.name for p in paths])
        log(f"FreshRSS: install, import {len(paths)} feeds and actualize (the server fetches them all) ... {load()}")
        t0 = time.perf_counter()
        out = start_sh(args.freshrss, src, scratch / "fr", free_port(),
                       env={**os.environ, "FRESHRSS_OPML": str(opml), "FRESHRSS_START_TIMEOUT": "120"})
        build = time.perf_counter() - t0
        started = True
        info = env_lines(out)
        log(f"FreshRSS ready in {build:.1f} s ({load()})")
        api = GReader(info["FRESHRSS_GREADER_URL"], info["FRESHRSS_USER"], info["FRESHRSS_API_PASSWORD"])
        got, subs = len(api.item_ids()), len(api.subscriptions())
        want = args.feeds * args.items
        log(f"FreshRSS holds {subs} feeds and {got} posts (want {args.feeds} and {want})")
        if got != want or subs != args.feeds:
            raise RuntimeError(f"FreshRSS has {subs} feeds / {got} posts, not {args.feeds} / {want}: "
                               f"see {scratch}/fr/install.log")
    finally:
        if started:
            start_sh(args.freshrss, "--stop", scratch / "fr")
        feed_server.stdin.close()  # server.py exits at EOF on stdin
        try:
            feed_server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            feed_server.kill()
            feed_server.wait()
    info = {**info, "build_seconds": round(build, 1), "feed_bytes": size, "posts": got, "feeds": subs,
            "port": info["FRESHRSS_BASE_URL"].rsplit(":", 1)[1]}
    (scratch / "bench-info.json").write_text(json.dumps(info, indent=1))
    scratch.rename(ready)  # only a complete, verified build gets the key
    return ready, info


@contextlib.contextmanager
def serve_freshrss(args: argparse.Namespace, src: Path, ready: Path, info: dict[str, str],
                   work: Path) -> Iterator[Server]:
    """A copy of the prepared instance, served by its own `php -S` (as start.sh runs it) on a free port."""
    t0 = time.perf_counter()
    scratch = (Path(tempfile.mkdtemp(prefix="reader-bench-sync-fr-", dir="/dev/shm")) if args.server_tmpfs
               else work) / "freshrss"
    shutil.copytree(ready / "fr", scratch, symlinks=True)
    port = free_port()
    old_base, new_base = info["FRESHRSS_BASE_URL"], f"http://127.0.0.1:{port}"
    conf = scratch / "data" / "config.php"
    conf.write_text(conf.read_text().replace(old_base, new_base))  # base_url: favicon URLs in the API
    for stale in ("server.pid", "server.log"):
        (scratch / stale).unlink(missing_ok=True)
    env = {**os.environ, "DATA_PATH": str(scratch / "data"), "TMPDIR": str(scratch / "tmp"),
           "PHP_CLI_SERVER_WORKERS": str(args.php_workers)}
    with (scratch / "server.log").open("wb") as server_log:
        # Its own process group, as start.sh's `set -m` gives it, so `start.sh --stop` ends master and workers.
        php = subprocess.Popen(["php", "-S", f"127.0.0.1:{port}", "-t", str(src / "p")], env=env,
                               stdin=subprocess.DEVNULL, stdout=server_log, stderr=server_log, process_group=0)
    (scratch / "server.pid").write_text(f"{php.pid}\n")
    try:
        url = new_base + "/api/greader.php"
        for _ in range(600):
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.read().strip() == b"OK":
                        break
            if php.poll() is not None:
                raise RuntimeError(f"php -S exited: {(scratch / 'server.log').read_text()[-1000:]}")
            time.sleep(0.1)
        else:
            raise RuntimeError("FreshRSS did not answer within 60 s")
        server = Server(scratch, url, info["FRESHRSS_USER"], info["FRESHRSS_API_PASSWORD"])
        log(f"FreshRSS: a copy of the prepared instance serving at {url} in {time.perf_counter() - t0:.1f} s")
        yield server
    finally:
        if args.keep:
            log(f"--keep: FreshRSS still serving at {new_base} (stop it: bash {args.freshrss}/start.sh "
                f"--stop {scratch})")
        else:
            start_sh(args.freshrss, "--stop", scratch)
            with contextlib.suppress(subprocess.TimeoutExpired):
                php.wait(timeout=10)
            shutil.rmtree(scratch.parent if args.server_tmpfs else scratch, ignore_errors=True)


# --- the client side -------------------------------------------------------------------


class Reader:
    """One reader cache in a temp dir, with default settings, driven through its CLI."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TERM": "dumb",
            "HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg-config"),
            "XDG_DATA_HOME": str(home / "xdg-data"), "XDG_CACHE_HOME": str(home / "xdg-cache"),
            "READER_CONFIG_DIR": str(home / "config"),
        }
        self.data = home / "data"
        self.args = ["--data-dir", str(self.data)]

    def cmd(self, *args: str, profile: Path | None = None) -> list[str]:
        pre = ["-m", "cProfile", "-o", str(profile)] if profile else []
        return [sys.executable, *pre, "-m", "reader", *self.args, *args]

    def add_account(self, server: Server) -> Run:
        return run(self.cmd("account", "add", server.greader_url, "--user", server.user, "--password-stdin"),
                   self.env, stdin=server.password + "\n")

    def sync(self, profile: Path | None = None) -> Run:
        return run(self.cmd("sync", profile=profile), self.env)


def has_sync() -> str | None:
    """Why the sync can't be measured yet, or None when `reader account` and `reader sync` exist."""
    if not (ROOT / "reader" / "sync" / "engine.py").exists() or not (ROOT / "reader" / "cli_account.py").exists():
        return "reader/sync/engine.py or reader/cli_account.py is not there yet"
    done = subprocess.run([sys.executable, "-m", "reader", "--help"], capture_output=True, text=True, cwd=ROOT)
    if "sync" not in done.stdout or "account" not in done.stdout:
        return "`reader --help` lists no `account`/`sync` command yet"
    return None


def unread_ids(reader: Reader, limit: int) -> list[str]:
    """Local ids of unread posts, from the plain listing (`--json` would render every post's body)."""
    done = run(reader.cmd("entries", "is:unread", "--limit", str(limit)), reader.env)
    return [m.group(1) for m in re.finditer(r"^\s*(\d+) ", done.stdout, re.MULTILINE)]


def summary(r: Run) -> str:
    lines = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return lines[-1][:200] if lines else "(no output)"


def own_seconds(r: Run) -> float | None:
    m = SECONDS_IN_SUMMARY.search(r.stdout + "\n" + r.stderr)
    return float(m.group(1)) if m else None


def print_profile(path: Path, name: str, top: int = 25) -> None:
    import pstats

    for key in ("cumulative", "tottime"):
        log(f"\n-- profile of the {name}, top {top} by {key} (file {path}) --")
        pstats.Stats(str(path), stream=sys.stdout).strip_dirs().sort_stats(key).print_stats(top)


# --- measuring -------------------------------------------------------------------------


@dataclass
class Measure:
    measure: str
    value: float | None
    unit: str
    goal: float | None
    detail: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.value is None or self.goal is None else self.value <= self.goal


@dataclass
class Results:
    measures: list[Measure] = field(default_factory=list)
    runs: dict[str, list[Run]] = field(default_factory=dict)
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def step(res: Results, name: str, r: Run) -> Run:
    res.runs.setdefault(name, []).append(r)
    own = own_seconds(r)
    log(f"  {name}: {r.seconds:.3f} s wall{f', {own:.3f} s by its own count' if own is not None else ''}, "
        f"peak RSS {r.maxrss_kb / 1024:.0f} MB; load {r.load_before:.2f} -> {r.load_after:.2f}; "
        f"says: {summary(r)}")
    if r.stderr.strip() and r.returncode == 0:
        res.notes.append(f"{name}: stderr: {r.stderr.strip().splitlines()[0][:200]}")
    return r


def measure_sync(args: argparse.Namespace, server: Server, work: Path, res: Results) -> None:
    api = GReader(server.greader_url, server.user, server.password)
    want_posts = len(api.item_ids())
    log(f"server check: {want_posts} posts in the reading list")
    reader = Reader(work / "reader")
    step(res, "account add", reader.add_account(server))
    server.take_requests()

    # The server's (and loopback's, and json.loads's) share of a full pull, from a bare caller, in a
    # process of its own: pages parsed here would raise this process's RSS, which every later child
    # starts from (see run()).
    done = run([sys.executable, str(Path(__file__)), "--pull-floor", server.greader_url, server.user],
               os.environ.copy(), stdin=server.password + "\n")
    floor_run = json.loads(done.stdout)
    pull_floor, pulled, size = floor_run["seconds"], floor_run["posts"], floor_run["bytes"]
    server.take_requests()
    log(f"server's share of a full pull: {pulled} posts, {size / 1e6:.0f} MB of JSON in {pull_floor:.2f} s "
        "(bare caller, 1000 a page)")

    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log(f"\ninitial sync ({load()}; this benchmark's own peak RSS {floor:.0f} MB)")
    first = step(res, "initial sync", reader.sync())
    res.requests["initial sync"] = dict(server.take_requests())
    got = unread_ids(reader, want_posts + 10)
    if len(got) != want_posts:
        res.notes.append(f"after the initial sync reader lists {len(got)} unread posts; the server has {want_posts}")
    res.measures += [
        Measure("initial sync", first.seconds, "s", GOALS["initial_s"], f"{want_posts} posts, {args.feeds} feeds"),
        Measure("  server alone: every page of contents", pull_floor, "s", None,
                f"bare stdlib caller, {size / 1e6:.0f} MB of JSON"),
        Measure("initial sync peak RSS", first.maxrss_kb / 1024, "MB", GOALS["initial_mb"],
                f"ru_maxrss; floor {floor:.0f} MB"),
    ]
    log(f"  local posts after it: {len(got)} (server {want_posts}); "
        f"requests: {summarise(res.requests['initial sync'])}")

    log(f"\nsync with nothing new, {args.repeat} times ({load()})")
    nothing = [step(res, "nothing-new sync", reader.sync()) for _ in range(args.repeat)]
    res.requests["nothing-new sync (all runs)"] = dict(server.take_requests())
    owns = [s for s in map(own_seconds, nothing) if s is not None]
    res.measures.append(Measure(
        "nothing-new sync (median)", statistics.median(r.seconds for r in nothing), "s", GOALS["nothing_s"],
        f"runs {', '.join(f'{r.seconds:.3f}' for r in nothing)}"
        + (f"; own {statistics.median(owns):.3f} s" if owns else "")))

    log(f"\npush {args.marks} marks ({load()})")
    ids = got[: args.marks]
    mark = step(res, f"mark --read x{len(ids)}", run(reader.cmd("mark", "--read", *ids), reader.env))
    push = step(res, "push sync", reader.sync())
    reqs = server.take_requests()
    res.requests["push sync"] = dict(reqs)
    edit_tags = sum(n for k, n in reqs.items() if k.endswith("/edit-tag"))
    read_ids = api.item_ids(include=READ)
    read_on_server = len(read_ids)
    if read_on_server != len(ids):
        res.notes.append(f"after the push the server has {read_on_server} read posts, not {len(ids)}")
    log(f"  requests: {summarise(reqs)}; server read set: {read_on_server}")
    res.measures += [
        Measure(f"push {len(ids)} marks (sync)", push.seconds, "s", GOALS["push_s"],
                f"mark command itself {mark.seconds:.2f} s"),
        Measure("push: edit-tag requests", edit_tags, "", GOALS["push_requests"],
                f"{sum(reqs.values())} requests in all; server read set {read_on_server}"),
    ]
    after = step(res, "sync after the push", reader.sync())
    res.requests["sync after the push"] = dict(server.take_requests())
    res.measures.append(Measure("sync after the push", after.seconds, "s", None, ""))

    # The server's own share of the push: FreshRSS on SQLite applies edit-tag one id per transaction,
    # so time the same number of ids in the same number of requests from a bare caller (marking them
    # unread again, the same UPDATEs the other way).
    batches = max(edit_tags, 1)
    size = -(-len(read_ids) // batches)
    t0 = time.perf_counter()
    for i in range(0, len(read_ids), size):
        api.edit_tag(read_ids[i:i + size], remove=READ)
    floor_s = time.perf_counter() - t0
    server.take_requests()
    log(f"  server's share: {len(read_ids)} ids in {batches} edit-tag requests from a bare caller: {floor_s:.3f} s")
    res.measures.append(Measure(f"  server alone: {len(read_ids)} ids, {batches} edit-tag", floor_s, "s", None,
                                "bare stdlib caller; push minus this = the client's share"))

    if args.profile:
        again = Reader(work / "reader-profiled")
        again.add_account(server)
        for name in ("initial sync", "nothing-new sync"):
            prof = Path(f"{args.prof_prefix}-{name.replace(' ', '-')}.prof")  # kept: open with pstats/snakeviz
            log(f"\n{name} again, under cProfile ({load()})")
            step(res, f"{name} (cProfile)", again.sync(profile=prof))
            print_profile(prof, name)


def summarise(reqs: dict[str, int]) -> str:
    return ", ".join(f"{k.split('/api/greader.php')[-1] or k} x{n}" for k, n in sorted(reqs.items())) or "none"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    return f"{value:.0f} {unit}".strip()


def table(measures: list[Measure]) -> str:
    rows = [["measure", "figure", "goal", "met?", "detail"]]
    for m in measures:
        rows.append([m.measure, fmt(m.value, m.unit), f"≤ {fmt(m.goal, m.unit)}" if m.goal is not None else "—",
                     {True: "yes", False: "NO", None: "—"}[m.met], m.detail])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        lines.append(" | ".join(c.ljust(w) if j in (0, 4) else c.rjust(w)
                                for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def source_state() -> dict[str, str | None]:
    """The commit measured, and whether reader/ had uncommitted changes (read-only git calls)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.rstrip() if done.returncode == 0 else None

    return {"commit": git("rev-parse", "HEAD"), "uncommitted_in_reader": git("status", "--porcelain", "--", "reader")}


def pull_floor_main(api_url: str, user: str) -> int:
    """--pull-floor: time a bare full pull (password on stdin) and print it as JSON."""
    api = GReader(api_url, user, sys.stdin.readline().rstrip("\n"))
    t0 = time.perf_counter()
    posts, size = api.pull_all()
    print(json.dumps({"seconds": time.perf_counter() - t0, "posts": posts, "bytes": size}))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--pull-floor"]:  # internal: run by measure_sync in a child process
        return pull_floor_main(argv[1], argv[2])
    ap = argparse.ArgumentParser(description="benchmark `reader sync` against a real FreshRSS on loopback")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=100, help="posts per feed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="runs of the nothing-new sync (median reported)")
    ap.add_argument("--marks", type=int, default=1000, help="posts marked read, then pushed")
    ap.add_argument("--keep", action="store_true", help="leave FreshRSS serving and the work dir, for inspection")
    ap.add_argument("--profile", action="store_true", help="also run one initial sync under cProfile")
    ap.add_argument("--rebuild", action="store_true", help="prepare the server data again, ignoring the cache")
    ap.add_argument("--server-only", action="store_true", help="prepare and check the server, measure nothing")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "reader-bench-sync")
    ap.add_argument("--freshrss", type=Path, default=ROOT.parent / "shared" / "freshrss",
                    help="dir with the FreshRSS tarball and start.sh")
    ap.add_argument("--server-tmpfs", action="store_true",
                    help="serve FreshRSS's copy from /dev/shm: no fsync cost on the server side")
    ap.add_argument("--php-workers", type=int, default=4, help="PHP_CLI_SERVER_WORKERS, as start.sh's default")
    ap.add_argument("--json", type=Path, help="where to write results (default: a file in $TMPDIR)")
    args = ap.parse_args(argv)

    if shutil.which("php") is None:
        print("php not found: apt-get install --no-install-recommends php-cli php-sqlite3 php-curl php-xml "
              "php-mbstring", file=sys.stderr)
        return 2
    tarballs = sorted(args.freshrss.glob("FreshRSS-*.tar.gz"))
    if not tarballs or not (args.freshrss / "start.sh").exists():
        print(f"no FreshRSS tarball and start.sh in {args.freshrss} (use --freshrss DIR)", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    source = source_state()  # before the run: the code measured, if someone edits it meanwhile
    log(f"{load()} before starting; commit {(source['commit'] or '?')[:10]}"
        f"{' + uncommitted changes in reader/' if source['uncommitted_in_reader'] else ''}")
    if load_before[0] > 0.5:
        log("warning: other work is running; it will skew the timings")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    src = ensure_source(tarballs[-1], args.cache_dir)
    ready, info = prepare(args, src, args.cache_dir)

    missing = None if args.server_only else has_sync()
    res = Results()
    started = time.strftime("%Y%m%d-%H%M%S")
    args.prof_prefix = Path(tempfile.gettempdir()) / f"reader-bench-sync-{started}"
    work = Path(tempfile.mkdtemp(prefix="reader-bench-sync-"))
    try:
        with serve_freshrss(args, src, ready, info, work) as server:
            api = GReader(server.greader_url, server.user, server.password)
            t0 = time.perf_counter()
            posts = len(api.item_ids())
            log(f"GReader API: {posts} posts in the reading list ({time.perf_counter() - t0:.2f} s to list their ids), "
                f"{len(api.subscriptions())} feeds")
            server.take_requests()
            if missing:
                log(f"\nnot measuring the sync: {missing}")
            elif not args.server_only:
                measure_sync(args, server, work, res)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"--keep: work dir {work}")

    if res.measures:
        log("\n" + table(res.measures))
    if res.notes:
        log("\nnotes:\n" + "\n".join("  " + n for n in res.notes))
    out = args.json or Path(tempfile.gettempdir()) / f"reader-bench-sync-{started}.json"
    out.write_text(json.dumps({
        "command": [sys.executable, *sys.argv], "started": started, "cpus": os.cpu_count(),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "options": {k: str(v) for k, v in vars(args).items()}, "source": source,
        "server": {k: v for k, v in info.items() if "PASSWORD" not in k and "KEY" not in k and "URL" not in k},
        "table": [{**asdict(m), "met": m.met} for m in res.measures],
        "requests": res.requests, "notes": res.notes,
        "runs": {k: [{**asdict(r), "stdout": r.stdout[-2000:], "stderr": r.stderr[-2000:]} for r in v]
                 for k, v in res.runs.items()},
    }, indent=1, ensure_ascii=False))
    log(f"\n{load()} after; JSON: {out}")
    return 0 if not res.notes and all(m.met is not False for m in res.measures) else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except (RuntimeError, OSError) as exc:  # a command failed: its stderr's tail, not this script's traceback
        print(f"bench_sync: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
