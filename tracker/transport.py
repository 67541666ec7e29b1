"""HTTP for the Sheets backend: gspread's client with a capped, jittered back-off.

Retry lives here and nowhere else. A request is tried again only when trying it
twice cannot do harm:

- 429 (quota) is retried for every request: Google refuses it before doing
  anything, so nothing was applied.
- 5xx answers, timeouts and dropped connections are retried only for idempotent
  requests: reads, and value writes (``values:batchUpdate`` with RAW input writes
  the same cells with the same values however often it lands). A structural
  ``spreadsheets:batchUpdate`` is never retried on these, since its add* requests
  would add a second rule, range or chart if the first try was applied after all;
  the Sheets writer re-reads what exists on the next sync instead.

gspread 6's own ``BackOffHTTPClient`` is not used: it never gives up on a
persistent 429, does not retry dropped connections and retries writes blindly.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

import requests
from google.auth.credentials import Credentials
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient, ParamsType

log = logging.getLogger(__name__)

# (connect, read) seconds; a values write of 2 MB can take Google a while to apply.
DEFAULT_TIMEOUT = (10.0, 120.0)
RETRY_STATUSES = frozenset({500, 502, 503, 504})
QUOTA_STATUS = 429
# Requests that may be sent twice with the same effect (by method and URL tail).
_IDEMPOTENT_POSTS = re.compile(r"/values(:batchUpdate|:batchClear|/[^/]+:clear)$")

FileType = (
    MutableMapping[str, IO[Any]]
    | MutableMapping[str, tuple[str, IO[Any]]]
    | MutableMapping[str, tuple[str, IO[Any], str]]
    | MutableMapping[str, tuple[str, IO[Any], str, MutableMapping[str, str]]]
    | None
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to back off.

    The n-th wait (from 1) is drawn from [d/2, d] with d = min(cap, base * 2**(n-1)),
    or the server's Retry-After when that is longer (still at most ``cap``).
    ``sleep`` and ``random`` are injectable so tests never wait.
    """

    tries: int = 5
    base: float = 1.0
    cap: float = 32.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the wait before try ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        wait = ceiling / 2 + self.random() * ceiling / 2
        if retry_after is not None:
            wait = max(wait, min(self.cap, retry_after))
        return wait


@dataclass(frozen=True)
class Exchange:
    """One HTTP request as sent, for counting calls and bytes."""

    method: str
    url: str
    status: int | None  # None when no answer came (timeout, dropped connection)
    bytes_sent: int
    bytes_received: int = 0


@dataclass
class ExchangeLog:
    """Every request a client sent, retries included."""

    exchanges: list[Exchange] = field(default_factory=list)

    def count(self, method: str | None = None, pattern: str | None = None) -> int:
        """Count requests, optionally by method and a regex searched in the URL."""
        regex = re.compile(pattern) if pattern else None
        return sum(
            1
            for x in self.exchanges
            if (method is None or x.method == method.upper())
            and (regex is None or regex.search(x.url))
        )

    @property
    def bytes_sent(self) -> int:
        return sum(x.bytes_sent for x in self.exchanges)

    @property
    def bytes_received(self) -> int:
        return sum(x.bytes_received for x in self.exchanges)


def is_idempotent(method: str, url: str) -> bool:
    """Tell whether sending this request twice has the effect of sending it once."""
    method = method.upper()
    if method in ("GET", "HEAD", "PUT"):
        return True
    path = url.split("?", 1)[0]
    return method == "POST" and _IDEMPOTENT_POSTS.search(path) is not None


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with the retry rules above and a request log.

    gspread instantiates the class itself (``http_client=``), so the policy is a
    class attribute; ``with_policy`` makes a subclass carrying another one.
    """

    policy: ClassVar[RetryPolicy] = RetryPolicy()

    def __init__(
        self, auth: Credentials | None, session: requests.Session | None = None
    ) -> None:
        super().__init__(auth, session)  # type: ignore[arg-type]
        self.timeout = DEFAULT_TIMEOUT
        self.log = ExchangeLog()

    @classmethod
    def with_policy(cls, policy: RetryPolicy) -> type[RetryingHTTPClient]:
        """Return a subclass that backs off according to ``policy``."""
        return type(cls.__name__, (cls,), {"policy": policy})

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request, trying again while the rules above allow it."""
        safe = is_idempotent(method, endpoint)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = super().request(
                    method, endpoint, params, data, json, files, headers
                )
            except APIError as exc:
                self._note(method, endpoint, exc.response)
                status = exc.response.status_code
                retry = status == QUOTA_STATUS or (safe and status in RETRY_STATUSES)
                if not retry or attempt >= self.policy.tries:
                    raise
                wait = self.policy.delay(attempt, _retry_after(exc.response))
                reason = f"HTTP {status}"
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                self._note_lost(method, endpoint, exc)
                if not safe or attempt >= self.policy.tries:
                    raise
                wait = self.policy.delay(attempt)
                reason = type(exc).__name__
            else:
                self._note(method, endpoint, response)
                return response
            log.warning(
                "Google Sheets: %s %s failed (%s); try %d of %d in %.1f s",
                method.upper(),
                _short(endpoint),
                reason,
                attempt + 1,
                self.policy.tries,
                wait,
            )
            self.policy.sleep(wait)

    def _note(self, method: str, url: str, response: requests.Response) -> None:
        sent = _body_size(response.request)
        received = len(response.content)
        self.log.exchanges.append(
            Exchange(method.upper(), url, response.status_code, sent, received)
        )

    def _note_lost(self, method: str, url: str, exc: requests.RequestException) -> None:
        request = exc.request
        sent = (
            _body_size(request) if isinstance(request, requests.PreparedRequest) else 0
        )
        self.log.exchanges.append(Exchange(method.upper(), url, None, sent))


def _body_size(request: requests.PreparedRequest | None) -> int:
    body = request.body if request is not None else None
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    return len(body) if isinstance(body, bytes) else 0


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(url: str) -> str:
    """The part of a Sheets URL after the spreadsheet key, for log lines."""
    path = url.split("?", 1)[0]
    match = re.search(r"/spreadsheets/[^/:]+(.*)$", path)
    if match is None:
        return path
    return match.group(1) or "/"
