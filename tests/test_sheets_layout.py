"""Layout requests for Google Sheets, from sheet state as spreadsheets.get gives it."""

from __future__ import annotations

from typing import Any

from tracker.layout import Chart, Highlight, Layout
from tracker.sheets_layout import (
    PROTECTION_TAG,
    RULE_TAG,
    SheetInfo,
    TabLayout,
    highlight_formula,
    layout_requests,
    rgb,
)
from tracker.tables import Column, TabSpec

SPEC = TabSpec(
    "Demo",
    ("task_id",),
    (
        Column("task_id"),
        Column("state"),
        Column("hours", "number"),
        Column("review_status", lead=True, choices=("accepted", "rejected")),
        Column("note"),
    ),
    Layout(
        highlights=(
            Highlight("state", equals='say "no"'),
            Highlight("hours", above=24),
        ),
        chart=Chart("Hours", "task_id", ("hours",), chart_id=4242),
    ),
)
HEADER = ["task_id", "state", "hours", "review_status", "note", "lead's own"]


def kinds(requests: list[dict[str, Any]]) -> list[str]:
    return [next(iter(r)) for r in requests]


def test_a_new_tab_gets_every_part_of_its_layout() -> None:
    info = SheetInfo(7, "Demo", rows=1000, cols=8)

    requests = layout_requests(TabLayout(SPEC, HEADER, info, dict(enumerate(HEADER))))

    assert kinds(requests) == [
        "updateSheetProperties",
        "repeatCell",
        "updateDimensionProperties",
        "setBasicFilter",
        "setDataValidation",
        "addConditionalFormatRule",
        "addConditionalFormatRule",
        "addProtectedRange",
        "addProtectedRange",
        "addChart",
    ]
    protected = [
        r["addProtectedRange"]["protectedRange"]
        for r in requests
        if "addProtectedRange" in r
    ]
    assert [
        (p["range"]["startColumnIndex"], p["range"]["endColumnIndex"])
        for p in protected
    ] == [
        (0, 3),
        (4, 5),
    ]
    assert all(
        p["warningOnly"] and p["description"].startswith(PROTECTION_TAG)
        for p in protected
    )
    chart = requests[-1]["addChart"]["chart"]
    assert chart["chartId"] == 4242
    assert chart["position"]["overlayPosition"]["anchorCell"]["columnIndex"] == 7


def test_formulas_tag_the_rule_and_quote_text() -> None:
    positions = {"state": 1, "hours": 2}

    assert highlight_formula(SPEC.layout.highlights[0], positions) == (
        f'=AND({RULE_TAG},$B2="say ""no""")'
    )
    assert highlight_formula(SPEC.layout.highlights[1], positions) == (
        f"=AND({RULE_TAG},ISNUMBER($C2),$C2>24)"
    )
    assert rgb("F8D7DA") == {"red": 0.9725, "green": 0.8431, "blue": 0.8549}


def test_what_exists_is_replaced_kept_or_left_to_the_lead() -> None:
    mine = {
        "ranges": [{"sheetId": 7}],
        "booleanRule": {
            "condition": {
                "type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": f"=AND({RULE_TAG},$Z2=1)"}],
            }
        },
    }
    leads = {
        "ranges": [{"sheetId": 7}],
        "booleanRule": {"condition": {"type": "NOT_BLANK"}},
    }
    first_run = layout_requests(TabLayout(SPEC, HEADER, SheetInfo(7, "Demo")))
    still_right = first_run[-3]["addProtectedRange"]["protectedRange"]
    info = SheetInfo(
        7,
        "Demo",
        basic_filter={
            "range": {"sheetId": 7, "endColumnIndex": 3},
            "criteria": {"1": {"hiddenValues": ["x"]}},
            "filterSpecs": [
                {"columnIndex": 1, "filterCriteria": {"hiddenValues": ["x"]}}
            ],
        },
        conditional_formats=[mine, leads, mine],
        protected=[
            {"protectedRangeId": 1, "warningOnly": True, **still_right},
            {
                "protectedRangeId": 2,
                "description": f"{PROTECTION_TAG} old",
                "range": {},
            },
            {"protectedRangeId": 3, "description": "lead's", "range": {}},
        ],
        charts={4242},
    )

    requests = layout_requests(TabLayout(SPEC, HEADER, info, chart_exists=True))

    assert [
        r["deleteConditionalFormatRule"]["index"]
        for r in requests
        if "deleteConditionalFormatRule" in r
    ] == [2, 0]
    assert [
        r["addConditionalFormatRule"]["index"]
        for r in requests
        if "addConditionalFormatRule" in r
    ] == [1, 2]
    assert [
        r["deleteProtectedRange"]["protectedRangeId"]
        for r in requests
        if "deleteProtectedRange" in r
    ] == [2]
    assert len([r for r in requests if "addProtectedRange" in r]) == 1
    [reset] = [r["setBasicFilter"]["filter"] for r in requests if "setBasicFilter" in r]
    assert "criteria" not in reset
    assert reset["filterSpecs"] == info.basic_filter["filterSpecs"]  # type: ignore[index]
    assert reset["range"]["endColumnIndex"] == len(HEADER)
    assert "updateChartSpec" in kinds(requests) and "addChart" not in kinds(requests)
    assert "repeatCell" not in kinds(requests)  # no new columns: widths stay a lead's


def test_a_hidden_layout_hides_and_a_visible_one_never_unhides() -> None:
    hidden = TabSpec("Meta", ("k",), (Column("k"),), Layout(hidden=True, filter=False))

    [hide, *_] = layout_requests(TabLayout(hidden, ["k"], SheetInfo(3, "Meta")))
    [show, *_] = layout_requests(
        TabLayout(SPEC, HEADER, SheetInfo(3, "Demo", hidden=True))
    )

    assert hide["updateSheetProperties"]["properties"]["hidden"] is True
    assert "hidden" not in show["updateSheetProperties"]["fields"]
