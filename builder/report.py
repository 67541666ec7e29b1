"""The build report: clips probed, problems flagged, who got what."""

from __future__ import annotations

from typing import Any

from builder.errors import Problem


def _clip_line(clip_id: str, clip: dict[str, Any]) -> str:
    flags = ", ".join(f["code"] for f in clip["flags"]) or "ok"
    return (
        f"  {clip['source']}  ->  {clip_id}\n"
        f"      {clip['format']}/{clip['subtype']}, {clip['samplerate']} Hz, "
        f"{clip['channels']} ch, {clip['duration']:.2f} s, "
        f"peak {clip['peak_dbfs']} dBFS"
        f"  [{flags}]"
    )


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
        f"({pages} pages, {len(record['clips'])} clips) in {seconds:.1f} s",
    ]
    return "\n".join(lines) + "\n"
