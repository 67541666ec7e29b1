"""validate/build refuse bad projects, naming file and line, and write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from builder.build import build
from builder.errors import ProjectInvalid
from builder.project import load_project
from tests.conftest import REPO, MakeProject

HEADER = "task_id,kind,prompt,clip_a,model_a,clip_b,model_b"
GOOD = "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ProjectInvalid) as caught:
        load_project(root, progress=False)
    return [str(p) for p in caught.value.problems]


def test_every_bad_row_is_reported_with_its_line(make_project: MakeProject) -> None:
    root = make_project(
        [
            HEADER,
            GOOD,
            "t2,abc,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
            "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
            "t3,ab,Rock,audio/missing.ogg,m1,audio/madness-riff.ogg,m2",
            "t4,ab,Rock,../outside.ogg,m1,audio/madness-riff.ogg,m2",
            "t5,ab,Rock,/etc/passwd,m1,audio/madness-riff.ogg,m2",
            "t6,ab,,audio/chaosland-riff.ogg,,audio/madness-riff.ogg,m2",
        ]
    )
    found = problems_of(root)
    manifest = str(root / "tasks.csv")
    expected = [
        f"{manifest}:3 [kind]: unknown kind 'abc'",
        f"{manifest}:4 [task_id]: duplicate task id 't1' (first used on line 2)",
        f"{manifest}:5 [clip_a]: audio file 'audio/missing.ogg' does not exist",
        f"{manifest}:6 [clip_a]: audio path '../outside.ogg' leaves the project folder",
        f"{manifest}:7 [clip_a]: audio path '/etc/passwd' is absolute",
        f"{manifest}:8 [prompt]: prompt is empty",
        f"{manifest}:8 [model_a]: clip_a needs its model version in model_a",
    ]
    for message in expected:
        assert any(p.startswith(message) for p in found), (message, found)
    assert len(found) == len(expected)


def test_symlink_leaving_the_project_is_refused(
    make_project: MakeProject, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.ogg"
    outside.write_bytes(b"x")
    root = make_project([HEADER, GOOD])
    (root / "audio" / "link.ogg").symlink_to(outside)
    (root / "tasks.csv").write_text(
        f"{HEADER}\nt1,ab,Rock,audio/link.ogg,m1,audio/madness-riff.ogg,m2\n", "utf-8"
    )
    assert any("leaves the project folder" in p for p in problems_of(root))


def test_bom_is_fine_and_unicode_survives(make_project: MakeProject) -> None:
    text = f"{HEADER}\nt1,ab,Größe Μουσική 音楽 🎵,audio/chaosland-riff.ogg,m1,"
    text += "audio/madness-riff.ogg,m2\n"
    root = make_project(raw=b"\xef\xbb\xbf" + text.encode("utf-8"))
    project = load_project(root, progress=False)
    assert project.tasks[0].task_id == "t1"
    assert project.tasks[0].prompt == "Größe Μουσική 音楽 🎵"


def test_cp1252_manifest_fails_with_line_not_mojibake(
    make_project: MakeProject,
) -> None:
    text = f"{HEADER}\n{GOOD}\nt2,ab,Größe,audio/chaosland-riff.ogg,m1,"
    text += "audio/madness-riff.ogg,m2\n"
    root = make_project(raw=text.encode("cp1252"))
    found = problems_of(root)
    assert len(found) == 1
    assert found[0].startswith(f"{root / 'tasks.csv'}:3: byte 0xf6 at column 9")
    assert "save the manifest as UTF-8" in found[0] or "re-save" in found[0]


def test_undecodable_audio_names_file_and_line(make_project: MakeProject) -> None:
    root = make_project([HEADER, GOOD])
    (root / "audio" / "madness-riff.ogg").write_bytes(b"OggS" + b"\0" * 200)
    found = problems_of(root)
    assert len(found) == 1
    assert found[0].startswith(
        f"{root / 'tasks.csv'}:2 [clip_b]: audio file 'audio/madness-riff.ogg'"
    )
    assert "cannot be decoded" in found[0]


def test_config_errors_name_the_field(make_project: MakeProject) -> None:
    config = '[project]\nid = "bad id!"\n\n[[raters]]\nid = "r1"\n\n'
    config += "[assignment]\nraters_per_task = 3\n[listening]\nmin_coverage = 2\n"
    found = problems_of(make_project(config=config))
    fields = {p.split("[", 1)[1].split("]", 1)[0] for p in found if "[" in p}
    assert {"project.id", "listening.min_coverage"} <= fields


def test_invalid_project_writes_nothing(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project([HEADER, "t1,nope,Rock,audio/chaosland-riff.ogg,m1,,"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("lead notes", "utf-8")
    with pytest.raises(ProjectInvalid):
        build(root, out, progress=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_cli_validate_exit_code_and_messages(make_project: MakeProject) -> None:
    root = make_project([HEADER, "t1,abx,Rock,audio/chaosland-riff.ogg,m1,,"])
    result = subprocess.run(
        [sys.executable, "cli.py", "-q", "validate", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "nothing was written" in result.stderr
    assert (
        f"{root / 'tasks.csv'}:2 [clip_b]: a 'abx' task needs clip_b" in result.stderr
    )
    assert (
        f"{root / 'tasks.csv'}:2 [clip_x]: a 'abx' task needs clip_x" in result.stderr
    )


def test_flags_clipped_silent_and_truncated_audio(make_project: MakeProject) -> None:
    root = make_project([HEADER, GOOD])
    rate = 44100
    t = np.arange(rate * 3) / rate
    loud = np.clip(1.6 * np.sin(2 * np.pi * 220 * t), -1, 1).astype(np.float32)
    sf.write(root / "audio" / "clipped.wav", loud, rate, subtype="PCM_16")
    sf.write(root / "audio" / "silent.wav", np.zeros(rate * 2, np.float32), rate)
    sf.write(root / "audio" / "whole.flac", 0.3 * np.sin(2 * np.pi * 330 * t), rate)
    whole = (root / "audio" / "whole.flac").read_bytes()
    (root / "audio" / "cut.flac").write_bytes(whole[: len(whole) // 2])
    rows = [
        HEADER,
        "t1,ab,Rock,audio/clipped.wav,m1,audio/silent.wav,m2",
        "t2,caption,Describe,audio/cut.flac,m1,,",
    ]
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    warnings = [str(w) for w in load_project(root, progress=False).warnings]
    manifest = root / "tasks.csv"
    assert any(
        w.startswith(f"{manifest}:2 [clipped]: audio/clipped.wav") for w in warnings
    )
    assert any(
        w.startswith(f"{manifest}:2 [silent]: audio/silent.wav") for w in warnings
    )
    assert any(
        w.startswith(f"{manifest}:3 [truncated]: audio/cut.flac") for w in warnings
    )


def test_repeated_and_semicolon_headers_are_explained(
    make_project: MakeProject,
) -> None:
    root = make_project([HEADER + ",clip_a", GOOD + ",audio/madness-riff.ogg"])
    assert problems_of(root) == [
        f"{root / 'tasks.csv'}:1: column(s) clip_a appear more than once; keep one"
    ]
    root = make_project([HEADER.replace(",", ";"), GOOD.replace(",", ";")], name="semi")
    [found] = problems_of(root)
    assert "save it comma-separated" in found


def test_audio_with_nothing_to_decode_is_an_error(make_project: MakeProject) -> None:
    root = make_project([HEADER, GOOD])
    whole = (root / "audio" / "madness-riff.ogg").read_bytes()
    (root / "audio" / "madness-riff.ogg").write_bytes(whole[:6000])
    [found] = problems_of(root)
    assert found.startswith(f"{root / 'tasks.csv'}:2 [clip_b]: audio file")


def test_config_messages_speak_toml(make_project: MakeProject) -> None:
    config = '[project]\nid = "p"\ncolour = "red"\n\n[[raters]]\nid = "r1"\n'
    [found] = problems_of(make_project(config=config))
    assert found.endswith(
        "[project.colour]: unknown key; check its spelling against "
        "the README's config table"
    )
