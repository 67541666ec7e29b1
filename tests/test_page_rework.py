"""A caption sent back for a rewrite: build --tracker reissues it, sync counts it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from playwright.sync_api import Page

from builder.build import BuildResult, build
from cli import main
from tests.conftest import MakeProject
from tests.page_helpers import (
    QUICK_CONFIG,
    bundle,
    download,
    draft,
    fill_caption,
    open_page,
    page_named,
    validate,
)
from tests.sync_support import by_pair, read_tab, run_sync

pytestmark = pytest.mark.browser

NOTES = 'Name the lead instrument in the intro; "sounds good" says nothing.'


def review(tracker: Path, status: str, notes: str) -> None:
    """Do what a lead does in the workbook: set review_status and notes."""
    book = openpyxl.load_workbook(tracker)
    sheet = book["Submissions"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("task_id")].value == "t2":
            row[header.index("review_status")].value = status
            row[header.index("reviewer_notes")].value = notes
    book.save(tracker)


def rebuild(root: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        main, ["-q", "build", str(root), "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("source", ["submissions", "answers_json"])
def test_rewrite_is_reissued_with_notes_and_earlier_caption_then_counted(
    page: Page, make_project: MakeProject, tmp_path: Path, source: str
) -> None:
    root = make_project(config=QUICK_CONFIG)
    out = tmp_path / "out"
    first: BuildResult = build(root, out, progress=False)
    html = page_named(bundle(first, "r1"), "t2")

    config = open_page(page, html)
    fill_caption(page, config)
    page.click("[data-testid='add-callout']")
    page.select_option("[data-testid='callout-section']", "intro")
    name, data = download(page)
    earlier = json.loads(data)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / name).write_bytes(data)
    tracker = tmp_path / "tracker.xlsx"
    run_sync(subs, first, tracker, now=datetime.now(UTC))
    review(tracker, "rewrite", NOTES)

    extra = ["--tracker", str(tracker)]
    if source == "submissions":
        extra += ["--submissions", str(subs)]
    rebuild(root, out, *extra)
    record = json.loads((out / "build-record.json").read_text("utf-8"))
    rework = record["raters"]["r1"]["tasks"]["t2"]["rework"]
    assert rework["round"] == 1
    assert rework["notes"] == NOTES
    assert rework["answers_found"] is True
    assert rework["answers_from"] == (
        f"submission {name}"
        if source == "submissions"
        else "the tracker's answers_json"
    )
    assert record["build_id"] == first.build_id  # earlier files stay valid

    # The reissued page: the notes, the earlier answers, and a draft of its own.
    reissued = open_page(page, html)
    assert reissued["storage_key"] == config["storage_key"] + ":r1"
    assert page.text_content("[data-testid='rework-notes']") == NOTES
    assert page.get_attribute("[data-testid='rework']", "data-round") == "1"
    assert page.input_value("[data-testid='caption']") == earlier["answers"]["caption"]
    assert page.input_value("[data-testid='callout-section']") == "intro"
    page.fill(
        "[data-testid='caption']",
        earlier["answers"]["caption"] + " A clean electric guitar leads the intro.",
    )
    # Round 0's draft is left alone; round 1 keeps its own.
    first_draft, second_draft = draft(page, config), draft(page, reissued)
    assert first_draft is not None and second_draft is not None
    assert first_draft["answers"]["caption"] == earlier["answers"]["caption"]
    assert second_draft["answers"]["caption"].endswith("leads the intro.")

    _, data = download(page)
    redo = json.loads(data)
    validate(redo)
    assert redo["rework_round"] == 1
    assert redo["answers"]["summary"] == earlier["answers"]["summary"]
    assert redo["answers"]["caption"].endswith("leads the intro.")
    (subs / "redo.json").write_bytes(data)
    report = run_sync(subs, first, tracker, now=datetime.now(UTC))
    assert report.rejected == []
    row = by_pair(read_tab(tracker, "Submissions"))["t2", "r1"]
    assert row["rework"] == 1
    assert row["revisions"] == 1
    assert row["review_status"] == "rewrite"  # the lead's column is theirs


def test_build_with_a_tracker_warns_about_tasks_it_cannot_reissue(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project(config=QUICK_CONFIG)
    tracker = tmp_path / "tracker.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Submissions"
    sheet.append(["task_id", "rater_id", "kind", "review_status", "reviewer_notes"])
    sheet.append(["t1", "r1", "ab", "Rewrite", "redo"])
    sheet.append(["gone", "r1", "caption", "rewrite", ""])
    sheet.append(["t2", "r1", "caption", "accepted", ""])
    book.save(tracker)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["build", str(root), "--out", str(out), "--tracker", str(tracker)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "build-record.json").read_text("utf-8"))
    assert record["report"]["warnings"][-2:] == [
        "tracker: task gone, rater r1 is marked for rewrite but not in this build; "
        "skipped",
        "tracker: task t1, rater r1 is marked for rewrite, but only captions are "
        "reissued",
    ]
    assert all("rework" not in e for e in record["raters"]["r1"]["tasks"].values())

    missing = CliRunner().invoke(
        main, ["build", str(root), "--out", str(out), "--submissions", str(tmp_path)]
    )
    assert missing.exit_code == 2
    assert "--submissions goes with --tracker" in missing.output
