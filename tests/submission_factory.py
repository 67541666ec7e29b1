"""Schema-valid submissions made from a real build record, for sync tests.

``make_submission`` fills in what a bundle page would: the ids of the rater's
bundle, the clips in the order that rater saw them, and listening for each clip.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from builder.record import BuildRecord

RATIONALE = (
    "Clip A keeps the riff tight and the drums drive it; B drifts and the mix is muddy."
)
CAPTION = (
    "A driving instrumental rock piece opens with palm-muted distorted guitars "
    "over a steady kick, then the drums double up and a lead line enters."
)


def stamp(instant: datetime) -> str:
    """Write an instant the way the page does: milliseconds and an offset."""
    return instant.isoformat(timespec="milliseconds")


def make_submission(
    record: BuildRecord,
    task_id: str,
    rater_id: str,
    *,
    submitted: datetime | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Return a submission of ``task_id`` by ``rater_id``; keyword args replace keys."""
    task = record.tasks[task_id]
    rater = record.raters[rater_id]
    clips = record.clip_ids(task_id, rater_id)
    submitted = submitted or datetime.now(UTC).replace(microsecond=0) - timedelta(
        hours=2
    )
    started = submitted - timedelta(minutes=25)
    durations = {cid: info["duration"] for cid, info in record.data["clips"].items()}
    data: dict[str, Any] = {
        "schema": "earmark.submission",
        "schema_version": 1,
        "project_id": record.project_id,
        "build_id": record.build_id,
        "bundle_id": rater["bundle_id"],
        "rater_id": rater_id,
        "task_id": task_id,
        "kind": task["kind"],
        "prompt": task["prompt"],
        "clips": [{"label": label, "clip_id": cid} for label, cid in clips.items()],
        "started_at": stamp(started),
        "submitted_at": stamp(submitted),
        "active_seconds": 1260.0,
        "listening": {
            "min_coverage": 0.9,
            "clips": {
                label: {
                    "clip_id": cid,
                    "duration": durations[cid],
                    "heard_seconds": durations[cid] * 0.95,
                    "coverage": 0.95,
                    "plays": 2,
                    "playable": True,
                }
                for label, cid in clips.items()
            },
            "events": [
                {"type": "play", "label": label, "at": 0, "t": 1000 * i}
                for i, label in enumerate(clips)
            ],
        },
        "browser": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) test"},
        "answers": _answers(task["kind"], list(clips)),
        "anomalies": [],
    }
    data.update(overrides)
    return data


def _answers(kind: str, labels: list[str]) -> dict[str, Any]:
    if kind == "caption":
        return {
            "caption": CAPTION,
            "word_count": len(CAPTION.split()),
            "callouts": [
                {"start": 0, "section": "intro", "instruments": ["distorted guitar"]},
                {"start": 12.5, "section": "verse", "vibes": ["energetic"]},
            ],
            "summary": {"genre": ["rock"], "quality": 4, "wow_factor": None},
        }
    return {
        "overall": "A2",
        "holistic": {label: 4 for label in labels if label != "X"},
        "rationale": RATIONALE,
        "drivers": ["musical"],
        "clips_match_prompt": True,
    }


def write_submission(
    folder: Path,
    data: dict[str, Any],
    name: str | None = None,
    *,
    bom: bool = False,
) -> Path:
    """Write ``data`` as the page does (UTF-8 JSON), optionally with a BOM."""
    name = name or f"earmark_{data.get('rater_id')}_{data.get('task_id')}.json"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path
