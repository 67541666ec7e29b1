"""Route a requests session (and so gspread) to the fake over loopback HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gspread
import requests
from gspread.http_client import HTTPClient, HTTPClientType
from requests.adapters import BaseAdapter, HTTPAdapter

# Hosts gspread 6.2.1 talks to (gspread.urls): Sheets v4 and Drive v3.
GOOGLE_PREFIXES = ("https://sheets.googleapis.com/", "https://www.googleapis.com/")


class LoopbackAdapter(HTTPAdapter):
    """Send requests for Google's hosts to the fake, as real HTTP on loopback."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._target = urlsplit(base_url)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(
            (self._target.scheme, self._target.netloc, parts.path, parts.query, "")
        )
        kwargs["proxies"] = {}  # a proxy from the environment must not see loopback
        return super().send(request, *args, **kwargs)


class OfflineAdapter(BaseAdapter):
    """Refuse every other URL, so a test can never reach the real network."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        raise requests.ConnectionError(
            f"fakesheets: {request.url} is not routed to the fake (only "
            f"{', '.join(GOOGLE_PREFIXES)} are)",
            request=request,
        )

    def close(self) -> None:
        """Nothing to release."""


def routed_session(base_url: str) -> requests.Session:
    """Return a session whose Google API calls land on the fake at ``base_url``."""
    session = requests.Session()
    session.trust_env = False
    offline = OfflineAdapter()
    session.mount("https://", offline)
    session.mount("http://", offline)
    loopback = LoopbackAdapter(base_url)
    for prefix in GOOGLE_PREFIXES:
        session.mount(prefix, loopback)
    session.mount(base_url.rstrip("/") + "/", HTTPAdapter())
    return session


def routed_client(
    base_url: str, http_client: HTTPClientType = HTTPClient
) -> gspread.Client:
    """Return a gspread client (no credentials) talking to the fake."""
    return gspread.Client(
        auth=None, session=routed_session(base_url), http_client=http_client
    )
