"""The rubric form: built from the config, labelled, usable from the keyboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from tests.conftest import MakeProject
from tests.page_helpers import (
    blockers,
    bundle,
    download,
    media,
    open_page,
    page_named,
    until,
    validate,
    wait_metadata,
)

pytestmark = pytest.mark.browser

VARIANT_CONFIG = """
[project]
id = "variants"

[[raters]]
id = "r1"

[listening]
min_coverage = 0.0

[[rubric]]
id = "overall"
type = "preference"
label = "Which clip fits better?"
strength_points = 5
allow_tie = false

[[rubric]]
id = "mood"
type = "rating"
label = "How well does the mood fit?"
scale_min = 0
scale_max = 3
allow_na = true
anchors = { "0" = "not at all", "3" = "exactly" }

[[rubric]]
id = "issues"
type = "tags"
label = "What did you notice?"
required = true
options = [
  { value = "clipping", label = "Clipping" },
  { value = "noise", label = "Noise" },
]

[[rubric]]
id = "comment"
type = "text"
label = "Anything else?"
required = false

[[rubric]]
id = "heard_all"
type = "confirm"
label = "I listened on headphones."
"""


def test_config_variants_render_and_answer(
    page: Page, make_project: MakeProject, tmp_path: Path
) -> None:
    folder = bundle(
        build(make_project(config=VARIANT_CONFIG), tmp_path / "out", progress=False),
        "r1",
    )
    open_page(page, page_named(folder, "t1"))
    values = page.eval_on_selector_all(
        "input[name='overall']", "inputs => inputs.map(i => i.value)"
    )
    assert values == ["A2", "A1", "B1", "B2"]
    assert page.eval_on_selector_all(
        "input[name='mood']", "inputs => inputs.map(i => i.value)"
    ) == ["0", "1", "2", "3", "na"]
    assert page.get_attribute("input[name='mood'][value='3']", "aria-label") == (
        "Rating: 3, exactly"
    )
    assert page.locator("input[name='mood.A']").count() == 0
    assert blockers(page) == [
        "“Which clip fits better?”: choose an answer",
        "“How well does the mood fit?”: choose an answer",
        "“What did you notice?”: pick at least one",
        "“I listened on headphones.”: tick to confirm",
    ]

    page.check("input[name='overall'][value='A1']")
    page.check("input[name='mood'][value='na']")
    page.check("input[name='issues'][value='noise']")
    page.check("input[name='issues'][value='clipping']")
    page.check("input[name='heard_all']")
    assert blockers(page) == []

    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    assert submission["answers"] == {
        "overall": "A1",
        "mood": "na",
        "issues": ["clipping", "noise"],
        "comment": "",
        "heard_all": True,
    }


def test_the_page_works_from_the_keyboard(page: Page, pilot_build: BuildResult) -> None:
    """Space plays, arrow keys move through a scale and seek, Alt+P pauses."""
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    page.focus("[data-testid='play-A']")
    page.keyboard.press("Space")
    until(page, "A", "!a.paused && a.currentTime > 0.2")
    page.keyboard.press("Alt+KeyP")
    until(page, "A", "a.paused")

    page.focus("[data-testid='seek-A']")
    before = media(page, "A", "currentTime")
    page.keyboard.press("ArrowRight")
    until(page, "A", f"Math.abs(a.currentTime - {before + 5}) < 0.01")

    page.focus("input[name='overall'][value='0']")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("input[name='overall'][value='B1']")
    assert unlabelled(page) == []
    open_page(page, page_named(bundle(pilot_build, "r01"), "cap-001"))
    page.click("[data-testid='add-callout']")
    assert unlabelled(page) == []


def unlabelled(page: Page) -> list[str]:
    """Controls with no accessible name: no label, no aria-label, no text."""
    found: list[str] = page.eval_on_selector_all(
        "main input, main textarea, main button, main select",
        "nodes => nodes.filter(n => !n.labels?.length && !n.getAttribute('aria-label')"
        " && !n.textContent.trim()).map(n => n.outerHTML)",
    )
    return found
