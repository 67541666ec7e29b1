"""spreadsheets.batchUpdate: the structural requests a tracker sends.

The batch runs on a deep copy of the spreadsheet and is swapped in only when
every request succeeded, so a failing request leaves the file untouched: the
real API applies all requests of a batch or none.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from . import fieldmask
from .a1 import Box
from .cells import Cell, from_cell_data, to_cell_data
from .errors import RequestError, invalid, unimplemented
from .model import (
    CELL_CHAR_LIMIT,
    CELL_LIMIT,
    DEFAULT_COLS,
    DEFAULT_ROWS,
    Sheet,
    Spreadsheet,
    new_sheet,
)
from .render import clean, protected_range, sheet_properties

Reply = dict[str, Any]
Handler = Callable[[Spreadsheet, dict[str, Any]], Reply | None]

# Every kind of Request in Sheets API v4, so that a request the fake does not
# model fails as unimplemented rather than as an unknown field.
_KNOWN_KINDS_TEXT = """
    updateSpreadsheetProperties updateSheetProperties updateDimensionProperties
    updateNamedRange repeatCell addNamedRange deleteNamedRange addSheet deleteSheet
    autoFill cutPaste copyPaste mergeCells unmergeCells updateBorders updateCells
    addFilterView appendCells clearBasicFilter deleteDimension deleteEmbeddedObject
    deleteFilterView duplicateFilterView duplicateSheet findReplace insertDimension
    insertRange moveDimension updateEmbeddedObjectPosition pasteData textToColumns
    updateFilterView deleteRange appendDimension addConditionalFormatRule
    updateConditionalFormatRule deleteConditionalFormatRule sortRange
    setDataValidation setBasicFilter addProtectedRange updateProtectedRange
    deleteProtectedRange autoResizeDimensions addChart updateChartSpec updateBanding
    addBanding deleteBanding createDeveloperMetadata updateDeveloperMetadata
    deleteDeveloperMetadata randomizeRange addDimensionGroup deleteDimensionGroup
    updateDimensionGroup trimWhitespace deleteDuplicates updateEmbeddedObjectBorder
    addSlicer updateSlicerSpec addDataSource updateDataSource deleteDataSource
    refreshDataSource cancelDataSourceRefresh addTable updateTable deleteTable
"""
KNOWN_KINDS = frozenset(_KNOWN_KINDS_TEXT.split())
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)$")


def run_batch(book: Spreadsheet, requests: object) -> tuple[Spreadsheet, list[Reply]]:
    """Apply a batch to a copy of ``book``; return the copy and the replies."""
    if not isinstance(requests, list):
        raise invalid("Invalid JSON payload received. 'requests' must be a list.")
    work = book.fork()
    replies: list[Reply] = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise invalid(
                f"Invalid requests[{i}]: exactly one kind of request is needed."
            )
        ((kind, payload),) = request.items()
        if payload is not None and not isinstance(payload, dict):
            raise invalid(
                f"Invalid value at 'requests[{i}].{kind}', {json.dumps(payload)}"
            )
        handler = HANDLERS.get(kind)
        if handler is None:
            if kind in KNOWN_KINDS:
                raise unimplemented(f"requests[{i}].{kind}")
            raise invalid(
                f'Invalid JSON payload received. Unknown name "{kind}" at '
                f"'requests[{i}]': Cannot find field."
            )
        try:
            reply = handler(work, strip_nulls(payload or {}))
            if work.total_cells() > CELL_LIMIT:
                raise RequestError(
                    "This action would increase the number of cells in the "
                    f"workbook above the limit of {CELL_LIMIT} cells."
                )
        except RequestError as exc:
            raise invalid(f"Invalid requests[{i}].{kind}: {exc}") from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise invalid(
                f"Invalid requests[{i}].{kind}: bad request ({exc})"
            ) from None
        replies.append(reply or {})
    return work, replies


def strip_nulls(value: Any) -> Any:
    """Drop JSON nulls: the API treats a null field as an unset one."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


# lookups ---------------------------------------------------------------------


def _int(value: object) -> int:
    """Read an int32 field; JSON clients may send it as a number or a string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RequestError(f"Expected an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise RequestError(f"Expected an integer, got {value!r}") from None


def _sheet(book: Spreadsheet, sheet_id: object) -> Sheet:
    sheet = book.sheet_by_id(_int(sheet_id or 0))
    if sheet is None:
        raise RequestError(f"No grid with id: {sheet_id}")
    return sheet


def _grid_range(book: Spreadsheet, grid: dict[str, Any]) -> tuple[Sheet, Box]:
    sheet = _sheet(book, grid.get("sheetId", 0))
    box = Box(
        int(grid.get("startRowIndex", 0)),
        int(grid.get("endRowIndex", sheet.row_count)),
        int(grid.get("startColumnIndex", 0)),
        int(grid.get("endColumnIndex", sheet.col_count)),
    )
    if min(box.row0, box.col0) < 0 or box.row0 > box.row1 or box.col0 > box.col1:
        raise RequestError(f"Invalid range: {grid}")
    if box.row1 > sheet.row_count or box.col1 > sheet.col_count:
        raise RequestError(
            f"Range exceeds grid limits. Max rows: {sheet.row_count}, "
            f"max columns: {sheet.col_count}"
        )
    return sheet, box


def _closed(sheet: Sheet, box: Box) -> dict[str, Any]:
    return {
        "sheetId": sheet.sheet_id,
        "startRowIndex": box.row0,
        "endRowIndex": box.row1,
        "startColumnIndex": box.col0,
        "endColumnIndex": box.col1,
    }


def _mask(payload: dict[str, Any]) -> fieldmask.Mask:
    text = payload.get("fields")
    if not text:
        raise RequestError("At least one field must be specified in 'fields'.")
    try:
        return fieldmask.parse(str(text))
    except ValueError:
        raise RequestError(f"Invalid field mask: {text}") from None


def _dimension(book: Spreadsheet, span: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    sheet = _sheet(book, span.get("sheetId", 0))
    dimension = span.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise RequestError("dimension must be ROWS or COLUMNS")
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    start = int(span.get("startIndex", 0))
    end = int(span.get("endIndex", size))
    if start < 0 or end < start:
        raise RequestError(f"Invalid dimension range: {span}")
    return sheet, dimension, start, end


# sheets and spreadsheet properties ---------------------------------------------


def add_sheet(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Add a GRID tab (1000x26 unless sized); reply with its properties."""
    given = copy.deepcopy(payload.get("properties", {}))
    if given.get("sheetType", "GRID") != "GRID":
        raise unimplemented(f"addSheet of type {given['sheetType']}")
    sheet_id = given.get("sheetId")
    if sheet_id is None:
        sheet_id = book.new_id(book.sheet_ids())
    elif book.sheet_by_id(int(sheet_id)) is not None:
        raise RequestError(f"A sheet with the id {sheet_id} already exists.")
    title = given.get("title") or _free_title(book)
    if book.find_sheet(title) is not None:
        raise RequestError(
            f'A sheet with the name "{title}" already exists. '
            "Please enter another name."
        )
    grid = given.get("gridProperties", {})
    sheet = new_sheet(
        int(sheet_id),
        title,
        int(grid.get("rowCount", DEFAULT_ROWS)),
        int(grid.get("columnCount", DEFAULT_COLS)),
    )
    for key, value in grid.items():
        sheet.grid.setdefault(key, value)
    for key in ("hidden", "tabColor", "tabColorStyle", "rightToLeft"):
        if key in given:
            sheet.props[key] = given[key]
    _check_sheet(book, sheet, others=book.sheets)
    index = min(int(given.get("index", len(book.sheets))), len(book.sheets))
    book.sheets.insert(index, sheet)
    book.reindex()
    return {"addSheet": {"properties": sheet_properties(sheet)}}


def _free_title(book: Spreadsheet) -> str:
    n = len(book.sheets) + 1
    while book.find_sheet(f"Sheet{n}") is not None:
        n += 1
    return f"Sheet{n}"


def _check_sheet(book: Spreadsheet, sheet: Sheet, others: list[Sheet]) -> None:
    if not sheet.title.strip():
        raise RequestError("A sheet title must not be blank.")
    if sheet.row_count < 1 or sheet.col_count < 1:
        raise RequestError("A sheet must have at least one row and one column.")
    if sheet.frozen_rows < 0 or sheet.frozen_cols < 0:
        raise RequestError("Frozen counts must not be negative.")
    if sheet.frozen_rows >= sheet.row_count:
        raise RequestError("You can't freeze all visible rows on the sheet.")
    if sheet.frozen_cols >= sheet.col_count:
        raise RequestError("You can't freeze all visible columns on the sheet.")
    if sheet.hidden and all(s.hidden for s in others if s is not sheet):
        raise RequestError("You can't hide all the sheets in a document.")


def delete_sheet(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Delete a tab; the last one cannot go."""
    sheet = _sheet(book, payload.get("sheetId", 0))
    if len(book.sheets) == 1:
        raise RequestError("You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    book.reindex()


def update_sheet_properties(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Copy the masked sheet properties (title, index, grid size, freeze...)."""
    given = payload.get("properties", {})
    sheet = _sheet(book, given.get("sheetId", 0))
    mask = _mask(payload)
    if "*" not in mask and {"sheetId", "sheetType"} & set(mask):
        raise RequestError("sheetId and sheetType cannot be changed.")
    before = copy.deepcopy(sheet.props)
    fieldmask.apply(sheet.props, given, mask)
    sheet.props["sheetId"] = before["sheetId"]
    sheet.props.setdefault("sheetType", "GRID")
    for key in ("rowCount", "columnCount"):
        sheet.grid.setdefault(key, before["gridProperties"][key])
    if "title" not in sheet.props:
        raise RequestError("A sheet title must not be blank.")
    twin = book.find_sheet(sheet.title)
    if twin is not None and twin is not sheet:
        raise RequestError(
            f'A sheet with the name "{sheet.title}" already exists. '
            "Please enter another name."
        )
    _check_sheet(book, sheet, others=book.sheets)
    if "index" in mask or "*" in mask:
        index = int(sheet.props.get("index", before["index"]))
        book.sheets.remove(sheet)
        book.sheets.insert(max(0, min(index, len(book.sheets))), sheet)
    book.reindex()
    sheet.crop()


def update_spreadsheet_properties(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Copy the masked spreadsheet properties (title, locale, timeZone)."""
    fieldmask.apply(book.props, payload.get("properties", {}), _mask(payload))
    if not book.props.get("title"):
        raise RequestError("A spreadsheet title must not be blank.")


# dimensions --------------------------------------------------------------------


def append_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Grow a tab by ``length`` rows or columns at the end."""
    sheet = _sheet(book, payload.get("sheetId", 0))
    length = int(payload.get("length", 0))
    if length < 1:
        raise RequestError("length must be positive")
    key = "rowCount" if payload.get("dimension") == "ROWS" else "columnCount"
    if payload.get("dimension") not in ("ROWS", "COLUMNS"):
        raise RequestError("dimension must be ROWS or COLUMNS")
    sheet.grid[key] = sheet.grid[key] + length


def insert_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Insert empty rows or columns, moving later cells along."""
    sheet, dimension, start, end = _dimension(book, payload.get("range", {}))
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if start > size:
        raise RequestError(f"startIndex {start} is past the end of the sheet")
    _shift(sheet, dimension, start, end - start)
    key = "rowCount" if dimension == "ROWS" else "columnCount"
    sheet.grid[key] = size + (end - start)


def delete_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Delete rows or columns, moving later cells back."""
    sheet, dimension, start, end = _dimension(book, payload.get("range", {}))
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if end > size:
        raise RequestError(f"endIndex {end} is past the end of the sheet")
    if end - start >= size:
        word = "rows" if dimension == "ROWS" else "columns"
        raise RequestError(f"You can't delete all the {word} on the sheet.")
    axis = 0 if dimension == "ROWS" else 1
    for key in [k for k in sheet.cells if start <= k[axis] < end]:
        del sheet.cells[key]
    _shift(sheet, dimension, end, start - end)
    key = "rowCount" if dimension == "ROWS" else "columnCount"
    sheet.grid[key] = size - (end - start)
    frozen = "frozenRowCount" if dimension == "ROWS" else "frozenColumnCount"
    if sheet.grid.get(frozen, 0) >= sheet.grid[key]:
        sheet.grid[frozen] = sheet.grid[key] - 1


def _shift(sheet: Sheet, dimension: str, start: int, by: int) -> None:
    """Move cells and metadata at or after ``start`` by ``by`` along an axis."""
    axis = 0 if dimension == "ROWS" else 1
    moved: dict[tuple[int, int], Cell] = {}
    for key, cell in sheet.cells.items():
        if key[axis] >= start:
            key = (key[0] + by, key[1]) if axis == 0 else (key[0], key[1] + by)
        moved[key] = cell
    sheet.cells = moved
    meta = sheet.row_meta if axis == 0 else sheet.col_meta
    shifted = {(i + by if i >= start else i): m for i, m in meta.items()}
    if axis == 0:
        sheet.row_meta = shifted
    else:
        sheet.col_meta = shifted


def update_dimension_properties(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Store masked row/column metadata (pixelSize, hiddenByUser)."""
    sheet, dimension, start, end = _dimension(book, payload.get("range", {}))
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if end > size:
        raise RequestError(f"endIndex {end} is past the end of the sheet")
    mask = _mask(payload)
    meta = sheet.row_meta if dimension == "ROWS" else sheet.col_meta
    for i in range(start, end):
        entry = meta.get(i, {})
        fieldmask.apply(entry, payload.get("properties", {}), mask)
        if entry:
            meta[i] = entry
        else:
            meta.pop(i, None)


def auto_resize_dimensions(book: Spreadsheet, payload: dict[str, Any]) -> None:
    # Column widths depend on fonts the fake does not render: validate only.
    """Accept an auto-resize (widths are not modelled)."""
    _dimension(book, payload.get("dimensions", {}))


# cells ---------------------------------------------------------------------------


def _write_cell_data(
    sheet: Sheet, row: int, col: int, data: dict[str, Any], mask: fieldmask.Mask
) -> None:
    entered = data.get("userEnteredValue") or {}
    text = entered.get("stringValue", entered.get("formulaValue"))
    if isinstance(text, str) and len(text) > CELL_CHAR_LIMIT:
        raise RequestError(
            "Your input contains more than the maximum of "
            f"{CELL_CHAR_LIMIT} characters in a single cell."
        )
    cell = sheet.own(row, col)
    current = to_cell_data(cell, effective=False)
    fieldmask.apply(current, data, mask)
    touched = "*" in mask or "userEnteredValue" in mask
    from_cell_data(cell, _with_style_mirrors(current), value_touched=touched)
    sheet.prune(row, col)


def _with_style_mirrors(data: dict[str, Any]) -> dict[str, Any]:
    """Add the ``*ColorStyle`` twins Sheets stores beside plain colours."""
    fmt = data.get("userEnteredFormat")
    if isinstance(fmt, dict):
        if "backgroundColor" in fmt and "backgroundColorStyle" not in fmt:
            fmt["backgroundColorStyle"] = {"rgbColor": fmt["backgroundColor"]}
        text = fmt.get("textFormat")
        if isinstance(text, dict) and "foregroundColor" in text:
            text.setdefault(
                "foregroundColorStyle", {"rgbColor": text["foregroundColor"]}
            )
    return data


def repeat_cell(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Copy the masked CellData fields into every cell of a range."""
    sheet, box = _grid_range(book, payload.get("range", {}))
    mask = _mask(payload)
    data = payload.get("cell", {})
    for r in range(box.row0, box.row1):
        for c in range(box.col0, box.col1):
            _write_cell_data(sheet, r, c, data, mask)


def update_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Write rows of CellData from ``start``, or over ``range``.

    With ``range``, cells of the range that ``rows`` does not reach are
    cleared for the masked fields, as the API documents.
    """
    mask = _mask(payload)
    rows = payload.get("rows", [])
    if "range" in payload:
        sheet, box = _grid_range(book, payload["range"])
    elif "start" in payload:
        start = payload["start"]
        sheet = _sheet(book, start.get("sheetId", 0))
        row0, col0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(row.get("values", [])) for row in rows), default=0)
        box = Box(row0, row0 + len(rows), col0, col0 + width)
        if box.row1 > sheet.row_count or box.col1 > sheet.col_count:
            raise RequestError("Attempted to write cells beyond the grid.")
    else:
        raise RequestError("Either 'start' or 'range' must be set.")
    for i, row in enumerate(rows):
        values = row.get("values", [])
        if i >= box.rows or len(values) > box.cols:
            raise RequestError("The rows given do not fit in the range.")
    for r in range(box.row0, box.row1):
        line = rows[r - box.row0].get("values", []) if r - box.row0 < len(rows) else []
        for c in range(box.col0, box.col1):
            offset = c - box.col0
            data = line[offset] if offset < len(line) else {}
            _write_cell_data(sheet, r, c, data, mask)


def set_data_validation(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Set (or, without a rule, clear) the validation rule of each cell."""
    sheet, box = _grid_range(book, payload.get("range", {}))
    rule = payload.get("rule")
    if rule is not None and not rule.get("condition", {}).get("type"):
        raise RequestError("A data validation rule needs a condition type.")
    for r in range(box.row0, box.row1):
        for c in range(box.col0, box.col1):
            cell = sheet.own(r, c)
            cell.validation = copy.deepcopy(rule) if rule else None
            sheet.prune(r, c)


def merge_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Merge a range as one, per row or per column."""
    sheet, box = _grid_range(book, payload.get("range", {}))
    kind = payload.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ALL":
        parts = [box]
    elif kind == "MERGE_ROWS":
        parts = [Box(r, r + 1, box.col0, box.col1) for r in range(box.row0, box.row1)]
    elif kind == "MERGE_COLUMNS":
        parts = [Box(box.row0, box.row1, c, c + 1) for c in range(box.col0, box.col1)]
    else:
        raise RequestError(f"Unknown mergeType {kind}")
    # A new merge replaces the merges it overlaps (recorded: MERGE_ALL over
    # two MERGE_ROWS merges leaves one merge).
    sheet.merges = [m for m in sheet.merges if not _overlaps(box, _box_of(m))]
    for part in parts:
        if part.rows * part.cols > 1:
            sheet.merges.append(_closed(sheet, part))


def unmerge_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Remove the merges that overlap a range."""
    sheet, box = _grid_range(book, payload.get("range", {}))
    sheet.merges = [m for m in sheet.merges if not _overlaps(box, _box_of(m))]


def _box_of(grid: dict[str, Any]) -> Box:
    return Box(
        grid["startRowIndex"],
        grid["endRowIndex"],
        grid["startColumnIndex"],
        grid["endColumnIndex"],
    )


def _overlaps(a: Box, b: Box) -> bool:
    return a.row0 < b.row1 and b.row0 < a.row1 and a.col0 < b.col1 and b.col0 < a.col1


# filters, rules, protection ------------------------------------------------------


def set_basic_filter(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Set a tab's basic filter; open range ends become the grid's."""
    given = copy.deepcopy(payload.get("filter", {}))
    sheet, box = _grid_range(book, given.get("range", {}))
    given["range"] = _closed(sheet, box)
    sheet.basic_filter = given


def clear_basic_filter(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Remove a tab's basic filter (no error when there is none)."""
    _sheet(book, payload.get("sheetId", 0)).basic_filter = None


def _rule_sheet(book: Spreadsheet, rule: dict[str, Any]) -> Sheet:
    ranges = rule.get("ranges") or []
    if not ranges:
        raise RequestError("A conditional format rule needs at least one range.")
    sheets = {_grid_range(book, grid)[0].sheet_id for grid in ranges}
    if len(sheets) > 1:
        raise RequestError(
            "All ranges of a conditional format rule must share a sheet."
        )
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise RequestError("A rule needs exactly one of booleanRule or gradientRule.")
    return _sheet(book, sheets.pop())


def add_conditional_format_rule(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Insert a rule at ``index`` (default 0): every call adds one."""
    rule = copy.deepcopy(payload.get("rule", {}))
    sheet = _rule_sheet(book, rule)
    index = int(payload.get("index", 0))
    if not 0 <= index <= len(sheet.conditional_formats):
        raise RequestError(f"Invalid index {index}")
    sheet.conditional_formats.insert(index, rule)


def update_conditional_format_rule(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Replace or move the rule at ``index``; reply with old and new."""
    sheet = _sheet(book, payload.get("sheetId", 0))
    index = int(payload.get("index", 0))
    rules = sheet.conditional_formats
    if not 0 <= index < len(rules):
        raise RequestError(
            f"No conditional format on sheet {sheet.sheet_id} at index {index}"
        )
    old = rules[index]
    if "rule" in payload:
        new = copy.deepcopy(payload["rule"])
        if _rule_sheet(book, new) is not sheet:
            raise RequestError("The new rule must stay on the same sheet.")
        rules[index] = new
        new_index = index
    else:
        new_index = int(payload.get("newIndex", index))
        if not 0 <= new_index < len(rules):
            raise RequestError(f"Invalid newIndex {new_index}")
        rules.insert(new_index, rules.pop(index))
        new = old
    body: dict[str, Any] = {"newRule": clean(new), "oldRule": clean(old)}
    if new_index:
        body["newIndex"] = new_index
    if index:
        body["oldIndex"] = index
    return {"updateConditionalFormatRule": body}


def delete_conditional_format_rule(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Delete the rule at ``index``; reply with the deleted rule."""
    sheet = _sheet(book, payload.get("sheetId", 0))
    index = int(payload.get("index", 0))
    if not 0 <= index < len(sheet.conditional_formats):
        raise RequestError(
            f"No conditional format on sheet {sheet.sheet_id} at index {index}"
        )
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": clean(rule)}}


def add_protected_range(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Protect a range; every call adds one, with a new id unless given."""
    given = copy.deepcopy(payload.get("protectedRange", {}))
    if "namedRangeId" in given:
        raise unimplemented("protected named ranges")
    sheet, _ = _grid_range(book, given.get("range", {}))
    taken = book.protected_range_ids()
    range_id = given.get("protectedRangeId")
    if range_id is None:
        range_id = book.new_id(taken)
    elif int(range_id) in taken:
        raise RequestError(f"A protected range with ID {range_id} already exists.")
    stored: dict[str, Any] = {
        "protectedRangeId": int(range_id),
        "range": given.get("range", {"sheetId": sheet.sheet_id}),
    }
    if given.get("description"):
        stored["description"] = given["description"]
    if given.get("warningOnly"):
        stored["warningOnly"] = True
    stored["requestingUserCanEdit"] = True
    editors = {k: v for k, v in given.get("editors", {}).items() if v}
    stored["editors"] = editors
    if given.get("unprotectedRanges"):
        stored["unprotectedRanges"] = given["unprotectedRanges"]
    sheet.protected_ranges.append(stored)
    return {
        "addProtectedRange": {"protectedRange": protected_range(stored, stored=False)}
    }


def _find_protected(book: Spreadsheet, range_id: object) -> tuple[Sheet, int]:
    wanted = _int(range_id)
    for sheet in book.sheets:
        for i, item in enumerate(sheet.protected_ranges):
            if int(item["protectedRangeId"]) == wanted:
                return sheet, i
    raise RequestError(f"No protected range with id: {range_id}")


def update_protected_range(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Copy masked fields into an existing protected range."""
    given = payload.get("protectedRange", {})
    sheet, index = _find_protected(book, given.get("protectedRangeId"))
    stored = sheet.protected_ranges[index]
    mask = _mask(payload)
    fieldmask.apply(stored, given, mask)
    stored["protectedRangeId"] = int(given["protectedRangeId"])
    target, _ = _grid_range(book, stored.get("range", {}))
    if target is not sheet:
        sheet.protected_ranges.pop(index)
        target.protected_ranges.append(stored)


def delete_protected_range(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Delete a protected range by id."""
    sheet, index = _find_protected(book, payload.get("protectedRangeId"))
    sheet.protected_ranges.pop(index)


# charts --------------------------------------------------------------------------


def add_chart(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Add an overlay chart, keeping a given ``chartId`` (unique per file)."""
    given = copy.deepcopy(payload.get("chart", {}))
    if "spec" not in given:
        raise RequestError("A chart needs a spec.")
    position = given.get("position", {})
    overlay = position.get("overlayPosition")
    if overlay is None:
        raise unimplemented("charts on their own sheet (only overlayPosition)")
    anchor = overlay.get("anchorCell", {})
    sheet = _sheet(book, anchor.get("sheetId", 0))
    row, col = int(anchor.get("rowIndex", 0)), int(anchor.get("columnIndex", 0))
    if row >= sheet.row_count or col >= sheet.col_count:
        raise RequestError("The chart anchor is outside the grid.")
    overlay.setdefault("widthPixels", 600)
    overlay.setdefault("heightPixels", 371)
    taken = book.object_ids()
    chart_id = given.get("chartId")
    if chart_id is None:
        chart_id = book.new_id(taken)
    elif int(chart_id) in taken:
        raise RequestError(f"An object with ID {chart_id} already exists.")
    given["chartId"] = int(chart_id)
    sheet.charts.append(given)
    return {"addChart": {"chart": clean(given)}}


def _find_chart(book: Spreadsheet, object_id: object) -> tuple[Sheet, int]:
    wanted = _int(object_id)
    for sheet in book.sheets:
        for i, chart in enumerate(sheet.charts):
            if int(chart["chartId"]) == wanted:
                return sheet, i
    raise RequestError(f"No embedded object with ID {object_id}.")


def update_chart_spec(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Replace a chart's spec."""
    sheet, index = _find_chart(book, payload.get("chartId"))
    if "spec" not in payload:
        raise RequestError("A chart needs a spec.")
    sheet.charts[index]["spec"] = copy.deepcopy(payload["spec"])


def delete_embedded_object(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Delete a chart by its object id."""
    sheet, index = _find_chart(book, payload.get("objectId"))
    sheet.charts.pop(index)


# named ranges --------------------------------------------------------------------


def add_named_range(book: Spreadsheet, payload: dict[str, Any]) -> Reply:
    """Add a named range (unique name, id as a string)."""
    given = copy.deepcopy(payload.get("namedRange", {}))
    name = str(given.get("name", ""))
    if not _NAME.match(name) or _CELL_LIKE.match(name):
        raise RequestError(f"Invalid name: {name!r}")
    if any(n["name"].casefold() == name.casefold() for n in book.named_ranges):
        raise RequestError(f"A named range with the name {name!r} already exists.")
    _grid_range(book, given.get("range", {}))
    taken = {int(n["namedRangeId"]) for n in book.named_ranges}
    given["namedRangeId"] = str(given.get("namedRangeId") or book.new_id(taken))
    stored = {
        "namedRangeId": given["namedRangeId"],
        "name": name,
        "range": given["range"],
    }
    book.named_ranges.append(stored)
    return {"addNamedRange": {"namedRange": clean(stored)}}


def delete_named_range(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Delete a named range by id."""
    wanted = str(payload.get("namedRangeId"))
    before = len(book.named_ranges)
    book.named_ranges = [n for n in book.named_ranges if n["namedRangeId"] != wanted]
    if len(book.named_ranges) == before:
        raise RequestError(f"No named range with id {wanted}")


HANDLERS: dict[str, Handler] = {
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "appendDimension": append_dimension,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "updateDimensionProperties": update_dimension_properties,
    "autoResizeDimensions": auto_resize_dimensions,
    "repeatCell": repeat_cell,
    "updateCells": update_cells,
    "setDataValidation": set_data_validation,
    "mergeCells": merge_cells,
    "unmergeCells": unmerge_cells,
    "setBasicFilter": set_basic_filter,
    "clearBasicFilter": clear_basic_filter,
    "addConditionalFormatRule": add_conditional_format_rule,
    "updateConditionalFormatRule": update_conditional_format_rule,
    "deleteConditionalFormatRule": delete_conditional_format_rule,
    "addProtectedRange": add_protected_range,
    "updateProtectedRange": update_protected_range,
    "deleteProtectedRange": delete_protected_range,
    "addChart": add_chart,
    "updateChartSpec": update_chart_spec,
    "deleteEmbeddedObject": delete_embedded_object,
    "addNamedRange": add_named_range,
    "deleteNamedRange": delete_named_range,
}
