"""The one bounded JSON reader, and every reader of others' JSON that goes through it:
deep nesting is an ordinary bad-input error there, never a RecursionError."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from kokoro_pipe import jsonlimits
from kokoro_pipe.daemon import request, synth_protocol
from kokoro_pipe.framing import (
    KIND_END,
    KIND_WORD,
    LENGTH,
    StreamFormatError,
    encode_header,
    read_stream,
)
from kokoro_pipe.text.lines import parse_phoneme_line

DEEP = 1500  # the nesting: json.loads recurses past Python's limit


def arrays(n: int = DEEP) -> str:
    return "[" * n + "]" * n


def objects(n: int = DEEP) -> str:
    return '{"a":' * n + "1" + "}" * n


@pytest.mark.parametrize("nested", [arrays(), objects()], ids=["arrays", "objects"])
@pytest.mark.parametrize("field", ["id", "text", "voice", "unknown"])
def test_a_deep_fifo_request_is_a_bad_request(field, nested):
    line = f'{{"text":"hi","{field}":{nested}}}'.encode()
    with pytest.raises(request.BadRequest, match=re.escape("invalid JSON (nested deeper than 32")):
        request.parse(line)


@pytest.mark.parametrize("raw", [
    f'{{"protocol":1,"engine":{arrays()},"options":{{}}}}',
    f'{{"protocol":{objects()}}}',
    f'{{"protocol":1,"engine":{{}},"options":{{"lexicon":{objects()}}}}}',
])
def test_a_deep_socket_request_is_a_bad_request(raw):
    with pytest.raises(synth_protocol.BadRequest, match="nested deeper"):
        synth_protocol.decode_request(raw.encode())


def test_a_deep_socket_line_and_answer_are_bad_requests():
    with pytest.raises(synth_protocol.BadRequest, match="nested deeper"):
        synth_protocol.decode_line(f'{{"line":1,"text":{arrays()}}}'.encode())
    with pytest.raises(synth_protocol.BadRequest, match="nested deeper"):
        synth_protocol.decode_payload(f'{{"status":{arrays()}}}'.encode())


def frame(kind: int, payload: bytes) -> bytes:
    return LENGTH.pack(len(payload) + 1) + bytes([kind]) + payload


@pytest.mark.parametrize("kind", [KIND_END, KIND_WORD], ids=["end", "word"])
@pytest.mark.parametrize("nested", [arrays(), objects()], ids=["arrays", "objects"])
def test_a_deep_frame_payload_is_a_stream_format_error(kind, nested):
    payload = f'{{"utterance":1,"start":0,"end":1,"text":"x","span":{nested}}}'.encode()
    stream = io.BytesIO(encode_header(24000) + frame(kind, payload))
    with pytest.raises(StreamFormatError, match="at byte 16"):
        list(read_stream(stream, words=True))


def test_a_deep_kk_g2p_json_line_is_rejected_like_any_bad_json():
    with pytest.raises(ValueError, match=re.escape("invalid JSON (nested deeper")):
        parse_phoneme_line(f'{{"phonemes":"hɛlˈO","words":{arrays()}}}')


@pytest.mark.parametrize("text", [
    '{"text":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',  # brackets inside a string
    '{"text":"\\"' + "{" * 40 + '"}',  # after an escaped quote, still inside
    json.dumps({"a": [[[[{"b": [1, 2, {"c": None}]}]]]]}),
])
def test_brackets_in_strings_do_not_count_and_shallow_json_reads_as_before(text):
    assert jsonlimits.loads(text) == json.loads(text)


def test_the_bound_is_exact():
    assert jsonlimits.depth(arrays(jsonlimits.MAX_DEPTH)) == jsonlimits.MAX_DEPTH
    assert jsonlimits.loads(arrays(jsonlimits.MAX_DEPTH)) is not None
    with pytest.raises(jsonlimits.JsonError):
        jsonlimits.loads(arrays(jsonlimits.MAX_DEPTH + 1))


@pytest.mark.parametrize("data, reason", [
    (b'{"speed": NaN}', "NaN is not a JSON number"),
    (b'{"speed": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"line": ' + b"9" * 101 + b"}", "more than 100 digits"),
    (b'{"text": "\xff\xfe"}', "not valid UTF-8 (byte 10)"),
    (b'{"text": "' + b"x" * 100 + b'"}', "longer than 64 bytes"),
    (b'{"text": "unterminated', "Unterminated string"),
])
def test_strict_json_refusals_say_why(data, reason):
    with pytest.raises(jsonlimits.JsonError, match=re.escape(reason)):
        jsonlimits.loads(data, max_bytes=64 if b"x" * 100 in data else jsonlimits.MAX_BYTES)


def test_hostile_quoting_is_scanned_in_linear_time():
    """Every quote an unterminated string, every backslash escaping the next
    quote: a scan that restarted at each quote would take hours on 4 MiB."""
    script = (
        "from kokoro_pipe import jsonlimits as j\n"
        "for s in ['a\\\\\"' * 1_300_000, '\"\\\\' * 2_000_000, '[' * 4_000_000]:\n"
        "    try: j.loads(s)\n"
        "    except j.JsonError: pass\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()

