"""Real gspread 6.2.1 over real HTTP against the fake: round trips and call counts."""

from __future__ import annotations

import gspread
import pytest
from gspread.utils import ValidationConditionType

from tests.fakesheets import OWNER, PAYLOAD_LIMIT, FakeSheets

pytest_plugins = ["tests.fakesheets.fixtures"]

TRICKY_TEXT = ['=HYPERLINK("https://example.org","x")', "007", "+1 great", "1e5"]


@pytest.fixture
def book(fake_sheets: FakeSheets) -> tuple[FakeSheets, str, gspread.Spreadsheet]:
    key = fake_sheets.create("Earmark tracker", ["Tasks", "Raters"])
    return fake_sheets, key, fake_sheets.client().open_by_key(key)


def test_http_calls_per_gspread_method_match_facts(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Counts", ["Tasks", "Raters"])
    gc = fake_sheets.client()
    with fake_sheets.counting() as calls:
        gc.open_by_key(key)
    assert len(calls) == 1, calls
    sh = gc.open_by_key(key)
    ws = sh.worksheet("Tasks")
    steps = {
        "worksheet(title)": lambda: sh.worksheet("Tasks"),
        "worksheet(title) again": lambda: sh.worksheet("Tasks"),
        "worksheets()": lambda: sh.worksheets(),
        "get_all_values": lambda: ws.get_all_values(),
        "batch_get": lambda: ws.batch_get(["A1:B2", "C3"]),
        "update": lambda: ws.update([["a", "b"]], "A1"),
        "Worksheet.batch_update": lambda: ws.batch_update(
            [{"range": "A1", "values": [["x"]]}, {"range": "C1", "values": [["y"]]}]
        ),
        "Spreadsheet.values_batch_update": lambda: sh.values_batch_update(
            {
                "valueInputOption": "RAW",
                "data": [{"range": "Raters!A1", "values": [[1]]}],
            }
        ),
        "Spreadsheet.batch_update (3 requests)": lambda: sh.batch_update(
            {
                "requests": [
                    _freeze(ws.id, 1),
                    {"setBasicFilter": {"filter": {"range": {"sheetId": ws.id}}}},
                    {
                        "autoResizeDimensions": {
                            "dimensions": {"sheetId": ws.id, "dimension": "COLUMNS"}
                        }
                    },
                ]
            }
        ),
    }
    for label, action in steps.items():
        with fake_sheets.counting() as calls:
            action()
        assert len(calls) == 1, f"{label}: {calls}"


def _freeze(sheet_id: int, rows: int) -> dict[str, object]:
    return {
        "updateSheetProperties": {
            "properties": {
                "sheetId": sheet_id,
                "gridProperties": {"frozenRowCount": rows},
            },
            "fields": "gridProperties.frozenRowCount",
        }
    }


def test_open_and_list_worksheets(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    _, key, sh = book
    assert sh.id == key
    assert sh.title == "Earmark tracker"
    tabs = sh.worksheets()
    assert [(w.title, w.index, w.row_count, w.col_count) for w in tabs] == [
        ("Tasks", 0, 1000, 26),
        ("Raters", 1, 1000, 26),
    ]
    assert tabs[0].id == 0 and tabs[1].id > 0


def test_raw_update_keeps_text_exactly(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Tasks")
    reply = ws.update([TRICKY_TEXT], "A1")
    assert reply["updatedRange"] == "Tasks!A1:D1"
    assert ws.get_all_values() == [TRICKY_TEXT]
    stored = fake.spreadsheet(key).sheet("Tasks")
    assert stored.values() == [TRICKY_TEXT]
    assert stored.formula_cells() == {}


def test_user_entered_parses_and_flags_formulas(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Tasks")
    ws.update([[*TRICKY_TEXT, "=1+2", "'007"]], "A1", raw=False)
    stored = fake.spreadsheet(key).sheet("Tasks")
    assert stored.formula_cells() == {"A1": TRICKY_TEXT[0], "E1": "=1+2"}
    assert stored.values() == [[TRICKY_TEXT[0], 7, "+1 great", 100000.0, "=1+2", "007"]]
    assert ws.get_all_values() == [["x", "7", "+1 great", "1.00E+05", "3", "007"]]
    formulas = ws.get("A1:E1", value_render_option="FORMULA")
    assert formulas[0][0] == TRICKY_TEXT[0] and formulas[0][4] == "=1+2"


def test_get_all_values_drops_trailing_empties_so_callers_pad(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    _, _, sh = book
    ws = sh.worksheet("Tasks")
    ws.update(
        [["task", "rater", "status", "note"], ["t1", "r1", "", ""], ["", "", "", ""]]
    )
    http = sh.client.values_get(sh.id, "Tasks")
    assert http["range"] == "Tasks!A1:Z1000"
    assert http["values"] == [["task", "rater", "status", "note"], ["t1", "r1"]]
    rows = ws.get_all_values()
    assert rows == [["task", "rater", "status", "note"], ["t1", "r1", "", ""]]
    empty = sh.client.values_get(sh.id, "Raters!A1:C3")
    assert empty == {"range": "Raters!A1:C3", "majorDimension": "ROWS"}


def test_null_leaves_cell_and_empty_string_clears(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Tasks")
    ws.update([["a", "b", "c"]], "A1")
    reply = ws.update([[None, "", "C"]], "A1")
    assert reply["updatedCells"] == 2
    assert fake.spreadsheet(key).sheet("Tasks").values() == [["a", "", "C"]]


def test_batch_get_and_batch_update(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    _, _, sh = book
    ws = sh.worksheet("Raters")
    reply = ws.batch_update(
        [
            {"range": "A1:B1", "values": [["id", "name"]]},
            {"range": "A3:B3", "values": [["r2", "Bo"]]},
        ]
    )
    assert reply["totalUpdatedCells"] == 4 and reply["totalUpdatedRows"] == 2
    got = ws.batch_get(["A1:B3", "B3", "D1:D2"])
    assert [list(r) for r in got] == [[["id", "name"], [], ["r2", "Bo"]], [["Bo"]], []]
    assert got[2].range == "Raters!D1:D2"


def test_formats_freeze_filter_protection_validation_stored(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Tasks")
    ws.batch_format(
        [
            {"range": "A1:C1", "format": {"textFormat": {"bold": True}}},
            {"range": "A2:A3", "format": {"backgroundColor": {"red": 1, "green": 0.5}}},
        ]
    )
    ws.freeze(rows=1)
    ws.set_basic_filter("A1:C10")
    ws.add_protected_range("A1:C1", warning_only=True, description="header")
    ws.add_validation(
        "C2:C3", ValidationConditionType.one_of_list, ["todo", "done"], strict=True
    )
    stored = fake.spreadsheet(key).sheet("Tasks")
    assert stored.formats()["B1"] == {"textFormat": {"bold": True}}
    assert stored.formats()["A3"]["backgroundColorStyle"] == {
        "rgbColor": {"red": 1, "green": 0.5}
    }
    assert stored.frozen_rows == 1
    assert stored.basic_filter is not None
    assert stored.basic_filter["range"]["endRowIndex"] == 10
    [protection] = stored.protected_ranges
    assert protection["warningOnly"] is True and protection["description"] == "header"
    rules = stored.validations()
    assert sorted(rules) == ["C2", "C3"]
    assert rules["C2"]["condition"] == {
        "type": "ONE_OF_LIST",
        "values": [{"userEnteredValue": "todo"}, {"userEnteredValue": "done"}],
    }
    # What gspread reads back has the real API's shape.
    meta = sh.fetch_sheet_metadata()["sheets"][0]
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == 1
    assert meta["basicFilter"]["range"] == {
        "startRowIndex": 0,
        "endRowIndex": 10,
        "startColumnIndex": 0,
        "endColumnIndex": 3,
    }
    listed = sh.list_protected_ranges(ws.id)
    assert listed[0]["editors"] == {"users": [OWNER]}
    assert ws.frozen_row_count == 1


def test_charts_and_conditional_formats_keep_ids(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Tasks")
    rule = {
        "ranges": [
            {
                "sheetId": ws.id,
                "startRowIndex": 1,
                "startColumnIndex": 2,
                "endColumnIndex": 3,
            }
        ],
        "booleanRule": {
            "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "late"}]},
            "format": {"backgroundColor": {"red": 1}},
        },
    }
    chart = {
        "chartId": 4242,
        "spec": {"title": "Done per rater", "basicChart": {"chartType": "COLUMN"}},
        "position": {
            "overlayPosition": {"anchorCell": {"sheetId": ws.id, "rowIndex": 2}}
        },
    }
    reply = sh.batch_update(
        {
            "requests": [
                {"addConditionalFormatRule": {"rule": rule}},
                {"addChart": {"chart": chart}},
            ]
        }
    )
    assert reply["replies"][0] == {}
    assert reply["replies"][1]["addChart"]["chart"]["chartId"] == 4242
    stored = fake.spreadsheet(key).sheet("Tasks")
    assert [c["chartId"] for c in stored.charts] == [4242]
    assert (
        stored.conditional_formats[0]["booleanRule"]["condition"]["type"] == "TEXT_EQ"
    )
    # A second chart with the same id fails the whole batch: the rule is not added.
    with pytest.raises(gspread.exceptions.APIError) as failure:
        sh.batch_update(
            {
                "requests": [
                    {"addConditionalFormatRule": {"rule": rule}},
                    {"addChart": {"chart": chart}},
                ]
            }
        )
    assert failure.value.code == 400
    assert "requests[1].addChart" in str(failure.value)
    after = fake.spreadsheet(key).sheet("Tasks")
    assert len(after.conditional_formats) == 1 and len(after.charts) == 1
    sh.batch_update({"requests": [{"deleteEmbeddedObject": {"objectId": 4242}}]})
    assert fake.spreadsheet(key).sheet("Tasks").charts == []


def test_batch_update_is_all_or_nothing(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, key, sh = book
    sh.sheet1.update([["kept"]], "A1")
    bold = {"userEnteredFormat": {"textFormat": {"bold": True}}}
    with pytest.raises(gspread.exceptions.APIError) as failure:
        sh.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Summary"}}},
                    {
                        "repeatCell": {
                            "range": {"sheetId": 0, "endRowIndex": 1},
                            "cell": bold,
                            "fields": "userEnteredFormat.textFormat.bold",
                        }
                    },
                    {
                        "updateCells": {
                            "start": {"sheetId": 0},
                            "rows": [
                                {"values": [{"userEnteredValue": {"stringValue": "x"}}]}
                            ],
                            "fields": "userEnteredValue",
                        }
                    },
                    {"deleteSheet": {"sheetId": 987654}},
                ]
            }
        )
    assert failure.value.code == 400
    assert failure.value.error["status"] == "INVALID_ARGUMENT"
    assert "No grid with id: 987654" in failure.value.error["message"]
    untouched = fake.spreadsheet(key)
    assert [s.title for s in untouched.sheets] == ["Tasks", "Raters"]
    assert untouched.sheet("Tasks").formats() == {}
    assert untouched.sheet("Tasks").values() == [["kept"]]
    added = sh.add_worksheet("Summary", rows=5, cols=3)
    assert (added.title, added.row_count, added.index) == ("Summary", 5, 2)


def test_errors_have_google_shape(
    book: tuple[FakeSheets, str, gspread.Spreadsheet],
) -> None:
    fake, _, sh = book
    ws = sh.worksheet("Tasks")
    with pytest.raises(gspread.exceptions.APIError) as unknown_sheet:
        sh.values_get("Nope!A1:B2")
    assert unknown_sheet.value.code == 400
    assert unknown_sheet.value.error["message"] == "Unable to parse range: Nope!A1:B2"
    with pytest.raises(gspread.exceptions.APIError) as too_long:
        ws.update([["x" * 50_001]], "A1")
    assert too_long.value.code == 400
    assert "50000 characters in a single cell" in too_long.value.error["message"]
    with pytest.raises(gspread.exceptions.APIError) as off_grid:
        ws.update([["x"]], "A1001")
    assert "exceeds grid limits" in off_grid.value.error["message"]
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        fake.client().open_by_key("no-such-key")


def test_payload_over_ten_mib_is_refused(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Big")
    ws = fake_sheets.client().open_by_key(key).sheet1
    fake_sheets.reset_calls()
    rows = [["y" * 40_000] for _ in range(PAYLOAD_LIMIT // 40_000 + 2)]
    ws.resize(rows=len(rows))
    with pytest.raises(gspread.exceptions.APIError) as failure:
        ws.update(rows, "A1")
    assert failure.value.code == 400
    assert failure.value.error["message"] == (
        f"Request payload size exceeds the limit: {PAYLOAD_LIMIT} bytes."
    )
    assert fake_sheets.calls[-1].bytes_in > PAYLOAD_LIMIT
    assert fake_sheets.spreadsheet(key).sheet("Sheet1").values() == []


def test_append_and_clear(book: tuple[FakeSheets, str, gspread.Spreadsheet]) -> None:
    fake, key, sh = book
    ws = sh.worksheet("Raters")
    ws.append_rows([["id", "name"], ["r1", "Ann"]])
    reply = ws.append_rows([["r2", "Bo"]])
    assert reply["tableRange"] == "Raters!A1:B2"
    assert reply["updates"]["updatedRange"] == "Raters!A3:B3"
    ws.batch_clear(["A2:B2"])
    assert fake.spreadsheet(key).sheet("Raters").values() == [
        ["id", "name"],
        [],
        ["r2", "Bo"],
    ]
    ws.clear()
    assert ws.get_all_values() == [[]]


def test_drive_create_and_open_by_title(fake_sheets: FakeSheets) -> None:
    gc = fake_sheets.client()
    made = gc.create("Pilot tracker")
    assert gc.open("Pilot tracker").id == made.id
    assert fake_sheets.spreadsheet(made.id).sheet("Sheet1").row_count == 1000


def test_other_hosts_are_never_reached(fake_sheets: FakeSheets) -> None:
    import requests

    with pytest.raises(requests.ConnectionError, match="not routed to the fake"):
        fake_sheets.session().get("https://example.org/")
