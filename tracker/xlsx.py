"""The .xlsx tracker backend: read every tab once, write all changes in one save.

Only the cells a TabChange names are touched, so a lead's formulas, formats and
own columns stay as they were. The file is replaced atomically: openpyxl leaves
a truncated, unreadable file behind when a save over it fails part-way.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from builder.errors import EarmarkError
from tracker.cells import Cell
from tracker.tables import TabChange, Table, TabSpec, column_letter, unique_columns

log = logging.getLogger(__name__)

SUFFIX = ".xlsx"
LAST_ROW = 1_048_576  # the last row of a worksheet, for whole-column validation
HEADER_FONT = Font(bold=True)
# Files spreadsheet programs keep beside a workbook they have open.
OPEN_MARKERS = (".~lock.{name}#", "~${name}")


class XlsxTracker:
    """A tracker kept in one .xlsx workbook on disk."""

    def __init__(self, path: Path) -> None:
        if path.suffix.lower() != SUFFIX:
            raise EarmarkError(f"Tracker {path} must be an {SUFFIX} file")
        self.path = path
        self._book: openpyxl.Workbook | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``.<name>.lock`` beside the workbook; refuse if another sync has it."""
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise EarmarkError(
                f"Cannot create the lock file {lock_path}: {exc.strerror or exc}"
            ) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise EarmarkError(
                    f"Another sync is updating {self.path} (lock file {lock_path}); "
                    "run again once it has finished"
                ) from None
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def read(self, names: Sequence[str]) -> dict[str, Table]:
        """Load the workbook (or start a new one) and return the named tabs."""
        self._warn_if_open()
        if not self.path.exists():
            book = openpyxl.Workbook()
            book.remove(book.active)
            self._book = book
            return {}
        try:
            book = openpyxl.load_workbook(self.path)
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise EarmarkError(
                f"Cannot read tracker {self.path} as an .xlsx workbook "
                f"({type(exc).__name__}: {exc}); it was left untouched. Restore it "
                "from a backup, or move it aside to start a new tracker"
            ) from exc
        self._book = book
        tables = {}
        for name in names:
            if name not in book.sheetnames:
                continue
            sheet = book[name]
            if not isinstance(sheet, Worksheet):
                raise EarmarkError(
                    f"{self.path}: tab {name!r} is not a worksheet; rename it"
                )
            tables[name] = read_sheet(sheet)
        return tables

    def write(self, changes: Sequence[TabChange]) -> None:
        """Apply every changed tab and save once; the old file stays if saving fails."""
        book = self._book
        if book is None:
            raise RuntimeError("read() must be called before write()")
        for change in changes:
            if not change.changed:
                continue
            name = change.spec.name
            sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
            assert isinstance(sheet, Worksheet)
            _apply(sheet, change)
            _format(sheet, change)
        self._save(book)

    def _save(self, book: openpyxl.Workbook) -> None:
        mode = _file_mode(self.path)
        try:
            fd, temp_name = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise EarmarkError(
                f"Cannot write a new tracker beside {self.path}: {exc.strerror or exc}"
            ) from exc
        os.close(fd)
        temp = Path(temp_name)
        try:
            book.save(temp)
            with temp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            os.replace(temp, self.path)
        except OSError as exc:
            raise EarmarkError(
                f"Could not save tracker {self.path}: {exc}; "
                "the previous version was left as it was"
            ) from exc
        finally:
            temp.unlink(missing_ok=True)

    def _warn_if_open(self) -> None:
        for pattern in OPEN_MARKERS:
            marker = self.path.with_name(pattern.format(name=self.path.name))
            if marker.exists():
                log.warning(
                    "%s looks open in a spreadsheet program (%s exists); saving "
                    "it there later would undo this sync",
                    self.path,
                    marker.name,
                )


def read_sheet(sheet: Worksheet) -> Table:
    """Return a worksheet as a Table: stripped header names, rows padded.

    Trailing empty rows are dropped; the width covers every named header cell
    and every cell holding data.
    """
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    while grid and all(v is None for v in grid[-1]):
        grid.pop()
    if not grid:
        return Table([], [])
    width = max((_last_filled(row) for row in grid), default=0)
    header = [
        "" if v is None else str(v).strip() for v in (grid[0] + [None] * width)[:width]
    ]
    rows = [[_plain(v) for v in (row + [None] * width)[:width]] for row in grid[1:]]
    return Table(header, rows)


def _last_filled(row: list[object]) -> int:
    for i in range(len(row), 0, -1):
        if row[i - 1] is not None:
            return i
    return 0


def _plain(value: object) -> Cell:
    """Turn what openpyxl read into a Cell value."""
    if value is None or isinstance(value, str | int | float | bool | datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value)


def _apply(sheet: Worksheet, change: TabChange) -> None:
    for index, name in change.new_columns.items():
        cell = sheet.cell(row=1, column=index + 1, value=name)
        cell.data_type = "s"
        cell.font = HEADER_FONT
        width = _width(change.spec, name)
        if width:
            sheet.column_dimensions[column_letter(index)].width = width
    for (row, column), value in change.cells.items():
        cell = sheet.cell(row=row + 2, column=column + 1)
        cell.value = value
        if isinstance(value, str):
            # openpyxl turns "=..." into a formula and "#N/A" into an error
            # unless the type is forced after assignment.
            cell.data_type = "s"


def _format(sheet: Worksheet, change: TabChange) -> None:
    """Frozen header, a filter over the whole table, dropdowns for choice columns."""
    if sheet.freeze_panes is None:
        sheet.freeze_panes = "A2"
    width = max(sheet.max_column, len(change.table.header))
    last_row = max(sheet.max_row, len(change.table.rows) + 1)
    sheet.auto_filter.ref = f"A1:{column_letter(width - 1)}{last_row}"
    positions = unique_columns(change.table.header)
    for column in change.spec.columns:
        if not column.choices:
            continue
        formula = '"' + ",".join(column.choices) + '"'
        for old in list(sheet.data_validations.dataValidation):
            if old.type == "list" and old.formula1 == formula:
                sheet.data_validations.dataValidation.remove(old)
        if column.name not in positions:
            continue
        letter = column_letter(positions[column.name])
        rule = DataValidation(type="list", formula1=formula, allow_blank=True)
        rule.add(f"{letter}2:{letter}{LAST_ROW}")
        sheet.add_data_validation(rule)


def _width(spec: TabSpec, name: str) -> int | None:
    return next((c.width for c in spec.columns if c.name == name), None)


def _file_mode(path: Path) -> int:
    """The permission bits to give the new file: the old file's, else the default."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
