"""The stream format: pinned byte vectors both ways, concatenation, and every
kind of bad input ending in StreamFormatError (never another exception)."""

import contextlib
import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kokoro_pipe import framing as fr

# 24 kHz mono header, one sample of 1.0, an end frame with {"id":1} (man kokoro-pipe.5)
VECTOR = bytes.fromhex(
    "4b4b5053" "01" "00" "0100" "c05d0000" "00000000"
    "05000000" "01" "0000803f"
    "09000000" "02" "7b226964223a317d"
)


def read(data: bytes) -> list:
    return list(fr.read_stream(io.BytesIO(data)))


def write(rate=24000, channels=1, audio=(), meta=None) -> bytes:
    out = io.BytesIO()
    w = fr.StreamWriter(out, rate, channels)
    for block in audio:
        w.audio(block)
    if meta is not None:
        w.end(meta)
    return out.getvalue()


def test_pcm_reads_the_same_samples_as_bytes_and_writes_the_same_bytes():
    data = write(channels=2, audio=[np.array([[0.5, -0.25], [1.0, 0.0]], np.float32)], meta={})
    arrays = [e for e in fr.read_stream(io.BytesIO(data)) if isinstance(e, fr.Audio)]
    pcms = [e for e in fr.read_stream(io.BytesIO(data), pcm=True) if isinstance(e, fr.Audio)]
    assert len(pcms) == 1 and isinstance(pcms[0].samples, fr.Pcm) and len(pcms[0].samples) == 2
    assert np.array_equal(pcms[0].samples.array(), arrays[0].samples)
    assert write(channels=2, audio=[pcms[0].samples], meta={}) == data


def test_fields_to_bytes():
    assert write(audio=[np.array([1.0], np.float32)], meta={"id": 1}) == VECTOR


def test_bytes_to_fields():
    header, audio, end = read(VECTOR)
    assert header == fr.Header(sample_rate=24000, channels=1, version=1)
    assert audio.samples.dtype == np.float32 and audio.samples.tolist() == [[1.0]]
    assert end == fr.End({"id": 1})


# Start advice, 24000 frames (man kokoro-pipe.5)
START_VECTOR = bytes.fromhex("05000000" "91" "c05d0000")


def test_start_advice_both_ways_and_skipped_as_ancillary():
    assert fr.encode_start(fr.StartAfter(24000)) == START_VECTOR
    events = read(VECTOR[:16] + START_VECTOR + VECTOR[16:])
    assert [type(e).__name__ for e in events] == ["Header", "StartAfter", "Audio", "End"]
    assert events[1] == fr.StartAfter(24000) and events[3] == fr.End({"id": 1})
    with pytest.raises(fr.StreamFormatError, match="start frame"):
        read(VECTOR[:16] + bytes.fromhex("04000000" "91" "c05d00"))


def test_stereo_interleaving_and_rate():
    samples = np.array([[0.1, -0.1], [0.2, -0.2]], np.float32)
    header, audio = read(write(48000, 2, [samples]))
    assert (header.sample_rate, header.channels) == (48000, 2)
    np.testing.assert_array_equal(audio.samples, samples)


def test_concatenated_streams_read_as_one():
    events = read(VECTOR + write(16000, audio=[np.zeros(3, np.float32)]))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Header", "Audio", "End", "Header", "Audio"]
    assert events[3].sample_rate == 16000


def test_long_audio_is_split_under_the_frame_limit():
    samples = np.arange(fr.MAX_FRAME_LENGTH // 2, dtype=np.float32)  # 2 MiB of audio
    data = write(audio=[samples])
    blocks = [e.samples for e in read(data) if isinstance(e, fr.Audio)]
    assert len(blocks) >= 2
    np.testing.assert_array_equal(np.concatenate(blocks).ravel(), samples)


def test_empty_input_is_an_empty_stream():
    assert read(b"") == []


def test_ancillary_kinds_are_skipped():
    frame = struct.pack("<I", 4) + bytes([0x80]) + b"abc"
    events = read(VECTOR[:16] + frame + VECTOR[16:])
    assert [type(e).__name__ for e in events] == ["Header", "Audio", "End"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a kokoro-pipe stream"),
        (VECTOR[:10], "truncated at byte 10"),
        (VECTOR[:18], "truncated at byte 18"),
        (VECTOR[:23], "truncated at byte 23"),
        (VECTOR[:16] + struct.pack("<I", fr.MAX_FRAME_LENGTH + 1), "outside 1..1048576"),
        (VECTOR[:16] + struct.pack("<I", 0), "frame length 0"),
        (VECTOR[:16] + struct.pack("<I", 2) + b"\x07\x00", "unknown frame kind 0x07"),
        (VECTOR[:16] + struct.pack("<I", 4) + b"\x01abc", "not whole 1-channel float32"),
        (VECTOR[:16] + struct.pack("<I", 3) + b"\x02{x", "invalid JSON"),
        (VECTOR[:16] + struct.pack("<I", 3) + b"\x02[]", "not a JSON object"),
        (b"KKPS\x02\x00\x01\x00\xc0\x5d\x00\x00\x00\x00\x00\x00", "unsupported stream version 2"),
        (b"KKPS\x01\x01\x01\x00\xc0\x5d\x00\x00\x00\x00\x00\x00", "unknown header flags"),
        (b"KKPS\x01\x00\x00\x00\xc0\x5d\x00\x00\x00\x00\x00\x00", "channel count 0"),
        (b"KKPS\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", "sample rate 0"),
    ],
)
def test_bad_input_gives_a_clear_error(data, message):
    with pytest.raises(fr.StreamFormatError, match=message):
        read(data)


def test_truncation_is_its_own_error_after_whole_frames():
    events = []
    with pytest.raises(fr.TruncatedStreamError):
        events.extend(fr.read_stream(io.BytesIO(VECTOR[:-3])))
    assert [type(e).__name__ for e in events] == ["Header", "Audio"]


def test_oversized_length_allocates_nothing():
    class Exploding(io.BytesIO):
        def read(self, n=-1):
            assert n <= fr.MAX_FRAME_LENGTH, f"asked for {n} bytes"
            return super().read(n)

    with pytest.raises(fr.StreamFormatError):
        list(fr.read_stream(Exploding(VECTOR[:16] + b"\xff\xff\xff\xff" + b"x" * 64)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_never_raises_anything_but_format_errors(data):
    for candidate in (data, VECTOR[:16] + data, VECTOR + data):
        with contextlib.suppress(fr.StreamFormatError):
            read(candidate)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, fr.MAX_RATE),
    st.integers(1, 4),
    st.lists(st.lists(st.floats(-1, 1, width=32), max_size=40), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
)
def test_roundtrip(rate, channels, blocks, meta):
    arrays = [np.array(b[: len(b) // channels * channels], np.float32).reshape(-1, channels)
              for b in blocks]
    events = read(write(rate, channels, arrays, meta))
    assert events[0] == fr.Header(rate, channels)
    got = [e.samples for e in events if isinstance(e, fr.Audio)]
    want = [a for a in arrays if len(a)]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert events[-1] == fr.End(meta)
