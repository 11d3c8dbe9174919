"""kk-synth's side of borrowing kk-speakd's model (protocol: daemon/synth_protocol.py).

`borrow` offers the job to a running daemon; it is None when there is none, or
when the daemon runs another model (kk-synth then loads its own, quietly).
An accepted job sends the input lines as they are read and writes what comes
back to kk-synth's own sink, so every output format works the same.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.audio.sinks import Sink
from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.synth_socket import NotAccepting, connect
from kokoro_pipe.errors import EXIT_IO, KokoroPipeError, UnavailableError
from kokoro_pipe.framing import (
    Ancillary,
    Audio,
    End,
    Header,
    StartAfter,
    StreamFormatError,
    WordMark,
    read_stream,
)
from kokoro_pipe.text.lines import Line, Rejected

if TYPE_CHECKING:  # the model's modules stay out of a borrowing kk-synth
    from kokoro_pipe.voice.render import Report

# The answer needs no model run (a voice lookup; misaki loaded, once, for a new
# language); more than this is a hung or swamped daemon, passed over.
HANDSHAKE_TIMEOUT = 15.0


class DaemonGone(KokoroPipeError):
    exit_code = EXIT_IO


class Unresponsive(UnavailableError):
    """A daemon that does not accept or answer in time: kk-synth says so and works alone."""


def borrow(socket_path: Path, engine: protocol.EngineSettings,
           options: protocol.SynthOptions, pcm: bool = False) -> DaemonJob | None:
    """A job the daemon at `socket_path` accepted, or None. Raises UnsafePathError
    for a socket that is not safely ours, Unresponsive for a daemon that does
    not take or answer the request in time, KokoroPipeError for a refused request.
    `pcm`: its audio comes as framing.Pcm bytes, to be passed on without numpy."""
    try:
        conn = connect(socket_path)
    except NotAccepting as e:
        raise Unresponsive(str(e)) from None
    if conn is None:
        return None
    try:
        conn.settimeout(HANDSHAKE_TIMEOUT)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(protocol.encode_request(engine, options))  # its answer says why
        events = read_stream(conn.makefile("rb"), ancillary=True, words=True, pcm=pcm)
        header, answer = next(events, None), next(events, None)
        conn.settimeout(None)
    except TimeoutError:
        conn.close()
        raise Unresponsive(f"it did not answer within {HANDSHAKE_TIMEOUT:g} s") from None
    except (OSError, StreamFormatError):  # gone, or not a daemon of ours
        conn.close()
        return None
    if isinstance(header, Header) and _is(answer, protocol.KIND_ACCEPTED):
        return DaemonJob(conn, events)
    conn.close()
    if _is(answer, protocol.KIND_ERROR):
        error = payload(answer)
        if not error.get("local"):
            raise KokoroPipeError(str(error.get("error")), int(error.get("exit", 1)))
    return None


class DaemonJob:
    def __init__(self, conn: socket.socket, events):
        self.conn, self.events = conn, events
        self._failure: BaseException | None = None

    def run(self, lines: Iterable[Line | Rejected], sink: Sink, report: Report) -> int:
        """Stream `lines` to the daemon and its audio to `sink`; the exit status."""
        sender = threading.Thread(target=self._send, args=(lines,), name="kk-send", daemon=True)
        sender.start()
        try:
            status = self._receive(sink, report)
        finally:
            self.conn.close()
        if self._failure is not None:  # reading the input failed: that is the error
            raise self._failure
        if status is None:
            raise DaemonGone("kk-speakd went away mid-stream; the output is cut short")
        return status

    def _receive(self, sink: Sink, report: Report) -> int | None:
        while (event := self._next()) is not None:
            if isinstance(event, Audio):
                sink.audio(event.samples)  # Pcm, or frames x 1: every sink takes either
                report.audio(len(event.samples) / SAMPLE_RATE)
            elif isinstance(event, WordMark):
                sink.words([event])
            elif isinstance(event, StartAfter):
                sink.advise(event)
            elif isinstance(event, End):
                sink.end(event.meta)
                report.spoken(len(str(event.meta.get("text", ""))))
            elif isinstance(event, Ancillary):
                answer = payload(event)
                if event.kind == protocol.KIND_MESSAGE:
                    report.message(str(answer.get("text")))
                elif event.kind == protocol.KIND_DONE:
                    return int(answer.get("status", 0))
                elif event.kind == protocol.KIND_ERROR:
                    raise KokoroPipeError(str(answer.get("error")),
                                          int(answer.get("exit", 1)))
        return None

    def _next(self):
        """The daemon's next frame; None where it went away (what was whole is written)."""
        try:
            return next(self.events, None)
        except (OSError, StreamFormatError):
            return None

    def _send(self, lines: Iterable[Line | Rejected]) -> None:
        try:
            for item in lines:
                self.conn.sendall(protocol.encode_line(item))
            self.conn.shutdown(socket.SHUT_WR)  # end of input
        except OSError:
            pass  # the daemon went away: the receiving side reports it
        except BaseException as e:  # noqa: BLE001 - reading the input failed: end the job
            self._failure = e
            with contextlib.suppress(OSError):
                self.conn.shutdown(socket.SHUT_RDWR)


def _is(frame, kind: int) -> bool:
    return isinstance(frame, Ancillary) and frame.kind == kind


def payload(frame: Ancillary) -> dict:
    """An answer frame's JSON object; {} when it is not one."""
    try:
        return protocol.decode_payload(frame.payload)
    except protocol.BadRequest:
        return {}
