"""Probe clips with soundfile: what they are, how long they really last, what is wrong.

One streaming decode per distinct file gives the true length (headers lie: MP3 frame
counts are estimates, a truncated FLAC reports its full length), the peak level,
clipping, silence and waveform peaks, without ever holding the whole clip in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

BLOCK_FRAMES = 65_536
# A reported length is never trusted for allocation: one broken MP3 claims 3.8e14 s.
MAX_SECONDS = 4 * 60 * 60
PEAK_BINS = 1_000
PEAK_CHUNK = 4_096  # frames per raw peak value before rebinning to PEAK_BINS
CLIPPED_LEVEL = 0.999
# Lossy decoders overshoot full scale on a few samples of healthy masters; flag
# clipping only when at least this share of samples sits at full scale.
CLIPPED_SHARE = 1e-4
HASH_CHUNK = 1 << 20

EXTENSIONS = {
    "WAV": "wav",
    "WAVEX": "wav",
    "RF64": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "AIFF": "aiff",
}

# What each browser family is known to refuse; the page still detects it at run time.
_BROWSER_NOTES = {
    ("OGG", "VORBIS"): "Safari before version 17 cannot play Ogg Vorbis",
    ("OGG", "OPUS"): "Safari before version 18.4 cannot play Ogg Opus",
    ("WAV", "FLOAT"): "some Safari versions refuse 32-bit float WAV",
    ("WAVEX", "FLOAT"): "some Safari versions refuse 32-bit float WAV",
    ("AIFF", None): "Chromium and Firefox cannot play AIFF; convert to WAV or FLAC",
}


@dataclass(frozen=True)
class Flag:
    """Something about a clip the ops team should know; errors stop a build."""

    code: str
    severity: str  # "warning" or "error"
    message: str


@dataclass
class ClipInfo:
    """Everything the build learns about one audio file."""

    sha256: str
    size_bytes: int
    format: str
    subtype: str
    samplerate: int
    channels: int
    frames: int
    header_frames: int
    duration: float
    peak_dbfs: float
    clipped_samples: int
    extension: str
    peaks: list[float] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("peaks")
        return data


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _dbfs(level: float) -> float:
    return round(float(20 * np.log10(level)), 2) if level > 0 else -200.0


def probe(path: Path, silence_dbfs: float = -60.0) -> ClipInfo:
    """Decode ``path`` once and describe it; raise if soundfile cannot open it."""
    info = sf.info(str(path))
    limit = MAX_SECONDS * info.samplerate
    flags: list[Flag] = []
    block_peaks: list[float] = []
    frames = clipped = 0
    peak = 0.0
    error: str | None = None
    with sf.SoundFile(str(path)) as handle:
        try:
            while frames < limit:
                block = handle.read(
                    min(BLOCK_FRAMES, limit - frames), dtype="float32", always_2d=True
                )
                if not len(block):
                    break
                frames += len(block)
                chunk_peaks = _chunk_peaks(block)
                block_peaks.extend(chunk_peaks.tolist())
                block_peak = float(chunk_peaks.max())
                peak = max(peak, block_peak)
                # Counting full-scale samples costs a pass; only pay it when needed.
                if block_peak >= CLIPPED_LEVEL:
                    clipped += int(np.count_nonzero(np.abs(block) >= CLIPPED_LEVEL))
        except (sf.LibsndfileError, RuntimeError) as exc:
            error = str(exc)

    duration = frames / info.samplerate if info.samplerate else 0.0
    if error is not None:
        flags.append(
            Flag(
                "truncated",
                "error",
                f"decoding stopped after {duration:.2f} s: {error}",
            )
        )
    elif info.frames > 0 and frames < info.frames * 0.99 and info.format != "MP3":
        flags.append(
            Flag(
                "truncated",
                "error",
                f"header says {info.frames / info.samplerate:.2f} s but only "
                f"{duration:.2f} s decode",
            )
        )
    if frames >= limit:
        flags.append(
            Flag(
                "too_long",
                "warning",
                f"longer than {MAX_SECONDS // 3600} h; only that much was read",
            )
        )
    if frames == 0:
        flags.append(Flag("empty", "error", "no audio frames decode"))
    elif _dbfs(peak) <= silence_dbfs:
        flags.append(
            Flag("silent", "warning", f"peak is {_dbfs(peak)} dBFS: the clip is silent")
        )
    share = clipped / max(frames * info.channels, 1)
    if share >= CLIPPED_SHARE:
        flags.append(
            Flag(
                "clipped",
                "warning",
                f"{clipped} samples at full scale ({share:.3%}): likely clipping",
            )
        )
    note = _BROWSER_NOTES.get((info.format, info.subtype)) or _BROWSER_NOTES.get(
        (info.format, None)
    )
    if note:
        severity = "error" if info.format == "AIFF" else "warning"
        flags.append(Flag("browser_support", severity, note))
    extension = EXTENSIONS.get(info.format)
    if extension is None:
        flags.append(
            Flag(
                "format",
                "error",
                f"browsers cannot play {info.format_info}; use WAV, FLAC, Ogg or MP3",
            )
        )
        extension = path.suffix.lstrip(".").lower() or "bin"

    return ClipInfo(
        sha256=file_sha256(path),
        size_bytes=path.stat().st_size,
        format=info.format,
        subtype=info.subtype,
        samplerate=info.samplerate,
        channels=info.channels,
        frames=frames,
        header_frames=int(min(info.frames, 2**53)),
        duration=round(duration, 4),
        peak_dbfs=_dbfs(peak),
        clipped_samples=clipped,
        extension=extension,
        peaks=_rebin(block_peaks, PEAK_BINS),
        flags=flags,
    )


def _chunk_peaks(block: np.ndarray) -> np.ndarray:
    """Return the peak magnitude of each PEAK_CHUNK frames of a (frames, ch) block."""
    whole = len(block) // PEAK_CHUNK * PEAK_CHUNK
    parts = []
    if whole:
        grid = block[:whole].reshape(whole // PEAK_CHUNK, -1)
        parts.append(np.maximum(grid.max(axis=1), -grid.min(axis=1)))
    if whole < len(block):
        rest = block[whole:]
        parts.append(np.array([max(rest.max(), -rest.min())], dtype=np.float32))
    return np.concatenate(parts)


def _rebin(values: list[float], bins: int) -> list[float]:
    """Reduce per-chunk peaks to at most ``bins`` maxima, rounded for embedding."""
    if not values:
        return []
    array = np.asarray(values, dtype=np.float32)
    if len(array) > bins:
        array = np.array([part.max() for part in np.array_split(array, bins)])
    return [round(float(v), 3) for v in array]
