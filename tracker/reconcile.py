"""Merge the rows Earmark wants into a tab as a lead left it.

Backend-free: a tab comes in as a plain Table, and out goes a TabChange naming
exactly the cells to set. Only Earmark's own columns are ever written; a row is
found by its key, a column by its header name. A column whose name occurs twice
is never written, and a tab whose key column is ambiguous is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.cells import Cell, same
from tracker.tables import (
    Row,
    TabChange,
    Table,
    TabSpec,
    column_letter,
    key_text,
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
        key = tuple(key_text(row.get(k)) for k in spec.key)
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
    return change


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
        key = tuple(key_text(row[columns[k]]) for k in spec.key)
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
        key = tuple(key_text(row[positions[k]]) for k in spec.key)
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
