"""`cli.py report`: a static dashboard read from the tracker, checked in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from click.testing import CliRunner

from builder.build import BuildResult
from builder.record import BuildRecord, load_record
from cli import main
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import NOW, run_sync
from tracker.dashboard import build_dashboard
from tracker.xlsx import XlsxTracker

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.conftest import PageLog

AT = NOW - timedelta(days=1)
HOSTILE = '</li><script>window.pwned = 1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


@pytest.fixture
def tracker(pilot_build: BuildResult, record: BuildRecord, tmp_path: Path) -> Path:
    """Three days of submissions, an overdue anomaly with hostile text."""
    folder = tmp_path / "submissions"
    flags = [
        {"kind": "ui_bug", "note": HOSTILE, "flagged_at": stamp(AT - timedelta(2))},
        {"kind": "audio_defect", "note": "click at 0:09", "flagged_at": stamp(AT)},
    ]
    days = {("ab-001", "r01"): 2, ("ab-002", "r01"): 1, ("cap-001", "r03"): 0}
    for (task, rater), back in days.items():
        data = make_submission(record, task, rater, submitted=AT - timedelta(back))
        if task == "ab-001":
            data["anomalies"] = flags
        write_submission(folder, data)
    path = tmp_path / "tracker.xlsx"
    run_sync(folder, pilot_build, path)
    # A lead closes one anomaly and types markup of their own.
    book = openpyxl.load_workbook(path)
    sheet = book["Anomalies"]
    header = [c.value for c in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        kind = sheet.cell(row, header.index("kind") + 1).value
        status = "resolved" if kind == "audio_defect" else "<b>open</b>"
        sheet.cell(row, header.index("lead_status") + 1, value=status)
    book.save(path)
    return path


def test_report_writes_one_self_contained_page(tracker: Path, tmp_path: Path) -> None:
    out = tmp_path / "site" / "dashboard.html"

    result = CliRunner().invoke(
        main, ["report", "--tracker", str(tracker), "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"report: 3 day(s), 3 rater(s), 2 anomaly(ies) -> {out}"
    )
    html = out.read_text("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "&lt;b&gt;open&lt;/b&gt;" in html
    assert not re.search(r"(?:src|href)=\"?(?:https?:)?//", html)
    assert html.count('data-series="cumulative"') == 1
    assert html.count('data-series="remaining"') == 1


def test_dashboard_numbers_come_from_the_tabs(
    tracker: Path, record: BuildRecord
) -> None:
    board = build_dashboard(XlsxTracker(tracker), now=NOW)

    planned = len(record.planned())
    assert board.headline == {
        "as of": "2026-03-01",
        "planned": str(planned),
        "submitted": "3",
        "remaining": str(planned - 3),
        "7-day rate": "1 / day",
        "forecast finish": "2026-03-10",  # 9 left at one a day
    }
    assert [r["rater"] for r in board.raters] == ["r01", "r02", "r03"]
    assert board.raters[0]["submitted"] == "2 / 4"
    # The open, overdue one first; the resolved one last.
    assert [(a["kind"], a["status"], a["late"]) for a in board.anomalies] == [
        ("ui_bug", "<b>open</b>", "yes"),
        ("audio_defect", "resolved", ""),
    ]
    assert board.chart is not None
    lines = {line.name: line.points for line in board.chart.lines}
    # Cumulative climbs 1, 2, 3 while remaining falls: SVG y grows downward.
    ys = [y for _, y in lines["cumulative"]]
    assert ys[0] > ys[1] > ys[2]
    ys = [y for _, y in lines["remaining"]]
    assert ys[0] < ys[1] < ys[2]
    assert [t.text for t in board.chart.x_ticks] == ["02-27", "02-28", "03-01"]


def test_dashboard_in_chromium_shows_text_inert_and_fetches_nothing(
    tracker: Path, tmp_path: Path, page: Page, page_log: PageLog
) -> None:
    out = tmp_path / "dashboard.html"
    result = CliRunner().invoke(main, ["report", "-t", str(tracker), "-o", str(out)])
    assert result.exit_code == 0, result.output

    page.goto(out.as_uri())

    assert page.evaluate("window.pwned") is None
    assert page.locator("script, img").count() == 0
    anomalies = page.get_by_test_id("anomalies").locator("li")
    assert anomalies.count() == 2
    first = anomalies.nth(0)
    assert first.locator(".note").inner_text() == HOSTILE
    assert "<b>open</b>" in first.inner_text()
    chart = page.get_by_test_id("burn-chart")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    line = chart.locator("[data-series=remaining] polyline").bounding_box()
    assert line is not None and line["height"] > 10
    rows = page.get_by_test_id("raters").locator("tbody tr")
    assert rows.count() == 3
    assert page_log.errors == [] and page_log.console_errors() == []
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_report_on_a_missing_tracker_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.xlsx"

    result = CliRunner().invoke(main, ["report", "-t", str(missing)])

    assert result.exit_code != 0
    assert f"Tracker {missing} does not exist; run sync first" in str(result.exception)


def test_report_help_shows_an_example() -> None:
    result = CliRunner().invoke(main, ["report", "--help"])

    assert result.exit_code == 0
    assert "python cli.py report --tracker build/demo/tracker.xlsx" in result.output
