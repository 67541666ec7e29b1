"""The Google Sheets tracker backend: one read of every tab, one write of the changes.

A sync that changes nothing makes two calls: ``spreadsheets.get`` (tab ids, grid
sizes and the rules, filters, protected ranges and charts already there) and one
``values:batchGet`` of every tab plus Earmark's state tab. A sync that changes
something then takes the lease (a read, a write and a confirming read; see
``sheets_state``), sends one ``spreadsheets:batchUpdate`` only when a tab is new,
grows, gains columns or its layout fingerprint changed, and writes every changed
cell in one ``values:batchUpdate`` (RAW) that also frees the lease. Writes over
2 MB are split into several requests of whole rows, so an interrupted sync never
leaves half a row behind and the next sync finds every row by its key.

Values are read unformatted: numbers stay numbers, text stays text (``007``),
and a date a spreadsheet made out of a UTC column comes back as a serial number,
turned back into a datetime here.
"""

from __future__ import annotations

import getpass
import json
import logging
import math
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import gspread
import requests
from gspread.exceptions import APIError, NoValidUrlKeyFound
from gspread.utils import extract_id_from_url

from builder.errors import EarmarkError
from tracker.cells import Cell, cut
from tracker.layout import fingerprint
from tracker.sheets_layout import (
    METADATA_FIELDS,
    Request,
    SheetInfo,
    TabLayout,
    add_sheet,
    chart_columns,
    grow,
    layout_requests,
    new_sheet_id,
    parse_sheets,
    protect_whole_tab,
)
from tracker.sheets_state import (
    STATE_COLUMNS,
    STATE_ROWS,
    STATE_TAB,
    Lease,
    SheetState,
    quote_title,
    state_range,
)
from tracker.tables import TABS, TabChange, Table, TabSpec, column_letter
from tracker.times import SERIAL_EPOCH, utc_text
from tracker.transport import RetryingHTTPClient

log = logging.getLogger(__name__)

CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
SHEET_URL = "https://docs.google.com/spreadsheets/d/{key}"
# Google recommends at most about 2 MB per request; bodies are kept under this.
MAX_REQUEST_BYTES = 2_000_000
# Sheets refuses text over 50,000 characters in one cell.
MAX_CELL_CHARS = 50_000
# Rows added at once when a tab's grid is too small, so growing is rare.
ROW_HEADROOM = 1000
LEASE_SECONDS = 600.0
WAIT_SECONDS = 30.0
POLL_SECONDS = 5.0
# Pause between writing the lease and reading it back, so a sync that wrote its
# own lease a moment later is seen (see "Limits" in the README).
SETTLE_SECONDS = 1.0
READ_OPTIONS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}
_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

JsonCell = str | int | float | bool | None
T = TypeVar("T")


def sheet_key(text: str) -> str:
    """Return the spreadsheet key of a key or a Google Sheets URL."""
    text = text.strip()
    if "/" in text:
        try:
            return extract_id_from_url(text)
        except NoValidUrlKeyFound:
            raise EarmarkError(
                f"{text!r} is not a Google Sheets URL (expected "
                "https://docs.google.com/spreadsheets/d/KEY/...)"
            ) from None
    if not _KEY.match(text):
        raise EarmarkError(
            f"{text!r} is neither a Google Sheets key nor a URL; copy the URL from "
            "the browser's address bar"
        )
    return text


def default_owner() -> str:
    """Name this sync in a lease: user, host, process and a random tag."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()} {secrets.token_hex(3)}"


class SheetsTracker:
    """A tracker kept in a Google Sheet, reached through gspread."""

    def __init__(
        self,
        client: gspread.Client,
        sheet: str,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.key = sheet_key(sheet)
        self._http = client.http_client
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self.owner = owner or default_owner()
        self._lease_seconds = lease_seconds
        self._wait_seconds = wait_seconds
        self._poll_seconds = poll_seconds
        self._settle_seconds = settle_seconds
        self._max_bytes = max_request_bytes
        self._sheets: dict[str, SheetInfo] = {}
        self._state = SheetState()
        self._state_exists = False
        self._lease_held = False

    @classmethod
    def open(
        cls, sheet: str, credentials: Path | None = None, **options: Any
    ) -> SheetsTracker:
        """Connect with a service account key file (or its environment variable)."""
        key = sheet_key(sheet)
        path = credentials or (
            Path(os.environ[CREDENTIALS_ENV])
            if os.environ.get(CREDENTIALS_ENV)
            else None
        )
        if path is None:
            raise EarmarkError(
                "--sheet needs a service account key: pass --credentials FILE.json "
                f"or set {CREDENTIALS_ENV}"
            )
        if not path.is_file():
            raise EarmarkError(f"Credentials file {path} does not exist")
        try:
            client = gspread.service_account(
                filename=str(path), http_client=RetryingHTTPClient
            )
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise EarmarkError(
                f"Cannot use {path} as a Google service account key ({exc}); "
                "download a JSON key for a service account"
            ) from exc
        return cls(client, key, **options)

    @property
    def location(self) -> str:
        return SHEET_URL.format(key=self.key)

    # the Tracker protocol ---------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Keep other syncs out while this one writes; free the lease on failure.

        The lease is taken only when there is something to write, so a sync
        that changes nothing writes nothing; reading refuses (after a short
        wait) while another sync holds the lease.
        """
        try:
            yield
        finally:
            if self._lease_held:
                self._release_quietly()

    def read(self, names: Sequence[str]) -> dict[str, Table]:
        """Return the named tabs that exist; wait briefly if another sync writes."""
        waited = 0.0
        while True:
            tables = self._read_all(names)
            lease = self._state.lease
            if not lease.held_by_other(self.owner, self._clock()):
                return tables
            if waited >= self._wait_seconds:
                raise self._busy(lease)
            log.info(
                "another sync is updating %s (%s); waiting %.0f s",
                self.location,
                lease.describe(),
                self._poll_seconds,
            )
            self._sleep(self._poll_seconds)
            waited += self._poll_seconds

    def write(self, changes: Sequence[TabChange]) -> None:
        """Take the lease, fix layouts that need it, write every changed cell."""
        plan = self._plan(changes)
        self._acquire()
        if plan.requests:
            log.info(
                "Google Sheets: %d formatting request(s) in one batch",
                len(plan.requests),
            )
            self._call(
                "update the tabs and layout of",
                lambda: self._http.batch_update(self.key, {"requests": plan.requests}),
                hint="nothing else was written; run sync again, it checks what "
                "exists before adding anything",
            )
        state = replace(
            self._state,
            lease=Lease(),
            generation=self._state.generation + 1,
            layouts=plan.layouts,
        )
        ranges = [*plan.ranges, _range(state.a1(), state.rows())]
        bodies = pack(ranges, self._max_bytes)
        for number, body in enumerate(bodies, start=1):
            self._write_values(body, f"write values ({number} of {len(bodies)}) to")
        self._lease_held = False
        self._state = state

    def _write_values(self, body: dict[str, Any], doing: str) -> None:
        self._call(
            doing,
            lambda: self._http.values_batch_update(self.key, body),
            hint="rows already written stay; run sync again to finish",
        )

    # reading --------------------------------------------------------------------------

    def _read_all(self, names: Sequence[str]) -> dict[str, Table]:
        metadata = self._call(
            "read the tabs of",
            lambda: self._http.spreadsheets_get(
                self.key, params={"fields": METADATA_FIELDS}
            ),
            hint=self._access_hint(),
        )
        self._sheets = {info.title.casefold(): info for info in parse_sheets(metadata)}
        present = [name for name in names if name.casefold() in self._sheets]
        self._state_exists = STATE_TAB.casefold() in self._sheets
        ranges = [quote_title(self._sheets[n.casefold()].title) for n in present]
        if self._state_exists:
            ranges.append(state_range())
        found: list[list[list[Any]]] = []
        if ranges:
            answer = self._call(
                "read the values of",
                lambda: self._http.values_batch_get(
                    self.key, ranges, params=dict(READ_OPTIONS)
                ),
            )
            found = [vr.get("values", []) for vr in answer.get("valueRanges", [])]
        self._state = (
            SheetState.parse(found[-1]) if self._state_exists else SheetState()
        )
        specs = _specs()
        return {
            name: to_table(values, specs.get(name))
            for name, values in zip(present, found, strict=False)
        }

    def _read_state(self) -> SheetState:
        answer = self._call(
            "read the sync lease of",
            lambda: self._http.values_get(
                self.key, state_range(), params=dict(READ_OPTIONS)
            ),
        )
        return SheetState.parse(answer.get("values", []))

    # the lease ------------------------------------------------------------------------

    def _acquire(self) -> None:
        """Write this sync's lease and read it back; stop if another sync holds it."""
        now = self._clock()
        mine = Lease(self.owner, now + timedelta(seconds=self._lease_seconds))
        if self._state_exists:
            current = self._read_state()
            if current.lease.held_by_other(self.owner, now):
                raise self._busy(current.lease)
            self._check_generation(current)
            claim = replace(current, lease=mine)
            self._lease_held = True
            self._call(
                "take the sync lease of",
                lambda: self._http.values_batch_update(
                    self.key, _body([_range(claim.a1(), claim.rows())])
                ),
            )
        else:
            self._create_state_tab(mine)
        self._sleep(self._settle_seconds)
        confirmed = self._read_state()
        if confirmed.lease.owner != self.owner:
            self._lease_held = False
            raise self._busy(confirmed.lease)
        self._check_generation(confirmed)

    def _create_state_tab(self, lease: Lease) -> None:
        taken = [info.sheet_id for info in self._sheets.values()]
        sheet_id = new_sheet_id(STATE_TAB, taken)
        state = replace(self._state, lease=lease)
        rows = [
            {"values": [_cell_data(value) for value in row]} for row in state.rows()
        ]
        batch: list[Request] = [
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": STATE_TAB,
                        "hidden": True,
                        "gridProperties": {
                            "rowCount": STATE_ROWS,
                            "columnCount": STATE_COLUMNS,
                        },
                    }
                }
            },
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": rows,
                    "fields": "userEnteredValue",
                }
            },
            protect_whole_tab(sheet_id, "sync lease and layout stamps; do not edit"),
        ]
        # Held from here: if the answer is lost after Google applied the batch,
        # the failure path still frees the lease this sync wrote.
        self._lease_held = True
        try:
            self._http.batch_update(self.key, {"requests": batch})
        except APIError as exc:
            if exc.code == 400 and "already exists" in str(exc.error.get("message")):
                raise EarmarkError(
                    f"Another sync started on {self.location} at the same moment; "
                    "nothing was written. Run sync again once it has finished."
                ) from exc
            raise self._api_error("create the sync state tab of", exc, "") from exc
        except requests.RequestException as exc:
            raise self._network_error("create the sync state tab of", exc) from exc
        self._state_exists = True

    def _check_generation(self, current: SheetState) -> None:
        if current.generation != self._state.generation:
            raise EarmarkError(
                f"Another sync wrote {self.location} while this one was reading it; "
                "nothing was written. Run sync again."
            )

    def _release_quietly(self) -> None:
        """Free the lease after a failure; if even that fails, it ends by itself."""
        self._lease_held = False
        try:
            answer = self._http.values_get(
                self.key, state_range(), params=dict(READ_OPTIONS)
            )
            current = SheetState.parse(answer.get("values", []))
            if current.lease.owner != self.owner:
                return
            freed = replace(current, lease=Lease())
            self._http.values_batch_update(
                self.key, _body([_range(freed.a1(), freed.rows())])
            )
        except APIError as exc:
            if exc.code == 400:  # no state tab: the lease was never written
                return
            self._warn_lease_left(exc)
        except requests.RequestException as exc:
            self._warn_lease_left(exc)

    def _warn_lease_left(self, exc: Exception) -> None:
        log.warning(
            "could not free the sync lease of %s (%s); it ends by itself within "
            "%.0f minutes",
            self.location,
            type(exc).__name__,
            self._lease_seconds / 60,
        )

    def _busy(self, lease: Lease) -> EarmarkError:
        return EarmarkError(
            f"Another sync is updating {self.location} (lease {lease.describe()}); "
            "nothing was written. Run sync again once it has finished; a lease left "
            "by a sync that was killed ends by itself at that time."
        )

    # planning the write ---------------------------------------------------------------

    def _plan(self, changes: Sequence[TabChange]) -> WritePlan:
        plan = WritePlan(layouts=dict(self._state.layouts))
        taken = [info.sheet_id for info in self._sheets.values()]
        charts = {c for info in self._sheets.values() for c in info.charts}
        order = len(self._sheets)
        for position, change in enumerate(changes):
            if change.skipped:
                continue
            spec, header = change.spec, change.table.header
            stamp = fingerprint(spec.layout, header, _choices(spec))
            info = self._sheets.get(spec.name.casefold())
            rows = len(change.table.rows) + 1
            cols = chart_columns(spec.layout, len(header))
            if info is None:
                sheet_id = new_sheet_id(spec.name, taken)
                taken.append(sheet_id)
                after = SheetInfo(
                    sheet_id, spec.name, rows=rows + ROW_HEADROOM, cols=cols
                )
                index = min(position, order)
                order += 1
                plan.requests.append(
                    add_sheet(sheet_id, spec.name, index, after.rows, cols, spec.layout)
                )
                relayout = True
            else:
                target_rows = rows + ROW_HEADROOM if rows > info.rows else info.rows
                sized = grow(info, target_rows, cols)
                after = replace(
                    info, rows=max(info.rows, target_rows), cols=max(info.cols, cols)
                )
                if sized is not None:
                    plan.requests.append(sized)
                relayout = (
                    sized is not None
                    or bool(change.new_columns)
                    or self._state.layouts.get(spec.name) != stamp
                )
            if relayout:
                tab = TabLayout(
                    spec,
                    header,
                    after,
                    dict(change.new_columns),
                    chart_exists=spec.layout.chart is not None
                    and spec.layout.chart.chart_id in charts,
                )
                plan.requests += layout_requests(tab)
            plan.layouts[spec.name] = stamp
            if change.changed:
                plan.ranges += value_ranges(
                    after.title, _cells(change), self._max_bytes
                )
        return plan

    # errors ---------------------------------------------------------------------------

    def _call(self, doing: str, call: Callable[[], T], hint: str = "") -> T:
        try:
            return call()
        except APIError as exc:
            raise self._api_error(doing, exc, hint) from exc
        except requests.RequestException as exc:
            raise self._network_error(doing, exc, hint) from exc

    def _api_error(self, doing: str, exc: APIError, hint: str) -> EarmarkError:
        message = exc.error.get("message", str(exc)) if exc.error else str(exc)
        text = (
            f"Google Sheets refused to {doing} {self.location}: [{exc.code}] {message}"
        )
        return EarmarkError(f"{text}; {hint}" if hint else text)

    def _network_error(
        self, doing: str, exc: requests.RequestException, hint: str = ""
    ) -> EarmarkError:
        text = (
            f"Could not reach Google Sheets to {doing} {self.location} "
            f"({type(exc).__name__}, after retrying)"
        )
        return EarmarkError(f"{text}; {hint}" if hint else text)

    def _access_hint(self) -> str:
        auth = getattr(self._http, "auth", None)
        email = getattr(auth, "service_account_email", None)
        who = f"the service account {email}" if email else "the service account"
        return f"check the key and share the Sheet with {who} as an editor"


@dataclass
class WritePlan:
    """What one write sends: formatting requests, value ranges, layout stamps."""

    layouts: dict[str, str]
    requests: list[Request] = field(default_factory=list)
    ranges: list[dict[str, Any]] = field(default_factory=list)


# values in and out --------------------------------------------------------------------


def to_table(values: list[list[Any]], spec: TabSpec | None) -> Table:
    """Turn a values:batchGet answer into a Table padded to its widest row.

    Empty cells become None; a number in a column the spec says holds UTC
    times is a serial date a spreadsheet made, returned as a naive UTC datetime.
    """
    if not values:
        return Table([], [])
    width = max(len(row) for row in values)
    header = [_header_text(v) for v in _pad(values[0], width)]
    utc = {c.name for c in spec.columns if c.kind == "utc"} if spec else set()
    dated = [i for i, name in enumerate(header) if name in utc]
    rows: list[list[Cell]] = []
    for row in values[1:]:
        line: list[Cell] = [None if v == "" else v for v in row]
        line += [None] * (width - len(line))
        for i in dated:
            line[i] = _date_cell(line[i])
        rows.append(line)
    return Table(header, rows)


def _pad(row: list[Any], width: int) -> list[Any]:
    return list(row) + [""] * (width - len(row))


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date_cell(value: Cell) -> Cell:
    """A number in a UTC column is a serial day a spreadsheet made: a datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not 1 <= value < 2958466:  # 9999-12-31 is the last serial day
        return value
    return (SERIAL_EPOCH + timedelta(days=float(value))).replace(tzinfo=None)


def json_cell(value: Cell, where: str = "") -> JsonCell:
    """Return a cell as RAW input: "" clears, times become UTC text, text is cut.

    ``where`` names the cell in the warning logged for a number Sheets cannot
    hold (NaN, infinity), which is left empty instead.
    """
    if isinstance(value, str):
        # Counting UTF-16 units is needed only when the text might be too long.
        return (
            value if len(value) <= MAX_CELL_CHARS // 2 else cut(value, MAX_CELL_CHARS)
        )
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        log.warning(
            "%s: %r cannot be stored in Google Sheets; left empty", where, value
        )
        return ""
    if isinstance(value, datetime):
        return utc_text(value if value.tzinfo else value.replace(tzinfo=UTC))
    return cut(str(value), MAX_CELL_CHARS)


def _cells(change: TabChange) -> dict[tuple[int, int], JsonCell]:
    """Every cell a change sets, by 0-based sheet row (the header is row 0)."""
    name = change.spec.name
    out: dict[tuple[int, int], JsonCell] = {
        (0, index): json_cell(header) for index, header in change.new_columns.items()
    }
    for (row, column), value in change.cells.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[(row + 1, column)] = json_cell(
                value, f"{name}!{column_letter(column)}{row + 2}"
            )
        else:
            out[(row + 1, column)] = json_cell(value)
    return out


def value_ranges(
    title: str, cells: dict[tuple[int, int], JsonCell], max_bytes: int
) -> list[dict[str, Any]]:
    """Group cells into ranges: runs of adjacent rows, each one rectangle.

    Cells of a rectangle that are not set are sent as null, which leaves them as
    they are. A rectangle is cut between rows, never inside one, so that it fits
    in a request of ``max_bytes``.
    """
    by_row: dict[int, dict[int, JsonCell]] = {}
    for (row, column), value in cells.items():
        by_row.setdefault(row, {})[column] = value
    budget = max_bytes - _BODY_OVERHEAD - 200
    out: list[dict[str, Any]] = []
    run: list[int] = []
    for row in sorted(by_row):
        if run and row != run[-1] + 1:
            out += _rectangles(title, run, by_row, budget)
            run = []
        run.append(row)
    if run:
        out += _rectangles(title, run, by_row, budget)
    return out


def _rectangles(
    title: str, rows: list[int], by_row: dict[int, dict[int, JsonCell]], budget: int
) -> list[dict[str, Any]]:
    left = min(min(by_row[r]) for r in rows)
    right = max(max(by_row[r]) for r in rows)
    out: list[dict[str, Any]] = []
    block: list[list[JsonCell]] = []
    start = rows[0]
    size = 0
    for row in rows:
        line = [by_row[row].get(c) for c in range(left, right + 1)]
        line_size = len(json.dumps(line)) + 2
        if block and size + line_size > budget:
            out.append(_rectangle(title, start, left, block))
            block, size, start = [], 0, row
        block.append(line)
        size += line_size
    out.append(_rectangle(title, start, left, block))
    return out


def _rectangle(
    title: str, row0: int, col0: int, block: list[list[JsonCell]]
) -> dict[str, Any]:
    col1 = col0 + len(block[0]) - 1
    a1 = (
        f"{quote_title(title)}!{column_letter(col0)}{row0 + 1}:"
        f"{column_letter(col1)}{row0 + len(block)}"
    )
    return _range(a1, block)


def _range(a1: str, values: Sequence[Sequence[Any]]) -> dict[str, Any]:
    return {"range": a1, "majorDimension": "ROWS", "values": [list(v) for v in values]}


def _body(ranges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"valueInputOption": "RAW", "data": ranges}


_BODY_OVERHEAD = len(json.dumps(_body([])))


def pack(ranges: list[dict[str, Any]], max_bytes: int) -> list[dict[str, Any]]:
    """Put ranges, in order, into as few request bodies of ``max_bytes`` as fit."""
    bodies: list[list[dict[str, Any]]] = [[]]
    size = _BODY_OVERHEAD
    for item in ranges:
        item_size = len(json.dumps(item)) + 2
        if bodies[-1] and size + item_size > max_bytes:
            bodies.append([])
            size = _BODY_OVERHEAD
        bodies[-1].append(item)
        size += item_size
    return [_body(group) for group in bodies if group]


def _cell_data(value: str | int) -> dict[str, Any]:
    if isinstance(value, int):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": value}}


def _choices(spec: TabSpec) -> dict[str, tuple[str, ...]]:
    return {c.name: c.choices for c in spec.columns if c.choices}


def _specs() -> dict[str, TabSpec]:
    return {tab.name: tab for tab in TABS}
