"""Regenerate examples/pilot/submissions by filling the built bundles in Chromium.

Builds the example project into a scratch folder, opens each chosen task page
from disk in Debian's Chromium, listens to every clip (at 16x), answers the form
the way the plan below says, and keeps the downloaded JSON files.

    python scripts/make_example_submissions.py      (or: make examples)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from builder.build import build  # noqa: E402
from tests.page_helpers import download, listen_through, open_page  # noqa: E402

EXAMPLE = REPO / "examples" / "pilot"
TARGET = EXAMPLE / "submissions"
CHROMIUM_ARGS = [
    "--no-sandbox", "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking", "--disable-component-update", "--disable-gpu",
]  # fmt: skip

# Captions written for these excerpts, in present tense, 300-500 words each.
CAPTION_BUILD = (REPO / "scripts" / "caption-build.txt").read_text("utf-8")
CAPTION_LONG = (REPO / "scripts" / "caption-long.txt").read_text("utf-8")

# (rater, task): how the analyst answers. Tasks not listed stay pending, so the
# tracker's Tasks and Burn-down tabs have something left to do.
PLAN: dict[tuple[str, str], dict[str, Any]] = {
    ("r01", "ab-001"): {"overall": "B2", "scores": (3, 4), "drivers": ["musical"]},
    ("r01", "ab-002"): {"overall": "A1", "scores": (4, 4), "drivers": ["stylistic"]},
    ("r01", "abx-001"): {"overall": "B3", "scores": (2, 5), "drivers": ["technical"],
                         "anomaly": ("audio_defect", "Faint click at 0:09 in A")},
    ("r01", "cap-001"): {"caption": CAPTION_BUILD},
    ("r02", "ab-001"): {"overall": "A1", "scores": (4, 3), "drivers": ["musical"]},
    ("r02", "ab-003"): {"overall": "0", "scores": (3, 3), "drivers": [],
                        "anomaly": ("unclear_prompt", "'Builds tension' vs 'intro'?")},
    ("r02", "cap-002"): {"caption": CAPTION_LONG},
    ("r03", "ab-002"): {"overall": "A2", "scores": (5, 3), "drivers": ["musical"]},
}  # fmt: skip

RATIONALES = {
    "A": "Clip A follows the prompt more closely: the guitars are tighter, the drums "
    "drive harder, and the mix keeps every part audible through the loud passages.",
    "B": "Clip B fits the prompt better: its riff is heavier and more focused, the "
    "drums are faster and cleaner, and the low end of A gets muddy around 0:10.",
    "0": "Both clips answer the prompt about equally well; A has the better tone and B "
    "the better groove, and neither clearly wins for this prompt overall.",
}


def fill_preference(page: Page, config: dict[str, Any], plan: dict[str, Any]) -> None:
    """Answer the rubric from the plan: preference, per-clip scores, rationale."""
    labels = [c["label"] for c in config["clips"] if c["label"] != "X"]
    for item in config["rubric"]:
        name, kind = item["id"], item["type"]
        if kind == "preference":
            page.check(f"input[name='{name}'][value='{plan['overall']}']")
        elif kind == "rating":
            for label, score in zip(labels, plan["scores"], strict=True):
                page.check(f"input[name='{name}.{label}'][value='{score}']")
        elif kind == "text":
            page.fill(f"textarea[name='{name}']", RATIONALES[plan["overall"][0]])
        elif kind == "tags":
            for value in plan["drivers"]:
                page.check(f"input[name='{name}'][value='{value}']")
        elif kind == "confirm":
            page.check(f"input[name='{name}']")


def fill_caption(page: Page, config: dict[str, Any], plan: dict[str, Any]) -> None:
    """Write the caption, place callouts at real playhead times, fill the summary.

    Callouts suggested from a structure file are dealt with as an analyst might:
    the first confirmed, the second given notes (edited), the rest left as they are.
    """
    page.fill("[data-testid='caption']", plan["caption"])
    duration = config["clips"][0]["duration"]
    audio = "[data-testid='audio-A']"
    places: tuple[tuple[float, str], ...] = (
        (0.0, "intro"),
        (0.35, "verse"),
        (0.7, "build"),
    )
    suggested = page.locator("[data-testid='callout'][data-origin='suggested']")
    if suggested.count():
        suggested.nth(0).locator("[data-testid='callout-confirm']").click()
        suggested.nth(1).locator("[data-testid='callout-notes']").fill(
            "Palm-muted guitars and a steadier kick take over."
        )
        places = ((0.85, "outro"),)
    for share, section in places:
        page.eval_on_selector(audio, f"a => {{ a.currentTime = {duration * share}; }}")
        page.click("[data-testid='add-callout']")
        item = page.locator("[data-testid='callout']").last
        item.locator("[data-testid='callout-section']").select_option(section)
        item.locator("[data-testid='callout-notes']").fill(f"The {section} begins.")
        tags = item.locator("[data-testid='callout-instruments']")
        tags.fill("electric guitar")
        tags.press("Enter")
    picks = {
        "genre": ["rock"],
        "instrumentation": ["electric guitar", "bass guitar"],
        "mix": ["wide stereo", "polished"],
        "vibe": ["energetic", "epic"],
    }
    for field in config["captions"]["summary"]:
        name = f"summary.{field['id']}"
        if field["type"] == "multi":
            for value in picks.get(field["id"], field["vocabulary"][:1]):
                page.check(f"input[name='{name}'][value='{value}']")
        else:
            page.check(f"input[name='{name}'][value='{field['scale_max'] - 1}']")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        result = build(EXAMPLE, Path(scratch) / "build", progress=False)
        record = result.record
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.mkdir()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            for (rater, task_id), plan in PLAN.items():
                context = browser.new_context(accept_downloads=True)
                page = context.new_page()
                html = (
                    result.out
                    / "bundles"
                    / rater
                    / record["raters"][rater]["tasks"][task_id]["page"]
                )
                config = open_page(page, html)
                for clip in config["clips"]:
                    listen_through(page, clip["label"])
                if config["task"]["kind"] == "caption":
                    fill_caption(page, config, plan)
                else:
                    fill_preference(page, config, plan)
                if "anomaly" in plan:
                    kind, note = plan["anomaly"]
                    page.check(f"[data-testid='anomaly-{kind}']")
                    page.fill(f"[data-testid='anomaly-note-{kind}']", note)
                name, data = download(page)
                (TARGET / name).write_bytes(data)
                print(f"{rater} {task_id}: {name}")
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
