"""Leads' rules and views in a real workbook: deletions kept, rework, Raters,
Burn-down rate and forecast, Pilot. Expected numbers are worked out by hand."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from builder.build import BuildResult, build
from builder.record import BuildRecord, load_record
from tests.conftest import EXAMPLE
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import BUILT_AT, NOW, by_pair, read_tab, run_sync
from tracker.views import gold_agrees

AT = NOW - timedelta(days=1)


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "submissions"
    path.mkdir()
    return path


@pytest.fixture
def tracker(tmp_path: Path) -> Path:
    return tmp_path / "tracker.xlsx"


def submit(record: BuildRecord, task: str, rater: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("submitted", AT)
    return make_submission(record, task, rater, **kw)


def header_of(sheet: Any) -> list[str]:
    return [str(c.value) if c.value is not None else "" for c in sheet[1]]


def row_number(sheet: Any, key: dict[str, str]) -> int:
    """The sheet row whose key columns hold ``key``."""
    header = header_of(sheet)
    for r in range(2, sheet.max_row + 1):
        if all(
            sheet.cell(r, header.index(name) + 1).value == value
            for name, value in key.items()
        ):
            return r
    raise AssertionError(f"no row {key} in {sheet.title}")


def lead_edits(path: Path, tab: str, key: dict[str, str], **values: str) -> None:
    """Type ``values`` into the row of ``key``, as a lead in a spreadsheet."""
    book = openpyxl.load_workbook(path)
    sheet = book[tab]
    header = header_of(sheet)
    r = row_number(sheet, key)
    for name, value in values.items():
        sheet.cell(r, header.index(name) + 1, value=value)
    book.save(path)


def lead_deletes(path: Path, deletions: list[tuple[str, dict[str, str]]]) -> None:
    """Delete whole rows, as a lead selecting them and choosing Delete rows."""
    book = openpyxl.load_workbook(path)
    for tab, key in deletions:
        sheet = book[tab]
        sheet.delete_rows(row_number(sheet, key))
    book.save(path)


# ---- deleted rows ---------------------------------------------------------------


def test_rows_a_lead_deleted_stay_deleted_until_restored(
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tracker: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flag = [{"kind": "ui_bug", "note": "slider sticks", "flagged_at": stamp(AT)}]
    write_submission(folder, submit(record, "ab-001", "r01"))
    write_submission(folder, submit(record, "ab-002", "r01", anomalies=flag), "v1.json")
    write_submission(folder, submit(record, "cap-001", "r03"))
    run_sync(folder, pilot_build, tracker)
    lead_deletes(
        tracker,
        [
            ("Submissions", {"task_id": "ab-002", "rater_id": "r01"}),
            ("Tasks", {"task_id": "ab-003", "rater_id": "r02"}),
            ("Anomalies", {"task_id": "ab-002", "kind": "ui_bug"}),
            ("Raters", {"rater_id": "r03"}),
            ("Burn-down", {"date_utc": "2026-03-01"}),
        ],
    )
    # A revision of the deleted row and a new submission arrive.
    revised = submit(record, "ab-002", "r01", submitted=AT + timedelta(hours=1))
    revised["anomalies"] = flag
    write_submission(folder, revised, "v2.json")
    write_submission(folder, submit(record, "abx-001", "r02"))

    with caplog.at_level(logging.INFO, logger="tracker.sync"):
        report = run_sync(folder, pilot_build, tracker)

    assert report.deleted == 3
    assert "3 deleted in the tracker left out" in report.summary(str(tracker))
    assert (
        "Submissions: row ab-002 / r01 was deleted in the tracker; not written "
        "again (sync --restore-deleted brings it back)" in caplog.messages
    )
    assert any(
        m.startswith("Tasks: row ab-003 / r02 was deleted") for m in caplog.messages
    )
    subs = by_pair(read_tab(tracker, "Submissions"))
    assert set(subs) == {("ab-001", "r01"), ("cap-001", "r03"), ("abx-001", "r02")}
    tasks = by_pair(read_tab(tracker, "Tasks"))
    assert ("ab-003", "r02") not in tasks
    assert len(tasks) == len(record.planned()) - 1
    assert read_tab(tracker, "Anomalies") == []
    # Derived tabs are recomputed whole: their deleted rows are back.
    assert [r["rater_id"] for r in read_tab(tracker, "Raters")] == ["r01", "r02", "r03"]
    assert [r["date_utc"] for r in read_tab(tracker, "Burn-down")] == ["2026-03-01"]
    book = openpyxl.load_workbook(tracker)
    meta = book["_earmark"]
    assert meta.sheet_state == "hidden"
    keys = {(r["tab"], r["key"]) for r in read_tab(tracker, "_earmark")}
    assert ("Submissions", '["ab-002", "r01"]') in keys
    assert ("Submissions", '["abx-001", "r02"]') in keys
    assert not any(tab in ("Raters", "Burn-down", "Pilot") for tab, _ in keys)

    again = run_sync(folder, pilot_build, tracker)
    assert not again.written
    assert again.deleted == 3

    restored = run_sync(folder, pilot_build, tracker, restore_deleted=True)

    assert restored.written
    assert "3 deleted in the tracker restored" in restored.summary(str(tracker))
    subs = by_pair(read_tab(tracker, "Submissions"))
    assert subs[("ab-002", "r01")]["file"] == "v2.json"
    assert ("ab-003", "r02") in by_pair(read_tab(tracker, "Tasks"))
    assert [r["note"] for r in read_tab(tracker, "Anomalies")] == ["slider sticks"]
    assert not run_sync(folder, pilot_build, tracker).written


def test_a_tracker_without_the_meta_tab_keeps_every_row(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    """A workbook from before the meta tab: nothing is known to be deleted."""
    write_submission(folder, submit(record, "ab-001", "r01"))
    run_sync(folder, pilot_build, tracker)
    book = openpyxl.load_workbook(tracker)
    del book["_earmark"]
    book.save(tracker)
    lead_deletes(tracker, [("Submissions", {"task_id": "ab-001", "rater_id": "r01"})])

    report = run_sync(folder, pilot_build, tracker)

    assert report.deleted == 0
    assert set(by_pair(read_tab(tracker, "Submissions"))) == {("ab-001", "r01")}
    assert "_earmark" in openpyxl.load_workbook(tracker).sheetnames


# ---- rework -----------------------------------------------------------------------


def test_a_new_version_after_rewrite_or_rejected_counts_as_rework(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    for task in ("ab-001", "ab-002"):
        write_submission(folder, submit(record, task, "r01"), f"{task}-v1.json")
    run_sync(folder, pilot_build, tracker)
    lead_edits(
        tracker,
        "Submissions",
        {"task_id": "ab-001", "rater_id": "r01"},
        review_status="rewrite",
    )
    lead_edits(
        tracker,
        "Submissions",
        {"task_id": "ab-002", "rater_id": "r01"},
        review_status="accepted",
    )

    for task in ("ab-001", "ab-002"):
        v2 = submit(record, task, "r01", submitted=AT + timedelta(hours=1))
        v2["answers"]["overall"] = "B1"
        write_submission(folder, v2, f"{task}-v2.json")
    run_sync(folder, pilot_build, tracker)

    subs = by_pair(read_tab(tracker, "Submissions"))
    assert subs[("ab-001", "r01")]["rework"] == 1
    assert subs[("ab-001", "r01")]["review_status"] == "rewrite"
    assert subs[("ab-002", "r01")]["rework"] == 0  # revised, but not asked to
    assert subs[("ab-002", "r01")]["revisions"] == 1
    raters = {r["rater_id"]: r for r in read_tab(tracker, "Raters")}
    assert raters["r01"]["rework"] == 1

    # The same files again: the redo is not counted twice.
    assert not run_sync(folder, pilot_build, tracker).written
    assert by_pair(read_tab(tracker, "Submissions"))[("ab-001", "r01")]["rework"] == 1

    lead_edits(
        tracker,
        "Submissions",
        {"task_id": "ab-001", "rater_id": "r01"},
        review_status="Rejected",
    )
    v3 = submit(record, "ab-001", "r01", submitted=AT + timedelta(hours=2))
    write_submission(folder, v3, "ab-001-v3.json")
    run_sync(folder, pilot_build, tracker)

    subs = by_pair(read_tab(tracker, "Submissions"))
    assert subs[("ab-001", "r01")]["rework"] == 2
    raters = {r["rater_id"]: r for r in read_tab(tracker, "Raters")}
    assert (raters["r01"]["rework"], raters["r01"]["rejections"]) == (2, 1)
    assert (raters["r01"]["reviewed"], raters["r01"]["acceptance_rate"]) == (2, 0.5)


# ---- burn-down ---------------------------------------------------------------------


def test_burn_down_rate_and_forecast_over_a_7_day_window(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    day1 = datetime(2026, 2, 20, 15, 0, tzinfo=UTC)
    when = {
        ("ab-001", "r01"): 0,
        ("ab-001", "r02"): 0,
        ("ab-002", "r01"): 2,
        ("ab-002", "r03"): 7,
        ("ab-003", "r02"): 8,
    }
    for (task, rater), day in when.items():
        write_submission(
            folder, submit(record, task, rater, submitted=day1 + timedelta(days=day))
        )
    assert len(record.planned()) == 12

    run_sync(folder, pilot_build, tracker)

    rows = read_tab(tracker, "Burn-down")
    assert [
        (
            r["date_utc"],
            r["submitted"],
            r["remaining"],
            r["rate_7d"],
            r["forecast_finish_utc"],
        )
        for r in rows
    ] == [
        ("2026-02-20", 2, 10, 2, "2026-02-25"),  # 10 at 2/day: 5 days
        ("2026-02-21", 0, 10, 1, "2026-03-03"),  # 2 in 2 days
        ("2026-02-22", 1, 9, 1, "2026-03-03"),  # 3 in 3 days; 9 left
        ("2026-02-23", 0, 9, 0.75, "2026-03-07"),  # 9 / 0.75 = 12 days
        ("2026-02-24", 0, 9, 0.6, "2026-03-11"),  # 15 days
        ("2026-02-25", 0, 9, 0.5, "2026-03-15"),  # 18 days
        ("2026-02-26", 0, 9, 0.43, "2026-03-19"),  # 3 in 7 days: 21 days
        ("2026-02-27", 1, 8, 0.29, "2026-03-27"),  # 20 Feb left the window: 2/7
        ("2026-02-28", 1, 7, 0.43, "2026-03-17"),  # 3/7: 16.3, rounded up to 17
    ]


def test_burn_down_chart_covers_every_day(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    for n, (task, rater) in enumerate(record.planned()[:4]):
        submitted = AT - timedelta(days=3 - n)
        write_submission(folder, submit(record, task, rater, submitted=submitted))

    run_sync(folder, pilot_build, tracker)

    sheet = openpyxl.load_workbook(tracker)["Burn-down"]
    [chart] = sheet._charts
    header = header_of(sheet)
    refs = [s.val.numRef.f for s in chart.series]
    letters = [
        openpyxl.utils.get_column_letter(header.index(n) + 1)
        for n in ("cumulative", "remaining")
    ]
    assert refs == [f"'Burn-down'!${c}$2:${c}$5" for c in letters]
    x = openpyxl.utils.get_column_letter(header.index("date_utc") + 1)
    assert chart.series[0].cat.numRef.f == f"'Burn-down'!${x}$2:${x}$5"


# ---- Pilot ---------------------------------------------------------------------------


def test_pilot_tab_time_distribution_and_issues(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    issues = [
        {"kind": "ui_bug", "note": "Slider <b>jumps</b>", "flagged_at": stamp(AT)},
        {"kind": "audio_defect", "note": "click", "flagged_at": stamp(AT)},
    ]
    seconds = {
        ("ab-001", "r01"): 300,  # 5 minutes
        ("ab-002", "r01"): 600,
        ("ab-003", "r02"): 900,
        ("cap-001", "r01"): 1500,
    }
    for (task, rater), active in seconds.items():
        data = submit(record, task, rater, active_seconds=active)
        if task == "ab-001":
            data["anomalies"] = issues
        if task == "cap-001":
            data["anomalies"] = [
                {
                    "kind": "unclear_prompt",
                    "note": "What is 'build'?",
                    "flagged_at": "2026-03-01T09:00:00.000+05:30",
                }
            ]
        write_submission(folder, data)

    run_sync(folder, pilot_build, tracker)

    rows = read_tab(tracker, "Pilot")
    times = {r["kind"]: r for r in rows if r["section"] == "time"}
    assert list(times) == ["ab", "abx", "caption", "all"]
    numbers = (
        "tasks",
        "p10_minutes",
        "median_minutes",
        "p90_minutes",
        "under_5_min",
        "5_to_10_min",
        "10_to_20_min",
        "20_to_40_min",
        "40_min_plus",
    )
    assert {k: [times[k][n] for n in numbers] for k in times} == {
        # 5, 10, 15: p10 = 5 + 0.2 * 5; p90 = 10 + 0.8 * 5
        "ab": [3, 6, 10, 14, 0, 1, 2, 0, 0],
        "abx": [0, None, None, None, 0, 0, 0, 0, 0],
        "caption": [1, 25, 25, 25, 0, 0, 0, 1, 0],
        # 5, 10, 15, 25: positions 0.3, 1.5 and 2.7
        "all": [4, 6.5, 12.5, 22, 0, 1, 2, 1, 0],
    }
    found = [
        (r["kind"], r["task_id"], r["rater_id"], r["flagged_at_utc"], r["note"])
        for r in rows
        if r["section"] == "issue"
    ]
    assert found == [
        ("ui_bug", "ab-001", "r01", "2026-03-01T12:00:00Z", "Slider <b>jumps</b>"),
        (
            "unclear_prompt",
            "cap-001",
            "r01",
            "2026-03-01T03:30:00Z",
            "What is 'build'?",
        ),
    ]


# ---- Raters, on a project with gold tasks ------------------------------------------

GOLD = {f"g{n:02d}": "ab"[n % 2] for n in range(1, 12)} | {"g12": "tie"}
DAY = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def gold_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """r1: twelve gold A/B tasks and a caption; r2: one gold task and one plain."""
    root = tmp_path_factory.mktemp("gold") / "project"
    (root / "audio").mkdir(parents=True)
    for clip in ("chaosland-riff.ogg", "madness-riff.ogg", "feelings-build.ogg"):
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    (root / "earmark.toml").write_text(
        '[project]\nid = "gold"\nseed = 7\n\n'
        '[[raters]]\nid = "r1"\nname = "Rae"\n\n[[raters]]\nid = "r2"\n',
        "utf-8",
    )
    ab = "audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2"
    lines = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b,gold,raters"]
    lines += [f"{t},ab,Riff {t},{ab},{g},r1" for t, g in GOLD.items()]
    lines += [
        "c1,caption,Describe,audio/feelings-build.ogg,m1,,,,r1",
        f"g13,ab,Riff 13,{ab},b,r2",
        f"n1,ab,Plain,{ab},,r2",
    ]
    (root / "tasks.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return build(root, root.parent / "out", progress=False, built_at=BUILT_AT)


def answer_for(record: BuildRecord, task: str, rater: str, slot: str) -> str:
    """The preference a rater gives to favour manifest ``slot`` (or a tie)."""
    if slot == "tie":
        return "0"
    labels = record.raters[rater]["tasks"][task]["labels"]
    label = next(k for k, v in labels.items() if v == slot)
    return f"{label}2"


def test_raters_tab_on_a_hand_computed_example(
    gold_build: BuildResult, folder: Path, tracker: Path
) -> None:
    record = load_record(gold_build.out)
    other = {"a": "b", "b": "a"}
    for n, (task, gold) in enumerate(GOLD.items(), start=1):
        # g01 and g02 answered against the gold answer, the ten after it agreed.
        slot = other[gold] if n <= 2 else gold
        data = submit(
            record,
            task,
            "r1",
            submitted=DAY + timedelta(days=(n - 1) // 6, hours=n),
            active_seconds=120 * n,  # two clips: n minutes per track
        )
        data["answers"]["overall"] = answer_for(record, task, "r1", slot)
        write_submission(folder, data)
    write_submission(
        folder,
        submit(
            record, "c1", "r1", submitted=DAY + timedelta(days=2), active_seconds=600
        ),
    )
    shutil.copyfile(folder / "earmark_r1_g05.json", folder / "copy of g05.json")
    bad_prompt = submit(record, "g06", "r1", prompt="Another prompt")
    write_submission(folder, bad_prompt, "bad-prompt.json")
    old_build = submit(record, "g07", "r1", build_id="000000000000")
    write_submission(folder, old_build, "old-build.json")
    bad_answer = submit(record, "g08", "r1")
    bad_answer["answers"]["overall"] = "A9"
    write_submission(folder, bad_answer, "bad-answer.json")
    for task in ("g13", "n1"):
        data = submit(
            record, task, "r2", submitted=DAY + timedelta(days=1), active_seconds=300
        )
        data["answers"]["overall"] = answer_for(record, task, "r2", "b")
        write_submission(folder, data)

    first = run_sync(folder, gold_build, tracker)

    assert (first.accepted, len(first.rejected)) == (16, 3)
    swapped = [t for t in GOLD if record.raters["r1"]["tasks"][t]["labels"]["A"] == "b"]
    assert swapped, "some gold tasks must show slot b as A for the label mapping"
    raters = {r["rater_id"]: r for r in read_tab(tracker, "Raters")}
    r1 = raters["r1"]
    assert r1 == {
        "rater_id": "r1",
        "rater_name": "Rae",
        "assigned": 13,
        "submitted": 13,
        "active_days": 3,  # g01-g06, g07-g12, c1
        "tasks_per_day": 4.33,
        # 1..12 minutes per track for g01..g12, 10 for the caption: median of 13
        "median_minutes_per_track": 7,
        "files": 16,  # 13 versions (an identical copy is not one) + 3 rejected
        "metadata_errors": 2,  # prompt and build; a bad answer is not metadata
        "metadata_error_rate": 0.125,
        "rejections": 3,
        "rework": 0,
        "reviewed": 0,
        "acceptance_rate": None,
        "gold_answered": 12,
        "gold_agreement": 0.833,  # 10 of 12
        "gold_recent": 1,  # the last 10 all agreed
        "gold_drift": 0.167,
        "abx_trials": 0,
        "abx_correct": 0,
        "abx_p_value": None,
    }
    r2 = raters["r2"]
    assert (r2["submitted"], r2["tasks_per_day"], r2["median_minutes_per_track"]) == (
        2,
        2,
        2.5,
    )
    assert (r2["gold_answered"], r2["gold_agreement"]) == (1, 1)
    assert (r2["gold_recent"], r2["gold_drift"]) == (None, None)
    assert (r2["files"], r2["metadata_error_rate"]) == (2, 0)

    for task, status in (
        ("g01", "accepted"),
        ("g02", " Rejected "),
        ("g03", "rewrite"),
        ("g04", "ACCEPTED"),
    ):
        lead_edits(
            tracker,
            "Submissions",
            {"task_id": task, "rater_id": "r1"},
            review_status=status,
        )

    second = run_sync(folder, gold_build, tracker)

    assert second.written
    r1 = {r["rater_id"]: r for r in read_tab(tracker, "Raters")}["r1"]
    assert (r1["reviewed"], r1["acceptance_rate"], r1["rejections"]) == (4, 0.5, 4)


@pytest.mark.parametrize(
    ("expected", "slot", "strength", "tolerance", "agrees"),
    [
        ("a", "a", 1, 0, True),
        ("a", "tie", 0, 0, False),
        ("a", "tie", 0, 1, True),
        ("a", "b", 1, 1, False),
        ("a", "b", 1, 2, True),
        ("a", "b", 2, 2, False),
        ("tie", "tie", 0, 0, True),
        ("tie", "a", 1, 0, False),
        ("tie", "b", 1, 1, True),
        ("tie", "b", 2, 1, False),
    ],
)
def test_gold_tolerance_in_strength_points(
    expected: str, slot: str, strength: int, tolerance: int, agrees: bool
) -> None:
    assert gold_agrees(expected, slot, strength, tolerance) is agrees
