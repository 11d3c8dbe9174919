"""kk-speakd serving synthesis: kk-synth's job, run on the daemon's warm model.

One thread per client runs the same code as an in-process kk-synth
(voice/render.py) and writes the framed stream to the socket. Model runs take
turns with speech (daemon/turns.py). A client that goes away ends its job at
the next chunk; a bad request gets an error frame; neither touches the others.
No wait on a client is unbounded (daemon/client_stream.py), and the accepting
thread outlives its errors (out of descriptors: it backs off and goes on).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.audio.sinks import FramedSink
from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.client_stream import (
    ClientWriter,
    NotReading,
    RequestDeadline,
    linger_close,
)
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.styles import StyleCache
from kokoro_pipe.daemon.synth_socket import BACKLOG, peer
from kokoro_pipe.daemon.turns import SYNTHESIS, TakingTurns, Turns
from kokoro_pipe.errors import EXIT_FAILURE, EXIT_USAGE, KokoroPipeError
from kokoro_pipe.text.chunks import Pauses
from kokoro_pipe.text.g2p import G2P, front_end
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.render import utterances, write_events
from kokoro_pipe.voice.synthesis import Synthesizer

ACCEPT_PAUSE = (0.05, 1.0)  # seconds between failing accepts: first, at most


@dataclass
class Client:
    id: str
    pid: int | None
    since: float = field(default_factory=time.time)
    lines: int = 0  # input lines received
    utterances: int = 0  # spoken and sent
    audio_s: float = 0.0

    def status(self) -> dict:
        return {"id": self.id, "pid": self.pid, "since": round(self.since, 3),
                "lines": self.lines, "utterances": self.utterances,
                "audio_s": round(self.audio_s, 2)}


class SynthServer:
    def __init__(self, engine, g2p: G2P, turns: Turns, settings: protocol.EngineSettings,
                 log: EventLog, status: StatusFile, styles: StyleCache):
        self._engine, self._turns = engine, turns
        self.engine = TakingTurns(engine, turns, SYNTHESIS)
        self.settings, self.log, self.status, self.styles = settings, log, status, styles
        self._g2ps = {g2p.lang: g2p}  # misaki per language, shared with speech
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[Client, socket.socket, threading.Thread]] = {}
        self._count = 0
        self._listener: socket.socket | None = None
        self._path: Path | None = None
        self._closing = False

    def start(self, listener: socket.socket, path: Path) -> None:
        """Serve on `listener`, bound at `path` (synth_socket.claim) and not yet listening."""
        self._listener, self._path = listener, path
        self._inode = os.lstat(path).st_ino
        listener.listen(BACKLOG)
        self._publish()
        threading.Thread(target=self._accept, name="kk-synth-accept", daemon=True).start()

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting, end every client's job (after its current chunk) and wait."""
        if self._listener is None:
            return
        self._closing = True
        with contextlib.suppress(OSError):  # wakes the accepting thread (close alone may not)
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with contextlib.suppress(OSError):
            if os.lstat(self._path).st_ino == self._inode:  # not a successor's
                self._path.unlink()
        with self._lock:
            clients = list(self._clients.values())
        for _, conn, _ in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, _, thread in clients:
            thread.join(timeout)

    def _accept(self) -> None:
        """Accept until closed. An error (EMFILE, ENFILE, ENOBUFS, ECONNABORTED, no
        thread to be had) is logged once per episode; the pause doubles meanwhile."""
        failing, pause = None, ACCEPT_PAUSE[0]
        while True:
            try:
                self._start_serving(self._listener.accept()[0])
            except (OSError, RuntimeError) as e:  # RuntimeError: can't start a thread
                if self._closing:
                    return
                if failing is None:
                    failing = [time.monotonic(), 0]
                    self.log("error", reason=f"accepting kk-synth clients: "
                             f"{type(e).__name__}: {e}; retrying")
                failing[1] += 1
                time.sleep(pause)
                pause = min(2 * pause, ACCEPT_PAUSE[1])
                continue
            if failing is not None:
                self.log("recovered", what="accepting kk-synth clients", failures=failing[1],
                         seconds=round(time.monotonic() - failing[0], 3))
                failing, pause = None, ACCEPT_PAUSE[0]

    def _start_serving(self, conn: socket.socket) -> None:
        with self._lock:
            self._count += 1
            cid = f"s{self._count}"
        try:
            threading.Thread(target=self._serve, args=(conn, cid), name=f"kk-{cid}").start()
        except RuntimeError:
            conn.close()
            raise

    def _serve(self, conn: socket.socket, cid: str) -> None:
        try:
            pid, uid = peer(conn)
        except OSError:  # gone already
            return conn.close()
        writer = ClientWriter(conn)
        client = Client(cid, pid)
        outcome, reason = "done", None
        with self._lock:
            self._clients[cid] = (client, conn, threading.current_thread())
        try:
            sink = FramedSink(writer, SAMPLE_RATE)  # every answer is a stream, errors too
            if uid != os.geteuid():
                raise _Refused(f"peer uid {uid} is not ours")
            outcome = self._run(conn, writer, sink, client)
        except _Refused as e:
            outcome, reason = "refused", str(e)
            _send(writer, protocol.error_frame(f"kk-speakd: {e}", EXIT_USAGE))
        except _Local as e:
            outcome, reason = "declined", str(e)
            _send(writer, protocol.error_frame(str(e), EXIT_FAILURE, local=True))
        except protocol.BadRequest as e:
            outcome, reason = "rejected", str(e)
            _send(writer, protocol.error_frame(f"kk-speakd: bad request: {e}", EXIT_FAILURE))
        except KokoroPipeError as e:  # what kk-synth would have said in-process
            outcome, reason = "rejected", str(e)
            _send(writer, protocol.error_frame(str(e), e.exit_code))
        except NotReading as e:  # its buffers are full: nothing more can reach it
            outcome, reason = "dropped", str(e)
        except OSError as e:  # the client went away (or we are closing)
            outcome, reason = "disconnected", f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - one client's failure must not kill the daemon
            outcome, reason = "failed", f"{type(e).__name__}: {e}"
            _send(writer, protocol.error_frame(f"kk-speakd: internal error: {reason}",
                                               EXIT_FAILURE))
        finally:
            writer.close()
            linger_close(conn)  # the end, even while a reader file holds it
            with self._lock:
                self._clients.pop(cid, None)
            self._publish()
        record = {"id": cid, "pid": pid, "outcome": outcome, "lines": client.lines,
                  "utterances": client.utterances, "audio_s": round(client.audio_s, 3),
                  "seconds": round(time.time() - client.since, 3)}
        self.log("synthesis", **record, **({"reason": reason} if reason else {}))

    def _run(self, conn: socket.socket, writer: ClientWriter, sink: FramedSink,
             client: Client) -> str:
        """The client's job; its outcome for the log."""
        reader = conn.makefile("rb")
        version, settings, options = protocol.decode_request(_request(reader, conn))
        if version != protocol.PROTOCOL:
            raise _Local(f"kk-speakd speaks protocol {protocol.PROTOCOL}, not {version}")
        if settings is None:  # a hold: listed as a client (work, for the idle exit) till EOF
            while reader.read(4096):
                pass
            return "held"
        if settings != self.settings:
            raise _Local("kk-speakd runs another model or model options")
        style = self.styles.get(options.voice, self.engine.style)  # UsageError if unknown
        g2p = None if options.phonemes else self._g2p(options)
        pauses = Pauses(*options.pauses)
        engine = TakingTurns(self._engine, self._turns, SYNTHESIS, writer.taking)
        live = None if options.live_max_wait is None else Policy(max_wait=options.live_max_wait)
        synthesizer = Synthesizer(engine, style, options.speed, g2p and g2p.words, pauses,
                                  options.ssml, live)
        writer.write(protocol.accepted_frame())
        self._publish()
        events = synthesizer.stream(utterances(self._lines(reader, client), options.phonemes))
        with contextlib.closing(events):  # ends its producer now, not when collected
            status = write_events(events, sink, pauses.paragraph, _Report(self, client, writer))
        writer.write(protocol.done_frame(status))
        return "done"

    def _lines(self, reader, client: Client):
        while raw := reader.readline(protocol.MAX_RECORD_BYTES + 1):
            if not raw.endswith(b"\n"):
                raise protocol.BadRequest("an input line is cut off or too long")
            client.lines += 1
            yield protocol.decode_line(raw)

    def _g2p(self, options: protocol.SynthOptions) -> G2P:
        with self._lock:  # loading misaki for a new language takes a while, once
            base = self._g2ps.get(options.lang)
            if base is None:
                base = self._g2ps[options.lang] = G2P(options.lang)
        if not options.normalize:
            return base.sharing(str)
        lexicon = options.lexicon if options.lexicon is not None else {}
        return base.sharing(front_end(options.lang, options.emoji, lexicon=lexicon))

    def _publish(self) -> None:
        # Written under the lock: a list taken before a client left must not
        # land after the list without it (a stale client keeps idle exit off).
        with self._lock:
            self.status.update(clients=[c.status() for c, _, _ in self._clients.values()])


class _Local(Exception):
    """This daemon cannot make the same samples: the client runs in-process."""


class _Refused(Exception):
    """A peer of another user."""


class _Report:
    """Progress into the status file; rejected lines to the client's stderr."""

    def __init__(self, server: SynthServer, client: Client, writer: ClientWriter):
        self.server, self.client, self.writer = server, client, writer

    def audio(self, seconds: float, line_chars: int = 0) -> None:
        self.client.audio_s += seconds
        self.server._publish()

    def spoken(self, line_chars: int) -> None:
        self.client.utterances += 1

    def message(self, line: str) -> None:
        self.writer.write(protocol.message_frame(line))


def _request(reader, conn: socket.socket) -> bytes:
    """The request line, which must come whole within REQUEST_TIMEOUT."""
    deadline = RequestDeadline(conn)
    try:
        raw = reader.readline(protocol.MAX_REQUEST_BYTES + 1)
    finally:
        in_time = deadline.cancel()
    if not in_time:
        raise protocol.BadRequest(f"no whole request line within {deadline.seconds:g} s")
    if not raw.endswith(b"\n"):
        raise protocol.BadRequest("the request line is missing, cut off or too long")
    return raw


def _send(writer: ClientWriter, data: bytes) -> None:
    with contextlib.suppress(OSError):
        writer.write(data)
