"""A deadline for a whole HTTP request, under httpx's own transport.

httpx's timeouts are per read: a server dripping a byte a second never trips them. Every
connect, read and write here gets at most what is left of one deadline, kept per thread
so that threads sharing a client don't lift each other's.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpcore
import httpx

# --- a deadline for the whole request ------------------------------------------------------------


class _Deadline(threading.local):
    """The monotonic time by which the current thread's request must be done (None: no bound).

    httpx's timeouts are per network operation: a server sending a byte every few seconds
    never trips them. Every read, write and connect is given at most what is left of the
    deadline, so the whole request ends by it, however the server paces its bytes. Kept
    per thread so one client (or one pool) can serve several threads.
    """

    at: float | None = None

    def clamp(self, timeout: float | None, kind: type[Exception]) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise kind("the request's deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self.deadline = _Deadline()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        timeout = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self.deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:  # pragma: no cover
        timeout = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self.deadline)

    def sleep(self, seconds: float) -> None:  # pragma: no cover
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport (its error mapping, its pool), on a backend that keeps the deadline."""

    def __init__(self, backend: DeadlineBackend) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=30.0)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool.close()
        # httpx.HTTPTransport takes no network backend, httpcore's pool does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
