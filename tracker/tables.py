"""The tracker's tabs and columns, the plain table both backends read and write.

A tab is a header row plus data rows. Earmark owns some columns (it rewrites
them on every sync) and leaves the rest alone: lead-owned columns it creates
once, and any column a lead adds. Columns are found by header name and rows by
their key, so leads may reorder columns, add their own and sort rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tracker.cells import Cell
from tracker.layout import AMBER, RED, Chart, Highlight, Layout
from tracker.times import read_day_cell, read_utc_cell

Kind = Literal["text", "int", "number", "utc", "date"]

REVIEW_CHOICES = ("accepted", "rejected", "rewrite")
LEAD_STATUS_CHOICES = ("open", "in progress", "resolved", "wontfix")


@dataclass(frozen=True)
class Column:
    """One column of a tab.

    ``lead`` columns are created empty and never written again. ``keep`` columns
    are filled once and then kept (e.g. when a row first reached the tracker).
    ``choices`` become a dropdown in backends that support one. ``kind`` is the
    type every value Earmark writes there has: text, int, number, UTC text
    (``2026-03-01T04:30:00Z``) or a UTC day as text (``2026-03-01``).
    """

    name: str
    kind: Kind = "text"
    lead: bool = False
    keep: bool = False
    choices: tuple[str, ...] = ()
    width: int = 14


@dataclass(frozen=True)
class TabSpec:
    """A tab: its name, the columns that identify a row, and all of its columns.

    A ``derived`` tab (a view such as Burn-down) is recomputed whole on every sync:
    a row a lead deleted comes back, and a row Earmark no longer produces keeps its
    key but loses its values. Every other table tab is tracked in the meta tab:
    once Earmark has written a key there, a lead deleting that row removes it for
    good (``sync --restore-deleted`` brings it back).
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    layout: Layout = field(default_factory=Layout)
    derived: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def tracked(self) -> bool:
        """Whether the meta tab remembers which of this tab's keys were written."""
        return not self.derived and self.layout.kind == "table"

    def key_at(
        self, row: Sequence[Cell], columns: Mapping[str, int]
    ) -> tuple[str, ...]:
        """The key of a row as read, its key columns found at ``columns``."""
        kinds = {c.name: c.kind for c in self.columns}
        return tuple(key_cell(row[columns[k]], kinds.get(k, "text")) for k in self.key)

    def key_in(self, row: Mapping[str, Cell]) -> tuple[str, ...]:
        """The key of a row Earmark wants, given by column name."""
        kinds = {c.name: c.kind for c in self.columns}
        return tuple(key_cell(row.get(k), kinds.get(k, "text")) for k in self.key)


def _text(name: str, width: int = 14) -> Column:
    return Column(name, "text", width=width)


def _int(name: str, width: int = 10) -> Column:
    return Column(name, "int", width=width)


def _num(name: str, width: int = 10) -> Column:
    return Column(name, "number", width=width)


def _utc(name: str, keep: bool = False) -> Column:
    return Column(name, "utc", keep=keep, width=21)


SUBMISSIONS = TabSpec(
    "Submissions",
    ("task_id", "rater_id"),
    (
        _text("task_id"),
        _text("rater_id", 10),
        _text("kind", 8),
        _text("batch", 8),
        _text("prompt", 40),
        _text("model_A", 16),
        _text("model_B", 16),
        _text("model_X", 16),
        _text("clip_A", 18),
        _text("clip_B", 18),
        _text("clip_X", 18),
        _text("preferred", 10),
        _int("strength"),
        _text("preferred_model", 16),
        _text("x_correct", 9),
        _text("rationale", 40),
        _text("caption", 40),
        _int("caption_words"),
        _int("callouts"),
        _utc("started_at_utc"),
        _utc("submitted_at_utc"),
        _num("active_minutes"),
        _num("min_coverage_heard"),
        _int("plays"),
        _int("anomalies"),
        _text("file", 30),
        _text("sha256", 20),
        _text("build_id", 14),
        _int("revisions"),
        _int("rework"),
        _text("changed_since_review", 12),
        _utc("first_synced_at_utc", keep=True),
        _text("answers_json", 40),
        Column("review_status", lead=True, choices=REVIEW_CHOICES, width=14),
        Column("reviewer_notes", lead=True, width=30),
    ),
    layout=Layout(
        highlights=(
            Highlight("review_status", equals="rejected", color=RED),
            Highlight("review_status", equals="rewrite", color=AMBER),
            Highlight("changed_since_review", equals="yes", color=AMBER),
        )
    ),
)

TASKS = TabSpec(
    "Tasks",
    ("task_id", "rater_id"),
    (
        _text("task_id"),
        _text("rater_id", 10),
        _text("rater_name", 18),
        _text("kind", 8),
        _text("batch", 8),
        _text("state", 10),
        _utc("submitted_at_utc"),
    ),
)

ANOMALIES = TabSpec(
    "Anomalies",
    ("task_id", "rater_id", "kind", "flagged_at_utc"),
    (
        _text("task_id"),
        _text("rater_id", 10),
        _text("kind", 16),
        _text("note", 40),
        _utc("flagged_at_utc"),
        _utc("reached_tracker_at_utc", keep=True),
        _num("hours_to_tracker"),
        _text("over_24h", 9),
        Column("lead_status", lead=True, choices=LEAD_STATUS_CHOICES, width=14),
    ),
    layout=Layout(highlights=(Highlight("over_24h", equals="yes", color=RED),)),
)

REJECTED = TabSpec(
    "Rejected",
    ("file", "sha256"),
    (
        _text("file", 30),
        _text("sha256", 20),
        _text("reason", 60),
        _text("task_id"),
        _text("rater_id", 10),
        _utc("first_seen_at_utc", keep=True),
        _text("state", 9),
        _text("metadata", 9),
    ),
    layout=Layout(highlights=(Highlight("metadata", equals="yes", color=RED),)),
)

BURN_DOWN_CHART = Chart(
    "Burn-down: cumulative and remaining tasks",
    x="date_utc",
    series=("cumulative", "remaining"),
    chart_id=4_170_001,
    y_title="tasks",
)

BURN_DOWN = TabSpec(
    "Burn-down",
    ("date_utc",),
    (
        Column("date_utc", "date", width=12),
        _int("submitted"),
        _int("cumulative"),
        _int("remaining"),
        _num("rate_7d"),
        _text("forecast_finish_utc", 20),
    ),
    layout=Layout(chart=BURN_DOWN_CHART),
    derived=True,
)

RATERS = TabSpec(
    "Raters",
    ("rater_id",),
    (
        _text("rater_id", 10),
        _text("rater_name", 18),
        _int("assigned"),
        _int("submitted"),
        _int("active_days"),
        _num("tasks_per_day"),
        _num("median_minutes_per_track", 12),
        _int("files"),
        _int("metadata_errors"),
        _num("metadata_error_rate", 12),
        _int("rejections"),
        _int("rework"),
        _int("reviewed"),
        _num("acceptance_rate", 12),
        _int("gold_answered"),
        _num("gold_agreement", 12),
        _num("gold_recent", 12),
        _num("gold_drift", 12),
        _int("abx_trials"),
        _int("abx_correct"),
        _num("abx_p_value", 12),
    ),
    layout=Layout(
        highlights=(Highlight("metadata_error_rate", above=0.1, color=AMBER),)
    ),
    derived=True,
)

PILOT = TabSpec(
    "Pilot",
    ("section", "kind", "task_id", "rater_id", "flagged_at_utc"),
    (
        _text("section", 10),
        _text("kind", 16),
        _int("tasks"),
        _num("p10_minutes"),
        _num("median_minutes"),
        _num("p90_minutes"),
        _int("under_5_min"),
        _int("5_to_10_min"),
        _int("10_to_20_min"),
        _int("20_to_40_min"),
        _int("40_min_plus"),
        _text("task_id"),
        _text("rater_id", 10),
        _utc("flagged_at_utc"),
        _text("note", 40),
    ),
    derived=True,
)

META = TabSpec(
    "_earmark",
    ("tab", "key"),
    (
        _text("tab", 12),
        _text("key", 40),
        _utc("first_written_at_utc", keep=True),
    ),
    layout=Layout(filter=False, hidden=True, kind="meta"),
)

TABS: tuple[TabSpec, ...] = (
    SUBMISSIONS,
    TASKS,
    ANOMALIES,
    REJECTED,
    BURN_DOWN,
    RATERS,
    PILOT,
    META,
)

# A row the tool wants in a tab, by column name (tool-owned columns only).
Row = dict[str, Cell]


@dataclass
class Table:
    """A tab as read: header names as found and data rows padded to their width."""

    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def padded(self) -> Table:
        """Return a copy whose rows all have exactly the header's width."""
        width = len(self.header)
        rows = [(list(r) + [None] * width)[:width] for r in self.rows]
        return Table(list(self.header), rows)


@dataclass
class TabChange:
    """What reconciling one tab decided: the table to show and the cells to set.

    ``cells`` maps (data row index, column index) to the value to write, row 0
    being the first row under the header; rows at or past ``first_new_row`` are
    new. ``new_columns`` are header names appended at their index.
    """

    spec: TabSpec
    table: Table
    exists: bool
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    new_columns: dict[int, str] = field(default_factory=dict)
    first_new_row: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return not self.skipped and (
            bool(self.cells) or bool(self.new_columns) or not self.exists
        )


def unique_columns(header: Sequence[str]) -> dict[str, int]:
    """Map each header name that occurs exactly once to its index."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        if name:
            seen.setdefault(name, []).append(i)
    return {name: idx[0] for name, idx in seen.items() if len(idx) == 1}


class Tracker(Protocol):
    """A tracker backend: lock it, read every tab once, write all changes once."""

    @property
    def location(self) -> str:
        """Where the tracker lives, for messages (a path or a sheet URL)."""

    def lock(self) -> AbstractContextManager[None]:
        """Hold the tracker against a second sync until the context exits."""

    def read(self, names: Sequence[str]) -> dict[str, Table]:
        """Return the named tabs that exist, headers stripped, rows padded."""

    def write(self, changes: Sequence[TabChange]) -> None:
        """Apply every changed tab in one write; leave the tracker intact on failure."""


def column_letter(index: int) -> str:
    """Return the A1-style letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def key_cell(value: Cell, kind: Kind = "text") -> str:
    """Return a key cell as comparable text, a day or an instant in one spelling.

    A lead's spreadsheet program may turn a day or a UTC time Earmark wrote as
    text into a date (a workbook) or a serial day number (Google Sheets read
    unformatted); either still finds its row, so no duplicate row is added.
    """
    if kind == "date":
        day = read_day_cell(value)
        if day is not None:
            return day
    elif kind == "utc":
        instant = read_utc_cell(value)
        if instant is not None:
            return instant
    return key_text(value)


def key_text(value: Cell) -> str:
    """Return a key cell as comparable text ("" when empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def count_cell(value: Cell) -> int:
    """Return a count read back from a tab (a number, or Sheets text); else 0."""
    try:
        return max(int(float(key_text(value) or 0)), 0)
    except ValueError:
        return 0
