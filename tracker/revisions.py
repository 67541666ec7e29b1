"""Several files for one task and rater: keep the latest, count the others."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tracker.checks import Accepted
from tracker.times import utc_text

log = logging.getLogger(__name__)

Pair = tuple[str, str]  # (task id, rater id)
# What orders two versions of one task, latest last: submitted_at, then the later
# started_at, then more active time, then the sha256 of the bytes.
Rank = tuple[datetime, datetime, float, str]


@dataclass(frozen=True)
class Latest:
    """The submission that counts for a task and rater.

    ``revisions`` counts other accepted versions (different bytes); a file
    re-sent with identical bytes is a copy, not a revision. ``shas`` holds the
    sha256 of every version seen, the chosen one included.
    """

    accepted: Accepted
    revisions: int
    copies: int
    shas: frozenset[str] = frozenset()


def rank(item: Accepted) -> Rank:
    """The order of versions: the largest rank is the latest."""
    active = float(item.file.data["active_seconds"])
    return (item.submitted, item.started, active, item.file.sha256)


def tie_breaker(first: Rank, second: Rank) -> str:
    """Name what tells two versions with the same submitted_at apart."""
    if first[1] != second[1]:
        return "the later started_at"
    if first[2] != second[2]:
        return "more active time"
    return "the larger sha256"


def pick_latest(accepted: Iterable[Accepted]) -> dict[Pair, Latest]:
    """Group by (task, rater) and keep the latest version of each group.

    The latest is the one submitted last; versions submitted at the same instant
    are ordered by ``rank``, never by file name, and each such tie is logged as a
    warning naming both files. File names only order identical copies.
    """
    groups: dict[Pair, list[Accepted]] = {}
    for item in accepted:
        groups.setdefault((item.task_id, item.rater_id), []).append(item)
    chosen = {}
    for pair, items in groups.items():
        best = max(items, key=lambda a: (rank(a), a.file.name))
        _warn_ties(pair, best, items)
        distinct = frozenset(a.file.sha256 for a in items)
        chosen[pair] = Latest(
            best, len(distinct) - 1, len(items) - len(distinct), distinct
        )
    return chosen


def _warn_ties(pair: Pair, best: Accepted, items: list[Accepted]) -> None:
    shown: set[str] = set()
    for other in sorted(items, key=lambda a: a.file.name):
        sha = other.file.sha256
        if other.submitted != best.submitted or sha == best.file.sha256:
            continue
        if sha in shown:
            continue
        shown.add(sha)
        log.warning(
            "task %s, rater %s: %s and %s were both submitted at %s with different "
            "contents; kept %s (%s)",
            *pair,
            other.file.name,
            best.file.name,
            utc_text(best.submitted),
            best.file.name,
            tie_breaker(rank(best), rank(other)),
        )
