"""spreadsheets.values: get, batchGet, update, batchUpdate, append, clear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import a1
from .a1 import Bounds, Box
from .cells import (
    DATE_TIME_RENDER_OPTIONS,
    VALUE_INPUT_OPTIONS,
    VALUE_RENDER_OPTIONS,
    Scalar,
    check_scalar,
    enter_raw,
    enter_user,
)
from .errors import bad_field_value, invalid
from .model import CELL_CHAR_LIMIT, CELL_LIMIT, Sheet, Spreadsheet, grid_box
from .render import value_range

_DIMENSIONS = ("ROWS", "COLUMNS")
_INSERT_OPTIONS = ("OVERWRITE", "INSERT_ROWS")
_ENUM_PROTO = "type.googleapis.com/google.apps.sheets.v4"


@dataclass
class ReadOptions:
    """How values are rendered on the way out."""

    major: str = "ROWS"
    value_option: str = "FORMATTED_VALUE"
    date_option: str = "SERIAL_NUMBER"


@dataclass
class Write:
    """One validated write: where it lands and the rows to put there."""

    sheet: Sheet
    box: Box
    rows: list[list[Scalar | None]]
    user_entered: bool


def enum(value: str | None, allowed: tuple[str, ...], field: str, proto: str) -> str:
    """Check an enum parameter; ``None`` picks the first (default) value."""
    if value is None or value == "":
        return allowed[0]
    if value not in allowed:
        raise bad_field_value(field, f"{_ENUM_PROTO}.{proto}", value)
    return value


def read_options(params: dict[str, str], prefix: str = "") -> ReadOptions:
    """Read majorDimension / valueRenderOption / dateTimeRenderOption params."""
    return ReadOptions(
        major=enum(
            params.get("majorDimension"), _DIMENSIONS, "major_dimension", "Dimension"
        ),
        value_option=enum(
            params.get(f"{prefix}valueRenderOption"),
            VALUE_RENDER_OPTIONS,
            "value_render_option",
            "ValueRenderOption",
        ),
        date_option=enum(
            params.get(f"{prefix}dateTimeRenderOption"),
            DATE_TIME_RENDER_OPTIONS,
            "date_time_render_option",
            "DateTimeRenderOption",
        ),
    )


# reads -------------------------------------------------------------------------


def get(book: Spreadsheet, range_text: str, options: ReadOptions) -> dict[str, Any]:
    """Answer values.get for one range."""
    sheet, bounds = book.resolve(range_text)
    box = grid_box(sheet, bounds, range_text)
    return value_range(
        sheet,
        box,
        major=options.major,
        value_option=options.value_option,
        date_option=options.date_option,
    )


def batch_get(
    book: Spreadsheet, ranges: list[str], options: ReadOptions
) -> dict[str, Any]:
    """Answer values.batchGet."""
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if ranges:
        out["valueRanges"] = [get(book, text, options) for text in ranges]
    return out


# writes ------------------------------------------------------------------------


def plan_write(
    book: Spreadsheet,
    range_text: str,
    values: object,
    major: object,
    input_option: str,
    field: str,
) -> Write:
    """Validate one write completely before anything is stored."""
    rows = _rows(values, field)  # the body is parsed before the range is
    sheet, bounds = book.resolve(range_text)
    major = enum(
        major if isinstance(major, str) else None,
        _DIMENSIONS,
        "major_dimension",
        "Dimension",
    )
    if major == "COLUMNS":
        rows = _transpose(rows)
    height = len(rows)
    width = max((len(row) for row in rows), default=0)
    box = Box(bounds.row0, bounds.row0 + height, bounds.col0, bounds.col0 + width)
    _check_fits(sheet, bounds, box, range_text)
    if box.row1 > sheet.row_count or box.col1 > sheet.col_count:
        label = a1.box_label(box) if height and width else range_text
        raise invalid(
            f"Range ({a1.quote_title(sheet.title)}!{label}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
        )
    return Write(sheet, box, rows, input_option == "USER_ENTERED")


def _rows(values: object, field: str) -> list[list[Scalar | None]]:
    proto = "type.googleapis.com/google.protobuf.ListValue"
    if values is None:
        return []
    if not isinstance(values, list):
        raise bad_field_value(field, proto, values)
    rows: list[list[Scalar | None]] = []
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise bad_field_value(f"{field}[{i}]", proto, row)
        for j, item in enumerate(row):
            if not check_scalar(item):
                raise bad_field_value(
                    f"{field}[{i}].values[{j}]",
                    "type.googleapis.com/google.protobuf.Value",
                    item,
                )
            if isinstance(item, str) and len(item) > CELL_CHAR_LIMIT:
                raise invalid(
                    "Your input contains more than the maximum of "
                    f"{CELL_CHAR_LIMIT} characters in a single cell."
                )
        rows.append(list(row))
    return rows


def _transpose(columns: list[list[Scalar | None]]) -> list[list[Scalar | None]]:
    height = max((len(col) for col in columns), default=0)
    return [
        [col[r] if r < len(col) else None for col in columns] for r in range(height)
    ]


def _check_fits(sheet: Sheet, bounds: Bounds, box: Box, range_text: str) -> None:
    """A closed range caps the write, as the API's 'Requested writing' error says."""
    if bounds.single:
        return
    row_limit, col_limit = bounds.row1, bounds.col1
    shown = range_text if "!" in range_text else f"{sheet.title}!{range_text}"
    if row_limit is not None and box.row1 > row_limit:
        raise invalid(
            f"Requested writing within range [{shown}], but tried writing to row "
            f"[{row_limit + 1}]"
        )
    if col_limit is not None and box.col1 > col_limit:
        raise invalid(
            f"Requested writing within range [{shown}], but tried writing to column "
            f"[{a1.column_label(col_limit)}]"
        )


def apply_write(write: Write) -> dict[str, Any]:
    """Store a planned write; return its UpdateValuesResponse counts."""
    touched_rows: set[int] = set()
    touched_cols: set[int] = set()
    count = 0
    for i, row in enumerate(write.rows):
        for j, value in enumerate(row):
            if value is None:  # JSON null leaves the cell as it was
                continue
            r, c = write.box.row0 + i, write.box.col0 + j
            cell = write.sheet.ensure(r, c)
            if value == "":
                cell.clear_value()
            elif write.user_entered:
                enter_user(cell, value)
            else:
                enter_raw(cell, value)
            write.sheet.prune(r, c)
            touched_rows.add(r)
            touched_cols.add(c)
            count += 1
    out: dict[str, Any] = {}
    if write.box.rows and write.box.cols:
        out["updatedRange"] = a1.format_range(write.sheet.title, write.box)
    if count:
        out["updatedRows"] = len(touched_rows)
        out["updatedColumns"] = len(touched_cols)
        out["updatedCells"] = count
    return out


def update(
    book: Spreadsheet, range_text: str, params: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Answer values.update (PUT)."""
    option = _input_option(params.get("valueInputOption"))
    write = plan_write(
        book,
        range_text,
        body.get("values"),
        body.get("majorDimension"),
        option,
        "data.values",
    )
    counts = apply_write(write)
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, **counts}
    if _true(params.get("includeValuesInResponse")):
        out["updatedData"] = _echo(write, read_options(params, "response"))
    return out


def batch_update(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """Answer values.batchUpdate: every range is checked before any is written."""
    option = _input_option(body.get("valueInputOption"))
    data = body.get("data") or []
    if not isinstance(data, list):
        raise bad_field_value(
            "data", "type.googleapis.com/google.protobuf.ListValue", data
        )
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise bad_field_value(f"data[{i}]", f"{_ENUM_PROTO}.ValueRange", item)
    writes = [
        plan_write(
            book,
            str(item.get("range", "")),
            item.get("values"),
            item.get("majorDimension"),
            option,
            f"data[{i}].values",
        )
        for i, item in enumerate(data)
    ]
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if not writes:
        return out
    responses = []
    rows: set[tuple[int, int]] = set()
    cols: set[tuple[int, int]] = set()
    cells = 0
    sheets: set[int] = set()
    echo = _true(body.get("includeValuesInResponse"))
    options = read_options(
        {
            "responseValueRenderOption": body.get("responseValueRenderOption") or "",
            "responseDateTimeRenderOption": body.get("responseDateTimeRenderOption")
            or "",
        },
        "response",
    )
    for write in writes:
        counts = apply_write(write)
        response = {"spreadsheetId": book.spreadsheet_id, **counts}
        if echo:
            response["updatedData"] = _echo(write, options)
        responses.append(response)
        sid = write.sheet.sheet_id
        for i, row in enumerate(write.rows):
            for j, value in enumerate(row):
                if value is not None:
                    rows.add((sid, write.box.row0 + i))
                    cols.add((sid, write.box.col0 + j))
                    cells += 1
                    sheets.add(sid)
    out.update(
        {
            "totalUpdatedRows": len(rows),
            "totalUpdatedColumns": len(cols),
            "totalUpdatedCells": cells,
            "totalUpdatedSheets": len(sheets),
            "responses": responses,
        }
    )
    return out


def append(
    book: Spreadsheet, range_text: str, params: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Answer values.append: find the table in the range, write below it."""
    option = _input_option(params.get("valueInputOption"))
    insert = enum(
        params.get("insertDataOption"),
        _INSERT_OPTIONS,
        "insert_data_option",
        "InsertDataOption",
    )
    rows = _rows(body.get("values"), "data.values")
    if body.get("majorDimension") == "COLUMNS":
        rows = _transpose(rows)
    sheet, bounds = book.resolve(range_text)
    box = grid_box(sheet, bounds, range_text)
    table = _find_table(sheet, bounds, box)
    start, col0 = (table.row1, table.col0) if table else (box.row0, box.col0)
    width = max((len(row) for row in rows), default=0)
    target = Box(start, start + len(rows), col0, col0 + width)
    if target.col1 > sheet.col_count:
        raise invalid(
            f"Range ({a1.quote_title(sheet.title)}!"
            f"{a1.cell_label(start, sheet.col_count)}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
        )
    grow = max(0, target.row1 - sheet.row_count)
    if insert == "INSERT_ROWS":
        grow = target.rows
    if book.total_cells() + grow * sheet.col_count > CELL_LIMIT:
        raise invalid(
            "This action would increase the number of cells in the workbook "
            f"above the limit of {CELL_LIMIT} cells."
        )
    if insert == "INSERT_ROWS":
        _insert_rows(sheet, start, target.rows)
    sheet.grid["rowCount"] = sheet.row_count + grow
    write = Write(sheet, target, rows, option == "USER_ENTERED")
    counts = apply_write(write)
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:
        out["tableRange"] = a1.format_range(sheet.title, table)
    updates: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, **counts}
    if _true(params.get("includeValuesInResponse")):
        updates["updatedData"] = _echo(write, read_options(params, "response"))
    out["updates"] = updates
    return out


def _find_table(sheet: Sheet, bounds: Bounds, box: Box) -> Box | None:
    """Find the 'table' values.append writes below.

    A range with open rows (a whole sheet, ``A:C``) looks for the first row
    holding values; a closed range starts at its own first row. With open
    columns the table is the last run of filled cells in that row: recorded,
    a row ``a, "", c`` makes the table ``C1`` and the next append lands in C2.
    The table then runs down while its columns hold values.
    """
    first = box.row0
    if bounds.row1 is None:
        while first < box.row1 and not sheet.row_has_values(first, box.col0, box.col1):
            first += 1
        if first >= box.row1:
            return None
    elif not sheet.row_has_values(first, box.col0, box.col1):
        return None
    col0, col1 = box.col0, box.col1
    if bounds.col1 is None:
        col0, col1 = _runs(sheet, first, box.col0, box.col1)[-1]
    last = first
    while last < sheet.row_count and sheet.row_has_values(last, col0, col1):
        last += 1
    return Box(first, last, col0, col1)


def _runs(sheet: Sheet, row: int, col0: int, col1: int) -> list[tuple[int, int]]:
    """Return the [start, end) spans of adjacent filled cells in a row."""
    runs: list[tuple[int, int]] = []
    start = None
    for c in range(col0, col1 + 1):
        cell = sheet.cells.get((row, c)) if c < col1 else None
        filled = cell is not None and cell.has_value
        if filled and start is None:
            start = c
        elif not filled and start is not None:
            runs.append((start, c))
            start = None
    return runs


def _insert_rows(sheet: Sheet, start: int, count: int) -> None:
    moved = {}
    for (r, c), cell in sheet.cells.items():
        moved[(r + count if r >= start else r, c)] = cell
    sheet.cells = moved


def clear(book: Spreadsheet, range_text: str) -> str:
    """Clear the values (not formats) of a range; return the cleared range."""
    sheet, bounds = book.resolve(range_text)
    box = grid_box(sheet, bounds, range_text)
    for key in [k for k in sheet.cells if _inside(k, box)]:
        sheet.cells[key].clear_value()
        sheet.prune(*key)
    return a1.format_range(sheet.title, box)


def batch_clear(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """Answer values.batchClear (every range is checked first)."""
    ranges = body.get("ranges") or []
    for text in ranges:
        sheet, bounds = book.resolve(str(text))
        grid_box(sheet, bounds, str(text))
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if ranges:
        out["clearedRanges"] = [clear(book, str(text)) for text in ranges]
    return out


def _inside(key: tuple[int, int], box: Box) -> bool:
    return box.row0 <= key[0] < box.row1 and box.col0 <= key[1] < box.col1


def _input_option(value: object) -> str:
    if not value:
        raise invalid("'valueInputOption' is required but not specified")
    if value not in VALUE_INPUT_OPTIONS:
        raise bad_field_value(
            "value_input_option", f"{_ENUM_PROTO}.ValueInputOption", value
        )
    return str(value)


def _true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _echo(write: Write, options: ReadOptions) -> dict[str, Any]:
    return value_range(
        write.sheet,
        write.box,
        major=options.major,
        value_option=options.value_option,
        date_option=options.date_option,
    )
