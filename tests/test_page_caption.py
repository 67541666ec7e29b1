"""Caption pages: word range, timeline callouts, summary, and the caption submission."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from tests.conftest import MakeProject
from tests.page_helpers import (
    QUICK_CONFIG,
    audio,
    blockers,
    bundle,
    download,
    fill_caption,
    media,
    open_page,
    page_named,
    until,
    validate,
    wait_metadata,
    words,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def quick_build(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    return build(make_project(config=QUICK_CONFIG), tmp_path / "out", progress=False)


def starts(page: Page) -> list[float]:
    """Callout start times in the order shown."""
    values: list[float] = page.eval_on_selector_all(
        "[data-testid='callout']", "items => items.map(i => Number(i.dataset.start))"
    )
    return values


def seek_to(page: Page, seconds: float) -> None:
    page.eval_on_selector(audio("A"), f"a => {{ a.currentTime = {seconds}; }}")
    until(page, "A", "!a.seeking")


def callout(page: Page, start: float) -> str:
    return f"[data-testid='callout'][data-start='{start}']"


def test_word_count_is_live_and_held_to_the_range(
    page: Page, pilot_build: BuildResult
) -> None:
    open_page(page, page_named(bundle(pilot_build, "r01"), "cap-001"))
    count = page.locator("[data-testid='word-count']")
    page.fill("[data-testid='caption']", "A slow, heavy intro — then drums enter.")
    assert count.text_content() == "7 words · target 300–500 · 293 to go"
    assert count.get_attribute("data-in-range") == "false"
    assert any(
        b.startswith("Caption: write 300–500 words (now 7)") for b in blockers(page)
    )

    page.fill("[data-testid='caption']", words(300))
    assert count.text_content() == "300 words · target 300–500 ✓"
    assert count.get_attribute("data-in-range") == "true"
    assert not any(b.startswith("Caption") for b in blockers(page))

    page.fill("[data-testid='caption']", words(502))
    assert count.text_content() == "502 words · target 300–500 · 2 too many"
    assert count.get_attribute("data-in-range") == "false"


def test_callouts_are_added_refused_sorted_and_seek(
    page: Page, pilot_build: BuildResult
) -> None:
    # cap-002 has no structure file, so the page starts with no callouts.
    open_page(page, page_named(bundle(pilot_build, "r02"), "cap-002"))
    wait_metadata(page, "A")
    message = page.locator("[data-testid='callout-message']")

    page.click("[data-testid='add-callout']")
    assert starts(page) == [0]
    page.click("[data-testid='add-callout']")
    assert message.is_visible()
    assert message.text_content() == "There is already a callout at 0:00.0."
    assert starts(page) == [0]

    # Alt+C while typing adds at the playhead and types nothing.
    seek_to(page, 12.34)
    page.fill("[data-testid='caption']", "Heavy riff")
    page.focus("[data-testid='caption']")
    page.keyboard.press("Alt+KeyC")
    assert page.input_value("[data-testid='caption']") == "Heavy riff"
    assert message.is_hidden()
    seek_to(page, 5)
    page.click("[data-testid='add-callout']")
    assert starts(page) == [0, 5, 12.3]

    # Edited times: outside the clip and duplicates are refused and put back.
    start = f"{callout(page, 12.3)} [data-testid='callout-start']"
    page.fill(start, "0:45.0")
    page.press(start, "Enter")
    assert message.text_content() == (
        "Time 0:45.0 is outside the track (0:00.0 to 0:40.0)."
    )
    assert page.input_value(start) == "0:12.3"
    page.fill(start, "0:05")
    page.press(start, "Enter")
    assert message.text_content() == "There is already a callout at 0:05.0."
    page.fill(start, "0:02.5")
    page.press(start, "Enter")
    assert message.is_hidden()
    assert starts(page) == [0, 2.5, 5]
    assert page.text_content(f"{callout(page, 2.5)} [data-testid='callout-seek']") == (
        "▶ 0:02.5"
    )

    page.click(f"{callout(page, 5)} [data-testid='callout-seek']")
    until(page, "A", "Math.abs(a.currentTime - 5) < 0.05")
    assert media(page, "A", "paused") is True

    page.click(f"{callout(page, 0)} [data-testid='callout-remove']")
    assert starts(page) == [2.5, 5]


def test_caption_submission_and_restore(page: Page, quick_build: BuildResult) -> None:
    """Callouts with tags, summary with free entry: restored, then downloaded."""
    html = page_named(bundle(quick_build, "r1"), "t2")
    config = open_page(page, html)
    fill_caption(page, config)
    wait_metadata(page, "A")
    seek_to(page, 3)
    page.click("[data-testid='add-callout']")
    assert any("callout at 0:03.0" in b for b in blockers(page))
    item = callout(page, 3)
    page.select_option(f"{item} [data-testid='callout-section']", "verse")
    page.fill(f"{item} [data-testid='callout-notes']", "Bass enters, Größe")
    for tag in ("piano", "theremin"):
        page.fill(f"{item} [data-testid='callout-instruments']", tag)
        page.press(f"{item} [data-testid='callout-instruments']", "Enter")
    page.fill(f"{item} [data-testid='callout-vibes']", "dreamy")
    page.press(f"{item} [data-testid='callout-vibes']", "Enter")
    page.fill("[data-testid='summary-genre-other']", "space rock")
    page.press("[data-testid='summary-genre-other']", "Enter")
    assert blockers(page) == []

    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert starts(page) == [3]
    assert page.input_value(f"{item} [data-testid='callout-section']") == "verse"
    assert page.is_checked("input[name='summary.genre'][value='space rock']")

    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    answers = submission["answers"]
    assert answers["word_count"] == config["captions"]["min_words"]
    assert answers["callouts"] == [
        {
            "start": 3,
            "section": "verse",
            "notes": "Bass enters, Größe",
            "instruments": ["piano", "theremin"],
            "vibes": ["dreamy"],
            "origin": "analyst",
        }
    ]
    summary = answers["summary"]
    assert summary["genre"] == ["rock", "space rock"]
    assert summary["quality"] == 5
    assert submission["kind"] == "caption"
    assert [c["label"] for c in submission["clips"]] == ["A"]
