"""Untrusted and non-ASCII text on the pages: shown literally, never run (F10, F11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import build
from tests.conftest import MakeProject, PageLog
from tests.page_helpers import (
    QUICK_CONFIG,
    bundle,
    download,
    open_page,
    page_named,
    validate,
)

pytestmark = pytest.mark.browser

ATTACK = "</script><script>alert(1)</script>"
HELP = "Compare both <!-- not a comment \u2028 next </script><b>bold</b>"
NOTE = "Heard <!-- a click \u2028 then </script><script>alert(2)</script> & more"

HOSTILE_CONFIG = """
[project]
id = "hostile"
title = "<img src=x onerror=alert(3)>"

[[raters]]
id = "r1"
name = "<script>alert(4)</script>"

[listening]
min_coverage = 0.0

[[rubric]]
id = "overall"
type = "preference"
label = "Which is better? <i>really</i>"
help = "Compare both <!-- not a comment \\u2028 next </script><b>bold</b>"

[[rubric]]
id = "note"
type = "text"
label = "Any note"
min_words = 1
"""


def test_hostile_text_is_shown_literally_and_never_runs(
    page: Page, page_log: PageLog, make_project: MakeProject, tmp_path: Path
) -> None:
    """F10: prompt, names, help and typed notes stay text, on screen and in the file."""
    rows = [
        "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
        f"t1,ab,{ATTACK},audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
        f"t2,caption,{ATTACK},audio/feelings-build.ogg,m1,,",
    ]
    root = make_project(rows, config=HOSTILE_CONFIG)
    folder = bundle(build(root, tmp_path / "out", progress=False), "r1")

    open_page(page, folder / "index.html")
    prompts = page.eval_on_selector_all(
        ".prompt-cell", "cells => cells.map(c => c.textContent)"
    )
    assert prompts == [ATTACK, ATTACK]
    assert (page.text_content(".brand-name") or "").strip() == (
        "<img src=x onerror=alert(3)>"
    )

    config = open_page(page, page_named(folder, "t1"))
    assert config["task"]["prompt"] == ATTACK
    assert page.text_content("[data-testid='prompt']") == ATTACK
    help_text = "[data-testid='item-overall'] .help p"
    assert page.is_hidden(help_text)
    page.click("[data-testid='item-overall'] .help summary")
    assert page.is_visible(help_text)
    assert page.text_content(help_text) == HELP
    assert "<script>alert(4)</script>" in (page.text_content(".rater") or "")
    assert page.locator("script").count() == 2
    assert page.locator("img, b, i").count() == 0

    page.check("input[name='overall'][value='0']")
    page.fill("textarea[name='note']", NOTE)
    page.check("[data-testid='anomaly-ui_bug']")
    page.fill("[data-testid='anomaly-note-ui_bug']", NOTE)
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    assert submission["prompt"] == ATTACK
    assert submission["answers"]["note"] == NOTE
    assert submission["anomalies"][0]["note"] == NOTE
    page.click("[data-testid='show-json']")
    assert page.input_value("[data-testid='json-text']").encode("utf-8") == data

    open_page(page, page_named(folder, "t2"))
    assert page.text_content("[data-testid='prompt']") == ATTACK
    page.wait_for_timeout(200)
    assert page_log.dialogs == []
    assert page_log.errors == []


def test_non_ascii_prompts_are_shown_intact(
    page: Page, make_project: MakeProject, tmp_path: Path
) -> None:
    """F11: a BOM-prefixed UTF-8 manifest's text reaches the pages unchanged."""
    prompts = ["Größe", "Μουσική", "音楽 🎵"]
    lines = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b"] + [
        f"t{n},ab,{prompt},audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2"
        for n, prompt in enumerate(prompts, start=1)
    ]
    raw = "\ufeff".encode() + ("\n".join(lines) + "\n").encode("utf-8")
    root = make_project(raw=raw, config=QUICK_CONFIG)
    folder = bundle(build(root, tmp_path / "out", progress=False), "r1")

    open_page(page, folder / "index.html")
    shown = page.eval_on_selector_all(
        ".prompt-cell", "cells => cells.map(c => c.textContent)"
    )
    assert shown == prompts
    assert page.eval_on_selector_all(
        "[data-testid='task-row']", "rows => rows.map(r => r.dataset.task)"
    ) == ["t1", "t2", "t3"]
    for number, prompt in enumerate(prompts, start=1):
        open_page(page, page_named(folder, f"t{number}"))
        assert page.text_content("[data-testid='prompt']") == prompt
