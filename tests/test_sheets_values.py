"""Values to and from Google Sheets: RAW cells, ranges, request bodies, state tab."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from builder.errors import EarmarkError
from tracker.sheets import (
    MAX_CELL_CHARS,
    json_cell,
    pack,
    sheet_key,
    to_table,
    value_ranges,
)
from tracker.sheets_state import Lease, SheetState
from tracker.tables import REJECTED, SUBMISSIONS

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"


def test_a_sheet_is_named_by_key_or_by_url() -> None:
    assert sheet_key(KEY) == KEY
    assert (
        sheet_key(f" https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=7 ") == KEY
    )
    with pytest.raises(EarmarkError, match="is not a Google Sheets URL"):
        sheet_key("https://example.invalid/sheet")
    with pytest.raises(EarmarkError, match="neither a Google Sheets key nor a URL"):
        sheet_key("my tracker")


def test_cells_are_sent_as_raw_json_values(caplog: pytest.LogCaptureFixture) -> None:
    assert json_cell(None) == ""  # a clear, never null (null leaves the cell)
    assert json_cell("007") == "007"
    assert json_cell('=HYPERLINK("x")') == '=HYPERLINK("x")'
    assert json_cell(3) == 3
    assert json_cell(True) is True
    assert json_cell(0.95) == 0.95
    india = timezone(timedelta(hours=5, minutes=30))
    assert json_cell(datetime(2026, 3, 1, 10, 0, tzinfo=india)) == (
        "2026-03-01T04:30:00Z"
    )
    assert json_cell(datetime(2026, 3, 1, 4, 30)) == "2026-03-01T04:30:00Z"
    with caplog.at_level(logging.WARNING):
        assert json_cell(float("nan"), "Submissions!U2") == ""
        assert json_cell(float("inf"), "Submissions!U3") == ""
    assert [r.getMessage() for r in caplog.records] == [
        "Submissions!U2: nan cannot be stored in Google Sheets; left empty",
        "Submissions!U3: inf cannot be stored in Google Sheets; left empty",
    ]
    long = json_cell("x" * 60_000)
    assert isinstance(long, str)
    assert len(long) <= MAX_CELL_CHARS
    assert long.endswith("[cut: 60,000 characters in full]")
    json.dumps([json_cell(float("nan"))], allow_nan=False)  # never NaN on the wire


def test_read_values_become_a_padded_table_with_dates_turned_back() -> None:
    values = [
        ["task_id", " rater_id ", "plays", "submitted_at_utc", "", "lead"],
        ["007", "r1", 3, 46082.5],
        [],
        ["t2", "r2", "", "2026-03-01T04:30:00Z", "", "mine"],
    ]

    table = to_table(values, SUBMISSIONS)

    assert table.header == [
        "task_id",
        "rater_id",
        "plays",
        "submitted_at_utc",
        "",
        "lead",
    ]
    assert table.rows[0] == ["007", "r1", 3, datetime(2026, 3, 1, 12, 0), None, None]
    assert table.rows[1] == [None] * 6
    assert table.rows[2][2:4] == [None, "2026-03-01T04:30:00Z"]
    assert to_table([], SUBMISSIONS).header == []
    # Numbers stay numbers where the spec expects no time.
    other = to_table([["file", "sha256", "reason"], ["a", 46082, 1]], REJECTED)
    assert other.rows == [["a", 46082, 1]]


def test_adjacent_rows_share_one_range_and_gaps_are_left_as_they_are() -> None:
    cells = {
        (0, 3): "new_col",
        (1, 0): "t1",
        (1, 1): "r1",
        (2, 1): "r2",
        (2, 3): 5,
        (7, 2): "",
    }

    ranges = value_ranges("Burn-down", cells, 2_000_000)

    assert ranges == [
        {
            "range": "'Burn-down'!A1:D3",
            "majorDimension": "ROWS",
            "values": [
                [None, None, None, "new_col"],
                ["t1", "r1", None, None],
                [None, "r2", None, 5],
            ],
        },
        {"range": "'Burn-down'!C8:C8", "majorDimension": "ROWS", "values": [[""]]},
    ]


def test_big_ranges_are_cut_between_rows_and_packed_under_the_limit() -> None:
    cells = {(r, c): f"{r}-{c}-" + "x" * 200 for r in range(1, 301) for c in range(5)}
    limit = 50_000

    ranges = value_ranges("Submissions", cells, limit)
    bodies = pack(ranges, limit)

    assert len(bodies) > 1
    for body in bodies:
        assert len(json.dumps(body)) <= limit
        assert body["valueInputOption"] == "RAW"
    rows = [row for body in bodies for vr in body["data"] for row in vr["values"]]
    assert len(rows) == 300
    assert all(
        len(row) == 5 and row[0].startswith(f"{i}-0-") for i, row in enumerate(rows, 1)
    )
    assert pack([], limit) == []


def test_the_state_tab_reads_back_what_it_wrote() -> None:
    until = datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
    state = SheetState(Lease("ana@laptop pid 7 a1b2c3", until), 4, {"Tasks": "ab12"})

    again = SheetState.parse([list(row) for row in state.rows()])

    assert again.lease == state.lease
    assert (again.generation, again.layouts) == (4, {"Tasks": "ab12"})
    assert state.a1() == "'_earmark_sync'!A1:B5"
    shorter = SheetState(layouts={}, row_count=again.row_count)
    assert shorter.rows()[-1] == ["", ""]  # the old layout row is cleared
    now = until - timedelta(minutes=1)
    assert state.lease.held_by_other("someone else", now)
    assert not state.lease.held_by_other("ana@laptop pid 7 a1b2c3", now)
    assert not state.lease.held_by_other("someone else", until)
    assert not Lease().held_by_other("someone else", now)
    assert SheetState.parse([["generation", "x"], ["lease_expires_utc", "soon"]]) == (
        SheetState(row_count=2)
    )
