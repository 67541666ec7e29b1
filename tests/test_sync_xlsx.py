"""Sync into a real .xlsx workbook, read back with openpyxl."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from builder.build import BuildResult, build
from builder.errors import EarmarkError
from builder.record import BuildRecord, load_record
from tests.submission_factory import (
    ENOUGH_WORDS,
    make_submission,
    stamp,
    write_submission,
)
from tests.sync_support import (
    BUILT_AT,
    NOW,
    SHORT_RUBRIC,
    by_pair,
    read_tab,
    run_sync,
)
from tracker.tables import SUBMISSIONS

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
    return tmp_path / "leads" / "tracker.xlsx"


def submit(record: BuildRecord, task: str, rater: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("submitted", AT)
    return make_submission(record, task, rater, **kw)


def slot_model(record: BuildRecord, task: str, rater: str, label: str) -> str:
    """The model behind a display label, looked up by hand in the raw record."""
    slot = record.data["raters"][rater]["tasks"][task]["labels"][label]
    return str(record.data["tasks"][task]["clips"][slot]["model"])


def test_accepted_rows_carry_model_versions_from_the_build_record(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    assert record.data["raters"]["r02"]["tasks"]["ab-001"]["labels"]["A"] == "b"
    ab = submit(record, "ab-001", "r02")
    ab["answers"]["overall"] = "B3"
    write_submission(folder, ab)
    write_submission(folder, submit(record, "abx-001", "r01"))
    caption = submit(record, "cap-001", "r01")
    caption["answers"]["caption"] += " — 3 bars, then 音楽 ends. - "
    write_submission(folder, caption)

    report = run_sync(folder, pilot_build, tracker)

    assert (report.files, report.accepted, len(report.rejected)) == (3, 3, 0)
    rows = by_pair(read_tab(tracker, "Submissions"))
    assert set(rows) == {("ab-001", "r02"), ("abx-001", "r01"), ("cap-001", "r01")}
    row = rows[("ab-001", "r02")]
    assert row["model_A"] == slot_model(record, "ab-001", "r02", "A") == "riffgen-2.2"
    assert row["model_B"] == slot_model(record, "ab-001", "r02", "B") == "riffgen-2.1"
    assert row["model_X"] is None
    assert (row["preferred"], row["strength"]) == ("B", 3)
    assert row["preferred_model"] == "riffgen-2.1"
    assert row["clip_A"] == record.data["tasks"]["ab-001"]["clips"]["b"]["clip_id"]
    assert row["batch"] == "b1"
    assert row["started_at_utc"] == "2026-03-01T11:35:00Z"
    assert row["submitted_at_utc"] == "2026-03-01T12:00:00Z"
    assert row["active_minutes"] == 21
    assert row["min_coverage_heard"] == 0.95
    assert row["plays"] == 4
    assert row["revisions"] == 0
    assert row["first_synced_at_utc"] == "2026-03-02T12:00:00Z"
    assert json.loads(row["answers_json"]) == ab["answers"]
    assert row["review_status"] is None
    abx = rows[("abx-001", "r01")]
    assert abx["model_X"] == slot_model(record, "abx-001", "r01", "X")
    cap = rows[("cap-001", "r01")]
    assert cap["caption_words"] == 310 + 5  # dashes are not words
    assert cap["callouts"] == 2
    assert cap["preferred"] is None
    assert cap["caption"].startswith("A driving instrumental rock piece")

    tasks = by_pair(read_tab(tracker, "Tasks"))
    assert len(tasks) == len(record.planned())
    assert tasks[("ab-001", "r02")]["state"] == "submitted"
    assert tasks[("ab-001", "r02")]["submitted_at_utc"] == "2026-03-01T12:00:00Z"
    assert tasks[("ab-001", "r01")]["state"] == "pending"
    assert tasks[("ab-001", "r01")]["rater_name"] == "Ana Ferreira"
    remaining = len(record.planned()) - 3
    assert remaining == 9
    assert read_tab(tracker, "Burn-down") == [
        {
            "date_utc": "2026-03-01",
            "submitted": 3,
            "cumulative": 3,
            "remaining": remaining,
            "rate_7d": 3,
            "forecast_finish_utc": "2026-03-04",  # 9 left at 3 a day
        }
    ]


def test_workbook_has_frozen_headers_filters_and_a_review_dropdown(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))

    run_sync(folder, pilot_build, tracker)

    book = openpyxl.load_workbook(tracker)
    assert book.sheetnames == [
        "Submissions",
        "Tasks",
        "Anomalies",
        "Rejected",
        "Burn-down",
        "Raters",
        "Pilot",
        "_earmark",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        if sheet.title == "_earmark":
            assert sheet.sheet_state == "hidden"
            continue
        assert sheet.sheet_state == "visible"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    assert book.active.title == "Submissions"
    sheet = book["Submissions"]
    header = [c.value for c in sheet[1]]
    letter = openpyxl.utils.get_column_letter(header.index("review_status") + 1)
    rules = [
        (dv.formula1, str(dv.sqref))
        for dv in sheet.data_validations.dataValidation
        if dv.type == "list"
    ]
    assert rules == [('"accepted,rejected,rewrite"', f"{letter}2:{letter}1048576")]


def test_a_second_sync_of_the_same_files_changes_nothing(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    with_anomaly = submit(
        record,
        "cap-002",
        "r03",
        anomalies=[
            {"kind": "audio_defect", "note": "click", "flagged_at": stamp(AT)},
        ],
    )
    write_submission(folder, with_anomaly)
    (folder / "broken.json").write_text("{", "utf-8")
    first = run_sync(folder, pilot_build, tracker)
    before = tracker.read_bytes(), tracker.stat().st_mtime_ns

    second = run_sync(folder, pilot_build, tracker, now=NOW + timedelta(hours=5))

    assert first.written and first.added > 0
    assert not second.written
    assert (second.added, second.updated) == (0, 0)
    assert second.unchanged == first.added
    assert (tracker.read_bytes(), tracker.stat().st_mtime_ns) == before
    assert "unchanged, not rewritten" in second.summary(str(tracker))


def test_an_anomaly_reaching_the_tracker_late_is_flagged(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    flagged = NOW - timedelta(hours=30)
    late = [{"kind": "other", "note": "late", "flagged_at": stamp(flagged)}]
    write_submission(folder, submit(record, "ab-001", "r01", anomalies=late))

    run_sync(folder, pilot_build, tracker)

    [row] = read_tab(tracker, "Anomalies")
    assert (row["hours_to_tracker"], row["over_24h"]) == (30, "yes")
    assert row["flagged_at_utc"] == "2026-03-01T06:00:00Z"
    assert row["lead_status"] is None


def reorder_columns(path: Path, tab: str, order: list[str]) -> None:
    """Rewrite a tab with its columns in ``order`` (as a lead dragging columns)."""
    book = openpyxl.load_workbook(path)
    sheet = book[tab]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = [str(h) for h in rows[0]]
    sheet.delete_rows(1, sheet.max_row)
    for r, values in enumerate(rows, start=1):
        for c, name in enumerate(order, start=1):
            cell = sheet.cell(row=r, column=c, value=values[header.index(name)])
            if isinstance(cell.value, str):
                cell.data_type = "s"
    book.save(path)


def test_lead_edits_survive_resync_after_reordering_and_adding_columns(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"), "first.json")
    write_submission(folder, submit(record, "ab-002", "r01"))
    run_sync(folder, pilot_build, tracker)
    reorder_columns(tracker, "Submissions", list(reversed(SUBMISSIONS.names)))
    book = openpyxl.load_workbook(tracker)
    sheet = book["Submissions"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["reviewer_notes", "review_status"]
    row = next(
        r
        for r in range(2, 4)
        if sheet.cell(r, header.index("task_id") + 1).value == "ab-001"
    )
    sheet.cell(row, 1, value='=LEN("ok")')
    sheet.cell(row, 2, value="accepted")
    sheet.cell(1, len(header) + 1, value="priority")
    sheet.cell(row, len(header) + 1, value="high")
    book.save(tracker)

    revised = submit(record, "ab-001", "r01", submitted=AT + timedelta(hours=1))
    revised["answers"]["overall"] = "B1"
    write_submission(folder, revised, "second.json")
    write_submission(folder, submit(record, "ab-001", "r02"))
    report = run_sync(folder, pilot_build, tracker)

    subs = report.changes[0]
    assert (subs.added, subs.updated, subs.unchanged) == (1, 1, 1)
    book = openpyxl.load_workbook(tracker)
    sheet = book["Submissions"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["reviewer_notes", "review_status"]
    assert header[-1] == "priority"
    rows = by_pair(read_tab(tracker, "Submissions"))
    mine = rows[("ab-001", "r01")]
    assert mine["review_status"] == "accepted"
    assert mine["priority"] == "high"
    assert (mine["preferred"], mine["strength"], mine["revisions"]) == ("B", 1, 1)
    assert mine["file"] == "second.json"
    notes = sheet.cell(row, 1)
    assert (notes.value, notes.data_type) == ('=LEN("ok")', "f")
    assert rows[("ab-001", "r02")]["review_status"] is None
    letter = openpyxl.utils.get_column_letter(header.index("review_status") + 1)
    assert [
        str(dv.sqref)
        for dv in sheet.data_validations.dataValidation
        if dv.type == "list"
    ] == [f"{letter}2:{letter}1048576"]


def test_an_identical_resend_is_not_a_revision(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    path = write_submission(folder, submit(record, "ab-001", "r01"), "a.json")
    (folder / "again").mkdir()
    shutil.copyfile(path, folder / "again" / "a.json")

    run_sync(folder, pilot_build, tracker)

    [row] = read_tab(tracker, "Submissions")
    assert row["revisions"] == 0
    assert row["file"] == "again/a.json"


def test_f15_control_characters_replaced_logged_and_source_untouched(
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tracker: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ab = submit(record, "ab-001", "r01")
    ab["answers"]["rationale"] = "tight\x0bgroove \x1b[31mred\x1b[0m" + ENOUGH_WORDS
    cap = submit(record, "cap-001", "r01")
    cap["answers"]["caption"] = "Intro\x0bverse " + cap["answers"]["caption"]
    paths = [write_submission(folder, ab), write_submission(folder, cap)]
    before = [p.read_bytes() for p in paths]

    with caplog.at_level(logging.WARNING):
        report = run_sync(folder, pilot_build, tracker)

    assert report.accepted == 2
    rows = by_pair(read_tab(tracker, "Submissions"))
    assert rows[("ab-001", "r01")]["rationale"] == (
        "tight\ufffdgroove \ufffd[31mred\ufffd[0m" + ENOUGH_WORDS
    )
    assert rows[("cap-001", "r01")]["caption"].startswith("Intro\ufffdverse A ")
    assert (
        json.loads(rows[("ab-001", "r01")]["answers_json"])["rationale"]
        == (ab["answers"]["rationale"])
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert (
        "task ab-001, rater r01, field rationale: replaced 3 control or invalid "
        "character(s) with U+FFFD"
    ) in warnings
    assert (
        "task cap-001, rater r01, field caption: replaced 1 control or invalid "
        "character(s) with U+FFFD"
    ) in warnings
    assert [p.read_bytes() for p in paths] == before


def test_lone_surrogates_do_not_make_an_unreadable_workbook(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    ab = submit(record, "ab-001", "r01")
    ab["answers"]["rationale"] = "half an emoji \ud83c here" + ENOUGH_WORDS
    path = folder / "surrogate.json"
    path.write_text(json.dumps(ab), "utf-8")  # ASCII escapes keep "\ud83c" as is

    run_sync(folder, pilot_build, tracker)

    [row] = read_tab(tracker, "Submissions")
    assert row["rationale"] == "half an emoji \ufffd here" + ENOUGH_WORDS


FORMULA_PROMPT = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def formula_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """A project whose prompts a spreadsheet would take for formulas."""
    from tests.conftest import EXAMPLE

    root = tmp_path_factory.mktemp("formula") / "project"
    (root / "audio").mkdir(parents=True)
    for clip in ("chaosland-riff.ogg", "madness-riff.ogg"):
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    (root / "earmark.toml").write_text(
        '[project]\nid = "f17"\n\n[[raters]]\nid = "r1"\n' + SHORT_RUBRIC, "utf-8"
    )
    prompts = [FORMULA_PROMPT, "#N/A", "-1 dB please"]
    lines = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b"]
    for i, prompt in enumerate(prompts, start=1):
        quoted = '"' + prompt.replace('"', '""') + '"'
        lines.append(
            f"t{i},ab,{quoted},audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,=m2"
        )
    (root / "tasks.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return build(root, root.parent / "out", progress=False, built_at=BUILT_AT)


def test_f17_formula_like_text_stays_text_and_numbers_stay_numbers(
    formula_build: BuildResult, folder: Path, tracker: Path
) -> None:
    record = load_record(formula_build.out)
    rationales = {"t1": "+1 great", "t2": "-2 dB quieter", "t3": "@SUM(A1)"}
    for task, text in rationales.items():
        data = submit(record, task, "r1")
        data["answers"]["rationale"] = text
        write_submission(folder, data)

    first = run_sync(folder, formula_build, tracker)

    assert first.accepted == 3
    sheet = openpyxl.load_workbook(tracker)["Submissions"]
    header = [c.value for c in sheet[1]]
    cells = {
        sheet.cell(r, 1).value: {
            name: sheet.cell(r, i + 1) for i, name in enumerate(header)
        }
        for r in range(2, sheet.max_row + 1)
    }
    expected_prompts = {"t1": FORMULA_PROMPT, "t2": "#N/A", "t3": "-1 dB please"}
    for task, row in cells.items():
        for name, text in (
            ("prompt", expected_prompts[task]),
            ("rationale", rationales[task]),
        ):
            assert (row[name].value, row[name].data_type) == (text, "s")
        for column in SUBMISSIONS.columns:
            cell = row[column.name]
            if cell.value is None:
                continue
            if column.kind in ("int", "number"):
                assert cell.data_type == "n", column.name
                assert isinstance(cell.value, int | float), column.name
            else:
                assert cell.data_type == "s", column.name
                assert isinstance(cell.value, str), column.name
        assert isinstance(row["strength"].value, int)
        models = {row["model_A"].value, row["model_B"].value}
        assert models == {"m1", "=m2"}
        assert row["model_A"].data_type == row["model_B"].data_type == "s"
        assert row["preferred_model"].value == row["model_A"].value
    second = run_sync(folder, formula_build, tracker)
    assert not second.written


def test_a_second_concurrent_sync_is_refused(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    run_sync(folder, pilot_build, tracker)
    write_submission(folder, submit(record, "ab-002", "r01"))
    before = tracker.read_bytes()
    lock = tracker.with_name(".tracker.xlsx.lock")
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(EarmarkError, match="Another sync is updating"):
            run_sync(folder, pilot_build, tracker)
    finally:
        os.close(fd)
    assert tracker.read_bytes() == before
    assert run_sync(folder, pilot_build, tracker).added == 1


@pytest.mark.parametrize(
    "content",
    [b"this is not a workbook", b"PK\x03\x04 truncated zip", "zip"],
    ids=["text", "truncated-zip", "zip-without-workbook"],
)
def test_an_unreadable_workbook_is_named_and_left_untouched(
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tracker: Path,
    content: bytes | str,
) -> None:
    tracker.parent.mkdir()
    if content == "zip":
        with zipfile.ZipFile(tracker, "w") as archive:
            archive.writestr("hello.txt", "not a spreadsheet")
    else:
        assert isinstance(content, bytes)
        tracker.write_bytes(content)
    before = tracker.read_bytes()
    write_submission(folder, submit(record, "ab-001", "r01"))

    with pytest.raises(EarmarkError, match="Cannot read tracker") as caught:
        run_sync(folder, pilot_build, tracker)

    assert str(tracker) in str(caught.value)
    assert tracker.read_bytes() == before


def test_a_crash_while_saving_leaves_the_old_workbook_intact(
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tracker: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"))
    run_sync(folder, pilot_build, tracker)
    tracker.chmod(0o640)
    before = tracker.read_bytes()
    write_submission(folder, submit(record, "ab-002", "r01"))

    def failing_save(self: openpyxl.Workbook, filename: str | Path) -> None:
        with open(filename, "wb") as handle:
            handle.write(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(openpyxl.Workbook, "save", failing_save)
        with pytest.raises(EarmarkError, match="Could not save tracker"):
            run_sync(folder, pilot_build, tracker)

    assert tracker.read_bytes() == before
    assert len(read_tab(tracker, "Submissions")) == 1
    assert sorted(p.name for p in tracker.parent.iterdir()) == [
        ".tracker.xlsx.lock",
        "tracker.xlsx",
    ]
    run_sync(folder, pilot_build, tracker)
    assert len(read_tab(tracker, "Submissions")) == 2
    assert tracker.stat().st_mode & 0o777 == 0o640


def test_a_rejected_file_stays_listed_when_a_later_folder_lacks_it(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    bad = folder / "bad.json"
    bad.write_text("{not json", "utf-8")
    run_sync(folder, pilot_build, tracker)
    bad.unlink()

    report = run_sync(folder, pilot_build, tracker, now=NOW + timedelta(days=1))

    assert not report.written
    [row] = read_tab(tracker, "Rejected")
    assert (row["file"], row["state"]) == ("bad.json", "rejected")
    assert row["first_seen_at_utc"] == "2026-03-02T12:00:00Z"


def test_hidden_files_are_skipped_and_folders_searched(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    write_submission(folder, submit(record, "ab-001", "r01"), "r01/day1/A.JSON")
    (folder / "._A.json").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "x.json").write_bytes(b"\x00")
    (folder / "notes.txt").write_text("not a submission", "utf-8")

    report = run_sync(folder, pilot_build, tracker)

    assert (report.files, report.accepted, len(report.rejected)) == (1, 1, 0)


def test_missing_inputs_are_reported(
    pilot_build: BuildResult, folder: Path, tracker: Path, tmp_path: Path
) -> None:
    with pytest.raises(EarmarkError, match="does not exist"):
        run_sync(tmp_path / "nowhere", pilot_build, tracker)
    with pytest.raises(EarmarkError, match=r"must be an \.xlsx file"):
        run_sync(folder, pilot_build, tmp_path / "tracker.xls")
    assert not tracker.exists()


def test_burn_down_counts_each_utc_day_and_fills_gaps(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    planned = len(record.planned())
    late_evening = submit(record, "ab-001", "r02", submitted=AT - timedelta(days=2))
    # 01:00 on 28 February in India is still 27 February in UTC.
    late_evening["submitted_at"] = "2026-02-28T01:00:00.000+05:30"
    late_evening["started_at"] = "2026-02-28T00:30:00.000+05:30"
    write_submission(folder, late_evening)
    write_submission(folder, submit(record, "ab-001", "r01", submitted=AT))
    revised_later = submit(record, "ab-002", "r01", submitted=AT - timedelta(days=4))
    write_submission(folder, revised_later, "early.json")
    run_sync(folder, pilot_build, tracker)
    assert [r["date_utc"] for r in read_tab(tracker, "Burn-down")] == [
        "2026-02-25",
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
    ]

    # The only submission of 25 February is replaced by a revision of 1 March.
    write_submission(folder, submit(record, "ab-002", "r01", submitted=AT), "late.json")
    run_sync(folder, pilot_build, tracker)

    rows = read_tab(tracker, "Burn-down")
    assert [
        (r["date_utc"], r["submitted"], r["cumulative"], r["remaining"]) for r in rows
    ] == [
        ("2026-02-25", 0, 0, planned),
        ("2026-02-26", 0, 0, planned),
        ("2026-02-27", 1, 1, planned - 1),
        ("2026-02-28", 0, 1, planned - 1),
        ("2026-03-01", 2, 3, planned - 3),
    ]
    assert all(isinstance(r["remaining"], int) for r in rows)
