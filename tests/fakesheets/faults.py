"""Scripted failures for retry tests: error statuses, stalls, dropped sockets."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["status", "stall", "drop", "after_apply"]

# Bodies as Google sends them for these statuses (429 names the quota hit).
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}


def error_body(status: int, method: str = "GET") -> dict[str, Any]:
    """Return Google's error body for an injected status."""
    if status == 429:
        kind = "Read" if method.upper() == "GET" else "Write"
        message = (
            f"Quota exceeded for quota metric '{kind} requests' and limit "
            f"'{kind} requests per minute per user' of service "
            "'sheets.googleapis.com' for consumer 'project_number:0'."
        )
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_metric": f"sheets.googleapis.com/{kind.lower()}_requests",
                    "service": "sheets.googleapis.com",
                },
            }
        ]
        return {
            "error": {
                "code": 429,
                "message": message,
                "status": "RESOURCE_EXHAUSTED",
                "details": details,
            }
        }
    return {
        "error": {
            "code": status,
            "message": _MESSAGES.get(status, "Injected failure."),
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


@dataclass
class Fault:
    """One scripted failure, used up after ``remaining`` matching requests."""

    kind: FaultKind
    remaining: int
    status: int = 500
    seconds: float = 0.0
    apply: bool = False
    method: str | None = None
    path: re.Pattern[str] | None = None
    after: int = 0  # matching requests let through before the first shot

    def matches(self, method: str, path: str) -> bool:
        """True when this fault is aimed at the request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class Fired:
    """A fault that hit a request (for assertions)."""

    kind: FaultKind
    method: str
    path: str


class Faults:
    """The failure script of one fake server; safe to use from tests' threads.

    Every method takes optional ``method`` ("GET", "POST"...) and ``path`` (a
    regular expression searched in the decoded request path, such as
    ``r":batchUpdate$"`` or ``"/values/"``) to aim at particular requests.
    Faults fire in the order they were added; ``after`` lets that many matching
    requests through first (to fail, say, the second value write of a sync).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.fired: list[Fired] = []

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        method: str | None = None,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``n`` matching requests with ``status`` (not applied)."""
        self._add(
            Fault(
                "status", n, status=status, method=method, path=_re(path), after=after
            )
        )

    def timeout_next(
        self,
        n: int = 1,
        seconds: float = 5.0,
        *,
        apply: bool = False,
        method: str | None = None,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Hold the next ``n`` matching requests for ``seconds``.

        Set ``seconds`` above the client's read timeout. With ``apply=False``
        the request is dropped after the hold, never applied; with
        ``apply=True`` it is applied first and answered late, the way a slow
        real server commits a write the client has given up on.
        """
        self._add(
            Fault(
                "stall",
                n,
                seconds=seconds,
                apply=apply,
                method=method,
                path=_re(path),
                after=after,
            )
        )

    def drop_next(
        self,
        n: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Close the connection of the next ``n`` matching requests, unanswered."""
        self._add(Fault("drop", n, method=method, path=_re(path), after=after))

    def fail_after_apply_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        method: str | None = None,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Apply the next ``n`` matching requests, then answer ``status``.

        Simulates a sync interrupted after the server committed the write.
        """
        self._add(
            Fault(
                "after_apply",
                n,
                status=status,
                method=method,
                path=_re(path),
                after=after,
            )
        )

    def clear(self) -> None:
        """Forget every fault not fired yet."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        """How many requests the remaining faults will still hit."""
        with self._lock:
            return sum(f.remaining for f in self._queue)

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault for this request, if any, and use one shot of it."""
        with self._lock:
            for fault in self._queue:
                if fault.remaining > 0 and fault.matches(method, path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._queue.remove(fault)
                    self.fired.append(Fired(fault.kind, method, path))
                    return fault
        return None

    def _add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault needs n >= 1")
        with self._lock:
            self._queue.append(fault)


def _re(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern is not None else None
