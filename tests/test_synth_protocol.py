"""The pieces under kk-synth's borrowing of kk-speakd, without a daemon: turns
on the shared model, the request protocol, the socket's safety checks."""

from __future__ import annotations

import io
import os
import socket
import stat
import threading
import time

import numpy as np
import pytest

from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.fifo import UnsafePathError
from kokoro_pipe.daemon.synth_socket import claim, connect, peer
from kokoro_pipe.daemon.turns import SPEECH, SYNTHESIS, TakingTurns, Turns
from kokoro_pipe.framing import Ancillary, Audio, Header, StreamWriter, read_stream
from kokoro_pipe.text.lines import Line, Rejected

ENGINE = protocol.EngineSettings("/m.onnx", "/v.bin", "/m.front.onnx", "/m.vocoder.onnx",
                                 "auto", False)


def _wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_speech_goes_before_waiting_clients_and_clients_go_in_turn():
    turns, order = Turns(), []

    def take(name: str, priority: int) -> None:
        with turns.turn(priority):
            order.append(name)

    with turns.turn(SYNTHESIS):  # a client's chunk is running
        threads = []
        for name, priority in [("client 1", SYNTHESIS), ("client 2", SYNTHESIS),
                               ("speech", SPEECH)]:
            threads.append(threading.Thread(target=take, args=(name, priority)))
            threads[-1].start()
            waiting = len(threads)
            _wait_until(lambda: len(turns._waiting) == waiting)  # noqa: B023 - called at once
    for t in threads:
        t.join(10)
    assert order == ["speech", "client 1", "client 2"]


def test_a_client_that_has_not_taken_its_stream_waits_for_those_that_have():
    """Who has taken it all goes first, as it stands when the model is free."""
    turns, order = Turns(), []
    taking = {"slow reader": True, "reader": True}

    def take(name: str) -> None:
        with turns.turn(SYNTHESIS, lambda: taking[name]):
            order.append(name)

    with turns.turn(SYNTHESIS):
        threads = [threading.Thread(target=take, args=(name,)) for name in taking]
        for waiting, t in enumerate(threads, 1):
            t.start()
            _wait_until(lambda: len(turns._waiting) == waiting)  # noqa: B023 - called at once
        taking["slow reader"] = False  # its buffer filled while it waited
    for t in threads:
        t.join(10)
    assert order == ["reader", "slow reader"]


def test_no_model_run_for_a_client_gone_while_it_waited():
    turns, runs = Turns(), []

    class Engine:
        def stream(self, *args, **kwargs):
            runs.append(1)
            yield np.zeros(10, np.float32)

    def gone() -> bool:
        raise OSError("the client is gone")

    with pytest.raises(OSError, match="gone"):
        list(TakingTurns(Engine(), turns, SYNTHESIS, gone).stream("hə", None))
    assert runs == [] and turns._holder is None


def test_each_piece_of_a_stream_is_made_in_a_turn():
    turns, seen = Turns(), []

    class Engine:
        sample_rate = 24_000

        def stream(self, phonemes, style, speed=1.0, windowed=False):
            for i in range(3):
                seen.append(turns._holder is not None)
                yield np.full(10, i, np.float32)

    shared = TakingTurns(Engine(), turns, SYNTHESIS)
    pieces = list(shared.stream("hə", None))
    assert [p[0] for p in pieces] == [0, 1, 2] and seen == [True] * 3
    assert turns._holder is None and shared.sample_rate == 24_000


def test_a_request_goes_through_and_bad_ones_are_named():
    options = protocol.SynthOptions("bf_emma:0.6,af_sky:0.4", 1.25, "en-gb", False, True,
                                    "name", True, {"kokoro": "kˈOkˌOɹO"}, (0.1, 0.2, 0.5))
    assert protocol.decode_request(protocol.encode_request(ENGINE, options)) == (
        protocol.PROTOCOL, ENGINE, options)
    assert protocol.decode_request(b'{"protocol": 99}\n') == (99, None, None)
    assert protocol.decode_request(protocol.encode_hold()) == (protocol.PROTOCOL, None, None)
    good = protocol.encode_request(ENGINE, options).decode()
    for bad, reason in [("nonsense", "not JSON"), ("[]", "not a JSON object"),
                        ('{"protocol": 1}', "needs"), ('{"protocol": 1, "hold": 1}', "needs"),
                        (good.replace('"speed":1.25', '"speed":9'), "speed"),
                        (good.replace('"speed":1.25', '"speed":true'), "speed"),
                        (good.replace('"lang":"en-gb"', '"lang":"xx"'), "lang"),
                        (good.replace('"emoji":"name"', '"emoji":"sing"'), "emoji"),
                        (good.replace('[0.1,0.2,0.5]', '[0.1,0.2]'), "pauses"),
                        (good.replace('"kˈOkˌOɹO"', '3'), "lexicon"),
                        (good.replace('"options":{', '"options":{"x":1,'), "fields")]:
        with pytest.raises(protocol.BadRequest, match=reason):
            protocol.decode_request(bad.encode())


def test_input_lines_go_through_and_bad_ones_are_named():
    for item in [Line(3, "Hello \"there\"\\ \u2014 ok"), Rejected(4, "not valid UTF-8")]:
        assert protocol.decode_line(protocol.encode_line(item)) == item
    for bad in [b'{"text": "x"}', b'{"line": 0, "text": "x"}', b'{"line": 1}',
                b'{"line": 1, "text": "x", "more": 1}', b'{"line": true, "text": "x"}']:
        with pytest.raises(protocol.BadRequest):
            protocol.decode_line(bad)


def test_answers_are_ancillary_frames_that_plain_readers_skip():
    out = io.BytesIO()
    writer = StreamWriter(out, 24_000)
    out.write(protocol.accepted_frame())
    writer.audio(np.ones(4, np.float32))
    out.write(protocol.message_frame("kk-synth: line 2: bad; skipped"))
    out.write(protocol.done_frame(65))
    writer.end({"id": 1})
    plain = list(read_stream(io.BytesIO(out.getvalue())))
    assert [type(e) for e in plain] == [Header, Audio, type(plain[-1])]
    kinds = [e.kind for e in read_stream(io.BytesIO(out.getvalue()), ancillary=True)
             if isinstance(e, Ancillary)]
    assert kinds == [protocol.KIND_ACCEPTED, protocol.KIND_MESSAGE, protocol.KIND_DONE]


def test_the_kernel_names_the_peer():
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert peer(a) == (os.getpid(), os.geteuid())


def test_the_socket_is_private_and_replaces_only_a_stale_socket(tmp_path):
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    path = directory / "synth.sock"
    with claim(path):
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    with claim(path) as server:  # the stale one of a crashed daemon is replaced
        assert connect(path) is None  # claimed, not listening yet: as if no daemon ran
        server.listen(1)
        client = connect(path)
        assert client is not None
        client.close()
        server.close()
        assert connect(path) is None  # nobody listens: no daemon
    path.unlink()
    assert connect(path) is None
    path.write_text("")
    with pytest.raises(UnsafePathError, match="not a socket"):
        claim(path)
    directory.chmod(0o755)
    with pytest.raises(UnsafePathError, match="accessible to others"):
        connect(path)
