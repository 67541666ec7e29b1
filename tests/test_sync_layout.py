"""Each tab's Layout in a real workbook: applied once however often sync runs,
following the columns a lead moves, and shown by LibreOffice with its chart."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from builder.build import BuildResult
from builder.record import BuildRecord, load_record
from tests.submission_factory import make_submission, stamp, write_submission
from tests.sync_support import NOW, run_sync
from tracker.layout import AMBER, RED
from tracker.tables import TABS
from tracker.xlsx import LEAD_NOTE, TOOL_NOTE, WARNING_TITLE

SOFFICE = shutil.which("soffice")
PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
AT = NOW - timedelta(days=1)


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


def header_of(sheet: Any) -> list[str]:
    return [str(c.value) if c.value is not None else "" for c in sheet[1]]


def letter(header: list[str], name: str) -> str:
    return get_column_letter(header.index(name) + 1)


def our_rules(sheet: Any) -> list[tuple[str, str, str]]:
    """(range, formula, fill colour) of every expression rule on the sheet."""
    return [
        (str(cf.sqref), rule.formula[0], rule.dxf.fill.fgColor.rgb[-6:])
        for cf in sheet.conditional_formatting
        for rule in cf.rules
        if rule.type == "expression"
    ]


def warnings_of(sheet: Any) -> list[DataValidation]:
    return [
        dv
        for dv in sheet.data_validations.dataValidation
        if dv.errorTitle == WARNING_TITLE
    ]


def sync_days(
    pilot_build: BuildResult, record: BuildRecord, folder: Path, tracker: Path
) -> None:
    """Four syncs, each with a new submission (so each one saves the workbook)."""
    flag = [{"kind": "other", "note": "late", "flagged_at": stamp(AT - timedelta(2))}]
    for n, (task, rater) in enumerate(record.planned()[:4]):
        submitted = AT - timedelta(days=3 - n)
        data = make_submission(record, task, rater, submitted=submitted)
        if n == 0:
            data["anomalies"] = flag
        write_submission(folder, data)
        (folder / f"broken-{n}.json").write_text("{", "utf-8")
        assert run_sync(
            folder, pilot_build, tracker, now=AT + timedelta(hours=n)
        ).written


def test_layouts_are_applied_once_however_often_sync_saves(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    folder, tracker = tmp_path / "submissions", tmp_path / "tracker.xlsx"
    folder.mkdir()
    write_submission(folder, make_submission(record, "cap-002", "r02", submitted=AT))
    run_sync(folder, pilot_build, tracker)
    # A lead adds a rule and a dropdown of their own, and a column.
    book = openpyxl.load_workbook(tracker)
    sheet = book["Submissions"]
    width = len(header_of(sheet))
    sheet.cell(1, width + 1, value="priority")
    own_fill = PatternFill(fill_type="solid", start_color="CCE5FF", end_color="CCE5FF")
    own = FormulaRule(formula=['$A2="cap-002"'], fill=own_fill)
    sheet.conditional_formatting.add("A2:B50", own)
    pick = DataValidation(type="list", formula1='"high,low"', allow_blank=True)
    pick.add(f"{get_column_letter(width + 1)}2:{get_column_letter(width + 1)}50")
    sheet.add_data_validation(pick)
    book.save(tracker)

    sync_days(pilot_build, record, folder, tracker)

    book = openpyxl.load_workbook(tracker)
    dxfs = len(book._differential_styles.dxf)
    for spec in TABS:
        sheet = book[spec.name]
        header = header_of(sheet)
        wanted = {
            (
                f"A2:{get_column_letter(len(header))}1048576",
                f'${letter(header, h.column)}2="{h.equals}"'
                if h.equals is not None
                else f"AND(ISNUMBER(${letter(header, h.column)}2),"
                f"${letter(header, h.column)}2>{h.above:g})",
                h.color,
            )
            for h in spec.layout.highlights
        }
        found = our_rules(sheet)
        if spec.name == "Submissions":
            assert ("A2:B50", '$A2="cap-002"', "CCE5FF") in found
            found.remove(("A2:B50", '$A2="cap-002"', "CCE5FF"))
        assert sorted(found) == sorted(wanted), spec.name
        assert len(sheet._charts) == (1 if spec.layout.chart else 0), spec.name

        [warning] = warnings_of(sheet)
        assert (warning.type, warning.errorStyle) == ("custom", "warning")
        tool = {letter(header, c.name) for c in spec.columns if not c.lead}
        assert {str(r).split(":")[0].rstrip("2") for r in warning.sqref.ranges} == tool
        for column in spec.columns:
            cell = sheet.cell(1, header.index(column.name) + 1)
            assert cell.comment is not None, (spec.name, column.name)
            if column.lead:
                assert cell.comment.text == LEAD_NOTE
                assert cell.fill.fill_type is None
            else:
                assert cell.comment.text == TOOL_NOTE
                assert cell.fill.fgColor.rgb[-6:] == "D9D9D9"
    submissions = book["Submissions"]
    assert submissions.cell(1, len(header_of(submissions))).comment is None  # priority
    lists = [dv.formula1 for dv in submissions.data_validations.dataValidation]
    assert sorted(f for f in lists if f) == sorted(
        ['"accepted,rejected,rewrite"', '"high,low"', "FALSE"]
    )
    assert {s.title for s in book.worksheets if s.sheet_state == "hidden"} == {
        "_earmark"
    }
    # One more save changes nothing in the layout.
    write_submission(folder, make_submission(record, "cap-001", "r03", submitted=AT))
    run_sync(folder, pilot_build, tracker)
    again = openpyxl.load_workbook(tracker)
    assert len(again._differential_styles.dxf) == dxfs
    for spec in TABS:
        assert our_rules(again[spec.name]) == our_rules(book[spec.name])
        assert len(again[spec.name].data_validations.dataValidation) == len(
            book[spec.name].data_validations.dataValidation
        )


def test_highlights_and_warnings_follow_columns_a_lead_moves(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    folder, tracker = tmp_path / "submissions", tmp_path / "tracker.xlsx"
    folder.mkdir()
    sync_days(pilot_build, record, folder, tracker)
    book = openpyxl.load_workbook(tracker)
    sheet = book["Anomalies"]
    sheet.insert_cols(1, 2)  # two columns of the lead's own, in front
    sheet.cell(1, 1, value="owner")
    sheet.cell(1, 2, value="seen")
    book.save(tracker)
    write_submission(folder, make_submission(record, "cap-002", "r03", submitted=AT))

    run_sync(folder, pilot_build, tracker)

    sheet = openpyxl.load_workbook(tracker)["Anomalies"]
    header = header_of(sheet)
    assert header[:3] == ["owner", "seen", "task_id"]
    over = letter(header, "over_24h")
    assert our_rules(sheet) == [
        (f"A2:{get_column_letter(len(header))}1048576", f'${over}2="yes"', RED)
    ]
    [warning] = warnings_of(sheet)
    starts = {str(r).split(":")[0] for r in warning.sqref.ranges}
    assert "A2" not in starts and "B2" not in starts and "C2" in starts
    assert f"{letter(header, 'lead_status')}2" not in starts
    assert [c.value for c in sheet[2]][header.index("over_24h")] == "yes"


def test_metadata_rejections_and_slow_raters_are_highlighted(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    folder, tracker = tmp_path / "submissions", tmp_path / "tracker.xlsx"
    wrong = make_submission(record, "ab-001", "r01", submitted=AT, prompt="Other")
    write_submission(folder, wrong)
    (folder / "broken.json").write_text("{", "utf-8")

    run_sync(folder, pilot_build, tracker)

    book = openpyxl.load_workbook(tracker)
    rejected = book["Rejected"]
    header = header_of(rejected)
    rows = {
        r[header.index("file")]: r[header.index("metadata")]
        for r in rejected.iter_rows(min_row=2, values_only=True)
    }
    assert rows == {"broken.json": "no", "earmark_r01_ab-001.json": "yes"}
    assert [f for _, f, _ in our_rules(rejected)] == [
        f'${letter(header, "metadata")}2="yes"'
    ]
    raters = book["Raters"]
    header = header_of(raters)
    rate = letter(header, "metadata_error_rate")
    assert our_rules(raters) == [
        (
            f"A2:{get_column_letter(len(header))}1048576",
            f"AND(ISNUMBER(${rate}2),${rate}2>0.1)",
            AMBER,
        )
    ]


# ---- LibreOffice ------------------------------------------------------------------


def soffice(tmp: Path, source: Path, target: str, out: Path) -> Path:
    if SOFFICE is None:
        pytest.fail("LibreOffice is missing: apt-get install libreoffice-calc-nogui")
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp / 'lo-profile'}",
            "--headless",
            "--convert-to",
            target,
            str(source),
            "--outdir",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / f"{source.stem}.{target.split(':')[0]}"


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF, through poppler's pdftotext."""
    assert PDFTOTEXT is not None, "pdftotext is missing: apt-get install poppler-utils"
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text.split("\f")


def page_colours(pdf: Path, page: int, stem: Path) -> Counter[tuple[int, int, int]]:
    """Count the pixels of each colour on one page, rendered by pdftoppm as PPM."""
    assert PDFTOPPM is not None, "pdftoppm is missing: apt-get install poppler-utils"
    number = str(page + 1)
    subprocess.run(
        [PDFTOPPM, "-r", "50", "-f", number, "-l", number, str(pdf), str(stem)],
        check=True,
    )
    [ppm] = stem.parent.glob(f"{stem.name}*.ppm")
    data = ppm.read_bytes()
    # Binary PPM: "P6", width, height, max value, each followed by whitespace.
    magic, width, height, _, pixels = data.split(maxsplit=4)
    assert magic == b"P6"
    grid = np.frombuffer(pixels[: int(width) * int(height) * 3], dtype=np.uint8)
    return Counter((r, g, b) for r, g, b in grid.reshape(-1, 3).tolist())


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return r, g, b


def test_libreoffice_prints_the_burn_down_chart_and_keeps_the_layout(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    folder, tracker = tmp_path / "submissions", tmp_path / "tracker.xlsx"
    folder.mkdir()
    sync_days(pilot_build, record, folder, tracker)

    pdf = soffice(tmp_path, tracker, "pdf", tmp_path / "pdf")

    pages = pdf_pages(pdf)
    title = "Burn-down: cumulative and remaining tasks"
    [chart_page] = [n for n, page in enumerate(pages) if title in page]
    page = pages[chart_page]
    # The chart shares its landscape page with the table, legend included.
    for text in ("date_utc", "forecast_finish_utc", "2026-02-26", "2026-03-01"):
        assert text in page
    assert page.count("cumulative") >= 2 and page.count("remaining") >= 2
    assert not any("first_written_at_utc" in p for p in pages)  # hidden tab
    assert PDFTOPPM is not None, "pdftoppm is missing: apt-get install poppler-utils"
    subprocess.run(
        [
            PDFTOPPM,
            "-png",
            "-r",
            "60",
            "-f",
            str(chart_page + 1),
            "-l",
            str(chart_page + 1),
            str(pdf),
            str(tmp_path / "burn-down"),
        ],
        check=True,
    )
    [png] = tmp_path.glob("burn-down*.png")
    assert png.stat().st_size > 5_000
    # The overdue anomaly's row is filled red; tool headers grey, lead_status not.
    [anomaly_page] = [n for n, p in enumerate(pages) if "lead_status" in p]
    colours = page_colours(pdf, anomaly_page, tmp_path / "anomalies")
    assert colours[_rgb(RED)] > 500
    assert colours[_rgb("D9D9D9")] > 500

    # A lead saves the workbook in LibreOffice; the next sync that writes replaces
    # the layout instead of adding a second chart, rule or warning.
    saved = soffice(tmp_path, tracker, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    book = openpyxl.load_workbook(saved)
    assert {dv.errorStyle for dv in warnings_of(book["Submissions"])} == {"warning"}
    assert len(book["Burn-down"]._charts) == 1
    shutil.copyfile(saved, tracker)
    write_submission(folder, make_submission(record, "cap-002", "r03", submitted=AT))
    assert run_sync(folder, pilot_build, tracker).written

    book = openpyxl.load_workbook(tracker)
    assert len(book["Burn-down"]._charts) == 1
    assert len(our_rules(book["Anomalies"])) == 1
    assert len(warnings_of(book["Anomalies"])) == 1
    assert book["_earmark"].sheet_state == "hidden"
