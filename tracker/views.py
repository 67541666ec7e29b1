"""The derived tabs leads read to run the program: Burn-down, Raters and Pilot.

Each is recomputed whole from the submissions (and, for Raters, from the leads'
review column) on every sync. The definitions here are the ones the README
gives; change both together.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from builder.record import BuildRecord
from tracker.cells import Cell, CellLog
from tracker.checks import parse_preference, preference_item
from tracker.reconcile import Key
from tracker.revisions import Latest, Pair
from tracker.rows import SyncState, ordered, storable_row
from tracker.submissions import Rejected
from tracker.tables import Row, key_text
from tracker.times import parse_instant, utc_day, utc_text

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
GOLD_TIE = ("tie", "0")


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
    days = Counter(utc_day(item.accepted.submitted) for item in state.latest.values())
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
    golds = _gold_answers(record, state.latest)
    latest_by: dict[str, list[Latest]] = {}
    for (_, rater_id), latest in state.latest.items():
        latest_by.setdefault(rater_id, []).append(latest)
    rejected_by: dict[str | None, list[Rejected]] = {}
    for item in state.rejected:
        rejected_by.setdefault(item.rater_id, []).append(item)
    statuses_by: dict[str, list[str]] = {}
    for (_, rater_id), status in reviews.status.items():
        statuses_by.setdefault(rater_id, []).append(status)
    rework_by: Counter[str] = Counter()
    for (_, rater_id), count in reviews.rework.items():
        rework_by[rater_id] += count
    rows: list[Row] = []
    for rater_id, rater in record.raters.items():
        mine = latest_by.get(rater_id, [])
        days = {utc_day(latest.accepted.submitted) for latest in mine}
        rejected = rejected_by.get(rater_id, [])
        files = state.accepted_per_rater.get(rater_id, 0) + len(rejected)
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
                    percentile([_minutes_per_track(m) for m in mine], 0.5), 1
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
            }
        )
    return rows


def pilot_rows(state: SyncState, cells: CellLog) -> list[Row]:
    """Time per task by kind (and for all), then the UI and prompt issues raised."""
    minutes: dict[str, list[float]] = {}
    kinds = list(dict.fromkeys(task["kind"] for task in state.record.tasks.values()))
    for latest in state.latest.values():
        data = latest.accepted.file.data
        minutes.setdefault(data["kind"], []).append(data["active_seconds"] / 60)
    rows: list[Row] = []
    for kind in [*kinds, "all"]:
        values = (
            [m for ms in minutes.values() for m in ms]
            if kind == "all"
            else minutes.get(kind, [])
        )
        rows.append({"section": "time", "kind": kind, **_distribution(values)})
    for pair in ordered(state.record, state.latest):
        task_id, rater_id = pair
        for anomaly in state.latest[pair].accepted.file.data["anomalies"]:
            if anomaly["kind"] not in ISSUE_KINDS:
                continue
            row: Row = {
                "section": "issue",
                "kind": anomaly["kind"],
                "task_id": task_id,
                "rater_id": rater_id,
                "flagged_at_utc": utc_text(parse_instant(anomaly["flagged_at"])),
                "note": anomaly["note"],
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


def gold_slot(gold: object) -> str | None:
    """The manifest slot a gold value names: "a", "b" or "tie"; None otherwise."""
    text = str(gold or "").strip().lower()
    if text in GOLD_TIE:
        return "tie"
    return text if text in ("a", "b") else None


def gold_agrees(expected: str, slot: str | None, strength: int, tolerance: int) -> bool:
    """Whether an answer for ``slot`` (or "tie") at ``strength`` matches the gold.

    Without tolerance the answer must pick the gold slot (or the tie). With a
    tolerance of n strength points, a tie gold accepts answers up to strength n
    either way, and a slot gold accepts answers up to n - 1 points toward the
    other slot (1: a tie also agrees; 2: also the weakest preference for it).
    """
    if expected == "tie":
        return slot == "tie" or strength <= tolerance
    # Strength toward the gold slot: positive for it, negative against, 0 a tie.
    toward = {expected: strength, "tie": 0}.get(slot or "", -strength)
    return toward >= 1 - tolerance


def _gold_answers(
    record: BuildRecord, latest: Mapping[Pair, Latest]
) -> dict[str, list[bool]]:
    """Per rater, whether each answered gold task matched, oldest first.

    A rater's preferred label is mapped to the manifest slot behind it through
    the build record, so "A" means slot b for a rater who saw the clips swapped.
    """
    item, _ = preference_item(record)
    answered: dict[str, list[tuple[Any, str, bool]]] = {}
    for (task_id, rater_id), chosen in latest.items():
        task = record.tasks.get(task_id, {})
        expected = gold_slot(task.get("gold"))
        if expected is None or task.get("kind") == "caption":
            continue
        answer = parse_preference(chosen.accepted.file.data["answers"].get(item))
        if answer is None:
            continue
        labels = record.raters[rater_id]["tasks"][task_id]["labels"]
        slot = "tie" if answer[0] == "tie" else labels.get(answer[0])
        tolerance = int(task.get("gold_tolerance") or 0)
        answered.setdefault(rater_id, []).append(
            (
                chosen.accepted.submitted,
                task_id,
                gold_agrees(expected, slot, answer[1], tolerance),
            )
        )
    return {
        rater: [match for *_, match in sorted(items)]
        for rater, items in answered.items()
    }


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


def _minutes_per_track(latest: Latest) -> float:
    data = latest.accepted.file.data
    return float(data["active_seconds"]) / 60 / max(len(data["clips"]), 1)


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
