"""How each tab looks, said once for both backends.

A ``Layout`` names what leads see beyond the values: frozen header rows, a filter,
highlighted rows, warning-only protection of tool-owned columns, a chart, a hidden
tab. Dropdowns come from ``Column.choices``. The xlsx writer applies a layout on
every save; the Sheets writer compares ``fingerprint`` with the one it stored last
time and sends one formatting request only when they differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal

# Fill colours as RRGGBB.
RED = "F8D7DA"
AMBER = "FFF3CD"


@dataclass(frozen=True)
class Highlight:
    """Fill a whole row when ``column`` of that row meets the condition.

    ``equals`` compares the cell's text; ``above`` compares a number. One of the
    two is set.
    """

    column: str
    equals: str | None = None
    above: float | None = None
    color: str = RED


@dataclass(frozen=True)
class Chart:
    """A line chart of ``series`` columns against the ``x`` column."""

    title: str
    x: str
    series: tuple[str, ...]
    # A fixed id lets the Sheets writer find the chart it made before.
    chart_id: int
    y_title: str = ""


@dataclass(frozen=True)
class Layout:
    """What a tab looks like beyond its values."""

    frozen_rows: int = 1
    filter: bool = True
    hidden: bool = False
    # Tool-owned columns get a warning-only protection, so a lead who types in
    # one is asked to confirm instead of being blocked.
    protect_tool_columns: bool = True
    highlights: tuple[Highlight, ...] = ()
    chart: Chart | None = None
    kind: Literal["table", "meta"] = "table"


def fingerprint(layout: Layout, header: list[str], choices: dict[str, tuple]) -> str:
    """A short digest of everything a layout depends on, header positions included."""
    payload = {"layout": asdict(layout), "header": header, "choices": choices}
    text = json.dumps(payload, sort_keys=True, default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
