"""The listener's judges (quality/listener.py) find the defects they stand for."""

from __future__ import annotations

import numpy as np
import pytest

from quality import listener

RATE = listener.RATE
rng = np.random.default_rng(7)


def tone(hz: float, seconds: float, amplitude: float = 0.1) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_step_in_loudness_and_in_timbre_is_measured_where_pieces_meet():
    audio = np.concatenate([tone(500, 0.2, 0.1), tone(1000, 0.2, 0.2)])
    level, octaves, quieter = listener.steps(audio, 4800, 4800)
    assert level == pytest.approx(6.02, abs=0.2) and octaves == pytest.approx(1.0, abs=0.05)
    assert quieter == pytest.approx(-23.01, abs=0.1)  # a sine of 0.1: 0.1 / sqrt(2) in dBFS
    assert listener.steps(tone(500, 0.4), 4800, 4800)[:2] == pytest.approx((0.0, 0.0), abs=0.05)


def test_loudness_follows_the_level_of_the_whole_line():
    quiet, loud = listener.lufs(tone(997, 1.0, 0.1)), listener.lufs(tone(997, 1.0, 0.2))
    assert loud - quiet == pytest.approx(6.02, abs=0.05)
    assert listener.lufs(tone(997, 1.0, 1.0)) == pytest.approx(-3.01, abs=0.1)  # BS.1770's anchor


def speech_like(hiss: float = 0.0) -> np.ndarray:
    """Four 'words' of 250 ms with 100 ms pauses, and white noise throughout."""
    gap = np.zeros(round(0.1 * RATE), np.float32)
    audio = np.concatenate([piece for _ in range(4) for piece in (tone(220, 0.25, 0.3), gap)])
    return audio + hiss * rng.standard_normal(len(audio)).astype(np.float32)


def test_hiss_in_the_pauses_raises_the_noise_floor():
    clean, hissing = listener.noise_floor(speech_like()), listener.noise_floor(speech_like(0.003))
    assert clean < -90 and hissing == pytest.approx(-50.5, abs=1.0)


def test_a_pause_is_as_long_as_the_silence_a_listener_hears():
    audio = np.concatenate([tone(220, 0.3), np.zeros(round(0.12 * RATE), np.float32),
                            tone(220, 0.3)])
    assert listener.pause(audio, round(0.36 * RATE)) == pytest.approx(0.12, abs=0.01)
    assert listener.pause(tone(220, 0.6), round(0.3 * RATE)) == 0.0


def test_the_quality_predictor_hears_noise_in_real_speech(spoken):
    speech = spoken[0].audio
    noisy = np.clip(speech + 0.03 * rng.standard_normal(len(speech)), -1, 1)
    assert listener.dnsmos(speech) > listener.dnsmos(noisy) + 0.5
