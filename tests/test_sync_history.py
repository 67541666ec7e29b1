"""Work made with an earlier build of the same folder, and work dated before its build.

A project that changes after bundles went out must not throw away the work done on
tasks that stayed the same; work on a changed task is set aside with what changed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from builder.build import BuildResult, build
from builder.record import BuildRecord, load_record
from tests.conftest import MakeProject
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import BUILT_AT, NOW
from tracker.sync import SyncReport, sync

if TYPE_CHECKING:
    from tests.backends import Backend

pytest_plugins = ["tests.fakesheets.fixtures", "tests.backends"]

AT = NOW - timedelta(days=1)
ROWS = [
    "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,raters",
    "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,r1",
    "t2,ab,Doom,audio/madness-riff.ogg,m2,audio/chaosland-riff.ogg,m1,r1",
    "t3,caption,Describe,audio/feelings-build.ogg,m1,,,r2",
]


def rebuild(root: Path, out: Path, rows: list[str], days: int) -> BuildResult:
    """Change the manifest and build again into ``out``, ``days`` after the first."""
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return build(root, out, progress=False, built_at=BUILT_AT + timedelta(days=days))


def write_all(folder: Path, record: BuildRecord, **kw: Any) -> None:
    for task, rater in record.planned():
        kw.setdefault("submitted", AT)
        write_submission(folder, make_submission(record, task, rater, **kw))


def run(backend: Backend, folder: Path, out: Path) -> SyncReport:
    return sync(folder, out, backend.tracker(), now=NOW)


@pytest.fixture
def first(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    root = make_project(ROWS)
    return build(root, tmp_path / "out", progress=False, built_at=BUILT_AT)


def test_work_from_an_earlier_build_counts_when_its_task_did_not_change(
    tracker_backend: Backend, first: BuildResult, tmp_path: Path
) -> None:
    folder = tmp_path / "submissions"
    write_all(folder, load_record(first.out))
    root = Path(first.record["project"]["root"])
    # Ops add a task and change t1's prompt, then rebuild into the same folder.
    rows = [ROWS[0], ROWS[1].replace(",Rock,", ",Hard rock,"), *ROWS[2:]]
    rows.append("t4,ab,Punk,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,r2")
    second = rebuild(root, first.out, rows, days=10)
    assert second.build_id != first.build_id

    report = run(tracker_backend, folder, second.out)

    assert (report.accepted, len(report.rejected)) == (2, 1)
    assert ", 2 accepted (2 from an earlier build), 1 rejected;" in report.summary("t")
    [rejected] = report.rejected
    assert rejected.reason == (
        f"task t1 changed since build {first.build_id}: prompt differs; redo it in "
        f"the current bundle (build {second.build_id})"
    )
    assert not rejected.metadata
    rows_by_pair = tracker_backend.by_pair("Submissions")
    assert set(rows_by_pair) == {("t2", "r1"), ("t3", "r2")}
    assert {r["build_id"] for r in rows_by_pair.values()} == {first.build_id}
    tasks = tracker_backend.by_pair("Tasks")
    states = {pair: row["state"] for pair, row in tasks.items()}
    assert states == {
        ("t1", "r1"): "pending",
        ("t2", "r1"): "submitted",
        ("t3", "r2"): "submitted",
        ("t4", "r2"): "pending",
    }
    [listed] = tracker_backend.rows("Rejected")
    assert (listed["task_id"], listed["metadata"]) == ("t1", "no")


def test_f14_unknown_builds_and_missing_ids_are_still_set_aside(
    tracker_backend: Backend, first: BuildResult, tmp_path: Path
) -> None:
    record = load_record(first.out)
    folder = tmp_path / "submissions"
    second = rebuild(
        Path(first.record["project"]["root"]), first.out, [*ROWS[:3]], days=2
    )
    unknown = make_submission(record, "t2", "r1", submitted=AT, build_id="0" * 12)
    write_submission(folder, unknown, "unknown-build.json")
    wrong_bundle = make_submission(record, "t2", "r1", submitted=AT, bundle_id="1" * 12)
    write_submission(folder, wrong_bundle, "wrong-bundle.json")
    no_ids = make_submission(record, "t1", "r1", submitted=AT)
    del no_ids["rater_id"], no_ids["bundle_id"]
    write_submission(folder, no_ids, "no-ids.json")
    gone = make_submission(record, "t3", "r2", submitted=AT)
    write_submission(folder, gone, "task-gone.json")

    report = run(tracker_backend, folder, second.out)

    reasons = {r.name: (r.reason, r.metadata) for r in report.rejected}
    assert report.accepted == 0
    assert reasons["unknown-build.json"][1]
    assert reasons["unknown-build.json"][0].startswith(
        f"made with build 000000000000, but the current build is {second.build_id} "
        "and this build folder has no record of 000000000000"
    )
    assert reasons["wrong-bundle.json"] == (
        f"bundle 111111111111 is not rater r1's bundle "
        f"{first.record['raters']['r1']['bundle_id']} in build {first.build_id}",
        True,
    )
    assert reasons["no-ids.json"][0].startswith("missing bundle_id, rater_id")
    assert reasons["task-gone.json"] == (
        f"task t3 is no longer assigned to rater r2 in the current build "
        f"{second.build_id}",
        False,
    )
    assert tracker_backend.rows("Submissions") == []
    assert {r["file"] for r in tracker_backend.rows("Rejected")} == set(reasons)


def test_work_dated_before_its_build_is_rejected(
    tracker_backend: Backend, first: BuildResult, tmp_path: Path
) -> None:
    record = load_record(first.out)
    folder = tmp_path / "submissions"
    months_early = make_submission(
        record, "t1", "r1", submitted=BUILT_AT - timedelta(days=90)
    )
    write_submission(folder, months_early, "months-early.json")
    # A clock a few hours slow is within the day of leeway.
    hours_early = make_submission(
        record, "t2", "r1", submitted=BUILT_AT - timedelta(hours=3)
    )
    write_submission(folder, hours_early, "hours-early.json")
    # Made with the first build, 5 days after it: fine, though the current build
    # is 10 days younger than the first.
    write_submission(
        folder,
        make_submission(record, "t3", "r2", submitted=BUILT_AT + timedelta(days=5)),
        "from-first-build.json",
    )
    added = "t4,ab,Punk,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,r2"
    current = rebuild(
        Path(first.record["project"]["root"]), first.out, [*ROWS, added], days=10
    )
    late = make_submission(
        load_record(current.out), "t1", "r1", submitted=BUILT_AT + timedelta(days=5)
    )
    late["started_at"] = stamp(BUILT_AT + timedelta(days=4))
    write_submission(folder, late, "before-current-build.json")

    report = run(tracker_backend, folder, current.out)

    reasons = {r.name: (r.reason, r.metadata) for r in report.rejected}
    assert set(reasons) == {"months-early.json", "before-current-build.json"}
    assert reasons["months-early.json"] == (
        "started_at 2025-10-02T23:35:00Z is before build "
        f"{first.build_id} was made (2026-01-01T00:00:00Z); the rater's clock may "
        "be wrong; submitted_at 2025-10-03T00:00:00Z is before build "
        f"{first.build_id} was made (2026-01-01T00:00:00Z); the rater's clock may "
        "be wrong",
        True,
    )
    assert reasons["before-current-build.json"][0].startswith(
        f"started_at 2026-01-05T00:00:00Z is before build {current.build_id} was "
        "made (2026-01-11T00:00:00Z)"
    )
    assert set(tracker_backend.by_pair("Submissions")) == {("t2", "r1"), ("t3", "r2")}
    [day] = tracker_backend.rows("Burn-down")[:1]
    assert day["date_utc"] == "2025-12-31"
