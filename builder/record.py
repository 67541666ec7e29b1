"""The ops-only build record: what was built, for whom, from which files.

It is the one place model versions, source file names and the task-to-rater
assignment live; sync checks every submission against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import EarmarkError

RECORD_NAME = "build-record.json"
REPORT_NAME = "build-report.txt"
RECORD_SCHEMA = "earmark.build-record"


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
        entry = self.raters[rater_id]["tasks"][task_id]
        if "clip_ids" in entry:
            return dict(entry["clip_ids"])
        slots = self.tasks[task_id]["clips"]
        return {
            label: slots[slot]["clip_id"] for label, slot in entry["labels"].items()
        }

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
