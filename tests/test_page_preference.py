"""Preference pages end to end: the gate, the submission, the copy fallback, drafts."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from builder.build import BuildResult, build
from tests.conftest import MakeProject, PageLog
from tests.page_helpers import (
    QUICK_CONFIG,
    RATIONALE,
    blockers,
    bundle,
    download,
    draft,
    fill_rubric,
    listen_through,
    media,
    open_page,
    page_named,
    set_rate,
    until,
    validate,
    wait_metadata,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def quick_build(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    return build(make_project(config=QUICK_CONFIG), tmp_path / "out", progress=False)


def test_download_waits_for_listening_and_answers(
    page: Page, page_log: PageLog, pilot_build: BuildResult
) -> None:
    """The gate lists what is missing; the file then holds a valid submission."""
    html = page_named(bundle(pilot_build, "r01"), "ab-001")
    config = open_page(page, html)
    assert page.is_disabled("[data-testid='download']")
    missing = blockers(page)
    assert missing[:2] == [
        "Listen to at least 90% of clip A (heard 0%)",
        "Listen to at least 90% of clip B (heard 0%)",
    ]
    assert any("Why this choice?" in m and "15 words" in m for m in missing)

    fill_rubric(page, config)
    assert [m.split(" (")[0] for m in blockers(page)] == [
        "Listen to at least 90% of clip A",
        "Listen to at least 90% of clip B",
    ]
    listen_through(page, "A")
    assert [m.split(" (")[0] for m in blockers(page)] == [
        "Listen to at least 90% of clip B"
    ]
    assert page.is_disabled("[data-testid='download']")
    listen_through(page, "B")
    assert blockers(page) == []

    name, data = download(page)
    assert name == config["download_name"]
    submission = json.loads(data.decode("utf-8"))
    validate(submission)
    # F14: every id comes from the bundle itself.
    assert submission["project_id"] == config["project"]["id"]
    assert submission["build_id"] == pilot_build.build_id
    assert submission["bundle_id"] == config["bundle_id"]
    assert submission["rater_id"] == "r01"
    assert submission["task_id"] == "ab-001"
    assert submission["kind"] == "ab"
    assert submission["prompt"] == config["task"]["prompt"]
    assert submission["clips"] == [
        {"label": c["label"], "clip_id": c["clip_id"]} for c in config["clips"]
    ]
    answers = submission["answers"]
    assert answers["overall"] == "B2"
    assert answers["holistic"] == {"A": 4, "B": 5}
    assert answers["rationale"] == RATIONALE
    assert answers["drivers"] == ["musical"]
    assert answers["clips_match_prompt"] is True
    assert submission["anomalies"] == []
    for label in ("A", "B"):
        heard = submission["listening"]["clips"][label]
        assert heard["playable"] is True and heard["error"] is None
        assert heard["coverage"] >= 0.9
        assert heard["duration"] == 18.0
        assert heard["plays"] == 1
        assert heard["heard_seconds"] == pytest.approx(heard["coverage"] * 18, abs=0.01)
    types = [e["type"] for e in submission["listening"]["events"]]
    assert types.count("playing") == 2 and types.count("ended") == 2
    started = datetime.fromisoformat(submission["started_at"])
    submitted = datetime.fromisoformat(submission["submitted_at"])
    assert started <= submitted
    offset = submitted.utcoffset()
    assert offset is not None
    browser_offset = submission["browser"]["utc_offset_minutes"]
    assert offset.total_seconds() == browser_offset * 60
    assert submission["browser"]["user_agent"]
    assert submission["active_seconds"] > 0
    assert page_log.console_errors() == []


def test_bytes_are_utf8_and_equal_the_copy_panel(
    page: Page, quick_build: BuildResult
) -> None:
    """F04: the file is UTF-8 JSON; the panel shows exactly the same text."""
    config = open_page(page, page_named(bundle(quick_build, "r1"), "t1"))
    fill_rubric(page, config, rationale=RATIONALE)
    _, data = download(page)
    assert 'Größe 🎵 \\"quoted\\"'.encode() in data
    page.click("[data-testid='show-json']")
    shown = page.input_value("[data-testid='json-text']")
    assert shown.encode("utf-8") == data
    submission = json.loads(data.decode("utf-8"))
    validate(submission)
    assert submission["answers"]["rationale"].endswith('Größe 🎵 "quoted".')
    assert page.input_value("[data-testid='json-text']") == shown


def test_without_a_download_attribute_the_json_is_shown(
    page: Page, quick_build: BuildResult
) -> None:
    """F04: a browser that ignores a.download gets the text and a copy button."""
    page.add_init_script("delete HTMLAnchorElement.prototype.download;")
    downloads: list[object] = []
    page.on("download", lambda d: downloads.append(d))
    config = open_page(page, page_named(bundle(quick_build, "r1"), "t1"))
    fill_rubric(page, config)
    page.click("[data-testid='download']")

    panel = page.locator("[data-testid='json-panel']")
    panel.wait_for(state="visible")
    assert "cannot save the file" in (
        page.text_content("[data-testid='json-note']") or ""
    )
    assert config["download_name"] in (
        page.text_content("[data-testid='json-note']") or ""
    )
    submission = json.loads(page.input_value("[data-testid='json-text']"))
    validate(submission)
    assert submission["answers"]["rationale"] == RATIONALE
    assert page.is_visible("[data-testid='copy-json']")
    page.wait_for_timeout(200)
    assert downloads == []


def test_timestamps_carry_the_local_offset(
    browser: Browser, quick_build: BuildResult
) -> None:
    """submitted_at and started_at are local time with the zone's UTC offset."""
    context = browser.new_context(accept_downloads=True, timezone_id="Asia/Kolkata")
    try:
        page = context.new_page()
        config = open_page(page, page_named(bundle(quick_build, "r1"), "t1"))
        fill_rubric(page, config)
        _, data = download(page)
    finally:
        context.close()
    submission = json.loads(data)
    pattern = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30$"
    assert re.match(pattern, submission["submitted_at"])
    assert re.match(pattern, submission["started_at"])
    assert submission["browser"]["utc_offset_minutes"] == 330
    # ICU may report the zone by its older name.
    assert submission["browser"]["timezone"] in {"Asia/Kolkata", "Asia/Calcutta"}


def test_a_reload_restores_the_draft(page: Page, pilot_build: BuildResult) -> None:
    """Answers, flags, the ledger, the position and the start time survive a reload."""
    config = open_page(page, page_named(bundle(pilot_build, "r02"), "ab-003"))
    started = (draft(page, config) or {})["started_at"]
    page.check("input[name='overall'][value='A1']")
    page.check("input[name='melody.B'][value='2']")
    page.check("input[name='lead.A'][value='na']")
    page.fill("textarea[name='rationale']", "Größe matters here")
    page.check("[data-testid='anomaly-audio_defect']")
    page.fill("[data-testid='anomaly-note-audio_defect']", "click at 0:03 in B")
    wait_metadata(page, "A")
    set_rate(page, "A", 8)
    page.click("[data-testid='play-A']")
    until(page, "A", "a.currentTime > 5")
    page.click("[data-testid='play-A']")
    position = media(page, "A", "currentTime")
    coverage = page.text_content("[data-testid='coverage-A']")
    assert re.match(
        r"Saved \d\d:\d\d:\d\d$", page.text_content("[data-testid='save-state']") or ""
    )
    flagged = (draft(page, config) or {})["flags"]["audio_defect"]["flagged_at"]

    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert page.is_checked("input[name='overall'][value='A1']")
    assert page.is_checked("input[name='melody.B'][value='2']")
    assert page.is_checked("input[name='lead.A'][value='na']")
    assert page.input_value("textarea[name='rationale']") == "Größe matters here"
    assert page.is_checked("[data-testid='anomaly-audio_defect']")
    assert page.input_value("[data-testid='anomaly-note-audio_defect']") == (
        "click at 0:03 in B"
    )
    assert page.text_content("[data-testid='coverage-A']") == coverage
    until(page, "A", f"Math.abs(a.currentTime - {position}) < 0.2", timeout=5_000)
    saved = draft(page, config) or {}
    assert saved["started_at"] == started
    assert saved["flags"]["audio_defect"]["flagged_at"] == flagged
    assert saved["answers"]["melody"] == {"A": None, "B": 2}
    assert saved["answers"]["lead"] == {"A": "na", "B": None}
    assert any(e["type"] == "playing" for e in saved["ledger"]["events"])


def test_the_index_shows_each_task_state(page: Page, quick_build: BuildResult) -> None:
    """Not started, opened, draft saved, downloaded, changed since download."""
    folder = bundle(quick_build, "r1")
    index = folder / "index.html"

    def states() -> dict[str, str]:
        open_page(page, index)
        rows: dict[str, str] = page.eval_on_selector_all(
            "[data-testid='task-row']",
            "rows => Object.fromEntries(rows.map(r => [r.dataset.task,"
            " r.querySelector('[data-testid=state]').dataset.state]))",
        )
        return rows

    assert states() == {"t1": "new", "t2": "new"}
    assert "0 of 2 downloaded" in (page.text_content("[data-testid='progress']") or "")
    page.click("[data-testid='task-row'][data-task='t1'] a")
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert states() == {"t1": "opened", "t2": "new"}

    config = open_page(page, page_named(folder, "t1"))
    fill_rubric(page, config)
    assert states()["t1"] == "draft"
    open_page(page, page_named(folder, "t1"))
    download(page)
    assert states()["t1"] == "downloaded"
    assert "1 of 2 downloaded" in (page.text_content("[data-testid='progress']") or "")
    open_page(page, page_named(folder, "t1"))
    page.check("input[name='overall'][value='A3']")
    assert states()["t1"] == "changed"


def test_abx_rates_the_candidates_and_hears_the_reference(
    page: Page, pilot_build: BuildResult
) -> None:
    """X is played and ledgered but not rated on its own."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "abx-001"))
    assert [c["label"] for c in config["clips"]] == ["A", "B", "X"]
    assert page.is_visible("[data-testid='play-X']")
    assert page.locator("input[name='holistic.X']").count() == 0
    assert page.locator("input[name='holistic.A']").count() == 5
    assert any("clip X" in m for m in blockers(page))


def test_a_second_tab_on_the_same_task_is_pointed_out(
    page: Page, quick_build: BuildResult
) -> None:
    html = page_named(bundle(quick_build, "r1"), "t1")
    open_page(page, html)
    other = page.context.new_page()
    open_page(other, html)
    other.check("input[name='overall'][value='0']")
    notice = page.locator("[data-testid='notice']")
    notice.wait_for(state="visible")
    assert "also open in another tab" in (notice.text_content() or "")
