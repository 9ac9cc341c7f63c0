"""A blocking client for the Google Reader API, as FreshRSS, Miniflux, Inoreader, The Old Reader
and BazQux serve it.

It runs in a worker thread in the app and directly in the CLI, so it is synchronous
(httpx.Client). What it guarantees its callers:
- every failure is a SyncError (AuthError, UnreachableError) whose text is one clean
  line saying what happened and what to do, never holding the token or the password;
- every string from the server is cleaned here, where it enters (titles, labels,
  links); post content stays HTML for the renderer, which sanitises it;
- every call is bounded: a deadline for the whole request (a server dripping a byte a
  second cannot hold a sync), a 64 MB cap on an answer, at most 10,000 items a page.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpcore
import httpx

from ..fetch import USER_AGENT, _Inflater, describe_error
from ..sanitize import clean_line, clean_message, clean_text, mask_credentials, safe_url

READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"

DEFAULT_TIMEOUT = 30.0
MAX_BODY = 64 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_ITEMS = 10_000
MAX_CONTENT = 2 * 1024 * 1024  # characters of one post's HTML
MAX_CATEGORIES = 100  # labels/tags kept per post or feed
EDIT_BATCH = 250  # ids per edit-tag POST: ~16 KB of form, far below FreshRSS's 1 MB input cap
MAX_ID_PAGES = 10_000  # pages of ids one item_ids() walk may take (10,000 x 10,000 ids)
FRESHRSS_PATH = "/api/greader.php"

_LONG_PREFIX = "tag:google.com,2005:reader/item/"
# What goes into an HTTP header or a query: a short run of printable ASCII, no spaces.
_TOKEN = re.compile(r"[\x21-\x7e]{1,1024}")
_STATE = re.compile(r"user/[^/]*/state/")
_LABEL = re.compile(r"user/[^/]*/label/(.+)", re.S)
_READ = re.compile(r"user/[^/]*/state/com\.google/read")
_STARRED = re.compile(r"user/[^/]*/state/com\.google/starred")
_EXPIRED = (
    "the server no longer accepts the saved login (expired or revoked): "
    "log in again with `reader account add URL --user NAME`"
)
_NOT_GREADER = (
    "the server answered with a web page, not the Google Reader API: check the URL "
    "(for FreshRSS, …/api/greader.php) and that the API is enabled"
)


class SyncError(Exception):
    """str(exc) is one clean line fit for the user; it never holds a secret."""

    def __init__(self, message: str) -> None:
        super().__init__(clean_message(message))


class AuthError(SyncError):
    """Wrong password, or the saved token was refused (401/403): log in again."""


class RefusedError(SyncError):
    """The server understood and said no to this one change (a feed it can't subscribe to; HTTP 400,
    409, 410, 422…): asking again will not help, unlike after a 5xx, a timeout or a 429."""


class UnreachableError(SyncError):
    """No connection, DNS, TLS, or no complete answer in time."""


@dataclass(slots=True)
class RemoteFeed:
    stream_id: str
    url: str
    title: str
    site_url: str | None
    categories: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RemoteItem:
    item_id: int
    stream_id: str
    title: str
    link: str | None
    author: str
    published: float | None
    content: str
    categories: list[str]
    read: bool
    starred: bool
    crawled: float | None


# --- item ids ---------------------------------------------------------------------------------


def parse_item_id(text: str) -> int:
    """An item id, long form (`tag:google.com,2005:reader/item/<16 hex>`) or decimal, as one
    signed 64-bit integer (what SQLite stores): ids >= 2**63 wrap to negative.

    Raises ValueError for anything else.
    """
    if not isinstance(text, str) or not text or len(text) > 64:
        raise ValueError("not an item id")
    if text.startswith(_LONG_PREFIX):
        digits = text[len(_LONG_PREFIX):]
        if not (0 < len(digits) <= 16) or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("not an item id")
        value = int(digits, 16)
    elif text.isascii() and text.isdigit():
        value = int(text)
    else:
        raise ValueError("not an item id")
    if value >= 1 << 64:
        raise ValueError("item id out of range")
    return value - (1 << 64) if value >= 1 << 63 else value


def item_id_long(item_id: int) -> str:
    """The long form of an id, as the Google Reader API documents it (`…/item/00066151f9e21faa`)."""
    return f"{_LONG_PREFIX}{item_id & 0xFFFFFFFFFFFFFFFF:016x}"


def _item_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not 0 <= value < 1 << 64:
            return None
        return value - (1 << 64) if value >= 1 << 63 else value
    if isinstance(value, str):
        try:
            return parse_item_id(value)
        except ValueError:
            return None
    return None


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


class _DeadlineBackend(httpcore.NetworkBackend):
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


class _Transport(httpx.HTTPTransport):
    """httpx's own transport (its error mapping, its pool), on a backend that keeps the deadline."""

    def __init__(self, backend: _DeadlineBackend) -> None:
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


@dataclass(slots=True)
class _Answer:
    status: int
    reason: str
    body: bytes
    url: str = ""  # where it came from, after redirects


class _NotGReader(Exception):
    """Login: this URL is not a Google Reader API endpoint (404, a web page, no Auth= line)."""

    def __init__(self, error: SyncError) -> None:
        super().__init__(str(error))
        self.error = error


# --- the client ---------------------------------------------------------------------------------


class GReaderClient:
    def __init__(self, api_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        api_url = _api_base(api_url)
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise AuthError(_EXPIRED)
        self.api_url = api_url
        self.timeout = float(timeout)
        self._token = token
        self._edit_token: str | None = None
        self._secrets: tuple[str, ...] = _secret_parts(token)
        self._open()

    def _open(self) -> None:
        self._backend = _DeadlineBackend()
        self._http = httpx.Client(
            transport=_Transport(self._backend),
            # Only what _read can inflate with a bound (not br/zstd, which httpx would add if installed).
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"GReaderClient({mask_credentials(self.api_url)!r})"

    def __enter__(self) -> GReaderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- login ---------------------------------------------------------------------------------

    @classmethod
    def login(cls, url: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[str, str]:
        """(api_url, token) for `user` and `password`; the password is not kept.

        `url` may be the API endpoint (FreshRSS's …/api/greader.php) or the plain base URL:
        the URL is tried as given, then with /api/greader.php when the first answer is not
        the Google Reader API (404, a web page). A refused password is reported at once,
        never retried elsewhere (which would hide it behind another URL's 404).
        """
        url = _api_base(url)
        candidates = [url]
        if not urlsplit(url).path.rstrip("/").endswith(FRESHRSS_PATH):
            candidates.append(url + FRESHRSS_PATH)
        first: _NotGReader | None = None
        for candidate in candidates:
            client = cls.__new__(cls)
            client._setup_login(candidate, password, timeout)
            try:
                return client._client_login(user, password)
            except _NotGReader as exc:
                first = first or exc
            finally:
                client.close()
        assert first is not None
        raise first.error

    def _setup_login(self, api_url: str, password: str, timeout: float) -> None:
        self.api_url = api_url
        self.timeout = float(timeout)
        self._token = ""
        self._edit_token = None
        self._secrets = tuple(s for s in (password,) if s and len(s) >= 3)
        self._open()

    def _client_login(self, user: str, password: str) -> tuple[str, str]:
        call = "login"
        answer = self._send("POST", "accounts/ClientLogin", call, data={"Email": user, "Passwd": password},
                            auth=False, check=False)
        if answer.status in (401, 403) and not _looks_html(answer.body):
            raise AuthError("the server refused the user name or password")
        if _looks_html(answer.body) and (answer.status < 300 or answer.status in (401, 403, 404, 405)):
            raise _NotGReader(SyncError(_NOT_GREADER))
        if 400 <= answer.status < 500 and answer.status not in (401, 403, 429):
            raise _NotGReader(self._status_error(answer, call))  # 404, 405, 400: no ClientLogin at this URL
        self._check_status(answer, call)
        token = None
        text = answer.body[:65536].decode("utf-8", "replace")
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() == "auth":
                token = value.strip()
                break
        if token is None:
            raise _NotGReader(SyncError(
                "the server's login answer holds no Auth= token: check the URL "
                "(for FreshRSS, …/api/greader.php) and that the API is enabled"))
        if not _TOKEN.fullmatch(token):
            raise SyncError("the server's login answer holds an unusable token (not a short line of printable ASCII)")
        # Redirected (http -> https, say): later calls go straight where the login went.
        api_url = self.api_url
        suffix = "/accounts/ClientLogin"
        if answer.url.endswith(suffix) and answer.url != f"{api_url}{suffix}":
            api_url = answer.url[: -len(suffix)]
        return api_url, token

    # --- reading -------------------------------------------------------------------------------

    def subscriptions(self) -> list[RemoteFeed]:
        call = "subscription/list"
        data = self._json("GET", "reader/api/0/subscription/list", call, params={"output": "json"})
        raw = data.get("subscriptions") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise SyncError(f"the server's answer to {call} holds no subscription list")
        feeds: list[RemoteFeed] = []
        for entry in raw:
            feed = _parse_feed(entry)
            if feed is not None:
                feeds.append(feed)
        return feeds

    def stream_contents(self, stream: str = READING_LIST, *, since: float | None = None,
                        continuation: str | None = None, count: int = 1000) -> tuple[list[RemoteItem], str | None]:
        """One page of posts, newest first, and the continuation for the next page (None: the last)."""
        call = "stream/contents"
        params: dict[str, str] = {"output": "json", "n": str(max(1, min(int(count), MAX_ITEMS)))}
        if since is not None and math.isfinite(since) and since > 0:
            params["ot"] = str(int(since))
        if continuation:
            params["c"] = continuation
        data = self._json("GET", "reader/api/0/stream/contents/" + _stream_path(stream), call, params=params)
        if not isinstance(data, dict):
            raise SyncError(f"the server's answer to {call} is not a JSON object")
        raw = data.get("items", [])
        if not isinstance(raw, list):
            raise SyncError(f"the server's answer to {call} holds no item list")
        items: list[RemoteItem] = []
        for entry in raw[:MAX_ITEMS]:
            item = _parse_item(entry)
            if item is not None:
                items.append(item)
        return items, _continuation(data.get("continuation"))

    def item_ids(self, stream: str, *, exclude: str | None = None, count: int = 10_000) -> Iterator[int]:
        """Every item id in `stream` (minus those in `exclude`), following continuations."""
        call = "stream/items/ids"
        params: dict[str, str] = {"output": "json", "s": stream, "n": str(max(1, min(int(count), MAX_ITEMS)))}
        if exclude:
            params["xt"] = exclude
        seen: set[str] = set()
        for _page in range(MAX_ID_PAGES):
            data = self._json("GET", "reader/api/0/stream/items/ids", call, params=params)
            if not isinstance(data, dict):
                raise SyncError(f"the server's answer to {call} is not a JSON object")
            refs = data.get("itemRefs") or []
            if not isinstance(refs, list):
                raise SyncError(f"the server's answer to {call} holds no id list")
            for ref in refs[:MAX_ITEMS]:
                item_id = _item_id(ref.get("id")) if isinstance(ref, dict) else None
                if item_id is not None:
                    yield item_id
            cont = _continuation(data.get("continuation"))
            if cont is None or not refs:
                return
            if cont in seen:
                # A server that hands back a continuation it gave before would loop forever.
                raise SyncError(f"the server repeated a continuation in {call}: its id list never ends; gave up")
            seen.add(cont)
            params["c"] = cont
        raise SyncError(f"the server's id list ({call}) has more than {MAX_ID_PAGES:,} pages; gave up")

    # --- writing -------------------------------------------------------------------------------

    def edit_tag(self, item_ids: Sequence[int], *, add: str | None = None, remove: str | None = None) -> None:
        """Add and/or remove a state or label (READ, STARRED, …) on many posts, EDIT_BATCH ids a POST."""
        if not add and not remove:
            raise ValueError("edit_tag needs add or remove")
        ids = list(dict.fromkeys(item_ids))
        for start in range(0, len(ids), EDIT_BATCH):
            form: list[tuple[str, str]] = [("i", item_id_long(i)) for i in ids[start:start + EDIT_BATCH]]
            if add:
                form.append(("a", add))
            if remove:
                form.append(("r", remove))
            self._post("reader/api/0/edit-tag", "edit-tag", form)

    def quickadd(self, url: str) -> str:
        """Subscribe to `url` on the server; the new feed's stream id."""
        call = "quickadd"
        answer = self._post("reader/api/0/subscription/quickadd", call, [("quickadd", url)])
        data = self._parse_json(answer, call)
        shown = mask_credentials(url)[:300]
        if not isinstance(data, dict):
            raise SyncError(f"the server's answer to {call} is not a JSON object")
        stream_id = data.get("streamId")
        if isinstance(stream_id, str) and _valid_stream_id(stream_id):
            return stream_id
        error = data.get("error")
        if isinstance(error, str) and error.strip():
            raise RefusedError(f"the server could not subscribe to {shown}: {self._redact(clean_message(error, 300))}")
        raise RefusedError(f"the server could not subscribe to {shown} (no stream id in its answer)")

    def subscription_edit(self, stream_id: str, *, action: str, title: str | None = None,
                          add_labels: Sequence[str] = (), remove_labels: Sequence[str] = ()) -> None:
        """subscribe / unsubscribe / edit (rename with `title`, move with labels) one feed."""
        if action not in ("subscribe", "unsubscribe", "edit"):
            raise ValueError(f"unknown subscription action {action!r}")
        form: list[tuple[str, str]] = [("ac", action), ("s", stream_id)]
        if title:
            form.append(("t", title))
        form += [("a", _label_id(name)) for name in add_labels if name]
        form += [("r", _label_id(name)) for name in remove_labels if name]
        self._post("reader/api/0/subscription/edit", "subscription/edit", form)

    # --- HTTP ----------------------------------------------------------------------------------

    def _post(self, path: str, call: str, form: list[tuple[str, str]]) -> _Answer:
        """A POST with the edit token; a refused edit token is fetched again once.

        FreshRSS answers a bad edit token exactly as a bad login (401), so a 401 is told
        apart by asking for a fresh edit token: if that is refused too, the login is gone.
        """
        fresh = self._edit_token is None
        for _attempt in range(2):
            edit_token = self._get_edit_token()
            answer = self._send("POST", path, call, data=[*form, ("T", edit_token)], check=False)
            if answer.status in (401, 403) and not fresh:
                self._edit_token = None
                fresh = True
                continue
            self._check_status(answer, call)
            if _looks_html(answer.body):
                raise SyncError(_NOT_GREADER)
            return answer
        raise AuthError(_EXPIRED)  # pragma: no cover -- the loop returns or raises

    def _get_edit_token(self) -> str:
        if self._edit_token is None:
            answer = self._send("GET", "reader/api/0/token", "token")
            if _looks_html(answer.body):
                raise SyncError(_NOT_GREADER)
            token = answer.body[:2048].decode("ascii", "replace").strip()
            if not _TOKEN.fullmatch(token):
                raise SyncError("the server's edit token (reader/api/0/token) is not a short line of printable ASCII")
            self._edit_token = token
            self._secrets = tuple(dict.fromkeys((*self._secrets, *_secret_parts(token))))
        return self._edit_token

    def _json(self, method: str, path: str, call: str, *, params: dict[str, str] | None = None) -> Any:
        return self._parse_json(self._send(method, path, call, params=params), call)

    def _parse_json(self, answer: _Answer, call: str) -> Any:
        if _looks_html(answer.body):
            raise SyncError(_NOT_GREADER)
        try:
            return json.loads(answer.body)
        except RecursionError:
            raise SyncError(f"the server's answer to {call} is JSON nested too deeply to read") from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
            where = f" at byte {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
            raise SyncError(f"the server's answer to {call} is not valid JSON{where}") from None

    def _send(self, method: str, path: str, call: str, *, params: dict[str, str] | None = None,
              data: list[tuple[str, str]] | dict[str, str] | None = None, auth: bool = True,
              check: bool = True) -> _Answer:
        """One API call: redirects within the same host (http(s) only), the whole of it, body
        included, bounded by `timeout`; the body capped at MAX_BODY."""
        url = f"{self.api_url}/{path}"
        host = urlsplit(url).hostname or ""
        headers = {"Authorization": f"GoogleLogin auth={self._token}"} if auth else {}
        self._backend.deadline.at = time.monotonic() + self.timeout
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                answer, location = self._hop(method, url, call, params, data, headers)
                if location is None:
                    answer.url = url
                    if check:
                        self._check_status(answer, call)
                    return answer
                try:
                    target = urljoin(url, location)
                except ValueError:
                    target = ""
                if not safe_url(target):
                    raise SyncError(f"the server redirected {call} to a non-http(s) or malformed URL; refused")
                if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                    raise SyncError(f"the server redirected {call} from https to plain http; refused "
                                    "(the login would travel unencrypted)")
                if (urlsplit(target).hostname or "") != host:
                    # The login token (or the password) must not go to another host.
                    raise SyncError(f"the server redirected {call} to another host ({urlsplit(target).hostname}): "
                                    "check the account's URL")
                # After 301/302/303 a POST becomes a GET (as browsers do: a login page redirecting
                # to itself would loop otherwise), except when only the scheme or port changed
                # (http -> https on the same path): a ClientLogin or edit-tag GET would mean nothing.
                same_path = urlsplit(target).path == urlsplit(url).path
                if answer.status in (301, 302, 303) and method == "POST" and not same_path:
                    method, data = "GET", None
                url, params = target, None
            raise SyncError(f"too many redirects (more than {MAX_REDIRECTS}) on {call}")
        finally:
            self._backend.deadline.at = None

    def _hop(self, method: str, url: str, call: str, params: dict[str, str] | None,
             data: list[tuple[str, str]] | dict[str, str] | None,
             headers: dict[str, str]) -> tuple[_Answer, str | None]:
        host = _host(url)
        form: dict[str, list[str]] | None = None
        if data is not None:
            # httpx takes repeated fields (many `i=`) as a dict of lists, not as pairs.
            form = {}
            for key, value in (data.items() if isinstance(data, dict) else data):
                form.setdefault(key, []).append(value)
        try:
            request = self._http.build_request(method, url, params=params, data=form, headers=headers)
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException:
            raise UnreachableError(f"cannot reach {host}: no complete answer within {self.timeout:g} s "
                                   "(is the server overloaded or the network down?)") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise SyncError(f"the server redirected {call} to an invalid URL; refused") from None
        except httpx.RemoteProtocolError as exc:
            if "location header" in str(exc).lower():
                raise SyncError(f"the server redirected {call} to an invalid URL; refused") from None
            raise UnreachableError(f"cannot reach {host}: {self._reason(exc)}") from None
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise UnreachableError(f"cannot reach {host}: {self._reason(exc)}") from None
        try:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                return _Answer(status, "", b""), response.headers.get("location", "").strip() or "."
            body = self._read(response, call, host)
            reason = response.reason_phrase if isinstance(response.reason_phrase, str) else ""
            return _Answer(status, reason, body), None
        finally:
            response.close()

    def _read(self, response: httpx.Response, call: str, host: str) -> bytes:
        """The body, inflated here in bounded steps (as fetch.py does): httpx would inflate each
        chunk whole, ~1,000 times its size for a gzip bomb, before any cap could be checked."""
        cap = MAX_BODY
        codings = [c.strip() for c in response.headers.get("content-encoding", "").lower().split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if codings and codings not in (["gzip"], ["x-gzip"], ["deflate"]):
            raise SyncError(f"the server's answer to {call} uses an unsupported Content-Encoding "
                            f"({', '.join(codings)[:40]})")
        inflater = _Inflater(cap) if codings else None
        chunks: list[bytes] = []
        total = 0

        def add(data: bytes) -> None:
            nonlocal total
            total += len(data)
            if total > cap:
                raise SyncError(f"the server's answer to {call} is larger than {cap // (1024 * 1024)} MB; gave up")
            chunks.append(data)

        try:
            for raw in response.iter_raw():
                if inflater is None:
                    add(raw)
                else:
                    for data in inflater.feed(raw):
                        add(data)
            if inflater is not None:
                for data in inflater.finish():
                    add(data)
        except zlib.error:
            raise SyncError(f"the server's answer to {call} is corrupt (bad compression)") from None
        except httpx.TimeoutException:
            raise UnreachableError(f"cannot reach {host}: no complete answer within {self.timeout:g} s "
                                   "(is the server overloaded or the network down?)") from None
        except (httpx.HTTPError, OSError) as exc:
            raise UnreachableError(f"cannot reach {host}: {self._reason(exc)}") from None
        return b"".join(chunks)

    def _check_status(self, answer: _Answer, call: str) -> None:
        if 200 <= answer.status < 300:
            return
        raise self._status_error(answer, call)

    def _status_error(self, answer: _Answer, call: str) -> SyncError:
        status = answer.status
        if status in (401, 403):
            if call == "login":
                return AuthError("the server refused the user name or password")
            return AuthError(_EXPIRED)
        if status == 429:
            return SyncError(f"the server is limiting requests (HTTP 429) on {call}: try again later")
        if status >= 500:
            return SyncError(f"the server failed (HTTP {status}) on {call}: try again later")
        if status == 404:
            return SyncError(f"the server has no {call} (HTTP 404): check the account's URL "
                             "(for FreshRSS, …/api/greader.php)")
        detail = ""
        if not _looks_html(answer.body):
            text = clean_message(answer.body[:300].decode("utf-8", "replace"), 200)
            if text:
                detail = f": {text}"
        reason = clean_message(answer.reason, 100)
        kind = SyncError if status in (408, 425) or status < 400 else RefusedError
        return kind(self._redact(f"the server refused {call} (HTTP {status} {reason}){detail}".replace(" )", ")")))

    def _reason(self, exc: BaseException) -> str:
        return self._redact(clean_message(describe_error(exc), 200))

    def _redact(self, text: str) -> str:
        """Whatever a server or a library echoed back: the secrets this client holds taken out."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


# --- parsing (every field tolerated missing or wrong-typed) ---------------------------------------


def _api_base(url: str) -> str:
    """The API URL calls are appended to: http(s), no query or fragment, no trailing slash."""
    url = (url or "").strip()
    shown = mask_credentials(url)[:200]
    if safe_url(url) is None:
        raise SyncError(f"not an http(s) URL with a host name: {shown}")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise SyncError(f"the server URL must not hold a query (?…) or fragment (#…): {shown}")
    return url.rstrip("/")


def _secret_parts(token: str) -> tuple[str, ...]:
    """The token, and its part after `user/` (FreshRSS's edit token starts with that part)."""
    parts = [token]
    tail = token.partition("/")[2]
    if len(tail) >= 8:
        parts.append(tail)
    if len(token) >= 16:
        parts.append(token.rstrip("Z"))
    return tuple(p for p in dict.fromkeys(parts) if len(p) >= 6)


def _host(url: str) -> str:
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    return clean_line(netloc, 200) or "the server"


def _looks_html(body: bytes) -> bool:
    # No JSON document, token or "OK" starts with "<": a login page, a proxy's error page,
    # an XML answer all do.
    return body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _stream_path(stream: str) -> str:
    # Stream ids go in the path, percent-encoded (a feed id may be a URL: `feed/http://…`).
    return quote(stream, safe="/-_.~")


def _label_id(name: str) -> str:
    return name if name.startswith("user/") else f"user/-/label/{name}"


def _valid_stream_id(value: str) -> bool:
    return 0 < len(value) <= 2048 and value.isprintable()


def _continuation(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _TOKEN.fullmatch(value):
        return value
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# FreshRSS sends `&`, `<`, `>` in titles as their fullwidth forms (its escapeToUnicodeAlternative), so
# that clients that show titles as HTML can't be fooled. Shown as text here, they are turned back (the
# fullwidth forms are all but unknown in real titles; its other replacements, such as the fullwidth
# comma, are ordinary CJK punctuation and stay).
_FULLWIDTH = str.maketrans({"\uff06": "&", "\uff1c": "<", "\uff1e": ">"})


def _title(value: object, limit: int = 1000) -> str:
    text = _text(value)
    if "&" in text:
        text = html.unescape(text)  # the API documents titles as HTML text (`&amp;`)
    return clean_line(text.translate(_FULLWIDTH), limit)


# Times outside year 1970..9999 are junk (and would overflow a datetime downstream).
_MAX_TIME = 253402300799.0


def _time(value: object, scale: float = 1.0) -> float | None:
    number = _number(value)
    if number is None:
        return None
    number /= scale
    return number if 0 < number <= _MAX_TIME else None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 40 else None
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _label_name(category: str) -> str | None:
    """`user/-/label/Tech` -> "Tech"; states -> None; a plain tag stays as it is."""
    if _STATE.match(category):
        return None
    match = _LABEL.fullmatch(category)
    name = clean_line(match.group(1) if match else category, 200)
    return name or None


def _parse_item(raw: object) -> RemoteItem | None:
    if not isinstance(raw, dict):
        return None
    item_id = _item_id(raw.get("id"))
    origin = raw.get("origin")
    stream_id = origin.get("streamId") if isinstance(origin, dict) else None
    if item_id is None or not isinstance(stream_id, str) or not _valid_stream_id(stream_id):
        return None
    link = None
    for key in ("canonical", "alternate"):
        refs = raw.get(key)
        if isinstance(refs, list) and refs and isinstance(refs[0], dict):
            link = safe_url(_text(refs[0].get("href"))[:8192])
            if link:
                break
    content = ""
    for key in ("summary", "content"):
        body = raw.get(key)
        if isinstance(body, dict) and isinstance(body.get("content"), str) and body["content"]:
            content = clean_text(body["content"][:MAX_CONTENT])
            break
    read = starred = False
    categories: list[str] = []
    raw_categories = raw.get("categories")
    if isinstance(raw_categories, list):
        for category in raw_categories[: MAX_CATEGORIES * 4]:
            if not isinstance(category, str):
                continue
            if _READ.fullmatch(category):
                read = True
            elif _STARRED.fullmatch(category):
                starred = True
            elif len(categories) < MAX_CATEGORIES:
                name = _label_name(category)
                if name and name not in categories:
                    categories.append(name)
    crawled = _time(raw.get("crawlTimeMsec"), 1000)
    if crawled is None:
        crawled = _time(raw.get("timestampUsec"), 1_000_000)
    author = raw.get("author")
    return RemoteItem(
        item_id=item_id,
        stream_id=stream_id,
        title=_title(raw.get("title")),
        link=link,
        author=_title(author, 300),
        published=_time(raw.get("published")),
        content=content,
        categories=categories,
        read=read,
        starred=starred,
        crawled=crawled,
    )


def _parse_feed(raw: object) -> RemoteFeed | None:
    if not isinstance(raw, dict):
        return None
    stream_id = raw.get("id")
    url = safe_url(_text(raw.get("url"))[:8192])
    if not isinstance(stream_id, str) or not _valid_stream_id(stream_id) or url is None:
        return None
    categories: list[str] = []
    raw_categories = raw.get("categories")
    if isinstance(raw_categories, list):
        for category in raw_categories[:MAX_CATEGORIES]:
            if not isinstance(category, dict):
                continue
            label = category.get("label")
            name = clean_line(label, 200) if isinstance(label, str) else None
            if not name and isinstance(category.get("id"), str):
                name = _label_name(category["id"])
            if name and name not in categories:
                categories.append(name)
    return RemoteFeed(
        stream_id=stream_id,
        url=url,
        title=_title(raw.get("title")),
        site_url=safe_url(_text(raw.get("htmlUrl"))[:8192]),
        categories=categories,
    )
