"""Word timings without the model: durations to frames, word spans through
chunking, the word-mark frame, and marks through the sinks."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from kokoro_pipe import captions
from kokoro_pipe.audio.sinks import CaptionedSink, FramedSink
from kokoro_pipe.framing import (
    Audio,
    End,
    Header,
    StreamFormatError,
    WordMark,
    encode_ancillary,
    encode_header,
    encode_word,
    read_stream,
)
from kokoro_pipe.text.chunks import Pauses, located, split_chunks
from kokoro_pipe.text.g2p import Word, _collapsed
from kokoro_pipe.text.lines import parse_phoneme_line
from kokoro_pipe.voice.render import write_events
from kokoro_pipe.voice.synthesis import AudioBlock, Finished, Utterance, WordTime, _split
from kokoro_pipe.voice.timing import CONNECTED_LEAD, ONSET_LEAD, word_frames


def test_a_words_frames_run_from_its_first_token_to_the_end_of_its_last():
    vocab = {c: i for i, c in enumerate("abc .")}
    # tokens: pad a b <space> c . pad ; "x" is not in the vocabulary: no token
    durations = np.array([10, 2, 3, 1, 4, 5, 6])
    frames = word_frames("ab xc.", [(0, 2), (3, 5), (3, 4)], vocab, durations)
    lead = ONSET_LEAD
    # "xc" follows "ab" without a pause: its onset is heard one frame earlier
    assert frames == [(10 - lead, 15 - lead), (16 - CONNECTED_LEAD, 20 - lead), None]


def test_a_word_after_punctuation_starts_as_one_after_a_pause():
    vocab = {c: i for i, c in enumerate("ab .")}
    # tokens: pad a . <space> b pad
    frames = word_frames("a. b", [(0, 1), (3, 4)], vocab, np.array([10, 2, 3, 1, 4, 6]))
    assert frames == [(10 - ONSET_LEAD, 12 - ONSET_LEAD), (16 - ONSET_LEAD, 20 - ONSET_LEAD)]


def test_a_word_ends_no_later_than_the_next_one_starts():
    vocab = {c: i for i, c in enumerate("ab ")}
    # tokens: pad a <space> b pad; the space has no frame, so "b"'s connected
    # onset (CONNECTED_LEAD) is a frame before "a"'s end (ONSET_LEAD)
    frames = word_frames("a b", [(0, 1), (2, 3)], vocab, np.array([10, 5, 0, 5, 6]))
    b_start = 15 - CONNECTED_LEAD
    assert frames == [(10 - ONSET_LEAD, b_start), (b_start, 20 - ONSET_LEAD)]


def test_collapsed_phonemes_keep_track_of_every_character():
    text, at = _collapsed("  hə  lˈO \n wˈɜɹld ")
    assert text == "hə lˈO wˈɜɹld"
    raw = "  hə  lˈO \n wˈɜɹld "
    assert all(text[at[i]] == raw[i] for i in range(len(raw)) if at[i] >= 0)
    assert [i for i, a in enumerate(at) if a < 0] == [i for i, c in enumerate(raw) if c.isspace()]


def test_located_maps_every_chunk_character_back_to_the_text():
    text = "First   sentence here.\n\nA second one, with a clause; and more words after it."
    chunks = split_chunks(text, max_len=30, first_max=24)
    assert len(chunks) > 2
    for chunk, where in zip(chunks, located(text, chunks), strict=True):
        assert len(where) == len(chunk.text) and where == sorted(where)
        for i, c in zip(where, chunk.text, strict=True):
            assert text[i] == c or (c == " " and text[i].isspace())


def test_words_follow_their_phonemes_into_the_chunk_they_start_in():
    phonemes = "wˈʌn tˈu θɹˈi. fˈɔɹ fˈIv sˈɪks. sˈɛvən."
    words = [Word((m, m + len(w)), (i, i + 1)) for i, (m, w) in
             enumerate((phonemes.index(w), w) for w in phonemes.replace(".", "").split())]
    pieces = list(_split(phonemes, words, max_len=16, first_max=16, pauses=Pauses()))
    assert len(pieces) > 1
    seen = []
    for chunk, inside in pieces:
        for w in inside:
            seen.append(w.source)
            a, b = w.phonemes
            assert chunk.text[a:b] == phonemes[slice(*words[w.source[0]].phonemes)]
    assert seen == [w.source for w in words]


def test_word_frames_round_trip_and_match_the_manual_vectors():
    mark = WordMark(1, 5040, 12600, "Hello", (0, 5))
    assert encode_word(mark).hex() == (
        "4500000090" + b'{"utterance":1,"start":5040,"end":12600,"text":"Hello","span":[0,5]}'
        .hex())
    stream = io.BytesIO(encode_header(24000) + encode_word(mark)
                        + encode_word(WordMark(2, 0, 600, "hə", None)))
    events = list(read_stream(stream, words=True))
    assert events[1:] == [mark, WordMark(2, 0, 600, "hə", None)]
    stream.seek(0)
    assert list(read_stream(stream)) == [Header(24000)], "readers not asking skip them"


def test_a_sentence_end_after_a_word_is_an_optional_key_both_ways():
    mark = WordMark(1, 0, 600, "noon", (15, 19), sentence_end=True)
    assert encode_word(mark).endswith(b',"sentence_end":true}')
    stream = io.BytesIO(encode_header(24000) + encode_word(mark))
    assert list(read_stream(stream, words=True))[1:] == [mark]
    assert b"sentence_end" not in encode_word(WordMark(1, 0, 600, "Dr.", (6, 9)))


@pytest.mark.parametrize("payload", [
    b"not json", b"[]", b'{"utterance":1}',
    b'{"utterance":1,"start":5,"end":4,"text":"x","span":null}',
    b'{"utterance":1,"start":-1,"end":4,"text":"x","span":null}',
    b'{"utterance":1,"start":0,"end":4,"text":3,"span":null}',
    b'{"utterance":1,"start":0,"end":4,"text":"x","span":[1]}',
    b'{"utterance":1.5,"start":0,"end":4,"text":"x","span":null}',
    b'{"utterance":1,"start":0,"end":4,"text":"x","span":null,"sentence_end":1}',
])
def test_a_bad_word_frame_is_a_format_error_for_a_reader_of_words(payload):
    stream = io.BytesIO(encode_header(24000) + encode_ancillary(0x90, payload))
    with pytest.raises(StreamFormatError, match="word frame at byte 16"):
        list(read_stream(stream, words=True))


def test_kk_g2p_word_spans_are_checked_against_the_phonemes_and_the_text():
    good = {"text": "Hi there", "phonemes": "hˈI ðˈɛɹ", "words": [[0, 3, 0, 2], [4, 8, 3, 8]]}
    assert parse_phoneme_line(json.dumps(good)).words == ((0, 3, 0, 2), (4, 8, 3, 8))
    for words in ([[0, 30, 0, 2]], [[0, 3, 0, 20]], [[3, 3, 0, 1]], "x", [[0, 1, 0]]):
        with pytest.raises(ValueError, match='"words"'):
            parse_phoneme_line(json.dumps({**good, "words": words}))


class _Report:
    def audio(self, seconds, line_chars=0):
        pass

    def spoken(self, line_chars):
        pass

    def message(self, line):
        pass


def test_marks_count_from_the_utterance_start_the_gap_before_it_included():
    one, two = Utterance(1, 1, "Hi there"), Utterance(2, 2, "Bye")
    rate = 24_000

    def sound(n: int) -> np.ndarray:  # loud to its ends: the whole gap is owed (voice/seams.py)
        return np.full(n, 0.1, np.float32)

    events = [
        AudioBlock(one, sound(2400), (WordTime(240, 960, "Hi", (0, 2)),)),
        AudioBlock(one, sound(2400), (WordTime(120, 2160, "there", (3, 8)),)),
        Finished(one),
        AudioBlock(two, sound(1200), (WordTime(0, 1200, "Bye", (0, 3)),)),
        Finished(two),
    ]
    out = io.BytesIO()
    sink = CaptionedSink(FramedSink(out, rate), captions.writer("json", text := io.StringIO()),
                         rate)
    write_events(events, sink, gap=0.5, report=_Report())
    sink.close()
    out.seek(0)
    got = [e for e in read_stream(out, words=True) if not isinstance(e, Header)]
    kinds = [type(e).__name__ for e in got]
    assert kinds == ["WordMark", "Audio", "WordMark", "Audio", "End",
                     "Audio", "WordMark", "Audio", "End"]
    marks = [e for e in got if isinstance(e, WordMark)]
    assert marks == [WordMark(1, 240, 960, "Hi", (0, 2)),
                     WordMark(1, 2520, 4560, "there", (3, 8)),
                     WordMark(2, 12000, 13200, "Bye", (0, 3))]  # after the 0.5 s gap
    assert isinstance(got[5], Audio) and len(got[5].samples) == 12000
    assert isinstance(got[-1], End)
    lines = [json.loads(x) for x in text.getvalue().splitlines()]
    assert [(x["word"], x["start"], x["end"], x["utterance"]) for x in lines] == [
        ("Hi", 0.01, 0.04, 1), ("there", 0.105, 0.19, 1), ("Bye", 0.7, 0.75, 2)]
