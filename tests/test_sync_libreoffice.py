"""The tracker as a real spreadsheet program sees it (LibreOffice Calc, headless).

``make test`` installs LibreOffice (``libreoffice-calc-nogui``) when it is missing;
without it these tests fail rather than skip.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.build import BuildResult
from builder.record import load_record
from tests.submission_factory import ENOUGH_WORDS, make_submission, write_submission
from tests.sync_support import NOW, read_tab, run_sync

SOFFICE = shutil.which("soffice")


@pytest.fixture(autouse=True)
def _needs_libreoffice() -> None:
    if SOFFICE is None:
        pytest.fail("LibreOffice is missing: apt-get install libreoffice-calc-nogui")


# CSV export filter: comma, double quote, UTF-8, first sheet row 1, every sheet (-1).
CSV_FILTER = (
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
)


def soffice(tmp: Path, source: Path, target: str, out: Path) -> None:
    assert SOFFICE is not None
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


def test_formula_like_text_shows_as_text_and_a_resave_syncs_unchanged(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    record = load_record(pilot_build.out)
    folder = tmp_path / "submissions"
    texts = {
        task: text + ENOUGH_WORDS
        for task, text in (
            ("ab-001", "=1+1"),
            ("ab-002", "+1 great"),
            ("abx-001", "#N/A"),
        )
    }
    for task, text in texts.items():
        data = make_submission(record, task, "r01", submitted=NOW.replace(hour=1))
        data["answers"]["rationale"] = text
        write_submission(folder, data)
    tracker = tmp_path / "tracker.xlsx"
    run_sync(folder, pilot_build, tracker)

    soffice(tmp_path, tracker, CSV_FILTER, tmp_path / "csv")
    with (tmp_path / "csv" / "tracker-Submissions.csv").open(encoding="utf-8") as f:
        shown = {row["task_id"]: row for row in csv.DictReader(f)}
    assert {task: shown[task]["rationale"] for task in texts} == texts
    assert shown["ab-001"]["plays"] == "4"

    # A lead opens the workbook in LibreOffice and saves it; nothing needs writing.
    soffice(tmp_path, tracker, "xlsx:Calc MS Excel 2007 XML", tmp_path / "saved")
    shutil.copyfile(tmp_path / "saved" / "tracker.xlsx", tracker)
    report = run_sync(folder, pilot_build, tracker)

    assert not report.written
    assert (report.added, report.updated) == (0, 0)
    assert {r["task_id"]: r["rationale"] for r in read_tab(tracker, "Submissions")} == (
        texts
    )
