"""Sync and captions: callout times checked against the measured clip; rework rounds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl

from builder.build import BuildResult
from builder.record import load_record
from tests.submission_factory import make_submission, write_submission
from tests.sync_support import NOW, by_pair, read_tab, run_sync

TASK, RATER = "cap-001", "r01"


def caption(build: BuildResult, starts: list[float], **extra: Any) -> dict[str, Any]:
    record = load_record(build.out)
    # A later rework round is submitted later, as a reissued page can only be.
    later = timedelta(minutes=10 * int(extra.get("rework_round", 0)))
    submitted = NOW.replace(hour=10) + later
    data = make_submission(record, TASK, RATER, submitted=submitted, **extra)
    data["answers"]["callouts"] = [
        {"start": start, "section": "verse", "origin": "analyst"} for start in starts
    ]
    return data


def duration(build: BuildResult) -> float:
    record = load_record(build.out)
    clip = record.clip_ids(TASK, RATER)["A"]
    return float(record.data["clips"][clip]["duration"])


def test_callouts_inside_the_clip_and_distinct_are_accepted(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    end = duration(pilot_build)
    folder = tmp_path / "subs"
    # The page allows the very end (a tenth is rounded up to 0.05 s past it).
    write_submission(folder, caption(pilot_build, [0, 12.3, end + 0.04]))
    report = run_sync(folder, pilot_build, tmp_path / "t.xlsx")
    assert report.rejected == []
    assert read_tab(tmp_path / "t.xlsx", "Submissions")[0]["callouts"] == 3


def test_callouts_outside_the_clip_or_repeated_are_rejected_with_reasons(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    end = duration(pilot_build)
    folder = tmp_path / "subs"
    write_submission(folder, caption(pilot_build, [0, 5, 5.02, end + 3]), "bad.json")
    tracker = tmp_path / "t.xlsx"
    report = run_sync(folder, pilot_build, tracker)
    assert report.accepted == 0
    [row] = read_tab(tracker, "Rejected")
    assert row["reason"] == (
        "answers.callouts[2].start 5.02 s repeats answers.callouts[1]; "
        f"answers.callouts[3].start {end + 3:g} s is outside the clip "
        f"(0 to {end:g} s, measured at build time)"
    )
    # An answer that breaks the rules is not a metadata error: ids and clips match.
    assert row["metadata"] == "no"
    assert row["task_id"] == TASK


def set_review(tracker: Path, status: str, notes: str = "") -> None:
    book = openpyxl.load_workbook(tracker)
    sheet = book["Submissions"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("task_id")].value == TASK:
            row[header.index("review_status")].value = status
            row[header.index("reviewer_notes")].value = notes
    book.save(tracker)


def test_a_reissued_rewrite_counts_as_rework_by_its_round(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    tracker = tmp_path / "t.xlsx"
    first = tmp_path / "first"
    write_submission(first, caption(pilot_build, [0]), "a.json")
    run_sync(first, pilot_build, tracker)
    assert by_pair(read_tab(tracker, "Submissions"))[TASK, RATER]["rework"] == 0

    # The lead asks for a rewrite; the redo arrives from the reissued task.
    set_review(tracker, "rewrite", "Name the lead instrument in the intro.")
    second = tmp_path / "second"
    write_submission(second, caption(pilot_build, [0, 4], rework_round=1), "b.json")
    run_sync(second, pilot_build, tracker)
    row = by_pair(read_tab(tracker, "Submissions"))[TASK, RATER]
    assert row["rework"] == 1

    # The lead already accepted it when round 2 is synced: it still counts as 2.
    set_review(tracker, "accepted")
    third = tmp_path / "third"
    write_submission(third, caption(pilot_build, [0, 6], rework_round=2), "c.json")
    run_sync(third, pilot_build, tracker)
    assert by_pair(read_tab(tracker, "Submissions"))[TASK, RATER]["rework"] == 2


def test_a_new_tracker_counts_the_round_of_the_first_file_it_sees(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    folder = tmp_path / "subs"
    write_submission(folder, caption(pilot_build, [0], rework_round=3))
    run_sync(folder, pilot_build, tmp_path / "t.xlsx")
    assert read_tab(tmp_path / "t.xlsx", "Submissions")[0]["rework"] == 3
