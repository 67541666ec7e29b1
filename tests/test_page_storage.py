"""F03: storage that refuses to write, or cannot be touched at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from tests.conftest import MakeProject, PageLog
from tests.page_helpers import (
    QUICK_CONFIG,
    blockers,
    bundle,
    download,
    fill_caption,
    fill_rubric,
    open_page,
    page_named,
    validate,
    wait_metadata,
)

pytestmark = pytest.mark.browser

QUOTA = (
    "Storage.prototype.setItem = function () {"
    "  throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');"
    "};"
)
BLOCKED = (
    "Object.defineProperty(window, 'localStorage', { configurable: true,"
    "  get() { throw new DOMException('Access is denied', 'SecurityError'); } });"
)
BANNER = "[data-testid='storage-banner']"

# Add callouts through the page's own button, one playhead position at a time.
ADD_CALLOUTS = """
([count, section]) => {
  const audio = document.querySelector("[data-testid='audio-A']");
  const add = document.querySelector("[data-testid='add-callout']");
  for (let i = 0; i < count; i += 1) {
    audio.currentTime = i * 0.15;
    add.click();
  }
  for (const select of document.querySelectorAll("[data-testid='callout-section']")) {
    select.value = section;
    select.dispatchEvent(new Event("change"));
  }
}
"""


@pytest.fixture
def quick_build(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    return build(make_project(config=QUICK_CONFIG), tmp_path / "out", progress=False)


def test_a_full_storage_warns_and_keeps_200_callouts_downloadable(
    page: Page, page_log: PageLog, quick_build: BuildResult
) -> None:
    page.add_init_script(QUOTA)
    config = open_page(page, page_named(bundle(quick_build, "r1"), "t2"))
    banner = page.locator(BANNER)
    assert banner.is_visible()
    assert "Autosave failed — download your work now" in (banner.text_content() or "")
    assert page.text_content("[data-testid='save-state']") == "Not saved"

    wait_metadata(page, "A")
    fill_caption(page, config)
    page.evaluate(ADD_CALLOUTS, [200, "verse"])
    assert page.locator("[data-testid='callout']").count() == 200
    assert blockers(page) == []
    assert banner.is_visible()

    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    callouts = submission["answers"]["callouts"]
    assert len(callouts) == 200
    assert [c["start"] for c in callouts] == sorted(c["start"] for c in callouts)
    assert page_log.errors == []
    assert (
        page.evaluate("key => localStorage.getItem(key)", config["storage_key"]) is None
    )


def test_blocked_storage_still_lets_the_analyst_work(
    page: Page, page_log: PageLog, quick_build: BuildResult
) -> None:
    page.add_init_script(BLOCKED)
    folder = bundle(quick_build, "r1")
    config = open_page(page, page_named(folder, "t1"))
    assert page.is_visible(BANNER)
    fill_rubric(page, config)
    _, data = download(page)
    validate(json.loads(data))
    assert page_log.errors == []

    open_page(page, folder / "index.html")
    assert page.is_visible(BANNER)
    states = page.eval_on_selector_all(
        "[data-testid='state']", "items => items.map(i => i.dataset.state)"
    )
    assert states == ["unknown", "unknown"]
    assert page_log.errors == []
