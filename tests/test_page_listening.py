"""Listening-lab controls in Chromium: switching, loops, keys, waveform, loudness."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from builder.record import load_record
from tests.conftest import EXAMPLE, MakeProject, PageLog
from tests.page_helpers import (
    RATIONALE,
    audio,
    blockers,
    bundle,
    download,
    draft,
    media,
    open_page,
    page_named,
    set_rate,
    until,
    validate,
    wait_metadata,
)
from tests.sync_support import read_tab, run_sync

pytestmark = pytest.mark.browser

# Record, inside the page, where each clip stood when it paused and when it started
# sounding, and its volume then: media time, never wall time.
WATCH = """
() => {
  window.watched = [];
  for (const a of document.querySelectorAll("audio")) {
    for (const type of ["pause", "playing"]) {
      a.addEventListener(type, () => window.watched.push(
        {type, label: a.dataset.label, at: a.currentTime, volume: a.volume}));
    }
  }
}
"""


def blur(page: Page) -> None:
    """Leave focus on the body, as after a click on empty page space."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def watched(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.watched")
    return found


def events(page: Page, config: dict[str, Any]) -> list[dict[str, Any]]:
    page.evaluate("() => window.dispatchEvent(new Event('pagehide'))")
    saved = draft(page, config)
    assert saved is not None
    found: list[dict[str, Any]] = saved["ledger"]["events"]
    return found


def test_switching_keeps_the_position_within_50_ms(
    page: Page, pilot_build: BuildResult
) -> None:
    """Keys 1 and 2 switch at the same media moment, with a fade in."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    wait_metadata(page, "B")
    page.evaluate(WATCH)
    blur(page)
    page.keyboard.press("1")
    page.keyboard.press("Space")
    until(page, "A", "!a.paused && a.currentTime > 1.5")
    page.keyboard.press("2")
    until(page, "B", "!a.paused && a.currentTime > 3")
    page.keyboard.press("1")
    until(page, "A", "!a.paused && a.currentTime > 4")
    page.keyboard.press("Space")
    until(page, "A", "a.paused")

    seen = watched(page)
    for before, after in (("A", "B"), ("B", "A")):
        stop = next(w for w in seen if w["type"] == "pause" and w["label"] == before)
        go = next(
            w
            for w in seen
            if w["type"] == "playing" and w["label"] == after and w["at"] > 1
        )
        assert abs(go["at"] - stop["at"]) < 0.05, (stop, go)
        assert go["volume"] < 0.5  # it fades in from silence, no click
        seen = seen[seen.index(go) :]
    switches = [e for e in events(page, config) if e["type"] == "switch"]
    assert [(e["from"], e["label"]) for e in switches] == [("A", "B"), ("B", "A")]
    for event in switches:
        assert abs(event["at"] - event["from_at"]) < 0.05, event
    assert (
        page.get_attribute("[data-testid='player-A']", "class") == "player is-current"
    )


def test_a_loop_set_from_the_playhead_survives_switching(
    page: Page, pilot_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "abx-001"))
    for label in ("A", "B", "X"):
        wait_metadata(page, label)
        set_rate(page, label, 4)
    blur(page)
    page.keyboard.press("Space")
    until(page, "A", "a.currentTime > 2")
    page.keyboard.press("l")
    assert page.get_attribute("[data-testid='loop-state']", "data-pending")
    until(page, "A", "a.currentTime > 4")
    page.keyboard.press("L")
    state = page.locator("[data-testid='loop-state']")
    start = float(state.get_attribute("data-start") or "nan")
    end = float(state.get_attribute("data-end") or "nan")
    assert 2 <= start < 2.6 and 4 <= end < 4.6, (start, end)
    assert (state.text_content() or "").startswith("Looping 0:0")

    until(page, "A", f"a.currentTime < {end} - 1")  # went round
    page.keyboard.press("3")
    until(page, "X", "!a.paused")
    until(page, "X", f"a.currentTime > {end} - 0.3")
    until(page, "X", f"a.currentTime < {start} + 0.5")  # X went round too
    positions = []
    for _ in range(8):
        page.wait_for_timeout(60)
        positions.append(media(page, "X", "currentTime"))
    # A loaded machine may run a frame or two late: the wrap can overshoot a little.
    assert all(start - 0.05 <= p <= end + 1.0 for p in positions), positions
    assert media(page, "A", "paused") is True

    ledger = events(page, config)
    kinds = [(e["type"], e.get("label")) for e in ledger]
    assert ("loop_start", "A") in kinds and ("loop_set", "A") in kinds
    assert ("loop", "A") in kinds and ("loop", "X") in kinds
    assert ("switch", "X") in kinds
    wrap = next(e for e in ledger if e["type"] == "loop" and e["label"] == "X")
    assert (wrap["start"], wrap["end"]) == (start, end)
    page.keyboard.press("l")
    assert state.text_content() == "No loop"
    assert ("loop_clear", "X") in [
        (e["type"], e.get("label")) for e in events(page, config)
    ]


def test_waveform_click_seeks_and_the_playhead_is_drawn(
    page: Page, pilot_build: BuildResult
) -> None:
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "B")
    canvas = page.locator("[data-testid='player-B'] canvas")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    until(page, "B", "Math.abs(a.currentTime - 4.5) < 0.15")
    assert page.get_attribute("[data-testid='player-B']", "class") == (
        "player is-current"
    )
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    head = page.evaluate(
        """() => {
          const c = document.querySelector("[data-testid='player-B'] canvas");
          const ctx = c.getContext("2d");
          const row = ctx.getImageData(0, 1, c.width, 1).data;
          const hits = [];
          for (let x = 0; x < c.width; x++) {
            const [r, g, b] = row.slice(x * 4, x * 4 + 3);
            if (r === 0xd9 && g === 0x48 && b === 0x0f) hits.push(x / c.width);
          }
          return hits;
        }"""
    )
    assert head and all(abs(x - 0.25) < 0.02 for x in head), head
    assert media(page, "A", "currentTime") == 0


QUIET_LOUD = [
    "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,elements",
    "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/feelings-build.ogg,m2,"
    "distorted guitars;fast drums",
]
MATCH_CONFIG = """
[project]
id = "levels"

[[raters]]
id = "r1"

[listening]
min_coverage = 0.0
"""


def one_task(page: Page, folder: Path) -> dict[str, Any]:
    return open_page(page, page_named(folder, "t1"))


@pytest.mark.parametrize("match", [True, False])
def test_louder_clips_are_turned_down_and_the_gains_submitted(
    page: Page, make_project: MakeProject, tmp_path: Path, match: bool
) -> None:
    config_text = MATCH_CONFIG + ("" if match else "\n[loudness]\nmatch = false\n")
    root = make_project(QUIET_LOUD, config=config_text)
    result = build(root, tmp_path / "out", progress=False)
    config = one_task(page, bundle(result, "r1"))
    gains = {c["label"]: c["gain_db"] for c in config["clips"]}
    louder = min(gains, key=gains.__getitem__)
    expected = {"A": 0.0, "B": 0.0}
    if match:
        assert gains[louder] == pytest.approx(-2.27, abs=0.05)
        expected = gains
    volumes = {label: media(page, label, "volume") for label in ("A", "B")}
    for label, volume in volumes.items():
        assert volume == pytest.approx(10 ** (expected[label] / 20), abs=1e-3)
    shown = page.text_content(f"[data-testid='gain-{louder}']") or ""
    assert ("-2.3 dB" in shown) if match else (shown == "Level as recorded")

    # After a switch and its fades, each clip is back at its matched level.
    wait_metadata(page, "A")
    page.click("[data-testid='play-A']")
    until(page, "A", "!a.paused && a.currentTime > 0.5")
    page.click("[data-testid='play-B']")
    until(page, "B", "!a.paused && a.currentTime > 1")
    page.click("[data-testid='play-B']")
    for label in ("A", "B"):
        level = 10 ** (expected[label] / 20)
        until(page, label, f"Math.abs(a.volume - {level}) < 1e-3")

    page.check("input[name='overall'][value='A1']")
    for item in ("holistic", "melody", "rhythm", "arrangement", "production"):
        for label in ("A", "B"):
            page.check(f"input[name='{item}.{label}'][value='3']")
    for item in ("lead", "adherence", "engagement"):
        for label in ("A", "B"):
            page.check(f"input[name='{item}.{label}'][value='4']")
    page.check("input[name='elements.A'][value='fast drums']")
    page.fill("textarea[name='rationale']", RATIONALE)
    page.check("input[name='clips_match_prompt']")
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    assert submission["listening"]["gains"] == expected
    assert submission["listening"]["loudness_matched"] is match
    switch = next(e for e in submission["listening"]["events"] if e["type"] == "switch")
    assert (switch["from"], switch["label"]) == ("A", "B")
    assert abs(switch["at"] - switch["from_at"]) < 0.05
    assert submission["answers"]["elements"] == {"A": ["fast drums"], "B": []}


def test_recycling_needs_only_a_described_problem(
    page: Page, pilot_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(pilot_build, "r02"), "ab-003"))
    assert len(blockers(page)) > 3
    page.check("[data-testid='recycle']")
    assert blockers(page) == [
        "To recycle the task, tick a problem above and describe it"
    ]
    page.check("[data-testid='anomaly-audio_defect']")
    assert blockers(page)
    page.fill("[data-testid='anomaly-note-audio_defect']", "Clip B is silent")
    assert blockers(page) == []
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    assert submission["recycle_requested"] is True
    assert submission["anomalies"][0]["note"] == "Clip B is silent"
    page.reload()
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    assert page.is_checked("[data-testid='recycle']")
    assert (draft(page, config) or {})["recycle"] is True


# ---- identify trials in the browser ------------------------------------------------

TRIALS = [
    "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,abx_mode",
    "t1,abx,Same?,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,identify",
    "t2,abx,Same?,audio/madness-riff.ogg,m2,audio/chaosland-riff.ogg,m1,identify",
]


@pytest.fixture
def trial_result(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    root = make_project(TRIALS, config=MATCH_CONFIG)
    return build(root, tmp_path / "out", progress=False)


def test_the_identify_page_and_dom_do_not_tell_which_clip_x_is(
    page: Page, page_log: PageLog, trial_result: BuildResult, tmp_path: Path
) -> None:
    """F12: the rendered players of A, B and X differ only in their label and id."""
    record = load_record(trial_result.out)
    folder = bundle(trial_result, "r1")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for task_id in ("t1", "t2"):
        config = open_page(page, page_named(folder, task_id))
        for label in ("A", "B", "X"):
            wait_metadata(page, label)
        players = page.evaluate(
            """() => ["A", "B", "X"].map((label) => {
              const node = document.querySelector(`[data-testid='player-${label}']`);
              const a = node.querySelector("audio");
              return {
                html: node.outerHTML.replace(" is-current", "")
                  .replaceAll(a.getAttribute("src"), "SRC")
                  .replace(new RegExp(`\\\\b${label}\\\\b`, "g"), "L"),
                duration: a.duration, volume: a.volume,
              };
            })"""
        )
        assert players[0] == players[1] == players[2]
        assert "reference" not in (page.text_content("main") or "")
        assert page.locator("input[name='holistic.A']").count() == 0
        assert blockers(page) == ["“Which clip is X?”: choose an answer"]

        key = record.identify_key(task_id, "r1")
        assert key in ("A", "B")
        page.check(f"input[name='x_is'][value='{key}']")
        name, data = download(page)
        (downloads / name).write_bytes(data)
        submission = json.loads(data)
        validate(submission)
        assert submission["answers"] == {"x_is": key}
        shown = {c["label"]: c["clip_id"] for c in submission["clips"]}
        # Sync checks the clips shown against the record: these must agree.
        assert shown == record.clip_ids(task_id, "r1")
        assert submission["listening"]["gains"] == {"A": 0, "B": 0, "X": 0}
        assert config["task"]["abx_mode"] == "identify"
    assert page_log.errors == []
    # Sync accepts the trials: the clips shown agree with the build record.
    tracker = tmp_path / "tracker.xlsx"
    report = run_sync(downloads, trial_result, tracker, now=datetime.now(UTC))
    assert (report.accepted, report.rejected) == (2, [])
    assert {r["task_id"] for r in read_tab(tracker, "Submissions")} == {"t1", "t2"}


def test_a_whole_task_by_keyboard_alone(
    page: Page, make_project: MakeProject, tmp_path: Path
) -> None:
    """Focus the body, then only keyboard presses and typing, through the download."""
    config_text = MATCH_CONFIG.replace("min_coverage = 0.0", "min_coverage = 0.9")
    root = make_project(QUIET_LOUD, config=config_text)
    shutil.copyfile(EXAMPLE / "audio" / "madness-riff.ogg", root / "audio" / "x.ogg")
    folder = bundle(build(root, tmp_path / "out", progress=False), "r1")
    config = one_task(page, folder)
    for label in ("A", "B"):
        wait_metadata(page, label)
        set_rate(page, label)  # the documented hurry hook; no clicks
    blur(page)
    page.keyboard.press("1")
    page.keyboard.press("Space")
    until(page, "A", "a.ended")
    page.keyboard.press("2")  # B is selected at A's moment, its end: go back
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    until(page, "B", "a.currentTime === 0")
    page.keyboard.press("Space")
    until(page, "B", "a.ended")

    seen: set[str] = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => { const e = document.activeElement;
              return {tag: e.tagName, type: e.type || "", name: e.name || "",
                      testid: e.dataset.testid || ""}; }"""
        )
        name = focus["name"]
        if focus["testid"] == "download":
            break
        if focus["type"] in ("radio", "checkbox") and name not in seen:
            if name.startswith(("anomaly", "recycle")):
                continue
            seen.add(name)
            page.keyboard.press("Space")
            if name == "overall":
                page.keyboard.press("ArrowRight")  # move along the scale
        elif focus["tag"] == "TEXTAREA" and name == "rationale":
            page.keyboard.type(RATIONALE)
    else:
        pytest.fail(f"never reached the download button: {blockers(page)}")
    assert blockers(page) == []
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    submission = json.loads(Path(info.value.path()).read_bytes())
    validate(submission)
    answers = submission["answers"]
    assert answers["overall"] == "A2"
    assert answers["rationale"] == RATIONALE
    assert answers["clips_match_prompt"] is True
    assert answers["elements"] == {
        "A": ["distorted guitars"],
        "B": ["distorted guitars"],
    }
    assert all(isinstance(answers[i]["A"], int) for i in ("holistic", "engagement"))
    heard = submission["listening"]["clips"]
    assert heard["A"]["coverage"] >= 0.9 and heard["B"]["coverage"] >= 0.9
    assert submission["task_id"] == config["task"]["id"]
    unlabelled: list[str] = page.eval_on_selector_all(
        "main input, main textarea, main button, main select",
        "nodes => nodes.filter(n => !n.labels?.length && !n.getAttribute('aria-label')"
        " && !n.textContent.trim()).map(n => n.outerHTML)",
    )
    assert unlabelled == []
    assert audio("A")


@pytest.mark.parametrize(
    ("points", "tie", "values"),
    [
        (7, True, ["A3", "A2", "A1", "0", "B1", "B2", "B3"]),
        (5, True, ["A2", "A1", "0", "B1", "B2"]),
        (3, True, ["A1", "0", "B1"]),
        (3, False, ["A1", "B1"]),
    ],
)
def test_preference_strength_scales(
    page: Page,
    make_project: MakeProject,
    tmp_path: Path,
    points: int,
    tie: bool,
    values: list[str],
) -> None:
    config_text = MATCH_CONFIG + (
        f'\n[[rubric]]\nid = "overall"\ntype = "preference"\nlabel = "Which?"\n'
        f"strength_points = {points}\nallow_tie = {str(tie).lower()}\n"
    )
    root = make_project(QUIET_LOUD, config=config_text)
    folder = bundle(build(root, tmp_path / "out", progress=False), "r1")
    open_page(page, page_named(folder, "t1"))
    shown = page.eval_on_selector_all(
        "input[name='overall']", "inputs => inputs.map(i => i.value)"
    )
    assert shown == values
    page.check(f"input[name='overall'][value='{values[-1]}']")
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    assert submission["answers"] == {"overall": values[-1]}
