"""The ops-only build record: what was built, for whom, from which files.

It is the one place model versions, source file names and the task-to-rater
assignment live; sync checks every submission against it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder.errors import EarmarkError

RECORD_NAME = "build-record.json"
REPORT_NAME = "build-report.txt"
RECORD_SCHEMA = "earmark.build-record"

# What a rater saw of a task that shapes the answers, part by part, as it reads in
# a reason ("task ab-001 changed since build X: prompt differs"). Presentation
# alone (help texts, colours, the page's layout) is left out.
FINGERPRINT_PARTS = {
    "kind": "kind",
    "abx_mode": "ABX mode",
    "prompt": "prompt",
    "clips": "clips",
    "labels": "clip order",
    "elements": "elements",
    "rubric": "rubric",
    "captions": "caption rules",
    "listening": "listening rule",
}
# The keys of a rubric item, a caption config and a summary field that decide
# which answers a page takes.
RUBRIC_KEYS = (
    "id",
    "type",
    "label",
    "required",
    "per_clip",
    "scale_min",
    "scale_max",
    "anchors",
    "allow_na",
    "min_words",
    "options",
    "strength_points",
    "allow_tie",
)
CAPTION_KEYS: tuple[str, ...] = (
    "min_words",
    "max_words",
    "section_types",
    "instrument_tags",
    "vibe_tags",
    "summary",
)
SUMMARY_KEYS: tuple[str, ...] = (
    "id",
    "label",
    "type",
    "vocabulary",
    "free_entry",
    "scale_min",
    "scale_max",
    "anchors",
    "required",
)


@dataclass(frozen=True)
class BuildRecord:
    """A loaded build record with the lookups sync needs."""

    data: dict[str, Any]
    path: Path

    @property
    def build_id(self) -> str:
        return str(self.data["build_id"])

    @property
    def project_id(self) -> str:
        return str(self.data["project"]["id"])

    @property
    def built_at(self) -> datetime | None:
        """When this build was first made into its folder (None if unreadable)."""
        return parse_time(self.data.get("built_at"))

    @property
    def history(self) -> list[dict[str, Any]]:
        """The earlier builds made into the same folder, oldest first."""
        return [h for h in self.data.get("history", []) if isinstance(h, dict)]

    def earlier_build(self, build_id: str) -> dict[str, Any] | None:
        """The history entry of an earlier build, or None if this record has none."""
        return next((h for h in self.history if h.get("build_id") == build_id), None)

    def fingerprint(self, task_id: str, rater_id: str) -> dict[str, str]:
        """What this rater saw of this task, as one digest per part."""
        entry = self.raters[rater_id]["tasks"][task_id]
        stored = entry.get("fingerprint")
        if isinstance(stored, dict):
            return {str(k): str(v) for k, v in stored.items()}
        return task_fingerprint(self.data, task_id, rater_id)

    def changed_since(
        self, earlier: dict[str, Any], task_id: str, rater_id: str
    ) -> list[str]:
        """The parts of a task that differ between an earlier build and this one.

        ``earlier`` is a history entry that holds this task for this rater; the
        parts are named as in FINGERPRINT_PARTS.
        """
        then = earlier["raters"][rater_id]["tasks"][task_id]
        now = self.fingerprint(task_id, rater_id)
        return [
            name
            for part, name in FINGERPRINT_PARTS.items()
            if then.get(part) != now.get(part)
        ]

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["tasks"])

    @property
    def raters(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["raters"])

    def clip_ids(self, task_id: str, rater_id: str) -> dict[str, str]:
        """Return display label -> clip id for a task as this rater saw it.

        An identify trial's clips are files of their own (``clip_ids`` of the
        rater's task entry); other tasks show the clips' own ids.
        """
        return _clip_ids(self.data, task_id, rater_id)

    def identify_key(self, task_id: str, rater_id: str) -> str | None:
        """The label X secretly was in an identify trial ("A" or "B"), else None."""
        key = self.raters[rater_id]["tasks"][task_id].get("x_is")
        return str(key) if key else None

    def gold(self, task_id: str, rater_id: str) -> tuple[str, int] | None:
        """The gold answer as this rater saw it ("A", "B" or "tie") and its
        tolerance in strength points (0 when none was given); None if not gold.
        """
        task = self.tasks[task_id]
        label = self.raters[rater_id]["tasks"][task_id].get("gold_label")
        if not task.get("gold") or not label:
            return None
        return str(label), int(task.get("gold_tolerance") or 0)

    def models(self, task_id: str, rater_id: str) -> dict[str, str]:
        """Return display label -> model version for a task as this rater saw it."""
        labels = self.raters[rater_id]["tasks"][task_id]["labels"]
        slots = self.tasks[task_id]["clips"]
        return {label: slots[slot]["model"] for label, slot in labels.items()}

    def planned(self) -> list[tuple[str, str]]:
        """Every (task id, rater id) pair the build assigned, in manifest order."""
        order = {task_id: i for i, task_id in enumerate(self.tasks)}
        pairs = [
            (task_id, rater_id)
            for rater_id, rater in self.raters.items()
            for task_id in rater["tasks"]
        ]
        return sorted(pairs, key=lambda pair: (order[pair[0]], pair[1]))


def _clip_ids(data: dict[str, Any], task_id: str, rater_id: str) -> dict[str, str]:
    entry = data["raters"][rater_id]["tasks"][task_id]
    if "clip_ids" in entry:
        return dict(entry["clip_ids"])
    slots = data["tasks"][task_id]["clips"]
    return {label: slots[slot]["clip_id"] for label, slot in entry["labels"].items()}


def task_fingerprint(
    data: dict[str, Any], task_id: str, rater_id: str
) -> dict[str, str]:
    """Digest, part by part, what a rater's page of a task showed and asked.

    Two builds whose fingerprints agree for a task and rater showed the same
    clips in the same order with the same prompt and took the same answers, so
    work done in either answers the other.
    """
    task = data["tasks"][task_id]
    config = data["config"]
    kind = task["kind"]
    if kind == "caption":
        rubric: Any = None
        captions = config["captions"]
        caption_rules: Any = {k: captions.get(k) for k in CAPTION_KEYS}
        caption_rules["summary"] = [
            {k: field.get(k) for k in SUMMARY_KEYS} for field in captions["summary"]
        ]
    else:
        caption_rules = None
        rubric = (
            "identify"
            if task.get("abx_mode") == "identify"
            else [
                {k: item.get(k) for k in RUBRIC_KEYS}
                for item in config["rubric"]
                if item["type"] != "elements" or task.get("elements")
            ]
        )
    seen = {
        "kind": kind,
        "abx_mode": task.get("abx_mode"),
        "prompt": task["prompt"],
        "clips": list(_clip_ids(data, task_id, rater_id).items()),
        "labels": data["raters"][rater_id]["tasks"][task_id]["labels"],
        "elements": task.get("elements") or [],
        "rubric": rubric,
        "captions": caption_rules,
        "listening": config["listening"]["min_coverage"],
    }
    return {part: _digest(seen[part]) for part in FINGERPRINT_PARTS}


def keep_history(
    record: dict[str, Any],
    previous: dict[str, Any] | None,
    built_at: datetime | None = None,
) -> None:
    """Fill in a new record's time, fingerprints and the builds made before it.

    ``previous`` is the record this one replaces in the same folder (None for a
    new folder, or when it was another project's). Its build joins the history
    unless it is this same build; a build made before keeps its first time, since
    bundles handed out then are the same bundles.
    """
    for rater_id, rater in record["raters"].items():
        for task_id, entry in rater["tasks"].items():
            entry["fingerprint"] = task_fingerprint(record, task_id, rater_id)
    times = [built_at or datetime.now(UTC)]
    history: list[dict[str, Any]] = []
    same_project = (
        previous is not None
        and previous.get("project", {}).get("id") == record["project"]["id"]
    )
    if previous is not None and same_project:
        history = [h for h in previous.get("history", []) if isinstance(h, dict)]
        if previous.get("build_id") != record["build_id"]:
            history.append(history_entry(previous))
        else:
            times.append(parse_time(previous.get("built_at")) or times[0])
        for entry in history:
            if entry.get("build_id") == record["build_id"]:
                times.append(parse_time(entry.get("built_at")) or times[0])
        history = [h for h in history if h.get("build_id") != record["build_id"]]
    record["built_at"] = min(times).astimezone(UTC).isoformat(timespec="seconds")
    record["history"] = history


def history_entry(data: dict[str, Any]) -> dict[str, Any]:
    """What sync needs to know of an earlier build: ids, time, fingerprints."""
    raters = {}
    for rater_id, rater in data["raters"].items():
        tasks = {}
        for task_id, entry in rater["tasks"].items():
            stored = entry.get("fingerprint")
            tasks[task_id] = (
                stored
                if isinstance(stored, dict)
                else task_fingerprint(data, task_id, rater_id)
            )
        raters[rater_id] = {"bundle_id": rater["bundle_id"], "tasks": tasks}
    return {
        "build_id": data["build_id"],
        "built_at": data.get("built_at"),
        "raters": raters,
    }


def parse_time(value: object) -> datetime | None:
    """Read an ISO-8601 time with its offset from a record; None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_record(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def load_record(build_dir: Path) -> BuildRecord:
    """Load ``build-record.json`` from a build folder (or the file itself)."""
    path = build_dir / RECORD_NAME if build_dir.is_dir() else build_dir
    if not path.is_file():
        raise EarmarkError(
            f"No build record at {path}; pass the folder given to 'build --out'"
        )
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EarmarkError(f"Build record {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != RECORD_SCHEMA:
        raise EarmarkError(f"{path} is not an Earmark build record")
    return BuildRecord(data, path)
