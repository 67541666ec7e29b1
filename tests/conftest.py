"""Shared fixtures: real projects built into temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.build import BuildResult, build

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "pilot"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def pilot_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example project built once per session; treat it as read-only."""
    out = tmp_path_factory.mktemp("pilot-build")
    return build(EXAMPLE, out, progress=False)


@pytest.fixture
def pilot_copy(tmp_path: Path) -> Path:
    """A writable copy of the example project (config, manifest, audio)."""
    target = tmp_path / "pilot"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("submissions"))
    return target


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a small project: ``make_project(rows, config=..., clips={...})``.

    ``rows`` are manifest lines (header included) written as UTF-8 unless ``raw``
    bytes are given; clips default to two real example excerpts under ``audio/``.
    """

    def make(
        rows: list[str] | None = None,
        *,
        config: str | None = None,
        raw: bytes | None = None,
        name: str = "project",
    ) -> Path:
        root = tmp_path / name
        (root / "audio").mkdir(parents=True, exist_ok=True)
        for clip in ("chaosland-riff.ogg", "madness-riff.ogg", "feelings-build.ogg"):
            shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
        (root / "earmark.toml").write_text(
            config
            or '[project]\nid = "t"\n\n[[raters]]\nid = "r1"\n\n[[raters]]\nid = "r2"\n',
            "utf-8",
        )
        if raw is None:
            rows = rows or [
                "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
                "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
                "t2,caption,Describe,audio/feelings-build.ogg,m1,,",
            ]
            raw = ("\n".join(rows) + "\n").encode("utf-8")
        (root / "tasks.csv").write_bytes(raw)
        return root

    return make
