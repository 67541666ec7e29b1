"""The sync command through its entry points: exit codes, summary and messages."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from builder.build import BuildResult
from builder.record import load_record
from cli import main
from tests.conftest import REPO
from tests.submission_factory import make_submission, write_submission


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``python cli.py ...`` as ops would."""
    return subprocess.run(
        [sys.executable, "cli.py", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def folder_with_one_good_one_bad(build: BuildResult, root: Path) -> Path:
    record = load_record(build.out)
    folder = root / "submissions"
    write_submission(folder, make_submission(record, "ab-001", "r01"))
    (folder / "bad.json").write_text('{"active_seconds": NaN}', "utf-8")
    return folder


SUMMARY = re.compile(
    r"^sync: 2 files read, 1 accepted, 1 rejected; rows (\d+) added, (\d+) updated, "
    r"(\d+) unchanged; (.+) (written|unchanged, not rewritten); \d+\.\d s$"
)


def test_sync_prints_one_summary_line_and_is_idempotent(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    folder = folder_with_one_good_one_bad(pilot_build, tmp_path)
    tracker = tmp_path / "tracker.xlsx"
    args = [
        "sync",
        str(folder),
        "--build",
        str(pilot_build.out),
        "--tracker",
        str(tracker),
    ]

    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, args)

    assert first.exit_code == 0, first.output
    match = SUMMARY.match(first.stdout.strip())
    assert match, first.stdout
    record = load_record(pilot_build.out)
    planned = len(record.planned())
    kinds = len({task["kind"] for task in record.tasks.values()})
    # Submissions 1 + Tasks + Rejected 1 + Burn-down 1 + Raters + Pilot (kinds, all);
    # the hidden meta tab is not counted.
    rows = planned + 3 + len(record.raters) + kinds + 1
    assert match.groups() == (str(rows), "0", "0", str(tracker), "written")
    assert second.exit_code == 0
    again = SUMMARY.match(second.stdout.strip())
    assert again, second.stdout
    assert again.groups()[:3] == ("0", "0", str(rows))
    assert again.group(5) == "unchanged, not rewritten"


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(main, ["sync", "--help"])

    assert result.exit_code == 0
    assert "python cli.py sync examples/pilot/submissions --build build/demo" in (
        result.output
    )
    assert "--tracker" in result.output


def test_strict_fails_after_writing_and_names_the_rejected_file(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    folder = folder_with_one_good_one_bad(pilot_build, tmp_path)
    tracker = tmp_path / "tracker.xlsx"

    result = cli("sync", folder, "--build", pilot_build.out, "-t", tracker, "--strict")

    assert result.returncode == 1
    assert "error: --strict: 1 file(s) rejected (the tracker was still updated)" in (
        result.stderr
    )
    assert "  - bad.json: not valid JSON: NaN is not a JSON number" in result.stderr
    assert "WARNING rejected bad.json: not valid JSON" in result.stderr
    assert tracker.is_file()
    assert result.stdout.startswith("sync: 2 files read, 1 accepted, 1 rejected;")


def test_a_corrupt_workbook_is_an_error_naming_it(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    folder = folder_with_one_good_one_bad(pilot_build, tmp_path)
    tracker = tmp_path / "tracker.xlsx"
    tracker.write_bytes(b"lead saved a CSV here")

    result = cli("sync", folder, "--build", pilot_build.out, "--tracker", tracker)

    assert result.returncode == 1
    assert f"error: Cannot read tracker {tracker} as an .xlsx workbook" in result.stderr
    assert "it was left untouched" in result.stderr
    assert tracker.read_bytes() == b"lead saved a CSV here"
    assert result.stdout == ""


def test_a_concurrent_sync_is_refused(pilot_build: BuildResult, tmp_path: Path) -> None:
    folder = folder_with_one_good_one_bad(pilot_build, tmp_path)
    tracker = tmp_path / "tracker.xlsx"
    fd = os.open(tmp_path / ".tracker.xlsx.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli("sync", folder, "--build", pilot_build.out, "--tracker", tracker)
    finally:
        os.close(fd)

    assert result.returncode == 1
    assert f"error: Another sync is updating {tracker}" in result.stderr
    assert not tracker.exists()


@pytest.mark.parametrize("marker", [".~lock.tracker.xlsx#", "~$tracker.xlsx"])
def test_a_workbook_open_in_a_spreadsheet_program_is_left_untouched(
    pilot_build: BuildResult, tmp_path: Path, marker: str
) -> None:
    folder = folder_with_one_good_one_bad(pilot_build, tmp_path)
    tracker = tmp_path / "tracker.xlsx"
    args = ("sync", folder, "--build", pilot_build.out, "--tracker", tracker)
    assert cli(*args).returncode == 0
    write_submission(
        folder, make_submission(load_record(pilot_build.out), "ab-002", "r01")
    )
    before = tracker.read_bytes()
    (tmp_path / marker).write_text("lead,host,2026-03-01", "utf-8")

    refused = cli(*args)

    assert refused.returncode == 1
    assert (
        f"error: {tracker} is open in a spreadsheet program (its lock file "
        f"{tmp_path / marker} exists)" in refused.stderr
    )
    assert "Close it in Excel or LibreOffice and run sync again" in refused.stderr
    assert "--force" in refused.stderr
    assert tracker.read_bytes() == before
    assert refused.stdout == ""

    forced = cli(*args, "--force")

    assert forced.returncode == 0
    assert f"{tracker} looks open in a spreadsheet program" in forced.stderr
    assert tracker.read_bytes() != before


def test_force_goes_with_a_workbook_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["sync", str(tmp_path), "--build", str(tmp_path), "--sheet", "k", "--force"],
    )

    assert result.exit_code == 2
    assert "--force goes with --tracker" in result.output


def test_a_missing_build_record_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()

    result = cli(
        "sync",
        tmp_path / "submissions",
        "--build",
        tmp_path / "nobuild",
        "--tracker",
        tmp_path / "tracker.xlsx",
    )

    assert result.returncode == 1
    assert "error: No build record at" in result.stderr
    assert not (tmp_path / "tracker.xlsx").exists()
