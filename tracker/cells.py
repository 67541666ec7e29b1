"""Cell values both tracker backends can store and give back unchanged.

Only text needs care: characters XML cannot carry (openpyxl refuses control
characters, and writes lone surrogates into a file it then cannot reopen), and
spreadsheet programs cut a cell at 32,767 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# What a tracker cell can hold after reading. Spreadsheet dates come back as
# datetime; tool-owned cells are written as str, int, float or None only.
Cell = str | int | float | bool | datetime | None

REPLACEMENT = "\ufffd"
# Control characters except tab, newline and carriage return (the same set as
# openpyxl's ILLEGAL_CHARACTERS_RE), lone surrogates, and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Excel and LibreOffice cut longer cells; the limit counts UTF-16 code units.
MAX_CELL_UNITS = 32_767


@dataclass
class CellLog:
    """Collects what was changed to make text storable, for one WARNING each."""

    notes: list[str] = field(default_factory=list)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, limit: int = MAX_CELL_UNITS) -> str:
    """Cut ``text`` to fit ``limit`` UTF-16 units, ending with a marker saying so."""
    if _units(text) <= limit:
        return text
    marker = f" [cut: {len(text):,} characters in full]"
    room = limit - _units(marker)
    kept = text[:room]
    while _units(kept) > room:
        kept = kept[: -max(1, (_units(kept) - room) // 2)]
    return kept + marker


def storable(text: str, where: str, log: CellLog | None = None) -> str:
    """Return ``text`` with unstorable characters replaced by U+FFFD and cut to fit.

    ``where`` names the task, rater and field for the note added to ``log``.
    """
    cleaned, count = _NOT_XML.subn(REPLACEMENT, text)
    if count and log is not None:
        log.notes.append(
            f"{where}: replaced {count} control or invalid character(s) with U+FFFD"
        )
    fitted = cut(cleaned)
    if fitted != cleaned and log is not None:
        log.notes.append(f"{where}: text cut to {MAX_CELL_UNITS:,} characters")
    return fitted


def same(old: Cell, new: Cell) -> bool:
    """Tell whether writing ``new`` over ``old`` would change nothing a reader sees.

    Empty text and no value are the same; 3 and 3.0 are the same (a workbook
    stores both as 3); True is not 1.
    """
    if old == "":
        old = None
    if new == "":
        new = None
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) == float(new)
    return type(old) is type(new) and old == new
