"""Parsing kk-speakd request lines: every bad line is refused with a reason."""

from __future__ import annotations

import json
import os
import threading

import pytest

from kokoro_pipe.daemon.request import MAX_FILE_BYTES, BadRequest, Command, Request, parse


def test_plain_text_and_commands():
    assert parse(b"  Tests passed \r") == Request("Tests passed")
    assert parse(b"stop") == Command("stop")
    assert parse(b'{"command": "pause"}') == Command("pause")
    assert parse(b'{"text": "stop"}') == Request("stop"), "a command word can be spoken"
    assert parse(b"   ") is None


def test_a_full_json_request():
    line = json.dumps({"text": "Build broke", "voice": "bf_emma:0.5,af_sky:0.5", "speed": 1.2,
                       "lang": "en-gb", "priority": "interrupt", "id": 7})
    assert parse(line.encode()) == Request("Build broke", id="7", voice="bf_emma:0.5,af_sky:0.5",
                                           speed=1.2, lang="en-gb", priority="interrupt")


@pytest.mark.parametrize("line, reason", [
    (b"{not json", "invalid JSON"),
    (b"{}", 'exactly one of "text" and "file"'),
    (b'{"text": "x", "spead": 1}', "unknown field 'spead'"),
    (b'{"voice": "af_sky"}', 'exactly one of "text" and "file"'),
    (b'{"text": "x", "file": "/etc/hostname"}', 'exactly one of "text" and "file"'),
    (b'{"text": "   "}', "non-empty string"),
    (b'{"text": 5}', "non-empty string"),
    (b'{"text": "x", "speed": 3}', "out of range"),
    (b'{"text": "x", "speed": "fast"}', "must be a number"),
    (b'{"text": "x", "speed": true}', "must be a number"),
    (b'{"text": "x", "lang": "ja"}', "not supported"),
    (b'{"text": "x", "priority": "urgent"}', "priority must be one of queue, interrupt"),
    (b'{"text": "x", "id": true}', "id must be"),
    (b'{"command": "reboot"}', "command must be one of"),
    (b'{"command": "stop", "text": "x"}', "alone"),
    (b"caf\xe9", "not valid UTF-8"),
    (b"a\0b", "NUL byte"),
    (b'{"file": "relative.txt"}', "absolute path"),
    (b'{"file": "/nonexistent/x.txt"}', "cannot read"),
])
def test_bad_lines_are_refused_with_a_reason(line, reason):
    with pytest.raises(BadRequest, match=reason):
        parse(line)


def test_a_bad_request_keeps_its_id_for_the_log():
    with pytest.raises(BadRequest) as caught:
        parse(b'{"text": "x", "speed": 9, "id": "deploy"}')
    assert caught.value.request_id == "deploy"


def test_file_requests(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("First line.\n\nSecond   line.\n")
    assert parse(json.dumps({"file": str(notes)}).encode()) == Request(
        "First line. Second line.", file=str(notes))
    assert notes.exists(), "the user's own file is left alone"

    spool = tmp_path / "spool"
    spool.mkdir()
    spooled = spool / "say-1.txt"
    spooled.write_text("long text from kk-say")
    assert parse(json.dumps({"file": str(spooled)}).encode(), spool).text == "long text from kk-say"
    assert not spooled.exists(), "kk-say's spool file is deleted once read"

    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    with pytest.raises(BadRequest, match="larger than"):
        parse(json.dumps({"file": str(big)}).encode())
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        parse(json.dumps({"file": str(tmp_path / "bin")}).encode())


def test_a_fifo_named_as_file_does_not_hang_the_reader(tmp_path):
    fifo = tmp_path / "trap"
    os.mkfifo(fifo)
    result: list = []

    def attempt():
        try:
            parse(json.dumps({"file": str(fifo)}).encode())
        except BadRequest as e:
            result.append(str(e))

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(5)
    assert result == [f"{fifo} is not a regular file"]
