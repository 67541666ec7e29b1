"""The build: validate, plan, render and pack one offline bundle per rater.

Stages: load (validate + probe) -> plan (ids, assignment, clip order) -> stage every
output in a scratch folder -> swap the outputs into place. Nothing under ``out`` is
touched until the project has passed every check.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

import builder
from builder.audio import TrialFile, transcode, write_trial_files
from builder.config import ANOMALY_KINDS, RubricItem
from builder.errors import EarmarkError, Problem
from builder.guidance import render_guidance
from builder.manifest import TaskRow
from builder.plan import (
    SCHEMA_VERSION,
    Assigned,
    assign,
    build_id,
    bundle_id,
    clip_id,
    draw_identify,
    identify_seed,
    short_hash,
)
from builder.project import Project, load_project
from builder.record import (
    RECORD_NAME,
    RECORD_SCHEMA,
    REPORT_NAME,
    history_entry,
    keep_history,
    write_record,
)
from builder.render import render
from builder.report import format_report
from builder.rework import Reissue

Pair = tuple[str, str]  # (task id, rater id)

log = logging.getLogger(__name__)

OUTPUTS = ("bundles", "zips", RECORD_NAME, REPORT_NAME)
# The built-in question of an identify trial; its answer is "A" or "B".
IDENTIFY_ITEM = {
    **RubricItem(
        id="x_is",
        type="confirm",
        label="Which clip is X?",
        help="X is exactly the same recording as one of A and B. Listen to all "
        "three, switch between them at the same moment, and say which one X is.",
    ).model_dump(),
    "type": "identify",
}


@dataclass(frozen=True)
class BuildResult:
    out: Path
    build_id: str
    record: dict[str, Any]
    report: str
    seconds: float


def storage_key(bundle: str, rater: str, task: str, rework_round: int = 0) -> str:
    """The browser storage key of one task's draft: unique per bundle, rater, task.

    A task reissued for a rewrite gets a key per round, so the earlier round's
    draft neither fills nor overwrites the new one.
    """
    key = f"earmark:v{SCHEMA_VERSION}:{bundle}:{rater}:{task}"
    return f"{key}:r{rework_round}" if rework_round else key


def page_name(number: int) -> str:
    return f"task-{number:03d}.html"


def build(
    root: Path,
    out: Path,
    *,
    strict: bool = False,
    jobs: int = 2,
    progress: bool = True,
    transcode_to: str | None = None,
    reissues: dict[Pair, Reissue] | None = None,
    built_at: datetime | None = None,
) -> BuildResult:
    """Build every rater's bundle for the project in ``root`` into ``out``.

    ``transcode_to`` ("flac" or "wav") overrides the config's ``audio.transcode``.
    ``built_at`` is when these bundles were first built (default now; a
    record of the same build already in ``out`` keeps its earlier time).
    ``reissues`` are caption tasks sent back for a rewrite, by (task, rater).
    """
    started = time.perf_counter()
    project = load_project(root, jobs=jobs, progress=progress)
    if transcode_to:
        audio = project.config.audio.model_copy(update={"transcode": transcode_to})
        project.config = project.config.model_copy(update={"audio": audio})
    build = build_id(project)
    seed = identify_seed(project)
    plan = draw_identify(assign(project), seed)
    kept = _check_reissues(project, plan, reissues or {})
    for warning in project.warnings:
        log.warning("%s", warning)
    if strict and project.warnings:
        raise EarmarkError(
            f"--strict: {len(project.warnings)} warning(s); nothing was written",
            project.warnings,
        )

    record = _record(project, build, plan, seed, kept)
    keep_history(record, _previous_record(out), built_at)

    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".staging-{build}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _stage(project, record, plan, staging, progress, jobs, kept)
        seconds = time.perf_counter() - started
        report = format_report(record, project.warnings, seconds)
        record["report"] = {
            "text": report,
            "warnings": [str(w) for w in project.warnings],
        }
        write_record(staging / RECORD_NAME, record)
        (staging / REPORT_NAME).write_text(report, "utf-8")
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, build, record, report, time.perf_counter() - started)


def _check_reissues(
    project: Project, plan: dict[str, list[Assigned]], reissues: dict[Pair, Reissue]
) -> dict[Pair, Reissue]:
    """Keep the reissues this build can hand out; warn about the others."""
    planned = {
        (item.task.task_id, rater): item.task.kind
        for rater, items in plan.items()
        for item in items
    }
    kept = {}
    for pair, reissue in sorted(reissues.items()):
        task_id, rater_id = pair
        kind = planned.get(pair)
        where = f"task {task_id}, rater {rater_id}"
        if kind is None:
            message = f"{where} is marked for rewrite but not in this build; skipped"
        elif kind != "caption":
            message = f"{where} is marked for rewrite, but only captions are reissued"
        else:
            kept[pair] = reissue
            log.info("reissuing %s for rewrite round %d", where, reissue.round)
            if reissue.answers is None:
                project.warnings.append(
                    Problem(
                        "tracker",
                        f"{where}: the earlier caption was not found ({reissue.source})"
                        "; reissued with the notes only",
                    )
                )
            continue
        project.warnings.append(Problem("tracker", message))
    return kept


def _previous_record(out: Path) -> dict[str, Any] | None:
    """The build record ``out`` already holds, whose build joins the history."""
    path = out / RECORD_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("%s is unreadable (%s); earlier builds are forgotten", path, exc)
        return None
    if not isinstance(data, dict) or data.get("schema") != RECORD_SCHEMA:
        log.warning("%s is not a build record; earlier builds are forgotten", path)
        return None
    try:
        history_entry(data)
    except (KeyError, TypeError, AttributeError) as exc:
        log.warning("%s lacks %s; earlier builds are forgotten", path, exc)
        return None
    log.info("keeping build %s in the history of %s", data.get("build_id"), path)
    return data


def _transcode_kind(project: Project, source: str) -> str | None:
    """ "flac" or "wav" when this clip is bundled as a transcoded copy, else None."""
    kind = project.config.audio.transcode
    flags = project.clips[source].flags
    return kind if kind and any(f.code == "browser_support" for f in flags) else None


def _slot_paths(task: TaskRow) -> dict[str, str]:
    return {c.slot: c.path for c in task.clips}


def loudness_gains(
    project: Project, task: TaskRow, labels: dict[str, str]
) -> dict[str, float]:
    """dB each label is turned down so the compared clips sound equally loud.

    The quietest measured clip plays as it is and louder ones are lowered to it
    (a page can only turn an <audio> down). All zero when matching is off or fewer
    than two clips have a measured loudness.
    """
    zero = {label: 0.0 for label in labels}
    if not project.config.loudness.match or task.kind == "caption":
        return zero
    paths = _slot_paths(task)
    loud = {
        label: project.clips[paths[slot]].loudness_lufs
        for label, slot in labels.items()
    }
    measured = {label: value for label, value in loud.items() if value is not None}
    if len(measured) < 2:
        return zero
    target = min(measured.values())
    return {
        label: round(target - measured[label], 2) if label in measured else 0.0
        for label in labels
    }


def loudness_flags(project: Project) -> list[dict[str, Any]]:
    """Compared clips whose loudness differs by more than ``loudness.flag_lu``."""
    limit = project.config.loudness.flag_lu
    flags = []
    for task in project.tasks:
        if task.kind == "caption":
            continue
        loud = {c.slot: project.clips[c.path].loudness_lufs for c in task.clips}
        slots = sorted(loud)
        for i, first in enumerate(slots):
            for second in slots[i + 1 :]:
                a, b = loud[first], loud[second]
                if a is None or b is None or abs(a - b) <= limit:
                    continue
                flags.append(
                    {
                        "task_id": task.task_id,
                        "slots": [first, second],
                        "lufs": [a, b],
                        "difference_lu": round(abs(a - b), 2),
                    }
                )
    return flags


def _trial_files(
    project: Project, seed: str, plan: dict[str, list[Assigned]]
) -> dict[str, dict[str, Any]]:
    """Name the files of every identify trial: per rater, task and label.

    Ids are drawn from the identify seed, so nothing in a name links a file to its
    source or to another trial file.
    """
    trials: dict[str, dict[str, Any]] = {}
    for rater, items in plan.items():
        for item in items:
            if item.x_is is None:
                continue
            task = item.task
            paths = _slot_paths(task)
            infos = [project.clips[path] for path in paths.values()]
            frames = min(info.frames for info in infos)
            baked = loudness_gains(project, task, item.labels)
            for label, slot in item.labels.items():
                trial_id = short_hash(seed, "trial", rater, task.task_id, label)
                trial_id = short_hash(trial_id, length=16)
                trials[trial_id] = {
                    "task_id": task.task_id,
                    "rater_id": rater,
                    "label": label,
                    "slot": slot,
                    "source": paths[slot],
                    "file": f"{trial_id}.wav",
                    "frames": frames,
                    "samplerate": infos[0].samplerate,
                    "channels": max(info.channels for info in infos),
                    "duration": round(frames / infos[0].samplerate, 4),
                    "gain_db": baked[label],
                }
    return trials


def _record(
    project: Project,
    build: str,
    plan: dict[str, list[Assigned]],
    seed: str,
    reissues: dict[Pair, Reissue],
) -> dict:
    config = project.config
    clips = {}
    for source, info in sorted(project.clips.items()):
        kind = _transcode_kind(project, source)
        cid = clip_id(info.sha256)
        clip = {
            "source": source,
            "file": f"{cid}.{kind or info.extension}",
            **info.to_json(),
        }
        if kind:
            clip["transcoded"] = f"16-bit {kind}"
        clips[cid] = clip
    tasks: dict[str, dict[str, Any]] = {
        task.task_id: {
            "line": task.line,
            "kind": task.kind,
            "abx_mode": task.abx_mode or None,
            "prompt": task.prompt,
            "gold": task.gold,
            "gold_tolerance": task.gold_tolerance,
            "batch": task.batch,
            "elements": list(task.elements),
            "clips": {
                c.slot: {
                    "clip_id": clip_id(project.clips[c.path].sha256),
                    "model": c.model,
                    "source": c.path,
                }
                for c in task.clips
            },
        }
        for task in project.tasks
    }
    for task in project.tasks:
        if task.structure:
            tasks[task.task_id]["structure"] = {
                "file": task.structure,
                "format": project.structure_formats.get(task.task_id, ""),
                "suggestions": [
                    s.to_json() for s in project.suggestions.get(task.task_id, [])
                ],
            }
    trials = _trial_files(project, seed, plan)
    by_trial = {
        (t["rater_id"], t["task_id"], t["label"]): cid for cid, t in trials.items()
    }
    raters = {}
    for rater in config.raters:
        entries = {}
        for number, item in enumerate(plan[rater.id], start=1):
            task = item.task
            entry: dict[str, Any] = {"labels": item.labels, "page": page_name(number)}
            gains = loudness_gains(project, task, item.labels)
            if item.x_is is not None:
                entry["x_is"] = item.x_is
                entry["clip_ids"] = {
                    label: by_trial[rater.id, task.task_id, label]
                    for label in item.labels
                }
                entry["baked_gains_db"] = gains
                gains = {label: 0.0 for label in gains}
            if task.kind != "caption":
                entry["gains_db"] = gains
            if task.gold:
                entry["gold_label"] = _gold_label(task.gold, item.labels)
            reissue = reissues.get((task.task_id, rater.id))
            if reissue is not None:
                entry["rework"] = {
                    "round": reissue.round,
                    "notes": reissue.notes,
                    "answers_from": reissue.source,
                    "answers_found": reissue.answers is not None,
                }
            entries[task.task_id] = entry
        raters[rater.id] = {
            "name": rater.name,
            "bundle_id": bundle_id(build, rater.id),
            "tasks": entries,
        }
    return {
        "schema": RECORD_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "earmark_version": builder.__version__,
        "build_id": build,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": {
            "id": config.project.id,
            "title": config.project.title,
            "root": str(project.root),
            "manifest": str(project.manifest_path),
            "seed": config.project.seed,
        },
        "config": config.model_dump(mode="json"),
        "clips": clips,
        "tasks": tasks,
        "raters": raters,
        "identify": {
            "seed": seed,
            "balance": "per rater: X is A as often as B; per task: X is slot a as "
            "often as slot b (greedy, in an order shuffled from the seed)",
            "files": trials,
        },
        "loudness": {
            "match": config.loudness.match,
            "flag_lu": config.loudness.flag_lu,
            "flags": loudness_flags(project),
        },
    }


def _gold_label(gold: str, labels: dict[str, str]) -> str:
    """The display label a rater should prefer on a gold task, or "tie"."""
    if gold == "tie":
        return "tie"
    return next(
        label for label, slot in labels.items() if slot == gold and label != "X"
    )


def page_config(
    project: Project,
    record: dict,
    rater_id: str,
    number: int,
    assigned: Assigned,
    total: int,
    peaks: dict[str, list[float]] | None = None,
    reissue: Reissue | None = None,
) -> dict[str, Any]:
    """The JSON a task page reads: everything it shows and needs, nothing ops-only.

    ``peaks`` holds the shared waveform of each identify task, by task id;
    ``reissue`` the lead's notes and earlier answers of a task sent back.
    """
    config = project.config
    rater = record["raters"][rater_id]
    task = assigned.task
    entry = rater["tasks"][task.task_id]
    slots = record["tasks"][task.task_id]["clips"]
    gains = entry.get("gains_db", {})
    clips = []
    for label, slot in assigned.labels.items():
        if assigned.x_is is not None:
            # An identify trial: every clip is its own file, all alike on the page.
            cid = entry["clip_ids"][label]
            trial = record["identify"]["files"][cid]
            src, duration = trial["file"], trial["duration"]
            clip_peaks = (peaks or {}).get(task.task_id, [])
        else:
            cid = slots[slot]["clip_id"]
            info = project.clips[slots[slot]["source"]]
            src, duration, clip_peaks = (
                record["clips"][cid]["file"],
                info.duration,
                info.peaks,
            )
        clips.append(
            {
                "label": label,
                "clip_id": cid,
                "src": f"audio/{src}",
                "duration": duration,
                "peaks": clip_peaks,
                "gain_db": gains.get(label, 0.0),
            }
        )
    is_caption = task.kind == "caption"
    if is_caption:
        rubric: list[dict[str, Any]] = []
    elif task.abx_mode == "identify":
        rubric = [IDENTIFY_ITEM]
    else:
        rubric = [
            i.model_dump()
            for i in config.rubric
            if i.type != "elements" or task.elements
        ]
        if task.kind == "abx":
            for item in rubric:
                if item["type"] == "preference":
                    item["label"] = item["reference_label"]
    return {
        "schema_version": SCHEMA_VERSION,
        "project": {"id": config.project.id, "title": config.project.title},
        "build_id": record["build_id"],
        "bundle_id": rater["bundle_id"],
        "rater": {"id": rater_id, "name": rater["name"]},
        "task": {
            "id": task.task_id,
            "kind": task.kind,
            "abx_mode": task.abx_mode or None,
            "prompt": task.prompt,
            "elements": list(task.elements),
            "number": number,
            "count": total,
        },
        "clips": clips,
        "rubric": rubric,
        "captions": _caption_config(project, task) if is_caption else None,
        "rework": (
            {
                "round": reissue.round,
                "notes": reissue.notes,
                "answers": reissue.answers,
            }
            if reissue
            else None
        ),
        "listening": {
            **config.listening.model_dump(),
            "loudness_match": config.loudness.match and not is_caption,
        },
        "anomaly_kinds": [k.model_dump() for k in ANOMALY_KINDS],
        "storage_key": storage_key(
            rater["bundle_id"],
            rater_id,
            task.task_id,
            reissue.round if reissue else 0,
        ),
        "download_name": f"earmark_{config.project.id}_{rater_id}_{task.task_id}.json",
        "index_href": "index.html",
        "prev_href": page_name(number - 1) if number > 1 else None,
        "next_href": page_name(number + 1) if number < total else None,
    }


def _caption_config(project: Project, task: TaskRow) -> dict[str, Any]:
    """What a caption page needs of ``[captions]``, with the style rules as data."""
    captions = project.config.captions
    return {
        **captions.model_dump(exclude={"guidelines", "section_aliases", "style"}),
        "style_rules": captions.style.rules(),
        "suggestions": [
            {
                "start": s.start,
                "section": s.section,
                "label": s.label,
                "known": s.known,
            }
            for s in project.suggestions.get(task.task_id, [])
        ],
    }


def index_config(record: dict, rater_id: str, pages: list[dict]) -> dict[str, Any]:
    """The JSON the index page reads: the rater's tasks and where their drafts live."""
    rater = record["raters"][rater_id]
    return {
        "schema_version": SCHEMA_VERSION,
        "project": {"id": record["project"]["id"], "title": record["project"]["title"]},
        "build_id": record["build_id"],
        "bundle_id": rater["bundle_id"],
        "rater": {"id": rater_id, "name": rater["name"]},
        "tasks": [
            {
                "id": p["task"]["id"],
                "kind": p["task"]["kind"],
                "abx_mode": p["task"]["abx_mode"],
                "prompt": p["task"]["prompt"],
                "number": p["task"]["number"],
                "href": page_name(p["task"]["number"]),
                "storage_key": p["storage_key"],
            }
            for p in pages
        ],
    }


def _stage(
    project: Project,
    record: dict,
    plan: dict[str, list[Assigned]],
    staging: Path,
    progress: bool,
    jobs: int = 2,
    reissues: dict[Pair, Reissue] | None = None,
) -> None:
    """Write bundles and zips into ``staging``."""
    reissues = reissues or {}
    guidance = render_guidance(project.config.captions.guidelines)
    pool = staging / "pool"
    pool.mkdir(parents=True)
    _stage_audio(project, record, pool, progress, jobs)
    peaks = _stage_trials(project, record, pool, progress, jobs)

    total_pages = sum(len(tasks) for tasks in plan.values())
    bar = tqdm(
        total=total_pages, desc="rendering pages", unit="page", disable=not progress
    )
    for rater_id, assigned in plan.items():
        bundle = staging / "bundles" / rater_id
        (bundle / "audio").mkdir(parents=True)
        pages = []
        for number, item in enumerate(assigned, start=1):
            page = page_config(
                project,
                record,
                rater_id,
                number,
                item,
                len(assigned),
                peaks,
                reissues.get((item.task.task_id, rater_id)),
            )
            if item.task.kind == "caption":
                html = render("caption.html", page=page, guidance=guidance)
            else:
                html = render("preference.html", page=page)
            (bundle / page_name(number)).write_text(html, "utf-8")
            for clip in page["clips"]:
                _link(pool / Path(clip["src"]).name, bundle / clip["src"])
            pages.append(page)
            bar.update()
        html = render("index.html", page=index_config(record, rater_id, pages))
        (bundle / "index.html").write_text(html, "utf-8")
        _zip(
            bundle,
            staging / "zips" / f"{rater_id}.zip",
            f"{project.config.project.id}-{rater_id}",
        )
    bar.close()
    shutil.rmtree(pool)


def _stage_audio(
    project: Project, record: dict, pool: Path, progress: bool, jobs: int
) -> None:
    """Copy every clip into the pool once, transcoding the ones the config asks."""
    work = []
    for source, info in project.clips.items():
        entry = record["clips"][clip_id(info.sha256)]
        target = pool / entry["file"]
        if "transcoded" in entry:
            work.append((project.root / source, target, entry["file"]))
        else:
            shutil.copyfile(project.root / source, target)
    if not work:
        return
    bar = tqdm(total=len(work), desc="transcoding", unit="clip", disable=not progress)
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as executor:
        futures = [
            executor.submit(
                transcode,
                source,
                target,
                target.suffix.lstrip("."),
                int(short_hash(name), 16),
            )
            for source, target, name in work
        ]
        for future in futures:
            future.result()
            bar.update()
    bar.close()


def _stage_trials(
    project: Project, record: dict, pool: Path, progress: bool, jobs: int
) -> dict[str, list[float]]:
    """Write every identify trial's files; return each task's shared peaks."""
    by_task: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for trial_id, trial in record["identify"]["files"].items():
        by_task.setdefault(trial["task_id"], []).append((trial_id, trial))
    if not by_task:
        return {}
    bar = tqdm(
        total=len(by_task), desc="writing trials", unit="task", disable=not progress
    )
    peaks: dict[str, list[float]] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as executor:
        futures = {}
        for task_id, trials in by_task.items():
            first = trials[0][1]
            sources = {
                slot: project.root / clip["source"]
                for slot, clip in record["tasks"][task_id]["clips"].items()
            }
            files = [
                TrialFile(
                    pool / trial["file"],
                    trial["slot"],
                    trial["gain_db"],
                    int(short_hash(record["identify"]["seed"], trial_id), 16),
                )
                for trial_id, trial in trials
            ]
            futures[task_id] = executor.submit(
                write_trial_files, sources, first["frames"], first["channels"], files
            )
        for task_id, future in futures.items():
            try:
                peaks[task_id] = future.result()
            except (OSError, RuntimeError, ValueError) as exc:
                raise EarmarkError(
                    f"Could not write the identify files of task {task_id}: {exc}"
                ) from exc
            bar.update()
    bar.close()
    return peaks


def _link(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _zip(folder: Path, target: Path, top: str) -> None:
    """Pack a bundle; audio is stored as is (already compressed), pages deflated."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Level 1: pages are mostly the same inlined CSS/JS, which compresses well even
    # at the fastest level, and zlib's default level took a fifth of a large build.
    with zipfile.ZipFile(target, "w", compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_dir():
                continue
            name = f"{top}/{path.relative_to(folder).as_posix()}"
            method = (
                zipfile.ZIP_STORED
                if path.parent.name == "audio"
                else zipfile.ZIP_DEFLATED
            )
            archive.write(path, name, compress_type=method)


def _swap_in(staging: Path, out: Path) -> None:
    """Replace our outputs in ``out`` with the staged ones, leaving anything else."""
    for name in OUTPUTS:
        new, old = staging / name, out / name
        if not new.exists():
            continue
        if old.is_dir():
            trash = out / f".old-{name}-{os.getpid()}"
            old.rename(trash)
            new.rename(old)
            shutil.rmtree(trash)
        else:
            os.replace(new, old)
