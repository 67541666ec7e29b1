"""Earmark command line: validate and build bundles, sync submissions to a tracker."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from builder.errors import EarmarkError

if TYPE_CHECKING:
    from tracker.tables import Tracker

log = logging.getLogger("earmark")

EPILOG_VALIDATE = """\b
Example:
  python cli.py validate examples/pilot
"""
EPILOG_BUILD = """\b
Examples:
  python cli.py build examples/pilot --out build/demo
  python cli.py build examples/pilot --out build/demo \\
      --tracker build/demo/tracker.xlsx --submissions examples/pilot/submissions
"""
EPILOG_SYNC = """\b
Examples:
  python cli.py sync examples/pilot/submissions --build build/demo \\
      --tracker build/demo/tracker.xlsx
  python cli.py sync examples/pilot/submissions --build build/demo \\
      --sheet https://docs.google.com/spreadsheets/d/KEY/edit \\
      --credentials service-account.json
"""
EPILOG_REPORT = """\b
Examples:
  python cli.py report --tracker build/demo/tracker.xlsx --out build/demo/dashboard.html
  python cli.py report --sheet KEY_OR_URL --out dashboard.html
"""


# sync and report read the same service account key for --sheet.
credentials_option = click.option(
    "--credentials",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Service account key (JSON) for --sheet [default: "
    "$GOOGLE_APPLICATION_CREDENTIALS].",
)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    logging.basicConfig(
        level=level, format="%(levelname)s %(message)s", stream=sys.stderr
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log each item (DEBUG).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="earmark")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Earmark: offline listening and caption bundles for music raters.

    validate and build read a project folder (earmark.toml, tasks.csv, audio);
    sync reads the JSON files analysts download and updates the tracker.
    """
    _setup_logging(verbose, quiet)
    # Progress bars only on a terminal: in logs and CI they are noise.
    ctx.obj = {"progress": not quiet and sys.stderr.isatty()}


@main.command(epilog=EPILOG_VALIDATE)
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_context
def validate(ctx: click.Context, project: Path, strict: bool) -> None:
    """Check a project folder and report every problem; write nothing."""
    from builder.project import load_project

    loaded = load_project(project, progress=ctx.obj["progress"])
    for warning in loaded.warnings:
        log.warning("%s", warning)
    if strict and loaded.warnings:
        raise EarmarkError(
            f"--strict: {len(loaded.warnings)} warning(s)", loaded.warnings
        )
    click.echo(
        f"{project}: {len(loaded.tasks)} tasks, {len(loaded.clips)} clips, "
        f"{len(loaded.config.raters)} raters, {len(loaded.warnings)} warning(s): valid"
    )


@main.command(epilog=EPILOG_BUILD)
@click.argument("project", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("build/out"),
    show_default=True,
    help="Build folder: bundles/, zips/ and the build record.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--jobs",
    "-j",
    type=int,
    default=2,
    show_default=True,
    help="Processes decoding audio.",
)
@click.option(
    "--transcode",
    type=click.Choice(["flac", "wav"]),
    default=None,
    help="Bundle 16-bit FLAC or WAV copies of clips some browsers cannot play "
    "(overrides audio.transcode in the config).",
)
@click.option(
    "--built-at",
    metavar="TIME",
    default=None,
    help="When these bundles were first built (ISO-8601, e.g. 2026-03-01 or "
    "2026-03-01T09:00Z), for a new --out of a project whose bundles are already "
    "out: sync rejects work dated more than a day before the build.",
)
@click.option(
    "--tracker",
    "-t",
    "tracker_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Tracker workbook: captions a lead marked 'rewrite' are reissued to the "
    "same rater with the reviewer_notes shown and the earlier caption loaded.",
)
@click.option(
    "--submissions",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With --tracker: the folder of submission files to load earlier captions "
    "from [default: the tracker's answers_json].",
)
@click.pass_context
def build(
    ctx: click.Context,
    project: Path,
    out: Path,
    strict: bool,
    jobs: int,
    transcode: str | None,
    tracker_path: Path | None,
    submissions: Path | None,
    built_at: str | None,
) -> None:
    """Build one offline HTML bundle (and zip) per rater from a project folder."""
    from builder.build import build as run_build

    reissues = None
    if tracker_path is not None:
        from tracker.rewrites import read_rewrites
        from tracker.xlsx import XlsxTracker

        if not tracker_path.is_file():
            raise EarmarkError(f"Tracker {tracker_path} does not exist")
        reissues = read_rewrites(XlsxTracker(tracker_path), submissions)
    elif submissions is not None:
        raise click.UsageError("--submissions goes with --tracker")

    result = run_build(
        project,
        out,
        strict=strict,
        jobs=jobs,
        progress=ctx.obj["progress"],
        transcode_to=transcode,
        reissues=reissues,
        built_at=_instant(built_at, "--built-at") if built_at else None,
    )
    click.echo(result.report, nl=False)
    click.echo(f"Bundles: {out / 'bundles'}/<rater>/index.html (open one first)")
    click.echo(f"Zips to hand out: {out / 'zips'}/")
    click.echo(f"Ops-only build record: {out / 'build-record.json'}")


@main.command(epilog=EPILOG_SYNC)
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option(
    "--build",
    "-b",
    "build_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Build folder holding build-record.json (the one given to 'build --out').",
)
@click.option(
    "--tracker",
    "-t",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The .xlsx workbook leads open; created if missing.",
)
@click.option(
    "--sheet",
    "-s",
    metavar="KEY_OR_URL",
    default=None,
    help="Sync a Google Sheet instead of a workbook: its key or URL. Share it with "
    "the service account (as editor) first.",
)
@credentials_option
@click.option(
    "--strict", is_flag=True, help="Exit with an error if any file was rejected."
)
@click.option(
    "--restore-deleted",
    is_flag=True,
    help="Write back rows a lead deleted from Submissions, Tasks, Anomalies or "
    "Rejected (by default they stay deleted).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the workbook even when Excel or LibreOffice seems to have it open "
    "(its lock file is beside it); by default sync stops and changes nothing.",
)
def sync(
    submissions: Path,
    build_dir: Path,
    tracker: Path | None,
    sheet: str | None,
    credentials: Path | None,
    strict: bool,
    restore_deleted: bool,
    force: bool,
) -> None:
    """Check every submission JSON under SUBMISSIONS and update the tracker.

    Files are read recursively; a bad file is listed on the Rejected tab and never
    stops the others. Each sync adds to what the tracker holds, so SUBMISSIONS may
    hold one day's files or all of them: Tasks, Burn-down, Raters and Pilot count
    every submission the tracker has. Only Earmark's own columns are written:
    review_status, reviewer_notes, lead_status and any column a lead adds are left
    alone. A row a lead deletes stays deleted (see --restore-deleted). Running it
    again on the same files changes nothing.

    Shapes and pictures drawn on the workbook are dropped when sync saves it
    (openpyxl cannot read them back); formulas, formats, comments, charts and
    filters are kept. Close the workbook in Excel or LibreOffice before a sync:
    sync stops, writing nothing, while their lock file is beside it (see --force).

    With --sheet, the same tabs go to a Google Sheet: a sync that changes nothing
    makes two read requests, one that changes something about six, whatever the
    number of rows (see "The tracker" in the README for quotas and the lease).
    """
    from tracker.sync import sync as run_sync

    backend = _sync_target(tracker, sheet, credentials, force=force)
    report = run_sync(submissions, build_dir, backend, restore_deleted=restore_deleted)
    click.echo(report.summary(backend.location))
    if strict and report.rejected:
        raise EarmarkError(
            f"--strict: {len(report.rejected)} file(s) rejected (the tracker was "
            "still updated)",
            report.rejected_problems(),
        )


@main.command(epilog=EPILOG_REPORT)
@click.option(
    "--tracker",
    "-t",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The .xlsx workbook sync writes.",
)
@click.option(
    "--sheet",
    "-s",
    metavar="KEY_OR_URL",
    default=None,
    help="Read a Google Sheet instead of a workbook: its key or URL.",
)
@credentials_option
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("dashboard.html"),
    show_default=True,
    help="The HTML file to write (replaced if it exists).",
)
def report(
    tracker: Path | None, sheet: str | None, credentials: Path | None, out: Path
) -> None:
    """Write a static HTML dashboard from the tracker: burn-down, raters, anomalies.

    The page is one file with no script and nothing to fetch: open it from disk or
    mail it. It shows what the tracker's tabs hold, so run sync first.
    """
    from tracker.dashboard import write_dashboard

    if tracker is not None and not tracker.is_file():
        raise EarmarkError(f"Tracker {tracker} does not exist; run sync first")
    board = write_dashboard(_sync_target(tracker, sheet, credentials), out)
    click.echo(
        f"report: {board.days} day(s), {len(board.raters)} rater(s), "
        f"{len(board.anomalies)} anomaly(ies) -> {out}"
    )


def _instant(text: str, option: str) -> datetime:
    """Read an ISO-8601 day or time; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO-8601 day or time (e.g. 2026-03-01T09:00Z)",
            param_hint=option,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _sync_target(
    tracker: Path | None,
    sheet: str | None,
    credentials: Path | None,
    *,
    force: bool = False,
) -> Tracker:
    """The workbook (--tracker) or Google Sheet (--sheet) to sync or report on."""
    if tracker is not None and sheet is not None:
        raise click.UsageError(
            "use either --tracker (a workbook) or --sheet (a Google Sheet), not both"
        )
    if sheet is not None and force:
        raise click.UsageError("--force goes with --tracker (a workbook)")
    if sheet is not None:
        from tracker.sheets import SheetsTracker

        return SheetsTracker.open(sheet, credentials)
    if tracker is None:
        raise click.UsageError(
            "say where the tracker is: --tracker tracker.xlsx or --sheet KEY_OR_URL"
        )
    if credentials is not None:
        raise click.UsageError("--credentials goes with --sheet")
    from tracker.xlsx import XlsxTracker

    return XlsxTracker(tracker, force=force)


def run() -> None:
    """Run the CLI, turning EarmarkError into a message and its exit code."""
    try:
        main(standalone_mode=False)
    except EarmarkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
