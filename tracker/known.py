"""What the tracker already holds, merged with this sync's files.

Sync is an upsert. The derived tabs (Tasks, Burn-down, Raters, Pilot) count every
submission the tracker knows of, not only the files in this run's folder: the
Submissions rows it wrote before (with their times, active minutes and answers),
the rows a lead deleted that the hidden ``_earmark`` tab remembers, and this
run's accepted files. For each task and rater the later submission wins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from builder.record import BuildRecord
from tracker.cells import Cell
from tracker.reconcile import (
    Key,
    column_values,
    encode_key,
    remembered,
    written_keys,
)
from tracker.revisions import Latest, Pair, tie_breaker
from tracker.submissions import Rejected
from tracker.tables import (
    ANOMALIES,
    META,
    REJECTED,
    SUBMISSIONS,
    Table,
    count_cell,
    key_text,
)
from tracker.times import parse_instant, read_utc_cell, utc_text

log = logging.getLogger(__name__)

# What sync reads back from each Submissions row.
ROW_COLUMNS = (
    "submitted_at_utc",
    "started_at_utc",
    "active_minutes",
    "answers_json",
    "sha256",
    "file",
    "build_id",
    "revisions",
    "first_synced_at_utc",
    "review_status",
    "rework",
    "changed_since_review",
)


@dataclass(frozen=True)
class Flag:
    """An anomaly raised in a page: its kind, note and when."""

    kind: str
    note: str
    flagged: datetime


@dataclass(frozen=True)
class Submitted:
    """The submission that counts for one task and rater, from a file or a row.

    Times are kept to the second and active time to a tenth of a minute, as a
    Submissions row keeps them, so the views come out the same whichever one
    the submission was counted from.
    """

    task_id: str
    rater_id: str
    submitted: datetime
    started: datetime | None
    active_minutes: float | None
    answers: Mapping[str, Any]
    flags: tuple[Flag, ...]
    sha256: str
    file: str
    revisions: int

    def rank(self) -> tuple[datetime, datetime, float, str]:
        """The order of versions, as revisions.rank gives it, to the second."""
        started = self.started or self.submitted
        return (self.submitted, started, self.active_minutes or 0.0, self.sha256)


@dataclass
class Known:
    """What the tracker held when this sync read it."""

    # Submissions rows by (task, rater), planned pairs only.
    rows: dict[Pair, Submitted] = field(default_factory=dict)
    # Pairs whose row was made with an earlier build, for a task changed since.
    changed: set[Pair] = field(default_factory=set)
    # Pairs a lead deleted from Submissions that _earmark remembers, with the
    # time sync first wrote them there.
    deleted: dict[Pair, datetime] = field(default_factory=dict)
    # Each row's cells as the tab holds them (ROW_COLUMNS), planned or not.
    cells: dict[Key, dict[str, Cell]] = field(default_factory=dict)


@dataclass
class Merged:
    """This sync's files merged with what the tracker held, by (task, rater)."""

    # The latest submission of every pair that has one.
    submitted: dict[Pair, Submitted] = field(default_factory=dict)
    # Pairs whose latest is this run's file: their Submissions row is written.
    files: dict[Pair, Latest] = field(default_factory=dict)
    # Each written pair's revisions count after this sync.
    revisions: dict[Pair, int] = field(default_factory=dict)
    # Pairs whose row stays (it is later than this run's files), with the
    # revisions count those older files raise it to.
    older: dict[Pair, int] = field(default_factory=dict)


def read_known(tables: Mapping[str, Table], record: BuildRecord) -> Known:
    """Reconstruct the submissions the tracker holds, for the planned pairs."""
    planned = set(record.planned())
    known = Known()
    table = tables.get(SUBMISSIONS.name)
    cells = column_values(SUBMISSIONS, table, ROW_COLUMNS)
    flags = _flags(tables.get(ANOMALIES.name))
    for key, row in cells.items():
        pair = (key[0], key[1])
        known.cells[key] = row
        if pair not in planned:
            continue
        if _changed_since(record, pair, key_text(row.get("build_id"))):
            known.changed.add(pair)
            continue
        submitted = _from_row(pair, row, flags.get(pair, ()))
        if submitted is not None:
            known.rows[pair] = submitted
    meta = tables.get(META.name)
    first = remembered(META, meta)
    present = set(cells)
    for key in written_keys(meta).get(SUBMISSIONS.name, set()):
        if len(key) != 2 or key in present or (key[0], key[1]) not in planned:
            continue
        since = first.get((SUBMISSIONS.name, encode_key(key)), {})
        when = since.get("first_written_at_utc")
        if when:
            known.deleted[(key[0], key[1])] = parse_instant(when)
    return known


def from_file(latest: Latest, revisions: int) -> Submitted:
    """A submission counted from this sync's file, as its row will keep it."""
    accepted = latest.accepted
    data = accepted.file.data
    return Submitted(
        task_id=accepted.task_id,
        rater_id=accepted.rater_id,
        submitted=accepted.submitted.replace(microsecond=0),
        started=accepted.started.replace(microsecond=0),
        active_minutes=round(float(data["active_seconds"]) / 60, 1),
        answers=data["answers"],
        flags=tuple(
            Flag(a["kind"], a["note"], parse_instant(a["flagged_at"]))
            for a in data["anomalies"]
        ),
        sha256=accepted.file.sha256,
        file=accepted.file.name,
        revisions=revisions,
    )


def merge(known: Known, latest: Mapping[Pair, Latest]) -> Merged:
    """For every pair, keep the later of the tracker's row and this run's file.

    When the row's file is among this run's files, the run already chose with
    full precision. Otherwise the two are compared to the second (as the row
    keeps times), then by the same tie rule as files; a tie is logged.
    """
    merged = Merged(submitted=dict(known.rows))
    for pair, chosen in latest.items():
        row = known.rows.get(pair)
        versions = len(chosen.shas)
        if row is None:
            revisions = versions - 1
        elif row.sha256 in chosen.shas:
            revisions = max(row.revisions, versions - 1)
        else:
            mine = from_file(chosen, 0)
            if mine.rank() < row.rank():
                merged.older[pair] = max(row.revisions, versions)
                _warn_tie(pair, row, mine, row)
                continue
            _warn_tie(pair, row, mine, mine)
            revisions = max(row.revisions + 1, versions)
        merged.files[pair] = chosen
        merged.revisions[pair] = revisions
        merged.submitted[pair] = from_file(chosen, revisions)
    return merged


def _warn_tie(pair: Pair, row: Submitted, mine: Submitted, kept: Submitted) -> None:
    if row.submitted != mine.submitted:
        return
    log.warning(
        "task %s, rater %s: %s and the tracker's row (file %s) were both submitted "
        "at %s with different contents; kept %s (%s)",
        *pair,
        mine.file,
        row.file,
        utc_text(mine.submitted),
        "this file" if kept is mine else "the row",
        tie_breaker(mine.rank(), row.rank()),
    )


def _from_row(
    pair: Pair, row: Mapping[str, Cell], flags: tuple[Flag, ...]
) -> Submitted | None:
    """A Submissions row as a submission; None (with a warning) if it has no time."""
    submitted = _instant(row.get("submitted_at_utc"))
    if submitted is None:
        submitted = _instant(row.get("first_synced_at_utc"))
        if submitted is None:
            log.warning(
                "Submissions: row %s / %s has no submitted_at_utc sync can read; "
                "it is left out of Tasks, Burn-down, Raters and Pilot",
                *pair,
            )
            return None
    return Submitted(
        task_id=pair[0],
        rater_id=pair[1],
        submitted=submitted,
        started=_instant(row.get("started_at_utc")),
        active_minutes=_number(row.get("active_minutes")),
        answers=_answers(row.get("answers_json")),
        flags=flags,
        sha256=key_text(row.get("sha256")),
        file=key_text(row.get("file")),
        revisions=count_cell(row.get("revisions")),
    )


def _changed_since(record: BuildRecord, pair: Pair, build_id: str) -> bool:
    """Whether a row made with an earlier build answers a task changed since."""
    earlier = record.earlier_build(build_id) if build_id else None
    if earlier is None:
        return False
    task_id, rater_id = pair
    if task_id not in earlier.get("raters", {}).get(rater_id, {}).get("tasks", {}):
        return False  # not a task of that build: the row was edited; leave it be
    return bool(record.changed_since(earlier, task_id, rater_id))


def _flags(table: Table | None) -> dict[Pair, tuple[Flag, ...]]:
    """The Anomalies tab's flags by (task, rater)."""
    flags: dict[Pair, list[Flag]] = {}
    for key, row in column_values(ANOMALIES, table, ("note",)).items():
        task_id, rater_id, kind, flagged = key
        instant = _instant(flagged)
        if instant is None:
            continue
        note = key_text(row.get("note"))
        flags.setdefault((task_id, rater_id), []).append(Flag(kind, note, instant))
    return {pair: tuple(items) for pair, items in flags.items()}


def _instant(value: Cell) -> datetime | None:
    text = read_utc_cell(value)
    return parse_instant(text) if text else None


def _number(value: Cell) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(key_text(value)) if key_text(value) else None
    except ValueError:
        return None


def _answers(value: Cell) -> Mapping[str, Any]:
    """A row's answers_json; empty when it was cut, edited or is missing."""
    try:
        decoded = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        decoded = None
    return decoded if isinstance(decoded, dict) else {}


@dataclass(frozen=True)
class SetAside:
    """A file sync rejected, as far as Raters counts it."""

    rater_id: str | None
    metadata: bool


def read_set_aside(
    table: Table | None,
    rejected: Sequence[Rejected],
    accepted_files: frozenset[tuple[str, str]],
) -> list[SetAside]:
    """Every rejected file the tracker or this run knows, by (file, sha256).

    Rows of the Rejected tab from earlier syncs count as well as this run's
    files; a file accepted since (the same bytes) no longer counts.
    """
    found: dict[tuple[str, str], SetAside] = {}
    for key, row in column_values(REJECTED, table, ("rater_id", "metadata")).items():
        if key in accepted_files:
            continue
        rater = key_text(row.get("rater_id")) or None
        found[(key[0], key[1])] = SetAside(
            rater, key_text(row.get("metadata")).lower() == "yes"
        )
    for item in rejected:
        found[(item.name, item.sha256)] = SetAside(item.rater_id, item.metadata)
    return list(found.values())
