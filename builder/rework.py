"""Caption tasks a lead sent back for a rewrite, as the build reissues them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reissue:
    """One (task, rater) to hand out again.

    ``round`` numbers the rewrites (1 for the first); the page stores its draft
    under a key of its own per round and writes it into the submission as
    ``rework_round``. ``answers`` are the earlier submission's answers, loaded into
    the form (None when they could not be found); ``source`` says where they came
    from, for the build record.
    """

    round: int
    notes: str
    answers: dict[str, Any] | None
    source: str
