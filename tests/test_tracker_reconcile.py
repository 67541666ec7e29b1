"""Reconcile on plain tables: columns by name, rows by key, lead cells untouched."""

from __future__ import annotations

from tracker.cells import same
from tracker.reconcile import (
    encode_key,
    header_problems,
    leave_out_deleted,
    meta_rows,
    reconcile,
    remembered,
    written_keys,
)
from tracker.tables import (
    META,
    REJECTED,
    TASKS,
    Column,
    Table,
    TabSpec,
    column_letter,
)

SPEC = TabSpec(
    "Demo",
    ("task_id", "rater_id"),
    (
        Column("task_id"),
        Column("rater_id"),
        Column("state"),
        Column("plays", "int"),
        Column("review_status", lead=True, choices=("accepted", "rejected")),
    ),
)


def row(task: str, rater: str, state: str, plays: int) -> dict[str, object]:
    return {"task_id": task, "rater_id": rater, "state": state, "plays": plays}


def test_new_tab_gets_every_column_and_row() -> None:
    change = reconcile(SPEC, None, [row("t1", "r1", "pending", 0)])

    assert change.table.header == SPEC.names
    assert change.new_columns == dict(enumerate(SPEC.names))
    assert change.cells == {(0, 0): "t1", (0, 1): "r1", (0, 2): "pending", (0, 3): 0}
    assert (change.added, change.updated, change.unchanged) == (1, 0, 0)
    assert change.changed


def test_rows_found_by_key_and_columns_by_name_after_a_lead_reorders() -> None:
    existing = Table(
        ["lead_col", "review_status", "state", "rater_id", "task_id", "plays"],
        [
            ["mine", "accepted", "pending", "r1", "t1", 0],
            ["x", None, "submitted", "r2", "t1", 3],
        ],
    )
    wanted = [row("t1", "r1", "submitted", 2), row("t1", "r2", "submitted", 3.0)]

    change = reconcile(SPEC, existing, wanted)

    assert change.cells == {(0, 2): "submitted", (0, 5): 2}
    assert (change.added, change.updated, change.unchanged) == (0, 1, 1)
    assert change.table.rows[0][:2] == ["mine", "accepted"]
    assert not change.new_columns


def test_lead_columns_are_created_but_never_written() -> None:
    existing = Table(["task_id", "rater_id", "state", "plays"], [["t1", "r1", "x", 1]])
    wanted = [{**row("t1", "r1", "x", 1), "review_status": "rejected"}]

    change = reconcile(SPEC, existing, wanted)

    assert change.new_columns == {4: "review_status"}
    assert change.cells == {}
    assert change.table.rows[0] == ["t1", "r1", "x", 1, None]


def test_columns_missing_from_a_row_are_left_alone() -> None:
    existing = Table(SPEC.names, [["t1", "r1", "x", 1, None]])

    change = reconcile(
        SPEC, existing, [{"task_id": "t1", "rater_id": "r1", "plays": 4}]
    )

    assert change.cells == {(0, 3): 4}


def test_f19_duplicate_and_blank_headers_are_named_and_never_written() -> None:
    existing = Table(
        ["task_id", "status", "notes", "notes", "", ""],
        [["t001", "done"]],
    )
    wanted = [
        {
            "task_id": "t001",
            "rater_id": "r1",
            "rater_name": "Ana",
            "kind": "ab",
            "batch": None,
            "state": "pending",
            "submitted_at_utc": None,
        }
    ]

    change = reconcile(TASKS, existing, wanted)

    assert change.problems == [
        "Tasks: column E has no header name; Earmark leaves it alone",
        "Tasks: column F has no header name; Earmark leaves it alone",
        "Tasks: header 'notes' appears 2 times (columns C, D); Earmark writes to "
        "none of them",
    ]
    assert all(len(r) == len(change.table.header) for r in change.table.rows)
    assert change.table.header[6:] == [
        "rater_id",
        "rater_name",
        "kind",
        "batch",
        "state",
        "submitted_at_utc",
    ]
    written_columns = {column for _, column in change.cells}
    assert written_columns.isdisjoint({1, 2, 3, 4, 5})
    # t001 has no rater_id, so it is not the wanted (t001, r1) row: a new row.
    assert change.added == 1
    assert change.table.rows[0][:2] == ["t001", "done"]


def test_an_ambiguous_tool_column_is_skipped_but_the_rest_is_written() -> None:
    existing = Table(
        ["task_id", "rater_id", "state", "state", "plays"],
        [["t1", "r1", "a", "b", 0]],
    )

    change = reconcile(SPEC, existing, [row("t1", "r1", "new", 5)])

    assert change.cells == {(0, 4): 5}
    assert "header 'state' appears 2 times (columns C, D)" in change.problems[0]


def test_an_ambiguous_key_column_leaves_the_tab_unchanged() -> None:
    existing = Table(["task_id", "rater_id", "task_id"], [["t1", "r1", "t9"]])

    change = reconcile(SPEC, existing, [row("t1", "r1", "new", 5)])

    assert change.skipped
    assert not change.changed
    assert change.cells == {}
    assert any("key column 'task_id' is ambiguous" in p for p in change.problems)


def test_a_repeated_key_updates_only_its_first_row() -> None:
    existing = Table(
        SPEC.names,
        [["t1", "r1", "a", 0, None], ["t1", "r1", "b", 0, None]],
    )

    change = reconcile(SPEC, existing, [row("t1", "r1", "c", 0)])

    assert change.cells == {(0, 2): "c"}
    assert change.problems == [
        "Demo: row 3 repeats the key t1 / r1 of row 2; only that one is updated"
    ]


def test_short_rows_are_padded_and_empty_rows_ignored() -> None:
    existing = Table(SPEC.names, [["t1"], [], [None, None]])

    change = reconcile(SPEC, existing, [row("t2", "r1", "x", 1)])

    assert [len(r) for r in change.table.rows] == [5, 5, 5, 5]
    assert change.added == 1
    assert change.first_new_row == 3
    assert (3, 0) in change.cells


def test_numeric_key_cells_match_their_text() -> None:
    existing = Table(SPEC.names, [[7.0, "r1", "x", 1, None]])

    change = reconcile(SPEC, existing, [row("7", "r1", "x", 1)])

    # Same row (not a new one); the key cell is rewritten as the text it should be.
    assert (change.added, change.updated) == (0, 1)
    assert change.cells == {(0, 0): "7"}


def test_remembered_reads_kept_timestamps_in_any_shape() -> None:
    table = Table(
        ["file", "sha256", "first_seen_at_utc"],
        [
            ["a.json", "aa", "2026-03-01T04:30:00Z"],
            ["b.json", "bb", 46082.5],  # a serial date, as Sheets may return it
            ["c.json", "cc", None],
        ],
    )

    memory = remembered(REJECTED, table)

    assert memory[("a.json", "aa")] == {"first_seen_at_utc": "2026-03-01T04:30:00Z"}
    assert memory[("b.json", "bb")] == {"first_seen_at_utc": "2026-03-01T12:00:00Z"}
    assert memory[("c.json", "cc")] == {}


def test_header_problems_names_columns_past_z() -> None:
    header = ["x"] * 2 + [""] * 26
    assert header_problems("T", header)[-2] == (
        "T: column AB has no header name; Earmark leaves it alone"
    )
    assert column_letter(0) == "A"
    assert column_letter(27) == "AB"
    assert column_letter(702) == "AAA"


def test_same_treats_what_a_workbook_stores_alike() -> None:
    assert same(3, 3.0)
    assert same("", None)
    assert not same(True, 1)
    assert not same("3", 3)
    assert not same(None, 0)


# ---- derived tabs and the meta tab ---------------------------------------------------

DERIVED = TabSpec(
    "View",
    ("day",),
    (Column("day"), Column("count", "int"), Column("note", lead=True)),
    derived=True,
)


def test_a_derived_tab_blanks_rows_it_no_longer_produces_but_keeps_keys() -> None:
    existing = Table(
        ["day", "count", "note", "mine"],
        [["d1", 3, "ok", "x"], ["d2", 5, "check", "y"]],
    )

    change = reconcile(DERIVED, existing, [{"day": "d1", "count": 4}])

    assert change.cells == {(0, 1): 4, (1, 1): None}
    assert change.table.rows[1] == ["d2", None, "check", "y"]
    assert (change.added, change.updated, change.unchanged) == (0, 2, 0)


def test_a_tracked_tab_keeps_stale_rows_as_they_are() -> None:
    existing = Table(["task_id", "rater_id", "state"], [["t1", "r1", "pending"]])

    change = reconcile(SPEC, existing, [])

    assert change.cells == {}


def test_rows_written_before_and_gone_now_are_left_out_unless_restored() -> None:
    existing = Table(["task_id", "rater_id", "state"], [["t1", "r1", "pending"]])
    wanted = [row("t1", "r1", "done", 1), row("t2", "r1", "done", 1)]
    wanted.append(row("t3", "r1", "new", 0))
    written = {("t1", "r1"), ("t2", "r1")}

    kept, deleted = leave_out_deleted(SPEC, existing, wanted, written)
    restored, again = leave_out_deleted(SPEC, existing, wanted, written, restore=True)

    assert [r["task_id"] for r in kept] == ["t1", "t3"]
    assert deleted == again == [("t2", "r1")]
    assert restored == wanted
    # A tab that is missing altogether is not judged.
    assert leave_out_deleted(SPEC, None, wanted, written) == (wanted, [])


def test_the_meta_tab_lists_every_key_and_keeps_when_it_was_first_written() -> None:
    meta = Table(
        ["tab", "key", "first_written_at_utc"],
        [
            ["Demo", '["t9", "r1"]', "2026-01-01T00:00:00Z"],
            ["Demo", "not json", "2026-01-01T00:00:00Z"],
            ["Other", '["x"]', "2026-01-02T00:00:00Z"],
        ],
    )
    assert written_keys(meta) == {"Demo": {("t9", "r1")}, "Other": {("x",)}}
    change = reconcile(SPEC, None, [row("t1", "r1", "new", 0)])

    rows = meta_rows([change], meta, "2026-03-02T12:00:00Z")

    assert rows == [
        {
            "tab": "Demo",
            "key": encode_key(("t1", "r1")),
            "first_written_at_utc": ("2026-03-02T12:00:00Z"),
        },
        {
            "tab": "Demo",
            "key": '["t9", "r1"]',
            "first_written_at_utc": ("2026-01-01T00:00:00Z"),
        },
        {
            "tab": "Demo",
            "key": "not json",
            "first_written_at_utc": ("2026-01-01T00:00:00Z"),
        },
    ]
    assert reconcile(META, meta, rows).added == 1
