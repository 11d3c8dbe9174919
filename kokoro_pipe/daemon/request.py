"""kk-speakd requests: one line each, plain text, a JSON object, or a command.

    Tests passed
    stop | cancel | pause | resume
    {"text": "Build broke", "voice": "bf_emma", "speed": 1.2, "priority": "interrupt", "id": "ci"}
    {"file": "/abs/path/notes.txt"}
    {"command": "stop"}

To speak one of the command words, send it as JSON: {"text": "stop"}.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from kokoro_pipe import jsonlimits
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS
from kokoro_pipe.voice.voices import SPEED_RANGE

COMMANDS = ("stop", "cancel", "pause", "resume")
PRIORITIES = ("queue", "interrupt")
FIELDS = {"text", "file", "voice", "speed", "lang", "priority", "id", "command"}
MAX_FILE_BYTES = 1_000_000  # about six hours of speech
MAX_ID_CHARS = 64


class BadRequest(ValueError):
    def __init__(self, reason: str, request_id: str | None = None):
        super().__init__(reason)
        self.request_id = request_id


@dataclass(frozen=True)
class Command:
    name: str


@dataclass(frozen=True)
class Request:
    text: str
    id: str | None = None
    voice: str | None = None
    speed: float | None = None
    lang: str | None = None
    priority: str = "queue"
    file: str | None = None  # where the text was read from


def parse(line: bytes, spool: Path | None = None) -> Request | Command | None:
    """The request on one FIFO line; None for a blank line. Raises BadRequest.

    A file request is read here; a file in `spool` (kk-say's long texts) is
    deleted once read."""
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError as e:
        raise BadRequest(f"not valid UTF-8 (byte {e.start})") from None
    if "\0" in text:
        raise BadRequest("binary data (NUL byte), not text")
    if not text:
        return None
    if text in COMMANDS:
        return Command(text)
    if not text.startswith("{"):
        return Request(text)
    return _parse_json(text, spool)


def _parse_json(line: str, spool: Path | None) -> Request | Command:
    try:
        record = jsonlimits.loads(line)  # an object: the line starts with "{"
    except jsonlimits.JsonError as e:
        raise BadRequest(f"invalid JSON ({e})") from None
    rid = _id(record.get("id"))
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(FIELDS))})", rid)
    if "command" in record:
        if record["command"] not in COMMANDS or set(record) - {"command", "id"}:
            raise BadRequest(f"command must be one of {', '.join(COMMANDS)}, alone", rid)
        return Command(record["command"])
    if ("text" in record) == ("file" in record):
        raise BadRequest('a request needs exactly one of "text" and "file"', rid)
    if "file" in record:
        text = read_text_file(_string(record, "file", rid), spool, rid)
    else:
        text = _string(record, "text", rid)
    return Request(
        text=text,
        id=rid,
        voice=_string(record, "voice", rid) if "voice" in record else None,
        speed=_speed(record.get("speed"), rid),
        lang=_lang(record.get("lang"), rid),
        priority=_priority(record.get("priority", "queue"), rid),
        file=record.get("file"),
    )


def _id(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRequest("id must be a string or an integer")
    value = str(value)
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"id longer than {MAX_ID_CHARS} characters")
    return value


def _string(record: dict, key: str, rid: str | None) -> str:
    value = record[key]
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{key!r} must be a non-empty string", rid)
    return value.strip()


def _speed(value, rid: str | None) -> float | None:
    if value is None:
        return None
    lo, hi = SPEED_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest("speed must be a number", rid)
    if not lo <= value <= hi:
        raise BadRequest(f"speed {value} out of range {lo}..{hi}", rid)
    return float(value)


def _lang(value, rid: str | None) -> str | None:
    if value is None or value in ENGLISH or value in ESPEAK_LANGS:
        return value
    known = ", ".join([*ENGLISH, *ESPEAK_LANGS])
    raise BadRequest(f"language {value!r} is not supported (supported: {known})", rid)


def _priority(value, rid: str | None) -> str:
    if value not in PRIORITIES:
        raise BadRequest(f"priority must be one of {', '.join(PRIORITIES)}", rid)
    return value


def read_text_file(path: str, spool: Path | None, rid: str | None = None) -> str:
    """The UTF-8 text of a regular file of at most MAX_FILE_BYTES."""
    if not os.path.isabs(path):
        raise BadRequest(f"file {path!r} must be an absolute path", rid)
    try:
        # Non-blocking: a FIFO or device named here must not hang the reader.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise BadRequest(f"cannot read {path}: {e.strerror}", rid) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadRequest(f"{path} is not a regular file", rid)
        if st.st_size > MAX_FILE_BYTES:
            raise BadRequest(f"{path} is larger than {MAX_FILE_BYTES} bytes", rid)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
        if spool is not None and Path(path).parent == spool:
            Path(path).unlink(missing_ok=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"{path} is not valid UTF-8 (byte {e.start})", rid) from None
    if "\0" in text:
        raise BadRequest(f"{path} holds binary data (NUL byte)", rid)
    # One request is one utterance: line breaks inside it are spaces.
    text = " ".join(text.split())
    if not text:
        raise BadRequest(f"{path} is empty", rid)
    return text
