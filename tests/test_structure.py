"""Structure files imported at build time as suggested callouts: every format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from builder.build import build
from builder.config import Captions
from builder.errors import ProjectInvalid
from builder.project import load_project
from builder.structure import parse_clock, read_structure
from tests.conftest import SHARED, MakeProject
from tests.page_helpers import config_of, page_named

SAMPLES = SHARED / "reference-data" / "section-labels" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the real structure files are read from {SAMPLES}, which is absent",
)
CAPTIONS = Captions()
CAPTION_ROWS = [
    "task_id,kind,prompt,clip_a,model_a,structure",
    "t1,caption,Describe,audio/feelings-build.ogg,m1,{structure}",
]


def starts(path: Path, duration: float) -> list[tuple[float, str, bool]]:
    read = read_structure(path, path.name, duration, CAPTIONS)
    assert read.problems == []
    return [(s.start, s.section, s.known) for s in read.suggestions]


def structure_clip(record: dict[str, Any]) -> str:
    return str(record["tasks"]["t1"]["clips"]["a"]["clip_id"])


def test_clock_times_read_like_the_page() -> None:
    assert parse_clock("75.5") == 75.5
    assert parse_clock("1:15.5") == 75.5
    assert parse_clock("1:02:03.5") == 3723.5
    assert parse_clock("0:00:05,5") == 5.5
    assert parse_clock(".5") == 0.5
    for bad in ("1:75", "1:60:00", "abc", "", "-3", "1::2"):
        assert parse_clock(bad) is None


@needs_samples
def test_harmonix_samples_map_to_the_vocabulary_and_drop_end() -> None:
    path = SAMPLES / "harmonix-0001_12step-segments.txt"
    read = read_structure(path, "h.txt", 300.0, CAPTIONS)
    assert read.format == "harmonix"
    assert [(s.start, s.section, s.label) for s in read.suggestions] == [
        (0.0, "intro", "intro"),
        (8.5, "verse", "verse"),
        (25.5, "chorus", "chorus"),
        (42.5, "verse", "verse"),
        (59.5, "chorus", "chorus"),
        (78.6, "verse", "verse"),
        (95.6, "chorus", "chorus"),
        (112.6, "chorus", "chorus"),
        (129.6, "outro", "outro"),
    ]
    assert read.warnings == []
    for name in ("harmonix-0003_6foot7foot", "harmonix-0004_abc"):
        found = starts(SAMPLES / f"{name}-segments.txt", 300.0)
        assert found[0] == (0.0, "silence", True)
        assert all(known for _, _, known in found)


@needs_samples
def test_salami_samples_map_labels_and_warn_about_times_past_the_clip() -> None:
    path = SAMPLES / "salami-1000-functions.txt"
    read = read_structure(path, "salami-1000.txt", 100.0, CAPTIONS)
    assert read.format == "salami"
    assert [(s.start, s.section, s.label) for s in read.suggestions] == [
        (0.0, "intro", "Intro"),
        (8.8, "", "no_function"),
        (23.9, "verse", "Verse"),
        (35.7, "", "no_function"),
        (50.8, "verse", "Verse"),
        (62.8, "", "no_function"),
        (76.6, "solo", "Solo"),
    ]
    messages = [str(w) for w in read.warnings]
    # Silence at 0.0 and Intro at 0.049 fall on one tenth: the later one is kept.
    assert messages[0] == (
        "salami-1000.txt:2: 'Silence' (line 1) and 'Intro' start within the same "
        "tenth of a second (0.0 s); kept 'Intro'"
    )
    assert messages[1] == (
        "salami-1000.txt:9: 'Solo' at 172.408 s starts at or after the end of the "
        "clip (100.0 s); left out"
    )
    assert len(messages) == 1 + 5  # lines 9-13; End (line 14) is no section
    assert starts(SAMPLES / "salami-10-functions.txt", 400.0)[:3] == [
        (0.0, "silence", True),
        (0.2, "intro", True),
        (53.2, "verse", True),
    ]
    assert starts(SAMPLES / "salami-956-functions.txt", 400.0)[:2] == [
        (0.0, "silence", True),
        (28.7, "intro", True),
    ]


def test_small_files_in_each_format(tmp_path: Path) -> None:
    csv_file = tmp_path / "plain.csv"
    csv_file.write_text(
        "time,label\n0,Intro\n0:12.5,Pre Chorus\n20.04,GTR\n31,Kazoo break\n", "utf-8"
    )
    read = read_structure(csv_file, "plain.csv", 40.0, CAPTIONS)
    assert read.format == "csv"
    assert [(s.start, s.section, s.label, s.known) for s in read.suggestions] == [
        (0.0, "intro", "Intro", True),
        (12.5, "pre-chorus", "Pre Chorus", True),
        (20.0, "solo", "GTR", True),
        (31.0, "Kazoo break", "Kazoo break", False),
    ]
    headless = tmp_path / "headless.txt"
    headless.write_text("0.0,verse\n10,chorus\n", "utf-8")
    assert starts(headless, 40.0) == [(0.0, "verse", True), (10.0, "chorus", True)]

    harmonix = tmp_path / "song-segments.txt"
    harmonix.write_text("0.0 intro\n5.2 prechorus\n9 postchorus\n39.9 end\n", "utf-8")
    assert starts(harmonix, 40.0) == [
        (0.0, "intro", True),
        (5.2, "pre-chorus", True),
        (9.0, "post-chorus", True),
    ]

    salami = tmp_path / "functions.txt"
    salami.write_text(
        "0.0\tSilence\n1.5\tMain_Theme\n15\tfade-out\n50\tOutro\n60\tEnd", "utf-8"
    )
    read = read_structure(salami, "functions.txt", 40.0, CAPTIONS)
    assert [(s.start, s.section) for s in read.suggestions] == [
        (0.0, "silence"),
        (1.5, "theme"),
        (15.0, "fade-out"),
    ]
    assert [str(w) for w in read.warnings] == [
        "functions.txt:4: 'Outro' at 50 s starts at or after the end of the clip "
        "(40.0 s); left out"
    ]


def test_broken_lines_are_problems_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_text("0.0 intro\nsoon chorus\n12\n", "utf-8")
    read = read_structure(path, "broken.txt", 40.0, CAPTIONS)
    assert [str(p) for p in read.problems] == [
        "broken.txt:2: 'soon' is not a time; write seconds (75.5) or m:ss.s",
        "broken.txt:3: the boundary at 12 has no label",
    ]


def test_project_aliases_and_vocabulary_are_used(tmp_path: Path) -> None:
    captions = Captions(
        section_types=["A", "B", "Ending"], section_aliases={"outro": "ending"}
    )
    path = tmp_path / "s.csv"
    path.write_text("0,a\n5,Outro\n9,chorus\n", "utf-8")
    read = read_structure(path, "s.csv", 40.0, captions)
    assert [(s.section, s.known) for s in read.suggestions] == [
        ("A", True),
        ("Ending", True),
        ("chorus", False),
    ]
    with pytest.raises(ValueError, match="not in section_types"):
        Captions(section_aliases={"riff": "drop zone"})


def test_manifest_column_is_checked(make_project: MakeProject) -> None:
    root = make_project(
        [
            "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,structure",
            "t1,ab,P,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2,s.csv",
            "t2,caption,P,audio/feelings-build.ogg,m1,,,missing.csv",
            "t3,caption,P,audio/feelings-build.ogg,m1,,,../out.csv",
        ]
    )
    with pytest.raises(ProjectInvalid) as info:
        load_project(root, progress=False)
    manifest = root / "tasks.csv"
    assert [str(p) for p in info.value.problems] == [
        f"{manifest}:2 [structure]: structure files apply to caption tasks only",
        f"{manifest}:3 [structure]: structure file 'missing.csv' does not exist",
        f"{manifest}:4 [structure]: structure path '../out.csv' leaves the project "
        "folder; move the file inside it",
    ]


def test_build_records_the_suggestions_and_pages_carry_them(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project([r.format(structure="parts/s.txt") for r in CAPTION_ROWS])
    (root / "parts").mkdir()
    (root / "parts" / "s.txt").write_text(
        "0.0 intro\n10.0 verse\n20.0 gtr\n30.0 kazoo\n99.0 outro\n", "utf-8"
    )
    result = build(root, tmp_path / "out", progress=False)
    structure = result.record["tasks"]["t1"]["structure"]
    assert structure["file"] == "parts/s.txt"
    assert structure["format"] == "harmonix"
    assert [s["section"] for s in structure["suggestions"]] == [
        "intro",
        "verse",
        "solo",
        "kazoo",
    ]
    duration = result.record["clips"][structure_clip(result.record)]["duration"]
    assert result.record["report"]["warnings"][-1] == (
        "parts/s.txt:5: 'outro' at 99 s starts at or after the end of the clip "
        f"({duration:.1f} s); left out"
    )
    rater = next(iter(result.record["raters"]))
    page = config_of(page_named(result.out / "bundles" / rater, "t1"))
    assert page["captions"]["suggestions"][3] == {
        "start": 30.0,
        "section": "kazoo",
        "label": "kazoo",
        "known": False,
    }
    # The structure file is an input: changing it changes the build id.
    (root / "parts" / "s.txt").write_text("0.0 intro\n", "utf-8")
    again = build(root, tmp_path / "out2", progress=False)
    assert again.build_id != result.build_id
