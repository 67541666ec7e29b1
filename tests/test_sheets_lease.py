"""Two syncs on one Google Sheet: the lease in the hidden state tab."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest

from builder.build import BuildResult
from builder.errors import EarmarkError
from builder.record import BuildRecord, load_record
from tests.fakesheets import FakeSheets
from tests.sheets_support import AT, Clock, kinds, sheets_tracker
from tests.submission_factory import make_submission, write_submission
from tests.sync_support import NOW
from tracker.sheets import SheetsTracker
from tracker.sheets_state import STATE_TAB, SheetState
from tracker.sync import sync
from tracker.tables import TabChange, Table
from tracker.times import utc_text

pytest_plugins = ["tests.fakesheets.fixtures"]

OTHER = "ops@laptop pid 4242 c0ffee"


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


@pytest.fixture
def folder(tmp_path: Path, record: BuildRecord) -> Path:
    path = tmp_path / "submissions"
    write_submission(path, make_submission(record, "ab-001", "r01", submitted=AT))
    return path


def sheet_with_lease(fake: FakeSheets, owner: str, expires_in: timedelta) -> str:
    """A Sheet whose state tab says ``owner`` holds the lease until NOW + expires_in."""
    key = fake.create(
        "Leased", ["Sheet1", {"title": STATE_TAB, "rows": 200, "cols": 2}]
    )
    fake.seed_values(
        key,
        f"'{STATE_TAB}'!A1:B4",
        [
            ["key", "value"],
            ["lease_owner", owner],
            ["lease_expires_utc", utc_text(NOW + expires_in)],
            ["generation", 3],
        ],
    )
    return key


def state(fake: FakeSheets, key: str) -> SheetState:
    return SheetState.parse(fake.spreadsheet(key).sheet(STATE_TAB).values())


def test_a_live_lease_makes_a_sync_wait_then_stop_without_writing(
    fake_sheets: FakeSheets, pilot_build: BuildResult, folder: Path
) -> None:
    key = sheet_with_lease(fake_sheets, OTHER, timedelta(minutes=9))
    clock = Clock()

    with fake_sheets.counting() as calls, pytest.raises(EarmarkError) as stopped:
        sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key, clock=clock))

    assert str(stopped.value) == (
        f"Another sync is updating https://docs.google.com/spreadsheets/d/{key} "
        f"(lease held by {OTHER} until 2026-03-02T12:09:00Z); nothing was written. "
        "Run sync again once it has finished; a lease left by a sync that was killed "
        "ends by itself at that time."
    )
    assert clock.slept == [5.0] * 6  # polled for 30 s
    assert {c.method for c in calls} == {"GET"}
    assert state(fake_sheets, key).lease.owner == OTHER


def test_a_lease_that_ends_while_waiting_lets_the_sync_through(
    fake_sheets: FakeSheets, pilot_build: BuildResult, folder: Path
) -> None:
    key = sheet_with_lease(fake_sheets, OTHER, timedelta(seconds=12))
    clock = Clock()

    report = sync(
        folder, pilot_build.out, sheets_tracker(fake_sheets, key, clock=clock)
    )

    assert report.written
    assert clock.slept[:3] == [5.0, 5.0, 5.0]
    after = state(fake_sheets, key)
    assert (after.lease.owner, after.generation) == ("", 4)


def test_an_expired_lease_is_taken_over(
    fake_sheets: FakeSheets, pilot_build: BuildResult, folder: Path
) -> None:
    key = sheet_with_lease(fake_sheets, OTHER, -timedelta(minutes=1))
    clock = Clock()

    with fake_sheets.counting() as calls:
        report = sync(
            folder, pilot_build.out, sheets_tracker(fake_sheets, key, clock=clock)
        )

    assert report.written
    assert clock.slept == [1.0]  # only the pause before reading the lease back
    assert kinds(calls)["values.batchUpdate"] == 2  # the lease, then the values
    assert state(fake_sheets, key).lease.owner == ""


def test_a_sync_starting_while_another_writes_is_stopped(
    fake_sheets: FakeSheets, pilot_build: BuildResult, record: BuildRecord, folder: Path
) -> None:
    key = fake_sheets.create("Race")
    sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)
    write_submission(folder, make_submission(record, "ab-002", "r01", submitted=AT))
    clock = Clock()
    second: list[BaseException] = []

    def start_another() -> None:
        # Runs while the first sync holds the lease, between taking it and writing.
        try:
            sync(
                folder, pilot_build.out, sheets_tracker(fake_sheets, key, clock=Clock())
            )
        except EarmarkError as exc:
            second.append(exc)

    clock.on_sleep.append(start_another)
    first = sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key, clock=clock))

    assert first.written
    [stopped] = second
    assert "Another sync is updating" in str(stopped)
    rows = fake_sheets.spreadsheet(key).sheet("Submissions").values()[1:]
    assert [r[:2] for r in rows] == [["ab-001", "r01"], ["ab-002", "r01"]]
    assert state(fake_sheets, key).lease.owner == ""


class WritesFirst:
    """A tracker that lets another sync finish between its read and its write."""

    def __init__(self, inner: SheetsTracker, other: Callable[[], object]) -> None:
        self.inner = inner
        self.other = other
        self.location = inner.location

    def lock(self) -> AbstractContextManager[None]:
        return self.inner.lock()

    def read(self, names: Sequence[str]) -> dict[str, Table]:
        return self.inner.read(names)

    def write(self, changes: Sequence[TabChange]) -> None:
        self.other()
        self.inner.write(changes)


def test_a_sync_that_read_before_another_wrote_stops_instead_of_overwriting(
    fake_sheets: FakeSheets,
    pilot_build: BuildResult,
    record: BuildRecord,
    folder: Path,
    tmp_path: Path,
) -> None:
    key = fake_sheets.create("Stale")
    sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)
    others = tmp_path / "others"
    write_submission(others, make_submission(record, "ab-001", "r01", submitted=AT))
    write_submission(others, make_submission(record, "cap-001", "r01", submitted=AT))
    write_submission(folder, make_submission(record, "ab-002", "r01", submitted=AT))

    def other_sync() -> None:
        sync(others, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)

    slow = WritesFirst(sheets_tracker(fake_sheets, key), other_sync)
    with pytest.raises(EarmarkError, match=r"Another sync wrote .* while this one was"):
        sync(folder, pilot_build.out, slow, now=NOW)

    rows = fake_sheets.spreadsheet(key).sheet("Submissions").values()[1:]
    assert [r[:2] for r in rows] == [["ab-001", "r01"], ["cap-001", "r01"]]
    assert state(fake_sheets, key).lease.owner == ""
    sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)
    rows = fake_sheets.spreadsheet(key).sheet("Submissions").values()[1:]
    assert sorted(r[0] for r in rows) == ["ab-001", "ab-002", "cap-001"]


def test_a_failed_sync_frees_its_lease(
    fake_sheets: FakeSheets, pilot_build: BuildResult, folder: Path
) -> None:
    key = sheet_with_lease(fake_sheets, "", timedelta(0))
    # The lease write passes; the value write then fails on every try.
    fake_sheets.faults.fail_next(5, status=503, path=r"/values:batchUpdate$", after=1)

    with pytest.raises(EarmarkError, match=r"write values \(1 of 1\) to .*\[503\]"):
        sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)

    assert state(fake_sheets, key).lease.owner == ""
    report = sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)
    assert report.written


def test_two_first_syncs_creating_the_state_tab_at_once(
    fake_sheets: FakeSheets, pilot_build: BuildResult, folder: Path
) -> None:
    key = fake_sheets.create("Both first")
    clock = Clock()
    loser = sheets_tracker(fake_sheets, key, clock=clock)

    # Both read an empty Sheet; the other one creates the state tab first.
    with loser.lock():
        loser.read(["Submissions"])
        sync(folder, pilot_build.out, sheets_tracker(fake_sheets, key), now=NOW)
        with pytest.raises(
            EarmarkError, match=r"Another sync started on .* same moment"
        ):
            loser.write([])
    assert state(fake_sheets, key).lease.owner == ""
