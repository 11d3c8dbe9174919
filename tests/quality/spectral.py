"""A spectral distance between two renderings of the same speech (24 kHz float32
mono): the mean absolute difference of their log-mel spectrograms, in dB.

Sample-wise comparison is useless here (the vocoder's phase wanders with any
change upstream), while the log-mel spectrum is what a listener hears as
timbre and articulation. Numpy only."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 24000
N_FFT = 1024
HOP = 256
N_MELS = 80
F_MAX = 12000.0
FLOOR_DB = -80.0  # per band: below it is silence, so noise in quiet bands adds nothing
ACTIVE_DB = -50.0  # a frame counts when either signal's frame power (dBFS) is above this


def _mel_filters() -> np.ndarray:
    """[N_MELS, N_FFT // 2 + 1] triangular filters, HTK mel scale, 0 to F_MAX."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(0.0), mel(F_MAX), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)))


_FILTERS = _mel_filters()
_WINDOW = np.hanning(N_FFT + 1)[:-1]


def _frames(x: np.ndarray, first: int = 0, count: int | None = None) -> np.ndarray:
    """Frames `first`.. of x, frame i centred on sample i * HOP (zeros beyond the ends)."""
    x = np.pad(np.asarray(x, dtype=np.float64).ravel(), N_FFT // 2)
    total = 1 + (len(x) - N_FFT) // HOP
    count = total - first if count is None else min(count, total - first)
    if count <= 0:
        return np.zeros((0, N_FFT))
    index = (first + np.arange(count))[:, None] * HOP + np.arange(N_FFT)
    return x[index]


def _log_mel(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-mel power in dB [frames, N_MELS], floored at FLOOR_DB, and each frame's power in dBFS."""
    spectrum = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2 / _WINDOW.sum() ** 2
    mel = spectrum @ _FILTERS.T
    power = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-20))
    return 10.0 * np.log10(np.maximum(mel, 10.0 ** (FLOOR_DB / 10.0))), power


def log_mel(x: np.ndarray) -> np.ndarray:
    """The log-mel spectrogram of x in dB, [frames, N_MELS]."""
    return _log_mel(_frames(x))[0]


def _distance(fa: np.ndarray, fb: np.ndarray) -> float:
    (ma, pa), (mb, pb) = _log_mel(fa), _log_mel(fb)
    active = (pa > ACTIVE_DB) | (pb > ACTIVE_DB)
    if not active.any():
        return 0.0  # both silent: nothing to tell apart
    return float(np.mean(np.abs(ma[active] - mb[active])))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |log-mel(a) - log-mel(b)| in dB over the frames where either signal is
    above ACTIVE_DB, so leading/trailing silence doesn't dilute it. The signals
    should be the same length (sample-aligned); the longer is truncated to the shorter."""
    n = min(len(a), len(b))
    return _distance(_frames(a[:n]), _frames(b[:n]))


def distance_at(a: np.ndarray, b: np.ndarray, sample: int, radius_s: float = 0.1) -> float:
    """distance() over the frames centred within radius_s of `sample` only: to
    check a seam, where a whole-utterance mean would hide a local click or glitch."""
    n = min(len(a), len(b))
    radius = int(radius_s * SAMPLE_RATE)
    first = max(0, -(-(sample - radius) // HOP))
    last = (min(sample + radius, n)) // HOP
    count = last - first + 1
    return _distance(_frames(a[:n], first, count), _frames(b[:n], first, count))


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """distance() after aligning the frames by dynamic time warping (librosa,
    a test extra): for renderings whose timing differs (other text chunks)."""
    import librosa

    (ma, pa), (mb, pb) = _log_mel(_frames(a)), _log_mel(_frames(b))
    _, path = librosa.sequence.dtw(X=ma.T, Y=mb.T, metric="euclidean")
    i, j = path[::-1, 0], path[::-1, 1]
    active = (pa[i] > ACTIVE_DB) | (pb[j] > ACTIVE_DB)
    return float(np.mean(np.abs(ma[i][active] - mb[j][active]))) if active.any() else 0.0
