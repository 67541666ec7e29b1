"""Drive bundle pages in Chromium the way an analyst would, through stable DOM hooks.

The hooks (data-testid, input names) are documented at the top of
site_assets/earmark.js; these helpers are the reference use of them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
from playwright.sync_api import Page

from builder.build import BuildResult

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "schemas" / "submission.schema.json").read_text("utf-8"))
# Listening at 16x keeps an 18 s clip to about a second of wall time.
FAST = 16
RATIONALE = (
    "Clip B keeps the groove tight and the guitars sit well in the mix, while A "
    'drifts and the drums feel late around the middle; Größe 🎵 "quoted".'
)
# One rater, no listening minimum: for tests about what happens past the gate.
QUICK_CONFIG = """
[project]
id = "quick"
title = "Quick checks"

[[raters]]
id = "r1"
name = "Test Rater"

[listening]
min_coverage = 0.0
"""


def bundle(result: BuildResult, rater: str) -> Path:
    """The folder of one rater's bundle in a build."""
    return result.out / "bundles" / rater


def copy_bundle(result: BuildResult, rater: str, target: Path) -> Path:
    """A private copy of a bundle (audio copied, not linked) that a test may change."""
    folder = target / rater
    shutil.copytree(bundle(result, rater), folder, copy_function=shutil.copyfile)
    return folder


def page_named(folder: Path, task_id: str) -> Path:
    """The task page in ``folder`` whose embedded config names ``task_id``."""
    for html in sorted(folder.glob("task-*.html")):
        if f'"id":"{task_id}"' in html.read_text("utf-8"):
            return html
    raise LookupError(f"no page for {task_id} in {folder}")


def config_of(html: Path) -> dict[str, Any]:
    """The config a page embeds, read from its file."""
    text = html.read_text("utf-8")
    start = text.index('id="earmark-config">') + len('id="earmark-config">')
    config: dict[str, Any] = json.loads(text[start : text.index("</script>", start)])
    return config


def open_page(page: Page, path: Path) -> dict[str, Any]:
    """Open a bundle page from disk, wait until it is wired, return its config."""
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-earmark='ready']", state="attached")
    config: dict[str, Any] = page.evaluate(
        "JSON.parse(document.getElementById('earmark-config').textContent)"
    )
    return config


def audio(label: str) -> str:
    return f"[data-testid='audio-{label}']"


def media(page: Page, label: str, prop: str) -> Any:
    """Read a property of a clip's <audio> element."""
    return page.eval_on_selector(audio(label), f"a => a.{prop}")


def set_rate(page: Page, label: str, rate: float = FAST) -> None:
    page.eval_on_selector(audio(label), f"a => {{ a.playbackRate = {rate}; }}")


def until(page: Page, label: str, condition: str, timeout: float = 20_000) -> None:
    """Wait until ``condition`` (JS, with ``a`` the clip's audio element) holds.

    A function, not an expression: the page's CSP forbids eval, which Playwright
    uses for string predicates.
    """
    page.wait_for_function(
        "selector => {"
        " const a = document.querySelector(selector);"
        f" return {condition}; }}",
        arg=audio(label),
        timeout=timeout,
    )


def wait_metadata(page: Page, label: str) -> None:
    until(page, label, "a.readyState >= 1", timeout=10_000)


def listen_through(page: Page, label: str, rate: float = FAST) -> None:
    """Play a clip from the start to its end at ``rate``, pressing its play button."""
    wait_metadata(page, label)
    set_rate(page, label, rate)
    page.click(f"[data-testid='play-{label}']")
    until(page, label, "a.ended")


def fill_rubric(page: Page, config: dict[str, Any], rationale: str = RATIONALE) -> None:
    """Answer every rubric item: B preferred, ratings of 4 (A) and 5 (B)."""
    rated = [c["label"] for c in config["clips"] if c["label"] != "X"]
    for item in config["rubric"]:
        name = item["id"]
        kind = item["type"]
        if kind == "preference":
            page.check(f"input[name='{name}'][value='B2']")
        elif kind == "rating" and item["per_clip"]:
            for label in rated:
                score = 4 if label == "A" else 5
                page.check(f"input[name='{name}.{label}'][value='{score}']")
        elif kind == "rating":
            page.check(f"input[name='{name}'][value='{item['scale_min']}']")
        elif kind == "text":
            page.fill(f"textarea[name='{name}']", rationale)
        elif kind == "tags":
            page.check(f"input[name='{name}'][value='{item['options'][0]['value']}']")
        elif kind == "confirm":
            page.check(f"input[name='{name}']")


def words(count: int) -> str:
    """A caption of ``count`` words, in present tense."""
    base = ["the", "track", "opens", "with", "a", "slow", "riff", "over", "drums"]
    return " ".join(base[i % len(base)] for i in range(count))


def fill_caption(page: Page, config: dict[str, Any], word_count: int = 0) -> None:
    """Write a caption inside the word range and answer every summary field."""
    captions = config["captions"]
    page.fill("[data-testid='caption']", words(word_count or captions["min_words"]))
    for field in captions["summary"]:
        name = f"summary.{field['id']}"
        if field["type"] == "multi":
            page.check(f"input[name='{name}'][value='{field['vocabulary'][0]}']")
        else:
            page.check(f"input[name='{name}'][value='{field['scale_max']}']")


def blockers(page: Page) -> list[str]:
    """The visible reasons the download is still blocked."""
    if page.is_hidden("[data-testid='blockers']"):
        return []
    items: list[str] = page.eval_on_selector_all(
        "[data-testid='blockers'] li", "items => items.map(i => i.textContent)"
    )
    return items


def download(page: Page) -> tuple[str, bytes]:
    """Press Download; return the suggested file name and the saved bytes."""
    with page.expect_download() as info:
        page.click("[data-testid='download']")
    saved = info.value.path()
    return info.value.suggested_filename, Path(saved).read_bytes()


def validate(submission: dict[str, Any]) -> None:
    """Check a submission against schemas/submission.schema.json."""
    jsonschema.validate(submission, SCHEMA)


def draft(page: Page, config: dict[str, Any]) -> dict[str, Any] | None:
    """The task's draft as stored in localStorage."""
    text = page.evaluate("key => localStorage.getItem(key)", config["storage_key"])
    return json.loads(text) if text else None
