"""Earmark's own hidden tab in a Google Sheet: the sync lease and layout stamps.

Sheets has no lock and no compare-and-swap, so two syncs are kept apart by a
lease kept in cells: its owner, when it ends, and a generation number every
successful write raises. A sync that finds a live lease held by someone else
waits or stops; one that finds the generation moved since it read the tabs
stops, since it reconciled against rows that are no longer there. The tab also
holds the layout fingerprint last applied to each tab, so formatting requests
are sent only when a layout changed.

The tab is named apart from the views' ``_earmark`` tab, hidden, and protected
with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.times import parse_instant, utc_text

STATE_TAB = "_earmark_sync"
STATE_ROWS = 200  # grid rows of the tab: four fixed rows and one per tab
STATE_COLUMNS = 2
_OWNER, _EXPIRES, _GENERATION = "lease_owner", "lease_expires_utc", "generation"
_LAYOUT = "layout "  # + tab name
_TITLE = "key"


def state_range() -> str:
    """The A1 range holding the state (whole columns, so a short grid is fine)."""
    return f"{quote_title(STATE_TAB)}!A:B"


def quote_title(title: str) -> str:
    """Quote a tab title for A1 notation: ``'Burn-down'``, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Lease:
    """Who holds the Sheet, and until when (UTC); an empty owner means free."""

    owner: str = ""
    expires: datetime | None = None

    def held_by_other(self, me: str, now: datetime) -> bool:
        """True when another sync holds a lease that has not ended."""
        return bool(self.owner) and self.owner != me and self.live(now)

    def live(self, now: datetime) -> bool:
        return bool(self.owner) and self.expires is not None and self.expires > now

    def describe(self) -> str:
        until = utc_text(self.expires) if self.expires else "an unknown time"
        return f"held by {self.owner} until {until}"


@dataclass
class SheetState:
    """What the state tab holds."""

    lease: Lease = field(default_factory=Lease)
    generation: int = 0
    layouts: dict[str, str] = field(default_factory=dict)
    row_count: int = 0  # rows it occupied when read, so leftovers can be cleared

    @classmethod
    def parse(cls, values: list[list[Any]]) -> SheetState:
        """Read the state from the tab's values, in any row order."""
        found: dict[str, Any] = {}
        for row in values:
            if row and isinstance(row[0], str) and row[0]:
                found[row[0]] = row[1] if len(row) > 1 else ""
        return cls(
            lease=Lease(str(found.get(_OWNER) or ""), _instant(found.get(_EXPIRES))),
            generation=_integer(found.get(_GENERATION)),
            layouts={
                key[len(_LAYOUT) :]: str(value)
                for key, value in found.items()
                if key.startswith(_LAYOUT) and value
            },
            row_count=len(values),
        )

    def rows(self) -> list[list[str | int]]:
        """The tab's rows for this state, padded to clear rows left from before."""
        expires = utc_text(self.lease.expires) if self.lease.expires else ""
        rows: list[list[str | int]] = [
            [_TITLE, "value"],
            [_OWNER, self.lease.owner],
            [_EXPIRES, expires],
            [_GENERATION, self.generation],
        ]
        rows += [[_LAYOUT + tab, fp] for tab, fp in sorted(self.layouts.items())]
        rows += [["", ""]] * max(0, self.row_count - len(rows))
        return rows

    def a1(self) -> str:
        """The range ``rows()`` fills."""
        return f"{quote_title(STATE_TAB)}!A1:B{len(self.rows())}"


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _integer(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0
