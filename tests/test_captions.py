"""Captions: exact WebVTT and SRT for a realistic input, JSON lines round trip,
cue splitting rules, timestamp rounding, and time clamping."""

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kokoro_pipe import captions as cap
from kokoro_pipe.errors import UsageError

W = cap.Word

# Two utterances: a sentence end, a 10-word run split at 7 and ended by the
# change of utterance, a 1.5 s pause, and words that need escaping in WebVTT.
WORDS = [
    W("Hello", 0.0, 0.4, 0), W("world.", 0.45, 0.9, 0),
    W("Please", 1.2, 1.5, 0), W("bring", 1.55, 1.8, 0), W("the", 1.85, 1.95, 0),
    W("red", 2.0, 2.25, 0), W("box", 2.3, 2.65, 0), W("and", 2.7, 2.85, 0),
    W("the", 2.9, 3.0, 0), W("blue", 3.05, 3.3, 0), W("one", 3.35, 3.55, 0),
    W("tomorrow", 3.6, 4.1, 0),
    W("Wait", 4.8, 5.1, 1),
    W("R&D", 6.6, 7.0, 1), W("costs", 7.05, 7.4, 1), W("<", 7.45, 7.6, 1),
    W("$4.5k.", 7.65, 8.4, 1),
]

VTT = """\
WEBVTT

00:00:00.000 --> 00:00:00.900
Hello <00:00:00.450>world.

00:00:01.200 --> 00:00:03.000
Please <00:00:01.550>bring <00:00:01.850>the <00:00:02.000>red <00:00:02.300>box \
<00:00:02.700>and <00:00:02.900>the

00:00:03.050 --> 00:00:04.100
blue <00:00:03.350>one <00:00:03.600>tomorrow

00:00:04.800 --> 00:00:05.100
Wait

00:00:06.600 --> 00:00:08.400
R&amp;D <00:00:07.050>costs <00:00:07.450>&lt; <00:00:07.650>$4.5k.

"""

SRT = """\
1
00:00:00,000 --> 00:00:00,900
Hello world.

2
00:00:01,200 --> 00:00:03,000
Please bring the red box and the

3
00:00:03,050 --> 00:00:04,100
blue one tomorrow

4
00:00:04,800 --> 00:00:05,100
Wait

5
00:00:06,600 --> 00:00:08,400
R&D costs < $4.5k.

"""


def render(fmt: str, words) -> str:
    out = io.StringIO()
    w = cap.writer(fmt, out)
    for word in words:
        w.word(word)
    w.close()
    return out.getvalue()


def cue_texts(words) -> list[str]:
    """The text line of each SRT cue."""
    return [block.split("\n")[2] for block in render("srt", words).split("\n\n") if block]


def test_vtt_exact():
    assert render("vtt", WORDS) == VTT


def test_srt_exact():
    assert render("srt", WORDS) == SRT


def test_json_round_trip():
    lines = render("json", WORDS).splitlines()
    assert [W(d["word"], d["start"], d["end"], d["utterance"]) for d in map(json.loads, lines)] \
        == WORDS
    assert json.loads(lines[0]) == {"word": "Hello", "start": 0.0, "end": 0.4, "utterance": 0}


def test_json_rounds_to_milliseconds():
    (line,) = render("json", [W("a", 1.23449, 2.0005, 3)]).splitlines()
    assert json.loads(line) == {"word": "a", "start": 1.234, "end": 2.001, "utterance": 3}


@pytest.mark.parametrize("fmt", cap.FORMATS)
def test_cues_are_written_as_soon_as_complete(fmt):
    out = io.StringIO()
    w = cap.writer(fmt, out)
    w.word(W("Hello", 0.0, 0.4, 0))
    before = out.getvalue()
    w.word(W("world.", 0.45, 0.9, 0))  # the sentence end completes the cue
    assert "world." in out.getvalue() and out.getvalue() != before
    w.word(W("Next", 1.0, 1.3, 0))
    if fmt != "json":
        assert "Next" not in out.getvalue()  # pending until its cue ends
    w.close()
    assert "Next" in out.getvalue()


def test_close_does_not_close_out_and_empty_input():
    out = io.StringIO()
    cap.writer("vtt", out).close()
    assert out.getvalue() == "WEBVTT\n\n" and not out.closed
    assert render("srt", []) == render("json", []) == ""


@pytest.mark.parametrize("word", ['"Stop!"', "(yes.)", "Really?!", "so…", "it’s.’"])
def test_sentence_end_with_closing_quotes(word):
    assert cue_texts([W(word, 0, 1, 0), W("next", 1, 2, 0)]) == [word, "next"]


@pytest.mark.parametrize("word", ["Mr", "4.5k", "a,", "x:"])
def test_not_a_sentence_end(word):
    assert cue_texts([W(word, 0, 1, 0), W("next", 1, 2, 0)]) == [f"{word} next"]


def test_a_sentence_end_known_from_speech_wins_over_the_written_dot():
    """kk-synth's marks say where a sentence ends as spoken: "Dr." (read
    "doctor") ends none, "noon" before its full stop ends one."""
    words = [W("Dr.", 0, 1, 0, False), W("Smith", 1, 2, 0, False), W("noon", 2, 3, 0, True),
             W("Next", 3, 4, 0, False)]
    assert cue_texts(words) == ["Dr. Smith noon", "Next"]


def test_pause_of_exactly_one_second_does_not_split():
    words = [W("a", 0, 1, 0), W("b", 2.0, 2.5, 0), W("c", 3.501, 4, 0)]
    assert cue_texts(words) == ["a b", "c"]


def test_fourteen_words_make_two_cues():
    words = [W(f"w{i}", i, i + 0.5, 0) for i in range(14)]
    assert [len(t.split()) for t in cue_texts(words)] == [7, 7]


def test_whitespace_inside_a_word_cannot_break_a_cue():
    assert cue_texts([W("two\n\nlines", 0, 1, 0), W("  ", 1, 2, 0)]) == ["two lines"]


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt"),
    [
        (1.2346, "00:00:01.235", "00:00:01,235"),  # rounds, not truncates
        (59.9996, "00:01:00.000", "00:01:00,000"),  # carries into minutes
        (3599.9996, "01:00:00.000", "01:00:00,000"),  # and into hours
        (360000.0, "100:00:00.000", "100:00:00,000"),  # hours are not capped at 99
    ],
)
def test_timestamp_rounding_and_carry(seconds, vtt, srt):
    words = [W("a", seconds, seconds + 1, 0)]
    assert render("vtt", words).splitlines()[2].startswith(f"{vtt} --> ")
    assert render("srt", words).splitlines()[1].startswith(f"{srt} --> ")


def test_times_are_clamped_monotonic():
    words = [
        W("a", -0.5, 0.2, 0),  # negative start
        W("b", 0.1, 0.05, 0),  # starts before a's end, and ends before it starts
        W("c", 0.3, 0.3, 0),  # zero length
    ]
    got = [(d["start"], d["end"]) for d in map(json.loads, render("json", words).splitlines())]
    assert got == [(0.0, 0.2), (0.2, 0.201), (0.3, 0.301)]
    assert render("srt", words).splitlines()[1] == "00:00:00,000 --> 00:00:00,301"
    assert render("vtt", words).splitlines()[3] == "a <00:00:00.200>b <00:00:00.300>c"


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("out.vtt", "vtt"), ("out.srt", "srt"), ("out.json", "json"), ("a/b.jsonl", "json"),
     ("OUT.VTT", "vtt")],
)
def test_format_for(path, fmt):
    assert cap.format_for(path) == fmt


@pytest.mark.parametrize("path", ["out.txt", "vtt", "dir.vtt/captions", "-"])
def test_format_for_unknown(path):
    with pytest.raises(UsageError) as e:
        cap.format_for(path)
    assert str(e.value) == f"captions file {path}: unknown format (use .vtt, .srt or .json)"
    assert e.value.exit_code == 2


def test_writer_unknown_format():
    with pytest.raises(UsageError):
        cap.writer("ass", io.StringIO())


TS = r"\d{2,}:\d{2}:\d{2}\.\d{3}"
TIMING = re.compile(rf"^({TS}) --> ({TS})$")
TAG = re.compile(rf"<({TS})>")


def seconds(ts: str) -> float:
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def check_vtt(text: str) -> int:
    """Structural WebVTT check; returns the number of cues."""
    assert text.startswith("WEBVTT\n\n")
    blocks = text[len("WEBVTT\n\n"):].split("\n\n")
    assert blocks[-1] == ""  # every cue ends with a blank line
    previous_start = 0.0
    for block in blocks[:-1]:
        timing, payload = block.split("\n")  # one timing line and one text line
        m = TIMING.match(timing)
        assert m, timing
        start, end = seconds(m[1]), seconds(m[2])
        assert previous_start <= start < end
        previous_start = start
        last = start
        for tag in TAG.findall(payload):  # strictly inside the cue, increasing
            assert last < seconds(tag) < end
            last = seconds(tag)
        plain = TAG.sub("", payload)
        assert "<" not in plain and ">" not in plain and "-->" not in plain
        assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", plain)
    return len(blocks) - 1


def test_vtt_is_well_formed():
    assert check_vtt(render("vtt", WORDS)) == 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.text(st.sampled_from("ab<>&.!? \n"), min_size=1, max_size=4),
    st.floats(-1, 30), st.floats(-1, 30), st.integers(0, 2),
), max_size=25))
def test_vtt_is_well_formed_for_any_input(raw):
    check_vtt(render("vtt", [W(*r) for r in raw]))
