"""The task manifest: one CSV row per task, checked row by row."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from builder.config import ID_PATTERN
from builder.errors import Problem

KINDS = ("ab", "abx", "caption")
SLOTS = ("a", "b", "x")
# Which clip slots each kind needs; a slot outside the tuple must stay empty.
SLOTS_BY_KIND = {"ab": ("a", "b"), "abx": ("a", "b", "x"), "caption": ("a",)}
REQUIRED_COLUMNS = ("task_id", "kind", "prompt", "clip_a", "model_a")
OPTIONAL_COLUMNS = (
    "clip_b",
    "model_b",
    "clip_x",
    "model_x",
    "gold",
    "batch",
    "raters",
    "elements",
    "abx_mode",
    "gold_tolerance",
    "structure",
)
LIST_SEPARATOR = ";"
ABX_MODES = ("reference", "identify")
# A gold answer names the manifest slot that should win, or a tie.
GOLD_ANSWERS = ("a", "b", "tie")

_ID_RE = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class ClipRef:
    """One clip slot of a task: where its audio is and which model made it."""

    slot: str
    path: str
    model: str


@dataclass(frozen=True)
class TaskRow:
    """A manifest row that passed every check."""

    line: int
    task_id: str
    kind: str
    prompt: str
    clips: tuple[ClipRef, ...]
    gold: str = ""
    batch: str = ""
    raters: tuple[str, ...] = ()
    elements: tuple[str, ...] = ()
    abx_mode: str = ""  # "reference" or "identify" for abx tasks, "" otherwise
    gold_tolerance: int | None = None
    structure: str = ""  # a caption task's structure file, relative to the project


@dataclass
class ManifestResult:
    tasks: list[TaskRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _decode(path: Path, raw: bytes, result: ManifestResult) -> str | None:
    """Decode UTF-8 (a BOM is fine); on failure name every bad line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.problems.append(
                Problem(
                    str(path),
                    f"byte 0x{line[exc.start]:02x} at column {exc.start + 1} is not "
                    "UTF-8; re-save the manifest as UTF-8 (in Excel: 'CSV UTF-8')",
                    line=number,
                )
            )
    return None


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(LIST_SEPARATOR) if part.strip())


def check_audio_path(root: Path, value: str, what: str = "audio") -> str | None:
    """Return why ``value`` is not a usable file path under ``root``, or None.

    ``what`` names the kind of file in the messages ("audio", "structure").
    """
    if "\\" in value:
        return f"use '/' in {what} paths, not '\\': {value!r}"
    pure = PurePosixPath(value)
    if pure.is_absolute():
        return (
            f"{what} path {value!r} is absolute; give it relative to the project folder"
        )
    resolved = (root / pure).resolve()
    if not resolved.is_relative_to(root.resolve()):
        return (
            f"{what} path {value!r} leaves the project folder; move the file inside it"
        )
    if not resolved.exists():
        return f"{what} file {value!r} does not exist"
    if not resolved.is_file():
        return f"{what} path {value!r} is not a file"
    try:
        with resolved.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"{what} file {value!r} cannot be read ({exc.strerror})"
    return None


def read_manifest(root: Path, path: Path, rater_ids: set[str] | None) -> ManifestResult:
    """Read every row of ``path``, collecting all problems instead of stopping."""
    result = ManifestResult()
    name = str(path)
    if not path.is_file():
        result.problems.append(Problem(name, "manifest file not found"))
        return result
    text = _decode(path, path.read_bytes(), result)
    if text is None:
        return result

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        result.problems.append(Problem(name, "manifest is empty; add a header row"))
        return result
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t"):
            hint = "; the header looks ';'- or tab-separated: save it comma-separated"
        result.problems.append(
            Problem(name, f"missing column(s): {', '.join(missing)}{hint}", line=1)
        )
        return result
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        result.problems.append(
            Problem(
                name,
                f"column(s) {', '.join(repeated)} appear more than once; keep one",
                line=1,
            )
        )
        return result
    for column in header:
        if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            result.warnings.append(
                Problem(name, f"unknown column {column!r} is ignored", line=1)
            )

    first_line: dict[str, int] = {}
    end_of_previous = reader.line_num
    for cells in reader:
        line = end_of_previous + 1
        end_of_previous = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row = {
            h: (cells[i].strip() if i < len(cells) else "")
            for i, h in enumerate(header)
        }
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            result.problems.append(
                Problem(name, "row has more cells than the header", line=line)
            )
            continue
        task = _check_row(root, name, line, row, rater_ids, result.problems)
        if task is None:
            continue
        if task.task_id in first_line:
            result.problems.append(
                Problem(
                    name,
                    f"duplicate task id {task.task_id!r} "
                    f"(first used on line {first_line[task.task_id]})",
                    line=line,
                    field="task_id",
                )
            )
            continue
        first_line[task.task_id] = line
        result.tasks.append(task)
    if not result.tasks and not result.problems:
        result.problems.append(Problem(name, "manifest has no task rows"))
    return result


def _check_row(
    root: Path,
    name: str,
    line: int,
    row: dict[str, str],
    rater_ids: set[str] | None,
    problems: list[Problem],
) -> TaskRow | None:
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(name, message, line=line, field=column))

    task_id, kind, prompt = row["task_id"], row["kind"].lower(), row["prompt"]
    if not task_id:
        bad("task_id", "task id is empty")
    elif not _ID_RE.match(task_id):
        bad(
            "task_id",
            f"task id {task_id!r} may use only letters, digits, '_', '-', '.'",
        )
    if kind not in KINDS:
        bad("kind", f"unknown kind {row['kind']!r}; use one of {', '.join(KINDS)}")
    if not prompt:
        bad("prompt", "prompt is empty")

    mode = row.get("abx_mode", "").lower()
    if kind == "abx":
        mode = mode or "reference"
        if mode not in ABX_MODES:
            bad("abx_mode", f"unknown abx_mode {mode!r}; use reference or identify")
    elif mode:
        bad("abx_mode", f"abx_mode applies to abx tasks, not {kind!r}")
        mode = ""

    clips: list[ClipRef] = []
    wanted = SLOTS_BY_KIND.get(kind, ())
    if mode == "identify":
        wanted = ("a", "b")
    for slot in SLOTS:
        clip, model = row.get(f"clip_{slot}", ""), row.get(f"model_{slot}", "")
        if slot not in wanted:
            if clip and mode == "identify":
                bad(
                    f"clip_{slot}",
                    "an identify task takes no clip_x: X is drawn from A and B",
                )
            elif clip and kind in KINDS:
                bad(f"clip_{slot}", f"a {kind!r} task takes no clip_{slot}")
            continue
        if not clip:
            bad(f"clip_{slot}", f"a {kind!r} task needs clip_{slot}")
            continue
        if not model:
            bad(f"model_{slot}", f"clip_{slot} needs its model version in model_{slot}")
        reason = check_audio_path(root, clip)
        if reason:
            bad(f"clip_{slot}", reason)
        clips.append(ClipRef(slot, clip, model))

    raters = _split(row.get("raters", ""))
    if rater_ids is not None:
        for rater in raters:
            if rater not in rater_ids:
                bad("raters", f"rater {rater!r} is not in the config's raters")

    gold = row.get("gold", "").lower()
    if gold and gold not in GOLD_ANSWERS:
        bad("gold", f"gold {row['gold']!r} must be a, b or tie (the slot that wins)")
    elif gold and (kind not in ("ab", "abx") or mode == "identify"):
        bad("gold", "gold answers apply to ab and reference abx tasks only")
    tolerance: int | None = None
    text = row.get("gold_tolerance", "")
    if text:
        if not text.isdigit():
            bad("gold_tolerance", f"gold_tolerance {text!r} must be a whole number")
        elif not gold:
            bad("gold_tolerance", "gold_tolerance needs a gold answer")
        else:
            tolerance = int(text)

    structure = row.get("structure", "")
    if structure and kind != "caption":
        bad("structure", "structure files apply to caption tasks only")
    elif structure:
        reason = check_audio_path(root, structure, "structure")
        if reason:
            bad("structure", reason)

    if len(problems) > before:
        return None
    return TaskRow(
        line=line,
        task_id=task_id,
        kind=kind,
        prompt=prompt,
        clips=tuple(clips),
        gold=gold,
        batch=row.get("batch", ""),
        raters=raters,
        elements=_split(row.get("elements", "")),
        abx_mode=mode,
        gold_tolerance=tolerance,
        structure=structure,
    )
