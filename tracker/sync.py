"""Sync: submission files + build record -> the tracker's tabs, in stages.

load every file -> check each against the build record -> keep the latest per
task and rater -> read the tracker -> reconcile each tab -> one write, or none
when nothing changed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from builder.errors import EarmarkError, Problem
from builder.record import BuildRecord, load_record
from tracker.cells import CellLog
from tracker.checks import Accepted, check
from tracker.reconcile import reconcile, remembered
from tracker.revisions import pick_latest
from tracker.rows import (
    SyncState,
    anomaly_rows,
    burn_down_rows,
    rejected_rows,
    submission_rows,
    task_rows,
)
from tracker.submissions import Rejected, find_files, load_file
from tracker.tables import (
    ANOMALIES,
    BURN_DOWN,
    REJECTED,
    SUBMISSIONS,
    TABS,
    TASKS,
    Row,
    TabChange,
    Table,
    Tracker,
)

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync read, decided and wrote."""

    files: int = 0
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    superseded: int = 0
    copies: int = 0
    changes: list[TabChange] = field(default_factory=list)
    written: bool = False
    seconds: float = 0.0

    @property
    def added(self) -> int:
        return sum(c.added for c in self.changes)

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.changes)

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.changes)

    @property
    def problems(self) -> list[str]:
        return [p for c in self.changes for p in c.problems]

    def summary(self, location: str) -> str:
        """One line: files read, accepted, rejected; rows added/updated/unchanged."""
        outcome = "written" if self.written else "unchanged, not rewritten"
        return (
            f"sync: {self.files} files read, {self.accepted} accepted, "
            f"{len(self.rejected)} rejected; rows {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged; "
            f"{location} {outcome}; {self.seconds:.1f} s"
        )

    def rejected_problems(self) -> list[Problem]:
        return [Problem(r.name, r.reason) for r in self.rejected]


def sync(
    submissions: Path,
    build: Path,
    tracker: Tracker,
    *,
    now: datetime | None = None,
) -> SyncReport:
    """Reconcile every submission under ``submissions`` into ``tracker``."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    record = load_record(build)
    if not submissions.is_dir():
        raise EarmarkError(f"Submissions folder {submissions} does not exist")
    report = SyncReport()

    accepted = _load_and_check(submissions, record, now, report)
    latest = pick_latest(accepted)
    report.superseded = sum(item.revisions for item in latest.values())
    report.copies = sum(item.copies for item in latest.values())
    log.info(
        "%d accepted (%d task/rater pairs), %d rejected",
        report.accepted,
        len(latest),
        len(report.rejected),
    )
    accepted_files = frozenset((a.file.name, a.file.sha256) for a in accepted)
    state = SyncState(record, latest, report.rejected, accepted_files, now)

    with tracker.lock():
        tables = tracker.read([tab.name for tab in TABS])
        wanted = _wanted(state, tables)
        report.changes = [
            reconcile(tab, tables.get(tab.name), wanted[tab.name]) for tab in TABS
        ]
        _log_changes(report.changes)
        if any(change.changed for change in report.changes):
            tracker.write(report.changes)
            report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _load_and_check(
    folder: Path, record: BuildRecord, now: datetime, report: SyncReport
) -> list[Accepted]:
    """Load and check every file, adding the rejected ones to ``report``."""
    paths = find_files(folder)
    report.files = len(paths)
    log.info("reading %d submission file(s) under %s", len(paths), folder)
    accepted: list[Accepted] = []
    for path in paths:
        loaded = load_file(path, folder)
        result = loaded if isinstance(loaded, Rejected) else check(loaded, record, now)
        if isinstance(result, Rejected):
            log.warning("rejected %s: %s", result.name, result.reason)
            report.rejected.append(result)
        else:
            log.debug("accepted %s", result.file.name)
            accepted.append(result)
    report.accepted = len(accepted)
    return accepted


def _wanted(state: SyncState, tables: dict[str, Table]) -> dict[str, list[Row]]:
    """Build each tab's rows, reusing what the tracker kept from earlier syncs."""
    memory = {tab.name: remembered(tab, tables.get(tab.name)) for tab in TABS}
    cells = CellLog()
    wanted = {
        SUBMISSIONS.name: submission_rows(state, memory[SUBMISSIONS.name], cells),
        TASKS.name: task_rows(state),
        ANOMALIES.name: anomaly_rows(state, memory[ANOMALIES.name], cells),
        REJECTED.name: rejected_rows(state, memory[REJECTED.name], cells),
        BURN_DOWN.name: burn_down_rows(state, memory[BURN_DOWN.name]),
    }
    for note in cells.notes:
        log.warning("%s", note)
    return wanted


def _log_changes(changes: list[TabChange]) -> None:
    for change in changes:
        for problem in change.problems:
            log.warning("%s", problem)
        log.info(
            "%s: %d added, %d updated, %d unchanged",
            change.spec.name,
            change.added,
            change.updated,
            change.unchanged,
        )
