"""Print stored state in the shapes the real API answers with.

The API serialises protocol buffers: fields holding their default (a colour
channel of 0, ``sheetId`` 0 inside a range, ``false``) are left out. The
helpers here apply the same rule to what the fake stored.
"""

from __future__ import annotations

import copy
from typing import Any

from . import a1
from .a1 import Box
from .cells import render, to_cell_data
from .model import OWNER, Sheet, Spreadsheet

_COLOR_KEYS = {"red", "green", "blue", "alpha"}
_DEFAULT_ROW_PIXELS = 21
_DEFAULT_COL_PIXELS = 100


def clean(value: Any) -> Any:
    """Return a copy with proto3 defaults dropped the way the API drops them.

    Colour channels of 0 disappear and the rest are stored at 8 bits per
    channel; ``sheetId: 0`` disappears from ranges and anchors (anything that
    is not a sheet's own properties).
    """
    if isinstance(value, list):
        return [clean(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value and set(value) <= _COLOR_KEYS and _numbers(value.values()):
        return {k: _channel(v) for k, v in value.items() if v}
    out = {k: clean(v) for k, v in value.items()}
    if out.get("sheetId") == 0 and "title" not in out:
        del out["sheetId"]
    return out


def _numbers(values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _channel(value: float) -> float | int:
    quantised = round(round(value * 255) / 255, 8)
    return int(quantised) if quantised.is_integer() else quantised


def sheet_properties(sheet: Sheet) -> dict[str, Any]:
    """Return a sheet's properties as spreadsheets.get and addSheet print them."""
    props = copy.deepcopy(sheet.props)
    grid = props.get("gridProperties", {})
    for key in [k for k, v in grid.items() if v is False or v == 0]:
        if key not in ("rowCount", "columnCount"):
            del grid[key]
    out: dict[str, Any] = {}
    for key, val in props.items():
        if val is False or (isinstance(val, dict) and not val):
            continue
        out[key] = clean(val) if isinstance(val, dict) else val
    return out


def protected_range(item: dict[str, Any], *, stored: bool) -> dict[str, Any]:
    """Return a protected range; ``stored`` adds the owner as Sheets does."""
    out = clean(item)
    editors = out.get("editors", {})
    if stored:
        editors = dict(editors)
        editors["users"] = [OWNER, *editors.get("users", [])]
    out["editors"] = editors
    return out


def sheet_json(sheet: Sheet, data: list[Box] | None) -> dict[str, Any]:
    """Return one entry of ``sheets[]`` in spreadsheets.get."""
    out: dict[str, Any] = {"properties": sheet_properties(sheet)}
    if data is not None:
        out["data"] = [grid_data(sheet, box) for box in data]
    if sheet.merges:
        out["merges"] = clean(sheet.merges)
    if sheet.conditional_formats:
        out["conditionalFormats"] = clean(sheet.conditional_formats)
    if sheet.basic_filter is not None:
        out["basicFilter"] = clean(sheet.basic_filter)
    if sheet.protected_ranges:
        out["protectedRanges"] = [
            protected_range(p, stored=True) for p in sheet.protected_ranges
        ]
    if sheet.charts:
        out["charts"] = clean(sheet.charts)
    return out


def grid_data(sheet: Sheet, box: Box) -> dict[str, Any]:
    """Return GridData for a rectangle: rowData trimmed as the API trims it."""
    rows: dict[int, dict[int, dict[str, Any]]] = {}
    for (r, c), cell in sheet.cells.items():
        if box.row0 <= r < box.row1 and box.col0 <= c < box.col1:
            data = to_cell_data(cell)
            if data:
                rows.setdefault(r - box.row0, {})[c - box.col0] = clean(data)
    out: dict[str, Any] = {}
    if box.row0:
        out["startRow"] = box.row0
    if box.col0:
        out["startColumn"] = box.col0
    if rows:
        row_data: list[dict[str, Any]] = []
        for r in range(max(rows) + 1):
            cells = rows.get(r)
            if not cells:
                row_data.append({})
                continue
            row_data.append(
                {"values": [cells.get(c, {}) for c in range(max(cells) + 1)]}
            )
        out["rowData"] = row_data
    out["rowMetadata"] = [
        {"pixelSize": _DEFAULT_ROW_PIXELS, **sheet.row_meta.get(r, {})}
        for r in range(box.row0, box.row1)
    ]
    out["columnMetadata"] = [
        {"pixelSize": _DEFAULT_COL_PIXELS, **sheet.col_meta.get(c, {})}
        for c in range(box.col0, box.col1)
    ]
    return out


def spreadsheet_json(
    book: Spreadsheet, selection: dict[int, list[Box] | None] | None = None
) -> dict[str, Any]:
    """Return spreadsheets.get.

    ``selection`` maps the sheetIds to list (as when the request carries
    ``ranges``) to the grid-data boxes to include, or ``None`` for no grid
    data; without a selection every sheet is listed, without grid data.
    """
    if selection is None:
        sheets = [sheet_json(sheet, None) for sheet in book.sheets]
    else:
        sheets = [
            sheet_json(sheet, selection[sheet.sheet_id])
            for sheet in book.sheets
            if sheet.sheet_id in selection
        ]
    out: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "properties": clean(book.props),
        "sheets": sheets,
    }
    if book.named_ranges:
        out["namedRanges"] = clean(book.named_ranges)
    out["spreadsheetUrl"] = (
        f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"
    )
    return out


def value_range(
    sheet: Sheet,
    box: Box,
    *,
    major: str = "ROWS",
    value_option: str = "FORMATTED_VALUE",
    date_option: str = "SERIAL_NUMBER",
) -> dict[str, Any]:
    """Return a ValueRange: trailing empty cells and rows dropped, and no
    ``values`` key at all when the range is empty."""
    found: dict[tuple[int, int], Any] = {}
    for (r, c), cell in sheet.cells.items():
        if box.row0 <= r < box.row1 and box.col0 <= c < box.col1 and cell.has_value:
            rendered = render(cell, value_option, date_option)
            if rendered != "":
                found[(r - box.row0, c - box.col0)] = rendered
    out: dict[str, Any] = {
        "range": a1.format_range(sheet.title, box),
        "majorDimension": major,
    }
    if not found:
        return out
    if major == "COLUMNS":
        found = {(c, r): v for (r, c), v in found.items()}
    lines: list[list[Any]] = [[] for _ in range(max(r for r, _ in found) + 1)]
    for (r, c), rendered in found.items():
        line = lines[r]
        if len(line) <= c:
            line.extend([""] * (c + 1 - len(line)))
        line[c] = rendered
    out["values"] = lines
    return out
