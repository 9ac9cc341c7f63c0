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

import json
import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..body import BodyReader, BodyTooLarge, CorruptBody, UnsupportedEncoding
from ..fetch import USER_AGENT
from ..net_errors import describe_error
from ..sanitize import clean_line, clean_message, mask_credentials, safe_url
from .deadline import DeadlineBackend, DeadlineTransport
from .items import (
    READING_LIST,
    RemoteFeed,
    RemoteItem,
    continuation_token,
    item_id_long,
    item_id_of,
    label_id,
    parse_feed,
    parse_item,
    parse_tag_list,
    stream_path,
    valid_stream_id,
)

DEFAULT_TIMEOUT = 30.0
MAX_BODY = 64 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_ITEMS = 10_000
CONTENTS_BATCH = 250  # posts per stream/items/contents POST: a few MB of JSON, so memory stays flat
EDIT_BATCH = 250  # ids per edit-tag POST: ~16 KB of form, far below FreshRSS's 1 MB input cap
MAX_ID_PAGES = 10_000  # pages of ids one item_ids() walk may take
# Ids one item_ids() walk may give (~60 MB as a set): a server listing ids without end is
# stopped here, not when memory runs out. Far more posts than any server keeps for a user.
MAX_IDS = 1_000_000
# Ids asked for a page: an id costs ~30 bytes of JSON, so 100,000 (3 MB) is one request where
# 10,000 a page took ten for a big unread list.
ID_PAGE = 100_000
FRESHRSS_PATH = "/api/greader.php"

# What goes into an HTTP header or a query: a short run of printable ASCII, no spaces.
_TOKEN = re.compile(r"[\x21-\x7e]{1,1024}")
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
        self._backend = DeadlineBackend()
        self._http = httpx.Client(
            transport=DeadlineTransport(self._backend),
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
        try:
            credentials = urlsplit((url or "").strip()).username is not None
        except ValueError:
            credentials = False  # _api_base says what is wrong with it
        if credentials:
            # The cache would keep it: the password belongs to the prompt, which never stores it.
            raise SyncError("give the user with --user and the password when asked, not in the URL")
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
        if answer.status == 501:
            # A web server that doesn't take POSTs at all (a static file server): no API here.
            raise _NotGReader(SyncError(_NOT_GREADER))
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
            feed = parse_feed(entry)
            if feed is not None:
                feeds.append(feed)
        return feeds

    def tag_list(self) -> list[tuple[str, str | None]]:
        """The account's labels as (name, kind): see items.parse_tag_list."""
        return parse_tag_list(self._json("GET", "reader/api/0/tag/list", "tag/list", params={"output": "json"}))

    def stream_contents(self, stream: str = READING_LIST, *, since: float | None = None,
                        continuation: str | None = None, count: int = 1000) -> tuple[list[RemoteItem], str | None]:
        """One page of posts, newest first, and the continuation for the next page (None: the last)."""
        call = "stream/contents"
        params: dict[str, str] = {"output": "json", "n": str(max(1, min(int(count), MAX_ITEMS)))}
        if since is not None and math.isfinite(since) and since > 0:
            params["ot"] = str(int(since))
        if continuation:
            params["c"] = continuation
        data = self._json("GET", "reader/api/0/stream/contents/" + stream_path(stream), call, params=params)
        return _items(data, call), continuation_token(data.get("continuation"))

    def item_contents(self, item_ids: Sequence[int]) -> list[RemoteItem]:
        """The posts with these ids (up to CONTENTS_BATCH), in one POST: only what the cache lacks is asked for."""
        call = "stream/items/contents"
        ids = list(dict.fromkeys(item_ids))[:CONTENTS_BATCH]
        if not ids:
            return []
        form = [("i", item_id_long(i)) for i in ids]
        answer = self._send("POST", "reader/api/0/stream/items/contents", call, params={"output": "json"}, data=form)
        return _items(self._parse_json(answer, call), call)

    def item_ids(self, stream: str, *, exclude: str | None = None, since: float | None = None,
                 count: int = ID_PAGE) -> Iterator[int]:
        """Every item id in `stream` (minus `exclude`; crawled at or after `since`), following continuations."""
        call = "stream/items/ids"
        params: dict[str, str] = {"output": "json", "s": stream, "n": str(max(1, min(int(count), ID_PAGE)))}
        if exclude:
            params["xt"] = exclude
        if since is not None and math.isfinite(since) and since > 0:
            params["ot"] = str(int(since))
        seen: set[str] = set()
        given = 0
        for _page in range(MAX_ID_PAGES):
            data = self._json("GET", "reader/api/0/stream/items/ids", call, params=params)
            if not isinstance(data, dict):
                raise SyncError(f"the server's answer to {call} is not a JSON object")
            refs = data.get("itemRefs") or []
            if not isinstance(refs, list):
                raise SyncError(f"the server's answer to {call} holds no id list")
            given += min(len(refs), ID_PAGE)
            if given > MAX_IDS:
                raise SyncError(f"the server lists more than {MAX_IDS:,} ids in {call}; gave up")
            for ref in refs[:ID_PAGE]:
                item_id = item_id_of(ref.get("id")) if isinstance(ref, dict) else None
                if item_id is not None:
                    yield item_id
            cont = continuation_token(data.get("continuation"))
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
        if isinstance(stream_id, str) and valid_stream_id(stream_id):
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
        form += [("a", label_id(name)) for name in add_labels if name]
        form += [("r", label_id(name)) for name in remove_labels if name]
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
        """The body, inflated and capped in bounded steps (reader/body.py, as for feeds)."""
        try:
            body = BodyReader(response.headers.get("content-encoding", ""), MAX_BODY)
            for raw in response.iter_raw():
                body.feed(raw)
            return body.finish()
        except UnsupportedEncoding as exc:
            raise SyncError(f"the server's answer to {call} uses an unsupported Content-Encoding "
                            f"({exc.encoding})") from None
        except BodyTooLarge:
            raise SyncError(f"the server's answer to {call} is larger than {MAX_BODY // (1024 * 1024)} MB; "
                            "gave up") from None
        except CorruptBody:
            raise SyncError(f"the server's answer to {call} is corrupt (bad compression)") from None
        except httpx.TimeoutException:
            raise UnreachableError(f"cannot reach {host}: no complete answer within {self.timeout:g} s "
                                   "(is the server overloaded or the network down?)") from None
        except (httpx.HTTPError, OSError) as exc:
            raise UnreachableError(f"cannot reach {host}: {self._reason(exc)}") from None

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


# --- helpers ---------------------------------------------------------------------------------------


def _items(data: Any, call: str) -> list[RemoteItem]:
    """The posts of a stream/contents or items/contents answer, at most MAX_ITEMS; unusable ones left out."""
    if not isinstance(data, dict):
        raise SyncError(f"the server's answer to {call} is not a JSON object")
    raw = data.get("items", [])
    if not isinstance(raw, list):
        raise SyncError(f"the server's answer to {call} holds no item list")
    items = (parse_item(entry) for entry in raw[:MAX_ITEMS])
    return [item for item in items if item is not None]


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
