"""The build writes self-contained, blinded bundles and an ops-only record."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from builder.build import BuildResult, build
from builder.render import embed_json
from tests.conftest import EXAMPLE, MakeProject


def bundle_files(result: BuildResult) -> list[Path]:
    return [p for p in (result.out / "bundles").rglob("*") if p.is_file()]


def test_layout_one_bundle_and_zip_per_rater(pilot_build: BuildResult) -> None:
    record = pilot_build.record
    for rater_id, rater in record["raters"].items():
        bundle = pilot_build.out / "bundles" / rater_id
        assert (bundle / "index.html").is_file()
        pages = sorted(p.name for p in bundle.glob("task-*.html"))
        assert pages == sorted(t["page"] for t in rater["tasks"].values())
        with zipfile.ZipFile(pilot_build.out / "zips" / f"{rater_id}.zip") as archive:
            names = {n.split("/", 1)[1] for n in archive.namelist()}
        on_disk = {
            p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()
        }
        assert names == on_disk
    assert (pilot_build.out / "build-record.json").is_file()
    assert (
        "Built 6 tasks for 3 raters"
        in (pilot_build.out / "build-report.txt").read_text()
    )


def test_audio_names_are_content_hashes(pilot_build: BuildResult) -> None:
    for path in (pilot_build.out / "bundles").rglob("audio/*"):
        assert re.fullmatch(r"[0-9a-f]{16}\.ogg", path.name)
        clip = pilot_build.record["clips"][path.stem]
        assert clip["size_bytes"] == path.stat().st_size


def test_no_model_or_source_name_in_any_bundle_byte(pilot_build: BuildResult) -> None:
    record = pilot_build.record
    secrets = {
        c["model"] for t in record["tasks"].values() for c in t["clips"].values()
    }
    for clip in record["clips"].values():
        secrets.add(Path(clip["source"]).name)
        secrets.add(Path(clip["source"]).stem)
    assert secrets >= {"riffgen-2.1", "riffgen-2.2", "studio-master", "madness-riff"}
    files = bundle_files(pilot_build)
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode("utf-8") not in data, (secret, path)


def test_each_rater_gets_raters_per_task_and_balanced_load(
    pilot_build: BuildResult,
) -> None:
    raters = pilot_build.record["raters"]
    seen: dict[str, int] = {}
    for rater in raters.values():
        for task_id in rater["tasks"]:
            seen[task_id] = seen.get(task_id, 0) + 1
    assert set(seen.values()) == {2}
    assert sorted(len(r["tasks"]) for r in raters.values()) == [4, 4, 4]


def test_build_id_is_stable_and_changes_with_inputs(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project()
    first = build(root, tmp_path / "a", progress=False)
    again = build(root, tmp_path / "b", progress=False)
    assert first.build_id == again.build_id
    manifest = root / "tasks.csv"
    manifest.write_text(manifest.read_text().replace("Rock", "Jazz"), "utf-8")
    changed = build(root, tmp_path / "c", progress=False)
    assert changed.build_id != first.build_id
    old = first.record["raters"]["r1"]["bundle_id"]
    assert changed.record["raters"]["r1"]["bundle_id"] != old


def test_rebuild_keeps_other_files_in_out(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project()
    out = tmp_path / "out"
    build(root, out, progress=False)
    (out / "tracker.xlsx").write_bytes(b"lead work")
    build(root, out, progress=False)
    assert (out / "tracker.xlsx").read_bytes() == b"lead work"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_embed_json_round_trips_and_cannot_close_a_script() -> None:
    hostile = {
        "prompt": "</script><script>alert(1)</script>",
        "note": "<!-- a\u2028b\u2029c & d >",
    }
    text = embed_json(hostile)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == hostile


def test_hostile_prompt_is_inert_in_the_page(
    make_project: MakeProject, tmp_path: Path
) -> None:
    prompt = '"</script><script>alert(1)</script><!-- x"'
    root = make_project(
        [
            "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
            f"t1,ab,{prompt},audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
        ]
    )
    result = build(root, tmp_path / "out", progress=False)
    html = (result.out / "bundles" / "r1" / "task-001.html").read_text("utf-8")
    assert "<script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html or "\\u003c/script" in html


def test_example_project_is_valid_and_licensed() -> None:
    assert (EXAMPLE / "audio" / "COPYRIGHT-sectoid.txt").is_file()
    text = (EXAMPLE / "audio" / "COPYRIGHT-sectoid.txt").read_text()
    assert "Permission is hereby granted" in text
