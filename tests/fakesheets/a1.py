"""A1 notation: parse what clients send and print ranges as Sheets does."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Google Sheets has at most 18,278 columns, so a column label has 1-3 letters.
_ENDPOINT = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
_SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d+[Cc]\d+)$")


@dataclass(frozen=True)
class Bounds:
    """A half-open grid rectangle; ``None`` ends are open (to the grid edge)."""

    row0: int
    row1: int | None
    col0: int
    col1: int | None
    single: bool = False  # written as one cell ("A1"), printed the same way


@dataclass(frozen=True)
class Box:
    """A half-open rectangle with every edge known."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def rows(self) -> int:
        """Number of rows."""
        return self.row1 - self.row0

    @property
    def cols(self) -> int:
        """Number of columns."""
        return self.col1 - self.col0


def column_label(index: int) -> str:
    """Return the letters of a 0-based column index (0 -> A, 26 -> AA)."""
    label = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        label = chr(65 + rest) + label
    return label


def column_index(label: str) -> int:
    """Return the 0-based index of column letters (A -> 0)."""
    n = 0
    for ch in label.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def cell_label(row: int, col: int) -> str:
    """Return the A1 label of a 0-based cell."""
    return f"{column_label(col)}{row + 1}"


def parse_cell_label(label: str) -> tuple[int, int]:
    """Return the 0-based (row, col) of a label such as ``B3``."""
    bounds = parse_cells(label)
    if bounds is None or not bounds.single:
        raise ValueError(f"not a cell label: {label!r}")
    return bounds.row0, bounds.col0


def quote_title(title: str) -> str:
    """Quote a sheet title the way Sheets prints it in ranges.

    Sheets leaves plain identifiers bare (``Sheet1``) and quotes titles with
    other characters or ones that read as a cell (``'D3'``).
    """
    if _SIMPLE_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def box_label(box: Box) -> str:
    """Return ``A1`` for one cell and ``A1:D4`` otherwise."""
    start = cell_label(box.row0, box.col0)
    if box.rows == 1 and box.cols == 1:
        return start
    return f"{start}:{cell_label(box.row1 - 1, box.col1 - 1)}"


def format_range(title: str, box: Box) -> str:
    """Return a range as Sheets prints it, e.g. ``Sheet1!A1:Z1000``."""
    return f"{quote_title(title)}!{box_label(box)}"


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'My sheet'!A1:B2`` into the title and the cell part.

    A bare string comes back as ``(None, text)``: the caller decides whether it
    names a sheet, a cell range or a named range. Raises ``ValueError`` for a
    malformed quoted title.
    """
    if text.startswith("'"):
        title, pos = _read_quoted(text)
        rest = text[pos:]
        if not rest:
            return title, None
        if not rest.startswith("!"):
            raise ValueError(text)
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def _read_quoted(text: str) -> tuple[str, int]:
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise ValueError(text)


def parse_cells(text: str) -> Bounds | None:
    """Parse the cell part of a range (``A1``, ``A1:B2``, ``A:C``, ``2:3``).

    Returns ``None`` when the text is not A1 notation. Reversed corners
    (``D4:A1``) are normalised as the API does.
    """
    start, sep, end = text.partition(":")
    first = _ENDPOINT.match(start)
    if first is None or not (first.group(1) or first.group(2)):
        return None
    c_a, r_a = first.group(1), first.group(2)
    if not sep:
        if c_a and r_a:
            row, col = int(r_a) - 1, column_index(c_a)
            if row < 0:
                return None
            return Bounds(row, row + 1, col, col + 1, single=True)
        if c_a:
            col = column_index(c_a)
            return Bounds(0, None, col, col + 1)
        row = int(r_a) - 1
        return Bounds(row, row + 1, 0, None) if row >= 0 else None
    second = _ENDPOINT.match(end)
    if second is None or not (second.group(1) or second.group(2)):
        return None
    c_b, r_b = second.group(1), second.group(2)
    if (r_a and int(r_a) < 1) or (r_b and int(r_b) < 1):
        return None
    if not c_a and c_b:  # "1:B2" has no meaning
        return None
    if not r_a and r_b and not c_b:  # "A:2"
        return None
    col0 = column_index(c_a) if c_a else 0
    col1 = column_index(c_b) + 1 if c_b else None
    row0 = int(r_a) - 1 if r_a else 0
    row1 = int(r_b) if r_b else None
    if col1 is not None and col1 <= col0:
        col0, col1 = col1 - 1, col0 + 1
    if row1 is not None and row1 <= row0:
        row0, row1 = row1 - 1, row0 + 1
    return Bounds(row0, row1, col0, col1)
