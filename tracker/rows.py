"""What each tab should hold, as rows of plain values by column name.

Model versions and clip ids come from the build record (a page never knows the
models). Text is made storable here, once, for both backends.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from builder.record import BuildRecord
from tracker.answers import count_words
from tracker.cells import Cell, CellLog, storable
from tracker.checks import parse_preference, preference_item
from tracker.known import Known, Merged, SetAside, Submitted
from tracker.reconcile import Key
from tracker.revisions import Latest, Pair
from tracker.submissions import Rejected
from tracker.tables import Row, count_cell, key_text
from tracker.times import parse_instant, utc_text

log = logging.getLogger(__name__)

LABELS = ("A", "B", "X")
# Review statuses by which a lead asks the rater for a new submission.
REDO_STATUSES = ("rewrite", "rejected")
SLOW_ANOMALY = timedelta(hours=24)
Memory = Mapping[Key, Mapping[str, str]]


@dataclass(frozen=True)
class SyncState:
    """Everything the rows are made from, at one instant ``now``.

    ``merged`` holds this run's files merged with the submissions the tracker
    held (``known``); ``latest`` are the pairs whose Submissions row this run
    writes from a file. ``set_aside`` is every rejected file the tracker or this
    run knows; ``rejected`` this run's.
    """

    record: BuildRecord
    merged: Merged
    known: Known
    rejected: Sequence[Rejected]
    set_aside: Sequence[SetAside]
    accepted_files: frozenset[tuple[str, str]]  # (file name, sha256)
    now: datetime

    @property
    def latest(self) -> Mapping[Pair, Latest]:
        return self.merged.files

    @property
    def submitted(self) -> Mapping[Pair, Submitted]:
        return self.merged.submitted


def submission_rows(
    state: SyncState,
    memory: Memory,
    cells: CellLog,
    previous: Mapping[Key, Mapping[str, Cell]],
) -> list[Row]:
    """One row per (task, rater) whose latest is this run's file, in manifest order.

    ``previous`` holds each row's review_status, sha256, rework and
    changed_since_review as the tab has them. Rows the tracker holds that this
    run does not replace get only what changed: a revisions count raised by
    older files, or a review mark the lead cleared.
    """
    record = state.record
    pref_id, _ = preference_item(record)
    text_id = _text_item(record)
    rows = []
    for pair in ordered(record, state.latest):
        latest = state.latest[pair]
        data = latest.accepted.file.data
        task_id, rater_id = pair
        task = record.tasks[task_id]
        models = record.models(task_id, rater_id)
        clips = record.clip_ids(task_id, rater_id)
        answers = data["answers"]
        is_caption = task["kind"] == "caption"
        preference = None if is_caption else parse_preference(answers.get(pref_id))
        preferred = preference[0] if preference else None
        row: Row = {
            "task_id": task_id,
            "rater_id": rater_id,
            "kind": task["kind"],
            "batch": task["batch"] or None,
            "prompt": task["prompt"],
            **{f"model_{label}": models.get(label) for label in LABELS},
            **{f"clip_{label}": clips.get(label) for label in LABELS},
            "preferred": preferred,
            "strength": preference[1] if preference else None,
            "preferred_model": models.get(preferred) if preferred else None,
            "x_correct": _yes_no(x_correct(record, pair, answers)),
            "rationale": _text(answers.get(text_id)) if not is_caption else None,
            "caption": _text(answers.get("caption")) if is_caption else None,
            "caption_words": _words(answers.get("caption")) if is_caption else None,
            "callouts": len(answers.get("callouts", [])) if is_caption else None,
            "started_at_utc": utc_text(latest.accepted.started),
            "submitted_at_utc": utc_text(latest.accepted.submitted),
            "active_minutes": round(float(data["active_seconds"]) / 60, 1),
            "min_coverage_heard": _min_coverage(data, clips),
            "plays": sum(int(c["plays"]) for c in data["listening"]["clips"].values()),
            "anomalies": len(data["anomalies"]),
            "file": latest.accepted.file.name,
            "sha256": latest.accepted.file.sha256,
            "build_id": data["build_id"],
            "revisions": state.merged.revisions[pair],
            "rework": rework_count(
                previous.get(pair),
                latest.accepted.file.sha256,
                _round(data.get("rework_round")),
            ),
            "changed_since_review": changed_since_review(
                previous.get(pair), latest.accepted.file.sha256
            ),
            "first_synced_at_utc": memory.get(pair, {}).get(
                "first_synced_at_utc", utc_text(state.now)
            ),
            "answers_json": json.dumps(
                answers, ensure_ascii=False, separators=(",", ":")
            ),
        }
        rows.append(storable_row(row, f"task {task_id}, rater {rater_id}", cells))
    return rows + _kept_rows(state, previous)


def _kept_rows(
    state: SyncState, previous: Mapping[Key, Mapping[str, Cell]]
) -> list[Row]:
    """Updates to rows this run does not replace."""
    rows: list[Row] = []
    for key, cells in previous.items():
        pair = (key[0], key[1])
        if pair in state.latest:
            continue
        row: Row = {"task_id": pair[0], "rater_id": pair[1]}
        if pair in state.merged.older:
            row["revisions"] = state.merged.older[pair]
        marked = key_text(cells.get("changed_since_review")).lower() == "yes"
        if marked and not key_text(cells.get("review_status")):
            row["changed_since_review"] = None
        if len(row) > 2:
            rows.append(row)
    return rows


def changed_since_review(
    previous: Mapping[str, Cell] | None, sha256: str
) -> str | None:
    """Mark a row whose file replaced the one a lead reviewed: "yes" or None.

    A lead's review_status is never overwritten, so without the mark a revised
    submission would show the review of the version before it. The mark stays
    until the lead empties review_status.
    """
    if previous is None or not key_text(previous.get("review_status")):
        return None
    shown = key_text(previous.get("sha256"))
    if shown and shown != sha256:
        return "yes"
    marked = key_text(previous.get("changed_since_review")).lower() == "yes"
    return "yes" if marked else None


def x_correct(
    record: BuildRecord, pair: Pair, answers: Mapping[str, Any]
) -> bool | None:
    """Whether an identify trial's answer names the clip X was; None if not one.

    Scored against the key in the build record, never anything the page says.
    """
    key = record.identify_key(*pair)
    answer = answers.get("x_is")
    if key is None or answer not in ("A", "B"):
        return None
    return answer == key


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def rework_count(
    previous: Mapping[str, Cell] | None, sha256: str, rework_round: int = 0
) -> int:
    """The row's rework count, plus one if a lead asked for a redo and got one.

    A redo is asked for with review_status "rewrite" or "rejected"; it arrives
    as a submission whose bytes differ from the one the row showed. A submission
    from a task the build reissued for its n-th rewrite (``rework_round`` n)
    counts at least n, even when the row missed a round (it was deleted, or the
    status changed before the redo was synced).
    """
    if previous is None:
        return rework_round
    count = count_cell(previous.get("rework"))
    status = key_text(previous.get("review_status")).lower()
    shown = key_text(previous.get("sha256"))
    if status in REDO_STATUSES and shown and shown != sha256:
        count += 1
    return max(count, rework_round)


def _round(value: Any) -> int:
    """A submission's rework_round (the schema allows only whole numbers >= 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def task_rows(state: SyncState) -> list[Row]:
    """Every planned (task, rater) with whether it has been submitted.

    Submitted means the tracker holds a submission (this run's file or a
    Submissions row), or remembers one a lead deleted from Submissions; changed
    means its only row answers the task as an earlier build showed it.
    """
    record = state.record
    rows = []
    for pair in record.planned():
        task_id, rater_id = pair
        submitted = state.submitted.get(pair)
        if submitted is not None or pair in state.known.deleted:
            status = "submitted"
        elif pair in state.known.changed:
            status = "changed"
        else:
            status = "pending"
        task = record.tasks[task_id]
        rows.append(
            {
                "task_id": task_id,
                "rater_id": rater_id,
                "rater_name": record.raters[rater_id].get("name") or None,
                "kind": task["kind"],
                "batch": task["batch"] or None,
                "state": status,
                "submitted_at_utc": utc_text(submitted.submitted)
                if submitted
                else None,
            }
        )
    return rows


def anomaly_rows(state: SyncState, memory: Memory, cells: CellLog) -> list[Row]:
    """One row per anomaly flagged in a latest submission."""
    rows = []
    for pair in ordered(state.record, state.latest):
        task_id, rater_id = pair
        for anomaly in state.latest[pair].accepted.file.data["anomalies"]:
            flagged = parse_instant(anomaly["flagged_at"])
            key = (task_id, rater_id, anomaly["kind"], utc_text(flagged))
            reached_text = memory.get(key, {}).get("reached_tracker_at_utc")
            reached = parse_instant(reached_text) if reached_text else state.now
            delay = max(reached - flagged, timedelta(0))
            row: Row = {
                "task_id": task_id,
                "rater_id": rater_id,
                "kind": anomaly["kind"],
                "note": anomaly["note"],
                "flagged_at_utc": utc_text(flagged),
                "reached_tracker_at_utc": utc_text(reached),
                "hours_to_tracker": round(delay.total_seconds() / 3600, 1),
                "over_24h": "yes" if delay > SLOW_ANOMALY else "no",
            }
            where = f"task {task_id}, rater {rater_id}, anomaly"
            rows.append(storable_row(row, where, cells))
    return rows


def rejected_rows(state: SyncState, memory: Memory, cells: CellLog) -> list[Row]:
    """One row per rejected file, plus a state update for rows seen before."""
    rows = []
    now = utc_text(state.now)
    seen: set[Key] = set()
    for item in state.rejected:
        key = (item.name, item.sha256)
        seen.add(key)
        row: Row = {
            "file": item.name,
            "sha256": item.sha256 or None,
            "reason": item.reason,
            "task_id": item.task_id,
            "rater_id": item.rater_id,
            "first_seen_at_utc": memory.get(key, {}).get("first_seen_at_utc", now),
            "state": "rejected",
            "metadata": "yes" if item.metadata else "no",
        }
        rows.append(storable_row(row, f"rejected file {item.name}", cells))
    # A file rejected before and missing from this run's folder stays rejected;
    # the same bytes accepted since (after a fix to the build) say so.
    for name, sha in memory:
        if (name, sha) not in seen and (name, sha) in state.accepted_files:
            rows.append({"file": name, "sha256": sha or None, "state": "accepted"})
    return rows


def ordered(record: BuildRecord, pairs: Iterable[Pair]) -> list[Pair]:
    """The ``pairs`` in manifest order of their tasks."""
    order = {task_id: i for i, task_id in enumerate(record.tasks)}
    return sorted(pairs, key=lambda pair: (order.get(pair[0], len(order)), pair))


def _text_item(record: BuildRecord) -> str:
    """Return the rubric item holding the written reason ("rationale" by default)."""
    texts = [i["id"] for i in record.data["config"]["rubric"] if i["type"] == "text"]
    return "rationale" if "rationale" in texts or not texts else str(texts[0])


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _words(value: Any) -> int | None:
    """Count words as the caption page does; a lone dash or symbol is not a word."""
    return count_words(value) if isinstance(value, str) else None


def _min_coverage(data: dict[str, Any], clips: Mapping[str, str]) -> float:
    """The lowest coverage among the clips shown; a clip never played counts 0."""
    heard = data["listening"]["clips"]
    return round(
        min(float(heard.get(label, {}).get("coverage", 0)) for label in clips), 3
    )


def storable_row(row: Row, where: str, cells: CellLog) -> Row:
    """Make every text value of ``row`` storable, noting changes in ``cells``."""
    return {
        name: storable(value, f"{where}, field {name}", cells)
        if isinstance(value, str)
        else value
        for name, value in row.items()
    }
