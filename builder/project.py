"""Load a project folder and check all of it before anything is written."""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from builder.audio import ClipInfo, Flag, probe
from builder.config import CONFIG_NAME, Config, load_config
from builder.errors import Problem, ProjectInvalid
from builder.manifest import TaskRow, read_manifest
from builder.structure import Suggestion, read_structure

log = logging.getLogger(__name__)


@dataclass
class Project:
    """A project that passed validation, with every distinct clip probed."""

    root: Path
    config: Config
    manifest_path: Path
    tasks: list[TaskRow]
    clips: dict[str, ClipInfo] = field(default_factory=dict)  # by manifest path
    warnings: list[Problem] = field(default_factory=list)
    # Suggested callouts from each caption task's structure file, by task id.
    suggestions: dict[str, list[Suggestion]] = field(default_factory=dict)
    structure_formats: dict[str, str] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME


def load_project(root: Path, *, jobs: int = 2, progress: bool = True) -> Project:
    """Read config and manifest, probe every clip, and raise if anything is wrong.

    Every problem found is gathered first, so one run names all of them.
    """
    root = root.resolve()
    if not root.is_dir():
        raise ProjectInvalid(f"Project folder {root} does not exist")
    problems: list[Problem] = []
    config: Config | None = None
    try:
        config = load_config(root)
    except ProjectInvalid as exc:
        problems.extend(exc.problems)

    manifest_name = config.project.manifest if config else "tasks.csv"
    manifest_path = root / manifest_name
    rater_ids = {r.id for r in config.raters} if config else None
    manifest = read_manifest(root, manifest_path, rater_ids)
    problems.extend(manifest.problems)

    clips: dict[str, ClipInfo] = {}
    warnings = list(manifest.warnings)
    if manifest.tasks:
        silence = config.audio.silence_dbfs if config else -60.0
        clips, audio_problems, flags = _probe_all(
            root, manifest_path, manifest.tasks, silence, jobs, progress
        )
        problems.extend(audio_problems)
        warnings.extend(flags)
        problems.extend(_check_identify(manifest_path, manifest.tasks, clips))

    suggestions: dict[str, list[Suggestion]] = {}
    formats: dict[str, str] = {}
    if config is not None:
        for task in manifest.tasks:
            info = clips.get(task.clips[0].path) if task.clips else None
            if not task.structure or info is None:
                continue
            read = read_structure(
                root / task.structure, task.structure, info.duration, config.captions
            )
            problems.extend(read.problems)
            warnings.extend(read.warnings)
            suggestions[task.task_id] = read.suggestions
            formats[task.task_id] = read.format
            log.debug(
                "%s: %d suggested callouts from %s (%s)",
                task.task_id,
                len(read.suggestions),
                task.structure,
                read.format,
            )

    if problems or config is None:
        raise ProjectInvalid(
            f"Project {root} has {len(problems)} problem(s); nothing was written",
            problems,
        )
    return Project(
        root,
        config,
        manifest_path,
        manifest.tasks,
        clips,
        warnings,
        suggestions,
        formats,
    )


def _probe_one(path: Path, silence_dbfs: float) -> ClipInfo | str:
    """Probe in a worker; any failure comes back as text to name file and row."""
    try:
        return probe(path, silence_dbfs)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _probe_all(
    root: Path,
    manifest_path: Path,
    tasks: list[TaskRow],
    silence_dbfs: float,
    jobs: int,
    progress: bool,
) -> tuple[dict[str, ClipInfo], list[Problem], list[Problem]]:
    """Probe each distinct clip once, in parallel, naming manifest lines on failure."""
    lines: dict[str, list[int]] = defaultdict(list)
    for task in tasks:
        for clip in task.clips:
            lines[clip.path].append(task.line)
    paths = sorted(lines)
    bar = tqdm(
        total=len(paths), desc="probing clips", unit="clip", disable=not progress
    )
    results: dict[str, ClipInfo | str] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            path: pool.submit(_probe_one, root / path, silence_dbfs) for path in paths
        }
        for path, future in futures.items():
            results[path] = future.result()
            bar.update()
    bar.close()

    clips: dict[str, ClipInfo] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    # Format notes usually hit every clip of a project: one line per note, not per clip.
    shared: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        result = results[path]
        first = lines[path][0]
        if isinstance(result, str):
            problems.append(
                Problem(
                    str(manifest_path),
                    f"audio file {path!r} cannot be decoded ({result}); replace it "
                    "with WAV, FLAC, Ogg or MP3",
                    line=first,
                    field=_slot_column(tasks, path),
                )
            )
            continue
        if result.frames == 0:
            problems.append(
                Problem(
                    str(manifest_path),
                    f"audio file {path!r} holds no audio that decodes; replace it",
                    line=first,
                    field=_slot_column(tasks, path),
                )
            )
            continue
        clips[path] = result
        log.debug(
            "probed %s: %s/%s, %.2f s",
            path,
            result.format,
            result.subtype,
            result.duration,
        )
        for flag in result.flags:
            if flag.code == "browser_support":
                shared[flag.message].append(path)
            else:
                warnings.append(_flag_problem(manifest_path, path, first, flag))
    for message, affected in shared.items():
        listed = ", ".join(affected[:3]) + (", ..." if len(affected) > 3 else "")
        warnings.append(
            Problem(
                str(manifest_path),
                f"{message}: {len(affected)} clip(s) ({listed}); 'build --transcode "
                "flac' bundles copies every browser plays",
                field="browser_support",
            )
        )
    return clips, problems, warnings


def _slot_column(tasks: list[TaskRow], path: str) -> str | None:
    """The manifest column (clip_a, ...) where ``path`` first appears."""
    for task in tasks:
        for clip in task.clips:
            if clip.path == path:
                return f"clip_{clip.slot}"
    return None


def _check_identify(
    manifest_path: Path, tasks: list[TaskRow], clips: dict[str, ClipInfo]
) -> list[Problem]:
    """Identify trials re-encode A and B alike, so they must share a sample rate."""
    problems = []
    for task in tasks:
        if task.abx_mode != "identify":
            continue
        infos = [clips.get(c.path) for c in task.clips]
        if any(info is None for info in infos):
            continue
        rates = sorted({info.samplerate for info in infos if info})
        if len(rates) > 1:
            problems.append(
                Problem(
                    str(manifest_path),
                    f"an identify task needs clips at one sample rate, not "
                    f"{' and '.join(f'{r} Hz' for r in rates)}; resample one of them",
                    line=task.line,
                    field="clip_b",
                )
            )
    return problems


def _flag_problem(manifest_path: Path, path: str, line: int, flag: Flag) -> Problem:
    return Problem(
        str(manifest_path), f"{path}: {flag.message}", line=line, field=flag.code
    )
