"""Structure annotations imported as suggested callouts for caption tasks.

A manifest row's ``structure`` column names a file of section boundaries, one per
line, in one of three shapes:

- CSV ``time,label`` (a header row is fine), picked by a ``.csv`` name or by a
  comma in the first line;
- Harmonix Set segments: ``time label``, space-separated, ``end`` at the end;
- SALAMI functions: ``time<TAB>label``, with ``Silence``, ``End`` and
  ``no_function`` among the labels.

Times are seconds (``75.5``) or clock times (``1:15.5``, ``1:02:03.5``). Labels are
matched to the project's section types with case, spaces, ``-`` and ``_`` ignored,
then through the section aliases; a label that matches neither is kept as typed
and flagged. ``end`` marks the end of the track and adds no callout.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from builder.config import Captions, label_key
from builder.errors import Problem

END_LABELS = frozenset({"end"})
_CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Suggestion:
    """One callout the page offers for the analyst to confirm or edit."""

    start: float  # seconds, to a tenth, as the page keeps callout times
    section: str  # from the vocabulary; the label as typed when unknown
    label: str  # as written in the file
    known: bool  # the label matched a section type or an alias
    line: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StructureResult:
    suggestions: list[Suggestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    format: str = ""


def tenths(seconds: float) -> float:
    """Round to a tenth of a second half up, as the page does (Math.round)."""
    return math.floor(seconds * 10 + 0.5) / 10


def parse_clock(text: str) -> float | None:
    """Seconds from ``75.5``, ``1:15.5`` or ``1:02:03.5``; None if not a time.

    The page's ``parseClock`` reads callout times the same way.
    """
    match = _CLOCK.match(text.strip().replace(",", ".", 1))
    if not match:
        return None
    hours, minutes, seconds = match.group(1), match.group(2), float(match.group(3))
    if minutes is not None and seconds >= 60:
        return None
    if hours is not None and int(minutes) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds


def _rows(text: str, kind: str) -> list[tuple[int, str, str]]:
    """(line, time text, label) for every non-blank line."""
    if kind == "csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        out = []
        end_of_previous = 0
        for cells in reader:
            line = end_of_previous + 1
            end_of_previous = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            time = cells[0].strip()
            label = ",".join(cells[1:]).strip()
            out.append((line, time, label))
        return out
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.strip()
        if not content:
            continue
        parts = content.split("\t", 1) if kind == "salami" else content.split(None, 1)
        if len(parts) == 1 and kind == "salami":
            parts = content.split(None, 1)
        rows.append(
            (number, parts[0].strip(), parts[1].strip() if len(parts) > 1 else "")
        )
    return rows


def sniff(path: Path, text: str) -> str:
    """Which of csv, salami and harmonix a file is written in."""
    if path.suffix.lower() == ".csv":
        return "csv"
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" in first:
        return "salami"
    if "," in first:
        return "csv"
    return "harmonix"


def read_structure(
    path: Path, name: str, duration: float, captions: Captions
) -> StructureResult:
    """Read one structure file against its clip's measured ``duration``.

    ``name`` is how messages refer to the file. Unreadable files and lines are
    problems; times outside the clip and boundaries closer than a tenth of a
    second are warnings, and those lines are left out.
    """
    result = StructureResult()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.problems.append(
            Problem(name, f"byte {exc.start} is not UTF-8; save the file as UTF-8")
        )
        return result
    except OSError as exc:
        result.problems.append(Problem(name, f"cannot be read ({exc.strerror})"))
        return result
    kind = result.format = sniff(path, text)
    sections = {label_key(s): s for s in captions.section_types}
    aliases = captions.aliases()
    by_tenth: dict[float, Suggestion] = {}
    for index, (line, time_text, label) in enumerate(_rows(text, kind)):
        start = parse_clock(time_text)
        if start is None:
            if index == 0 and kind == "csv":
                continue  # a header row
            result.problems.append(
                Problem(
                    name,
                    f"{time_text!r} is not a time; write seconds (75.5) or m:ss.s",
                    line=line,
                )
            )
            continue
        key = label_key(label)
        if key in END_LABELS:
            continue
        if not label:
            result.problems.append(
                Problem(name, f"the boundary at {time_text} has no label", line=line)
            )
            continue
        if start >= duration:
            result.warnings.append(
                Problem(
                    name,
                    f"{label!r} at {start:g} s starts at or after the end of the clip "
                    f"({duration:.1f} s); left out",
                    line=line,
                )
            )
            continue
        tenth = tenths(start)
        if key in sections:
            section, known = sections[key], True
        elif key in aliases:
            section, known = aliases[key], True
        else:
            section, known = label, False
        suggestion = Suggestion(tenth, section, label, known, line)
        earlier = by_tenth.get(tenth)
        if earlier is not None:
            result.warnings.append(
                Problem(
                    name,
                    f"{earlier.label!r} (line {earlier.line}) and {label!r} start "
                    f"within the same tenth of a second ({tenth:.1f} s); kept "
                    f"{label!r}",
                    line=line,
                )
            )
        by_tenth[tenth] = suggestion
    result.suggestions = sorted(by_tenth.values(), key=lambda s: s.start)
    if not result.suggestions and not result.problems:
        result.warnings.append(Problem(name, "no section starts inside the clip"))
    return result
