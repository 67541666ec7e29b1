"""Bad submission files are set aside with a reason; the good ones still count."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from builder.build import BuildResult
from builder.record import BuildRecord, load_record
from tests.submission_factory import (
    ENOUGH_WORDS,
    make_submission,
    stamp,
    write_submission,
)
from tests.sync_support import NOW, by_pair, read_tab, run_sync

AT = NOW - timedelta(days=1)
Make = Callable[[BuildRecord], bytes]


@pytest.fixture(scope="module")
def record(pilot_build: BuildResult) -> BuildRecord:
    return load_record(pilot_build.out)


def sub(
    record: BuildRecord, task: str = "ab-001", rater: str = "r01"
) -> dict[str, Any]:
    return make_submission(record, task, rater, submitted=AT)


def as_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def edited(change: Callable[[dict[str, Any], BuildRecord], None]) -> Make:
    """A case: a good submission of ab-001 by r01, then ``change`` applied."""

    def make(record: BuildRecord) -> bytes:
        data = sub(record)
        change(data, record)
        return as_bytes(data)

    return make


def raw(text: str, encoding: str = "utf-8") -> Make:
    return lambda record: text.encode(encoding)


def _drop(*keys: str) -> Callable[[dict[str, Any], BuildRecord], None]:
    def change(data: dict[str, Any], record: BuildRecord) -> None:
        for key in keys:
            del data[key]

    return change


def _set(**values: Any) -> Callable[[dict[str, Any], BuildRecord], None]:
    return lambda data, record: data.update(values)


def _other_bundle(data: dict[str, Any], record: BuildRecord) -> None:
    data["bundle_id"] = record.raters["r02"]["bundle_id"]


def _swap_clips(data: dict[str, Any], record: BuildRecord) -> None:
    first, second = data["clips"]
    first["clip_id"], second["clip_id"] = second["clip_id"], first["clip_id"]


def _listening_mismatch(data: dict[str, Any], record: BuildRecord) -> None:
    data["listening"]["clips"]["A"]["clip_id"] = data["clips"][1]["clip_id"]


def _listening_extra(data: dict[str, Any], record: BuildRecord) -> None:
    data["listening"]["clips"]["X"] = dict(data["listening"]["clips"]["A"])


def _no_caption(data: dict[str, Any], record: BuildRecord) -> None:
    data.update(make_submission(record, "cap-001", "r01", submitted=AT))
    del data["answers"]["caption"]


def _bad_preference(data: dict[str, Any], record: BuildRecord) -> None:
    data["answers"]["overall"] = "C9"


def _too_strong(data: dict[str, Any], record: BuildRecord) -> None:
    data["answers"]["overall"] = "A4"


def _answer(**values: Any) -> Callable[[dict[str, Any], BuildRecord], None]:
    """Set rubric answers by item id; None deletes the item."""

    def change(data: dict[str, Any], record: BuildRecord) -> None:
        for key, value in values.items():
            if value is None:
                del data["answers"][key]
            else:
                data["answers"][key] = value

    return change


def _half_heard(data: dict[str, Any], record: BuildRecord) -> None:
    data["listening"]["clips"]["B"]["coverage"] = 0.5


def _short_caption(data: dict[str, Any], record: BuildRecord) -> None:
    data.update(make_submission(record, "cap-001", "r01", submitted=AT))
    data["answers"]["caption"] = "Too short to be a caption."
    data["answers"]["summary"]["quality"] = 7
    data["answers"]["summary"]["tempo"] = ["fast"]
    del data["answers"]["summary"]["genre"]


def _not_assigned(data: dict[str, Any], record: BuildRecord) -> None:
    # ab-003 went to r02 and r03 only; r01 never had a page for it.
    data.update(make_submission(record, "ab-003", "r02", submitted=AT))
    data.update(rater_id="r01", bundle_id=record.raters["r01"]["bundle_id"])


def _future(data: dict[str, Any], record: BuildRecord) -> None:
    data["submitted_at"] = stamp(NOW + timedelta(minutes=11))


def _ancient(data: dict[str, Any], record: BuildRecord) -> None:
    data["started_at"] = "2019-12-31T23:59:59Z"


def _backwards(data: dict[str, Any], record: BuildRecord) -> None:
    data["started_at"] = stamp(AT + timedelta(seconds=1))


def _bad_flag(data: dict[str, Any], record: BuildRecord) -> None:
    flag = {"kind": "other", "note": "x", "flagged_at": stamp(NOW + timedelta(days=2))}
    data["anomalies"] = [flag]


def _nan(record: BuildRecord) -> bytes:
    return as_bytes(sub(record)).replace(
        b'"active_seconds": 1260.0', b'"active_seconds": NaN'
    )


def _infinity(record: BuildRecord) -> bytes:
    text = as_bytes(sub(record))
    return text.replace(b'"active_seconds": 1260.0', b'"active_seconds": -Infinity')


def _huge(record: BuildRecord) -> bytes:
    return as_bytes(sub(record)).replace(
        b'"active_seconds": 1260.0', b'"active_seconds": 1e999'
    )


def _cp1252(record: BuildRecord) -> bytes:
    data = sub(record)
    data["answers"]["rationale"] = "Größe matters: the bass is muddy"
    return json.dumps(data, ensure_ascii=False).encode("cp1252")


def _utf16(record: BuildRecord) -> bytes:
    return json.dumps(sub(record)).encode("utf-16")


def _repeated_key(record: BuildRecord) -> bytes:
    text = as_bytes(sub(record))
    return text.replace(b'"rater_id": "r01"', b'"rater_id": "r01", "rater_id": "r02"')


CASES: dict[str, tuple[Make, str, tuple[str | None, str | None]]] = {
    "schema": (
        edited(_no_caption),
        "does not match the submission schema: $.answers: 'caption' is a required "
        "property",
        ("cap-001", "r01"),
    ),
    "schema-type": (
        edited(_set(active_seconds="long")),
        "$.active_seconds: 'long' is not of type 'number'",
        ("ab-001", "r01"),
    ),
    "not-an-object": (raw("[1, 2]"), "$: [1, 2] is not of type 'object'", (None, None)),
    "older-build-F14": (
        edited(_set(build_id="0123456789ab")),
        "made with build 0123456789ab, but the current build is {build} and this "
        "build folder has no record of 0123456789ab: the rater used a bundle from "
        "another build folder",
        ("ab-001", "r01"),
    ),
    "missing-ids-F14": (
        edited(_drop("rater_id", "bundle_id")),
        "missing bundle_id, rater_id (or not text): the file cannot be matched to a "
        "rater's bundle",
        ("ab-001", None),
    ),
    "other-project": (
        edited(_set(project_id="elsewhere")),
        "project 'elsewhere' is not this build's project 'pilot-rock'",
        ("ab-001", "r01"),
    ),
    "unknown-rater": (
        edited(_set(rater_id="r99")),
        "rater 'r99' is not in the build record",
        ("ab-001", "r99"),
    ),
    "other-bundle": (
        edited(_other_bundle),
        "is not rater r01's bundle",
        ("ab-001", "r01"),
    ),
    "unknown-task": (
        edited(_set(task_id="ab-999")),
        "task 'ab-999' is not in the build record",
        ("ab-999", "r01"),
    ),
    "not-assigned": (
        edited(_not_assigned),
        "task ab-003 was not assigned to rater r01",
        ("ab-003", "r01"),
    ),
    "kind": (
        edited(_set(kind="abx")),
        "kind 'abx' but the task is 'ab'",
        ("ab-001", "r01"),
    ),
    "prompt": (
        edited(_set(prompt="Something else")),
        "prompt differs from the task's prompt",
        ("ab-001", "r01"),
    ),
    "clip-mismatch": (
        edited(_swap_clips),
        "differ from this rater's clips",
        ("ab-001", "r01"),
    ),
    "listening-mismatch": (
        edited(_listening_mismatch),
        "listening.clips.A is clip",
        ("ab-001", "r01"),
    ),
    "listening-extra": (
        edited(_listening_extra),
        "listening.clips has X, which was not shown",
        ("ab-001", "r01"),
    ),
    "preference-value": (
        edited(_bad_preference),
        "answers.overall is 'C9'; expected A3..A1, 0 or B1..B3",
        ("ab-001", "r01"),
    ),
    "preference-strength": (
        edited(_too_strong),
        "answers.overall is 'A4'",
        ("ab-001", "r01"),
    ),
    "required-item-deleted": (
        edited(_answer(rationale=None)),
        "task ab-001, rater r01: answers.rationale is missing (a required item)",
        ("ab-001", "r01"),
    ),
    "rationale-too-short": (
        edited(_answer(rationale="Muddy mix.")),
        "task ab-001, rater r01: answers.rationale has 2 word(s); at least 15 are "
        "needed",
        ("ab-001", "r01"),
    ),
    "unknown-answer": (
        edited(_answer(mood="dark")),
        "task ab-001, rater r01: answers.mood is not in the rubric",
        ("ab-001", "r01"),
    ),
    "rating-off-scale": (
        edited(_answer(melody={"A": 9, "B": 3})),
        "task ab-001, rater r01: answers.melody.A is 9, outside the scale 1-5",
        ("ab-001", "r01"),
    ),
    "na-not-allowed": (
        edited(_answer(melody={"A": "na", "B": 3})),
        "task ab-001, rater r01: answers.melody.A is 'na', outside the scale 1-5",
        ("ab-001", "r01"),
    ),
    "tag-not-offered": (
        edited(_answer(drivers=["vibes"])),
        "task ab-001, rater r01: answers.drivers holds 'vibes', which is not one of "
        "its choices",
        ("ab-001", "r01"),
    ),
    "element-not-listed": (
        edited(_answer(elements={"A": ["cowbell"], "B": []})),
        "task ab-001, rater r01: answers.elements.A holds 'cowbell', which is not "
        "one of its choices",
        ("ab-001", "r01"),
    ),
    "not-confirmed": (
        edited(_answer(clips_match_prompt=False)),
        "task ab-001, rater r01: answers.clips_match_prompt is not confirmed",
        ("ab-001", "r01"),
    ),
    "coverage-below-minimum": (
        edited(_half_heard),
        "task ab-001, rater r01: listening.clips.B.coverage is 0.5, under "
        "listening.min_coverage 0.9 (clip B was not heard enough)",
        ("ab-001", "r01"),
    ),
    "caption-rules": (
        edited(_short_caption),
        "task cap-001, rater r01: answers.caption has 6 word(s); 300 to 500 are "
        "needed; task cap-001, rater r01: answers.summary.tempo is not in the "
        "summary fields; task cap-001, rater r01: answers.summary.genre has nothing "
        "chosen; task cap-001, rater r01: answers.summary.quality is 7, outside the "
        "scale 1-5",
        ("cap-001", "r01"),
    ),
    "future": (
        edited(_future),
        "submitted_at 2026-03-02T12:11:00Z is in the future (now 2026-03-02T12:00:00Z)",
        ("ab-001", "r01"),
    ),
    "before-2020": (
        edited(_ancient),
        "started_at 2019-12-31T23:59:59Z is before 2020",
        ("ab-001", "r01"),
    ),
    "started-after-submitted": (
        edited(_backwards),
        "started_at 2026-03-01T12:00:01Z is after submitted_at 2026-03-01T12:00:00Z",
        ("ab-001", "r01"),
    ),
    "anomaly-time": (
        edited(_bad_flag),
        "anomalies[0].flagged_at 2026-03-04T12:00:00Z is in the future",
        ("ab-001", "r01"),
    ),
    "nan-F20": (_nan, "not valid JSON: NaN is not a JSON number", (None, None)),
    "infinity-F20": (
        _infinity,
        "not valid JSON: -Infinity is not a JSON number",
        (None, None),
    ),
    "huge-number": (
        _huge,
        "not valid JSON: the number 1e999 is too large",
        (None, None),
    ),
    "cp1252-F11": (
        _cp1252,
        "not UTF-8 (byte 0xf6 at offset",
        (None, None),
    ),
    "utf16": (_utf16, "saved as UTF-16, not UTF-8", (None, None)),
    "truncated": (
        raw('{"schema": "earmark.sub'),
        "not valid JSON: Unterminated string",
        (None, None),
    ),
    "empty": (
        raw(""),
        "not valid JSON: Expecting value at line 1 column 1",
        (None, None),
    ),
    "repeated-key": (_repeated_key, "the key 'rater_id' appears twice", (None, None)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_file_is_rejected_with_its_reason_and_the_good_one_kept(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path, case: str
) -> None:
    make, reason, (task, rater) = CASES[case]
    folder = tmp_path / "submissions"
    write_submission(folder, sub(record, "ab-002", "r03"), "good.json")
    (folder / "bad.json").write_bytes(make(record))
    tracker = tmp_path / "tracker.xlsx"

    report = run_sync(folder, pilot_build, tracker)

    assert (report.files, report.accepted, len(report.rejected)) == (2, 1, 1)
    assert list(by_pair(read_tab(tracker, "Submissions"))) == [("ab-002", "r03")]
    [row] = read_tab(tracker, "Rejected")
    assert row["file"] == "bad.json"
    assert reason.format(build=record.build_id) in row["reason"]
    assert (row["task_id"], row["rater_id"]) == (task, rater)
    assert row["sha256"] and len(row["sha256"]) == 64
    assert row["state"] == "rejected"
    tasks = by_pair(read_tab(tracker, "Tasks"))
    assert [pair for pair, t in tasks.items() if t["state"] == "submitted"] == [
        ("ab-002", "r03")
    ]


def test_a_recycled_task_or_an_unplayable_clip_needs_no_answers_or_listening(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    recycled = sub(record)
    recycled["recycle_requested"] = True
    recycled["anomalies"] = [
        {"kind": "audio_defect", "note": "B is silent", "flagged_at": stamp(AT)}
    ]
    recycled["answers"].update(overall=None, rationale="", clips_match_prompt=False)
    recycled["answers"]["holistic"] = {"A": None, "B": None}
    recycled["listening"]["clips"]["B"]["coverage"] = 0
    unplayable = sub(record, "ab-002", "r01")
    unplayable["listening"]["clips"]["A"].update(coverage=0, playable=False)
    folder = tmp_path / "submissions"
    write_submission(folder, recycled)
    write_submission(folder, unplayable)

    report = run_sync(folder, pilot_build, tmp_path / "tracker.xlsx")

    assert (report.accepted, report.rejected) == (2, [])


def test_a_file_re_saved_with_a_bom_is_accepted_f11(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    data = sub(record)
    data["answers"]["rationale"] = 'Größe, Μουσική, 音楽 🎵 "quoted"' + ENOUGH_WORDS
    folder = tmp_path / "submissions"
    path = write_submission(folder, data, bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    report = run_sync(folder, pilot_build, tmp_path / "tracker.xlsx")

    assert (report.accepted, len(report.rejected)) == (1, 0)
    [row] = read_tab(tmp_path / "tracker.xlsx", "Submissions")
    assert row["rationale"] == 'Größe, Μουσική, 音楽 🎵 "quoted"' + ENOUGH_WORDS


def test_a_file_lists_every_problem_it_has(
    pilot_build: BuildResult, record: BuildRecord, tmp_path: Path
) -> None:
    data = sub(record)
    data["prompt"] = "changed"
    data["started_at"] = "2019-01-01T00:00:00Z"
    _swap_clips(data, record)
    folder = tmp_path / "submissions"
    write_submission(folder, data)

    report = run_sync(folder, pilot_build, tmp_path / "tracker.xlsx")

    [rejected] = report.rejected
    parts = rejected.reason.split("; ")
    assert parts[0] == "prompt differs from the task's prompt in the build record"
    assert "differ from this rater's clips" in parts[1]
    # The swapped clips no longer match what the listening record says was heard.
    assert parts[2].startswith("listening.clips.A is clip")
    assert parts[3].startswith("listening.clips.B is clip")
    assert parts[4] == "started_at 2019-01-01T00:00:00Z is before 2020"
