"""Decide who sees what: build and bundle ids, assignment, blinded clip order."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, replace

from builder.manifest import TaskRow
from builder.project import Project

SCHEMA_VERSION = 1
LABELS = ("A", "B", "X")


def short_hash(*parts: str, length: int = 12) -> str:
    """Return a stable hex digest of ``parts``, cut to ``length``."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def clip_id(sha256: str) -> str:
    """Return the opaque id (and bundle file stem) of a clip with this content."""
    return sha256[:16]


def build_id(project: Project) -> str:
    """Hash what a build is made of, so the same inputs always give the same id.

    Submissions from an older build of a bundle carry an older id, which sync refuses.
    """
    parts = [
        f"schema:{SCHEMA_VERSION}",
        hashlib.sha256(project.config_path.read_bytes()).hexdigest(),
        hashlib.sha256(project.manifest_path.read_bytes()).hexdigest(),
        *sorted(info.sha256 for info in project.clips.values()),
    ]
    # Structure files feed the suggested callouts; projects without any keep the
    # ids they always had.
    structures = sorted({t.structure for t in project.tasks if t.structure})
    parts += [
        "structure:" + hashlib.sha256((project.root / path).read_bytes()).hexdigest()
        for path in structures
    ]
    return short_hash(*parts)


def bundle_id(build: str, rater: str) -> str:
    return short_hash(build, rater)


@dataclass(frozen=True)
class Assigned:
    """One task as one rater sees it: display label to manifest slot.

    In an identify trial ``labels["X"]`` is the slot X secretly plays and ``x_is``
    the display label of that clip (the answer key, kept in the build record only).
    """

    task: TaskRow
    labels: dict[str, str]  # "A" -> "b"
    x_is: str | None = None


def assign(project: Project) -> dict[str, list[Assigned]]:
    """Give each task to its pinned raters or to the least-loaded ones, in order.

    The clip order is shuffled per rater and task from the project seed, so it can be
    reproduced from the build record; X, when present, always stays X.
    """
    raters = [r.id for r in project.config.raters]
    per_task = project.config.assignment.raters_per_task
    load = {r: 0 for r in raters}
    plan: dict[str, list[Assigned]] = {r: [] for r in raters}
    for task in project.tasks:
        chosen = (
            list(task.raters)
            or sorted(raters, key=lambda r: (load[r], raters.index(r)))[:per_task]
        )
        for rater in chosen:
            load[rater] += 1
            plan[rater].append(Assigned(task, _labels(project, task, rater)))
    return plan


def _labels(project: Project, task: TaskRow, rater: str) -> dict[str, str]:
    slots = [c.slot for c in task.clips if c.slot != "x"]
    seed = short_hash(str(project.config.project.seed), task.task_id, rater)
    random.Random(seed).shuffle(slots)
    labels = {LABELS[i]: slot for i, slot in enumerate(slots)}
    if any(c.slot == "x" for c in task.clips):
        labels["X"] = "x"
    return labels


def identify_seed(project: Project) -> str:
    """The seed of the identify draws: reproducible from the project, unguessable
    from a bundle (it mixes in the manifest and config bytes, which raters never see).
    """
    return short_hash(
        "identify",
        str(project.config.project.seed),
        hashlib.sha256(project.manifest_path.read_bytes()).hexdigest(),
        hashlib.sha256(project.config_path.read_bytes()).hexdigest(),
        length=16,
    )


def draw_identify(
    plan: dict[str, list[Assigned]], seed: str
) -> dict[str, list[Assigned]]:
    """Decide what X plays in every identify trial, balanced and reproducible.

    Trials are visited in an order shuffled from ``seed``; each takes the answer
    (X is A, or X is B) that best evens out both how often this rater's answer is
    A or B and how often this task's X is slot a or slot b; ties are drawn at random.
    So a rater who always answers "A" scores about half, and each model is X about
    as often as the other.
    """
    trials = [
        (rater, index)
        for rater, items in plan.items()
        for index, item in enumerate(items)
        if item.task.abx_mode == "identify"
    ]
    rng = random.Random(seed)
    rng.shuffle(trials)
    by_rater: Counter[tuple[str, str]] = Counter()
    by_task: Counter[tuple[str, str]] = Counter()
    out = {rater: list(items) for rater, items in plan.items()}
    for rater, index in trials:
        item = out[rater][index]
        task = item.task.task_id

        leans = {}
        for label in ("A", "B"):
            other = "B" if label == "A" else "A"
            leans[label] = (by_rater[rater, label] - by_rater[rater, other]) + (
                by_task[task, item.labels[label]] - by_task[task, item.labels[other]]
            )
        if leans["A"] == leans["B"]:
            answer = rng.choice(("A", "B"))
        else:
            answer = min(leans, key=leans.__getitem__)
        by_rater[rater, answer] += 1
        by_task[task, item.labels[answer]] += 1
        labels = {**item.labels, "X": item.labels[answer]}
        out[rater][index] = replace(item, labels=labels, x_is=answer)
    return out
