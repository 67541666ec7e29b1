"""Loudness, bit depths and browser-safe copies: measured and written by the build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from builder.audio import probe
from builder.build import build
from builder.loudness import LoudnessMeter
from tests.conftest import EXAMPLE, REPO, SHARED, MakeProject

LOOP = SHARED / "real-audio" / "sonic-pi-loops" / "loop_amen.flac"


def streamed(data: np.ndarray, rate: int, sizes: list[int]) -> float | None:
    """Feed ``data`` to the streaming meter in blocks of the given sizes, cycling."""
    meter = LoudnessMeter(rate, data.shape[1])
    start = index = 0
    while start < len(data):
        size = sizes[index % len(sizes)]
        meter.add(data[start : start + size].astype(np.float32))
        start += size
        index += 1
    return meter.lufs()


@pytest.mark.parametrize(
    "path", [EXAMPLE / "audio" / "feelings-intro.ogg", LOOP], ids=["ogg", "flac"]
)
def test_streaming_loudness_equals_pyloudnorm(path: Path) -> None:
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    expected = pyloudnorm.Meter(rate).integrated_loudness(data.astype(np.float64))
    for sizes in ([65_536], [1_000, 7, 44_101], [len(data)]):
        assert streamed(data, rate, sizes) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("rate", [11_025, 96_000])
def test_loudness_of_mono_at_odd_and_high_rates_and_of_silence(rate: int) -> None:
    t = np.arange(rate * 3) / rate
    # A low tone stresses the 38 Hz high-pass, whose poles sit near the unit circle.
    tone = 0.25 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 30 * t)
    tone = tone[:, None]
    expected = pyloudnorm.Meter(rate).integrated_loudness(tone)
    assert streamed(tone, rate, [4_096]) == pytest.approx(expected, abs=0.01)
    assert streamed(np.zeros((rate * 2, 2)), rate, [4_096]) is None
    assert streamed(np.zeros((rate // 10, 1)), rate, [4_096]) is None


def test_probe_reports_float_and_24_bit_wav(tmp_path: Path) -> None:
    """F07: codec, bit depth, rate and duration right, browser support warned."""
    music, rate = sf.read(LOOP, dtype="float32", always_2d=True)
    float_wav = tmp_path / "float.wav"
    sf.write(float_wav, music, rate, format="WAVEX", subtype="FLOAT")
    hi_res = tmp_path / "hires.wav"
    sf.write(hi_res, np.repeat(music, 2, axis=0)[:, :1], 96_000, subtype="PCM_24")

    info = probe(float_wav)
    assert (info.format, info.subtype, info.bit_depth) == ("WAVEX", "FLOAT", 32)
    assert (info.samplerate, info.channels, info.frames) == (rate, 2, len(music))
    assert info.duration == round(len(music) / rate, 4)
    assert [f.code for f in info.flags] == ["browser_support"]
    assert info.loudness_lufs is not None

    info = probe(hi_res)
    assert (info.format, info.subtype, info.bit_depth) == ("WAV", "PCM_24", 24)
    assert (info.samplerate, info.channels) == (96_000, 1)
    assert info.duration == round(2 * len(music) / 96_000, 4)
    assert "8/16-bit PCM" in info.flags[0].message


def test_transcode_normalises_to_16_bit_pcm(
    make_project: MakeProject, tmp_path: Path
) -> None:
    """F07: a build asked to transcode bundles 16-bit copies of flagged clips."""
    root = make_project()
    music, rate = sf.read(LOOP, dtype="float32", always_2d=True)
    sf.write(root / "audio" / "float.wav", music, rate, "FLOAT", format="WAVEX")
    sf.write(root / "audio" / "plain.wav", music, rate, "PCM_16")
    rows = [
        "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
        "t1,ab,Loop,audio/float.wav,m1,audio/plain.wav,m2",
    ]
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    result = build(root, tmp_path / "out", progress=False, transcode_to="wav")
    clips = {c["source"]: c for c in result.record["clips"].values()}
    assert clips["audio/float.wav"]["transcoded"] == "16-bit wav"
    assert "transcoded" not in clips["audio/plain.wav"]
    bundled = result.out / "bundles" / "r1" / "audio" / clips["audio/float.wav"]["file"]
    info = sf.info(str(bundled))
    assert (info.format, info.subtype, info.frames) == ("WAV", "PCM_16", len(music))
    copy, _ = sf.read(bundled, dtype="float32", always_2d=True)
    assert np.abs(copy - music).max() <= 2 / 32768
    assert "bundled as 16-bit wav" in result.report


def test_cli_transcodes_ogg_and_flac_takes(
    make_project: MakeProject, tmp_path: Path
) -> None:
    """F06: take3.ogg and take3.flac: browsers named, then transcoded on request."""
    root = make_project()
    take = (EXAMPLE / "audio" / "madness-riff.ogg").read_bytes()
    (root / "audio" / "take3.ogg").write_bytes(take)
    music, rate = sf.read(root / "audio" / "take3.ogg", dtype="float32")
    sf.write(root / "audio" / "take3.flac", music[: rate * 5], rate, "PCM_24")
    rows = [
        "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
        "t1,ab,Takes,audio/take3.ogg,m1,audio/take3.flac,m2",
    ]
    (root / "tasks.csv").write_text("\n".join(rows) + "\n", "utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "cli.py", "-q", "build", str(root), "--out", str(out)]
    plain = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    assert "Safari before version 17 cannot play Ogg Vorbis" in plain.stderr
    assert "--transcode" in plain.stderr

    done = subprocess.run(
        [*command, "--transcode", "flac"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "build-record.json").read_text("utf-8"))
    files = sorted(p.suffix for p in (out / "bundles" / "r1" / "audio").iterdir())
    assert files == [".flac", ".flac"]
    subtypes = {
        clip["source"]: sf.info(str(out / "bundles/r1/audio" / clip["file"])).subtype
        for clip in record["clips"].values()
    }
    # The Ogg take is flagged and copied as 16-bit FLAC; the FLAC take plays
    # everywhere and is bundled as it is.
    assert subtypes == {"audio/take3.ogg": "PCM_16", "audio/take3.flac": "PCM_24"}
