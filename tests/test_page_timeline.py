"""Caption pages: callouts by key and from structure files, summary, time, guidance."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

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
    draft,
    fill_caption,
    open_page,
    page_named,
    until,
    validate,
    wait_metadata,
    words,
)

pytestmark = pytest.mark.browser

ROWS = [
    "task_id,kind,prompt,clip_a,model_a,structure",
    "t1,caption,Describe,audio/feelings-build.ogg,m1,{structure}",
]
GUIDED_CONFIG = (
    QUICK_CONFIG
    + """
[captions]
guidelines = \"\"\"
Say what you hear <script>alert(1)</script>, **loudest first**.

- Name the *lead* instrument
- Give times
  as m:ss
\"\"\"
"""
)


def starts(page: Page) -> list[float]:
    values: list[float] = page.eval_on_selector_all(
        "[data-testid='callout']", "items => items.map(i => Number(i.dataset.start))"
    )
    return values


def callout(start: float) -> str:
    return f"[data-testid='callout'][data-start='{start}']"


def seek_to(page: Page, seconds: float) -> None:
    page.eval_on_selector(audio("A"), f"a => {{ a.currentTime = {seconds}; }}")
    until(page, "A", "!a.seeking")


def reload(page: Page) -> None:
    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")


@pytest.fixture
def structured(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    root = make_project(
        [r.format(structure="structure.csv") for r in ROWS], config=QUICK_CONFIG
    )
    (root / "structure.csv").write_text(
        "time,label\n0,Intro\n8.25,Verse\n16,GTR\n24.5,Kazoo break\n30,no_function\n",
        "utf-8",
    )
    return build(root, tmp_path / "out", progress=False)


def test_suggested_callouts_are_confirmed_edited_or_left_and_recorded(
    page: Page, structured: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(structured, "r1"), "t1"))
    assert starts(page) == [0, 8.3, 16, 24.5, 30]
    states = page.eval_on_selector_all(
        "[data-testid='callout']",
        "items => items.map(i => [i.dataset.origin, i.dataset.suggestion])",
    )
    assert states == [["suggested", "untouched"]] * 5
    pending = page.locator("[data-testid='suggestions-pending']")
    assert pending.get_attribute("data-count") == "5"
    assert page.input_value(f"{callout(16)} [data-testid='callout-section']") == "solo"
    unknown = page.locator(f"{callout(24.5)} [data-testid='callout-suggested']")
    assert "“Kazoo break” at 0:24.5 (not in this project's section types)" in (
        unknown.text_content() or ""
    )
    # no_function leaves the section to the analyst, which the download needs.
    assert any("callout at 0:30.0" in b for b in blockers(page))

    page.click(f"{callout(0)} [data-testid='callout-confirm']")
    page.fill(f"{callout(8.3)} [data-testid='callout-notes']", "The bass joins.")
    page.select_option(f"{callout(30)} [data-testid='callout-section']", "outro")
    start = f"{callout(16)} [data-testid='callout-start']"
    page.fill(start, "0:17.0")
    page.press(start, "Enter")
    assert pending.get_attribute("data-count") == "1"
    assert page.is_hidden(f"{callout(0)} [data-testid='callout-confirm']")

    reload(page)
    assert starts(page) == [0, 8.3, 17, 24.5, 30]
    fill_caption(page, config)
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    got = [
        (c["start"], c["section"], c["origin"], c.get("suggestion"))
        for c in submission["answers"]["callouts"]
    ]
    assert got == [
        (0, "intro", "suggested", "confirmed"),
        (8.3, "verse", "suggested", "edited"),
        (17, "solo", "suggested", "edited"),
        (24.5, "Kazoo break", "suggested", "untouched"),
        (30, "outro", "suggested", "edited"),
    ]
    kazoo = submission["answers"]["callouts"][3]
    assert kazoo["suggested_label"] == "Kazoo break"
    assert kazoo["suggested_known"] is False
    assert submission["answers"]["callouts"][2]["suggested_start"] == 16


@pytest.fixture
def quick_build(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    return build(make_project(config=QUICK_CONFIG), tmp_path / "out", progress=False)


def test_callouts_by_key_at_known_playhead_times(
    page: Page, quick_build: BuildResult
) -> None:
    open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    wait_metadata(page, "A")
    page.focus("[data-testid='caption']")
    for at in (21.47, 3.0, 9.96, 0.04):
        seek_to(page, at)
        page.keyboard.press("Alt+KeyC")
    assert starts(page) == [0, 3, 10, 21.5]
    assert page.input_value("[data-testid='caption']") == ""
    # The same tenth again is refused, and nothing is added.
    seek_to(page, 3.04)
    page.keyboard.press("Alt+KeyC")
    message = page.locator("[data-testid='callout-message']")
    assert message.text_content() == "There is already a callout at 0:03.0."
    assert starts(page) == [0, 3, 10, 21.5]

    # Starts typed as m:ss.s or h:mm:ss.s; outside the track is refused.
    start = f"{callout(10)} [data-testid='callout-start']"
    page.fill(start, "0:00:12.5")
    page.press(start, "Enter")
    assert starts(page) == [0, 3, 12.5, 21.5]
    moved = f"{callout(12.5)} [data-testid='callout-start']"
    page.fill(moved, "1:00:00.0")
    page.press(moved, "Enter")
    assert message.text_content() == (
        "Time 1:00:00.0 is outside the track (0:00.0 to 0:40.0)."
    )
    assert page.input_value(moved) == "0:12.5"
    page.fill(moved, "0:61")
    page.press(moved, "Enter")
    assert message.text_content() == "Type a time as m:ss.s, for example 1:05.5."
    assert starts(page) == [0, 3, 12.5, 21.5]


def pick_summary(page: Page, config: dict[str, Any]) -> dict[str, Any]:
    """Answer every summary field: two picks and a typed value, or a scale point."""
    expected: dict[str, Any] = {}
    for field in config["captions"]["summary"]:
        name = f"summary.{field['id']}"
        if field["type"] == "multi":
            picks = field["vocabulary"][1:3]
            for value in picks:
                page.check(f"input[name='{name}'][value='{value}']")
            other = f"[data-testid='summary-{field['id']}-other']"
            page.fill(other, f"own {field['id']}")
            page.press(other, "Enter")
            expected[field["id"]] = [*picks, f"own {field['id']}"]
        else:
            page.check(f"input[name='{name}'][value='{field['scale_min'] + 1}']")
            expected[field["id"]] = field["scale_min"] + 1
    return expected


def test_every_field_survives_a_reload_and_downloads(
    page: Page, quick_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    wait_metadata(page, "A")
    text = words(config["captions"]["min_words"] - 4) + ". The riff returned later."
    page.fill("[data-testid='caption']", text)
    assert page.get_attribute("[data-testid='word-count']", "data-in-range") == "true"
    seek_to(page, 6.5)
    page.click("[data-testid='add-callout']")
    item = callout(6.5)
    page.select_option(f"{item} [data-testid='callout-section']", "chorus")
    page.fill(f"{item} [data-testid='callout-notes']", "Drums double up.")
    for field, tag in (("instruments", "choir"), ("vibes", "tense")):
        page.fill(f"{item} [data-testid='callout-{field}']", tag)
        page.press(f"{item} [data-testid='callout-{field}']", "Enter")
    expected = pick_summary(page, config)
    assert blockers(page) == []

    reload(page)
    assert page.input_value("[data-testid='caption']") == text
    assert page.get_attribute("[data-testid='style-warnings']", "data-count") == "1"
    assert starts(page) == [6.5]
    assert page.input_value(f"{item} [data-testid='callout-section']") == "chorus"
    assert page.input_value(f"{item} [data-testid='callout-notes']") == (
        "Drums double up."
    )
    for field in config["captions"]["summary"]:
        for value in expected[field["id"]] if field["type"] == "multi" else []:
            assert page.is_checked(
                f"input[name='summary.{field['id']}'][value='{value}']"
            )
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    answers = submission["answers"]
    assert answers["caption"] == text
    assert answers["summary"] == expected
    assert answers["callouts"] == [
        {
            "start": 6.5,
            "section": "chorus",
            "notes": "Drums double up.",
            "instruments": ["choir"],
            "vibes": ["tense"],
            "origin": "analyst",
        }
    ]
    assert submission["rework_round"] == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_summary_scale_buttons_never_overlap(
    page: Page, quick_build: BuildResult, tmp_path: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    for field in ("quality", "wow_factor"):
        scale = page.locator(f"[data-testid='summary-{field}'] .scale")
        scale.screenshot(path=tmp_path / f"{field}-{width}.png")
        boxes = scale.locator(".seg").evaluate_all(
            "segs => segs.map(s => { const f = s.querySelector('.seg-face')"
            ".getBoundingClientRect(); const a = s.querySelector('.seg-anchor')"
            ".getBoundingClientRect(); const b = s.getBoundingClientRect();"
            " return [b.left, b.right, f.left, f.right, a.left, a.right, b.top]; })"
        )
        for left, right, face_left, face_right, a_left, a_right, _ in boxes:
            assert left - 0.5 <= face_left and face_right <= right + 0.5
            assert left - 0.5 <= a_left and a_right <= right + 0.5
        rows: dict[float, list[tuple[float, float]]] = {}
        for left, right, *_, top in boxes:
            rows.setdefault(round(top), []).append((left, right))
        for segs in rows.values():
            for (_, right), (left, _) in itertools.pairwise(segs):
                assert right <= left + 0.5, f"{field} at {width}px overlaps"
        widths = {round(b[1] - b[0]) for b in boxes}
        assert len(widths) == 1, f"{field} segments differ in width: {widths}"


def test_active_time_is_shown_against_the_plan(
    page: Page, quick_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    box = page.locator("[data-testid='active-time']")
    assert box.get_attribute("data-state") == "under"
    assert "of a planned 20–30 min" in (box.text_content() or "")
    stored = draft(page, config)
    assert stored is not None
    for seconds, state, shown in ((1500, "within", "25:00"), (1900, "over", "31:40")):
        stored["active_seconds"] = seconds
        # Written as the next document starts: the page saves its own on the way out.
        page.add_init_script(
            f"localStorage.setItem({json.dumps(config['storage_key'])}, "
            f"{json.dumps(json.dumps(stored))});"
        )
        reload(page)
        assert box.get_attribute("data-state") == state
        assert page.text_content("[data-testid='active-clock']") == shown


def test_guidelines_are_the_projects_own_rendered_safely(
    page: Page, make_project: MakeProject, tmp_path: Path
) -> None:
    guided = build(make_project(config=GUIDED_CONFIG), tmp_path / "g", progress=False)
    open_page(page, page_named(bundle(guided, "r1"), "t2"))
    panel = page.locator("[data-testid='guidelines'] .guidance")
    assert panel.inner_html() == (
        "<p>Say what you hear &lt;script&gt;alert(1)&lt;/script&gt;, "
        "<strong>loudest first</strong>.</p>\n"
        "<ul><li>Name the <em>lead</em> instrument</li><li>Give times as m:ss</li></ul>"
    )
    assert page.locator("[data-testid='guidelines'] script").count() == 0


def test_default_guidelines_cover_prominence_and_grounding(
    page: Page, quick_build: BuildResult
) -> None:
    open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    default = page.text_content("[data-testid='guidelines']") or ""
    assert "Most prominent first." in default
    assert "Ground every judgement in a sound." in default
