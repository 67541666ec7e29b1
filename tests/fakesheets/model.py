"""In-memory spreadsheets: sheets, cells and the objects that hang off them.

Sheet and spreadsheet properties are kept as the API's own JSON dicts, so
``updateSheetProperties`` and friends are plain field-mask copies. Everything
else (cells, rules, ranges) is kept in the simplest shape that can be printed
back the way the real API prints it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from . import a1
from .a1 import Bounds, Box
from .cells import Cell, Scalar, render
from .errors import invalid

DEFAULT_ROWS = 1000
DEFAULT_COLS = 26
CELL_LIMIT = 10_000_000  # cells per spreadsheet, all sheets together
CELL_CHAR_LIMIT = 50_000  # characters in one cell
OWNER = "owner@fakesheets.invalid"

# A new spreadsheet's properties, in the shape spreadsheets.get returns them.
_BLACK: dict[str, float] = {}
_WHITE = {"red": 1, "green": 1, "blue": 1}
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": dict(_WHITE),
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": dict(_BLACK),
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": dict(_BLACK)},
    },
    "backgroundColorStyle": {"rgbColor": dict(_WHITE)},
}
_THEME_COLORS = [
    ("TEXT", {}),
    ("BACKGROUND", _WHITE),
    ("ACCENT1", {"red": 0.259, "green": 0.522, "blue": 0.957}),
    ("ACCENT2", {"red": 0.918, "green": 0.263, "blue": 0.208}),
    ("ACCENT3", {"red": 0.984, "green": 0.737, "blue": 0.016}),
    ("ACCENT4", {"red": 0.204, "green": 0.659, "blue": 0.325}),
    ("ACCENT5", {"red": 1, "green": 0.427, "blue": 0.004}),
    ("ACCENT6", {"red": 0.275, "green": 0.741, "blue": 0.776}),
    ("LINK", {"red": 0.067, "green": 0.333, "blue": 0.8}),
]
DEFAULT_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        {"colorType": kind, "color": {"rgbColor": dict(rgb)}}
        for kind, rgb in _THEME_COLORS
    ],
}


def now_rfc3339() -> str:
    """Return the current UTC time as Drive prints it."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


@dataclass
class Sheet:
    """One tab: its properties dict, its cells and its sheet-level objects."""

    props: dict[str, Any]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    basic_filter: dict[str, Any] | None = None
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    row_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    col_meta: dict[int, dict[str, Any]] = field(default_factory=dict)

    # properties -----------------------------------------------------------

    @property
    def sheet_id(self) -> int:
        """The tab's sheetId (0 for the first tab of a new file)."""
        return int(self.props["sheetId"])

    @property
    def title(self) -> str:
        """The tab's title."""
        return str(self.props["title"])

    @property
    def grid(self) -> dict[str, Any]:
        """The gridProperties dict, created when missing."""
        grid = self.props.get("gridProperties")
        if not isinstance(grid, dict):
            grid = self.props["gridProperties"] = {}
        return grid

    @property
    def row_count(self) -> int:
        """Rows in the grid."""
        return int(self.grid.get("rowCount", DEFAULT_ROWS))

    @property
    def col_count(self) -> int:
        """Columns in the grid."""
        return int(self.grid.get("columnCount", DEFAULT_COLS))

    @property
    def frozen_rows(self) -> int:
        """Frozen rows (gridProperties.frozenRowCount)."""
        return int(self.grid.get("frozenRowCount", 0))

    @property
    def frozen_cols(self) -> int:
        """Frozen columns (gridProperties.frozenColumnCount)."""
        return int(self.grid.get("frozenColumnCount", 0))

    @property
    def hidden(self) -> bool:
        """True when the tab is hidden."""
        return bool(self.props.get("hidden", False))

    def full_box(self) -> Box:
        """The whole grid."""
        return Box(0, self.row_count, 0, self.col_count)

    # inspection for tests -------------------------------------------------

    def cell(self, label: str) -> Cell | None:
        """Return the stored cell at ``label`` (``"B2"``), or ``None``."""
        return self.cells.get(a1.parse_cell_label(label))

    def values(self) -> list[list[Scalar]]:
        """Return the grid as typed, trimmed like the API trims it.

        Formula cells give their formula text; empty cells give ``""``.
        """
        used = [(r, c) for (r, c), cell in self.cells.items() if cell.has_value]
        if not used:
            return []
        height = max(r for r, _ in used) + 1
        rows: list[list[Scalar]] = [[] for _ in range(height)]
        for r in range(height):
            row = [self._typed(r, c) for c in range(self.col_count)]
            while row and row[-1] == "":
                row.pop()
            rows[r] = row
        return rows

    def _typed(self, row: int, col: int) -> Scalar:
        cell = self.cells.get((row, col))
        typed = cell.typed if cell is not None else None
        return "" if typed is None else typed

    def rendered(self, option: str = "FORMATTED_VALUE") -> list[list[Scalar]]:
        """Return the grid as values.get would render it (trimmed)."""
        used = [(r, c) for (r, c), cell in self.cells.items() if cell.has_value]
        if not used:
            return []
        height = max(r for r, _ in used) + 1
        out: list[list[Scalar]] = []
        for r in range(height):
            row = [
                render(self.cells.get((r, c)), option, "SERIAL_NUMBER")
                for c in range(self.col_count)
            ]
            while row and row[-1] == "":
                row.pop()
            out.append(row)
        return out

    def formula_cells(self) -> dict[str, str]:
        """Return ``{"B2": "=SUM(A1:A3)"}`` for every formula cell."""
        return {
            a1.cell_label(r, c): cell.formula
            for (r, c), cell in sorted(self.cells.items())
            if cell.formula is not None
        }

    def validations(self) -> dict[str, dict[str, Any]]:
        """Return the data validation rule of every cell that has one."""
        return {
            a1.cell_label(r, c): cell.validation
            for (r, c), cell in sorted(self.cells.items())
            if cell.validation
        }

    def formats(self) -> dict[str, dict[str, Any]]:
        """Return the userEnteredFormat of every formatted cell."""
        return {
            a1.cell_label(r, c): cell.fmt
            for (r, c), cell in sorted(self.cells.items())
            if cell.fmt
        }

    def notes(self) -> dict[str, str]:
        """Return the note of every cell that has one."""
        return {
            a1.cell_label(r, c): cell.note
            for (r, c), cell in sorted(self.cells.items())
            if cell.note
        }

    # copies -----------------------------------------------------------------

    def fork(self) -> Sheet:
        """Return a copy whose cells are shared until changed through ``own``.

        A batchUpdate works on a fork so that a failing request leaves the
        original untouched; copying every cell would cost seconds on big sheets.
        """
        parts = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return Sheet(
            **{
                k: dict(v) if k == "cells" else copy.deepcopy(v)
                for k, v in parts.items()
            }
        )

    def snapshot(self) -> Sheet:
        """Return a fully independent copy for tests to inspect."""
        clone = self.fork()
        clone.cells = {key: cell.copy() for key, cell in self.cells.items()}
        return clone

    # mutation helpers -----------------------------------------------------

    def own(self, row: int, col: int) -> Cell:
        """Return the cell at (row, col) as a private copy this sheet may change.

        Batch handlers change cells only through here, since a fork shares
        its cells with the spreadsheet it was forked from.
        """
        cell = self.cells.get((row, col))
        cell = Cell() if cell is None else cell.copy()
        self.cells[(row, col)] = cell
        return cell

    def ensure(self, row: int, col: int) -> Cell:
        """Return the cell at (row, col), creating it when absent."""
        cell = self.cells.get((row, col))
        if cell is None:
            cell = self.cells[(row, col)] = Cell()
        return cell

    def prune(self, row: int, col: int) -> None:
        """Forget the cell at (row, col) when nothing is left in it."""
        cell = self.cells.get((row, col))
        if cell is not None and cell.is_blank():
            del self.cells[(row, col)]

    def crop(self) -> None:
        """Drop cells and metadata that fell outside the grid after a resize."""
        rows, cols = self.row_count, self.col_count
        for key in [k for k in self.cells if k[0] >= rows or k[1] >= cols]:
            del self.cells[key]
        self.row_meta = {i: m for i, m in self.row_meta.items() if i < rows}
        self.col_meta = {i: m for i, m in self.col_meta.items() if i < cols}

    def row_has_values(self, row: int, col0: int, col1: int) -> bool:
        """True when any cell of ``row`` in [col0, col1) holds a value."""
        for c in range(col0, col1):
            cell = self.cells.get((row, c))
            if cell is not None and cell.has_value:
                return True
        return False


@dataclass
class Spreadsheet:
    """A spreadsheet file: properties, tabs in index order, named ranges."""

    spreadsheet_id: str
    props: dict[str, Any]
    sheets: list[Sheet] = field(default_factory=list)
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    created_time: str = field(default_factory=now_rfc3339)
    modified_time: str = field(default_factory=now_rfc3339)

    @property
    def title(self) -> str:
        """The spreadsheet's title."""
        return str(self.props["title"])

    def fork(self) -> Spreadsheet:
        """Return a copy for a batchUpdate to work on (cells shared, see Sheet.fork)."""
        parts = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        parts = {k: copy.deepcopy(v) for k, v in parts.items() if k != "sheets"}
        return Spreadsheet(sheets=[sheet.fork() for sheet in self.sheets], **parts)

    def snapshot(self) -> Spreadsheet:
        """Return a fully independent copy for tests to inspect."""
        clone = self.fork()
        clone.sheets = [sheet.snapshot() for sheet in self.sheets]
        return clone

    # lookup -----------------------------------------------------------------

    def sheet(self, title: str) -> Sheet:
        """Return the tab with this title; raises ``KeyError``."""
        found = self.find_sheet(title)
        if found is None:
            raise KeyError(title)
        return found

    def find_sheet(self, title: str) -> Sheet | None:
        """Return the tab with this title (exact, then case-insensitive)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        """Return the tab with this sheetId, or ``None``."""
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def reindex(self) -> None:
        """Write each tab's position into its ``index`` property."""
        for i, sheet in enumerate(self.sheets):
            sheet.props["index"] = i

    # ids --------------------------------------------------------------------

    def new_id(self, taken: set[int]) -> int:
        """Return a fresh positive id like the API's (random, 31-bit)."""
        for _ in range(1000):
            candidate = self.rng.randint(1, 2**31 - 1)
            if candidate not in taken:
                return candidate
        raise RuntimeError("could not find a free id")

    def sheet_ids(self) -> set[int]:
        """Every sheetId in the file."""
        return {sheet.sheet_id for sheet in self.sheets}

    def object_ids(self) -> set[int]:
        """Ids of embedded objects; they share one namespace per spreadsheet."""
        return {int(chart["chartId"]) for s in self.sheets for chart in s.charts}

    def protected_range_ids(self) -> set[int]:
        """Every protectedRangeId in the file."""
        return {
            int(p["protectedRangeId"]) for s in self.sheets for p in s.protected_ranges
        }

    def total_cells(self) -> int:
        """Grid cells over all tabs (the 10 million limit counts these)."""
        return sum(s.row_count * s.col_count for s in self.sheets)

    # ranges -----------------------------------------------------------------

    def resolve(self, text: str) -> tuple[Sheet, Bounds]:
        """Resolve an A1 range (``'Sheet 1'!A1:B2``, ``Sheet1``, ``A1``, a name).

        Raises the API's 400 "Unable to parse range" for anything else.
        """
        failure = invalid(f"Unable to parse range: {text}")
        try:
            title, cells = a1.split_sheet(text)
        except ValueError:
            raise failure from None
        if title is None:
            assert cells is not None
            bounds = a1.parse_cells(cells)
            if bounds is not None and self.sheets:
                return self.sheets[0], bounds
            sheet = self.find_sheet(cells)
            if sheet is not None:
                return sheet, Bounds(0, None, 0, None)
            named = self._named(cells)
            if named is not None:
                return named
            raise failure
        sheet = self.find_sheet(title)
        if sheet is None:
            raise failure
        if cells is None:
            return sheet, Bounds(0, None, 0, None)
        bounds = a1.parse_cells(cells)
        if bounds is not None:
            return sheet, bounds
        named = self._named(cells)
        if named is not None and named[0] is sheet:
            return named
        raise failure

    def _named(self, name: str) -> tuple[Sheet, Bounds] | None:
        for named in self.named_ranges:
            if named.get("name") == name:
                grid = named.get("range", {})
                sheet = self.sheet_by_id(int(grid.get("sheetId", 0)))
                if sheet is None:
                    return None
                return sheet, Bounds(
                    grid.get("startRowIndex", 0),
                    grid.get("endRowIndex"),
                    grid.get("startColumnIndex", 0),
                    grid.get("endColumnIndex"),
                )
        return None


def grid_box(sheet: Sheet, bounds: Bounds, text: str) -> Box:
    """Close open ends at the grid edge; 400 when the range leaves the grid."""
    rows, cols = sheet.row_count, sheet.col_count
    row1 = rows if bounds.row1 is None else bounds.row1
    col1 = cols if bounds.col1 is None else bounds.col1
    if row1 > rows or col1 > cols or bounds.row0 >= rows or bounds.col0 >= cols:
        _, _, cells = text.rpartition("!")
        label = f"{a1.quote_title(sheet.title)}!{cells}"
        raise invalid(
            f"Range ({label}) exceeds grid limits. "
            f"Max rows: {rows}, max columns: {cols}"
        )
    return Box(bounds.row0, row1, bounds.col0, col1)


def new_sheet(sheet_id: int, title: str, rows: int, cols: int) -> Sheet:
    """Return an empty GRID tab."""
    return Sheet(
        props={
            "sheetId": sheet_id,
            "title": title,
            "index": 0,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": rows, "columnCount": cols},
        }
    )


def new_spreadsheet(
    spreadsheet_id: str,
    title: str,
    sheets: list[str | dict[str, Any]] | None = None,
) -> Spreadsheet:
    """Return a spreadsheet as Drive creates it (one 1000x26 ``Sheet1``).

    ``sheets`` lists tab titles, or dicts with ``title``, ``rows``, ``cols``
    and optional ``sheet_id``; the first tab gets sheetId 0 as in real files.
    """
    book = Spreadsheet(
        spreadsheet_id=spreadsheet_id,
        props={
            "title": title,
            "locale": "en_US",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Etc/GMT",
            "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
            "spreadsheetTheme": copy.deepcopy(DEFAULT_THEME),
        },
        rng=random.Random(spreadsheet_id),
    )
    specs: list[str | dict[str, Any]] = list(sheets) if sheets else ["Sheet1"]
    for i, spec in enumerate(specs):
        if isinstance(spec, str):
            spec = {"title": spec}
        sheet_id = spec.get("sheet_id")
        if sheet_id is None:
            sheet_id = 0 if i == 0 else book.new_id(book.sheet_ids())
        if book.sheet_by_id(sheet_id) is not None or book.find_sheet(spec["title"]):
            raise ValueError(f"duplicate sheet {spec}")
        book.sheets.append(
            new_sheet(
                sheet_id,
                spec["title"],
                spec.get("rows", DEFAULT_ROWS),
                spec.get("cols", DEFAULT_COLS),
            )
        )
    book.reindex()
    return book
