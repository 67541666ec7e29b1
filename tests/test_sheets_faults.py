"""Faults during a sync to Google Sheets: retried where safe, converging where not.

Every test checks the end state the way a lead would see it: each row once,
nothing missing, no rule, protected range or chart added twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from builder.build import BuildResult, build
from builder.errors import EarmarkError
from builder.record import load_record
from tests.fakesheets import FakeSheets
from tests.sheets_support import kinds, many_tasks_project, sheets_tracker, submit_all
from tests.sync_support import BUILT_AT, NOW
from tracker.sheets_state import STATE_TAB, SheetState
from tracker.sync import SyncReport, sync

pytest_plugins = ["tests.fakesheets.fixtures"]

VALUES_WRITE = r"/values:batchUpdate$"
STRUCTURE = r"/spreadsheets/[^/:]+:batchUpdate$"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """40 tasks, 3 raters, 2 per task: 80 planned submissions."""
    root = tmp_path_factory.mktemp("faults")
    return build(
        many_tasks_project(root / "project", 40),
        root / "out",
        progress=False,
        built_at=BUILT_AT,
    )


@pytest.fixture
def folder(tmp_path: Path, built: BuildResult) -> Path:
    record = load_record(built.out)
    path = tmp_path / "submissions"
    submit_all(path, record, record.planned()[:60])
    return path


def run(
    fake: FakeSheets, key: str, folder: Path, built: BuildResult, **options: Any
) -> SyncReport:
    tracker = sheets_tracker(fake, key, **options)
    return sync(folder, built.out, tracker, now=NOW)


def assert_complete(fake: FakeSheets, key: str, submissions: int = 60) -> None:
    """Every row once, every tool cell filled, the lease free."""
    book = fake.spreadsheet(key)
    rows = book.sheet("Submissions").values()
    keys = [(r[0], r[1]) for r in rows[1:]]
    assert len(keys) == len(set(keys)) == submissions
    sha = rows[0].index("sha256")
    assert all(len(r) > sha and len(str(r[sha])) == 64 for r in rows[1:])
    tasks = book.sheet("Tasks").values()
    assert len(tasks) - 1 == len({(r[0], r[1]) for r in tasks[1:]}) == 80
    assert SheetState.parse(book.sheet(STATE_TAB).values()).lease.owner == ""


def objects(fake: FakeSheets, key: str) -> dict[str, tuple[int, int, int]]:
    book = fake.spreadsheet(key)
    return {
        s.title: (len(s.conditional_formats), len(s.protected_ranges), len(s.charts))
        for s in book.sheets
    }


def test_quota_errors_on_every_kind_of_call_are_waited_out(
    fake_sheets: FakeSheets, folder: Path, built: BuildResult
) -> None:
    key = fake_sheets.create("Quota")
    for method, path in (
        ("GET", r"/spreadsheets/[^/:]+$"),
        ("POST", STRUCTURE),
        ("GET", r"/values/"),
        ("POST", VALUES_WRITE),
    ):
        fake_sheets.faults.fail_next(2, status=429, method=method, path=path)
    waits: list[float] = []

    run(fake_sheets, key, folder, built, backoff=waits)

    assert_complete(fake_sheets, key)
    assert waits == [0.75, 1.5] * 4
    assert fake_sheets.faults.pending == 0


def test_lost_reads_and_value_writes_are_sent_again_and_add_nothing(
    fake_sheets: FakeSheets, folder: Path, built: BuildResult
) -> None:
    key = fake_sheets.create("Lost")
    run(fake_sheets, key, folder, built)
    record = load_record(built.out)
    submit_all(folder, record, record.planned()[60:], prefix="late-")
    fake_sheets.faults.fail_next(1, status=503, path=r"/values:batchGet$")
    fake_sheets.faults.drop_next(1, path=r"/values/")
    # The lease write lands but its answer is lost; the value write lands
    # after the client gave up; both are sent again.
    fake_sheets.faults.fail_after_apply_next(1, status=502, path=VALUES_WRITE)
    fake_sheets.faults.timeout_next(1, seconds=30, apply=True, path=VALUES_WRITE)

    report = run(fake_sheets, key, folder, built, timeout=0.5)

    assert report.added >= 20
    assert fake_sheets.faults.pending == 0
    assert_complete(fake_sheets, key, submissions=80)


@pytest.mark.parametrize("fault", ["applied, answer lost", "dropped", "503"])
def test_a_failed_formatting_batch_is_not_resent_and_the_next_sync_converges(
    fake_sheets: FakeSheets, folder: Path, built: BuildResult, fault: str
) -> None:
    key = fake_sheets.create("Layout fault")
    # The first batch makes the state tab; the second is the formatting one.
    if fault == "applied, answer lost":
        fake_sheets.faults.fail_after_apply_next(1, status=500, path=STRUCTURE, after=1)
    elif fault == "dropped":
        fake_sheets.faults.drop_next(1, path=STRUCTURE, after=1)
    else:
        fake_sheets.faults.fail_next(1, status=503, path=STRUCTURE, after=1)

    with fake_sheets.counting() as calls, pytest.raises(EarmarkError) as failed:
        run(fake_sheets, key, folder, built)

    assert "update the tabs and layout of" in str(failed.value)
    assert "run sync again" in str(failed.value)
    assert kinds(calls)["batchUpdate"] == 2  # sent once, never retried
    assert kinds(calls)["values.batchUpdate"] == 1  # only freeing the lease
    state = SheetState.parse(fake_sheets.spreadsheet(key).sheet(STATE_TAB).values())
    assert state.lease.owner == ""

    with fake_sheets.counting() as calls:
        run(fake_sheets, key, folder, built)

    assert kinds(calls)["batchUpdate"] == 1
    assert_complete(fake_sheets, key)
    clean = fake_sheets.create("Clean")
    run(fake_sheets, clean, folder, built)
    assert objects(fake_sheets, key) == objects(fake_sheets, clean)


def test_a_write_interrupted_between_requests_is_finished_by_the_next_sync(
    fake_sheets: FakeSheets, folder: Path, built: BuildResult
) -> None:
    key = fake_sheets.create("Interrupted")
    # The second of several value requests fails on every try.
    fake_sheets.faults.fail_next(5, status=503, path=VALUES_WRITE, after=1)

    with pytest.raises(EarmarkError, match=r"write values \(2 of \d+\)"):
        run(fake_sheets, key, folder, built, max_request_bytes=30_000)

    rows = fake_sheets.spreadsheet(key).sheet("Submissions").values()
    assert 1 < len(rows) < 61  # some rows written, whole: no half rows
    run(fake_sheets, key, folder, built, max_request_bytes=30_000)
    assert_complete(fake_sheets, key)


def test_a_persistent_quota_error_stops_the_sync_with_the_reason(
    fake_sheets: FakeSheets, folder: Path, built: BuildResult
) -> None:
    key = fake_sheets.create("No quota")
    fake_sheets.faults.fail_next(100, status=429)
    waits: list[float] = []

    with pytest.raises(EarmarkError) as failed:
        run(fake_sheets, key, folder, built, backoff=waits)

    assert str(failed.value).startswith(
        f"Google Sheets refused to read the tabs of "
        f"https://docs.google.com/spreadsheets/d/{key}: [429] Quota exceeded"
    )
    assert len(waits) == 4 and max(waits) <= 32
    assert fake_sheets.count_calls() == 5
