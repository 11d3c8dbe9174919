"""Line input: bounded memory, strict UTF-8, binary refused, good lines kept."""

import io

import pytest

from kokoro_pipe.text.lines import Line, Rejected, parse_phoneme_line, read_lines


def lines(data: bytes, **kw):
    return list(read_lines(io.BytesIO(data), **kw))


def test_bad_lines_are_rejected_and_the_rest_kept():
    got = lines(b"one\n\xff\xfe\nthree\x00\n\n  four  \n", max_bytes=100)
    assert got == [
        Line(1, "one"),
        Rejected(2, "not valid UTF-8 (byte 0)"),
        Rejected(3, "binary data (NUL byte), not text"),
        Line(5, "four"),
    ]


def test_an_overlong_line_is_refused_without_reading_it_whole():
    reads = []

    class Spy(io.BytesIO):
        def readline(self, limit=-1):
            reads.append(limit)
            return super().readline(limit)

    got = list(read_lines(Spy(b"x" * 5000 + b"\nafter\n"), max_bytes=100))
    assert got == [Rejected(1, "longer than 100 bytes"), Line(2, "after")]
    assert all(0 < n <= 101 for n in reads)


def test_blank_lines_kept_on_request():
    assert lines(b"a\n\nb", keep_blank=True) == [Line(1, "a"), Line(2, ""), Line(3, "b")]


def test_phoneme_lines():
    assert parse_phoneme_line("həlˈO").phonemes == "həlˈO"
    rec = parse_phoneme_line('{"line": 1, "text": "Hello", "phonemes": "həlˈO"}')
    assert (rec.text, rec.phonemes) == ("Hello", "həlˈO")
    with pytest.raises(ValueError, match="invalid JSON"):
        parse_phoneme_line("{nope")
    with pytest.raises(ValueError, match="phonemes"):
        parse_phoneme_line('{"text": "x"}')
