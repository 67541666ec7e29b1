"""Helpers for Google Sheets sync tests: bigger projects, a clock, tracker factory."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from builder.record import BuildRecord
from tests.conftest import EXAMPLE
from tests.fakesheets import Call, FakeSheets
from tests.submission_factory import make_submission, write_submission
from tests.sync_support import NOW
from tracker.sheets import SheetsTracker
from tracker.transport import RetryingHTTPClient, RetryPolicy

AT = NOW - timedelta(days=1)


def many_tasks_project(root: Path, tasks: int) -> Path:
    """A project of ``tasks`` tasks over the example clips, 3 raters, 2 per task."""
    (root / "audio").mkdir(parents=True)
    clips = ["chaosland-riff.ogg", "madness-riff.ogg", "feelings-build.ogg"]
    for clip in clips:
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    raters = "\n".join(f'[[raters]]\nid = "r{i}"\n' for i in range(1, 4))
    (root / "earmark.toml").write_text(
        f'[project]\nid = "many"\n\n{raters}\n[assignment]\nraters_per_task = 2\n',
        "utf-8",
    )
    rows = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b,batch"]
    for n in range(tasks):
        a, b = clips[n % 3], clips[(n + 1) % 3]
        rows.append(f"t{n:04d},ab,Prompt {n},audio/{a},m1,audio/{b},m2,b{n % 4}")
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return root


def submit_all(
    folder: Path,
    record: BuildRecord,
    pairs: list[tuple[str, str]],
    *,
    submitted: datetime = AT,
    prefix: str = "",
    **overrides: Any,
) -> None:
    """Write one submission per (task, rater), each with a distinct rationale."""
    for i, (task, rater) in enumerate(pairs):
        data = make_submission(
            record, task, rater, submitted=submitted - timedelta(minutes=i), **overrides
        )
        data["answers"]["rationale"] = f"{prefix}Rationale {i}: " + "tight riff " * 20
        write_submission(folder, data, f"{prefix}{task}-{rater}.json")


@dataclass
class Clock:
    """A clock that moves only when someone sleeps; every sleep is recorded."""

    now: datetime = NOW
    slept: list[float] = field(default_factory=list)
    on_sleep: list[Any] = field(default_factory=list)  # callables run once each

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.on_sleep:
            self.on_sleep.pop(0)()


def sheets_tracker(
    fake: FakeSheets,
    key: str,
    *,
    clock: Clock | None = None,
    backoff: list[float] | None = None,
    timeout: float | None = None,
    **options: Any,
) -> SheetsTracker:
    """A SheetsTracker on the fake; back-off waits go to ``backoff``, not to sleep."""
    waits = backoff if backoff is not None else []
    policy = RetryPolicy(sleep=waits.append, random=lambda: 0.5)
    client = fake.client(RetryingHTTPClient.with_policy(policy), timeout)
    clock = clock or Clock()
    return SheetsTracker(client, key, clock=clock, sleep=clock.sleep, **options)


KINDS = (
    ("GET", r"/spreadsheets/[^/:]+$", "get"),
    ("GET", r"/values:batchGet$", "batchGet"),
    ("GET", r"/values/", "values.get"),
    ("POST", r"/values:batchUpdate$", "values.batchUpdate"),
    ("POST", r"/spreadsheets/[^/:]+:batchUpdate$", "batchUpdate"),
)


def kinds(calls: list[Call]) -> Counter[str]:
    """Count calls by API method name."""
    out: Counter[str] = Counter()
    for call in calls:
        name = next(
            (n for m, p, n in KINDS if m == call.method and re.search(p, call.path)),
            f"{call.method} {call.path}",
        )
        out[name] += 1
    return out
