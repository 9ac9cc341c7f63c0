"""At most N connections to one host at once, whatever the global concurrency.

Article pages and images come from a handful of hosts (a blog's own server, its CDN):
a refresh that fetched 200 of them 16 at a time would flood a small server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

PER_HOST = 2


class HostLimiter:
    """Per-host semaphores for one event loop (one refresh run)."""

    def __init__(self, per_host: int = PER_HOST) -> None:
        self.per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        # A host is a server: its name and port (as browsers count connections), so two
        # servers on one address (loopback, a home box) are not one another's queue.
        try:
            parts = urlsplit(url)
            host = f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"
        except ValueError:
            host = ""
        semaphore = self._slots.get(host)
        if semaphore is None:
            semaphore = self._slots[host] = asyncio.Semaphore(self.per_host)
        async with semaphore:
            yield
