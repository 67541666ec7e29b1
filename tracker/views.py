"""The derived tabs leads read to run the program: Burn-down, Raters and Pilot.

Each is recomputed whole on every sync from every submission the tracker knows
of (its Submissions rows merged with this run's files, see tracker.known) and,
for Raters, from the leads' review column and every file set aside. The
definitions here are the ones the README gives; change both together.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from builder.record import BuildRecord
from tracker.cells import Cell, CellLog
from tracker.checks import parse_preference, preference_item
from tracker.known import SetAside, Submitted
from tracker.reconcile import Key
from tracker.revisions import Pair
from tracker.rows import SyncState, ordered, storable_row, x_correct
from tracker.tables import Row, key_text
from tracker.times import utc_day, utc_text

RATE_DAYS = 7
# Gold agreement over a rater's most recent gold answers, against all of them.
GOLD_WINDOW = 10
ISSUE_KINDS = ("ui_bug", "unclear_prompt")
# Upper edges (minutes) of the Pilot tab's time buckets; the last is open-ended.
BUCKETS = (
    ("under_5_min", 5.0),
    ("5_to_10_min", 10.0),
    ("10_to_20_min", 20.0),
    ("20_to_40_min", 40.0),
    ("40_min_plus", math.inf),
)


@dataclass(frozen=True)
class Reviews:
    """What leads decided on the Submissions tab, by (task, rater).

    ``status`` holds each review_status as typed (lower-cased, trimmed);
    ``rework`` the rework count of each row after this sync.
    """

    status: Mapping[Pair, str]
    rework: Mapping[Pair, int]


def burn_down_rows(state: SyncState, memory: Mapping[Key, Any]) -> list[Row]:
    """Per UTC day, from the first submission (or tab row) to the last.

    Days already in the tab are recomputed too, so a day whose only submission
    was revised on a later day drops to zero instead of keeping its old count.
    ``rate_7d`` is the mean submitted per day over the 7 days up to that day
    (fewer at the start); ``forecast_finish_utc`` is that day plus the days the
    remaining tasks take at that rate, rounded up.
    """
    planned = len(state.record.planned())
    days = Counter(utc_day(item.submitted) for item in state.submitted.values())
    # A row a lead deleted from Submissions still counts, on the day it first
    # reached the tracker (its submitted_at went with the row).
    days.update(
        utc_day(first)
        for pair, first in state.known.deleted.items()
        if pair not in state.submitted
    )
    known = {key[0] for key in memory if _is_day(key[0])} | set(days)
    if not known:
        return []
    first = date.fromisoformat(min(known))
    last = date.fromisoformat(max(known))
    rows: list[Row] = []
    counts: list[int] = []
    cumulative = 0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        submitted = days.get(day.isoformat(), 0)
        counts.append(submitted)
        cumulative += submitted
        window = counts[-RATE_DAYS:]
        remaining = planned - cumulative
        rows.append(
            {
                "date_utc": day.isoformat(),
                "submitted": submitted,
                "cumulative": cumulative,
                "remaining": remaining,
                "rate_7d": round(sum(window) / len(window), 2),
                "forecast_finish_utc": _forecast(day, remaining, window),
            }
        )
    return rows


def rater_rows(state: SyncState, reviews: Reviews) -> list[Row]:
    """One row per rater in the build record, in the record's order."""
    record = state.record
    golds = _gold_answers(record, state.submitted)
    trials = _identify_answers(record, state.submitted)
    latest_by: dict[str, list[Submitted]] = defaultdict(list)
    for (_, rater_id), submitted in state.submitted.items():
        latest_by[rater_id].append(submitted)
    rejected_by: dict[str | None, list[SetAside]] = defaultdict(list)
    for item in state.set_aside:
        rejected_by[item.rater_id].append(item)
    statuses_by: dict[str, list[str]] = {}
    for (_, rater_id), status in reviews.status.items():
        statuses_by.setdefault(rater_id, []).append(status)
    rework_by: Counter[str] = Counter()
    for (_, rater_id), count in reviews.rework.items():
        rework_by[rater_id] += count
    rows: list[Row] = []
    for rater_id, rater in record.raters.items():
        mine = latest_by.get(rater_id, [])
        days = {utc_day(item.submitted) for item in mine}
        rejected = rejected_by.get(rater_id, [])
        files = sum(1 + item.revisions for item in mine) + len(rejected)
        metadata_errors = sum(r.metadata for r in rejected)
        statuses = statuses_by.get(rater_id, [])
        reviewed = [s for s in statuses if s in ("accepted", "rejected", "rewrite")]
        agree = golds.get(rater_id, [])
        recent = agree[-GOLD_WINDOW:]
        rows.append(
            {
                "rater_id": rater_id,
                "rater_name": rater.get("name") or None,
                "assigned": len(rater["tasks"]),
                "submitted": len(mine),
                "active_days": len(days),
                "tasks_per_day": _ratio(len(mine), len(days), 2),
                "median_minutes_per_track": _round(
                    percentile(_minutes_per_track(record, mine), 0.5), 1
                ),
                "files": files,
                "metadata_errors": metadata_errors,
                "metadata_error_rate": _ratio(metadata_errors, files),
                "rejections": statuses.count("rejected") + len(rejected),
                "rework": rework_by[rater_id],
                "reviewed": len(reviewed),
                "acceptance_rate": _ratio(reviewed.count("accepted"), len(reviewed)),
                "gold_answered": len(agree),
                "gold_agreement": _ratio(sum(agree), len(agree)),
                "gold_recent": (
                    _ratio(sum(recent), len(recent))
                    if len(agree) > GOLD_WINDOW
                    else None
                ),
                "gold_drift": (
                    round(sum(recent) / len(recent) - sum(agree) / len(agree), 3)
                    if len(agree) > GOLD_WINDOW
                    else None
                ),
                **_identify_scores(trials.get(rater_id, [])),
            }
        )
    return rows


def pilot_rows(state: SyncState, cells: CellLog) -> list[Row]:
    """Time per task by kind (and for all), then the UI and prompt issues raised."""
    minutes: dict[str, list[float]] = {}
    tasks = state.record.tasks
    kinds = list(dict.fromkeys(task["kind"] for task in tasks.values()))
    for (task_id, _), item in state.submitted.items():
        if item.active_minutes is not None:
            minutes.setdefault(tasks[task_id]["kind"], []).append(item.active_minutes)
    rows: list[Row] = []
    for kind in [*kinds, "all"]:
        values = (
            [m for ms in minutes.values() for m in ms]
            if kind == "all"
            else minutes.get(kind, [])
        )
        rows.append({"section": "time", "kind": kind, **_distribution(values)})
    for pair in ordered(state.record, state.submitted):
        task_id, rater_id = pair
        for flag in state.submitted[pair].flags:
            if flag.kind not in ISSUE_KINDS:
                continue
            row: Row = {
                "section": "issue",
                "kind": flag.kind,
                "task_id": task_id,
                "rater_id": rater_id,
                "flagged_at_utc": utc_text(flag.flagged),
                "note": flag.note,
            }
            where = f"task {task_id}, rater {rater_id}, Pilot issue"
            rows.append(storable_row(row, where, cells))
    return rows


def review_statuses(values: Mapping[Key, Mapping[str, Cell]]) -> dict[Pair, str]:
    """Each Submissions row's review_status as lower-case text ("" when blank)."""
    return {
        (key[0], key[1]): key_text(row.get("review_status")).lower()
        for key, row in values.items()
    }


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation (spreadsheets' PERCENTILE.INC)."""
    ordered_values = sorted(values)
    if not ordered_values:
        return None
    at = q * (len(ordered_values) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered_values) - 1)
    return ordered_values[low] + (ordered_values[high] - ordered_values[low]) * (
        at - low
    )


def gold_agrees(expected: str, answer: str, strength: int, tolerance: int) -> bool:
    """Whether a preference for ``answer`` at ``strength`` matches the gold.

    ``expected`` and ``answer`` are clips named the same way (labels as the
    rater saw them, or slots), or "tie". Without tolerance the answer must pick
    the gold clip (or the tie). With a tolerance of n strength points, a tie
    gold accepts answers up to strength n either way, and a clip gold accepts
    answers up to n - 1 points toward the other clip (1: a tie also agrees; 2:
    also the weakest preference for it).
    """
    if expected == "tie":
        return answer == "tie" or strength <= tolerance
    # Strength toward the gold clip: positive for it, negative against, 0 a tie.
    toward = {expected: strength, "tie": 0}.get(answer, -strength)
    return toward >= 1 - tolerance


def _gold_answers(
    record: BuildRecord, submitted: Mapping[Pair, Submitted]
) -> dict[str, list[bool]]:
    """Per rater, whether each answered gold task matched, oldest first.

    The gold answer is taken as this rater saw it (``BuildRecord.gold``: the
    label that showed the gold slot, or "tie"), so "A" is right for a rater who
    saw slot b as A; ``gold_tolerance`` gives the leeway in strength points.
    """
    item, _ = preference_item(record)
    answered: dict[str, list[tuple[Any, str, bool]]] = {}
    for (task_id, rater_id), chosen in submitted.items():
        gold = record.gold(task_id, rater_id)
        if gold is None or record.tasks[task_id]["kind"] == "caption":
            continue
        answer = parse_preference(chosen.answers.get(item))
        if answer is None:
            continue
        expected, tolerance = gold
        agrees = gold_agrees(expected, answer[0], answer[1], tolerance)
        answered.setdefault(rater_id, []).append((chosen.submitted, task_id, agrees))
    return {
        rater: [match for *_, match in sorted(items)]
        for rater, items in answered.items()
    }


def _identify_answers(
    record: BuildRecord, submitted: Mapping[Pair, Submitted]
) -> dict[str, list[bool]]:
    """Per rater, whether each answered identify trial named the clip X was."""
    scored: dict[str, list[bool]] = {}
    for pair, chosen in submitted.items():
        correct = x_correct(record, pair, chosen.answers)
        if correct is not None:
            scored.setdefault(pair[1], []).append(correct)
    return scored


def _identify_scores(answers: Sequence[bool]) -> Row:
    """Trials answered, how many right, and how likely that many by guessing."""
    trials, correct = len(answers), sum(answers)
    return {
        "abx_trials": trials,
        "abx_correct": correct,
        "abx_p_value": round(binomial_tail(correct, trials), 4) if trials else None,
    }


def binomial_tail(correct: int, trials: int) -> float:
    """P(at least ``correct`` right of ``trials``) when every answer is a coin toss.

    The one-sided exact binomial test of identify trials: small values mean the
    rater hears the difference.
    """
    return sum(math.comb(trials, k) for k in range(correct, trials + 1)) / 2**trials


def _distribution(values: Sequence[float]) -> Row:
    row: Row = {
        "tasks": len(values),
        "p10_minutes": _round(percentile(values, 0.1), 1),
        "median_minutes": _round(percentile(values, 0.5), 1),
        "p90_minutes": _round(percentile(values, 0.9), 1),
    }
    low = 0.0
    for name, high in BUCKETS:
        row[name] = sum(low <= v < high for v in values)
        low = high
    return row


def _minutes_per_track(record: BuildRecord, items: Iterable[Submitted]) -> list[float]:
    """Active minutes of each submission divided by the clips its task shows."""
    return [
        item.active_minutes / max(len(record.clip_ids(item.task_id, item.rater_id)), 1)
        for item in items
        if item.active_minutes is not None
    ]


def _forecast(day: date, remaining: int, window: Sequence[int]) -> str | None:
    """The day the remaining tasks are done at the window's rate; None at rate 0."""
    if remaining <= 0:
        return day.isoformat()
    done = sum(window)
    if not done:
        return None
    days = -(-remaining * len(window) // done)  # ceil without float error
    return (day + timedelta(days=days)).isoformat()


def _ratio(part: int, whole: int, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
