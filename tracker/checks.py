"""Check a schema-valid submission against the build record it claims to come from.

Every check runs, so a rejected file lists all that is wrong with it at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from builder.record import BuildRecord
from tracker.submissions import Loaded, Rejected
from tracker.times import parse_instant, utc_text

# A rater's clock may run a little fast; more than this is not a clock drift.
FUTURE_SLACK = timedelta(minutes=10)
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
PREFERENCE = re.compile(r"^(?:0|([AB])([1-9]))$")


@dataclass(frozen=True)
class Accepted:
    """A submission that matches the build record, with its instants parsed."""

    file: Loaded
    started: datetime
    submitted: datetime

    @property
    def task_id(self) -> str:
        return self.file.task_id

    @property
    def rater_id(self) -> str:
        return self.file.rater_id


def check(loaded: Loaded, record: BuildRecord, now: datetime) -> Accepted | Rejected:
    """Accept ``loaded`` or say every way it disagrees with ``record``."""
    data = loaded.data
    reasons = _identity(data, record)
    answer_reasons = []
    if not reasons:
        reasons += _task(data, record)
        answer_reasons = _answers(data, record)
    times, time_reasons = _times(data, now)
    reasons += time_reasons
    # Metadata is what the page fills in; a bad answer alone is not a metadata error.
    metadata = bool(reasons)
    reasons += answer_reasons
    if reasons or times is None:
        return Rejected(
            loaded.name,
            loaded.sha256,
            "; ".join(reasons),
            loaded.task_id,
            loaded.rater_id,
            metadata,
        )
    return Accepted(loaded, *times)


def preference_item(record: BuildRecord) -> tuple[str, int]:
    """Return the rubric's preference item id and its largest strength."""
    for item in record.data["config"]["rubric"]:
        if item["type"] == "preference":
            return str(item["id"]), (int(item.get("strength_points", 7)) - 1) // 2
    return "overall", 3


def parse_preference(value: object) -> tuple[str, int] | None:
    """Split ``"A2"`` into ("A", 2) and ``"0"`` into ("tie", 0); None otherwise."""
    if not isinstance(value, str):
        return None
    match = PREFERENCE.match(value)
    if not match:
        return None
    if match.group(1) is None:
        return "tie", 0
    return match.group(1), int(match.group(2))


def _identity(data: dict[str, Any], record: BuildRecord) -> list[str]:
    """Check project, build, rater and bundle; later checks need these right."""
    reasons = []
    if data["project_id"] != record.project_id:
        reasons.append(
            f"project {data['project_id']!r} is not this build's "
            f"project {record.project_id!r}"
        )
    if data["build_id"] != record.build_id:
        reasons.append(
            f"made with build {data['build_id']}, but the current build is "
            f"{record.build_id}: the rater used an older bundle (send them the "
            "current one and ask them to redo the task), or --build names an old "
            "build folder"
        )
    rater = record.raters.get(data["rater_id"])
    if rater is None:
        reasons.append(f"rater {data['rater_id']!r} is not in the build record")
    elif data["bundle_id"] != rater["bundle_id"]:
        reasons.append(
            f"bundle {data['bundle_id']} is not rater {data['rater_id']}'s "
            f"bundle {rater['bundle_id']}"
        )
    return reasons


def _task(data: dict[str, Any], record: BuildRecord) -> list[str]:
    """Check the task, its assignment, what was shown and what was answered."""
    task_id, rater_id = data["task_id"], data["rater_id"]
    task = record.tasks.get(task_id)
    if task is None:
        return [f"task {task_id!r} is not in the build record"]
    if task_id not in record.raters[rater_id]["tasks"]:
        return [f"task {task_id} was not assigned to rater {rater_id}"]
    reasons = []
    if data["kind"] != task["kind"]:
        reasons.append(f"kind {data['kind']!r} but the task is {task['kind']!r}")
    if data["prompt"] != task["prompt"]:
        reasons.append("prompt differs from the task's prompt in the build record")
    reasons += _clips(data, record.clip_ids(task_id, rater_id))
    return reasons


def _answers(data: dict[str, Any], record: BuildRecord) -> list[str]:
    """Check the preference answer's form (the rest the schema checked)."""
    task = record.tasks.get(data["task_id"])
    if task is None or task["kind"] == "caption" or data["kind"] != task["kind"]:
        return []
    if data["task_id"] not in record.raters[data["rater_id"]]["tasks"]:
        return []
    item, strongest = preference_item(record)
    value = data["answers"].get(item)
    parsed = parse_preference(value)
    if value is not None and (parsed is None or parsed[1] > strongest):
        return [
            f"answers.{item} is {value!r}; expected A{strongest}..A1, 0 or "
            f"B1..B{strongest}"
        ]
    return []


def _clips(data: dict[str, Any], expected: dict[str, str]) -> list[str]:
    """Check the clips shown and the clips listened to against the record."""
    shown: dict[str, str] = {}
    for clip in data["clips"]:
        if clip["label"] in shown:
            return [f"clip label {clip['label']} appears twice"]
        shown[clip["label"]] = clip["clip_id"]
    reasons = []
    if shown != expected:
        want = ", ".join(f"{k}={v}" for k, v in sorted(expected.items()))
        got = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
        reasons.append(f"clips {got} differ from this rater's clips {want}")
    for label, heard in data["listening"]["clips"].items():
        if label not in shown:
            reasons.append(f"listening.clips has {label}, which was not shown")
        elif heard["clip_id"] != shown[label]:
            reasons.append(
                f"listening.clips.{label} is clip {heard['clip_id']}, "
                f"but {label} was {shown[label]}"
            )
    for event in data["listening"].get("events", []):
        label = event.get("label")
        if label is not None and label not in shown:
            reasons.append(f"listening.events name clip {label}, which was not shown")
            break
    return reasons


def _times(
    data: dict[str, Any], now: datetime
) -> tuple[tuple[datetime, datetime] | None, list[str]]:
    """Parse started_at and submitted_at and check they are plausible."""
    reasons: list[str] = []
    parsed: dict[str, datetime] = {}
    stamps = [
        ("started_at", data["started_at"]),
        ("submitted_at", data["submitted_at"]),
    ]
    stamps += [
        (f"anomalies[{i}].flagged_at", a["flagged_at"])
        for i, a in enumerate(data["anomalies"])
    ]
    for field, text in stamps:
        try:
            instant = parse_instant(text)
        except ValueError:
            reasons.append(f"{field} {text!r} is not a valid timestamp")
            continue
        parsed[field] = instant
        if instant < EARLIEST:
            reasons.append(f"{field} {utc_text(instant)} is before 2020")
        elif instant > now + FUTURE_SLACK:
            reasons.append(
                f"{field} {utc_text(instant)} is in the future (now "
                f"{utc_text(now)}); the rater's clock may be wrong"
            )
    started, submitted = parsed.get("started_at"), parsed.get("submitted_at")
    if started is None or submitted is None:
        return None, reasons
    if started > submitted:
        reasons.append(
            f"started_at {utc_text(started)} is after "
            f"submitted_at {utc_text(submitted)}"
        )
    return (started, submitted), reasons
