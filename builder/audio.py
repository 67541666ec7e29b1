"""Probe clips with soundfile: what they are, how long they really last, what is wrong.

One streaming decode per distinct file gives the true length (headers lie: MP3 frame
counts are estimates, a truncated FLAC reports its full length), the peak level,
clipping, silence, integrated loudness and waveform peaks, without ever holding the
whole clip in memory. The same block-by-block reading writes browser-safe 16-bit
copies when a build transcodes.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from builder.loudness import LoudnessMeter

BLOCK_FRAMES = 65_536
SALVAGE_FRAMES = 4_096  # read size after a failed read, to keep what decodes
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
    ("WAV", "PCM_24"): "some browsers refuse WAV other than 8/16-bit PCM",
    ("WAVEX", "PCM_24"): "some browsers refuse WAV other than 8/16-bit PCM",
    ("WAV", "PCM_32"): "some browsers refuse WAV other than 8/16-bit PCM",
    ("WAVEX", "PCM_32"): "some browsers refuse WAV other than 8/16-bit PCM",
    ("AIFF", None): "Chromium and Firefox cannot play AIFF; convert to WAV or FLAC",
}
# Bits per sample of uncompressed and lossless subtypes; lossy ones have none.
BIT_DEPTHS = {
    "PCM_S8": 8,
    "PCM_U8": 8,
    "PCM_16": 16,
    "PCM_24": 24,
    "PCM_32": 32,
    "FLOAT": 32,
    "DOUBLE": 64,
}
# What a transcoding build writes: 16-bit PCM plays in every browser.
TRANSCODE_FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}
PCM16_SCALE = 32768.0


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
    bit_depth: int | None = None
    loudness_lufs: float | None = None
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


@dataclass
class _Scan:
    """What one streaming pass over a file found."""

    meter: LoudnessMeter
    frames: int = 0
    peak: float = 0.0
    clipped: int = 0
    peaks: list[float] = field(default_factory=list)
    error: str | None = None


def _scan(path: Path, info: Any, size: int) -> _Scan:
    """Decode ``path`` in reads of ``size`` frames, up to MAX_SECONDS."""
    scan = _Scan(LoudnessMeter(info.samplerate, info.channels))
    limit = MAX_SECONDS * info.samplerate
    with sf.SoundFile(str(path)) as handle:
        while scan.frames < limit:
            try:
                block = handle.read(
                    min(size, limit - scan.frames), dtype="float32", always_2d=True
                )
            except (sf.LibsndfileError, RuntimeError) as exc:
                scan.error = str(exc)
                break
            if not len(block):
                break
            scan.frames += len(block)
            scan.meter.add(block)
            chunk_peaks = _chunk_peaks(block)
            scan.peaks.extend(chunk_peaks.tolist())
            block_peak = float(chunk_peaks.max())
            scan.peak = max(scan.peak, block_peak)
            # Counting full-scale samples costs a pass; only pay it when needed.
            if block_peak >= CLIPPED_LEVEL:
                scan.clipped += int(np.count_nonzero(np.abs(block) >= CLIPPED_LEVEL))
    return scan


def probe(path: Path, silence_dbfs: float = -60.0) -> ClipInfo:
    """Decode ``path`` once and describe it; raise if soundfile cannot open it."""
    info = sf.info(str(path))
    limit = MAX_SECONDS * info.samplerate
    flags: list[Flag] = []
    scan = _scan(path, info, BLOCK_FRAMES)
    if scan.error is not None:
        # A damaged file fails a whole read (and cannot seek back): decode it
        # again in small reads to keep everything before the damage.
        scan = _scan(path, info, SALVAGE_FRAMES)
    frames, peak, clipped, error = scan.frames, scan.peak, scan.clipped, scan.error
    block_peaks, meter = scan.peaks, scan.meter

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
        bit_depth=BIT_DEPTHS.get(info.subtype),
        loudness_lufs=_rounded(meter.lufs()),
        peaks=_rebin(block_peaks, PEAK_BINS),
        flags=flags,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(value, 2)


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


def to_pcm16(block: np.ndarray, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Scale a float block by ``gain`` and quantise it to int16 with TPDF dither.

    Dither keeps the quantisation noise uncorrelated with the music, and makes two
    copies of the same audio differ in their bytes (see ``write_trial_files``).
    """
    noise = rng.random(block.shape) - rng.random(block.shape)
    scaled = block.astype(np.float64) * (gain * PCM16_SCALE) + noise
    return np.clip(np.rint(scaled), -PCM16_SCALE, PCM16_SCALE - 1).astype(np.int16)


def transcode(source: Path, target: Path, kind: str, seed: int) -> None:
    """Write ``source`` as 16-bit ``kind`` ("wav" or "flac"), block by block."""
    container, subtype = TRANSCODE_FORMATS[kind]
    info = sf.info(str(source))
    limit = MAX_SECONDS * info.samplerate
    rng = np.random.default_rng(seed)
    frames = 0
    with (
        sf.SoundFile(str(source)) as reader,
        sf.SoundFile(
            str(target),
            "w",
            samplerate=info.samplerate,
            channels=info.channels,
            format=container,
            subtype=subtype,
        ) as writer,
    ):
        while frames < limit:
            block = reader.read(
                min(BLOCK_FRAMES, limit - frames), dtype="float32", always_2d=True
            )
            if not len(block):
                break
            frames += len(block)
            writer.write(to_pcm16(block, 1.0, rng))


@dataclass(frozen=True)
class TrialFile:
    """One file of an identify trial: which slot's audio, at what gain."""

    path: Path
    slot: str
    gain_db: float
    seed: int


def _fit(block: np.ndarray, frames: int, channels: int) -> np.ndarray:
    """Pad a short read with silence and spread mono over ``channels``."""
    if len(block) < frames:
        block = np.concatenate(
            [block, np.zeros((frames - len(block), block.shape[1]), np.float32)]
        )
    if block.shape[1] != channels:
        block = np.repeat(block[:, :1], channels, axis=1)
    return block


def write_trial_files(
    sources: dict[str, Path], frames: int, channels: int, files: list[TrialFile]
) -> list[float]:
    """Write identify-trial files: 16-bit WAV, all ``frames`` long, block by block.

    Every file of a trial has the same length, format, header and size, and its own
    dither, so X and the clip it copies are sample-for-sample the same music but
    differ in their bytes. Returns waveform peaks shared by every file (the louder
    of the slots in each bin), so no waveform tells X apart either.
    """
    rate = sf.info(str(next(iter(sources.values())))).samplerate
    rngs = [np.random.default_rng(f.seed) for f in files]
    gains = {f.slot: 10 ** (f.gain_db / 20) for f in files}
    chunk_peaks: list[float] = []
    with contextlib.ExitStack() as stack:
        readers = {
            slot: stack.enter_context(sf.SoundFile(str(path)))
            for slot, path in sources.items()
        }
        writers = [
            stack.enter_context(
                sf.SoundFile(
                    str(f.path),
                    "w",
                    samplerate=rate,
                    channels=channels,
                    format="WAV",
                    subtype="PCM_16",
                )
            )
            for f in files
        ]
        done = 0
        while done < frames:
            count = min(BLOCK_FRAMES, frames - done)
            blocks = {
                slot: _fit(
                    reader.read(count, dtype="float32", always_2d=True),
                    count,
                    channels,
                )
                for slot, reader in readers.items()
            }
            peaks = [_chunk_peaks(b) * gains.get(s, 1.0) for s, b in blocks.items()]
            chunk_peaks.extend(np.maximum.reduce(peaks).tolist())
            for item, writer, rng in zip(files, writers, rngs, strict=True):
                writer.write(to_pcm16(blocks[item.slot], gains[item.slot], rng))
            done += count
    return _rebin(chunk_peaks, PEAK_BINS)
