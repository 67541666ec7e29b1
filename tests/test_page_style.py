"""Style warnings on the caption page: shown while typing, and the same as Python's."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult, build
from builder.style import check
from tests.conftest import SHARED, MakeProject
from tests.page_helpers import (
    QUICK_CONFIG,
    blockers,
    bundle,
    fill_caption,
    open_page,
    page_named,
)

pytestmark = pytest.mark.browser

MUSICCAPS = SHARED / "reference-data" / "musiccaps" / "musiccaps-dev-subset.csv"
STYLE_CONFIG = QUICK_CONFIG + '\n[captions.style]\nbanned = ["awesome", "sick beat"]\n'
# Texts that exercise the reading rules at their edges.
EDGE_TEXTS = [
    'She sings "I loved you" — then the band played on.\nWe "left" it there.',
    '“Curly quotes” I think, and a stray " that ends at the line\nThe drums ended.',
    "At 1:05.5 the guitar started; at 2.5 s it stopped. 808s dropped.",
    "Größe: the choir sang. Μουσική: we hear it. 𝐁old letters played well.",
    "It’s kind of loud; a kind of drum. lo-fi, half-time drums entered, sort of.",
    "The bass, heavily compressed, then dropped out and the kick returned.",
    "This awesome track has a sick  beat, a SICK BEAT, and a sick, beat.",
    "",
    "played",
    "I",
]

# Type each text into the caption box and read back the warnings the page shows.
READ_HITS = """
(texts) => {
  const box = document.querySelector("[data-testid='caption']");
  return texts.map((text) => {
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return Array.from(document.querySelectorAll("[data-testid='style-hit']")).map(
      (b) => [b.dataset.rule, Number(b.dataset.index), b.textContent]
    );
  });
}
"""


@pytest.fixture
def style_build(make_project: MakeProject, tmp_path: Path) -> BuildResult:
    return build(make_project(config=STYLE_CONFIG), tmp_path / "out", progress=False)


def python_hits(text: str, rules: list[dict[str, Any]]) -> list[list[Any]]:
    """Python's hits in the order the page lists them: by rule, then by text."""
    hits = check(text, rules)
    order = [r["id"] for r in rules]
    ranked = sorted(hits, key=lambda h: (order.index(h.rule), h.start))
    return [[h.rule, h.index, h.text] for h in ranked]


def test_page_and_python_agree_on_edge_texts(
    page: Page, style_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(style_build, "r1"), "t2"))
    rules = config["captions"]["style_rules"]
    assert [r["id"] for r in rules] == ["past_tense", "first_person", "hedge", "banned"]
    shown = page.evaluate(READ_HITS, EDGE_TEXTS)
    for text, hits in zip(EDGE_TEXTS, shown, strict=True):
        assert hits == python_hits(text, rules), text
    # The edges are not trivial: most of them warn about something.
    assert sum(bool(h) for h in shown) >= 7


@pytest.mark.skipif(
    not MUSICCAPS.is_file(), reason=f"the MusicCaps captions are read from {MUSICCAPS}"
)
def test_page_and_python_agree_on_real_captions(
    page: Page, style_build: BuildResult
) -> None:
    with MUSICCAPS.open(encoding="utf-8", newline="") as handle:
        captions = [row["caption"] for row in csv.DictReader(handle)]
    sample = captions[::4]  # about 450 captions, every fourth
    config = open_page(page, page_named(bundle(style_build, "r1"), "t2"))
    rules = config["captions"]["style_rules"]
    shown = page.evaluate(READ_HITS, sample)
    disagreements = [
        (text, hits, python_hits(text, rules))
        for text, hits in zip(sample, shown, strict=True)
        if hits != python_hits(text, rules)
    ]
    assert disagreements == []
    assert sum(bool(h) for h in shown) > 10


def test_warnings_appear_while_typing_select_the_words_and_never_block(
    page: Page, style_build: BuildResult
) -> None:
    config = open_page(page, page_named(bundle(style_build, "r1"), "t2"))
    warnings = page.locator("[data-testid='style-warnings']")
    assert warnings.is_hidden()
    page.click("[data-testid='caption']")
    page.keyboard.type("The drums entered late and I think it is awesome. ")
    assert warnings.get_attribute("data-count") == "4"
    assert page.eval_on_selector_all(
        "[data-testid='style-hit']",
        "bs => bs.map(b => [b.dataset.rule, b.textContent])",
    ) == [
        ["past_tense", "entered"],
        ["first_person", "I"],
        ["hedge", "I think"],
        ["banned", "awesome"],
    ]
    page.click("[data-testid='style-hit'][data-rule='past_tense']")
    selected = page.eval_on_selector(
        "[data-testid='caption']",
        "t => t.value.slice(t.selectionStart, t.selectionEnd)",
    )
    assert selected == "entered"

    # Warnings are advice: with the rest answered, download is open.
    fill_caption(page, config)
    page.fill(
        "[data-testid='caption']",
        page.input_value("[data-testid='caption']") + " It was loud.",
    )
    assert warnings.get_attribute("data-count") == "1"
    assert blockers(page) == []
    assert page.is_enabled("[data-testid='download']")


def test_callout_notes_get_their_own_warnings(
    page: Page, style_build: BuildResult
) -> None:
    open_page(page, page_named(bundle(style_build, "r1"), "t2"))
    page.click("[data-testid='add-callout']")
    notes = page.locator("[data-testid='callout-notes']")
    note_style = page.locator("[data-testid='callout-style']")
    notes.fill("The bass enters.")
    assert note_style.is_hidden()
    notes.fill("The bass entered and we hear a kind of hum, probably.")
    assert note_style.text_content() == (
        "Past tense: “entered” · First person: “we” · Hedge: “probably”"
    )
