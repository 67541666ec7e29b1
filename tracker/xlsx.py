"""The .xlsx tracker backend: read every tab once, write all changes in one save.

Only the cells a TabChange names are touched, so a lead's formulas, formats and
own columns stay as they were. The file is replaced atomically: openpyxl leaves
a truncated, unreadable file behind when a save over it fails part-way.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.marker import Marker
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from builder.errors import EarmarkError
from tracker.cells import Cell
from tracker.layout import Highlight, Layout
from tracker.tables import TabChange, Table, TabSpec, column_letter, unique_columns

log = logging.getLogger(__name__)

SUFFIX = ".xlsx"
LAST_ROW = 1_048_576  # the last row of a worksheet, for whole-column validation
HEADER_FONT = Font(bold=True)
# openpyxl can only write sheet protection that blocks every locked cell (a lead
# could then not type in their own columns either). Warning-only protection is
# made of three parts instead: a grey header with a note on each tool column,
# and a data validation whose rule always fails, in "warning" style, so Excel
# and LibreOffice ask "continue?" before a typed value replaces a tool cell.
TOOL_FILL = PatternFill(fill_type="solid", start_color="D9D9D9", end_color="D9D9D9")
NO_FILL = PatternFill(fill_type=None)
TOOL_NOTE = "Written by Earmark sync: a value typed here is replaced by the next sync."
LEAD_NOTE = "Yours: Earmark sync never writes in this column."
NOTE_AUTHOR = "Earmark"
WARNING_TITLE = "Earmark column"
WARNING_TEXT = (
    "Earmark sync writes this column and will replace what you type. "
    "Use a column of your own (or reviewer_notes) instead."
)
# Our highlight formulas, so a sync replaces its own rules and no lead's.
OUR_FORMULA = re.compile(
    r'^(?:\$[A-Z]{1,3}2="(?:[^"]|"")*"|AND\(ISNUMBER\(\$[A-Z]{1,3}2\),'
    r"\$[A-Z]{1,3}2>-?[0-9.e+-]+\))$"
)
OUR_AREA = re.compile(rf"^A2:[A-Z]{{1,3}}{LAST_ROW}$")
CHART_SIZE_CM = (20.0, 9.0)
# Files spreadsheet programs keep beside a workbook they have open.
OPEN_MARKERS = (".~lock.{name}#", "~${name}")


class XlsxTracker:
    """A tracker kept in one .xlsx workbook on disk."""

    def __init__(self, path: Path, *, force: bool = False) -> None:
        """``force`` writes even when a spreadsheet program has the workbook open."""
        if path.suffix.lower() != SUFFIX:
            raise EarmarkError(f"Tracker {path} must be an {SUFFIX} file")
        self.path = path
        self.force = force
        self._book: openpyxl.Workbook | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``.<name>.lock`` beside the workbook; refuse if another sync has it.

        Also refuse, before anything is read or written, a workbook that Excel or
        LibreOffice has open (unless ``force``): saving it there later would
        silently undo this sync.
        """
        self._refuse_if_open()
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
            name = change.spec.name
            if change.changed:
                if name not in book.sheetnames:
                    book.create_sheet(name)
                sheet = book[name]
                assert isinstance(sheet, Worksheet)
                _apply(sheet, change)
            # Every layout is applied on every save (each step replaces what an
            # earlier sync added), so a tracker made by an older version catches up.
            if name in book.sheetnames and not change.skipped:
                sheet = book[name]
                assert isinstance(sheet, Worksheet)
                _format(sheet, change)
        _show_a_visible_sheet(book)
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

    def _refuse_if_open(self) -> None:
        """Stop when a spreadsheet program's lock file sits beside the workbook."""
        for pattern in OPEN_MARKERS:
            marker = self.path.with_name(pattern.format(name=self.path.name))
            if not marker.exists():
                continue
            if self.force:
                log.warning(
                    "%s looks open in a spreadsheet program (%s exists); writing "
                    "anyway (--force): saving it there later would undo this sync",
                    self.path,
                    marker.name,
                )
                return
            raise EarmarkError(
                f"{self.path} is open in a spreadsheet program (its lock file "
                f"{marker} exists), and saving it there later would undo this "
                "sync; the workbook was left untouched. Close it in Excel or "
                "LibreOffice and run sync again (if nothing has it open, the lock "
                "file is left from a crash: delete it, or sync with --force)"
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
    """Apply the tab's Layout: each step first removes what it added before."""
    layout = change.spec.layout
    header = change.table.header
    positions = unique_columns(header)
    width = max(sheet.max_column, len(header))
    if layout.frozen_rows and sheet.freeze_panes is None:
        sheet.freeze_panes = f"A{layout.frozen_rows + 1}"
    if layout.filter:
        last_row = max(sheet.max_row, len(change.table.rows) + 1)
        sheet.auto_filter.ref = f"A1:{column_letter(width - 1)}{last_row}"
    if layout.hidden:
        sheet.sheet_state = "hidden"
    _dropdowns(sheet, change.spec, positions)
    _mark_columns(sheet, change.spec, positions, layout)
    _highlights(sheet, layout.highlights, positions, width)
    _chart(sheet, layout, positions, len(change.table.rows), width)


def _dropdowns(sheet: Worksheet, spec: TabSpec, positions: dict[str, int]) -> None:
    """A list validation on each choice column, replacing the one made before."""
    for column in spec.columns:
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


def _mark_columns(
    sheet: Worksheet, spec: TabSpec, positions: dict[str, int], layout: Layout
) -> None:
    """Grey headers and a warning on tool columns; a note on lead columns."""
    for old in list(sheet.data_validations.dataValidation):
        if old.errorTitle == WARNING_TITLE:
            sheet.data_validations.dataValidation.remove(old)
    if not layout.protect_tool_columns:
        return
    warning = DataValidation(
        type="custom",
        formula1="FALSE",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=WARNING_TITLE,
        error=WARNING_TEXT,
    )
    for column in spec.columns:
        if column.name not in positions:
            continue
        at = positions[column.name]
        cell = sheet.cell(row=1, column=at + 1)
        note = LEAD_NOTE if column.lead else TOOL_NOTE
        if cell.comment is None or cell.comment.text != note:
            cell.comment = Comment(note, NOTE_AUTHOR)
        if column.lead:
            if cell.fill == TOOL_FILL:
                cell.fill = NO_FILL
            continue
        cell.fill = TOOL_FILL
        letter = column_letter(at)
        warning.add(f"{letter}2:{letter}{LAST_ROW}")
    if warning.sqref:
        sheet.add_data_validation(warning)


def _highlights(
    sheet: Worksheet,
    highlights: tuple[Highlight, ...],
    positions: dict[str, int],
    width: int,
) -> None:
    """Conditional formats filling whole rows; earlier ones of ours removed."""
    kept = ConditionalFormattingList()
    for formatting in sheet.conditional_formatting:
        for rule in formatting.rules:
            if not _ours(str(formatting.sqref), rule):
                kept.add(str(formatting.sqref), rule)
    sheet.conditional_formatting = kept
    area = f"A2:{column_letter(width - 1)}{LAST_ROW}"
    for highlight in highlights:
        if highlight.column not in positions:
            continue
        cell = f"${column_letter(positions[highlight.column])}2"
        if highlight.equals is not None:
            text = highlight.equals.replace('"', '""')
            formula = f'{cell}="{text}"'
        else:
            formula = f"AND(ISNUMBER({cell}),{cell}>{highlight.above:g})"
        fill = PatternFill(
            fill_type="solid", start_color=highlight.color, end_color=highlight.color
        )
        kept.add(area, FormulaRule(formula=[formula], fill=fill))


def _ours(area: str, rule: Rule) -> bool:
    """Whether a rule is one this module made: our formula over the whole table."""
    formulas = list(rule.formula or ())
    return (
        rule.type == "expression"
        and bool(OUR_AREA.match(area))
        and len(formulas) == 1
        and bool(OUR_FORMULA.match(formulas[0]))
    )


def _chart(
    sheet: Worksheet, layout: Layout, positions: dict[str, int], rows: int, width: int
) -> None:
    """The tab's line chart, right of the table; the one drawn before is replaced."""
    spec = layout.chart
    if spec is None:
        return
    sheet._charts = [c for c in sheet._charts if _chart_title(c) != spec.title]
    needed = (spec.x, *spec.series)
    if rows == 0 or any(name not in positions for name in needed):
        return
    chart = LineChart()
    chart.title = spec.title
    chart.y_axis.title = spec.y_title or None
    chart.x_axis.title = spec.x
    chart.width, chart.height = CHART_SIZE_CM
    # Newer Excel hides both axes unless told otherwise.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for name in spec.series:
        column = positions[name] + 1
        data = Reference(sheet, min_col=column, min_row=1, max_row=rows + 1)
        chart.add_data(data, titles_from_data=True)
    x = positions[spec.x] + 1
    chart.set_categories(Reference(sheet, min_col=x, min_row=2, max_row=rows + 1))
    for series in chart.series:
        series.smooth = False
        # A marker per day, so a single day still shows as a point.
        series.marker = Marker(symbol="circle", size=5)
    sheet.add_chart(chart, f"{column_letter(width + 1)}2")
    # Printed (and in a PDF export) beside the table on one landscape page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _chart_title(chart: object) -> str:
    """The plain text of a chart's title, as made here or read back by openpyxl."""
    title = getattr(chart, "title", None)
    rich = getattr(getattr(title, "tx", None), "rich", None)
    if rich is None:
        return ""
    return "".join(run.t or "" for p in rich.p for run in (p.r or ()))


def _show_a_visible_sheet(book: openpyxl.Workbook) -> None:
    """Make sure the sheet a program opens first is not a hidden one."""
    active = book.active
    if active is not None and active.sheet_state == "visible":
        return
    for index, sheet in enumerate(book.worksheets):
        if sheet.sheet_state == "visible":
            book.active = index
            return


def _width(spec: TabSpec, name: str) -> int | None:
    return next((c.width for c in spec.columns if c.name == name), None)


def _file_mode(path: Path) -> int:
    """The permission bits to give the new file: the old file's, else the default."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
