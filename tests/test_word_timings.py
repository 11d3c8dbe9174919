"""Word timings with the real model: kk-synth's word marks and captions, from
text, from kk-g2p --json phonemes, through a warm kk-speakd; and bad input."""

from __future__ import annotations

import itertools
import json
import re
import subprocess

import numpy as np
import pytest
from conftest import command

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.framing import Audio, End, WordMark, read_stream

TEXT = "Dr. Smith paid $4.5k for it on 3/5/2024 at 10:30 am, and **that** was that."


def synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([command("kk-synth"), "--no-daemon", *args], capture_output=True,
                          timeout=300)


def utterances(stream: bytes) -> list[tuple[np.ndarray, list[WordMark], dict]]:
    """(audio, marks, end meta) per utterance of a framed stream."""
    import io

    out, audio, marks = [], [], []
    for event in read_stream(io.BytesIO(stream), words=True):
        if isinstance(event, Audio):
            audio.append(event.samples[:, 0])
        elif isinstance(event, WordMark):
            marks.append(event)
        elif isinstance(event, End):
            out.append((np.concatenate(audio), marks, event.meta))
            audio, marks = [], []
    return out


def check_marks(line: str, audio: np.ndarray, marks: list[WordMark]) -> None:
    """Every word of the line once, in order, each inside the audio."""
    assert marks, f"no word marks for {line!r}"
    starts = [m.start for m in marks]
    assert starts == sorted(starts)
    for m in marks:
        assert 0 <= m.start <= m.end <= len(audio), (m, len(audio))
        if m.span is not None:
            assert line[slice(*m.span)] == m.text
    spans = [m.span for m in marks]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "spans overlap or go back"
    words = re.sub(r"<[^>]*>", " ", line)
    written = [w for w in re.findall(r"[\w$.:/']+", words) if re.search(r"\w", w)]
    covered = " ".join(m.text for m in marks)
    for word in written:
        assert word.strip(".,") in covered, f"{word!r} has no mark in {covered!r}"


@pytest.fixture(scope="module")
def framed(tmp_path_factory) -> dict:
    """One kk-synth run over lines that exercise the front-end."""
    lines = [TEXT, "The WWW was new.", "Short."]
    ssml = '<speak>The <sub alias="World Wide Web">WWW</sub> was new.</speak>'
    path = tmp_path_factory.mktemp("words") / "lines.txt"
    path.write_text(f"{TEXT}\n{ssml}\nShort.\n")
    captions = path.with_suffix(".json")
    result = synth(str(path), "--captions", str(captions))
    assert result.returncode == 0, result.stderr
    return {"lines": lines, "ssml": ssml, "stream": result.stdout,
            "captions": [json.loads(x) for x in captions.read_text().splitlines()]}


def test_marks_map_back_to_the_words_the_user_wrote(framed):
    first, sub, _ = utterances(framed["stream"])
    audio, marks, _ = first
    check_marks(TEXT, audio, marks)
    texts = [m.text for m in marks]
    assert "$4.5k" in texts, texts  # four point five thousand dollars: one token
    assert "Dr." in texts and "Smith" in texts
    assert texts[-1].startswith("that")
    # SSML: <sub> shows its original text
    audio, marks, _ = sub
    assert [m.text for m in marks][:3] == ["The", "WWW", "was"], marks
    assert framed["ssml"][slice(*marks[1].span)] == "WWW"
    check_marks(framed["ssml"], audio, marks)


def test_json_captions_are_the_marks_in_seconds_from_the_stream_start(framed):
    at, expected = 0, []
    for audio, marks, meta in utterances(framed["stream"]):
        expected += [(m.text, round((at + m.start) / SAMPLE_RATE, 3), meta["id"]) for m in marks]
        at += len(audio)
    got = [(c["word"], c["start"], c["utterance"]) for c in framed["captions"]]
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert all(abs(g[1] - e[1]) <= 0.0011 and g[2] == e[2]
               for g, e in zip(got, expected, strict=True))
    assert all(c["end"] > c["start"] for c in framed["captions"])


def test_phonemes_from_kk_g2p_json_time_the_same_words(framed, tmp_path):
    g2p = subprocess.run([command("kk-g2p"), "--json", "-t", TEXT], capture_output=True,
                         timeout=300, check=True)
    record = json.loads(g2p.stdout)
    assert record["words"] and all(len(w) == 4 for w in record["words"])
    result = subprocess.run([command("kk-synth"), "--no-daemon", "--phonemes"],
                            input=g2p.stdout, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ((audio, marks, _),) = utterances(result.stdout)
    check_marks(TEXT, audio, marks)
    # Chunked as phonemes, not as text, so the audio differs: the words do not.
    text_marks = utterances(framed["stream"])[0][1]
    assert [(m.text, m.span) for m in marks] == [(m.text, m.span) for m in text_marks]


def test_cues_end_where_sentences_end_as_spoken(tmp_path):
    """Not after "Dr." or "St." (their dots are read as part of the word), but
    after "noon" and "stop", whose sentence punctuation follows the word."""
    out = tmp_path / "c.srt"
    text = 'I met Dr. Smith at noon. He said "stop!" to St. Claire, then left.'
    result = synth("--raw", "-t", text, "--captions", str(out))
    assert result.returncode == 0, result.stderr
    cues = [block.splitlines()[2] for block in out.read_text().strip().split("\n\n")]
    assert cues == ["I met Dr. Smith at noon", "He said stop", "to St. Claire then left"]


def test_vtt_and_srt_captions_with_wav_and_raw_output(tmp_path):
    for fmt, audio_flag in (("vtt", "--wav"), ("srt", "--raw")):
        out = tmp_path / f"c.{fmt}"
        result = synth(audio_flag, "-t", TEXT, "--captions", str(out))
        assert result.returncode == 0, result.stderr
        body = out.read_text()
        if fmt == "vtt":
            assert body.startswith("WEBVTT\n\n")
            assert "$4.5k" in body and re.search(r"<\d\d:\d\d:\d\d\.\d\d\d>", body)
        else:
            assert body.startswith("1\n00:00:0")
        end = re.findall(r"--> (\d\d):(\d\d):(\d\d)[.,](\d\d\d)", body)[-1]
        seconds = int(end[1]) * 60 + int(end[2]) + int(end[3]) / 1000
        samples = (len(result.stdout) - 44) / 2 if fmt == "vtt" else len(result.stdout) / 4
        assert 0 < seconds <= samples / SAMPLE_RATE + 0.001


def test_a_symbol_spoken_as_a_word_has_a_mark_of_its_own():
    from kokoro_pipe.text.g2p import G2P

    text = "Salt & pepper, 5 + 3 @ noon."
    said = G2P("en-us").words(text)
    assert [text[slice(*w.source)] for w in said.words] == \
        ["Salt", "&", "pepper", "5", "+", "3", "@", "noon"]
    assert said.phonemes[slice(*said.words[1].phonemes)] == "ænd"


@pytest.mark.parametrize("line", [
    "🎉🎉 Deploy done 🎉", '<speak><break time="500ms"/>Starts late.<break time="700ms"/></speak>',
    "a", "Well — ...  ok!", "I.B.M. and AT&T; e.g. 3-5 pm"])
@pytest.mark.parametrize("speed", ["0.5", "2.0"])
def test_odd_input_keeps_times_monotonic_and_inside_the_audio(line, speed):
    result = synth("--speed", speed, "-t", line)
    assert result.returncode == 0, result.stderr
    ((audio, marks, _),) = utterances(result.stdout)
    check_marks(line, audio, marks)


def test_a_model_given_by_path_cannot_make_captions(tmp_path):
    import os
    import shutil

    from kokoro_pipe.voice.files import resolve

    model = tmp_path / "model.onnx"  # another path: run in one pass, no durations
    try:
        os.link(resolve().model, model)
    except OSError:
        shutil.copy(resolve().model, model)
    result = synth("--model", str(model), "-t", "Hi.", "--captions", str(tmp_path / "c.vtt"))
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and "split model" in result.stderr.decode()


SOUND_MARGIN = round(0.020 * SAMPLE_RATE)  # the 0-20 ms


def test_words_end_where_their_sound_does_and_before_the_next_starts(framed):
    """A word's end never passes the next word's start; a word followed by
    silence (50 ms or more below -60 dBFS: a comma, the line's end) ends within
    20 ms of its last sample at or above -60 dBFS, not where the durations run
    on into the silence."""
    audio, marks, _ = utterances(framed["stream"])[0]
    assert all(a.end <= b.start for a, b in itertools.pairwise(marks)), \
        [(a.text, a.end, b.text, b.start) for a, b in itertools.pairwise(marks) if a.end > b.start]
    loud = np.flatnonzero(np.abs(audio) >= 1e-3)
    paused = 0
    for m, following in zip(marks, [*marks[1:], None], strict=True):
        until = following.start if following else len(audio)
        heard = loud[(loud >= m.start) & (loud < until)]
        sound_end = int(heard[-1]) + 1
        if until - sound_end < SAMPLE_RATE // 20:  # running speech: the next word takes over
            continue
        assert abs(m.end - sound_end) <= SOUND_MARGIN, (m.text, m.end, sound_end)
        paused += 1
    assert paused >= 2  # "am," and "that." at least
