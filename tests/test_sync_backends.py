"""The reconcile suite, run against every tracker backend with one test body.

Each test runs for the .xlsx workbook, for the Google Sheets backend against the
fake Sheets API, and (opt-in, see tests/backends.py) against a real Google Sheet.
What the test reads back it reads as a lead's program would, not through the
tracker code under test.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from builder.build import BuildResult, build
from builder.record import BuildRecord, load_record
from tests.conftest import EXAMPLE
from tests.submission_factory import (
    ENOUGH_WORDS,
    make_submission,
    stamp,
    write_submission,
)
from tests.sync_support import BUILT_AT, NOW, SHORT_RUBRIC
from tracker.cells import MAX_CELL_UNITS
from tracker.sync import SyncReport, sync
from tracker.tables import ANOMALIES, SUBMISSIONS, TABS, TASKS

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


def run(
    backend: Backend, folder: Path, built: BuildResult, now: datetime = NOW
) -> SyncReport:
    """One sync into a fresh tracker object on the backend's workbook or Sheet."""
    return sync(folder, built.out, backend.tracker(), now=now)


def test_every_backend_gets_the_same_tabs_columns_and_values(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    ab = submit(record, "ab-001", "r02")
    ab["answers"]["overall"] = "B3"
    write_submission(folder, ab)
    write_submission(folder, submit(record, "abx-001", "r01"))
    write_submission(folder, submit(record, "cap-001", "r01"))

    report = run(tracker_backend, folder, pilot_build)

    assert (report.files, report.accepted, report.written) == (3, 3, True)
    tabs = tracker_backend.tabs()
    assert [t for t in tabs if t in {s.name for s in TABS}] == [s.name for s in TABS]
    for spec in TABS:
        assert tracker_backend.header(spec.name) == spec.names, spec.name
    rows = tracker_backend.by_pair("Submissions")
    row = rows[("ab-001", "r02")]
    assert (row["model_A"], row["model_B"], row["model_X"]) == (
        "riffgen-2.2",
        "riffgen-2.1",
        None,
    )
    assert (row["preferred"], row["strength"], row["preferred_model"]) == (
        "B",
        3,
        "riffgen-2.1",
    )
    assert isinstance(row["strength"], int)
    assert row["submitted_at_utc"] == "2026-03-01T12:00:00Z"
    assert row["first_synced_at_utc"] == "2026-03-02T12:00:00Z"
    assert (row["active_minutes"], row["min_coverage_heard"]) == (21, 0.95)
    assert json.loads(row["answers_json"]) == ab["answers"]
    assert row["review_status"] is None
    assert rows[("cap-001", "r01")]["caption_words"] == 310
    tasks = tracker_backend.by_pair("Tasks")
    assert len(tasks) == len(record.planned())
    assert tasks[("ab-001", "r01")]["rater_name"] == "Ana Ferreira"


def test_a_second_sync_of_the_same_files_writes_nothing(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    flagged = [{"kind": "audio_defect", "note": "click", "flagged_at": stamp(AT)}]
    write_submission(folder, submit(record, "cap-002", "r03", anomalies=flagged))
    (folder / "broken.json").write_text("{", "utf-8")
    first = run(tracker_backend, folder, pilot_build)
    tracker_backend.mark()

    second = run(tracker_backend, folder, pilot_build, now=NOW + timedelta(hours=5))

    assert first.written and first.added > 0
    assert not second.written
    assert (second.added, second.updated) == (0, 0)
    assert second.unchanged == first.added
    assert tracker_backend.writes_since_mark() == 0


def test_kept_times_survive_later_syncs(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    flagged = [{"kind": "audio_defect", "note": "click", "flagged_at": stamp(AT)}]
    write_submission(
        folder, submit(record, "ab-001", "r01", submitted=NOW, anomalies=flagged)
    )
    run(tracker_backend, folder, pilot_build)
    write_submission(folder, submit(record, "ab-002", "r01"))

    run(tracker_backend, folder, pilot_build, now=NOW + timedelta(hours=30))

    [anomaly] = tracker_backend.rows(ANOMALIES.name)
    assert anomaly["reached_tracker_at_utc"] == "2026-03-02T12:00:00Z"
    assert (anomaly["hours_to_tracker"], anomaly["over_24h"]) == (24, "no")
    subs = tracker_backend.by_pair(SUBMISSIONS.name)
    assert subs[("ab-001", "r01")]["first_synced_at_utc"] == "2026-03-02T12:00:00Z"
    assert subs[("ab-002", "r01")]["first_synced_at_utc"] == "2026-03-03T18:00:00Z"


def test_lead_edits_survive_reordering_sorting_and_added_columns(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"), "first.json")
    write_submission(folder, submit(record, "ab-002", "r01"))
    run(tracker_backend, folder, pilot_build)
    backend = tracker_backend
    backend.reorder("Submissions", list(reversed(backend.header("Submissions"))))
    backend.sort("Submissions", "task_id", reverse=True)
    backend.add_column("Submissions", "priority", {0: "low", 1: "high"})
    mine = {"task_id": "ab-001", "rater_id": "r01"}
    backend.set_cell("Submissions", mine, "review_status", "accepted")
    backend.set_cell("Submissions", mine, "reviewer_notes", "=1+1", formulas=True)

    revised = submit(record, "ab-001", "r01", submitted=AT + timedelta(hours=1))
    revised["answers"]["overall"] = "B1"
    write_submission(folder, revised, "second.json")
    write_submission(folder, submit(record, "ab-001", "r02"))
    report = run(backend, folder, pilot_build)

    subs = next(c for c in report.changes if c.spec is SUBMISSIONS)
    assert (subs.added, subs.updated, subs.unchanged) == (1, 1, 1)
    header = backend.header("Submissions")
    assert header[:2] == ["reviewer_notes", "review_status"]
    assert header[-1] == "priority"
    assert len(header) == len(set(header))
    rows = backend.rows("Submissions")
    assert [(r["task_id"], r["rater_id"]) for r in rows] == [
        ("ab-002", "r01"),
        ("ab-001", "r01"),
        ("ab-001", "r02"),
    ]
    edited = rows[1]
    assert (edited["review_status"], edited["priority"]) == ("accepted", "high")
    assert (edited["preferred"], edited["strength"], edited["revisions"]) == (
        "B",
        1,
        1,
    )
    assert edited["file"] == "second.json"
    assert rows[0]["priority"] == "low"
    assert rows[2]["review_status"] is None
    assert backend.formula_cells("Submissions") == ["A3"]


def test_revisions_count_distinct_files_and_the_latest_wins(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    old = submit(record, "ab-001", "r01", submitted=AT - timedelta(hours=3))
    old["answers"]["overall"] = "A1"
    write_submission(folder, old, "v1.json")
    new = submit(record, "ab-001", "r01")
    new["answers"]["overall"] = "B2"
    write_submission(folder, new, "nested/v2.json")
    run(tracker_backend, folder, pilot_build)
    newest = submit(record, "ab-001", "r01", submitted=AT + timedelta(minutes=5))
    write_submission(folder, newest, "v3.json")

    again = run(tracker_backend, folder, pilot_build)

    [row] = tracker_backend.rows("Submissions")
    assert (row["file"], row["revisions"], row["preferred"]) == ("v3.json", 2, "A")
    subs = next(c for c in again.changes if c.spec is SUBMISSIONS)
    assert (subs.updated, subs.added) == (1, 0)


def test_versions_submitted_at_the_same_instant_are_ordered_without_file_names(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Named so that file-name order would pick the other file each time.
    late_start = submit(record, "ab-001", "r01")
    late_start["started_at"] = stamp(AT - timedelta(minutes=5))
    late_start["answers"]["overall"] = "B1"
    write_submission(folder, late_start, "a-started-later.json")
    write_submission(folder, submit(record, "ab-001", "r01"), "z-started-first.json")
    busier = submit(record, "ab-002", "r01", active_seconds=1500.5)
    busier["answers"]["overall"] = "B3"
    write_submission(folder, busier, "a-more-active.json")
    write_submission(folder, submit(record, "ab-002", "r01"), "z-less-active.json")

    with caplog.at_level(logging.WARNING):
        run(tracker_backend, folder, pilot_build)

    rows = tracker_backend.by_pair("Submissions")
    first, second = rows[("ab-001", "r01")], rows[("ab-002", "r01")]
    assert (first["file"], first["preferred"], first["revisions"]) == (
        "a-started-later.json",
        "B",
        1,
    )
    assert (second["file"], second["strength"]) == ("a-more-active.json", 3)
    assert (
        "task ab-001, rater r01: z-started-first.json and a-started-later.json were "
        "both submitted at 2026-03-01T12:00:00Z with different contents; kept "
        "a-started-later.json (the later started_at)"
    ) in caplog.messages
    assert (
        "task ab-002, rater r01: z-less-active.json and a-more-active.json were both "
        "submitted at 2026-03-01T12:00:00Z with different contents; kept "
        "a-more-active.json (more active time)"
    ) in caplog.messages


def test_answers_that_break_the_rubric_are_rejected_but_are_not_metadata_errors(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    edited = submit(record, "ab-002", "r01")
    edited["answers"]["rationale"] = "Better."
    edited["answers"]["holistic"]["B"] = 0
    write_submission(folder, edited, "edited.json")
    other_bundle = submit(record, "abx-001", "r01")
    other_bundle["bundle_id"] = record.raters["r02"]["bundle_id"]
    write_submission(folder, other_bundle, "other-bundle.json")

    run(tracker_backend, folder, pilot_build)

    rejected = {r["file"]: r for r in tracker_backend.rows("Rejected")}
    assert rejected["edited.json"]["reason"] == (
        "task ab-002, rater r01: answers.holistic.B is 0, outside the scale 1-5; "
        "task ab-002, rater r01: answers.rationale has 1 word(s); at least 15 are "
        "needed"
    )
    assert rejected["edited.json"]["metadata"] == "no"
    assert rejected["other-bundle.json"]["metadata"] == "yes"
    raters = {r["rater_id"]: r for r in tracker_backend.rows("Raters")}
    r01 = raters["r01"]
    assert (r01["files"], r01["rejections"], r01["metadata_errors"]) == (3, 2, 1)
    assert r01["metadata_error_rate"] == 0.333


def test_f15_control_characters_replaced_and_logged(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ab = submit(record, "ab-001", "r01")
    ab["answers"]["rationale"] = "tight\x0bgroove \x1b[31mred\x1b[0m" + ENOUGH_WORDS
    path = write_submission(folder, ab)
    before = path.read_bytes()

    with caplog.at_level(logging.WARNING):
        run(tracker_backend, folder, pilot_build)

    [row] = tracker_backend.rows("Submissions")
    assert row["rationale"] == (
        "tight\ufffdgroove \ufffd[31mred\ufffd[0m" + ENOUGH_WORDS
    )
    assert json.loads(row["answers_json"])["rationale"] == ab["answers"]["rationale"]
    assert (
        "task ab-001, rater r01, field rationale: replaced 3 control or invalid "
        "character(s) with U+FFFD"
    ) in caplog.messages
    assert path.read_bytes() == before


def test_long_text_is_cut_below_the_cell_limit(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    ab = submit(record, "ab-001", "r01")
    ab["answers"]["rationale"] = "word " * 12_000
    write_submission(folder, ab)

    run(tracker_backend, folder, pilot_build)

    [row] = tracker_backend.rows("Submissions")
    for name in ("rationale", "answers_json"):
        assert len(row[name]) <= MAX_CELL_UNITS
        assert row[name].endswith("characters in full]")


def test_f16_offsets_give_the_same_utc_text(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    india = submit(record, "ab-001", "r01")
    india["started_at"] = "2026-03-01T09:40:00.000+05:30"
    india["submitted_at"] = "2026-03-01T10:00:00.000+05:30"
    utc = submit(record, "ab-002", "r01")
    utc["started_at"] = "2026-03-01T04:10:00Z"
    utc["submitted_at"] = "2026-03-01T04:30:00Z"
    write_submission(folder, india)
    write_submission(folder, utc)

    run(tracker_backend, folder, pilot_build)

    rows = tracker_backend.by_pair("Submissions")
    assert {r["submitted_at_utc"] for r in rows.values()} == {"2026-03-01T04:30:00Z"}
    assert rows[("ab-001", "r01")]["started_at_utc"] == "2026-03-01T04:10:00Z"
    tasks = tracker_backend.by_pair("Tasks")
    assert tasks[("ab-001", "r01")]["submitted_at_utc"] == "2026-03-01T04:30:00Z"


FORMULA_PROMPT = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def formula_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """Prompts and models a spreadsheet would take for formulas; ids like 007."""
    root = tmp_path_factory.mktemp("formula") / "project"
    (root / "audio").mkdir(parents=True)
    for clip in ("chaosland-riff.ogg", "madness-riff.ogg"):
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    (root / "earmark.toml").write_text(
        '[project]\nid = "f17"\n\n[[raters]]\nid = "007"\n' + SHORT_RUBRIC, "utf-8"
    )
    prompts = {"001": FORMULA_PROMPT, "1e5": "#N/A", "t3": "-1 dB please"}
    lines = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b"]
    for task, prompt in prompts.items():
        quoted = '"' + prompt.replace('"', '""') + '"'
        lines.append(
            f"{task},ab,{quoted},audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,=m2"
        )
    (root / "tasks.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return build(root, root.parent / "out", progress=False, built_at=BUILT_AT)


def test_f17_formula_like_text_and_ids_stay_text_and_numbers_stay_numbers(
    tracker_backend: Backend, formula_build: BuildResult, folder: Path
) -> None:
    record = load_record(formula_build.out)
    rationales = {"001": "+1 great", "1e5": "-2 dB quieter", "t3": "@SUM(A1)"}
    for task, text in rationales.items():
        data = submit(record, task, "007")
        data["answers"]["rationale"] = text
        write_submission(folder, data)

    first = run(tracker_backend, folder, formula_build)

    assert first.accepted == 3
    rows = {r["task_id"]: r for r in tracker_backend.rows("Submissions")}
    assert set(rows) == {"001", "1e5", "t3"}
    assert rows["001"]["prompt"] == FORMULA_PROMPT
    assert rows["1e5"]["prompt"] == "#N/A"
    for task, row in rows.items():
        assert row["rater_id"] == "007"
        assert row["rationale"] == rationales[task]
        assert {row["model_A"], row["model_B"]} == {"m1", "=m2"}
        for column in SUBMISSIONS.columns:
            value = row[column.name]
            if value is None:
                continue
            if column.kind in ("int", "number"):
                assert isinstance(value, int | float), column.name
            else:
                assert isinstance(value, str), column.name
    assert tracker_backend.formula_cells("Submissions") == []
    tracker_backend.mark()
    assert not run(tracker_backend, folder, formula_build).written
    assert tracker_backend.writes_since_mark() == 0


def test_f19_blank_and_duplicate_headers_reported_and_left_alone(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    tracker_backend.put_grid(
        TASKS.name,
        [
            ["task_id", "status", "notes", "notes", " ", " "],
            ["t001", "done"],
            ["ab-001", "mine", "n1", "n2"],
        ],
    )
    write_submission(folder, submit(record, "ab-001", "r01"))

    report = run(tracker_backend, folder, pilot_build)

    assert [p for p in report.problems if p.startswith("Tasks:")] == [
        "Tasks: column E has no header name; Earmark leaves it alone",
        "Tasks: column F has no header name; Earmark leaves it alone",
        "Tasks: header 'notes' appears 2 times (columns C, D); Earmark writes to "
        "none of them",
    ]
    grid = tracker_backend.grid(TASKS.name)
    assert grid[0][:6] == ["task_id", "status", "notes", "notes", " ", " "]
    assert grid[0][6:] == [
        "rater_id",
        "rater_name",
        "kind",
        "batch",
        "state",
        "submitted_at_utc",
    ]
    assert grid[1][:4] == ["t001", "done", None, None]
    assert grid[2][:4] == ["ab-001", "mine", "n1", "n2"]
    assert all(len(row) < 3 or (row[2] is None and row[3] is None) for row in grid[3:])
    assert len(grid) == 3 + len(record.planned())
    tracker_backend.mark()
    assert not run(tracker_backend, folder, pilot_build).written
    assert tracker_backend.writes_since_mark() == 0


def test_f20_a_date_made_by_the_spreadsheet_keeps_its_instant_and_nan_is_refused(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    (folder / "nan.json").write_text('{"active_seconds": NaN}', "utf-8")
    run(tracker_backend, folder, pilot_build)
    # A lead's program turned the kept first-sync time into a date cell: a
    # workbook stores a date, Google Sheets a serial day number (46083).
    key = {"task_id": "ab-001", "rater_id": "r01"}
    if tracker_backend.name == "xlsx":
        tracker_backend.set_cell(
            "Submissions", key, "first_synced_at_utc", datetime(2026, 3, 3)
        )
    else:
        tracker_backend.set_cell(
            "Submissions", key, "first_synced_at_utc", "2026-03-03", formulas=True
        )
        [edited] = tracker_backend.rows("Submissions")
        assert edited["first_synced_at_utc"] == 46084

    report = run(tracker_backend, folder, pilot_build, now=NOW + timedelta(days=2))

    [row] = tracker_backend.rows("Submissions")
    assert row["first_synced_at_utc"] == "2026-03-03T00:00:00Z"
    [rejected] = report.rejected
    assert "NaN" in rejected.reason
    [listed] = tracker_backend.rows("Rejected")
    assert listed["file"] == "nan.json"


def test_f20_key_cells_a_spreadsheet_turned_into_dates_still_find_their_rows(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    flagged = [{"kind": "ui_bug", "note": "stuck", "flagged_at": stamp(AT)}]
    write_submission(folder, submit(record, "ab-001", "r01", anomalies=flagged))
    run(tracker_backend, folder, pilot_build)
    day = {"date_utc": "2026-03-01"}
    flag = {"task_id": "ab-001"}
    # Excel or LibreOffice store a date; Google Sheets gives a serial day number.
    if tracker_backend.name == "xlsx":
        tracker_backend.set_cell("Burn-down", day, "date_utc", datetime(2026, 3, 1))
        flagged_at: Any = datetime(2026, 3, 1, 12)
    else:
        tracker_backend.set_cell(
            "Burn-down", day, "date_utc", "2026-03-01", formulas=True
        )
        assert tracker_backend.rows("Burn-down")[0]["date_utc"] == 46082
        flagged_at = 46082.5
    tracker_backend.set_cell("Anomalies", flag, "flagged_at_utc", flagged_at)
    tracker_backend.set_cell(
        "Pilot", {"section": "issue"}, "flagged_at_utc", flagged_at
    )

    report = run(tracker_backend, folder, pilot_build)

    assert report.added == 0
    assert [r["date_utc"] for r in tracker_backend.rows("Burn-down")] == ["2026-03-01"]
    [anomaly] = tracker_backend.rows("Anomalies")
    assert anomaly["flagged_at_utc"] == "2026-03-01T12:00:00Z"
    issues = [r for r in tracker_backend.rows("Pilot") if r["section"] == "issue"]
    assert [r["flagged_at_utc"] for r in issues] == ["2026-03-01T12:00:00Z"]


def test_an_ambiguous_key_leaves_that_tab_alone_and_writes_the_others(
    tracker_backend: Backend,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
) -> None:
    tracker_backend.put_grid("Submissions", [["task_id", "rater_id", "task_id"]])
    write_submission(folder, submit(record, "ab-001", "r01"))

    report = run(tracker_backend, folder, pilot_build)

    assert any("key column 'task_id' is ambiguous" in p for p in report.problems)
    assert tracker_backend.grid("Submissions") == [["task_id", "rater_id", "task_id"]]
    assert len(tracker_backend.rows("Tasks")) == len(record.planned())
