"""Cold build of 200 tasks over full-length real songs, against a floor.

The floor is the least any build must do: decode each distinct clip once and copy
its bytes once. Both run in this process, on the same files, one after the other;
the page cache is warmed first for both so neither pays for the other's disk reads.

    python benchmarks/bench_build.py [--shared ../shared] [--tasks 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import soundfile as sf

from builder.build import build

REPO = Path(__file__).resolve().parents[1]
BLOCK = 65_536


def songs(shared: Path) -> list[Path]:
    audio = shared / "real-audio"
    return sorted(audio.glob("sectoid/*/*.ogg")) + sorted(audio.glob("pushover/*.ogg"))


def make_project(root: Path, tracks: list[Path], count: int) -> None:
    """Write a project with ``count`` tasks (ab, abx, caption) over ``tracks``."""
    (root / "audio").mkdir(parents=True)
    names = []
    for i, track in enumerate(tracks):
        name = f"audio/{i:02d}-{track.parent.name}-{track.stem}.ogg"
        shutil.copyfile(track, root / name)
        names.append(name)
    raters = "\n".join(f'[[raters]]\nid = "r{i}"\n' for i in range(1, 4))
    (root / "earmark.toml").write_text(
        f'[project]\nid = "bench"\n\n{raters}\n[assignment]\nraters_per_task = 2\n'
    )
    rng = random.Random(7)
    rows = ["task_id,kind,prompt,clip_a,model_a,clip_b,model_b,clip_x,model_x"]
    for n in range(count):
        a, b, x = rng.sample(names, 3)
        kind = ("ab", "ab", "abx", "caption")[n % 4]
        if kind == "ab":
            rows.append(f"t{n:03d},ab,Prompt {n},{a},m1,{b},m2,,")
        elif kind == "abx":
            rows.append(f"t{n:03d},abx,Prompt {n},{a},m1,{b},m2,{x},ref")
        else:
            rows.append(f"t{n:03d},caption,Describe {n},{a},m1,,,,")
    (root / "tasks.csv").write_text("\n".join(rows) + "\n")


def floor(tracks: list[Path], target: Path) -> float:
    """Decode every distinct clip once and copy its bytes once; return seconds."""
    started = time.perf_counter()
    target.mkdir()
    for track in tracks:
        with sf.SoundFile(str(track)) as handle:
            while len(handle.read(BLOCK, dtype="float32")):
                pass
        shutil.copyfile(track, target / f"{track.parent.name}-{track.name}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    tracks = songs(args.shared)
    if not tracks:
        raise SystemExit(f"no songs under {args.shared / 'real-audio'}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_project(work / "project", tracks, args.tasks)
        for track in tracks:  # warm the page cache for both contenders
            track.read_bytes()
        floor_s = floor(tracks, work / "floor")
        started = time.perf_counter()
        result = build(work / "project", work / "out", progress=False)
        build_s = time.perf_counter() - started
    total = sum(sf.info(str(t)).duration for t in tracks)
    pages = sum(len(r["tasks"]) for r in result.record["raters"].values())
    print(f"clips: {len(tracks)} distinct, {total / 60:.1f} min of audio")
    print(f"tasks: {args.tasks}, pages: {pages}, raters: 3")
    print(f"floor (decode once + copy once, 1 process): {floor_s:.2f} s")
    print(f"earmark build (cold, 2 processes):          {build_s:.2f} s")
    print(f"ratio build / floor: {build_s / floor_s:.2f}")
    # The floor is single-process; its ideal split over the build's 2 processes:
    print(f"ratio build / (floor / 2): {build_s / (floor_s / 2):.2f}")


if __name__ == "__main__":
    main()
