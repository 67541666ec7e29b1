"""Leads' rules and the dashboard, with one test body for every tracker backend.

Deleted rows stay deleted (and come back when asked), rework is counted from the
lead's review column, and the dashboard reads the same numbers from a Sheet as
from a workbook. Edits are made as a lead's program would make them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from builder.build import BuildResult, build
from builder.record import BuildRecord, load_record
from tests.conftest import EXAMPLE
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import BUILT_AT, NOW
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


def test_sync_is_an_upsert_and_the_views_count_what_the_tracker_holds(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    tmp_path: Path,
) -> None:
    """Day 1's folder, then day 2's: the views count both days (not only the last
    folder), an empty folder changes nothing, and an older file never replaces a
    later row."""
    planned = record.planned()
    day1, day2, empty, late = (tmp_path / n for n in ("day1", "day2", "empty", "late"))
    empty.mkdir()
    for task, rater in planned[:3]:
        write_submission(day1, submit(record, task, rater, submitted=AT - timedelta(1)))
    write_submission(day2, submit(record, *planned[3]))
    run(tracker_backend, day1, pilot_build)

    run(tracker_backend, day2, pilot_build)

    tasks = tracker_backend.by_pair("Tasks")
    done = {pair for pair, row in tasks.items() if row["state"] == "submitted"}
    assert done == set(planned[:4])
    assert tasks[planned[0]]["submitted_at_utc"] == "2026-02-28T12:00:00Z"
    burn = [
        (r["date_utc"], r["submitted"], r["cumulative"], r["remaining"])
        for r in tracker_backend.rows("Burn-down")
    ]
    left = len(planned)
    assert burn == [
        ("2026-02-28", 3, 3, left - 3),
        ("2026-03-01", 1, 4, left - 4),
    ]
    raters = {r["rater_id"]: r for r in tracker_backend.rows("Raters")}
    assert sum(r["submitted"] for r in raters.values()) == 4
    times = {
        r["kind"]: r for r in tracker_backend.rows("Pilot") if r["section"] == "time"
    }
    assert times["all"]["tasks"] == 4

    tracker_backend.mark()
    assert not run(tracker_backend, empty, pilot_build).written
    assert tracker_backend.writes_since_mark() == 0

    # An older version of a day 1 task turns up later: the row stays as it was.
    older = submit(record, *planned[0], submitted=AT - timedelta(days=2))
    older["answers"]["overall"] = "B3"
    write_submission(late, older)
    run(tracker_backend, late, pilot_build)
    row = tracker_backend.by_pair("Submissions")[planned[0]]
    assert (row["submitted_at_utc"], row["preferred"], row["revisions"]) == (
        "2026-02-28T12:00:00Z",
        "A",
        1,
    )
    assert [r["submitted"] for r in tracker_backend.rows("Burn-down")][:2] == [3, 1]


def test_a_row_a_lead_deleted_still_counts_as_submitted(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tmp_path: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    write_submission(folder, submit(record, "ab-002", "r01"))
    run(tracker_backend, folder, pilot_build)
    delete_row(tracker_backend, "Submissions", {"task_id": "ab-002", "rater_id": "r01"})
    empty = tmp_path / "empty"
    empty.mkdir()

    run(tracker_backend, empty, pilot_build)

    assert set(tracker_backend.by_pair("Submissions")) == {("ab-001", "r01")}
    tasks = tracker_backend.by_pair("Tasks")
    assert tasks[("ab-002", "r01")]["state"] == "submitted"
    assert tasks[("ab-002", "r01")]["submitted_at_utc"] is None
    # Its submitted_at went with the row: it counts on the day it first reached
    # the tracker.
    burn = [(r["date_utc"], r["cumulative"]) for r in tracker_backend.rows("Burn-down")]
    assert burn == [("2026-03-01", 1), ("2026-03-02", 2)]


def test_a_revision_after_a_review_is_marked_until_the_lead_clears_the_review(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"), "v1.json")
    write_submission(folder, submit(record, "ab-002", "r01"))
    run(tracker_backend, folder, pilot_build)
    for task in ("ab-001", "ab-002"):
        key = {"task_id": task, "rater_id": "r01"}
        tracker_backend.set_cell("Submissions", key, "review_status", "accepted")
    revised = submit(record, "ab-001", "r01", submitted=AT + timedelta(hours=1))
    revised["answers"]["overall"] = "B1"
    write_submission(folder, revised, "v2.json")

    run(tracker_backend, folder, pilot_build)
    run(tracker_backend, folder, pilot_build)

    rows = tracker_backend.by_pair("Submissions")
    first = rows[("ab-001", "r01")]
    assert (first["file"], first["review_status"], first["changed_since_review"]) == (
        "v2.json",
        "accepted",
        "yes",
    )
    assert first["rework"] == 0
    assert rows[("ab-002", "r01")]["changed_since_review"] is None

    # The lead empties review_status to review again: the mark goes, and stays
    # gone once the new review is typed.
    key = {"task_id": "ab-001", "rater_id": "r01"}
    tracker_backend.set_cell("Submissions", key, "review_status", None)
    run(tracker_backend, folder, pilot_build)
    tracker_backend.set_cell("Submissions", key, "review_status", "accepted")
    run(tracker_backend, folder, pilot_build)
    assert (
        tracker_backend.by_pair("Submissions")[key_pair(key)]["changed_since_review"]
        is None
    )


def key_pair(key: dict[str, str]) -> tuple[str, str]:
    return key["task_id"], key["rater_id"]


# ---- F12: identify trials scored from the key in the build record -----------------

TRIALS = [f"trial-{n:02d}" for n in range(1, 11)]


@pytest.fixture(scope="module")
def trial_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Ten identify trials of one pair of clips, all for one rater."""
    root = tmp_path_factory.mktemp("f12") / "project"
    (root / "audio").mkdir(parents=True)
    for clip in ("chaosland-riff.ogg", "madness-riff.ogg"):
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    (root / "earmark.toml").write_text(
        '[project]\nid = "f12"\n\n[[raters]]\nid = "r1"\n', "utf-8"
    )
    rows = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b,abx_mode"]
    rows += [
        f"{t},abx,Same?,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,identify"
        for t in TRIALS
    ]
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return build(root, root.parent / "out", progress=False, built_at=BUILT_AT)


def test_f12_identify_trials_scored_from_the_key_in_the_build_record(
    tracker_backend: Backend, trial_build: BuildResult, folder: Path
) -> None:
    record = load_record(trial_build.out)
    keys = {t: record.identify_key(t, "r1") for t in TRIALS}
    # Trial 1 of the case is one where X is B; the analyst answers B.
    first = next(t for t in TRIALS if keys[t] == "B")
    order = [first, *(t for t in TRIALS if t != first)]
    other = {"A": "B", "B": "A"}
    for n, task in enumerate(order):
        data = submit(record, task, "r1", submitted=AT + timedelta(minutes=n))
        # Seven right, then three wrong.
        data["answers"] = {"x_is": keys[task] if n < 7 else other[str(keys[task])]}
        write_submission(folder, data)

    report = run(tracker_backend, folder, trial_build)

    assert report.accepted == 10
    rows = tracker_backend.by_pair("Submissions")
    assert json.loads(rows[(first, "r1")]["answers_json"]) == {"x_is": "B"}
    assert rows[(first, "r1")]["x_correct"] == "yes"
    assert [rows[(t, "r1")]["x_correct"] for t in order].count("yes") == 7
    [rater] = tracker_backend.rows("Raters")
    # P(7 or more of 10 by guessing) = (120 + 45 + 10 + 1) / 1024
    assert (rater["abx_trials"], rater["abx_correct"], rater["abx_p_value"]) == (
        10,
        7,
        0.1719,
    )
