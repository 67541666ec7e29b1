"""Sync of many submissions into Google Sheets: API calls, bytes and seconds.

Same project and submissions as ``bench_sync.py`` (``--tasks`` tasks, 3 raters,
2 per task, long captions and rationales), synced with real gspread over loopback
HTTP into the fake Sheets API from the tests, three times: cold, again with
nothing changed, and with 10% of the submissions revised. The fake runs in this
process, so its work is inside the seconds.

Baseline, in the same run: plain gspread writing the same tab values once into
a new spreadsheet (one worksheet made per tab, rows sent in requests under 2 MB)
and reading them back with one ``values:batchGet``: the least any sync must send.

    python benchmarks/bench_sheets.py [--tasks 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_sync import WORDS, make_project  # noqa: E402
from builder.build import build  # noqa: E402
from builder.record import BuildRecord, load_record  # noqa: E402
from tests.fakesheets import Call, FakeSheets  # noqa: E402
from tests.submission_factory import make_submission, write_submission  # noqa: E402
from tracker.sheets import MAX_REQUEST_BYTES, SheetsTracker  # noqa: E402
from tracker.sync import sync  # noqa: E402
from tracker.tables import TABS, TabChange, Table, column_letter  # noqa: E402
from tracker.transport import RetryingHTTPClient  # noqa: E402

HEADER = (
    f"{'step':<26} {'seconds':>8} {'in API':>7} {'calls':>6}  {'by method':<58} "
    f"{'MB sent':>8} {'MB read':>8}"
)


class Timed:
    """Wraps a tracker to time its read and write (the backend's share of a sync)."""

    def __init__(self, inner: SheetsTracker) -> None:
        self.inner = inner
        self.location = inner.location
        self.seconds = 0.0

    def lock(self) -> AbstractContextManager[None]:
        return self.inner.lock()

    def read(self, names: Sequence[str]) -> dict[str, Table]:
        started = time.perf_counter()
        try:
            return self.inner.read(names)
        finally:
            self.seconds += time.perf_counter() - started

    def write(self, changes: Sequence[TabChange]) -> None:
        started = time.perf_counter()
        try:
            self.inner.write(changes)
        finally:
            self.seconds += time.perf_counter() - started


def write_submissions(record: BuildRecord, folder: Path, now: datetime) -> None:
    """One submission per planned pair, as bench_sync.py writes them."""
    caption = " ".join(WORDS[i % len(WORDS)] for i in range(400))
    for i, (task, rater) in enumerate(record.planned()):
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


def method(path: str, verb: str) -> str:
    """Name an API call by its method (``values.batchUpdate``)."""
    if "/values:" in path:
        return "values." + path.rsplit(":", 1)[1]
    if "/values/" in path:
        return "values.get" if verb == "GET" else "values.update"
    return "batchUpdate" if path.endswith(":batchUpdate") else "get"


def show(
    label: str, seconds: float, api: float, calls: list[Call], received: int
) -> None:
    counts = Counter(method(c.path, c.method) for c in calls)
    described = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    sent = sum(c.bytes_in for c in calls)
    print(
        f"{label:<26} {seconds:8.2f} {api:7.2f} {len(calls):6d}  {described:<58} "
        f"{sent / 1e6:8.2f} {received / 1e6:8.2f}"
    )


def timed_sync(label: str, fake: FakeSheets, key: str, folder: Path, out: Path) -> None:
    client = fake.client(http_client=RetryingHTTPClient)
    tracker = Timed(SheetsTracker(client, key))
    with fake.counting() as calls:
        started = time.perf_counter()
        report = sync(folder, out, tracker)
        seconds = time.perf_counter() - started
    assert isinstance(client.http_client, RetryingHTTPClient)
    received = client.http_client.log.bytes_received
    show(label, seconds, tracker.seconds, calls, received)
    print(
        f"{'':<26} rows added {report.added}, updated {report.updated}, "
        f"unchanged {report.unchanged}; written {report.written}"
    )


def baseline(fake: FakeSheets, source: str) -> None:
    """Write every tab's values once with plain gspread, then read them once."""
    book = fake.spreadsheet(source)
    tabs = {t.name: book.sheet(t.name).values() for t in TABS}
    key = fake.create("Baseline")
    client = fake.client()
    spreadsheet = client.open_by_key(key)
    with fake.counting() as calls:
        started = time.perf_counter()
        for name, rows in tabs.items():
            width = max(len(r) for r in rows)
            sheet = spreadsheet.add_worksheet(name, rows=len(rows) + 10, cols=width)
            start = 0
            while start < len(rows):
                chunk, size = [], 0
                while start < len(rows):
                    line = len(json.dumps(rows[start])) + 2
                    if chunk and size + line > MAX_REQUEST_BYTES - 1000:
                        break
                    chunk.append(rows[start])
                    size += line
                    start += 1
                top = start - len(chunk) + 1
                sheet.update(chunk, f"A{top}:{column_letter(width - 1)}{start}")
        seconds = time.perf_counter() - started
    show("baseline: write once", seconds, seconds, calls, 0)
    with fake.counting() as calls:
        started = time.perf_counter()
        answer = spreadsheet.values_batch_get(
            [f"'{name}'" for name in tabs],
            params={"valueRenderOption": "UNFORMATTED_VALUE"},
        )
        seconds = time.perf_counter() - started
    show("baseline: read once", seconds, seconds, calls, len(json.dumps(answer)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        make_project(root / "project", args.tasks)
        now = datetime.now(UTC).replace(microsecond=0)
        # The submissions go back ten days: the bundles were built before that.
        built_at = now - timedelta(days=11)
        build(root / "project", root / "out", progress=False, built_at=built_at)
        record = load_record(root / "out")
        folder = root / "submissions"
        write_submissions(record, folder, now)
        planned = record.planned()
        print(
            f"{len(planned)} submissions of {args.tasks} tasks "
            f"(set up in {time.perf_counter() - started:.0f} s)"
        )
        print(HEADER)
        with FakeSheets() as fake:
            key = fake.create("Tracker")
            timed_sync("cold (new Sheet)", fake, key, folder, root / "out")
            timed_sync("again, nothing changed", fake, key, folder, root / "out")
            for task, rater in planned[: len(planned) // 10]:
                data = make_submission(record, task, rater, submitted=now)
                write_submission(folder, data, f"rev/{task}-{rater}.json")
            timed_sync("10% revised", fake, key, folder, root / "out")
            baseline(fake, key)


if __name__ == "__main__":
    main()
