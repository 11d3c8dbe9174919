"""What a listener hears as a defect where two pieces of audio meet, measured:
a step in loudness or timbre at the join, the whole line louder or softer,
hiss in the pauses, less natural speech (DNSMOS). Distance from one pass
measures difference; these measure the defects (issue 27's judges).

pyloudnorm (ITU-R BS.1770) and speechmos (Microsoft's DNSMOS, its ONNX
weights inside the wheel) are test extras, never run-time dependencies.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from kokoro_pipe import SAMPLE_RATE as RATE

SIDE = 0.020  # seconds each side of a join
FLOOR_FRAME = 0.020
FLOOR_QUANTILE = 10  # percent: the quietest frames inside the speech are its pauses
SPEECH = -40.0  # dBFS: frames this loud begin and end the speech


def level(x: np.ndarray) -> float:
    """RMS in dBFS."""
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12)


def centroid(x: np.ndarray, rate: int = RATE) -> float:
    """Spectral centroid in Hz of a Hann-windowed stretch."""
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float((power * freqs).sum() / (power.sum() + 1e-20))


def steps(audio: np.ndarray, a: int, b: int, rate: int = RATE) -> tuple[float, float, float]:
    """(loudness in dB, centroid in octaves) of the SIDE seconds from `b` less
    those up to `a`: what changes at once where two pieces meet (a == b), or
    across the silence put between them; and the quieter side's dBFS: a step
    into or out of silence is a word's end or start, heard as a step in the
    voice only where both sides are sound."""
    n = round(SIDE * rate)
    before, after = audio[max(0, a - n):a], audio[b:b + n]
    if len(before) < n // 2 or len(after) < n // 2:
        return 0.0, 0.0, -120.0
    return (level(after) - level(before),
            float(np.log2((centroid(after, rate) + 1) / (centroid(before, rate) + 1))),
            min(level(before), level(after)))


def lufs(audio: np.ndarray, rate: int = RATE) -> float:
    """Integrated loudness (BS.1770), the whole line; padded to the meter's 0.4 s block."""
    import pyloudnorm

    padded = np.concatenate([audio, np.zeros(max(0, round(0.4 * rate) - len(audio)))])
    return float(pyloudnorm.Meter(rate).integrated_loudness(padded.astype(np.float64)))


def frame_levels(audio: np.ndarray, rate: int = RATE, n: int | None = None) -> np.ndarray:
    """dBFS of each frame of `n` samples (FLOOR_FRAME's if None)."""
    n = n or round(FLOOR_FRAME * rate)
    frames = audio[:len(audio) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-12)


def noise_floor(audio: np.ndarray, rate: int = RATE) -> float:
    """dBFS of the quietest tenth of the 20 ms frames between the first and the
    last loud one: the pauses between words, where hiss would be heard."""
    levels = frame_levels(audio, rate)
    loud = np.flatnonzero(levels > SPEECH)
    if not len(loud):
        return float(np.percentile(levels, FLOOR_QUANTILE))
    return float(np.percentile(levels[loud[0]:loud[-1] + 1], FLOOR_QUANTILE))


def pause(audio: np.ndarray, at: int, radius: float = 0.2, rate: int = RATE) -> float:
    """Seconds of the longest silence (5 ms frames under SPEECH) within
    `radius` seconds of the sample `at`: the pause a listener hears there."""
    n = round(0.005 * rate)
    lo = max(0, at - round(radius * rate))
    stretch = audio[lo:at + round(radius * rate)]
    quiet = frame_levels(stretch, rate, n) < SPEECH
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * n / rate


@cache
def _dnsmos():
    from speechmos import dnsmos

    return dnsmos


def dnsmos(audio: np.ndarray, rate: int = RATE) -> float:
    """DNSMOS P.835's overall quality (1-5) of the line, at its 16 kHz."""
    from scipy.signal import resample_poly

    at16 = resample_poly(audio.astype(np.float64), 2, 3)
    at16 = np.clip(at16, -1.0, 1.0)
    return float(_dnsmos().run(at16, 16000)["ovrl_mos"])
