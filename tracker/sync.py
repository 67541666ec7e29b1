"""Sync: submission files + build record -> the tracker's tabs, in stages.

load every file -> check each against the build record -> keep the latest per
task and rater -> read the tracker -> merge with the submissions it holds ->
reconcile each tab -> one write, or none when nothing changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from builder.errors import EarmarkError, Problem
from builder.record import BuildRecord, load_record
from tracker.cells import Cell, CellLog
from tracker.checks import Accepted, check
from tracker.known import merge, read_known, read_set_aside
from tracker.reconcile import (
    Key,
    leave_out_deleted,
    meta_rows,
    reconcile,
    remembered,
    written_keys,
)
from tracker.revisions import pick_latest
from tracker.rows import (
    SyncState,
    anomaly_rows,
    rejected_rows,
    submission_rows,
    task_rows,
)
from tracker.submissions import Rejected, find_files, load_file
from tracker.tables import (
    ANOMALIES,
    BURN_DOWN,
    META,
    PILOT,
    RATERS,
    REJECTED,
    SUBMISSIONS,
    TABS,
    TASKS,
    Row,
    TabChange,
    Table,
    TabSpec,
    Tracker,
    count_cell,
)
from tracker.times import utc_text
from tracker.views import (
    Reviews,
    burn_down_rows,
    pilot_rows,
    rater_rows,
    review_statuses,
)

log = logging.getLogger(__name__)

# Rows a lead deleted named one by one in the log before the rest are counted.
DELETED_SHOWN = 10


@dataclass
class SyncReport:
    """What one sync read, decided and wrote."""

    files: int = 0
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    superseded: int = 0
    copies: int = 0
    # Accepted files made with an earlier build in the record's history.
    earlier: int = 0
    changes: list[TabChange] = field(default_factory=list)
    # Rows a lead deleted that were left out (or, with restore, written again).
    deleted: int = 0
    restored: bool = False
    written: bool = False
    seconds: float = 0.0

    @property
    def added(self) -> int:
        return sum(c.added for c in self._shown())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self._shown())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self._shown())

    def _shown(self) -> list[TabChange]:
        """The tabs leads see; the hidden meta tab is bookkeeping."""
        return [c for c in self.changes if c.spec.layout.kind != "meta"]

    @property
    def problems(self) -> list[str]:
        return [p for c in self.changes for p in c.problems]

    def summary(self, location: str) -> str:
        """One line: files read, accepted, rejected; rows added/updated/unchanged."""
        outcome = "written" if self.written else "unchanged, not rewritten"
        deleted = ""
        if self.deleted:
            done = "restored" if self.restored else "left out"
            deleted = f", {self.deleted} deleted in the tracker {done}"
        earlier = f" ({self.earlier} from an earlier build)" if self.earlier else ""
        return (
            f"sync: {self.files} files read, {self.accepted} accepted{earlier}, "
            f"{len(self.rejected)} rejected; rows {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged{deleted}; "
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
    restore_deleted: bool = False,
) -> SyncReport:
    """Reconcile every submission under ``submissions`` into ``tracker``.

    Rows a lead deleted from a tracked tab stay deleted unless
    ``restore_deleted`` is set.
    """
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
    report.earlier = sum(a.file.data["build_id"] != record.build_id for a in accepted)
    log.info(
        "%d accepted (%d task/rater pairs, %d made with an earlier build), %d rejected",
        report.accepted,
        len(latest),
        report.earlier,
        len(report.rejected),
    )
    accepted_files = frozenset((a.file.name, a.file.sha256) for a in accepted)

    with tracker.lock():
        tables = tracker.read([tab.name for tab in TABS])
        known = read_known(tables, record)
        merged = merge(known, latest)
        log.info(
            "the tracker held %d submission(s); %d pair(s) written from this run's "
            "files, %d kept from the tracker",
            len(known.rows) + len(known.deleted),
            len(merged.files),
            len(merged.submitted) - len(merged.files),
        )
        set_aside = read_set_aside(
            tables.get(REJECTED.name), report.rejected, accepted_files
        )
        state = SyncState(
            record, merged, known, report.rejected, set_aside, accepted_files, now
        )
        wanted = _wanted(state, tables)
        report.restored = restore_deleted
        report.changes = _reconcile_all(state, tables, wanted, report)
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
    previous: Mapping[Key, Mapping[str, Cell]] = state.known.cells
    cells = CellLog()
    submissions = submission_rows(state, memory[SUBMISSIONS.name], cells, previous)
    # Rework by pair: as the tab shows it, then as this sync counts it.
    rework = {
        (key[0], key[1]): count_cell(values.get("rework"))
        for key, values in previous.items()
    }
    for row in submissions:
        if "rework" in row:
            pair = (str(row["task_id"]), str(row["rater_id"]))
            rework[pair] = count_cell(row["rework"])
    reviews = Reviews(review_statuses(previous), rework)
    wanted = {
        SUBMISSIONS.name: submissions,
        TASKS.name: task_rows(state),
        ANOMALIES.name: anomaly_rows(state, memory[ANOMALIES.name], cells),
        REJECTED.name: rejected_rows(state, memory[REJECTED.name], cells),
        BURN_DOWN.name: burn_down_rows(state, memory[BURN_DOWN.name]),
        RATERS.name: rater_rows(state, reviews),
        PILOT.name: pilot_rows(state, cells),
    }
    for note in cells.notes:
        log.warning("%s", note)
    return wanted


def _reconcile_all(
    state: SyncState,
    tables: dict[str, Table],
    wanted: dict[str, list[Row]],
    report: SyncReport,
) -> list[TabChange]:
    """Reconcile every tab, leaving out rows leads deleted, then the meta tab."""
    written = written_keys(tables.get(META.name))
    changes = []
    for tab in TABS:
        if tab is META:
            continue
        rows, existing = wanted[tab.name], tables.get(tab.name)
        if tab.tracked:
            rows, deleted = leave_out_deleted(
                tab, existing, rows, written.get(tab.name, set()), report.restored
            )
            _log_deleted(tab, deleted, report.restored)
            report.deleted += len(deleted)
        changes.append(reconcile(tab, existing, rows))
    meta = tables.get(META.name)
    changes.append(reconcile(META, meta, meta_rows(changes, meta, utc_text(state.now))))
    return changes


def _log_deleted(tab: TabSpec, deleted: list[Key], restored: bool) -> None:
    """One INFO line per row a lead deleted (the first few), then a count."""
    for key in deleted[:DELETED_SHOWN]:
        if restored:
            log.info("%s: restoring row %s deleted in the tracker", tab.name, _key(key))
        else:
            log.info(
                "%s: row %s was deleted in the tracker; not written again "
                "(sync --restore-deleted brings it back)",
                tab.name,
                _key(key),
            )
    more = len(deleted) - DELETED_SHOWN
    if more > 0:
        log.info("%s: and %d more deleted row(s)", tab.name, more)


def _key(key: Key) -> str:
    return " / ".join(key)


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
