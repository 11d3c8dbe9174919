"""kk-synth judged by ear, by an independent ASR (faster-whisper, Whisper base):
the corpus must be understood, each normalization rule heard as meant, chunk
joins free of clicks, and utterances equally loud."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from quality.conftest import load_corpus
from quality.scoring import edit_distance, wer, words

MAX_WER = 0.05
RULES = sorted({item.rule for item in load_corpus()})


def test_corpus_covers_every_rule_with_at_least_forty_sentences(corpus):
    assert len(corpus) >= 40
    assert {"cardinal", "decimal", "money", "percent", "ordinal", "year", "date", "time", "phone",
            "unit", "range", "abbreviation", "url", "email", "version"} <= set(RULES)


def test_overall_word_error_rate(corpus, transcripts):
    rate = wer([(item.spoken, heard) for item, heard in zip(corpus, transcripts, strict=True)])
    worst = sorted(
        ((edit_distance(words(i.spoken), words(h)), i.text, h)
         for i, h in zip(corpus, transcripts, strict=True)), reverse=True)[:5]
    assert rate <= MAX_WER, f"WER {rate:.1%} > {MAX_WER:.0%}; worst: {worst}"


def test_every_key_is_in_its_own_reference(corpus):
    """A key the reference does not hold could never be heard: a typo in the corpus."""
    assert not [item.key for item in corpus
                if item.key and " ".join(words(item.key)) not in " ".join(words(item.spoken))]


# The int8 kernels of onnxruntime and of the judge differ by CPU (AVX2 or
# AVX-512), and with them a borderline hearing: on an AVX2 VM (2026-12-05) the
# judge heard "1,234,567" as "1,230,4,567", greedy or beam search alike, where
# the code that made the audio had passed on another machine. One such miss in
# the corpus is the judge's; a rule whose every sentence is missed, or two
# misses, is ours.
MAX_MISSED_KEYS = 1


def missed_keys(corpus, transcripts, rule: str | None = None) -> list[tuple[str, str]]:
    """(text, heard) of the sentences whose key is not in what the judge heard,
    both written as the scorer writes them (numbers as digits, groups run together)."""
    return [(item.text, heard) for item, heard in zip(corpus, transcripts, strict=True)
            if item.key and rule in (None, item.rule)
            and " ".join(words(item.key)) not in " ".join(words(heard))]


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_is_heard_as_meant(rule, corpus, transcripts):
    keyed = [item for item in corpus if item.rule == rule and item.key]
    missed = missed_keys(corpus, transcripts, rule)
    assert not keyed or len(missed) < len(keyed), missed


def test_the_judge_misses_at_most_one_key_in_the_corpus(corpus, transcripts):
    missed = missed_keys(corpus, transcripts)
    print(f"keys missed: {missed}")
    assert len(missed) <= MAX_MISSED_KEYS, missed


# A click is a jump between neighbouring samples far larger than speech makes.
# Kokoro's speech steps up to ~0.1 per sample inside words, but starts and ends
# near 0 (measured < 0.001); a join cut mid-wave jumps by the wave's amplitude.
MAX_JOIN_STEP = 0.02


def join_steps(blocks: list[np.ndarray]) -> list[float]:
    """The sample step where each block's sound starts and stops, against silence
    (the pause before a chunk is zeros) or against the neighbouring block."""
    steps = []
    previous_end = 0.0
    for block in blocks:
        sound = np.flatnonzero(block)
        if not len(sound):
            continue
        start = sound[0]
        before = block[start - 1] if start else previous_end
        steps.append(abs(float(block[start]) - float(before)))
        previous_end = float(block[-1])
        if sound[-1] < len(block) - 1:  # sound stops inside the block: its edge to silence
            steps.append(abs(float(block[sound[-1]])))
    steps.append(abs(previous_end))  # the end of the utterance against the silence after it
    return steps


def test_no_click_at_chunk_joins(spoken):
    assert any(len(s.blocks) > 2 for s in spoken), "no utterance was split into chunks"
    worst = max((max(join_steps(s.blocks)), s.item.text) for s in spoken)
    assert worst[0] <= MAX_JOIN_STEP, f"step {worst[0]:.3f} at a chunk join in {worst[1]!r}"


def test_click_detector_finds_a_cut_mid_wave():
    """The detector itself: a sine cut off at its peak is a click, a faded one is not."""
    t = np.arange(2400) / 24_000
    tone = (0.3 * np.sin(2 * np.pi * 200 * t + np.pi / 2)).astype(np.float32)
    cut = [np.zeros(100, np.float32), tone]
    faded = [np.zeros(100, np.float32), tone * np.hanning(len(tone)).astype(np.float32)]
    assert max(join_steps(cut)) > MAX_JOIN_STEP >= max(join_steps(faded))


MAX_LOUDNESS_SPREAD_DB = 4.0


def active_level_db(audio: np.ndarray, rate: int = 24_000) -> float:
    """RMS level of the speech in `audio`, over 20 ms frames within 40 dB of its loudest."""
    n = rate // 50
    frames = audio[: len(audio) // n * n].reshape(-1, n)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-12
    db = 20 * np.log10(rms)
    return float(10 * np.log10(np.mean(10 ** (db[db > db.max() - 40] / 10))))


def test_loudness_is_even_across_utterances(spoken):
    levels = defaultdict(list)
    for s in spoken:
        levels[round(active_level_db(s.audio), 1)].append(s.item.text)
    spread = max(levels) - min(levels)
    assert spread <= MAX_LOUDNESS_SPREAD_DB, (
        f"levels {min(levels)}..{max(levels)} dBFS: quietest {levels[min(levels)]}, "
        f"loudest {levels[max(levels)]}")
