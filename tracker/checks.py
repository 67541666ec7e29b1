"""Check a schema-valid submission against the build record it claims to come from.

Every check runs, so a rejected file lists all that is wrong with it at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from builder.record import BuildRecord, parse_time
from tracker.answers import answer_problems
from tracker.callouts import callout_reasons
from tracker.submissions import Loaded, Rejected
from tracker.times import parse_instant, utc_text

# A rater's clock may run a little fast; more than this is not a clock drift.
FUTURE_SLACK = timedelta(minutes=10)
# Work cannot start before its bundle was built. A day of leeway covers a
# computer whose clock is set to local time under the wrong time zone.
BUILD_SLACK = timedelta(days=1)
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
    """Accept ``loaded`` or say every way it disagrees with ``record``.

    A file made with an earlier build of the same folder (one in the record's
    history) is checked against the current build when its task, as that rater
    saw it, has not changed since; otherwise it is set aside with what changed.
    """
    data = loaded.data
    # Metadata is what the page fills in: ids, the task and its clips, times.
    metadata = _identity(data, record)
    other: list[str] = []
    if not metadata:
        earlier, changed = _earlier_task(data, record)
        metadata += earlier
        other += changed
        if not metadata and not other:
            metadata += _task(data, record)
            other += _answers(data, record)
    times, time_reasons = _times(data, now, _built_at(data, record))
    metadata += time_reasons
    reasons = metadata + other
    if reasons or times is None:
        return Rejected(
            loaded.name,
            loaded.sha256,
            "; ".join(reasons),
            loaded.task_id,
            loaded.rater_id,
            bool(metadata),
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
    build_id, rater_id = data["build_id"], data["rater_id"]
    current = build_id == record.build_id
    earlier = None if current else record.earlier_build(build_id)
    if not current and earlier is None:
        reasons.append(
            f"made with build {build_id}, but the current build is "
            f"{record.build_id} and this build folder has no record of {build_id}: "
            "the rater used a bundle from another build folder (send them the "
            "current one and ask them to redo the task), or --build names the "
            "wrong folder"
        )
    rater = record.raters.get(rater_id)
    if rater is None:
        reasons.append(f"rater {rater_id!r} is not in the build record")
        return reasons
    if earlier is not None:
        rater = earlier["raters"].get(rater_id)
        if rater is None:
            reasons.append(f"rater {rater_id!r} was not in build {build_id}")
            return reasons
    elif not current:
        return reasons
    if data["bundle_id"] != rater["bundle_id"]:
        of_build = "" if current else f" in build {build_id}"
        reasons.append(
            f"bundle {data['bundle_id']} is not rater {rater_id}'s "
            f"bundle {rater['bundle_id']}{of_build}"
        )
    return reasons


def _earlier_task(
    data: dict[str, Any], record: BuildRecord
) -> tuple[list[str], list[str]]:
    """For a file made with an earlier build: has its task changed since?

    Returns (metadata reasons, other reasons); both empty for a file made with
    the current build, or an earlier one whose task the rater saw as it is now.
    """
    build_id, task_id, rater_id = data["build_id"], data["task_id"], data["rater_id"]
    earlier = record.earlier_build(build_id)
    if earlier is None:
        return [], []
    if task_id not in earlier["raters"][rater_id]["tasks"]:
        return [
            f"task {task_id!r} was not assigned to rater {rater_id} in build {build_id}"
        ], []
    if task_id not in record.raters[rater_id]["tasks"]:
        return [], [
            f"task {task_id} is no longer assigned to rater {rater_id} in the "
            f"current build {record.build_id}"
        ]
    changed = record.changed_since(earlier, task_id, rater_id)
    if not changed:
        return [], []
    parts = " and ".join(", ".join(changed).rsplit(", ", 1))
    verb = "differs" if len(changed) == 1 else "differ"
    return [], [
        f"task {task_id} changed since build {build_id}: {parts} {verb}; redo it "
        f"in the current bundle (build {record.build_id})"
    ]


def _built_at(data: dict[str, Any], record: BuildRecord) -> tuple[str, datetime] | None:
    """The build a file was made with and when it was built, if the record says."""
    earlier = record.earlier_build(data["build_id"])
    if earlier is not None:
        return data["build_id"], parse_time(earlier.get("built_at")) or EARLIEST
    built = record.built_at
    return (record.build_id, built) if built else None


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
    """Check the answers against the task's rules, and a caption's callout times.

    Only a task that exists, is this rater's and is of the kind the file says
    has rules to check against.
    """
    task = record.tasks.get(data["task_id"])
    if task is None or data["kind"] != task["kind"]:
        return []
    if data["task_id"] not in record.raters[data["rater_id"]]["tasks"]:
        return []
    problems = answer_problems(data, record)
    if record.tasks[data["task_id"]]["kind"] == "caption":
        problems += callout_reasons(data, record)
    return problems


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
    data: dict[str, Any], now: datetime, built: tuple[str, datetime] | None
) -> tuple[tuple[datetime, datetime] | None, list[str]]:
    """Parse started_at and submitted_at and check they are plausible.

    Nothing can happen more than BUILD_SLACK before ``built`` (the build the
    file was made with, and when it was built) nor after ``now`` (give or take
    FUTURE_SLACK).
    """
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
        elif built and instant < built[1] - BUILD_SLACK:
            reasons.append(
                f"{field} {utc_text(instant)} is before build {built[0]} was made "
                f"({utc_text(built[1])}); the rater's clock may be wrong"
            )
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
