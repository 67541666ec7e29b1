"""Time for a task page with three 5-minute clips to be ready for input, in Chromium.

Against a bare page holding only three ``<audio preload="metadata">`` elements on the
same files, in the same bundle folder and the same browser, run alternately. "Ready"
is when the page can be used: for the task page ``html[data-earmark=ready]`` is set
and every clip has its metadata (its player works); for the bare page the document is
parsed and every clip has its metadata. Times come from ``performance.now()`` inside
the page (from navigation start), so Playwright's own round trips do not count.

    python benchmarks/bench_page.py [--shared ../shared] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from playwright.sync_api import Browser, sync_playwright

from builder.build import build

REPO = Path(__file__).resolve().parents[1]
CLIP_SECONDS = 300
BLOCK = 65_536
CHROMIUM_ARGS = [
    "--no-sandbox", "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking", "--disable-component-update", "--disable-gpu",
]  # fmt: skip

# Installed before any page script: note when each clip's metadata arrives and when
# the page says it is ready.
MARKS = """
window.__marks = { media: [] };
document.addEventListener("loadedmetadata",
  () => window.__marks.media.push(performance.now()), true);
document.addEventListener("DOMContentLoaded",
  () => { window.__marks.parsed = performance.now(); });
new MutationObserver(() => {
  if (document.documentElement.dataset.earmark === "ready" && !window.__marks.ready)
    window.__marks.ready = performance.now();
}).observe(document, { attributes: true, subtree: true,
  attributeFilter: ["data-earmark"] });
"""

BARE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bare</title></head><body>
{players}
</body></html>
"""


def five_minutes(sources: list[Path], target: Path) -> None:
    """Write CLIP_SECONDS of music cut from ``sources`` in turn, as Ogg Vorbis."""
    rate = sf.info(str(sources[0])).samplerate
    wanted = CLIP_SECONDS * rate
    written = 0
    with sf.SoundFile(str(target), "w", rate, 2, format="OGG", subtype="VORBIS") as out:
        while written < wanted:
            for source in sources:
                with sf.SoundFile(str(source)) as handle:
                    if handle.samplerate != rate:
                        continue
                    while written < wanted:
                        block = handle.read(
                            min(BLOCK, wanted - written), "float32", always_2d=True
                        )
                        if not len(block):
                            break
                        if block.shape[1] == 1:
                            block = np.repeat(block, 2, axis=1)
                        out.write(block[:, :2])
                        written += len(block)


def make_project(root: Path, shared: Path) -> None:
    songs = sorted((shared / "real-audio").glob("sectoid/*/song.ogg"))
    songs += sorted((shared / "real-audio").glob("pushover/*.ogg"))
    (root / "audio").mkdir(parents=True)
    for n, label in enumerate("abx"):
        five_minutes(songs[n * 3 : n * 3 + 3] or songs, root / "audio" / f"{label}.ogg")
    (root / "earmark.toml").write_text(
        '[project]\nid = "bench-page"\n\n[[raters]]\nid = "r1"\n', "utf-8"
    )
    (root / "tasks.csv").write_text(
        "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,clip_x,model_x\n"
        "t1,abx,Long clips,audio/a.ogg,m1,audio/b.ogg,m2,audio/x.ogg,ref\n",
        "utf-8",
    )


def ready_ms(browser: Browser, page_path: Path, task_page: bool) -> float:
    """Open ``page_path`` in a fresh context; return ms until it is ready."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(MARKS)
        page.goto(page_path.as_uri())
        page.wait_for_function(
            "() => window.__marks && window.__marks.media.length >= 3"
            + (" && window.__marks.ready" if task_page else " && window.__marks.parsed")
        )
        marks = page.evaluate("window.__marks")
        start = marks["ready"] if task_page else marks["parsed"]
        return float(max(start, *marks["media"]))
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        make_project(root, args.shared)
        result = build(root, Path(scratch) / "out", progress=False)
        folder = result.out / "bundles" / "r1"
        task = folder / "task-001.html"
        srcs = [p.name for p in sorted((folder / "audio").iterdir())]
        bare = folder / "bare.html"
        bare.write_text(
            BARE.format(
                players="\n".join(
                    f'<audio controls preload="metadata" src="audio/{s}"></audio>'
                    for s in srcs
                )
            ),
            "utf-8",
        )
        size = task.stat().st_size
        timings: dict[str, list[float]] = {"bare": [], "task": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            ready_ms(browser, bare, False)  # warm the page cache for both
            ready_ms(browser, task, True)
            for _ in range(args.runs):
                timings["bare"].append(ready_ms(browser, bare, False))
                timings["task"].append(ready_ms(browser, task, True))
            browser.close()
    bare_ms = statistics.median(timings["bare"])
    task_ms = statistics.median(timings["task"])
    print(f"task page: {size / 1024:.0f} KB, 3 clips of {CLIP_SECONDS} s (Ogg Vorbis)")
    print("| runs | bare page, median | task page, median | task / bare |")
    print("|---|---|---|---|")
    print(
        f"| {args.runs} | {bare_ms:.1f} ms | {task_ms:.1f} ms | "
        f"{task_ms / bare_ms:.2f} |"
    )
    spread = {k: (min(v), max(v)) for k, v in timings.items()}
    print(f"range: bare {spread['bare']}, task {spread['task']}")


if __name__ == "__main__":
    main()
