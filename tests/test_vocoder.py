"""How a chunk's frames are cut into vocoder windows, and what the windows give."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kokoro_pipe.voice.split_model import FRAME
from kokoro_pipe.voice.vocoder import (
    LEAD_MARGIN,
    FrontOutput,
    Windows,
    joins,
    kept_frames,
    spans,
    trimmed,
)

# Words every 10-30 frames: the frames where windows may meet.
gaps = st.lists(st.integers(10, 30), min_size=1, max_size=40).map(
    lambda steps: list(itertools.accumulate(steps)))


@given(lo=st.integers(0, 20), length=st.integers(1, 600), cost=st.floats(0.05, 3.0))
def test_windows_emit_every_frame_once_in_order(lo, length, cost):
    hi = lo + length
    plan = spans(lo, hi, Windows(), cost)
    assert plan[0].start == lo and plan[-1].end == hi
    for a, b in itertools.pairwise(plan):
        assert a.end == b.start
    for s in plan:
        assert lo <= s.decode_from <= s.start < s.end <= s.decode_to <= hi


@given(length=st.integers(40, 600), cost=st.floats(0.05, 3.0))
def test_each_window_is_made_before_the_audio_before_it_runs_out(length, cost):
    """At the speed the plan assumes, the audio already made covers the
    vocoding of the next window, so the listener hears no gap."""
    assert_keeps_up(spans(0, length, Windows(), cost), Windows(), cost)


def assert_keeps_up(plan, w: Windows, cost: float) -> None:
    ahead = plan[0].end - plan[0].start - LEAD_MARGIN
    for s in plan[1:]:
        took = cost * w.safety * (s.decode_to - s.decode_from)
        assert took <= ahead + 1e-9
        ahead += (s.end - s.start) - took


def test_a_slower_vocoder_waits_for_a_longer_first_window():
    firsts = [spans(0, 200, Windows(), cost)[0].end for cost in (0.1, 0.3, 0.9)]
    assert firsts[0] == Windows().first
    assert firsts[0] < firsts[1] < firsts[2]


@given(between=gaps, cost=st.floats(0.05, 3.0))
def test_windows_meet_only_between_words_and_still_keep_up(between, cost):
    hi = between[-1] + 12
    w = Windows()
    plan = spans(0, hi, w, cost, between)
    assert plan[0].start == 0 and plan[-1].end == hi
    for a, b in itertools.pairwise(plan):
        assert a.end == b.start and a.end in between
    assert_keeps_up(plan, w, cost)


def test_the_first_window_ends_after_the_first_words_that_make_enough_audio():
    plan = spans(0, 400, Windows(), 0.05, [5, 12, 20, 31, 60, 90, 130, 170, 220, 300, 350])
    assert plan[0].end == 20  # the first join at or after Windows.first (16) frames


def test_a_join_falls_where_the_source_is_weakest_between_two_words():
    durations = np.array([4, 10, 10, 10, 6])  # 40 frames
    source = np.full((1, FRAME * 40, 1), 0.1, np.float32)
    source[0, FRAME * 23:FRAME * 25] = 0.001  # frames 23 and 24 quiet, in the gap 20-26
    front = FrontOutput(durations, np.zeros((1, 1, 80)), source, np.zeros((1, 256)))
    assert joins(front, [(4, 20), None, (26, 40)]) == [24]  # between the two quiet frames
    assert joins(front, [(4, 20), (20, 40)]) == [20]  # no gap: where one ends


def test_no_windows_is_one_pass():
    assert len(spans(3, 90, None, 0.3)) == 1


def test_the_leading_pad_is_mostly_skipped():
    assert kept_frames(np.array([18, 3, 4, 9, 1])) == (18 - LEAD_MARGIN, 35)
    assert kept_frames(np.array([2, 3, 1])) == (0, 6)


def test_trim_cuts_the_first_piece_head_and_the_last_piece_tail():
    quiet, loud = np.zeros(4096, np.float32), np.full(4096, 0.5, np.float32)
    pieces = [(np.concatenate([quiet, loud]), False), (loud, False),
              (np.concatenate([loud, quiet]), True)]
    out = [audio for audio, _, _ in trimmed(iter(pieces))]
    # trim works in 2048-sample frames, so up to 1024 samples of the silence stay
    assert len(out[0]) <= 4096 + 1024 and len(out[1]) == 4096 and len(out[2]) <= 4096 + 1024


def test_trim_says_where_each_piece_starts_and_which_is_last():
    quiet, loud = np.zeros(4096, np.float32), np.full(4096, 0.5, np.float32)
    pieces = [(np.concatenate([quiet, loud]), False), (np.concatenate([loud, quiet]), True)]
    (first, at0, last0), (_, at1, last1) = trimmed(iter(pieces))
    assert at0 == 8192 - len(first) and at1 == 8192 and (last0, last1) == (False, True)


@pytest.fixture(scope="module")
def engine():
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine

    return Engine(files.resolve(), windows=Windows(cost=0.35))  # the same plan every run


def test_one_pass_gives_the_audio_of_synthesize(engine):
    style = engine.style("af_heart")
    phonemes = "ðə bˈɪld fˈɪnɪʃt."
    whole = engine.synthesize(phonemes, style)
    pieces = [p.audio for p in engine.stream(phonemes, style, 1.0)]
    assert len(pieces) == 1 and np.array_equal(pieces[0], whole)


def test_windows_give_the_same_length_of_speech(engine):
    style = engine.style("af_heart")
    phonemes = "ðə nˈItli bˈɪld fˈɪnɪʃt wɪðˈWt ˈɛɹəɹz, ænd ˈɔl tˈɛsts pˈæst."
    whole = engine.synthesize(phonemes, style)
    pieces = [p.audio for p in engine.stream(phonemes, style, 1.0, windowed=True)]
    assert len(pieces) > 1
    joined = np.concatenate(pieces)
    # Both trimmed at 60 dB, 2048 samples at a time; a last window normalized over
    # little speech leaves its silence at about -55 dB, some of it kept.
    assert abs(len(joined) - len(whole)) < 0.25 * 24000
    assert np.all(np.isfinite(joined)) and 0.05 < np.abs(joined).max() <= 1.0


def test_word_times_fall_inside_the_audio_in_windows_or_one_pass(engine):
    style = engine.style("af_heart")
    phonemes = "ðə nˈItli bˈɪld fˈɪnɪʃt wɪðˈWt ˈɛɹəɹz, ænd ˈɔl tˈɛsts pˈæst."
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"[^\s,.]+", phonemes)]
    for windowed in (False, True):
        starts, at = [], 0
        pieces = list(engine.stream(phonemes, style, 1.0, windowed=windowed, words=words))
        total = sum(len(p.audio) for p in pieces)
        for p in pieces:
            for i, a, b in p.words:
                assert 0 <= a <= len(p.audio) and at + b <= total
                starts.append((i, at + a))
            at += len(p.audio)
        assert [i for i, _ in starts] == list(range(len(words)))
        assert [s for _, s in starts] == sorted(s for _, s in starts)
        # about 0.4 s a word here: the first starts near the audio's start
        assert starts[0][1] < 0.2 * 24000 and starts[-1][1] > 0.5 * total


def _audio_frames(*args: str) -> list[int]:
    import io
    import subprocess

    from conftest import command

    from kokoro_pipe.framing import Audio, read_stream

    sentence = "The nightly build finished without errors, and all the tests passed."
    out = subprocess.run([command("kk-synth"), "-t", sentence, *args], capture_output=True,
                         check=True, timeout=300).stdout
    return [len(e.samples) for e in read_stream(io.BytesIO(out)) if isinstance(e, Audio)]


def test_kk_synth_vocodes_in_windows_when_asked(tmp_path, monkeypatch):
    assert len(_audio_frames()) == 1  # one chunk, one pass
    windowed = _audio_frames("--vocoder-windows")
    assert len(windowed) > 1
    (tmp_path / "kokoro-pipe").mkdir()
    (tmp_path / "kokoro-pipe" / "config.toml").write_text("vocoder-windows = true\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert len(_audio_frames()) > 1
