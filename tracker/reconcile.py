"""Merge the rows Earmark wants into a tab as a lead left it.

Backend-free: a tab comes in as a plain Table, and out goes a TabChange naming
exactly the cells to set. Only Earmark's own columns are ever written; a row is
found by its key, a column by its header name. A column whose name occurs twice
is never written, and a tab whose key column is ambiguous is left as it is.

The hidden meta tab is reconciled the same way: it lists every key Earmark has
written to each tracked tab, which is how a row a lead deleted is told apart
from a row that was never there.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from tracker.cells import Cell, same
from tracker.tables import (
    META,
    Row,
    TabChange,
    Table,
    TabSpec,
    column_letter,
    unique_columns,
)
from tracker.times import read_utc_cell

Key = tuple[str, ...]


def reconcile(
    spec: TabSpec, existing: Table | None, wanted: Sequence[Row]
) -> TabChange:
    """Decide which cells of ``existing`` to set so the tab shows ``wanted``."""
    if existing is None:
        table = Table(spec.names, [])
        change = TabChange(spec, table, exists=False)
        change.new_columns = dict(enumerate(spec.names))
    else:
        table = existing.padded()
        change = TabChange(spec, table, exists=True)
        change.problems.extend(header_problems(spec.name, table.header))

    positions = _place_columns(change)
    if change.skipped:
        return change

    index = _index_rows(change, positions)
    change.first_new_row = len(table.rows)
    writable = [
        (c.name, positions[c.name])
        for c in spec.columns
        if not c.lead and c.name in positions
    ]
    done: set[Key] = set()
    for row in wanted:
        key = spec.key_in(row)
        if key in done:
            continue
        done.add(key)
        at = index.get(key)
        if at is None:
            table.rows.append([None] * len(table.header))
            _update(change, len(table.rows) - 1, row, writable)
            change.added += 1
        elif _update(change, at, row, writable):
            change.updated += 1
        else:
            change.unchanged += 1
    if spec.derived:
        _clear_stale(change, index, done, writable)
    return change


def column_values(
    spec: TabSpec, table: Table | None, names: Sequence[str]
) -> dict[Key, dict[str, Cell]]:
    """Return the named columns' cells of every keyed row, as the tab holds them.

    Used to read lead columns (review_status) and earlier tool values back; a
    column that is missing or ambiguous is left out of each row's dict.
    """
    if table is None:
        return {}
    columns = unique_columns(table.header)
    if any(k not in columns for k in spec.key):
        return {}
    found = [name for name in names if name in columns]
    values: dict[Key, dict[str, Cell]] = {}
    for row in table.padded().rows:
        key = spec.key_at(row, columns)
        if any(key) and key not in values:
            values[key] = {name: row[columns[name]] for name in found}
    return values


def encode_key(key: Key) -> str:
    """Write a row key as one meta-tab cell (a JSON list of its texts)."""
    return json.dumps(list(key), ensure_ascii=False)


def written_keys(meta: Table | None) -> dict[str, set[Key]]:
    """Read the meta tab: for each tab name, the keys Earmark has written there.

    A meta row whose key cell is not a JSON list of texts (edited by hand) is
    ignored, so at worst that row is treated as never written.
    """
    written: dict[str, set[Key]] = {}
    for tab, text in remembered(META, meta):
        try:
            decoded = json.loads(text)
        except ValueError:
            continue
        if isinstance(decoded, list) and all(isinstance(k, str) for k in decoded):
            written.setdefault(tab, set()).add(tuple(decoded))
    return written


def leave_out_deleted(
    spec: TabSpec,
    existing: Table | None,
    wanted: Sequence[Row],
    written: Collection[Key],
    restore: bool = False,
) -> tuple[list[Row], list[Key]]:
    """Drop wanted rows whose key was written before and is gone from the tab now.

    Returns the rows to reconcile and the keys a lead deleted. With ``restore``
    those rows are kept (written again) and still returned as deleted. A tab
    that is missing altogether, or whose key columns cannot be found, is not
    judged: every wanted row is kept.
    """
    keys = _present_keys(spec, existing)
    if keys is None:
        return list(wanted), []
    present = set(keys)
    kept: list[Row] = []
    deleted: list[Key] = []
    for row in wanted:
        key = spec.key_in(row)
        if key in written and key not in present:
            deleted.append(key)
            if not restore:
                continue
        kept.append(row)
    return kept, deleted


def meta_rows(
    changes: Sequence[TabChange], meta: Table | None, now_text: str
) -> list[Row]:
    """The meta tab's rows: every key each tracked tab holds or held before."""
    first = remembered(META, meta)
    rows: list[Row] = []
    seen: set[Key] = set()

    def add(tab: str, text: str) -> None:
        if (tab, text) in seen:
            return
        seen.add((tab, text))
        since = first.get((tab, text), {}).get("first_written_at_utc", now_text)
        rows.append({"tab": tab, "key": text, "first_written_at_utc": since})

    for change in changes:
        spec = change.spec
        if not spec.tracked:
            continue
        for key in _present_keys(spec, change.table) or ():
            add(spec.name, encode_key(key))
        for tab, text in first:
            if tab == spec.name:
                add(tab, text)
    return rows


def _present_keys(spec: TabSpec, table: Table | None) -> list[Key] | None:
    """Every non-empty key of a tab in row order; None if it cannot be read."""
    if table is None:
        return None
    columns = unique_columns(table.header)
    if any(k not in columns for k in spec.key):
        return None
    keys = []
    for row in table.padded().rows:
        key = spec.key_at(row, columns)
        if any(key):
            keys.append(key)
    return keys


def remembered(spec: TabSpec, table: Table | None) -> dict[Key, dict[str, str]]:
    """Return every keyed row's kept values (``Column.keep``), as UTC text.

    Rows builders read these so a first-seen time survives every later sync, and
    use the keys to update rows they would no longer produce on their own.
    """
    kept_columns = [c for c in spec.columns if c.keep]
    if table is None:
        return {}
    columns = unique_columns(table.header)
    if any(k not in columns for k in spec.key):
        return {}
    memory: dict[Key, dict[str, str]] = {}
    for row in table.padded().rows:
        key = spec.key_at(row, columns)
        if not any(key) or key in memory:
            continue
        values: dict[str, str] = {}
        for column in kept_columns:
            if column.name in columns:
                text = read_utc_cell(row[columns[column.name]])
                if text:
                    values[column.name] = text
        memory[key] = values
    return memory


def header_problems(tab: str, header: Sequence[str]) -> list[str]:
    """Name every blank and duplicated header cell of a tab."""
    problems = []
    places: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        if name:
            places.setdefault(name, []).append(i)
        else:
            problems.append(
                f"{tab}: column {column_letter(i)} has no header name; "
                "Earmark leaves it alone"
            )
    for name, found in places.items():
        if len(found) > 1:
            letters = ", ".join(column_letter(i) for i in found)
            problems.append(
                f"{tab}: header {name!r} appears {len(found)} times "
                f"(columns {letters}); Earmark writes to none of them"
            )
    return problems


def _place_columns(change: TabChange) -> dict[str, int]:
    """Find each of the spec's columns by name, appending the ones missing."""
    spec, table = change.spec, change.table
    unique = unique_columns(table.header)
    present = set(table.header)
    positions: dict[str, int] = {}
    for column in spec.columns:
        if column.name in unique:
            positions[column.name] = unique[column.name]
        elif column.name in present:
            if column.name in spec.key:
                change.skipped = True
                change.problems.append(
                    f"{spec.name}: key column {column.name!r} is ambiguous; "
                    "the tab was left unchanged. Rename or delete the extra column."
                )
        else:
            at = len(table.header)
            table.header.append(column.name)
            for row in table.rows:
                row.append(None)
            positions[column.name] = at
            if change.exists:
                change.new_columns[at] = column.name
    return positions


def _index_rows(change: TabChange, positions: dict[str, int]) -> dict[Key, int]:
    """Map each keyed row to its index; a repeated key keeps its first row."""
    spec = change.spec
    index: dict[Key, int] = {}
    for i, row in enumerate(change.table.rows):
        key = spec.key_at(row, positions)
        if not any(key):
            continue
        if key in index:
            change.problems.append(
                f"{spec.name}: row {i + 2} repeats the key "
                f"{' / '.join(key)} of row {index[key] + 2}; only that one is updated"
            )
            continue
        index[key] = i
    return index


def _clear_stale(
    change: TabChange,
    index: dict[Key, int],
    done: set[Key],
    writable: list[tuple[str, int]],
) -> None:
    """Blank the values (not the key) of a derived tab's rows no longer produced."""
    values = [(name, at) for name, at in writable if name not in change.spec.key]
    blank: Row = {name: None for name, _ in values}
    for key, at in index.items():
        if key in done:
            continue
        if _update(change, at, blank, values):
            change.updated += 1
        else:
            change.unchanged += 1


def _update(
    change: TabChange, at: int, row: Row, writable: list[tuple[str, int]]
) -> bool:
    """Set the tool-owned cells ``row`` names; return whether any value changed.

    A column missing from ``row`` is left as it is; one set to None is cleared.
    """
    current = change.table.rows[at]
    touched = False
    for name, column in writable:
        if name not in row:
            continue
        new: Cell = row[name]
        if new == "":
            new = None
        if same(current[column], new):
            continue
        current[column] = new
        change.cells[(at, column)] = new
        touched = True
    return touched
