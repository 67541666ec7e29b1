"""False alarms of the caption style checks on real present-tense captions.

Runs the default rules (``CaptionStyle()``: past tense, first person, hedges; no
banned words) over the MusicCaps subset in ../shared/reference-data/musiccaps with
``builder.style.check``, the Python twin of the page's matcher (the two agree:
tests/test_page_style.py). Every warning is looked up in
benchmarks/style_audit.tsv, where each one the rules raised was judged by reading
it in its caption: ``right`` when the words are what the warning says (a verb in
the past tense, the writer in the first person, a hedge), ``wrong`` when not. A
warning missing from the audit counts as wrong, so a change to the rules that
raises new warnings can only make the figure worse until someone judges them.

It then times what one keystroke costs on a caption page in Chromium: the page's
whole input handler (word count, style checks, autosave, download gate) on a
caption of about 500 words cut from the same captions, as ``performance.now()``
measures it inside the page.

    PYTHONPATH=. python benchmarks/bench_style.py          (or: make bench)

Exits 1 when the false-alarm rate reaches the 3% target, or the data is absent.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright

from builder.build import build
from builder.config import CaptionStyle
from builder.style import Hit, check

REPO = Path(__file__).resolve().parents[1]
MUSICCAPS = REPO.parent / "shared/reference-data/musiccaps/musiccaps-dev-subset.csv"
AUDIT = REPO / "benchmarks" / "style_audit.tsv"
TARGET = 0.03
EXAMPLE = REPO / "examples" / "pilot"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KEYSTROKES = 200

# Replace the caption's text and fire the input event as typing does; time each.
TYPE = """
([text, count]) => {
  const box = document.querySelector("[data-testid='caption']");
  const times = [];
  for (let i = 0; i < count; i += 1) {
    box.value = text + " word".repeat(i % 5);
    const start = performance.now();
    box.dispatchEvent(new Event("input", { bubbles: true }));
    times.push(performance.now() - start);
  }
  const hits = document.querySelectorAll("[data-testid='style-hit']").length;
  return [box.value.split(/\\s+/).length, hits, times];
}
"""

Key = tuple[str, str, str, int]  # ytid, rule, lowercased words, occurrence


def keyed(ytid: str, hits: list[Hit]) -> list[tuple[Key, Hit]]:
    """Key each hit by caption, rule, words and which occurrence of them it is."""
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for hit in hits:
        words = hit.text.lower()
        seen[hit.rule, words] += 1
        out.append(((ytid, hit.rule, words, seen[hit.rule, words]), hit))
    return out


def read_audit() -> dict[Key, str]:
    verdicts = {}
    with AUDIT.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(
            (line for line in handle if not line.startswith("#")), delimiter="\t"
        )
        for row in rows:
            key = (row["ytid"], row["rule"], row["words"], int(row["occurrence"]))
            verdicts[key] = row["verdict"]
    return verdicts


def main() -> int:
    if not MUSICCAPS.is_file():
        print(f"bench_style: {MUSICCAPS} is absent; nothing measured", file=sys.stderr)
        return 1
    with MUSICCAPS.open(encoding="utf-8", newline="") as handle:
        captions = [(r["ytid"], r["caption"]) for r in csv.DictReader(handle)]
    rules = CaptionStyle().rules()
    verdicts = read_audit()

    started = time.perf_counter()
    results = [(ytid, check(text, rules)) for ytid, text in captions]
    seconds = time.perf_counter() - started

    raised: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    unjudged: list[Key] = []
    captions_raised: Counter[str] = Counter()
    captions_wrong: Counter[str] = Counter()
    for ytid, hits in results:
        rules_raised, rules_wrong = set(), set()
        for key, hit in keyed(ytid, hits):
            raised[hit.rule] += 1
            rules_raised.add(hit.rule)
            verdict = verdicts.get(key)
            if verdict is None:
                unjudged.append(key)
            if verdict != "right":
                wrong[hit.rule] += 1
                rules_wrong.add(hit.rule)
        for rule in rules_raised:
            captions_raised[rule] += 1
        for rule in rules_wrong:
            captions_wrong[rule] += 1
        if rules_raised:
            captions_raised["any"] += 1
        if rules_wrong:
            captions_wrong["any"] += 1

    total = len(captions)
    print(f"{total} MusicCaps captions, default rules, {seconds:.2f} s in Python")
    print(
        "| rule | warnings | judged wrong | captions warned | captions wrongly warned |"
    )
    print("|---|---|---|---|---|")
    for rule in [r["id"] for r in rules] + ["any"]:
        hits_text = (
            f"{raised[rule]} | {wrong[rule]}"
            if rule != "any"
            else f"{sum(raised.values())} | {sum(wrong.values())}"
        )
        print(
            f"| {rule} | {hits_text} | {captions_raised[rule]} "
            f"({captions_raised[rule] / total:.1%}) | {captions_wrong[rule]} "
            f"({captions_wrong[rule] / total:.2%}) |"
        )
    for key in unjudged:
        print(f"not in the audit (counted wrong): {key}")
    rate = captions_wrong["any"] / total
    print(f"false-alarm rate: {rate:.2%} of captions (target under {TARGET:.0%})")
    keystroke(" ".join(text for _, text in captions)[:3200])
    return 0 if rate < TARGET else 1


def keystroke(text: str) -> None:
    """Time the caption page's input handler in Chromium on ``text``."""
    with tempfile.TemporaryDirectory() as scratch:
        result = build(EXAMPLE, Path(scratch), progress=False)
        page_file = next(
            Path(scratch, "bundles", rater, entry["page"])
            for rater, data in result.record["raters"].items()
            for task, entry in data["tasks"].items()
            if result.record["tasks"][task]["kind"] == "caption"
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_selector("html[data-earmark='ready']", state="attached")
            words, hits, times = page.evaluate(TYPE, [text, KEYSTROKES])
            browser.close()
    times = sorted(times)
    print(
        f"input handler on a {words}-word caption ({hits} style warnings), "
        f"{KEYSTROKES} keystrokes: median {statistics.median(times):.1f} ms, "
        f"90th percentile {times[int(len(times) * 0.9)]:.1f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
