"""The example project and its submissions stay in step (``make demo`` relies on it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from builder.build import BuildResult
from tests.conftest import EXAMPLE
from tests.sync_support import read_tab, run_sync


def test_every_example_submission_syncs_against_a_fresh_build(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    files = sorted((EXAMPLE / "submissions").glob("*.json"))
    assert len(files) >= 6
    tracker = tmp_path / "tracker.xlsx"
    report = run_sync(
        EXAMPLE / "submissions", pilot_build, tracker, now=datetime.now(UTC)
    )
    assert report.rejected == []
    assert report.accepted == len(files)
    kinds = {json.loads(f.read_text("utf-8"))["kind"] for f in files}
    assert kinds == {"ab", "abx", "caption"}
    rows = read_tab(tracker, "Submissions")
    assert {r["rater_id"] for r in rows} == {"r01", "r02", "r03"}
    assert all(r["model_A"] for r in rows)
