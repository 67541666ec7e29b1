"""Helpers for sync tests: run a sync at a fixed instant, read tabs back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from builder.build import BuildResult
from tracker.sync import SyncReport, sync
from tracker.xlsx import XlsxTracker

# Every sync test runs "now" at this instant; submissions are made just before it.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Builds that sync tests use say they were made at this instant, well before any
# submission (sync rejects work dated before its build).
BUILT_AT = datetime(2026, 1, 1, tzinfo=UTC)
# A rubric whose written reason may be a single word (the default asks for 15),
# for field cases whose rationales are short on purpose (F17).
SHORT_RUBRIC = """
[[rubric]]
id = "overall"
type = "preference"
label = "Which clip is better?"

[[rubric]]
id = "rationale"
type = "text"
label = "Why?"
"""


def run_sync(
    folder: Path,
    build: BuildResult,
    tracker: Path,
    now: datetime = NOW,
    *,
    restore_deleted: bool = False,
) -> SyncReport:
    """Sync ``folder`` into the workbook at ``tracker`` as of ``now``."""
    return sync(
        folder,
        build.out,
        XlsxTracker(tracker),
        now=now,
        restore_deleted=restore_deleted,
    )


def read_tab(path: Path, name: str) -> list[dict[str, Any]]:
    """Return a tab's data rows as dicts keyed by header, read with openpyxl."""
    sheet = openpyxl.load_workbook(path)[name]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def by_pair(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["task_id"], r["rater_id"]): r for r in rows}
