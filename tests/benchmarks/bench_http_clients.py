"""What one conditional GET costs per HTTP client, on loopback: the measurement behind reader/http_client.py.

Serves the benchmark's generated feeds (tests/benchmarks/genfeeds.py, as bench_refresh.py makes
them) from the tests' loopback server and fetches N of them, 16 at a time, answered 304 (the
common case of a refresh) and then 200. Prints the median wall and CPU time of 5 runs per client:
reader's own client (libcurl through pycurl, reader/http_client.py), httpx, and, when installed,
aiohttp and curl_cffi. Also prints how long each takes to import, which every `reader refresh`
pays.

    python tests/benchmarks/bench_http_clients.py [--feeds 100]

Not run in CI: it measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import genfeeds  # noqa: E402
from bench_refresh import feed_dir  # noqa: E402
from feedserver import FeedServer  # noqa: E402

AT_ONCE = 16
Run = Callable[[list[str], dict[str, str]], Awaitable[list[tuple[int, int]]]]


async def with_reader(urls: list[str], etags: dict[str, str]) -> list[tuple[int, int]]:
    from reader.fetch import FetchOptions, fetch, make_client

    async with make_client(FetchOptions(), connections=AT_ONCE) as client:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(url: str) -> tuple[int, int]:
            async with gate:
                result = await fetch(client, url, etag=etags.get(url))
                return result.status or 0, len(result.body or b"")

        return await asyncio.gather(*(one(u) for u in urls))


async def with_httpx(urls: list[str], etags: dict[str, str]) -> list[tuple[int, int]]:
    import httpx

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=AT_ONCE)) as client:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(url: str) -> tuple[int, int]:
            async with gate:
                response = await client.get(url, headers={"If-None-Match": etags[url]} if url in etags else {})
                return response.status_code, len(response.content)

        return await asyncio.gather(*(one(u) for u in urls))


async def with_aiohttp(urls: list[str], etags: dict[str, str]) -> list[tuple[int, int]]:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=AT_ONCE)) as session:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(url: str) -> tuple[int, int]:
            async with gate, session.get(url, headers={"If-None-Match": etags[url]} if url in etags else {}) as r:
                return r.status, len(await r.read())

        return await asyncio.gather(*(one(u) for u in urls))


async def with_curl_cffi(urls: list[str], etags: dict[str, str]) -> list[tuple[int, int]]:
    from curl_cffi.requests import AsyncSession

    async with AsyncSession(max_clients=AT_ONCE) as session:

        async def one(url: str) -> tuple[int, int]:
            response = await session.get(url, headers={"If-None-Match": etags[url]} if url in etags else {})
            return response.status_code, len(response.content)

        return await asyncio.gather(*(one(u) for u in urls))


CLIENTS: dict[str, tuple[str, Run]] = {
    "reader (pycurl)": ("pycurl", with_reader),
    "httpx": ("httpx", with_httpx),
    "aiohttp": ("aiohttp", with_aiohttp),
    "curl_cffi": ("curl_cffi.requests", with_curl_cffi),
}


def import_seconds(module: str) -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        runs.append(time.perf_counter() - started)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return statistics.median(runs) - (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    args = parser.parse_args()
    folder = feed_dir(20, 1)
    paths = genfeeds.generate(folder, args.feeds, 20, 1)
    names = [path.name for path in paths[: args.feeds]]
    print(f"{len(names)} feeds, {AT_ONCE} at a time; load {os.getloadavg()[0]:.2f}")
    with FeedServer(folder) as server:
        urls = [server.url(name) for name in names]
        etags = {}
        for url in urls:
            with urllib.request.urlopen(url) as response:
                etags[url] = response.headers["ETag"]
        print(f"{'client':16} {'import':>8} {'304 wall':>9} {'304 CPU':>8} {'200 wall':>9} {'200 CPU':>8}")
        for name, (module, run) in CLIENTS.items():
            if importlib.util.find_spec(module.split(".")[0]) is None:
                print(f"{name:16} not installed")
                continue
            cells = [f"{import_seconds(module) * 1000:6.0f} ms"]
            for conditional in (True, False):
                walls, cpus = [], []
                for _ in range(5):
                    wall, cpu = time.perf_counter(), time.process_time()
                    answers = asyncio.run(run(urls, etags if conditional else {}))
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    expected = 304 if conditional else 200
                    assert {status for status, _ in answers} == {expected}, (name, answers[:3])
                cells += [f"{statistics.median(walls) * 1000:6.0f} ms", f"{statistics.median(cpus) * 1000:5.0f} ms"]
            print(f"{name:16} {cells[0]:>8} {cells[1]:>9} {cells[2]:>8} {cells[3]:>9} {cells[4]:>8}")
    print(f"load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
