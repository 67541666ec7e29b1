"""Check a submission's answers against the rubric or caption rules of its build.

A page offers a file for download only when every required answer is given, each
value is one of the choices it shows, and every playable clip was heard to
``listening.min_coverage``. A file that breaks any of that was edited by hand or
made outside a page, so sync sets it aside with one reason per problem, naming
the task, the rater and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from builder.record import BuildRecord

# The page keeps coverage to 4 decimals, so a share just at the goal may read
# as a hair under it.
COVERAGE_SLACK = 1e-4
# An identify trial asks one question (the builder's IDENTIFY_ITEM): which
# clip X is, "A" or "B".
IDENTIFY = {"id": "x_is", "type": "identify", "label": "Which clip is X?"}
CAPTION_ANSWERS = ("caption", "word_count", "callouts", "summary")
# What JavaScript's \s matches: the page splits words on it.
_JS_SPACE = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+"
)
_PREFERENCE = re.compile(r"^(?:0|[AB]([1-9]))$")


def count_words(text: str) -> int:
    """Count words as the page does: tokens between spaces holding a letter or digit."""
    return sum(
        any(ch.isalpha() or ch.isnumeric() for ch in token)
        for token in _JS_SPACE.split(text)
    )


def answer_problems(data: dict[str, Any], record: BuildRecord) -> list[str]:
    """Every way the answers and listening of ``data`` break its task's rules.

    A task the analyst asked to recycle needs no answers and no listening; its
    values must still be ones the page offers.
    """
    task = record.tasks[data["task_id"]]
    config = record.data["config"]
    recycled = data.get("recycle_requested") is True
    answers = data["answers"]
    problems = _listening(data, config["listening"]["min_coverage"], recycled)
    if task["kind"] == "caption":
        problems += _caption(answers, config["captions"], recycled)
    else:
        rated = [c["label"] for c in data["clips"] if c["label"] != "X"]
        problems += _rubric(answers, rubric_items(record, task), rated, task, recycled)
    where = f"task {data['task_id']}, rater {data['rater_id']}"
    return [f"{where}: {problem}" for problem in problems]


def rubric_items(record: BuildRecord, task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rubric items a preference task's page asked, in order."""
    if task.get("abx_mode") == "identify":
        return [IDENTIFY]
    return [
        dict(item)
        for item in record.data["config"]["rubric"]
        if item["type"] != "elements" or task.get("elements")
    ]


def _listening(data: dict[str, Any], goal: float, recycled: bool) -> list[str]:
    heard = data["listening"]["clips"]
    problems = []
    for clip in data["clips"]:
        label = clip["label"]
        entry = heard.get(label)
        if entry is None:
            problems.append(f"listening.clips has no entry for clip {label}")
        elif (
            not recycled
            and entry["playable"]
            and entry["coverage"] < goal - COVERAGE_SLACK
        ):
            problems.append(
                f"listening.clips.{label}.coverage is {entry['coverage']:g}, under "
                f"listening.min_coverage {goal:g} (clip {label} was not heard enough)"
            )
    return problems


def _rubric(
    answers: dict[str, Any],
    items: Sequence[dict[str, Any]],
    rated: list[str],
    task: Mapping[str, Any],
    recycled: bool,
) -> list[str]:
    problems = _unknown(answers, [i["id"] for i in items], "answers", "the rubric")
    for item in items:
        name = f"answers.{item['id']}"
        required = item.get("required", True) and not recycled
        if item["id"] not in answers:
            if required and item["type"] != "elements":
                problems.append(f"{name} is missing (a required item)")
            continue
        value = answers[item["id"]]
        problems += _item(name, item, value, rated, task, required)
    return problems


def _item(
    name: str,
    item: dict[str, Any],
    value: Any,
    rated: list[str],
    task: Mapping[str, Any],
    required: bool,
) -> list[str]:
    """Check one rubric answer; the schema already checked its JSON type."""
    kind = item["type"]
    if kind == "elements":
        return _per_clip(
            name, value, rated, lambda n, v: _chosen(n, v, task["elements"])
        )
    if kind == "rating" and item.get("per_clip"):
        return _per_clip(name, value, rated, lambda n, v: _rating(n, v, item, required))
    if kind == "rating":
        return _rating(name, value, item, required)
    if kind == "preference":
        return _preference(name, value, item, required)
    if kind == "identify":
        if value is None:
            return [f"{name} has no answer"] if required else []
        return [] if value in ("A", "B") else [f"{name} is {value!r}, not A or B"]
    if kind == "text":
        if not isinstance(value, str):
            return [f"{name} is not text"]
        need = max(1, int(item.get("min_words") or 0)) if required else 0
        words = count_words(value)
        if words < need:
            return [f"{name} has {words} word(s); at least {need} are needed"]
        return []
    if kind == "tags":
        options = [o["value"] for o in item.get("options", [])]
        problems = _chosen(name, value, options)
        if not problems and required and not value:
            problems.append(f"{name} has no tag chosen")
        return problems
    if kind == "confirm":
        if not isinstance(value, bool):
            return [f"{name} is {value!r}, not true or false"]
        return [f"{name} is not confirmed"] if required and not value else []
    return []


def _per_clip(
    name: str, value: Any, rated: list[str], check: Callable[[str, Any], list[str]]
) -> list[str]:
    """An answer per rated clip: an object keyed by exactly those labels."""
    if not isinstance(value, dict):
        return [f"{name} is not an answer per clip ({', '.join(rated)})"]
    problems = [
        f"{name}.{label} is for a clip that was not rated"
        for label in value
        if label not in rated
    ]
    for label in rated:
        problems += check(f"{name}.{label}", value.get(label))
    return problems


def _rating(name: str, value: Any, item: dict[str, Any], required: bool) -> list[str]:
    low, high = int(item.get("scale_min", 1)), int(item.get("scale_max", 5))
    if value is None:
        return [f"{name} has no rating"] if required else []
    if value == "na" and item.get("allow_na"):
        return []
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    na = " or na" if item.get("allow_na") else ""
    return [f"{name} is {value!r}, outside the scale {low}-{high}{na}"]


def _preference(
    name: str, value: Any, item: dict[str, Any], required: bool
) -> list[str]:
    strongest = (int(item.get("strength_points", 7)) - 1) // 2
    if value is None:
        return [f"{name} has no answer"] if required else []
    match = _PREFERENCE.match(value) if isinstance(value, str) else None
    tie_ok = item.get("allow_tie", True)
    if match and (int(match.group(1) or 0) <= strongest) and (value != "0" or tie_ok):
        return []
    tie = ", 0" if tie_ok else ""
    return [f"{name} is {value!r}; expected A{strongest}..A1{tie} or B1..B{strongest}"]


def _chosen(name: str, value: Any, allowed: Iterable[str]) -> list[str]:
    """A list of choices, each one the page offered."""
    if not isinstance(value, list):
        return [f"{name} is not a list of choices"]
    offered = set(allowed)
    return [
        f"{name} holds {choice!r}, which is not one of its choices"
        for choice in value
        if choice not in offered
    ]


def _caption(
    answers: dict[str, Any], rules: dict[str, Any], recycled: bool
) -> list[str]:
    problems = _unknown(answers, CAPTION_ANSWERS, "answers", "a caption's answers")
    low, high = int(rules["min_words"]), int(rules["max_words"])
    words = count_words(answers["caption"])
    if not recycled and not low <= words <= high:
        problems.append(
            f"answers.caption has {words} word(s); {low} to {high} are needed"
        )
    summary = answers["summary"]
    fields = rules["summary"]
    known = [f["id"] for f in fields]
    problems += _unknown(summary, known, "answers.summary", "the summary fields")
    for field in fields:
        name = f"answers.summary.{field['id']}"
        required = field.get("required", True) and not recycled
        value = summary.get(field["id"])
        if field["type"] == "multi":
            value = [] if value is None else value
            if not field.get("free_entry", True):
                problems += _chosen(name, value, field.get("vocabulary", []))
            elif not isinstance(value, list):
                problems.append(f"{name} is not a list of choices")
            if required and not value:
                problems.append(f"{name} has nothing chosen")
        else:
            problems += _rating(name, value, field, required)
    return problems


def _unknown(
    values: Mapping[str, Any], known: Iterable[str], prefix: str, where: str
) -> list[str]:
    """Keys the page never writes: not an item or field it asked."""
    names = set(known)
    return [f"{prefix}.{key} is not in {where}" for key in values if key not in names]
