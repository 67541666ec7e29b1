"""A static HTML dashboard made from the tracker's tabs, for leads and sponsors.

The tracker is read through its backend's ``read`` (so a workbook and a Sheet give
the same page); nothing is recomputed from submissions. The page is one file with
its CSS and an SVG chart inlined: no script, no network, every value escaped.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from builder.errors import EarmarkError
from builder.render import render
from tracker.cells import Cell
from tracker.tables import (
    ANOMALIES,
    BURN_DOWN,
    PILOT,
    RATERS,
    Table,
    Tracker,
    key_text,
    unique_columns,
)
from tracker.times import utc_text

log = logging.getLogger(__name__)

TEMPLATE = "dashboard.html"
# Drawing area of the burn-down chart, in SVG user units.
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 36
MAX_X_LABELS = 7
CLOSED_STATUSES = ("resolved", "wontfix")

Record = dict[str, Cell]


@dataclass(frozen=True)
class Line:
    """One polyline of the chart: its series name and SVG points."""

    name: str
    points: list[tuple[float, float]]
    css: str

    @property
    def path(self) -> str:
        """The points as an SVG ``points`` attribute."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class Tick:
    """An axis label at a position along its axis."""

    at: float
    text: str


@dataclass(frozen=True)
class BurnChart:
    """The burn-down chart, laid out for the template to draw."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


@dataclass
class Dashboard:
    """Everything the template shows; values are already text for display."""

    location: str
    generated_at: str
    days: int = 0
    headline: dict[str, str] = field(default_factory=dict)
    chart: BurnChart | None = None
    raters: list[dict[str, str]] = field(default_factory=list)
    anomalies: list[dict[str, str]] = field(default_factory=list)
    times: list[dict[str, str]] = field(default_factory=list)


def build_dashboard(tracker: Tracker, now: datetime | None = None) -> Dashboard:
    """Read the tracker's tabs and lay out what the dashboard shows."""
    names = [BURN_DOWN.name, RATERS.name, ANOMALIES.name, PILOT.name]
    tables = tracker.read(names)
    if not tables:
        raise EarmarkError(
            f"{tracker.location} has none of the tabs {', '.join(names)}; "
            "run sync first"
        )
    board = Dashboard(tracker.location, utc_text(now or datetime.now(UTC)))
    days = sorted(
        (r for r in records(tables.get(BURN_DOWN.name)) if key_text(r.get("date_utc"))),
        key=lambda r: key_text(r.get("date_utc")),
    )
    board.days = len(days)
    board.headline = _headline(days)
    board.chart = burn_chart(days)
    board.raters = [_rater(r) for r in records(tables.get(RATERS.name))]
    board.anomalies = _anomalies(records(tables.get(ANOMALIES.name)))
    board.times = [
        _time_row(r)
        for r in records(tables.get(PILOT.name))
        if key_text(r.get("section")) == "time"
    ]
    return board


def write_dashboard(
    tracker: Tracker, out: Path, now: datetime | None = None
) -> Dashboard:
    """Render the dashboard of ``tracker`` into the file ``out`` (replaced whole)."""
    board = build_dashboard(tracker, now)
    html = render(TEMPLATE, board=board)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.replace(temp, out)
    except OSError as exc:
        raise EarmarkError(f"Could not write the dashboard {out}: {exc}") from exc
    finally:
        Path(temp).unlink(missing_ok=True)
    log.info(
        "dashboard: %d day(s), %d rater(s), %d anomaly(ies) -> %s",
        board.days,
        len(board.raters),
        len(board.anomalies),
        out,
    )
    return board


def records(table: Table | None) -> list[Record]:
    """A tab's rows as dicts by header name (duplicate or blank headers left out)."""
    if table is None:
        return []
    columns = unique_columns(table.header)
    return [
        {name: row[at] for name, at in columns.items()}
        for row in table.padded().rows
        if any(v not in (None, "") for v in row)
    ]


def number(value: Cell) -> float | None:
    """A number from a cell: numbers as they are, numeric text parsed (Sheets)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def burn_chart(days: Sequence[Record]) -> BurnChart | None:
    """Cumulative and remaining tasks against the day, as SVG polylines."""
    series = {
        name: [number(day.get(name)) for day in days]
        for name in ("cumulative", "remaining")
    }
    values = [v for points in series.values() for v in points if v is not None]
    if not days or not values:
        return None
    top = _nice_ceiling(max(max(values), 1.0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(days) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    lines = [
        Line(
            name,
            [(x(i), y(v)) for i, v in enumerate(points) if v is not None],
            f"line-{name}",
        )
        for name, points in series.items()
    ]
    every = max(1, -(-len(days) // MAX_X_LABELS))
    shown = sorted({*range(0, len(days), every), len(days) - 1})
    x_ticks = [Tick(x(i), key_text(days[i].get("date_utc"))[5:]) for i in shown]
    y_ticks = [Tick(y(top * k / 4), _plain(top * k / 4)) for k in range(5)]
    return BurnChart(
        WIDTH,
        HEIGHT,
        LEFT,
        TOP,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        lines,
        x_ticks,
        y_ticks,
    )


def _headline(days: Sequence[Record]) -> dict[str, str]:
    if not days:
        return {}
    last = days[-1]
    done = number(last.get("cumulative")) or 0
    left = number(last.get("remaining")) or 0
    return {
        "as of": key_text(last.get("date_utc")),
        "planned": _plain(done + left),
        "submitted": _plain(done),
        "remaining": _plain(left),
        "7-day rate": f"{_plain(number(last.get('rate_7d')))} / day",
        "forecast finish": key_text(last.get("forecast_finish_utc")) or "no forecast",
    }


def _rater(row: Record) -> dict[str, str]:
    return {
        "rater": key_text(row.get("rater_id")),
        "name": key_text(row.get("rater_name")),
        "submitted": (
            f"{_plain(number(row.get('submitted')))} / "
            f"{_plain(number(row.get('assigned')))}"
        ),
        "tasks per day": _plain(number(row.get("tasks_per_day"))),
        "median min per track": _plain(number(row.get("median_minutes_per_track"))),
        "metadata errors": _percent(row.get("metadata_error_rate")),
        "rejections": _plain(number(row.get("rejections"))),
        "rework": _plain(number(row.get("rework"))),
        "acceptance": _percent(row.get("acceptance_rate")),
        "gold agreement": _percent(row.get("gold_agreement")),
        "gold drift": _points(row.get("gold_drift")),
    }


def _anomalies(rows: list[Record]) -> list[dict[str, str]]:
    """Open ones first, overdue first among them, then by when flagged."""

    def order(row: Record) -> tuple[bool, bool, str]:
        closed = key_text(row.get("lead_status")).lower() in CLOSED_STATUSES
        late = key_text(row.get("over_24h")).lower() == "yes"
        return closed, not late, key_text(row.get("flagged_at_utc"))

    return [
        {
            "kind": key_text(row.get("kind")),
            "task": key_text(row.get("task_id")),
            "rater": key_text(row.get("rater_id")),
            "note": key_text(row.get("note")),
            "flagged": key_text(row.get("flagged_at_utc")),
            "hours": _plain(number(row.get("hours_to_tracker"))),
            "late": "yes" if key_text(row.get("over_24h")).lower() == "yes" else "",
            "status": key_text(row.get("lead_status")) or "open",
        }
        for row in sorted(rows, key=order)
    ]


def _time_row(row: Record) -> dict[str, str]:
    return {
        "kind": key_text(row.get("kind")),
        "tasks": _plain(number(row.get("tasks"))),
        "p10": _plain(number(row.get("p10_minutes"))),
        "median": _plain(number(row.get("median_minutes"))),
        "p90": _plain(number(row.get("p90_minutes"))),
    }


def _plain(value: float | None) -> str:
    """A number as short text: 12, 12.5 or 0.33; a dash when missing."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _percent(cell: Cell) -> str:
    value = number(cell)
    return "–" if value is None else f"{value * 100:.0f}%"


def _points(cell: Cell) -> str:
    """A difference of two shares in percentage points, signed."""
    value = number(cell)
    return "–" if value is None else f"{value * 100:+.0f} pt"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is >= ``value``."""
    power = 1.0
    while power * 10 < value:
        power *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if power * factor >= value:
            return power * factor
    return power * 10
