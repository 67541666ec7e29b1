"""Sync of many submissions into an .xlsx tracker, against plain openpyxl.

Builds a project of ``--submissions / 2`` tasks over the example clips (3 raters, 2
per task), writes one schema-valid submission per planned (task, rater) with a long
caption or rationale, then measures, each in a fresh Python process started by this
one (so peak memory is that step's own):

- sync into a new workbook (cold), the same files again, and 10% revised;
- the floor: the final tabs of the cold sync written once with plain openpyxl
  (a normal workbook, then write-only mode), from rows already in memory.

Seconds are wall time around the work itself (imports excluded), and CPU seconds of
the process over the same span (steadier when the machine is busy; the ratio column
compares those with plain openpyxl's). Peak memory is the step's peak resident set
(Linux VmHWM, reset once inputs are loaded); "above start" subtracts what the process
held before the work began (interpreter, imports, inputs).

    python benchmarks/bench_sync.py [--submissions 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from builder.build import build  # noqa: E402
from builder.record import load_record  # noqa: E402
from tests.submission_factory import make_submission, write_submission  # noqa: E402
from tracker.tables import TABS  # noqa: E402

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
            rows.append(f"t{n:05d},caption,Describe {n},audio/{a},m1,,,,,b{n % 5}")
        else:
            xs = f"audio/{x},ref" if kind == "abx" else ","
            rows.append(
                f"t{n:05d},{kind},Prompt {n},audio/{a},m1,audio/{b},m2,{xs},b{n % 5}"
            )
    (root / "tasks.csv").write_text("\n".join(rows) + "\n")


# ---- measured steps, each run in its own process -----------------------------------


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc (kB)."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+)", text, re.MULTILINE).group(1))  # type: ignore[union-attr]


def start_kb() -> int:
    """Reset the peak to what the process holds now (Linux), and return that.

    Writing 5 to clear_refs resets VmHWM, so the peak measured next is the
    step's own and not the one reached while loading its inputs.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kb("VmRSS")


def peak_kb() -> int:
    """The peak resident set since ``start_kb`` (or since the process began)."""
    try:
        return _status_kb("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


def step_sync(args: argparse.Namespace) -> dict[str, Any]:
    from tracker.sync import sync
    from tracker.xlsx import XlsxTracker

    start = start_kb()
    started, cpu = time.perf_counter(), time.process_time()
    report = sync(args.folder, args.build, XlsxTracker(args.tracker))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "start_kb": start,
        "peak_kb": peak_kb(),
        "files": report.files,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "written": report.written,
        "bytes": args.tracker.stat().st_size,
    }


def step_plain(args: argparse.Namespace) -> dict[str, Any]:
    import openpyxl

    tables = json.loads(args.tables.read_text("utf-8"))
    start = start_kb()
    started, cpu = time.perf_counter(), time.process_time()
    write_only = args.step == "plain-write-only"
    book = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        book.remove(book.active)
    for name, rows in tables.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(args.tracker)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "start_kb": start,
        "peak_kb": peak_kb(),
        "rows": sum(len(rows) - 1 for rows in tables.values()),
        "bytes": args.tracker.stat().st_size,
    }


def run_step(step: str, **paths: Path) -> dict[str, Any]:
    """Run one measured step in a new interpreter; return what it reported."""
    command = [sys.executable, __file__, "--step", step]
    for name, path in paths.items():
        command += [f"--{name}", str(path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def dump_tables(tracker: Path, out: Path) -> None:
    """Write the tracker's tabs (header and rows, as values) to a JSON file."""
    import openpyxl

    book = openpyxl.load_workbook(tracker, read_only=True)
    tables = {
        spec.name: [list(row) for row in book[spec.name].iter_rows(values_only=True)]
        for spec in TABS
    }
    out.write_text(json.dumps(tables, ensure_ascii=False), "utf-8")


# ---- the benchmark ------------------------------------------------------------------


def show(label: str, result: dict[str, Any], floor: dict[str, Any]) -> None:
    ratio = f"{result['cpu'] / floor['cpu']:5.1f}x"
    counts = ""
    if "added" in result:
        counts = (
            f"  added {result['added']:6d}  updated {result['updated']:5d}  "
            f"unchanged {result['unchanged']:6d}  written {result['written']}"
        )
    print(
        f"{label:<30} {result['seconds']:7.2f} s  cpu {result['cpu']:7.2f} s {ratio}  "
        f"peak {result['peak_kb'] / 1024:6.0f} MB  "
        f"above start {(result['peak_kb'] - result['start_kb']) / 1024:6.0f} MB  "
        f"file {result['bytes'] / 1e6:5.2f} MB{counts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    for name in ("folder", "build", "tracker", "tables"):
        parser.add_argument(f"--{name}", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        measure = step_sync if args.step == "sync" else step_plain
        print(json.dumps(measure(args)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        make_project(root / "project", args.submissions // 2)
        now = datetime.now(UTC).replace(microsecond=0)
        # The submissions go back ten days: the bundles were built before that.
        built_at = now - timedelta(days=11)
        build(root / "project", root / "out", progress=False, built_at=built_at)
        record = load_record(root / "out")
        folder = root / "submissions"
        caption = " ".join(WORDS[i % len(WORDS)] for i in range(400))
        planned = record.planned()
        for i, (task, rater) in enumerate(planned):
            data = make_submission(
                record, task, rater, submitted=now - timedelta(hours=i % 240)
            )
            data["active_seconds"] = 120 + (i * 37) % 1800
            if data["kind"] == "caption":
                data["answers"]["caption"] = caption
            else:
                data["answers"]["rationale"] = caption[:600]
            if i % 10 == 0:
                data["anomalies"] = [
                    {"kind": "ui_bug", "note": "n", "flagged_at": data["submitted_at"]}
                ]
            write_submission(folder, data)
        print(
            f"{len(planned)} submissions of {args.submissions // 2} tasks "
            f"(set up in {time.perf_counter() - started:.0f} s)"
        )
        tracker = root / "tracker.xlsx"
        paths = {"folder": folder, "build": root / "out", "tracker": tracker}
        cold = run_step("sync", **paths)
        dump_tables(tracker, root / "tables.json")
        plain = run_step(
            "plain", tables=root / "tables.json", tracker=root / "plain.xlsx"
        )
        lean = run_step(
            "plain-write-only", tables=root / "tables.json", tracker=root / "lean.xlsx"
        )
        again = run_step("sync", **paths)
        for task, rater in planned[: len(planned) // 10]:
            data = make_submission(record, task, rater, submitted=now)
            write_submission(folder, data, f"rev/{task}-{rater}.json")
        revised = run_step("sync", **paths)

        print(f"plain openpyxl writes {plain['rows']} rows of the cold sync's tabs")
        show("plain openpyxl, once", plain, plain)
        show("plain openpyxl, write-only", lean, plain)
        show("sync: cold (new workbook)", cold, plain)
        show("sync: again, nothing changed", again, plain)
        show("sync: 10% revised", revised, plain)


if __name__ == "__main__":
    main()
