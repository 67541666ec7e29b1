"""A tab's Layout as Google Sheets requests, made to converge when sent again.

Every function here is pure: sheet state as read by ``spreadsheets.get`` in,
``spreadsheets.batchUpdate`` requests out. Sheets adds a new rule, protected
range or chart on every add* request, so each builder first looks at what the
tab already has: rules Earmark made (tagged in their formula) are deleted and
made again, protected ranges Earmark made (tagged in their description) are kept
when they are still right, and the chart is found by its fixed id.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.layout import Chart, Highlight, Layout
from tracker.tables import TabSpec, column_letter, unique_columns

Request = dict[str, Any]

# A rule whose formula holds this was made by Earmark (N() of text is 0 in Sheets).
RULE_TAG = 'N("earmark")=0'
PROTECTION_TAG = "Earmark:"
# Column width in pixels per character of Column.width (Arial 10 in Sheets).
PIXELS_PER_CHAR = 7
CHART_WIDTH, CHART_HEIGHT = 720, 400

# The fields of spreadsheets.get the writer needs, and nothing else.
METADATA_FIELDS = (
    "properties.title,"
    "sheets(properties(sheetId,title,index,hidden,"
    "gridProperties(rowCount,columnCount,frozenRowCount)),"
    "basicFilter,conditionalFormats,"
    "protectedRanges(protectedRangeId,range,description,warningOnly),"
    "charts(chartId))"
)


@dataclass
class SheetInfo:
    """One tab as ``spreadsheets.get`` described it."""

    sheet_id: int
    title: str
    index: int = 0
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    hidden: bool = False
    basic_filter: dict[str, Any] | None = None
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    charts: set[int] = field(default_factory=set)


def parse_sheets(metadata: dict[str, Any]) -> list[SheetInfo]:
    """Read the tabs out of a ``spreadsheets.get`` answer (``METADATA_FIELDS``)."""
    out = []
    for sheet in metadata.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        out.append(
            SheetInfo(
                sheet_id=int(props.get("sheetId", 0)),
                title=str(props.get("title", "")),
                index=int(props.get("index", 0)),
                rows=int(grid.get("rowCount", 0)),
                cols=int(grid.get("columnCount", 0)),
                frozen=int(grid.get("frozenRowCount", 0)),
                hidden=bool(props.get("hidden", False)),
                basic_filter=sheet.get("basicFilter"),
                conditional_formats=list(sheet.get("conditionalFormats", [])),
                protected=list(sheet.get("protectedRanges", [])),
                charts={int(c["chartId"]) for c in sheet.get("charts", [])},
            )
        )
    return out


def new_sheet_id(title: str, taken: Iterable[int]) -> int:
    """Pick a sheetId for a new tab: stable for a title, never one in use.

    Choosing it here lets later requests of the same batch refer to the tab.
    """
    used = set(taken)
    candidate = zlib.crc32(title.encode("utf-8")) & 0x7FFFFFFF or 1
    while candidate in used:
        candidate = (candidate * 31 + 7) & 0x7FFFFFFF or 1
    return candidate


def add_sheet(
    sheet_id: int, title: str, index: int, rows: int, cols: int, layout: Layout
) -> Request:
    """Add a tab already sized, frozen and hidden as its layout says."""
    grid: dict[str, Any] = {"rowCount": rows, "columnCount": cols}
    if layout.frozen_rows:
        grid["frozenRowCount"] = layout.frozen_rows
    props: dict[str, Any] = {
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "gridProperties": grid,
    }
    if layout.hidden:
        props["hidden"] = True
    return {"addSheet": {"properties": props}}


def grow(info: SheetInfo, rows: int, cols: int) -> Request | None:
    """Enlarge a tab's grid to at least ``rows`` x ``cols``; never shrink it."""
    grid: dict[str, int] = {}
    if rows > info.rows:
        grid["rowCount"] = rows
    if cols > info.cols:
        grid["columnCount"] = cols
    if not grid:
        return None
    fields = ",".join(f"gridProperties.{name}" for name in grid)
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": info.sheet_id, "gridProperties": grid},
            "fields": fields,
        }
    }


@dataclass(frozen=True)
class TabLayout:
    """Everything needed to lay out one tab."""

    spec: TabSpec
    header: Sequence[str]
    info: SheetInfo  # the tab as it will be once the grid requests are applied
    new_columns: dict[int, str] = field(default_factory=dict)
    chart_exists: bool = False


def layout_requests(tab: TabLayout) -> list[Request]:
    """Return the requests that make a tab look as its Layout says."""
    layout = tab.spec.layout
    requests: list[Request] = [_sheet_properties(tab.info, layout)]
    requests += _new_column_looks(tab)
    if layout.filter:
        requests += _basic_filter(tab)
    requests += _dropdowns(tab)
    requests += _highlights(tab)
    if layout.protect_tool_columns:
        requests += _protection(tab)
    if layout.chart is not None:
        requests += _chart(tab, layout.chart)
    return requests


def _sheet_properties(info: SheetInfo, layout: Layout) -> Request:
    """Freeze the header rows; hide the tab if its layout says so.

    A visible tab is never unhidden: a lead may have hidden it on purpose.
    """
    frozen = min(layout.frozen_rows, max(info.rows - 1, 0))
    props: dict[str, Any] = {
        "sheetId": info.sheet_id,
        "gridProperties": {"frozenRowCount": frozen},
    }
    fields = "gridProperties.frozenRowCount"
    if layout.hidden:
        props["hidden"] = True
        fields += ",hidden"
    return {"updateSheetProperties": {"properties": props, "fields": fields}}


def _new_column_looks(tab: TabLayout) -> list[Request]:
    """Bold header and a width for each column Earmark adds (later left to leads)."""
    sheet_id = tab.info.sheet_id
    widths = {c.name: c.width for c in tab.spec.columns}
    out: list[Request] = []
    for start, end in _runs(sorted(tab.new_columns)):
        out.append(
            {
                "repeatCell": {
                    "range": _box(sheet_id, 0, 1, start, end),
                    "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                    "fields": "userEnteredFormat.textFormat.bold",
                }
            }
        )
    sized = sorted(i for i, name in tab.new_columns.items() if name in widths)
    spans: list[tuple[int, int, int]] = []  # start, end, width in characters
    for index in sized:
        width = widths[tab.new_columns[index]]
        if spans and spans[-1][1] == index and spans[-1][2] == width:
            spans[-1] = (spans[-1][0], index + 1, width)
        else:
            spans.append((index, index + 1, width))
    for start, end, width in spans:
        out.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": start,
                        "endIndex": end,
                    },
                    "properties": {"pixelSize": width * PIXELS_PER_CHAR},
                    "fields": "pixelSize",
                }
            }
        )
    return out


def _basic_filter(tab: TabLayout) -> list[Request]:
    """Cover the whole table; a lead's criteria and sort are carried over."""
    width = len(tab.header)
    wanted = _box(tab.info.sheet_id, 0, tab.info.rows, 0, width)
    current = tab.info.basic_filter
    if current is not None and _covers(current.get("range", {}), wanted):
        return []
    # Responses carry both the deprecated ``criteria`` map and ``filterSpecs``;
    # an update takes ``filterSpecs`` when both are given, so only it is sent.
    kept = {k: v for k, v in (current or {}).items() if k in _FILTER_KEEPS}
    if "filterSpecs" in kept:
        kept.pop("criteria", None)
    return [{"setBasicFilter": {"filter": {**kept, "range": wanted}}}]


_FILTER_KEEPS = ("sortSpecs", "filterSpecs", "criteria")


def _covers(given: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return (
        given.get("startRowIndex", 0) == 0
        and given.get("startColumnIndex", 0) == 0
        and given.get("endRowIndex", wanted["endRowIndex"]) >= wanted["endRowIndex"]
        and given.get("endColumnIndex", wanted["endColumnIndex"])
        >= wanted["endColumnIndex"]
    )


def _dropdowns(tab: TabLayout) -> list[Request]:
    positions = unique_columns(tab.header)
    out: list[Request] = []
    for column in tab.spec.columns:
        if not column.choices or column.name not in positions:
            continue
        at = positions[column.name]
        rule = {
            "condition": {
                "type": "ONE_OF_LIST",
                "values": [{"userEnteredValue": choice} for choice in column.choices],
            },
            "strict": False,
            "showCustomUi": True,
        }
        out.append(
            {
                "setDataValidation": {
                    "range": _box(tab.info.sheet_id, 1, tab.info.rows, at, at + 1),
                    "rule": rule,
                }
            }
        )
    return out


def _highlights(tab: TabLayout) -> list[Request]:
    """Delete the rules Earmark made before, then add the current ones after
    the lead's own rules (a lead's rule keeps priority)."""
    info = tab.info
    mine = [i for i, rule in enumerate(info.conditional_formats) if _is_mine(rule)]
    out: list[Request] = [
        {"deleteConditionalFormatRule": {"sheetId": info.sheet_id, "index": i}}
        for i in sorted(mine, reverse=True)
    ]
    positions = unique_columns(tab.header)
    index = len(info.conditional_formats) - len(mine)
    for highlight in tab.spec.layout.highlights:
        if highlight.column not in positions:
            continue
        rule = {
            "ranges": [
                {
                    "sheetId": info.sheet_id,
                    "startRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": len(tab.header),
                }
            ],
            "booleanRule": {
                "condition": {
                    "type": "CUSTOM_FORMULA",
                    "values": [
                        {"userEnteredValue": highlight_formula(highlight, positions)}
                    ],
                },
                "format": {"backgroundColor": rgb(highlight.color)},
            },
        }
        out.append({"addConditionalFormatRule": {"rule": rule, "index": index}})
        index += 1
    return out


def highlight_formula(highlight: Highlight, positions: dict[str, int]) -> str:
    """The custom formula for row 2 (Sheets shifts it down the range)."""
    cell = f"${column_letter(positions[highlight.column])}2"
    if highlight.equals is not None:
        text = highlight.equals.replace('"', '""')
        return f'=AND({RULE_TAG},{cell}="{text}")'
    return f"=AND({RULE_TAG},ISNUMBER({cell}),{cell}>{highlight.above:g})"


def _is_mine(rule: dict[str, Any]) -> bool:
    condition = rule.get("booleanRule", {}).get("condition", {})
    return any(
        RULE_TAG in str(value.get("userEnteredValue", ""))
        for value in condition.get("values", [])
    )


def _protection(tab: TabLayout) -> list[Request]:
    """Warning-only protection over each run of adjacent tool-owned columns."""
    info = tab.info
    positions = unique_columns(tab.header)
    tool = sorted(
        positions[c.name]
        for c in tab.spec.columns
        if not c.lead and c.name in positions
    )
    wanted: list[tuple[dict[str, Any], str]] = []
    for start, end in _runs(tool):
        names = ", ".join(tab.header[start:end])
        description = (
            f"{PROTECTION_TAG} sync rewrites these columns ({names}); "
            "edit lead columns instead"
        )
        wanted.append(
            (
                {
                    "sheetId": info.sheet_id,
                    "startColumnIndex": start,
                    "endColumnIndex": end,
                },
                description,
            )
        )
    out: list[Request] = []
    kept: set[int] = set()
    for item in info.protected:
        if not str(item.get("description", "")).startswith(PROTECTION_TAG):
            continue
        match = next(
            (
                i
                for i, (grid, text) in enumerate(wanted)
                if i not in kept
                and item.get("warningOnly")
                and item.get("description") == text
                and _same_range(item.get("range", {}), grid)
            ),
            None,
        )
        if match is None:
            out.append(
                {"deleteProtectedRange": {"protectedRangeId": item["protectedRangeId"]}}
            )
        else:
            kept.add(match)
    for i, (grid, text) in enumerate(wanted):
        if i not in kept:
            out.append(
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": grid,
                            "description": text,
                            "warningOnly": True,
                        }
                    }
                }
            )
    return out


def protect_whole_tab(sheet_id: int, description: str) -> Request:
    """Warning-only protection of a whole tab (for Earmark's own state tab)."""
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": {"sheetId": sheet_id},
                "description": f"{PROTECTION_TAG} {description}",
                "warningOnly": True,
            }
        }
    }


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Return [start, end) spans of consecutive integers."""
    spans: list[tuple[int, int]] = []
    for i in indices:
        if spans and spans[-1][1] == i:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


_RANGE_KEYS = (
    "sheetId",
    "startRowIndex",
    "endRowIndex",
    "startColumnIndex",
    "endColumnIndex",
)


def _same_range(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # The API leaves out fields holding 0 (sheetId 0, startRowIndex 0).
    return all(a.get(k, 0) == b.get(k, 0) for k in _RANGE_KEYS)


def _chart(tab: TabLayout, chart: Chart) -> list[Request]:
    positions = unique_columns(tab.header)
    series = [s for s in chart.series if s in positions]
    if chart.x not in positions or not series:
        return []
    sid, rows = tab.info.sheet_id, tab.info.rows

    def source(name: str) -> dict[str, Any]:
        at = positions[name]
        return {"sourceRange": {"sources": [_box(sid, 0, rows, at, at + 1)]}}

    spec = {
        "title": chart.title,
        "basicChart": {
            "chartType": "LINE",
            "legendPosition": "BOTTOM_LEGEND",
            "headerCount": 1,
            "axis": [
                {"position": "BOTTOM_AXIS", "title": chart.x},
                {"position": "LEFT_AXIS", "title": chart.y_title},
            ],
            "domains": [{"domain": source(chart.x)}],
            "series": [
                {"series": source(name), "targetAxis": "LEFT_AXIS"} for name in series
            ],
        },
    }
    if tab.chart_exists:
        return [{"updateChartSpec": {"chartId": chart.chart_id, "spec": spec}}]
    anchor = {"sheetId": sid, "rowIndex": 1, "columnIndex": len(tab.header) + 1}
    position = {
        "overlayPosition": {
            "anchorCell": anchor,
            "widthPixels": CHART_WIDTH,
            "heightPixels": CHART_HEIGHT,
        }
    }
    body = {"chartId": chart.chart_id, "spec": spec, "position": position}
    return [{"addChart": {"chart": body}}]


def chart_columns(layout: Layout, width: int) -> int:
    """Columns a tab needs so its chart can sit right of the table."""
    return width + 2 if layout.chart is not None else width


def rgb(hex_color: str) -> dict[str, float]:
    """Turn ``RRGGBB`` into the API's 0-1 colour channels."""
    channels = (hex_color[0:2], hex_color[2:4], hex_color[4:6])
    names = ("red", "green", "blue")
    return {n: round(int(c, 16) / 255, 4) for n, c in zip(names, channels, strict=True)}


def _box(sheet_id: int, row0: int, row1: int, col0: int, col1: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": row0,
        "endRowIndex": row1,
        "startColumnIndex": col0,
        "endColumnIndex": col1,
    }
