"""Integrated loudness (ITU-R BS.1770-4), measured block by block while decoding.

pyloudnorm measures a whole array at once; a four-hour clip must never be held in
memory, so this keeps pyloudnorm's K-weighting filters (with their state carried from
block to block) and its gating, and stores only one sum of squares per channel for
every 100 ms of audio.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm
import scipy.signal

# BS.1770-4: 400 ms gating blocks overlapping by 75%, so every block is four
# consecutive 100 ms steps.
BLOCK_SECONDS = 0.4
STEPS_PER_BLOCK = 4
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
# Channel weights for L, R, C, Ls, Rs; pyloudnorm measures up to five channels.
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)


class LoudnessMeter:
    """Feed float blocks of shape (frames, channels); read ``lufs()`` at the end."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        self.usable = 0 < channels <= len(CHANNEL_WEIGHTS) and rate > 0
        meter = pyloudnorm.Meter(rate)
        # pyloudnorm's K-weighting stages (shelf, high-pass) as second-order sections:
        # one pass in float32 costs about half of two float64 lfilter passes, and
        # stays within 0.01 LU of pyloudnorm (tests/test_audio.py).
        self._sos = np.vstack(
            [
                np.concatenate([stage.b * stage.passband_gain, stage.a])
                for stage in meter._filters.values()
            ]
        ).astype(np.float32)
        self._state = np.zeros((len(self._sos), 2, max(channels, 1)), np.float32)
        self._frames = 0
        self._partial = np.zeros(max(channels, 1))
        self._steps: list[np.ndarray] = []

    def _boundary(self, step: int) -> int:
        # The same sample index pyloudnorm's block loop computes for block ``step``.
        return int(BLOCK_SECONDS * (step / STEPS_PER_BLOCK) * self.rate)

    def add(self, block: np.ndarray) -> None:
        """Weight ``block`` and add its energy to the 100 ms steps it covers."""
        if not self.usable or not len(block):
            return
        data, self._state = scipy.signal.sosfilt(
            self._sos, block.astype(np.float32, copy=False), axis=0, zi=self._state
        )
        start, end = self._frames, self._frames + len(block)
        cuts: list[int] = []  # where 100 ms steps end inside this block, as offsets
        while (boundary := self._boundary(len(self._steps) + len(cuts) + 1)) <= end:
            cuts.append(boundary - start)
        points = [0, *(cut for cut in cuts if cut < len(block))]
        # Sums of at most 100 ms in float32 lose under 0.001 dB; steps add in float64.
        sums = np.add.reduceat(data * data, points, axis=0).astype(np.float64)
        for index, part in enumerate(sums):
            self._partial = self._partial + part
            if index < len(cuts):
                self._steps.append(self._partial)
                self._partial = np.zeros(self.channels)
        self._frames = end

    def lufs(self) -> float | None:
        """The gated loudness in LUFS; None when too short, silent or unmeasurable."""
        if not self.usable:
            return None
        seconds = self._frames / self.rate
        if seconds < BLOCK_SECONDS:
            return None
        steps = [*self._steps, self._partial]
        count = int(np.round((seconds - BLOCK_SECONDS) / (BLOCK_SECONDS / 4))) + 1
        needed = count + STEPS_PER_BLOCK - 1
        steps += [np.zeros(self.channels)] * max(0, needed - len(steps))
        grid = np.array(steps[:needed])  # (steps, channels)
        windows = np.lib.stride_tricks.sliding_window_view(
            grid, STEPS_PER_BLOCK, axis=0
        ).sum(axis=-1)  # (blocks, channels)
        power = windows / (BLOCK_SECONDS * self.rate)
        weights = np.array(CHANNEL_WEIGHTS[: self.channels])
        with np.errstate(divide="ignore"):
            blocks = -0.691 + 10 * np.log10(power @ weights)
        above = blocks >= ABSOLUTE_GATE
        if not above.any():
            return None
        relative = (
            -0.691 + 10 * np.log10(power[above].mean(axis=0) @ weights) + RELATIVE_GATE
        )
        kept = (blocks > relative) & (blocks > ABSOLUTE_GATE)
        if not kept.any():
            return None
        return float(-0.691 + 10 * np.log10(power[kept].mean(axis=0) @ weights))
