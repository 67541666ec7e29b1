"""Sync into Google Sheets (the fake API): call counts, request sizes, layout."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from builder.build import BuildResult, build
from builder.record import BuildRecord, load_record
from tests.backends import FakeSheetsBackend
from tests.fakesheets import FakeSheets
from tests.sheets_support import (
    AT,
    kinds,
    many_tasks_project,
    sheets_tracker,
    submit_all,
)
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import BUILT_AT, NOW
from tracker.sheets import MAX_REQUEST_BYTES
from tracker.sheets_layout import PROTECTION_TAG, RULE_TAG
from tracker.sheets_state import STATE_TAB, SheetState
from tracker.sync import sync
from tracker.tables import TABS, column_letter, unique_columns

pytest_plugins = ["tests.fakesheets.fixtures"]


@pytest.fixture(scope="module")
def many_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """150 tasks, 3 raters, 2 per task: 300 planned submissions."""
    root = tmp_path_factory.mktemp("many")
    return build(
        many_tasks_project(root / "project", 150),
        root / "out",
        progress=False,
        built_at=BUILT_AT,
    )


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


def test_f18_a_sync_costs_the_same_calls_for_30_and_300_submissions(
    fake_sheets: FakeSheets, many_build: BuildResult, tmp_path: Path
) -> None:
    record = load_record(many_build.out)
    planned = record.planned()
    assert len(planned) == 300
    seen = {}
    for count in (30, 300):
        folder = tmp_path / f"submissions-{count}"
        submit_all(folder, record, planned[:count])
        key = fake_sheets.create(f"Tracker {count}")

        def run(folder: Path = folder, key: str = key) -> Any:
            tracker = sheets_tracker(fake_sheets, key)
            return sync(folder, many_build.out, tracker, now=NOW)

        with fake_sheets.counting() as cold:
            assert run().added > count
        with fake_sheets.counting() as again:
            assert not run().written
        revised = planned[: count // 10]
        submit_all(
            folder, record, revised, submitted=AT + timedelta(hours=1), prefix="v2-"
        )
        with fake_sheets.counting() as later:
            report = run()
        assert report.updated >= len(revised)
        assert all(call.bytes_in < MAX_REQUEST_BYTES for call in cold + again + later)
        seen[count] = (kinds(cold), kinds(again), kinds(later))

    assert seen[30] == seen[300]
    cold_kinds, again_kinds, later_kinds = seen[300]
    # Cold: metadata; the state tab made with the lease in it; the lease read
    # back; one formatting batch; one write of every value.
    assert cold_kinds == {
        "get": 1,
        "batchUpdate": 2,
        "values.get": 1,
        "values.batchUpdate": 1,
    }
    assert again_kinds == {"get": 1, "batchGet": 1}
    # Revised: the one read; the lease checked, written and read back; one write.
    assert later_kinds == {
        "get": 1,
        "batchGet": 1,
        "values.get": 2,
        "values.batchUpdate": 2,
    }


def test_a_write_bigger_than_one_request_is_split_between_rows(
    fake_sheets: FakeSheets, many_build: BuildResult, tmp_path: Path
) -> None:
    record = load_record(many_build.out)
    folder = tmp_path / "submissions"
    submit_all(folder, record, record.planned())
    key = fake_sheets.create("Split")
    limit = 100_000

    with fake_sheets.counting() as calls:
        sync(
            folder,
            many_build.out,
            sheets_tracker(fake_sheets, key, max_request_bytes=limit),
            now=NOW,
        )

    writes = [c for c in calls if c.path.endswith("/values:batchUpdate")]
    assert len(writes) > 2
    assert all(c.bytes_in <= limit for c in writes)
    book = fake_sheets.spreadsheet(key)
    rows = book.sheet("Submissions").values()
    header = rows[0]
    keys = [(r[0], r[1]) for r in rows[1:]]
    assert len(keys) == len(set(keys)) == 300
    sha = header.index("sha256")
    assert all(len(r) > sha and len(str(r[sha])) == 64 for r in rows[1:])
    state = SheetState.parse(book.sheet(STATE_TAB).values())
    assert (state.generation, state.lease.owner) == (1, "")


def anomalies(at: str) -> list[dict[str, str]]:
    return [{"kind": "audio_defect", "note": "click", "flagged_at": at}]


def test_each_tab_is_laid_out_as_its_layout_says(
    fake_sheets: FakeSheets,
    pilot_build: BuildResult,
    record: BuildRecord,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "submissions"
    late = stamp(NOW - timedelta(hours=30))
    write_submission(
        folder,
        make_submission(
            record, "ab-001", "r01", submitted=AT, anomalies=anomalies(late)
        ),
    )
    write_submission(folder, make_submission(record, "cap-001", "r01", submitted=AT))
    (folder / "bad.json").write_text("{", "utf-8")
    key = fake_sheets.create("Layout")

    sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)

    book = fake_sheets.spreadsheet(key)
    for spec in TABS:
        sheet, layout = book.sheet(spec.name), spec.layout
        header = [str(v) for v in sheet.values()[0]]
        positions = unique_columns(header)
        assert sheet.frozen_rows == layout.frozen_rows, spec.name
        assert sheet.hidden == layout.hidden, spec.name
        if layout.filter:
            assert sheet.basic_filter is not None, spec.name
            grid = sheet.basic_filter["range"]
            assert (grid["startRowIndex"], grid["startColumnIndex"]) == (0, 0)
            assert grid["endColumnIndex"] == len(header)
            assert grid["endRowIndex"] == sheet.row_count
        else:
            assert sheet.basic_filter is None, spec.name
        formulas = [
            rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
            for rule in sheet.conditional_formats
        ]
        assert len(formulas) == len(layout.highlights), spec.name
        for highlight, formula in zip(layout.highlights, formulas, strict=True):
            letter = column_letter(positions[highlight.column])
            assert RULE_TAG in formula and f"${letter}2" in formula
        protected: set[int] = set()
        for item in sheet.protected_ranges:
            assert item["warningOnly"] is True
            assert item["description"].startswith(PROTECTION_TAG)
            grid = item["range"]
            protected |= set(range(grid["startColumnIndex"], grid["endColumnIndex"]))
        tool = {positions[c.name] for c in spec.columns if not c.lead}
        assert protected == (tool if layout.protect_tool_columns else set()), spec.name
        if layout.chart is not None:
            [chart] = sheet.charts
            assert chart["chartId"] == layout.chart.chart_id
            assert chart["spec"]["title"] == layout.chart.title
        else:
            assert sheet.charts == [], spec.name
    submissions = book.sheet("Submissions")
    header = [str(v) for v in submissions.values()[0]]
    review = column_letter(header.index("review_status"))
    validations = submissions.validations()
    assert set(validations) == {
        f"{review}{r}" for r in range(2, submissions.row_count + 1)
    }
    rule = validations[f"{review}2"]
    assert rule["condition"]["type"] == "ONE_OF_LIST"
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "accepted",
        "rejected",
        "rewrite",
    ]
    assert (rule["strict"], rule["showCustomUi"]) == (False, True)
    state = book.sheet(STATE_TAB)
    assert state.hidden
    assert [p["warningOnly"] for p in state.protected_ranges] == [True]
    assert all(book.sheet(s.name).formula_cells() == {} for s in TABS)


def test_a_layout_applied_again_adds_nothing_twice_and_keeps_the_leads_own(
    fake_sheets: FakeSheets,
    pilot_build: BuildResult,
    record: BuildRecord,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "submissions"
    write_submission(folder, make_submission(record, "ab-001", "r01", submitted=AT))
    backend = FakeSheetsBackend(fake_sheets)
    sync(folder, pilot_build.out, backend.tracker(), now=NOW)
    book = fake_sheets.spreadsheet(backend.key)
    sheet_id = book.sheet("Submissions").sheet_id
    lead_rule = {
        "ranges": [{"sheetId": sheet_id, "startColumnIndex": 0, "endColumnIndex": 1}],
        "booleanRule": {
            "condition": {
                "type": "TEXT_CONTAINS",
                "values": [{"userEnteredValue": "x"}],
            },
            "format": {"textFormat": {"bold": True}},
        },
    }
    criteria = [{"columnIndex": 2, "filterCriteria": {"hiddenValues": ["caption"]}}]
    backend.lead.http_client.batch_update(
        backend.key,
        {
            "requests": [
                {"addConditionalFormatRule": {"rule": lead_rule, "index": 0}},
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": {
                                "sheetId": sheet_id,
                                "startRowIndex": 0,
                                "endRowIndex": 1,
                            },
                            "description": "header row",
                            "warningOnly": True,
                        }
                    }
                },
                {
                    "setBasicFilter": {
                        "filter": {
                            "range": {
                                "sheetId": sheet_id,
                                "startColumnIndex": 0,
                                "endColumnIndex": 3,
                            },
                            "filterSpecs": criteria,
                        }
                    }
                },
            ]
        },
    )
    before = _objects(fake_sheets, backend.key)

    # A lead's reorder changes every column position: the layout is redone.
    backend.reorder("Submissions", list(reversed(backend.header("Submissions"))))
    write_submission(folder, make_submission(record, "ab-002", "r01", submitted=AT))
    with fake_sheets.counting() as calls:
        sync(folder, pilot_build.out, backend.tracker(), now=NOW)
    assert kinds(calls)["batchUpdate"] == 1
    # Without the state tab every stamp is lost: every tab is laid out again.
    state_id = fake_sheets.spreadsheet(backend.key).sheet(STATE_TAB).sheet_id
    backend.lead.http_client.batch_update(
        backend.key, {"requests": [{"deleteSheet": {"sheetId": state_id}}]}
    )
    write_submission(folder, make_submission(record, "ab-003", "r02", submitted=AT))
    sync(folder, pilot_build.out, backend.tracker(), now=NOW)

    assert _objects(fake_sheets, backend.key) == before
    submissions = fake_sheets.spreadsheet(backend.key).sheet("Submissions")
    assert lead_rule["booleanRule"] in [
        r["booleanRule"] for r in submissions.conditional_formats
    ]
    assert "header row" in [p["description"] for p in submissions.protected_ranges]
    assert submissions.basic_filter is not None
    assert submissions.basic_filter["filterSpecs"] == criteria
    assert submissions.basic_filter["range"]["endColumnIndex"] == len(
        backend.header("Submissions")
    )
    assert len(backend.rows("Submissions")) == 3


def _objects(fake: FakeSheets, key: str) -> dict[str, tuple[int, int, int]]:
    """Per tab: conditional formats, protected ranges, charts."""
    book = fake.spreadsheet(key)
    return {
        s.title: (len(s.conditional_formats), len(s.protected_ranges), len(s.charts))
        for s in book.sheets
    }


def test_a_tab_whose_grid_is_too_small_is_grown_and_laid_out_again(
    fake_sheets: FakeSheets, many_build: BuildResult, tmp_path: Path
) -> None:
    record = load_record(many_build.out)
    folder = tmp_path / "submissions"
    submit_all(folder, record, record.planned()[:20])
    key = fake_sheets.create(
        "Small", ["Sheet1", {"title": "Submissions", "rows": 5, "cols": 3}]
    )

    sync(folder, many_build.out, sheets_tracker(fake_sheets, key), now=NOW)

    sheet = fake_sheets.spreadsheet(key).sheet("Submissions")
    assert len(sheet.values()) == 21
    assert sheet.row_count > 21 and sheet.col_count == len(sheet.values()[0])
    assert sheet.basic_filter is not None
    assert sheet.basic_filter["range"]["endRowIndex"] == sheet.row_count
