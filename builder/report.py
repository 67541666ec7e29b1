"""The build report: clips probed, problems flagged, who got what."""

from __future__ import annotations

from typing import Any

from builder.errors import Problem


def _clip_line(clip_id: str, clip: dict[str, Any]) -> str:
    flags = ", ".join(f["code"] for f in clip["flags"]) or "ok"
    depth = f" {clip['bit_depth']}-bit" if clip.get("bit_depth") else ""
    loudness = clip.get("loudness_lufs")
    level = f"{loudness} LUFS" if loudness is not None else "loudness n/a"
    copy = f", bundled as {clip['transcoded']}" if clip.get("transcoded") else ""
    return (
        f"  {clip['source']}  ->  {clip['file']}\n"
        f"      {clip['format']}/{clip['subtype']}{depth}, {clip['samplerate']} Hz, "
        f"{clip['channels']} ch, {clip['duration']:.2f} s, "
        f"peak {clip['peak_dbfs']} dBFS, {level}{copy}"
        f"  [{flags}]"
    )


def _loudness_lines(record: dict[str, Any]) -> list[str]:
    loudness = record["loudness"]
    flags = loudness["flags"]
    state = "on" if loudness["match"] else "off"
    lines = [
        f"Loudness (matching {state}; pairs more than {loudness['flag_lu']} LU "
        f"apart: {len(flags)}):"
    ]
    lines += [
        f"  {f['task_id']}: slots {f['slots'][0]} and {f['slots'][1]} differ by "
        f"{f['difference_lu']} LU ({f['lufs'][0]} vs {f['lufs'][1]} LUFS)"
        for f in flags
    ]
    return lines


def _identify_lines(record: dict[str, Any]) -> list[str]:
    """One line per identify task: its files, and how far its clips were cut."""
    files = record["identify"]["files"]
    if not files:
        return []
    tasks: dict[str, dict[str, Any]] = {}
    for trial in files.values():
        tasks.setdefault(trial["task_id"], trial)
    lines = [f"Identify trials ({len(tasks)} tasks, {len(files)} files, 16-bit WAV):"]
    for task_id, trial in tasks.items():
        lengths = [
            record["clips"][clip["clip_id"]]["duration"]
            for clip in record["tasks"][task_id]["clips"].values()
        ]
        cut = max(lengths) - trial["duration"]
        lines.append(
            f"  {task_id}: {trial['duration']:.2f} s"
            + (
                f" (the longer clip, {max(lengths):.2f} s, is cut by {cut:.2f} s)"
                if cut > 0.05
                else ""
            )
        )
    return [*lines, ""]


def format_report(
    record: dict[str, Any], warnings: list[Problem], seconds: float
) -> str:
    """Return the human-readable report saved beside the build record."""
    project = record["project"]
    raters = record["raters"]
    pages = sum(len(r["tasks"]) for r in raters.values())
    lines = [
        f"Earmark build {record['build_id']} of project {project['id']}"
        + (f" ({project['title']})" if project["title"] else ""),
        f"built at {record['built_at']} from {project['root']}",
        "",
        f"Clips ({len(record['clips'])}):",
        *(_clip_line(cid, clip) for cid, clip in record["clips"].items()),
        "",
        *_loudness_lines(record),
        "",
        *_identify_lines(record),
        f"Raters ({len(raters)}):",
        *(
            f"  {rid}: {len(r['tasks'])} task(s), bundle {r['bundle_id']}"
            for rid, r in raters.items()
        ),
        "",
        f"Warnings ({len(warnings)}):",
        *(f"  - {w}" for w in warnings),
        "" if warnings else "  none",
        f"Built {len(record['tasks'])} tasks for {len(raters)} raters "
        f"({pages} pages, {len(record['clips'])} clips"
        + (
            f", {len(record['identify']['files'])} identify files"
            if record["identify"]["files"]
            else ""
        )
        + f") in {seconds:.1f} s",
    ]
    return "\n".join(lines) + "\n"
