"""Cut the example project's short excerpts from the MIT-licensed Sectoid songs.

Run from the repository root with ../shared beside it; the excerpts are committed,
so this only needs re-running to change them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(__file__).resolve().parents[2] / "shared" / "real-audio" / "sectoid"
OUT = Path(__file__).resolve().parents[1] / "examples" / "pilot" / "audio"
FADE_SECONDS = 0.5

# (output name, song folder, stem, start s, length s)
EXCERPTS = [
    ("chaosland-opening.ogg", "escape-from-chaosland", "song", 0.0, 18.0),
    ("chaosland-riff.ogg", "escape-from-chaosland", "song", 60.0, 18.0),
    ("madness-riff.ogg", "metal-madness", "song", 20.0, 18.0),
    ("madness-guitar.ogg", "metal-madness", "guitar", 20.0, 18.0),
    ("freedom-theme.ogg", "war-of-freedom", "song", 30.0, 18.0),
    ("freedom-bridge.ogg", "war-of-freedom", "song", 100.0, 18.0),
    ("feelings-intro.ogg", "feelings", "song", 0.0, 18.0),
    ("feelings-build.ogg", "feelings", "song", 95.0, 40.0),
    ("freedom-long.ogg", "war-of-freedom", "song", 10.0, 40.0),
]


def cut(song: str, stem: str, start: float, length: float, target: Path) -> None:
    with sf.SoundFile(SHARED / song / f"{stem}.ogg") as source:
        rate = source.samplerate
        source.seek(int(start * rate))
        audio = source.read(int(length * rate), dtype="float32")
    fade = int(FADE_SECONDS * rate)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)[:, None]
    audio[:fade] *= ramp
    audio[-fade:] *= ramp[::-1]
    sf.write(target, audio, rate, format="OGG", subtype="VORBIS")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, song, stem, start, length in EXCERPTS:
        cut(song, stem, start, length, OUT / name)
        print(f"{name}: {length:.0f} s of {song}/{stem} from {start:.0f} s")


if __name__ == "__main__":
    main()
