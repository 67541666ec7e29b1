"""Several files for one task and rater: keep the latest, count the others."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.checks import Accepted

Pair = tuple[str, str]  # (task id, rater id)


@dataclass(frozen=True)
class Latest:
    """The submission that counts for a task and rater.

    ``revisions`` counts other accepted versions (different bytes); a file
    re-sent with identical bytes is a copy, not a revision.
    """

    accepted: Accepted
    revisions: int
    copies: int


def pick_latest(accepted: Iterable[Accepted]) -> dict[Pair, Latest]:
    """Group by (task, rater) and keep the latest ``submitted_at`` of each group.

    Equal instants are broken by file name, so the choice never depends on the
    order files were found in.
    """
    groups: dict[Pair, list[Accepted]] = {}
    for item in accepted:
        groups.setdefault((item.task_id, item.rater_id), []).append(item)
    chosen = {}
    for pair, items in groups.items():
        best = max(items, key=lambda a: (a.submitted, a.file.name))
        distinct = {a.file.sha256 for a in items}
        chosen[pair] = Latest(best, len(distinct) - 1, len(items) - len(distinct))
    return chosen
