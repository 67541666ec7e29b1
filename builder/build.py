"""The build: validate, plan, render and pack one offline bundle per rater.

Stages: load (validate + probe) -> plan (ids, assignment, clip order) -> stage every
output in a scratch folder -> swap the outputs into place. Nothing under ``out`` is
touched until the project has passed every check.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

import builder
from builder.config import ANOMALY_KINDS
from builder.errors import EarmarkError
from builder.plan import SCHEMA_VERSION, Assigned, assign, build_id, bundle_id, clip_id
from builder.project import Project, load_project
from builder.record import RECORD_NAME, RECORD_SCHEMA, REPORT_NAME, write_record
from builder.render import render
from builder.report import format_report

log = logging.getLogger(__name__)

OUTPUTS = ("bundles", "zips", RECORD_NAME, REPORT_NAME)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    build_id: str
    record: dict[str, Any]
    report: str
    seconds: float


def storage_key(bundle: str, rater: str, task: str) -> str:
    """The browser storage key of one task's draft: unique per bundle, rater, task."""
    return f"earmark:v{SCHEMA_VERSION}:{bundle}:{rater}:{task}"


def page_name(number: int) -> str:
    return f"task-{number:03d}.html"


def build(
    root: Path, out: Path, *, strict: bool = False, jobs: int = 2, progress: bool = True
) -> BuildResult:
    """Build every rater's bundle for the project in ``root`` into ``out``."""
    started = time.perf_counter()
    project = load_project(root, jobs=jobs, progress=progress)
    for warning in project.warnings:
        log.warning("%s", warning)
    if strict and project.warnings:
        raise EarmarkError(
            f"--strict: {len(project.warnings)} warning(s); nothing was written",
            project.warnings,
        )

    build = build_id(project)
    plan = assign(project)
    record = _record(project, build, plan)

    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".staging-{build}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _stage(project, record, plan, staging, progress)
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


def _record(project: Project, build: str, plan: dict[str, list[Assigned]]) -> dict:
    config = project.config
    clips = {
        clip_id(info.sha256): {
            "source": source,
            "file": f"{clip_id(info.sha256)}.{info.extension}",
            **info.to_json(),
        }
        for source, info in sorted(project.clips.items())
    }
    tasks = {
        task.task_id: {
            "line": task.line,
            "kind": task.kind,
            "prompt": task.prompt,
            "gold": task.gold,
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
    raters = {}
    for rater in config.raters:
        assigned = plan[rater.id]
        raters[rater.id] = {
            "name": rater.name,
            "bundle_id": bundle_id(build, rater.id),
            "tasks": {
                a.task.task_id: {"labels": a.labels, "page": page_name(n)}
                for n, a in enumerate(assigned, start=1)
            },
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
    }


def page_config(
    project: Project,
    record: dict,
    rater_id: str,
    number: int,
    assigned: Assigned,
    total: int,
) -> dict[str, Any]:
    """The JSON a task page reads: everything it shows and needs, nothing ops-only."""
    config = project.config
    rater = record["raters"][rater_id]
    task = assigned.task
    slots = record["tasks"][task.task_id]["clips"]
    clips = []
    for label, slot in assigned.labels.items():
        cid = slots[slot]["clip_id"]
        info = project.clips[slots[slot]["source"]]
        clips.append(
            {
                "label": label,
                "clip_id": cid,
                "src": f"audio/{record['clips'][cid]['file']}",
                "duration": info.duration,
                "peaks": info.peaks,
            }
        )
    is_caption = task.kind == "caption"
    return {
        "schema_version": SCHEMA_VERSION,
        "project": {"id": config.project.id, "title": config.project.title},
        "build_id": record["build_id"],
        "bundle_id": rater["bundle_id"],
        "rater": {"id": rater_id, "name": rater["name"]},
        "task": {
            "id": task.task_id,
            "kind": task.kind,
            "prompt": task.prompt,
            "elements": list(task.elements),
            "number": number,
            "count": total,
        },
        "clips": clips,
        "rubric": [] if is_caption else [i.model_dump() for i in config.rubric],
        "captions": config.captions.model_dump() if is_caption else None,
        "listening": config.listening.model_dump(),
        "anomaly_kinds": [k.model_dump() for k in ANOMALY_KINDS],
        "storage_key": storage_key(rater["bundle_id"], rater_id, task.task_id),
        "download_name": f"earmark_{config.project.id}_{rater_id}_{task.task_id}.json",
        "index_href": "index.html",
        "prev_href": page_name(number - 1) if number > 1 else None,
        "next_href": page_name(number + 1) if number < total else None,
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
) -> None:
    """Write bundles and zips into ``staging``."""
    pool = staging / "pool"
    pool.mkdir(parents=True)
    for info in project.clips.values():
        target = pool / record["clips"][clip_id(info.sha256)]["file"]
        if not target.exists():
            source = next(p for p, i in project.clips.items() if i is info)
            shutil.copyfile(project.root / source, target)

    total_pages = sum(len(tasks) for tasks in plan.values())
    bar = tqdm(
        total=total_pages, desc="rendering pages", unit="page", disable=not progress
    )
    for rater_id, assigned in plan.items():
        bundle = staging / "bundles" / rater_id
        (bundle / "audio").mkdir(parents=True)
        pages = []
        for number, item in enumerate(assigned, start=1):
            page = page_config(project, record, rater_id, number, item, len(assigned))
            template = (
                "caption.html" if item.task.kind == "caption" else "preference.html"
            )
            html = render(template, page=page)
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
