"""Check a caption's timeline callouts against the clip the build measured."""

from __future__ import annotations

from typing import Any

from builder.record import BuildRecord

# The page refuses a callout past the clip's end by more than this, or closer than
# this to another callout (it keeps times to a tenth of a second).
CALLOUT_SLACK = 0.05


def callout_reasons(data: dict[str, Any], record: BuildRecord) -> list[str]:
    """Why a caption's callouts cannot be accepted; empty when they can.

    Every start must lie in [0, duration] of the clip as measured at build time,
    and no two may share a start. The page refuses both at entry, so a file that
    breaks either was edited or made elsewhere.
    """
    clips = record.clip_ids(data["task_id"], data["rater_id"])
    clip = record.data.get("clips", {}).get(clips.get("A", ""), {})
    duration = clip.get("duration")
    reasons = []
    seen: list[tuple[float, int]] = []
    for index, callout in enumerate(data["answers"].get("callouts", [])):
        start = float(callout["start"])
        where = f"answers.callouts[{index}].start {start:g} s"
        if isinstance(duration, int | float) and start > duration + CALLOUT_SLACK:
            reasons.append(
                f"{where} is outside the clip (0 to {duration:g} s, measured at "
                "build time)"
            )
        clash = next((i for t, i in seen if abs(t - start) < CALLOUT_SLACK), None)
        if clash is not None:
            reasons.append(f"{where} repeats answers.callouts[{clash}]")
        seen.append((start, index))
    return reasons
