"""Leads' rules and the dashboard, with one test body for every tracker backend.

Deleted rows stay deleted (and come back when asked), rework is counted from the
lead's review column, and the dashboard reads the same numbers from a Sheet as
from a workbook. Edits are made as a lead's program would make them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from builder.build import BuildResult
from builder.record import BuildRecord, load_record
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import NOW
from tracker.dashboard import build_dashboard
from tracker.sync import SyncReport, sync
from tracker.xlsx import XlsxTracker

if TYPE_CHECKING:
    from tests.backends import Backend

pytest_plugins = ["tests.fakesheets.fixtures", "tests.backends"]

AT = NOW - timedelta(days=1)


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "submissions"
    path.mkdir()
    return path


def submit(record: BuildRecord, task: str, rater: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("submitted", AT)
    return make_submission(record, task, rater, **kw)


def run(backend: Backend, folder: Path, built: BuildResult, **kw: Any) -> SyncReport:
    return sync(folder, built.out, backend.tracker(), now=NOW, **kw)


def delete_row(backend: Backend, tab: str, key: dict[str, str]) -> None:
    """Remove the row matching ``key``, the rows under it moving up."""
    grid = backend.grid(tab)
    header = [str(v) for v in grid[0]]
    kept = [
        row
        for row in grid[1:]
        if not all(row[header.index(k)] == v for k, v in key.items())
    ]
    assert len(kept) == len(grid) - 2, f"no single row {key} in {tab}"
    # Blank the last row so the tab really has one row fewer.
    backend.put_grid(tab, [grid[0], *kept, [None] * len(header)])


def test_deleted_rows_are_not_resurrected_unless_asked(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    flag = [{"kind": "ui_bug", "note": "stuck", "flagged_at": stamp(AT)}]
    write_submission(folder, submit(record, "ab-001", "r01"))
    write_submission(folder, submit(record, "ab-002", "r01", anomalies=flag), "a.json")
    run(tracker_backend, folder, pilot_build)
    delete_row(tracker_backend, "Submissions", {"task_id": "ab-002", "rater_id": "r01"})
    delete_row(tracker_backend, "Anomalies", {"task_id": "ab-002"})
    delete_row(tracker_backend, "Raters", {"rater_id": "r02"})
    newer = submit(record, "ab-002", "r01", submitted=AT + timedelta(hours=1))
    newer["anomalies"] = flag
    write_submission(folder, newer, "b.json")

    report = run(tracker_backend, folder, pilot_build)

    assert report.deleted == 2
    assert set(tracker_backend.by_pair("Submissions")) == {("ab-001", "r01")}
    assert tracker_backend.rows("Anomalies") == []
    raters = [r["rater_id"] for r in tracker_backend.rows("Raters") if r["rater_id"]]
    assert sorted(raters) == ["r01", "r02", "r03"]  # a derived tab is rebuilt
    tracker_backend.mark()
    assert not run(tracker_backend, folder, pilot_build).written
    assert tracker_backend.writes_since_mark() == 0

    restored = run(tracker_backend, folder, pilot_build, restore_deleted=True)

    assert restored.deleted == 2
    rows = tracker_backend.by_pair("Submissions")
    assert rows[("ab-002", "r01")]["file"] == "b.json"
    assert [r["note"] for r in tracker_backend.rows("Anomalies")] == ["stuck"]


def test_rework_is_counted_once_per_redo(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r02"), "v1.json")
    run(tracker_backend, folder, pilot_build)
    key = {"task_id": "ab-001", "rater_id": "r02"}
    tracker_backend.set_cell("Submissions", key, "review_status", "rewrite")
    redo = submit(record, "ab-001", "r02", submitted=AT + timedelta(hours=2))
    redo["answers"]["overall"] = "0"
    write_submission(folder, redo, "v2.json")

    run(tracker_backend, folder, pilot_build)
    run(tracker_backend, folder, pilot_build)

    row = tracker_backend.by_pair("Submissions")[("ab-001", "r02")]
    assert (row["rework"], row["preferred"], row["review_status"]) == (
        1,
        "tie",
        "rewrite",
    )
    raters = {r["rater_id"]: r for r in tracker_backend.rows("Raters")}
    assert raters["r02"]["rework"] == 1
    assert raters["r01"]["rework"] == 0


def test_the_dashboard_reads_the_same_numbers_from_every_backend(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tmp_path: Path,
) -> None:
    flag = [
        {"kind": "other", "note": "<i>late</i>", "flagged_at": stamp(AT - timedelta(2))}
    ]
    for n, (task, rater) in enumerate(record.planned()[:5]):
        data = submit(record, task, rater, submitted=AT - timedelta(days=n % 3))
        data["active_seconds"] = 300 + 60 * n
        if n == 0:
            data["anomalies"] = flag
        write_submission(folder, data)
    run(tracker_backend, folder, pilot_build)
    reference = tmp_path / "reference.xlsx"
    sync(folder, pilot_build.out, XlsxTracker(reference), now=NOW)

    board = build_dashboard(tracker_backend.tracker(), now=NOW)
    expected = build_dashboard(XlsxTracker(reference), now=NOW)

    assert replace(board, location="") == replace(expected, location="")
    assert board.headline["submitted"] == "5"
    assert board.anomalies[0]["note"] == "<i>late</i>"
    assert board.chart is not None and len(board.chart.lines[0].points) == 3
