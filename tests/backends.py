"""One test body, every tracker backend: the ``tracker_backend`` fixture.

A ``Backend`` makes a fresh tracker for each sync and reads, edits and counts
writes the way a lead's spreadsheet program or an outside observer would: the
workbook through openpyxl, the Sheet through its own gspread client (never
through the SheetsTracker under test).

Parameters: ``xlsx``; ``sheets`` (the fake Sheets API over loopback HTTP); and
``real-sheets``, which runs against the Google Sheet named by
EARMARK_TEST_SHEET_KEY with the service account in GOOGLE_APPLICATION_CREDENTIALS
and is skipped when either is unset. Every tab of that Sheet is deleted first.

Load it with ``pytest_plugins = ["tests.fakesheets.fixtures", "tests.backends"]``.
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import openpyxl
import pytest

from tests.fakesheets import FakeSheets
from tracker.sheets import SheetsTracker
from tracker.tables import Tracker, column_letter
from tracker.transport import RetryingHTTPClient, RetryPolicy
from tracker.xlsx import XlsxTracker

SHEET_KEY_ENV = "EARMARK_TEST_SHEET_KEY"
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
UNFORMATTED = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
}
BACKENDS = ["xlsx", "sheets", "real-sheets"]


class Backend(ABC):
    """A tracker of one kind, with what a test needs to look at and edit it."""

    name: str

    @abstractmethod
    def tracker(self, **options: Any) -> Tracker:
        """A new tracker object on the same workbook or Sheet (one per sync)."""

    @abstractmethod
    def grid(self, tab: str) -> list[list[Any]]:
        """Every row of a tab as stored (header first), empty cells as None."""

    @abstractmethod
    def put_grid(
        self, tab: str, grid: list[list[Any]], *, formulas: bool = False
    ) -> None:
        """Replace a tab's cells with ``grid`` (creating the tab), as a lead would.

        With ``formulas``, text starting with ``=`` is entered as a formula.
        """

    @abstractmethod
    def mark(self) -> None:
        """Remember the current state, for ``writes_since_mark``."""

    @abstractmethod
    def writes_since_mark(self) -> int:
        """How many writes reached the tracker since ``mark`` (0 means none)."""

    # built on the above ------------------------------------------------------------

    def tabs(self) -> list[str]:
        """The tab names, in order."""
        raise NotImplementedError

    def header(self, tab: str) -> list[str]:
        grid = self.grid(tab)
        return ["" if v is None else str(v) for v in grid[0]] if grid else []

    def rows(self, tab: str) -> list[dict[str, Any]]:
        """A tab's data rows as dicts keyed by header (as read_tab does)."""
        grid = self.grid(tab)
        if not grid:
            return []
        header = ["" if v is None else str(v) for v in grid[0]]
        out = []
        for row in grid[1:]:
            padded = list(row) + [None] * (len(header) - len(row))
            out.append(dict(zip(header, padded, strict=False)))
        return out

    def formula_cells(self, tab: str) -> list[str]:
        """The A1 names of cells holding a formula rather than a value."""
        raise NotImplementedError

    def by_pair(self, tab: str) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["task_id"], r["rater_id"]): r for r in self.rows(tab)}

    def set_cell(
        self, tab: str, key: dict[str, str], column: str, value: Any, **kw: Any
    ) -> None:
        """Type ``value`` into ``column`` of the row whose cells match ``key``."""
        grid = self.grid(tab)
        header = [str(v) for v in grid[0]]
        at = header.index(column)
        for row in grid[1:]:
            row.extend([None] * (len(header) - len(row)))
            if all(row[header.index(k)] == v for k, v in key.items()):
                row[at] = value
                break
        else:
            raise AssertionError(f"no row {key} in {tab}")
        self.put_grid(tab, grid, **kw)

    def reorder(self, tab: str, order: list[str]) -> None:
        """Move columns into ``order`` (a lead dragging them)."""
        grid = self.grid(tab)
        header = [str(v) for v in grid[0]]
        moved = []
        for row in grid:
            row = list(row) + [None] * (len(header) - len(row))
            moved.append([row[header.index(name)] for name in order])
        self.put_grid(tab, moved)

    def add_column(self, tab: str, name: str, values: dict[int, Any]) -> None:
        """Add a lead column at the right; ``values`` by data row index."""
        grid = self.grid(tab)
        width = len(grid[0])
        for i, row in enumerate(grid):
            row.extend([None] * (width - len(row)))
            row.append(name if i == 0 else values.get(i - 1))
        self.put_grid(tab, grid)

    def sort(self, tab: str, column: str, reverse: bool = False) -> None:
        """Sort the data rows by one column, as a lead would."""
        grid = self.grid(tab)
        header = [str(v) for v in grid[0]]
        at = header.index(column)
        body = sorted(grid[1:], key=lambda r: str(r[at] or ""), reverse=reverse)
        self.put_grid(tab, [grid[0], *body])


class XlsxBackend(Backend):
    name = "xlsx"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._marked: tuple[bytes, int] | None = None

    def tracker(self, **options: Any) -> Tracker:
        return XlsxTracker(self.path)

    def tabs(self) -> list[str]:
        return list(openpyxl.load_workbook(self.path).sheetnames)

    def grid(self, tab: str) -> list[list[Any]]:
        sheet = openpyxl.load_workbook(self.path)[tab]
        return [list(r) for r in sheet.iter_rows(values_only=True)]

    def put_grid(
        self, tab: str, grid: list[list[Any]], *, formulas: bool = False
    ) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            book = openpyxl.load_workbook(self.path)
        else:
            book = openpyxl.Workbook()
            book.remove(book.active)
        sheet = book[tab] if tab in book.sheetnames else book.create_sheet(tab)
        sheet.delete_rows(1, sheet.max_row)
        for r, values in enumerate(grid, start=1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str) and not (formulas and value.startswith("=")):
                    cell.data_type = "s"
        book.save(self.path)

    def formula_cells(self, tab: str) -> list[str]:
        sheet = openpyxl.load_workbook(self.path)[tab]
        return [
            c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"
        ]

    def mark(self) -> None:
        self._marked = (self.path.read_bytes(), self.path.stat().st_mtime_ns)

    def writes_since_mark(self) -> int:
        now = (self.path.read_bytes(), self.path.stat().st_mtime_ns)
        return 0 if now == self._marked else 1


class SheetsBackend(Backend):
    """A Google Sheet reached through gspread (the fake, or a real one)."""

    def __init__(self, name: str, client: gspread.Client, key: str) -> None:
        self.name = name
        self.key = key
        self.lead = client  # edits and reads, as a lead in a browser would
        # The trackers' own client: retries without real sleeping.
        self.client_class = RetryingHTTPClient.with_policy(
            RetryPolicy(sleep=lambda seconds: None)
        )
        self.trackers: list[SheetsTracker] = []
        self._mark = 0

    def make_client(self) -> gspread.Client:
        raise NotImplementedError

    def tracker(self, **options: Any) -> Tracker:
        options.setdefault("sleep", lambda seconds: None)
        tracker = SheetsTracker(self.make_client(), self.key, **options)
        self.trackers.append(tracker)
        return tracker

    def tabs(self) -> list[str]:
        return [ws.title for ws in self._book().worksheets()]

    def _book(self) -> gspread.Spreadsheet:
        return self.lead.open_by_key(self.key)

    def grid(self, tab: str) -> list[list[Any]]:
        """Padded to the widest row, as openpyxl gives a workbook's rows."""
        values = self._values(tab, UNFORMATTED)
        width = max((len(row) for row in values), default=0)
        return [
            [None if v == "" else v for v in row] + [None] * (width - len(row))
            for row in values
        ]

    def formula_cells(self, tab: str) -> list[str]:
        formulas = self._values(tab, {"valueRenderOption": "FORMULA"})
        values = self._values(tab, UNFORMATTED)
        return [
            f"{column_letter(c)}{r + 1}"
            for r, row in enumerate(formulas)
            for c, value in enumerate(row)
            if isinstance(value, str)
            and value.startswith("=")
            and (c >= len(values[r]) or values[r][c] != value)
        ]

    def _values(self, tab: str, params: dict[str, str]) -> list[list[Any]]:
        title = "'" + tab.replace("'", "''") + "'"
        answer = self.lead.http_client.values_get(self.key, title, params=params)
        return list(answer.get("values", []))

    def put_grid(
        self, tab: str, grid: list[list[Any]], *, formulas: bool = False
    ) -> None:
        book = self._book()
        width = max(len(r) for r in grid)
        try:
            sheet = book.worksheet(tab)
        except gspread.WorksheetNotFound:
            sheet = book.add_worksheet(tab, rows=max(100, len(grid)), cols=width)
        if sheet.row_count < len(grid) or sheet.col_count < width:
            sheet.resize(max(sheet.row_count, len(grid)), max(sheet.col_count, width))
        self.lead.http_client.values_clear(self.key, "'" + tab.replace("'", "''") + "'")
        values = [[("" if v is None else v) for v in row] for row in grid]
        option = (
            gspread.utils.ValueInputOption.user_entered
            if formulas
            else gspread.utils.ValueInputOption.raw
        )
        sheet.update(values, "A1", value_input_option=option)

    def calls(self) -> list[tuple[str, str]]:
        """Every (method, url) the trackers sent, retries included."""
        out = []
        for tracker in self.trackers:
            log = tracker._http.log  # type: ignore[attr-defined]
            out += [(x.method, x.url) for x in log.exchanges]
        return out

    def mark(self) -> None:
        self._mark = len(self.calls())

    def writes_since_mark(self) -> int:
        return sum(1 for method, _ in self.calls()[self._mark :] if method != "GET")


class FakeSheetsBackend(SheetsBackend):
    def __init__(self, fake: FakeSheets) -> None:
        self.fake = fake
        super().__init__("sheets", fake.client(), fake.create("Tracker"))

    def make_client(self) -> gspread.Client:
        return self.fake.client(http_client=self.client_class)


class RealSheetsBackend(SheetsBackend):
    def __init__(self, key: str, credentials: str) -> None:
        self.credentials = credentials
        super().__init__("real-sheets", gspread.service_account(credentials), key)
        self._wipe()

    def make_client(self) -> gspread.Client:
        return gspread.service_account(self.credentials, http_client=self.client_class)

    def _wipe(self) -> None:
        """Leave one empty tab: every other tab (and what is on them) deleted."""
        book = self._book()
        scratch = book.add_worksheet(f"scratch-{uuid.uuid4().hex[:8]}", 100, 26)
        requests = [
            {"deleteSheet": {"sheetId": ws.id}}
            for ws in book.worksheets()
            if ws.id != scratch.id
        ]
        if requests:
            book.batch_update({"requests": requests})


@pytest.fixture(params=BACKENDS)
def tracker_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """Each backend in turn: a fresh workbook, fake Sheet or (opt-in) real Sheet."""
    if request.param == "xlsx":
        yield XlsxBackend(tmp_path / "leads" / "tracker.xlsx")
    elif request.param == "sheets":
        fake: FakeSheets = request.getfixturevalue("fake_sheets")
        yield FakeSheetsBackend(fake)
    else:
        key = os.environ.get(SHEET_KEY_ENV)
        credentials = os.environ.get(CREDENTIALS_ENV)
        if not key or not credentials:
            pytest.skip(
                f"real Google Sheet tests need {SHEET_KEY_ENV} and {CREDENTIALS_ENV}"
            )
        yield RealSheetsBackend(key, credentials)
