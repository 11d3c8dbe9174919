"""The player's logic against a fake output that records every call, and
kk-play's input decoding; no device, no server."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from kokoro_pipe.audio.input import RawFormat, ReadAhead, TimedReader, input_events
from kokoro_pipe.audio.player import Player, PlayStats, fade_in, fade_out
from kokoro_pipe.errors import InputError
from kokoro_pipe.framing import (
    Audio,
    End,
    Header,
    StartAfter,
    StreamFormatError,
    TruncatedStreamError,
    encode_audio,
    encode_end,
    encode_header,
)

RATE = 1000  # small numbers: a 25-frame block, a 2-frame fade, 50 frames of pre-roll
BLOCK, FADE, PREROLL, PREBUFFER = 25, 2, 50, 100


class FakeOutput:
    """Records what a device would have been told; `underruns` lists the
    write numbers (from 0) that report the device ran dry."""

    latency = 0.2

    def __init__(self, log: list, name: str, rate: int, channels: int, underruns=()):
        self.log, self.name, self.rate, self.channels = log, name, rate, channels
        self.writes: list[np.ndarray] = []
        self._underruns = set(underruns)

    def start(self):
        self.log.append((self.name, "start"))

    def write(self, block):
        assert block.dtype == np.float32 and block.shape[1] == self.channels
        self.log.append((self.name, "write", len(block)))
        self.writes.append(block.copy())
        return len(self.writes) - 1 in self._underruns

    def buffered(self):
        return 0  # plays at once

    def drain(self):
        self.log.append((self.name, "drain"))

    def abort(self):
        self.log.append((self.name, "abort"))

    def close(self):
        self.log.append((self.name, "close"))


class FakeDevices:
    """The opener: each open makes a new FakeOutput, named out0, out1, ..."""

    def __init__(self, underruns=()):
        self.log: list = []
        self.opened: list[FakeOutput] = []
        self._underruns = underruns

    def __call__(self, rate, channels):
        out = FakeOutput(self.log, f"out{len(self.opened)}", rate, channels, self._underruns)
        self.log.append((out.name, "open", rate, channels))
        self.opened.append(out)
        return out

    def played(self) -> np.ndarray:
        """Every non-silent frame written, in order, across all outputs."""
        frames = np.concatenate([w for out in self.opened for w in out.writes])
        return frames[np.any(frames != 0, axis=1)]

    def calls(self, name: str) -> list:
        return [entry[1] for entry in self.log if entry[0] == name]


class FakeWatch:
    def __init__(self, default="A"):
        self.default = default

    def current(self):
        return self.default


def player(devices, watch=None, **kw) -> Player:
    options = dict(block=BLOCK / RATE, preroll=PREROLL / RATE, fade=FADE / RATE,
                   prebuffer=PREBUFFER / RATE, idle_close=0.1, clock=lambda: 0.0)
    return Player(devices, watch, **{**options, **kw})


def opened(watch=None, underruns=(), **kw) -> tuple[FakeDevices, Player]:
    """A player on fake devices, opened for mono at RATE."""
    devices = FakeDevices(underruns)
    p = player(devices, watch, **kw)
    p.open(RATE, 1)
    return devices, p


def signal(n: int, channels: int = 1) -> np.ndarray:
    """Audio without a zero sample, so silence and audio are told apart."""
    ramp = np.linspace(0.2, 0.9, n, dtype=np.float32)
    return np.repeat(ramp[:, None], channels, axis=1)


def faded(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y[:FADE] *= fade_in(FADE)[:, None]
    y[-FADE:] *= fade_out(FADE)[:, None]
    return y


@settings(max_examples=60, deadline=None)
@given(n=st.integers(FADE * 2, 700), cuts=st.lists(st.integers(1, 700), max_size=8),
       channels=st.integers(1, 2))
def test_every_sample_is_played_once_in_order_with_fades_at_both_ends(n, cuts, channels):
    x = signal(n, channels)
    devices = FakeDevices()
    p = player(devices)
    p.open(RATE, channels)
    for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), n], strict=True):
        p.write(x[a:b])
    p.drain()
    np.testing.assert_array_equal(devices.played(), faded(x))
    assert p.stats.samples == n
    assert all(len(w) <= BLOCK for w in devices.opened[0].writes), "a stop waits one block"


def test_fades_are_short_smooth_ramps():
    ramp = fade_in(48)
    assert 0 < ramp[0] < 0.01 and 0.99 < ramp[-1] < 1
    assert np.all(np.diff(ramp) > 0)
    np.testing.assert_array_equal(fade_out(48), ramp[::-1])


def test_the_device_starts_with_silence_once_the_prebuffer_is_full():
    devices, p = opened()
    p.write(signal(60))  # 58 emitted (2 held for the end fade): below the prebuffer
    assert devices.calls("out0") == ["open"]
    p.write(signal(60))
    calls = devices.calls("out0")
    assert calls[:2] == ["open", "start"] and calls.count("write") > 2
    preroll = devices.opened[0].writes[:2]
    assert sum(map(len, preroll)) == PREROLL and not np.any(np.concatenate(preroll))


def test_an_utterance_shorter_than_the_prebuffer_starts_when_it_ends():
    devices, p = opened()
    p.write(signal(30))
    assert "start" not in devices.calls("out0")
    p.finish()
    assert "start" in devices.calls("out0")
    np.testing.assert_array_equal(devices.played(), faded(signal(30)))


def test_advice_holds_the_device_until_that_much_of_the_utterance_is_here():
    devices, p = opened()
    p.advise(300)  # the writer's start frame: more than the prebuffer
    p.write(signal(200))
    assert "start" not in devices.calls("out0")
    p.write(signal(200))
    assert "start" in devices.calls("out0")
    p.drain()
    both = np.concatenate([signal(200), signal(200)])
    np.testing.assert_array_equal(devices.played(), faded(both))


def test_advice_below_the_prebuffer_leaves_the_prebuffer_in_force():
    devices, p = opened()
    p.advise(10)
    p.write(signal(60))
    assert "start" not in devices.calls("out0")


def test_advice_on_a_running_stream_flows_silence_until_the_utterance_is_buffered():
    devices, p = opened()
    p.write(signal(200))
    p.finish()  # the first utterance plays; the stream stays open
    written = len(devices.opened[0].writes)
    p.advise(300)
    first = signal(200)
    ready = iter([False, False, True])
    p.write(first)
    p._wait_for(lambda: next(ready))  # what play_events does while input is awaited
    silence = devices.opened[0].writes[written:]
    assert len(silence) == 2 and not np.any(np.concatenate(silence)), "silence, not audio"
    p.write(signal(200))  # 398 held, the advice met: it all plays now, in order
    p.drain()
    assert p.stats.samples == 600


def test_play_events_follows_the_start_frame():
    devices = FakeDevices()
    started: list[bool] = []

    def events():
        yield Header(RATE, 1)
        yield StartAfter(300)
        for _ in range(2):
            yield Audio(signal(200))
            started.append("start" in devices.calls("out0"))
        yield End()

    p = player(devices)
    p.play_events(events(), lambda: True)
    assert started == [False, True] and p.stats.samples == 400


def test_ignoring_advice_starts_after_the_prebuffer_alone():
    devices = FakeDevices()
    started: list[bool] = []

    def events():
        yield Header(RATE, 1)
        yield StartAfter(300)
        yield Audio(signal(200))  # above the prebuffer, below the advice
        started.append("start" in devices.calls("out0"))
        yield End()

    p = player(devices, advice=False)
    p.play_events(events(), lambda: True)
    assert started == [True] and p.stats.samples == 200


def test_drain_pushes_silence_then_waits_then_closes():
    devices, p = opened()
    p.write(signal(200))
    p.drain()
    calls = devices.calls("out0")
    assert calls[-2:] == ["drain", "close"]
    last_writes = devices.opened[0].writes[-2:]
    assert calls[-4:-2] == ["write", "write"] and not np.any(np.concatenate(last_writes))
    assert not p.is_open


def test_abort_drops_everything_without_waiting():
    devices, p = opened()
    p.write(signal(300))
    p.abort()
    assert devices.calls("out0")[-2:] == ["abort", "close"]
    assert "drain" not in devices.calls("out0")
    p.drain()  # nothing left to do
    assert devices.calls("out0")[-1] == "close" and len(devices.opened) == 1


def test_underruns_are_counted_from_the_writes_of_audio():
    _, p = opened(underruns={1, 3, 4})  # write 0 and 1 are the pre-roll
    assert p.write(signal(400)) == 2
    p.drain()
    assert p.stats.underruns == 2


def test_a_new_default_output_takes_the_rest_without_loss_or_repeat():
    watch = FakeWatch("A")
    devices, p = opened(watch)
    x = signal(1000)
    p.write(x[:400])
    watch.default = "B"
    p.write(x[400:])
    p.drain()
    first = devices.opened[0]
    assert devices.calls("out0")[-2:] == ["drain", "close"], "old stream played out first"
    assert devices.log.index(("out0", "close")) < devices.log.index(("out1", "open", RATE, 1))
    assert p.stats.reopens == 1 and p.stats.devices == ["out0 (A)", "out1 (B)"]
    on_first = np.concatenate(first.writes)
    on_first = on_first[on_first != 0]
    switch = len(on_first)
    expected = faded(x)
    expected[switch - FADE : switch] *= fade_out(FADE)[:, None]
    expected[switch : switch + FADE] *= fade_in(FADE)[:, None]
    np.testing.assert_array_equal(devices.played(), expected)
    assert 400 - FADE <= switch <= 400 + BLOCK, "moved at the next block"
    assert devices.calls("out1")[:2] == ["open", "start"]
    assert not np.any(devices.opened[1].writes[0]), "pre-rolled on the new device too"


def test_without_a_watch_the_device_is_kept():
    watch = FakeWatch("A")
    devices, p = opened()  # no watch given
    p.write(signal(300))
    watch.default = "B"
    p.write(signal(300))
    p.drain()
    assert len(devices.opened) == 1 and p.stats.reopens == 0


def test_a_new_format_drains_and_reopens():
    devices, p = opened()
    p.write(signal(300))
    p.open(RATE, 1)  # the same again: nothing happens
    assert len(devices.opened) == 1
    p.open(2 * RATE, 2)
    p.write(signal(300, 2))
    p.drain()
    assert [(o.rate, o.channels) for o in devices.opened] == [(RATE, 1), (2 * RATE, 2)]
    assert devices.calls("out0")[-2:] == ["drain", "close"]
    assert p.stats.reopens == 1 and p.stats.samples == 600


def test_a_new_format_mid_utterance_ends_the_old_one_first():
    devices, p = opened()
    p.write(signal(1))  # held back whole, for the end fade
    p.open(RATE, 2)
    p.write(signal(300, 2))
    p.drain()
    old, new = (np.concatenate(out.writes) for out in devices.opened)
    assert np.count_nonzero(old) == 1 and old.shape[1] == 1
    new = new[np.any(new != 0, axis=1)]
    np.testing.assert_array_equal(new, faded(signal(300, 2)))


def test_the_device_name_survives_new_stats():
    _, p = opened(FakeWatch("A"))
    p.stats = PlayStats()  # kk-speakd: one PlayStats per request
    assert p.is_open and p.device == "out0 (A)"
    p.drain()
    assert not p.is_open and p.device is None


def test_between_utterances_silence_flows_until_input_comes():
    devices, p = opened()
    p.write(signal(300))
    p.finish()
    answers = iter([False, False, False, True])
    writes = len(devices.opened[0].writes)
    p.keep_alive(lambda: next(answers))
    silence = devices.opened[0].writes[writes:]
    assert len(silence) == 3 and not np.any(np.concatenate(silence))
    assert p.is_open


def test_an_idle_device_is_closed():
    devices, p = opened(idle_close=0.1)
    p.write(signal(300))
    p.finish()
    p.keep_alive(lambda: False)
    assert not p.is_open and devices.calls("out0")[-2:] == ["drain", "close"]
    p.write(signal(300))  # the next utterance opens the device again
    p.drain()
    assert len(devices.opened) == 2 and p.stats.opens == 2 and p.stats.reopens == 0


def test_each_utterance_is_faded_on_its_own():
    devices = FakeDevices()
    p = player(devices)
    x, y = signal(200), signal(150)
    p.play_events([Header(RATE), Audio(x), End(), Audio(y), End()], lambda: True)
    np.testing.assert_array_equal(devices.played(), np.concatenate([faded(x), faded(y)]))
    assert len(devices.opened) == 1


def test_an_input_fault_comes_after_what_was_whole_has_played():
    devices = FakeDevices()
    x = signal(300)

    def events():
        yield Header(RATE)
        yield Audio(x)
        raise TruncatedStreamError("stream truncated at byte 1234")

    with pytest.raises(TruncatedStreamError):
        player(devices).play_events(events())
    np.testing.assert_array_equal(devices.played(), faded(x))
    assert devices.calls("out0")[-2:] == ["drain", "close"]


def test_an_interrupt_aborts_at_once():
    devices = FakeDevices()

    def events():
        yield Header(RATE)
        yield Audio(signal(300))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        player(devices).play_events(events())
    assert devices.calls("out0")[-2:] == ["abort", "close"]
    assert "drain" not in devices.calls("out0")


def test_bad_sample_values_are_made_safe():
    devices, p = opened(fade=0.0)  # a one-frame fade: the values stay visible
    x = np.full((200, 1), 0.5, np.float32)
    x[50:53, 0] = [np.nan, 7.0, -np.inf]
    p.write(x)
    p.drain()
    audio = np.concatenate(devices.opened[0].writes)[PREROLL : PREROLL + 200, 0]
    assert audio[50:53].tolist() == [0.0, 1.0, -1.0]


# -- kk-play's input -----------------------------------------------------------


def events_of(data: bytes, raw: RawFormat | None = None) -> list:
    return list(input_events(TimedReader(io.BytesIO(data)), raw))


def test_a_framed_stream_is_recognized():
    x = signal(100)[:, 0]
    data = encode_header(RATE) + encode_audio(x) + encode_end({"id": 1})
    header, audio, end = events_of(data)
    assert header == Header(RATE, 1) and end == End({"id": 1})
    np.testing.assert_array_equal(audio.samples[:, 0], x)


def test_a_wav_file_is_read_in_blocks():
    x = np.sin(np.arange(4000) / 7).astype(np.float32) * 0.5
    wav = io.BytesIO()
    soundfile.write(wav, np.stack([x, -x], axis=1), 8000, format="WAV", subtype="FLOAT")
    events = events_of(wav.getvalue())
    assert events[0] == Header(8000, 2) and events[-1] == End()
    audio = np.concatenate([e.samples for e in events[1:-1]])
    np.testing.assert_array_equal(audio[:, 0], x)
    np.testing.assert_array_equal(audio[:, 1], -x)
    assert max(len(e.samples) for e in events[1:-1]) == 400, "50 ms blocks"


def test_raw_input_with_stray_bytes_plays_the_whole_frames_then_fails():
    x = signal(300, 2)
    stream = iter(input_events(TimedReader(io.BytesIO(x.tobytes() + b"\x01\x02\x03")),
                               RawFormat(RATE, 2)))
    assert next(stream) == Header(RATE, 2)
    audio = [next(stream).samples for _ in range(6)]
    np.testing.assert_array_equal(np.concatenate(audio), x)
    with pytest.raises(TruncatedStreamError, match="3 stray bytes"):
        next(stream)


def test_raw_input_ends_its_utterance():
    events = events_of(signal(10).tobytes(), RawFormat(RATE, 1))
    assert [type(e) for e in events] == [Header, Audio, End]


def test_garbage_is_neither_stream_nor_sound_file():
    with pytest.raises(InputError, match="neither a kokoro-pipe stream nor a sound file"):
        events_of(b"plain text, not audio\n" * 10)


def test_empty_input_is_an_empty_stream():
    assert events_of(b"") == []


def test_the_first_byte_is_timed():
    reader = TimedReader(io.BytesIO(encode_header(RATE)))
    assert reader.first_byte_at is None
    list(input_events(reader))
    assert reader.first_byte_at is not None


def test_read_ahead_keeps_order_and_raises_where_the_fault_was():
    def events():
        yield Header(RATE)
        yield End()
        raise StreamFormatError("bad frame")

    ahead = ReadAhead(events())
    got = []
    with pytest.raises(StreamFormatError, match="bad frame"):
        got.extend(ahead)
    assert got == [Header(RATE), End()]


def test_read_ahead_tells_whether_the_next_event_is_waiting():
    gate = threading.Event()

    def events():
        yield Header(RATE)
        gate.wait()
        yield End()

    ahead = ReadAhead(events())
    stream = iter(ahead)
    assert next(stream) == Header(RATE)
    assert not ahead.ready()
    gate.set()
    deadline = time.monotonic() + 10
    while not ahead.ready():
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert next(stream) == End()
