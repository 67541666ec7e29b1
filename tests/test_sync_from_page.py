"""Files downloaded from real bundle pages in Chromium sync into the tracker.

This is the contract between the page and sync: what the page writes, sync
accepts, and the models the page never knew appear in the tracker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from builder.record import load_record
from tests.conftest import MakeProject
from tests.page_helpers import (
    QUICK_CONFIG,
    RATIONALE,
    bundle,
    download,
    fill_caption,
    fill_rubric,
    listen_through,
    open_page,
    page_named,
)
from tests.sync_support import by_pair, read_tab, run_sync

pytestmark = pytest.mark.browser


def test_a_downloaded_preference_submission_is_accepted(
    page: Page, pilot_build: BuildResult, tmp_path: Path
) -> None:
    config = open_page(page, page_named(bundle(pilot_build, "r02"), "ab-001"))
    fill_rubric(page, config)
    listen_through(page, "A")
    listen_through(page, "B")
    name, data = download(page)
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / name).write_bytes(data)
    tracker = tmp_path / "tracker.xlsx"

    report = run_sync(folder, pilot_build, tracker, now=datetime.now(UTC))

    assert (report.accepted, report.rejected) == (1, [])
    row = by_pair(read_tab(tracker, "Submissions"))[("ab-001", "r02")]
    record = load_record(pilot_build.out)
    models = record.models("ab-001", "r02")
    assert (row["preferred"], row["strength"]) == ("B", 2)  # fill_rubric picks B2
    assert row["preferred_model"] == models["B"]
    assert (row["model_A"], row["model_B"]) == (models["A"], models["B"])
    assert row["rationale"] == RATIONALE
    assert row["min_coverage_heard"] >= 0.9
    assert row["plays"] >= 2
    assert row["file"] == name
    assert row["submitted_at_utc"].endswith("Z")
    assert json.loads(row["answers_json"]) == json.loads(data)["answers"]


def test_a_downloaded_caption_submission_is_accepted(
    page: Page, make_project: MakeProject, tmp_path: Path
) -> None:
    quick = build(make_project(config=QUICK_CONFIG), tmp_path / "out", progress=False)
    config = open_page(page, page_named(bundle(quick, "r1"), "t2"))
    fill_caption(page, config)
    name, data = download(page)
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / name).write_bytes(data)
    tracker = tmp_path / "tracker.xlsx"

    report = run_sync(folder, quick, tracker, now=datetime.now(UTC))

    assert (report.accepted, report.rejected) == (1, [])
    [row] = read_tab(tracker, "Submissions")
    answers = json.loads(data)["answers"]
    assert row["caption"] == answers["caption"]
    assert row["caption_words"] == answers["word_count"]
    assert row["callouts"] == len(answers["callouts"])
    assert row["model_A"] == "m1"
    tasks = by_pair(read_tab(tracker, "Tasks"))
    assert tasks[("t2", "r1")]["state"] == "submitted"
