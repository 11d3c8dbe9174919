"""kk-synth borrowing kk-speakd's model: what goes over the daemon's Unix socket.

Client to daemon, JSON lines:
    {"protocol": 1, "engine": {...}, "options": {...}}     the request, first
    {"line": 3, "text": "Hello there."}                    each input line, as read
    {"line": 4, "rejected": "not valid UTF-8 (byte 2)"}    or why the client refused it
and end of input is the client shutting down its sending side. Or, alone:
    {"protocol": 1, "hold": true}     no job: the open connection counts as work, so
                                      the daemon does not leave (--idle-exit) until it closes

Daemon to client: the kokoro-pipe stream kk-synth would have written (header,
audio and end frames, byte for byte), and these ancillary frames:
    0xA3 accepted {}                   right after the header: audio will follow
    0xA0 message  {"text": "kk-synth: line 4: ...; skipped"}   a line for stderr
    0xA1 done     {"status": 0}        the whole input is spoken (65: a line was rejected)
    0xA2 error    {"error": "...", "exit": 66, "local": false}   the job ended; with
                  "local": true (another model or protocol) kk-synth runs in-process
A stream that ends without "done" or "error" is one whose daemon went away.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass

from kokoro_pipe import jsonlimits
from kokoro_pipe.framing import encode_ancillary
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS
from kokoro_pipe.text.lines import MAX_LINE_BYTES, Line, Rejected
from kokoro_pipe.text.normalize import EMOJI_MODES
from kokoro_pipe.voice.voices import SPEED_RANGE

PROTOCOL = 1
KIND_MESSAGE, KIND_DONE, KIND_ERROR, KIND_ACCEPTED = 0xA0, 0xA1, 0xA2, 0xA3
MAX_REQUEST_BYTES = 4 << 20  # the lexicon travels in it
MAX_RECORD_BYTES = 6 * MAX_LINE_BYTES + 64  # a whole input line, JSON-escaped
PAUSE_RANGE = (0.0, 10.0)


class BadRequest(ValueError):
    """The client sent something this protocol does not allow."""


@dataclass(frozen=True)
class EngineSettings:
    """What makes two engines sound the same: a daemon serves only its own."""

    model: str
    voices: str
    front: str | None
    vocoder: str | None
    provider: str
    windows: bool

    @classmethod
    def of(cls, files, provider: str, windows: bool) -> EngineSettings:
        def path(p):
            return os.path.realpath(p) if p else None

        return cls(path(files.model), path(files.voices), path(files.front),
                   path(files.vocoder), provider, windows)


@dataclass(frozen=True)
class SynthOptions:
    """kk-synth's options that shape the audio, as the daemon applies them."""

    voice: str
    speed: float = 1.0
    lang: str = "en-us"
    phonemes: bool = False
    ssml: bool | None = None
    emoji: str = "skip"
    normalize: bool = True
    lexicon: dict[str, str] | None = None  # loaded by the client: its files, its cwd
    pauses: tuple[float, float, float] = (0.0, 0.0, 0.0)  # sentence, clause, paragraph
    # Played as it is made (the framed stream into a pipe): the most seconds its
    # first audio may wait (voice/planner.py); None: written, the same on any machine.
    live_max_wait: float | None = None


def encode_request(engine: EngineSettings, options: SynthOptions) -> bytes:
    record = {"protocol": PROTOCOL, "engine": asdict(engine), "options": asdict(options)}
    return _line(record)


def encode_hold() -> bytes:
    """sd_kokoro's hold: a screen reader's voice must not leave while it may speak."""
    return _line({"protocol": PROTOCOL, "hold": True})


def decode_request(raw: bytes) -> tuple[int, EngineSettings | None, SynthOptions | None]:
    """The protocol version, engine and options of a request line; a version
    other than ours, or a hold (encode_hold), comes back without engine and options."""
    record = _object(raw, "request")
    if record.get("protocol") != PROTOCOL or (record.get("hold") is True and len(record) == 2):
        return record.get("protocol"), None, None
    engine, options = record.get("engine"), record.get("options")
    if not isinstance(engine, dict) or not isinstance(options, dict):
        raise BadRequest('a request needs "engine" and "options" objects')
    try:
        settings = EngineSettings(**engine)
        opts = SynthOptions(**options)
    except TypeError as e:
        raise BadRequest(f"bad request fields: {e}") from None
    return PROTOCOL, settings, _checked(opts)


def _checked(o: SynthOptions) -> SynthOptions:
    lo, hi = SPEED_RANGE
    checks = [
        (isinstance(o.voice, str) and o.voice, "voice must be a name"),
        (_number(o.speed) and lo <= o.speed <= hi, f"speed must be {lo}..{hi}"),
        (o.lang in ENGLISH or o.lang in ESPEAK_LANGS, "lang is not supported"),
        (isinstance(o.phonemes, bool) and isinstance(o.normalize, bool), "flags must be booleans"),
        (o.ssml is None or isinstance(o.ssml, bool), "ssml must be a boolean or null"),
        (o.emoji in EMOJI_MODES, "emoji mode unknown"),
        (o.lexicon is None or (isinstance(o.lexicon, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in o.lexicon.items())),
         "lexicon must map words to phonemes"),
        (isinstance(o.pauses, list | tuple) and len(o.pauses) == 3 and all(
            _number(p) and PAUSE_RANGE[0] <= p <= PAUSE_RANGE[1] for p in o.pauses),
         "pauses must be three seconds values"),
        (o.live_max_wait is None or (_number(o.live_max_wait) and 0 <= o.live_max_wait <= 600),
         "live_max_wait must be null or 0..600 seconds"),
    ]
    for ok, reason in checks:
        if not ok:
            raise BadRequest(reason)
    return SynthOptions(**{**asdict(o), "pauses": tuple(o.pauses)})


def encode_line(item: Line | Rejected) -> bytes:
    if isinstance(item, Rejected):
        return _line({"line": item.number, "rejected": item.reason})
    return _line({"line": item.number, "text": item.text})


def decode_line(raw: bytes) -> Line | Rejected:
    record = _object(raw, "input line")
    number = record.get("line")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadRequest("an input line needs its number")
    for key, kind in (("text", Line), ("rejected", Rejected)):
        if isinstance(record.get(key), str) and len(record) == 2:
            return kind(number, record[key])
    raise BadRequest('an input line needs "text" or "rejected", alone')


def message_frame(text: str) -> bytes:
    return encode_ancillary(KIND_MESSAGE, _json({"text": text}))


def accepted_frame() -> bytes:
    return encode_ancillary(KIND_ACCEPTED, b"{}")


def done_frame(status: int) -> bytes:
    return encode_ancillary(KIND_DONE, _json({"status": status}))


def error_frame(message: str, exit_code: int, local: bool = False) -> bytes:
    return encode_ancillary(KIND_ERROR, _json({"error": message, "exit": exit_code,
                                               "local": local}))


def decode_payload(payload: bytes) -> dict:
    return _object(payload, "answer")


def _object(raw: bytes, what: str) -> dict:
    try:
        record = jsonlimits.loads(raw)
    except jsonlimits.JsonError as e:
        raise BadRequest(f"the {what} is not JSON ({e})") from None
    if not isinstance(record, dict):
        raise BadRequest(f"the {what} is not a JSON object")
    return record


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _json(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def _line(record: dict) -> bytes:
    return _json(record) + b"\n"
