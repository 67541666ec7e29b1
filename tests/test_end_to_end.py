"""The whole pilot path: build, fill in Chromium from file://, reload, download, sync.

The ``page`` fixture fails the test if the page requests anything outside the
bundle folder, so this also proves the bundle works offline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page

from builder.build import BuildResult
from builder.record import load_record
from tests.conftest import REPO
from tests.page_helpers import (
    RATIONALE,
    bundle,
    config_of,
    download,
    draft,
    fill_caption,
    fill_rubric,
    listen_through,
    open_page,
    page_named,
)

pytestmark = pytest.mark.browser
RATER = "r01"


def rows(path: Path, tab: str) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(path)[tab]
    header, *data = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=False)) for row in data]


def test_fill_reload_download_and_sync_the_pilot(
    page: Page, pilot_build: BuildResult, tmp_path: Path
) -> None:
    folder = bundle(pilot_build, RATER)
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    # Every clip of every task in the bundle plays from disk to its end.
    for html in sorted(folder.glob("task-*.html")):
        config = open_page(page, html)
        for clip in config["clips"]:
            listen_through(page, clip["label"])
            coverage = page.text_content(f"[data-testid='coverage-{clip['label']}']")
            assert coverage is not None and coverage.endswith("✓"), coverage
            assert int(coverage.split()[1].rstrip("%")) >= 90

    # A preference task: answer, reload, find every answer restored, download.
    preference = page_named(folder, "ab-001")
    config = open_page(page, preference)
    fill_rubric(page, config)
    page.check("[data-testid='anomaly-audio_defect']")
    page.fill("[data-testid='anomaly-note-audio_defect']", "A click at 0:07 in B")
    page.wait_for_selector("[data-testid='save-state']:has-text('Saved')")
    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert page.is_checked("input[name='overall'][value='B2']")
    assert page.is_checked("input[name='holistic.B'][value='5']")
    assert page.input_value("textarea[name='rationale']") == RATIONALE
    assert page.is_checked("[data-testid='anomaly-audio_defect']")
    saved = draft(page, config)
    assert saved is not None
    name, data = download(page)
    (downloads / name).write_bytes(data)

    # A caption task: write it, note what the suggested intro holds, reload, download.
    caption = page_named(folder, "cap-001")
    config = open_page(page, caption)
    fill_caption(page, config, word_count=320)
    assert page.get_attribute("[data-testid='callout']", "data-suggestion") == (
        "untouched"
    )
    page.fill("[data-testid='callout-notes']", "Clean guitar arpeggios over a pad")
    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert page.input_value("[data-testid='callout-section']") == "intro"
    assert page.input_value("[data-testid='callout-notes']").startswith("Clean guitar")
    assert page.get_attribute("[data-testid='callout']", "data-suggestion") == "edited"
    word_count = page.get_attribute("[data-testid='word-count']", "data-in-range")
    assert word_count == "true"
    name, data = download(page)
    (downloads / name).write_bytes(data)

    # Ops sync the downloads through the CLI; leads read the workbook.
    tracker = tmp_path / "tracker.xlsx"
    result = subprocess.run(
        [sys.executable, "cli.py", "-q", "sync", str(downloads),
         "--build", str(pilot_build.out), "--tracker", str(tracker)],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 accepted, 0 rejected" in result.stdout

    record = load_record(pilot_build.out)
    submitted = {(r["task_id"], r["rater_id"]): r for r in rows(tracker, "Submissions")}
    ab = submitted[("ab-001", RATER)]
    assert ab["model_A"] == record.models("ab-001", RATER)["A"]
    assert ab["model_B"] == record.models("ab-001", RATER)["B"]
    assert ab["preferred"] == "B"
    assert ab["rationale"] == RATIONALE
    assert ab["anomalies"] == 1
    cap = submitted[("cap-001", RATER)]
    assert cap["model_A"] == record.models("cap-001", RATER)["A"]
    assert cap["caption_words"] == 320
    assert cap["callouts"] == 3  # the structure file's intro, verse and build
    anomalies = rows(tracker, "Anomalies")
    assert [(a["task_id"], a["kind"], a["note"]) for a in anomalies] == [
        ("ab-001", "audio_defect", "A click at 0:07 in B")
    ]
    states = {(r["task_id"], r["rater_id"]): r["state"] for r in rows(tracker, "Tasks")}
    assert states[("ab-001", RATER)] == "submitted"
    assert states[("ab-002", RATER)] == "pending"
    assert config_of(caption)["task"]["id"] == "cap-001"
