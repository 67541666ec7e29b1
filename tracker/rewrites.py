"""Read the captions a lead sent back for a rewrite, for the next build to reissue.

A lead asks for a rewrite by setting review_status to ``rewrite`` on a Submissions
row, with what to change in reviewer_notes. The build hands that task to the same
rater again, as round ``rework + 1`` (rework counts the redos already received), with
the notes shown and the earlier answers loaded: from the submission file whose
sha256 the row shows when a folder of submissions is given, otherwise from the
row's answers_json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builder.errors import EarmarkError
from builder.rework import Reissue
from tracker.cells import Cell
from tracker.rows import count_cell
from tracker.submissions import Loaded, find_files, load_file
from tracker.tables import SUBMISSIONS, Tracker, key_text, unique_columns

log = logging.getLogger(__name__)

REWRITE = "rewrite"
NEEDED = ("task_id", "rater_id", "review_status")
Lookup = Callable[[str], Cell]  # a row's cell by column name


def read_rewrites(
    tracker: Tracker, submissions: Path | None = None
) -> dict[tuple[str, str], Reissue]:
    """Every (task, rater) whose Submissions row asks for a rewrite."""
    table = tracker.read([SUBMISSIONS.name]).get(SUBMISSIONS.name)
    if table is None:
        raise EarmarkError(
            f"{tracker.location} has no {SUBMISSIONS.name} tab; run sync into it first"
        )
    columns = unique_columns(table.header)
    missing = [name for name in NEEDED if name not in columns]
    if missing:
        raise EarmarkError(
            f"{tracker.location}: the {SUBMISSIONS.name} tab has no "
            f"{', '.join(missing)} column (or has it twice)"
        )
    files = _files_by_sha(submissions) if submissions else {}
    found: dict[tuple[str, str], Reissue] = {}
    for row in table.padded().rows:

        def cell(name: str, row: list[Cell] = row) -> Cell:
            return row[columns[name]] if name in columns else None

        if key_text(cell("review_status")).lower() != REWRITE:
            continue
        pair = (key_text(cell("task_id")), key_text(cell("rater_id")))
        answers, source = _earlier_answers(pair, cell, files)
        found[pair] = Reissue(
            round=count_cell(cell("rework")) + 1,
            notes=str(cell("reviewer_notes") or "").strip(),
            answers=answers,
            source=source,
        )
        log.debug("rewrite asked for task %s, rater %s (%s)", *pair, source)
    log.info("%d task(s) marked for rewrite in %s", len(found), tracker.location)
    return found


def _earlier_answers(
    pair: tuple[str, str], cell: Lookup, files: dict[str, Loaded]
) -> tuple[dict[str, Any] | None, str]:
    """The answers of the submission the row shows, and where they came from."""
    sha = key_text(cell("sha256"))
    loaded = files.get(sha)
    if loaded is not None and (loaded.task_id, loaded.rater_id) == pair:
        return dict(loaded.data["answers"]), f"submission {loaded.name}"
    text = cell("answers_json")
    if not isinstance(text, str) or not text.strip():
        return None, "no submission file with the row's sha256 and no answers_json"
    try:
        answers = json.loads(text)
    except json.JSONDecodeError:
        return None, "the row's answers_json is not readable JSON (cut short?)"
    if not isinstance(answers, dict):
        return None, "the row's answers_json is not an object"
    return answers, "the tracker's answers_json"


def _files_by_sha(folder: Path) -> dict[str, Loaded]:
    """Every schema-valid submission under ``folder``, by the sha256 of its bytes."""
    if not folder.is_dir():
        raise EarmarkError(f"Submissions folder {folder} does not exist")
    by_sha = {}
    for path in find_files(folder):
        loaded = load_file(path, folder)
        if isinstance(loaded, Loaded):
            by_sha[loaded.sha256] = loaded
    return by_sha
