"""The fake's own rules: A1 parsing, value input and rendering, field masks."""

from __future__ import annotations

import pytest

from tests.fakesheets import FakeSheets, a1, fieldmask
from tests.fakesheets.a1 import Bounds
from tests.fakesheets.cells import Cell, enter_user, render

pytest_plugins = ["tests.fakesheets.fixtures"]


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("B3", Bounds(2, 3, 1, 2, single=True)),
        ("A1:D4", Bounds(0, 4, 0, 4)),
        ("D4:A1", Bounds(0, 4, 0, 4)),
        ("A:C", Bounds(0, None, 0, 3)),
        ("2:3", Bounds(1, 3, 0, None)),
        ("A2:2", Bounds(1, 2, 0, None)),
        ("A5:B", Bounds(4, None, 0, 2)),
        ("$A$1:$B$2", Bounds(0, 2, 0, 2)),
        ("AA10", Bounds(9, 10, 26, 27, single=True)),
    ],
)
def test_a1_cells(text: str, bounds: Bounds) -> None:
    assert a1.parse_cells(text) == bounds


@pytest.mark.parametrize("text", ["Sheet1", "A0", "1:B2", "ABCD1", "", "A1:"])
def test_not_a1(text: str) -> None:
    assert a1.parse_cells(text) is None


@pytest.mark.parametrize(
    ("title", "printed"),
    [
        ("Sheet1", "Sheet1"),
        ("D3", "'D3'"),
        ("My tab", "'My tab'"),
        ("Bob's", "'Bob''s'"),
    ],
)
def test_titles_quoted_like_sheets(title: str, printed: str) -> None:
    assert a1.quote_title(title) == printed
    assert a1.split_sheet(f"{printed}!A1") == (title, "A1")


@pytest.mark.parametrize(
    ("typed", "value", "formatted"),
    [
        ("007", 7, "7"),
        ("1e5", 100000.0, "1.00E+05"),
        ("+1 great", "+1 great", "+1 great"),
        ("50%", 0.5, "50%"),
        ("2,000,000.01", 2000000.01, "2,000,000.01"),
        ("2020-01-01", 43831, "2020-01-01"),
        ("true", True, "TRUE"),
        ("'=not a formula", "=not a formula", "=not a formula"),
        ("=3/2", 1.5, "1.5"),
    ],
)
def test_user_entered_input(typed: str, value: object, formatted: str) -> None:
    cell = Cell()
    enter_user(cell, typed)
    assert cell.value == value
    assert render(cell, "FORMATTED_VALUE", "SERIAL_NUMBER") == formatted


def test_dates_render_by_option() -> None:
    cell = Cell()
    enter_user(cell, "1999-01-02")
    assert render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER") == 36162
    assert render(cell, "UNFORMATTED_VALUE", "FORMATTED_STRING") == "1999-01-02"


def test_field_masks() -> None:
    mask = fieldmask.parse("sheets(properties.title,data/rowData),namedRanges")
    assert mask == {
        "sheets": {"properties": {"title": {}}, "data": {"rowData": {}}},
        "namedRanges": {},
    }
    target = {"gridProperties": {"rowCount": 5, "frozenRowCount": 1}, "title": "x"}
    fieldmask.apply(
        target,
        {"gridProperties": {"rowCount": 9}},
        fieldmask.parse("gridProperties.rowCount,gridProperties.frozenRowCount"),
    )
    assert target == {"gridProperties": {"rowCount": 9}, "title": "x"}
    with pytest.raises(ValueError):
        fieldmask.parse("a(b")


def test_columns_major_dimension_both_ways(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Columns")
    base = f"https://sheets.googleapis.com/v4/spreadsheets/{key}/values"
    http = fake_sheets.session()
    put = http.put(
        f"{base}/Sheet1!A1",
        params={"valueInputOption": "RAW"},
        json={"majorDimension": "COLUMNS", "values": [["a1", "a2"], ["b1"]]},
    )
    assert put.json()["updatedRange"] == "Sheet1!A1:B2"
    rows = http.get(f"{base}/Sheet1!A1:B2").json()["values"]
    cols = http.get(f"{base}/Sheet1!A1:B2", params={"majorDimension": "COLUMNS"})
    assert rows == [["a1", "b1"], ["a2"]]
    assert cols.json()["values"] == [["a1", "a2"], ["b1"]]


def test_fields_and_grid_data_on_get(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Grid", ["Tasks"])
    fake_sheets.seed_values(key, "Tasks!A1", [["task", 3], ["=1+1"]], user_entered=True)
    http = fake_sheets.session()
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{key}"
    only_titles = http.get(url, params={"fields": "sheets.properties.title"}).json()
    assert only_titles == {"sheets": [{"properties": {"title": "Tasks"}}]}
    grid = http.get(
        url,
        params={
            "ranges": "Tasks!A1:B2",
            "fields": "sheets.data.rowData.values(userEnteredValue,formattedValue)",
        },
    ).json()
    assert grid == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {
                                        "userEnteredValue": {"stringValue": "task"},
                                        "formattedValue": "task",
                                    },
                                    {
                                        "userEnteredValue": {"numberValue": 3},
                                        "formattedValue": "3",
                                    },
                                ]
                            },
                            {
                                "values": [
                                    {
                                        "userEnteredValue": {"formulaValue": "=1+1"},
                                        "formattedValue": "2",
                                    }
                                ]
                            },
                        ]
                    }
                ]
            }
        ]
    }


def test_unmodelled_request_is_unimplemented_not_ignored(
    fake_sheets: FakeSheets,
) -> None:
    key = fake_sheets.create("Sort")
    reply = fake_sheets.session().post(
        f"https://sheets.googleapis.com/v4/spreadsheets/{key}:batchUpdate",
        json={"requests": [{"sortRange": {"range": {"sheetId": 0}}}]},
    )
    assert reply.status_code == 501
    assert reply.json()["error"]["status"] == "UNIMPLEMENTED"
    unknown = fake_sheets.session().post(
        f"https://sheets.googleapis.com/v4/spreadsheets/{key}:batchUpdate",
        json={"requests": [{"sortRanges": {}}]},
    )
    assert unknown.status_code == 400
    assert 'Unknown name "sortRanges"' in unknown.json()["error"]["message"]
