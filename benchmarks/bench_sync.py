"""Sync of many submissions into an .xlsx tracker: cold, unchanged, and with revisions.

Builds a project of ``--tasks`` tasks over the example clips (3 raters, 2 per task),
writes one schema-valid submission per planned (task, rater) with a long caption or
rationale, then times three syncs in this process.

    python benchmarks/bench_sync.py [--tasks 500]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from builder.build import build  # noqa: E402
from builder.record import load_record  # noqa: E402
from tests.submission_factory import make_submission, write_submission  # noqa: E402
from tracker.sync import sync  # noqa: E402
from tracker.xlsx import XlsxTracker  # noqa: E402

EXAMPLE = REPO / "examples" / "pilot"
WORDS = [
    "guitars",
    "drums",
    "bass",
    "riff",
    "chorus",
    "bridge",
    "build",
    "tension",
    "release",
    "groove",
]


def make_project(root: Path, count: int) -> None:
    shutil.copytree(EXAMPLE / "audio", root / "audio")
    clips = sorted(p.name for p in (root / "audio").glob("*.ogg"))
    raters = "\n".join(f'[[raters]]\nid = "r{i}"\n' for i in range(1, 4))
    (root / "earmark.toml").write_text(
        f'[project]\nid = "bench"\n\n{raters}\n[assignment]\nraters_per_task = 2\n'
    )
    rows = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b,clip_x,model_x,batch"]
    for n in range(count):
        a, b, x = (clips[(n + k) % len(clips)] for k in range(3))
        kind = ("ab", "ab", "abx", "caption")[n % 4]
        if kind == "caption":
            rows.append(f"t{n:04d},caption,Describe {n},audio/{a},m1,,,,,b{n % 5}")
        else:
            xs = f"audio/{x},ref" if kind == "abx" else ","
            rows.append(
                f"t{n:04d},{kind},Prompt {n},audio/{a},m1,audio/{b},m2,{xs},b{n % 5}"
            )
    (root / "tasks.csv").write_text("\n".join(rows) + "\n")


def timed(label: str, folder: Path, out: Path, tracker: Path) -> None:
    started = time.perf_counter()
    report = sync(folder, out, XlsxTracker(tracker))
    seconds = time.perf_counter() - started
    print(
        f"{label:<28} {seconds:6.2f} s  files {report.files:5d}  "
        f"added {report.added:5d}  updated {report.updated:4d}  "
        f"unchanged {report.unchanged:5d}  written {report.written}  "
        f"size {tracker.stat().st_size / 1e6:.2f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        make_project(root / "project", args.tasks)
        build(root / "project", root / "out", progress=False)
        record = load_record(root / "out")
        folder = root / "submissions"
        now = datetime.now(UTC).replace(microsecond=0)
        caption = " ".join(WORDS[i % len(WORDS)] for i in range(400))
        planned = record.planned()
        for i, (task, rater) in enumerate(planned):
            data = make_submission(
                record, task, rater, submitted=now - timedelta(hours=i % 240)
            )
            if data["kind"] == "caption":
                data["answers"]["caption"] = caption
            else:
                data["answers"]["rationale"] = caption[:600]
            if i % 10 == 0:
                data["anomalies"] = [
                    {"kind": "other", "note": "n", "flagged_at": data["submitted_at"]}
                ]
            write_submission(folder, data)
        print(f"{len(planned)} submissions of {args.tasks} tasks")
        tracker = root / "tracker.xlsx"
        timed("cold (new workbook)", folder, root / "out", tracker)
        timed("again, nothing changed", folder, root / "out", tracker)
        for task, rater in planned[: len(planned) // 10]:
            data = make_submission(record, task, rater, submitted=now)
            write_submission(folder, data, f"rev/{task}-{rater}.json")
        timed("10% revised", folder, root / "out", tracker)


if __name__ == "__main__":
    main()
