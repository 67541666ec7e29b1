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
CAPTION_MORE = (
    "Later the band drops to bass and hi-hat, the guitars return an octave higher, "
    "and the piece builds to a final chorus."
)


# Words enough for the default rubric's rationale (at least 15), after a text a
# test cares about.
ENOUGH_WORDS = (
    " and so on: the rest of this rationale only brings it past the rubric's "
    "fifteen word minimum"
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
    trials = record.data["identify"]["files"]
    durations |= {cid: trial["duration"] for cid, trial in trials.items()}
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
        "answers": _answers(record, task_id, rater_id),
        "anomalies": [],
    }
    data.update(overrides)
    return data


def long_caption(words: int) -> str:
    """CAPTION, then more description, until it holds at least ``words`` words."""
    parts = [CAPTION]
    while sum(len(p.split()) for p in parts) < words:
        parts.append(CAPTION_MORE)
    return " ".join(parts)


def _answers(record: BuildRecord, task_id: str, rater_id: str) -> dict[str, Any]:
    """Answers a page would accept: every item of the task's rubric answered."""
    task = record.tasks[task_id]
    config = record.data["config"]
    labels = [label for label in record.clip_ids(task_id, rater_id) if label != "X"]
    if task["kind"] == "caption":
        rules = config["captions"]
        text = long_caption(rules["min_words"])
        return {
            "caption": text,
            "word_count": len(text.split()),
            "callouts": [
                {"start": 0, "section": "intro", "instruments": ["distorted guitar"]},
                {"start": 12.5, "section": "verse", "vibes": ["energetic"]},
            ],
            "summary": {
                field["id"]: (
                    (field["vocabulary"] or ["rock"])[:1]
                    if field["type"] == "multi"
                    else _in_scale(field)
                )
                for field in rules["summary"]
            },
        }
    if task.get("abx_mode") == "identify":
        return {"x_is": record.identify_key(task_id, rater_id)}
    answers: dict[str, Any] = {}
    for item in config["rubric"]:
        kind = item["type"]
        if kind == "preference":
            answers[item["id"]] = "A2" if item["strength_points"] > 3 else "A1"
        elif kind == "rating" and item["per_clip"]:
            answers[item["id"]] = {label: _in_scale(item) for label in labels}
        elif kind == "rating":
            answers[item["id"]] = _in_scale(item)
        elif kind == "text":
            answers[item["id"]] = RATIONALE
        elif kind == "tags":
            answers[item["id"]] = [item["options"][0]["value"]]
        elif kind == "confirm":
            answers[item["id"]] = True
        elif kind == "elements" and task["elements"]:
            answers[item["id"]] = {label: [] for label in labels}
    return answers


def _in_scale(item: dict[str, Any]) -> int:
    """4, or the nearest value on the item's scale."""
    return min(max(4, int(item["scale_min"])), int(item["scale_max"]))


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
