"""The build writes self-contained, blinded bundles and an ops-only record."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from builder.build import BuildResult, build
from builder.errors import ProjectInvalid
from builder.project import load_project
from builder.record import load_record
from builder.render import embed_json
from tests.conftest import EXAMPLE, MakeProject
from tests.page_helpers import config_of


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


# ---- identify trials and gold tasks: nothing in a bundle gives the answer away ----

TRIAL_HEADER = (
    "task_id,kind,prompt,clip_a,model_a,clip_b,model_b,abx_mode,gold,gold_tolerance"
)
RIFF = "audio/chaosland-riff.ogg"
MADNESS = "audio/madness-riff.ogg"
TRIAL_CONFIG = """
[project]
id = "trials"
seed = 7

[[raters]]
id = "r1"

[[raters]]
id = "r2"

[[raters]]
id = "r3"

[assignment]
raters_per_task = 3
"""


def trial_rows() -> list[str]:
    rows = [TRIAL_HEADER]
    rows += [
        f"id-{n},abx,Same?,{RIFF},model-alpha,{MADNESS},model-beta,identify,,"
        for n in range(1, 5)
    ]
    rows.append(
        "id-long,abx,Same?,audio/feelings-build.ogg,model-gamma,"
        f"{RIFF},model-alpha,identify,,"
    )
    rows.append(f"g1,ab,Gold one,{RIFF},model-alpha,{MADNESS},model-beta,,b,1")
    rows.append(f"plain,ab,Plain one,{MADNESS},model-beta,{RIFF},model-alpha,,,")
    return rows


@pytest.fixture(scope="module")
def trial_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    root = tmp_path_factory.mktemp("trials") / "project"
    (root / "audio").mkdir(parents=True)
    for clip in ("chaosland-riff.ogg", "madness-riff.ogg", "feelings-build.ogg"):
        shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
    (root / "earmark.toml").write_text(TRIAL_CONFIG, "utf-8")
    (root / "tasks.csv").write_text("\n".join(trial_rows()) + "\n", "utf-8")
    return build(root, root.parent / "out", progress=False)


def page_config_of(path: Path) -> dict:
    text = path.read_text("utf-8")
    start = text.index('id="earmark-config">') + len('id="earmark-config">')
    config: dict = json.loads(text[start : text.index("</script>", start)])
    return config


def test_identify_answers_live_only_in_the_record(trial_build: BuildResult) -> None:
    record = trial_build.record
    keys = []
    for rater_id, rater in record["raters"].items():
        for task_id, entry in rater["tasks"].items():
            if not task_id.startswith("id-"):
                assert "x_is" not in entry
                continue
            assert entry["x_is"] in ("A", "B")
            assert entry["labels"]["X"] == entry["labels"][entry["x_is"]]
            keys.append((rater_id, task_id, entry["x_is"], entry["labels"]["X"]))
            trial = load_record(trial_build.out)
            assert trial.identify_key(task_id, rater_id) == entry["x_is"]
            assert set(trial.clip_ids(task_id, rater_id)) == {"A", "B", "X"}
    assert len(keys) == 15
    # Balanced: each rater's answers and each task's X slot split evenly.
    for rater_id in record["raters"]:
        answers = [k[2] for k in keys if k[0] == rater_id]
        assert abs(answers.count("A") - answers.count("B")) <= 1, answers
    for task_id in {k[1] for k in keys}:
        slots = [k[3] for k in keys if k[1] == task_id]
        assert abs(slots.count("a") - slots.count("b")) <= 1, slots
    assert record["identify"]["seed"]
    # Rebuilding the same project draws the same key.
    again = build(
        Path(record["project"]["root"]),
        trial_build.out.parent / "again",
        progress=False,
    )
    assert [
        (r, t, e.get("x_is")) for r, v in again.record["raters"].items()
        for t, e in v["tasks"].items()
    ] == [
        (r, t, e.get("x_is")) for r, v in record["raters"].items()
        for t, e in v["tasks"].items()
    ]  # fmt: skip


def test_no_bundle_byte_tells_which_clip_x_is(trial_build: BuildResult) -> None:
    """F12: names, sizes, headers, bytes, config and peaks of A, B and X all agree."""
    record = trial_build.record
    sources = {c["source"] for c in record["clips"].values()}
    secrets = {record["identify"]["seed"]}
    secrets |= {
        c["model"] for t in record["tasks"].values() for c in t["clips"].values()
    }
    secrets |= {Path(s).name for s in sources} | {Path(s).stem for s in sources}
    for path in bundle_files(trial_build):
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (secret, path)
        for word in (b"gold", b"tolerance", b"baked", b"slot"):
            assert word not in data, (word, path)

    for rater_id, rater in record["raters"].items():
        folder = trial_build.out / "bundles" / rater_id
        for task_id, entry in rater["tasks"].items():
            if "x_is" not in entry:
                continue
            html = folder / entry["page"]
            config = page_config_of(html)
            clips = {c["label"]: c for c in config["clips"]}
            assert list(clips) == ["A", "B", "X"]
            # The page's clips differ only in label, id and file name.
            alike = [
                {k: v for k, v in c.items() if k not in ("label", "clip_id", "src")}
                for c in clips.values()
            ]
            assert alike[0] == alike[1] == alike[2]
            assert alike[0]["gain_db"] == 0.0 and alike[0]["peaks"]
            task_clips = record["tasks"][task_id]["clips"].values()
            originals = {c["clip_id"] for c in task_clips}
            text = html.read_text("utf-8")
            assert not [cid for cid in originals if cid in text]
            files = [folder / c["src"] for c in clips.values()]
            blobs = [f.read_bytes() for f in files]
            assert len({len(b) for b in blobs}) == 1
            assert len({b[:44] for b in blobs}) == 1  # one WAV header for all
            assert len(set(blobs)) == 3
            for a, b in ((0, 2), (1, 2)):
                same = sum(x == y for x, y in zip(blobs[a], blobs[b], strict=True))
                assert same < len(blobs[a]) * 0.9
            # Ops can check the key: X decodes to the clip it names, give or take
            # the dither; the other clip is different music.
            x, _ = sf.read(files[2], dtype="int16")
            twin, _ = sf.read(files["AB".index(entry["x_is"])], dtype="int16")
            other, _ = sf.read(files["BA".index(entry["x_is"])], dtype="int16")
            assert np.abs(x.astype(int) - twin).max() <= 3
            assert np.abs(x.astype(int) - other).max() > 1000


def test_identify_clips_are_cut_to_one_length(trial_build: BuildResult) -> None:
    record = trial_build.record
    entry = record["raters"]["r1"]["tasks"]["id-long"]
    config = page_config_of(trial_build.out / "bundles" / "r1" / entry["page"])
    assert {c["duration"] for c in config["clips"]} == {18.0}
    for cid in entry["clip_ids"].values():
        assert record["identify"]["files"][cid]["frames"] == 18 * 44100
    assert "  id-long: 18.00 s (the longer clip, 40.00 s, is cut by 22.00 s)" in (
        trial_build.report
    )


def test_gold_tasks_look_like_the_others(trial_build: BuildResult) -> None:
    record = trial_build.record
    assert record["tasks"]["g1"]["gold"] == "b"
    assert record["tasks"]["g1"]["gold_tolerance"] == 1
    assert record["tasks"]["plain"]["gold"] == ""
    loaded = load_record(trial_build.out)
    for rater_id, rater in record["raters"].items():
        folder = trial_build.out / "bundles" / rater_id
        labels = rater["tasks"]["g1"]["labels"]
        expected = next(label for label, slot in labels.items() if slot == "b")
        assert loaded.gold("g1", rater_id) == (expected, 1)
        assert loaded.gold("plain", rater_id) is None
        gold = page_config_of(folder / rater["tasks"]["g1"]["page"])
        plain = page_config_of(folder / rater["tasks"]["plain"]["page"])

        def shape(value: object) -> object:
            if isinstance(value, dict):
                return {k: shape(v) for k, v in value.items()}
            if isinstance(value, list):
                return [shape(v) for v in value]
            return type(value).__name__

        gold_shape, plain_shape = shape(gold), shape(plain)
        for config in (gold_shape, plain_shape):
            assert isinstance(config, dict)
            for key in ("task", "clips", "prev_href", "next_href"):
                config.pop(key)
        assert gold_shape == plain_shape
        assert shape(gold["task"]) == shape(plain["task"])


def test_loudness_is_matched_by_turning_the_louder_clip_down(
    trial_build: BuildResult,
) -> None:
    record = trial_build.record
    riff, madness = (
        record["clips"][cid]["loudness_lufs"]
        for cid in (
            record["tasks"]["plain"]["clips"]["b"]["clip_id"],
            record["tasks"]["plain"]["clips"]["a"]["clip_id"],
        )
    )
    assert riff == pytest.approx(-10.26, abs=0.05)
    entry = record["raters"]["r1"]["tasks"]["plain"]
    config = page_config_of(trial_build.out / "bundles" / "r1" / entry["page"])
    gains = {c["label"]: c["gain_db"] for c in config["clips"]}
    by_slot = {entry["labels"][label]: gain for label, gain in gains.items()}
    assert max(gains.values()) == 0.0
    assert by_slot["a"] - by_slot["b"] == pytest.approx(riff - madness, abs=0.011)
    assert gains == entry["gains_db"]


def test_bad_trial_and_gold_columns_are_reported(make_project: MakeProject) -> None:
    root = make_project(
        [
            TRIAL_HEADER + ",clip_x,model_x",
            f"a1,abx,P,{RIFF},m1,{MADNESS},m2,identify,,,{RIFF},m3",
            f"a2,abx,P,{RIFF},m1,{MADNESS},m2,guess,,,{RIFF},m3",
            f"a3,ab,P,{RIFF},m1,{MADNESS},m2,identify,,,,",
            f"a4,ab,P,{RIFF},m1,{MADNESS},m2,,c,,,",
            f"a5,abx,P,{RIFF},m1,{MADNESS},m2,identify,a,,,",
            f"a6,ab,P,{RIFF},m1,{MADNESS},m2,,a,x,,",
            f"a7,ab,P,{RIFF},m1,{MADNESS},m2,,,2,,",
        ]
    )
    with pytest.raises(ProjectInvalid) as caught:
        load_project(root, progress=False)
    found = sorted((p.line, p.field) for p in caught.value.problems)
    assert found == [
        (2, "clip_x"),
        (3, "abx_mode"),
        (4, "abx_mode"),
        (5, "gold"),
        (6, "gold"),
        (7, "gold_tolerance"),
        (8, "gold_tolerance"),
    ]


# ---- history: earlier builds into the same --out ------------------------------------

HISTORY_ROWS = [
    "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
    "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
    "t2,caption,Describe,audio/feelings-build.ogg,m1,,",
]
FIRST = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def test_a_rebuild_keeps_the_builds_made_before_it_in_the_same_folder(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project(HISTORY_ROWS)
    out = tmp_path / "out"
    first = build(root, out, progress=False, built_at=FIRST)
    assert first.record["history"] == []
    assert first.record["built_at"] == "2026-02-01T09:00:00+00:00"
    # The same project again: the same build, still as first built.
    again = build(root, out, progress=False, built_at=FIRST + timedelta(days=3))
    assert (again.build_id, again.record["built_at"]) == (
        first.build_id,
        FIRST.isoformat(),
    )
    assert again.record["history"] == []

    rows = [
        *HISTORY_ROWS,
        "t3,ab,Pop,audio/madness-riff.ogg,m2,audio/chaosland-riff.ogg,m1",
    ]
    rows[1] = rows[1].replace(",Rock,", ",Hard rock,")
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    later = FIRST + timedelta(days=10)
    second = build(root, out, progress=False, built_at=later)

    record = load_record(out)
    assert second.build_id != first.build_id
    assert record.built_at == later
    [entry] = record.history
    assert (entry["build_id"], entry["built_at"]) == (first.build_id, FIRST.isoformat())
    assert set(entry["raters"]) == {"r1", "r2"}
    for rater_id, rater in first.record["raters"].items():
        then = entry["raters"][rater_id]
        assert then["bundle_id"] == rater["bundle_id"]
        assert then["tasks"] == {t: e["fingerprint"] for t, e in rater["tasks"].items()}
    assert record.earlier_build(first.build_id) == entry
    assert record.earlier_build(second.build_id) is None
    t1_rater = next(r for r, v in first.record["raters"].items() if "t1" in v["tasks"])
    t2_rater = next(r for r, v in first.record["raters"].items() if "t2" in v["tasks"])
    assert record.changed_since(entry, "t1", t1_rater) == ["prompt"]
    assert record.changed_since(entry, "t2", t2_rater) == []

    # A third build keeps both earlier ones, oldest first; going back to the first
    # project state takes that build out of the history with its first time.
    (root / "tasks.csv").write_text("\n".join(HISTORY_ROWS) + "\n", "utf-8")
    back = build(root, out, progress=False, built_at=later + timedelta(days=1))
    assert back.build_id == first.build_id
    assert back.record["built_at"] == FIRST.isoformat()
    assert [h["build_id"] for h in back.record["history"]] == [second.build_id]


def test_a_fingerprint_changes_with_what_shapes_the_answers(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project(HISTORY_ROWS)
    out = tmp_path / "out"
    first = build(root, out, progress=False, built_at=FIRST)
    config = (root / "earmark.toml").read_text("utf-8")
    (root / "earmark.toml").write_text(
        config + "\n[captions]\nmin_words = 100\n\n[listening]\nmin_coverage = 0.8\n",
        "utf-8",
    )
    build(root, out, progress=False, built_at=FIRST + timedelta(days=1))

    record = load_record(out)
    entry = record.history[0]
    t1_rater = next(r for r, v in first.record["raters"].items() if "t1" in v["tasks"])
    t2_rater = next(r for r, v in first.record["raters"].items() if "t2" in v["tasks"])
    assert record.changed_since(entry, "t1", t1_rater) == ["listening rule"]
    assert record.changed_since(entry, "t2", t2_rater) == [
        "caption rules",
        "listening rule",
    ]


def test_another_projects_record_is_not_history(
    make_project: MakeProject, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    build(make_project(HISTORY_ROWS), out, progress=False, built_at=FIRST)
    other = make_project(
        HISTORY_ROWS,
        config='[project]\nid = "other"\n\n[[raters]]\nid = "r1"\n',
        name="other",
    )

    result = build(other, out, progress=False)

    assert result.record["history"] == []


def test_built_at_can_be_given_on_the_command_line(
    make_project: MakeProject, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from cli import main

    root = make_project(HISTORY_ROWS)
    out = tmp_path / "out"
    args = ["-q", "build", str(root), "--out", str(out), "--built-at"]

    done = CliRunner().invoke(main, [*args, "2026-03-01"])
    bad = CliRunner().invoke(main, [*args, "last tuesday"])

    assert done.exit_code == 0, done.output
    assert load_record(out).built_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert bad.exit_code == 2
    assert "'last tuesday' is not an ISO-8601 day or time" in bad.output


def test_reference_abx_asks_about_x_not_the_prompt(pilot_build: BuildResult) -> None:
    rater = pilot_build.record["raters"]["r01"]
    page = pilot_build.out / "bundles" / "r01" / rater["tasks"]["abx-001"]["page"]
    html = page.read_text("utf-8")
    assert "Against the reference X, which of A and B is closer or better?" in html
    ab_page = pilot_build.out / "bundles" / "r01" / rater["tasks"]["ab-001"]["page"]
    [item] = [i for i in config_of(ab_page)["rubric"] if i["type"] == "preference"]
    assert item["label"] == "Overall, which clip is better for the prompt?"
