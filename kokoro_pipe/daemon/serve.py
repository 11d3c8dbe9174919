"""kk-speakd's life: claim its FIFO, socket and lock, load the model (a stop
meanwhile ends it at once), then speak what the FIFO brings and serve kk-synth
clients on the socket until a stop signal, an idle exit or a failed reader.
Kept out of cli/speakd.py so that `kk-speakd --status`, `--stop` and
`--fifo-path` answer without importing any of it (the model's modules and numpy
took most of their time, 0.65 s under load)."""

from __future__ import annotations

import faulthandler
import os
import signal
import socket
import threading
import time
from typing import TextIO

from kokoro_pipe.daemon.core import Daemon
from kokoro_pipe.daemon.fifo import (
    Place,
    acquire_lock,
    adopt_fifo,
    open_fifo,
    prepare_directory,
    read_lines,
)
from kokoro_pipe.daemon.idle import IdleExit
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.speaker import Speaker
from kokoro_pipe.daemon.speech_source import SpeechSource, freeze_loaded, load_unless
from kokoro_pipe.daemon.styles import StyleCache
from kokoro_pipe.daemon.synth_protocol import EngineSettings
from kokoro_pipe.daemon.synth_server import SynthServer
from kokoro_pipe.daemon.synth_socket import claim
from kokoro_pipe.daemon.turns import SPEECH, TakingTurns, Turns
from kokoro_pipe.errors import EXIT_IO, KokoroPipeError
from kokoro_pipe.text.chunks import PARAGRAPH_PAUSE
from kokoro_pipe.text.g2p import lang_for_voice
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.vocoder import Windows

SYSTEMD_FIRST_FD = 3  # sd_listen_fds(3)


def serve(stream: TextIO, place: Place, paths, voice, speed, lang, queue_size, cache=None,
          provider="cpu", gap: float = PARAGRAPH_PAUSE, windows: Windows | None = None,
          threads: int | None = None, live: Policy | None = None,
          autospawned: bool = False, idle_exit: float = 0) -> int:
    """Until stopped; the log's JSON lines go to `stream`. Returns the exit status."""
    log = EventLog(stream)
    # SIGUSR1: every thread's stack into the log, to see where a stalled daemon waits.
    faulthandler.register(signal.SIGUSR1, stream, all_threads=True)
    prepare_directory(place.directory)
    lock = acquire_lock(place)  # before touching the FIFO: a second instance leaves it alone
    fd = _systemd_fifo(place) or open_fifo(place)
    # Claimed before loading and before any thread: something else at the
    # socket's path ends us here, promptly, with one line (exit 77).
    listener = claim(place.socket)
    status = StatusFile(place.status)
    began = time.monotonic()
    stopping = threading.Event()  # set by a stop signal, from now until we exit
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.set())
    status.update(state="loading", autospawned=autospawned)
    model = load_unless(stopping, paths, lang or lang_for_voice(voice), provider, windows,
                         threads)
    if model is None:  # stopped while loading (kk-speakd --stop, systemd, a logout)
        log("stopping", pid=os.getpid(), state="loading")
        listener.close()
        place.socket.unlink(missing_ok=True)  # nothing left for kk-synth or --status to find
        status.remove()
        os.close(lock)
        os._exit(0)  # at once: the model's thread may load on, and an exit would wait for it
    engine, g2p = model
    turns = Turns()  # speech and kk-synth clients share the model, speech first
    styles = StyleCache(voice)  # and the styles of recent voices
    source = SpeechSource(TakingTurns(engine, turns, SPEECH), voice, speed, g2p, cache, styles,
                          live)
    loaded = time.monotonic()
    source.warm_up()
    freeze_loaded()
    output = Speaker()
    daemon = Daemon(source, output, log, status, queue_size, spool=place.spool, gap=gap)
    synthesis = SynthServer(engine, g2p, turns, EngineSettings.of(paths, provider, bool(windows)),
                            log, status, styles)
    reader_failed: list[str] = []
    broken = None
    try:  # once threads run, every way out ends them
        daemon.start()
        synthesis.start(listener, place.socket)
        threading.Thread(target=_read, args=(fd, daemon, stopping, reader_failed, log),
                         name="kk-fifo", daemon=True).start()
        log("ready", pid=os.getpid(), fifo=str(place.fifo), socket=str(place.socket),
            voice=voice, queue_size=queue_size, load_s=round(loaded - began, 2),
            warmup_s=round(time.monotonic() - loaded, 2))
        _notify_systemd("READY=1")
        if idle_exit:
            def leave() -> None:
                log("idle", pid=os.getpid(), seconds=idle_exit)
                stopping.set()

            IdleExit(idle_exit, leave).watch(status)
        while not stopping.wait(1.0):
            if broken := daemon.broken():  # a bug; a new daemon speaks again
                log("error", reason=broken)
                break
        log("stopping", pid=os.getpid())
        _notify_systemd("STOPPING=1")
    finally:
        synthesis.close()
        daemon.shutdown()
        status.remove()
        os.close(lock)
    if reader_failed:  # exit non-zero so that launchd or systemd restart us
        raise KokoroPipeError(f"reading {place.fifo} failed: {reader_failed[0]}", EXIT_IO)
    if broken:
        raise KokoroPipeError(f"cannot speak any more: {broken}")
    return 0  # a requested stop is a success: launchd and systemd do not restart it


def _read(fd: int, daemon: Daemon, stopping: threading.Event, failed: list[str],
          log: EventLog) -> None:
    try:
        for line in read_lines(fd):
            daemon.submit(line, time.monotonic())
        failed.append("end of file")  # cannot happen while we hold it open read-write
    except Exception as e:  # noqa: BLE001 - a deaf daemon must not linger
        failed.append(f"{type(e).__name__}: {e}")
    log("error", reason=f"FIFO reader stopped: {failed[0]}")
    stopping.set()


def _systemd_fifo(place: Place) -> int | None:
    """The FIFO systemd passed (socket activation, ListenFIFO=), if any."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)  # not for our children
    os.set_inheritable(SYSTEMD_FIRST_FD, False)
    return adopt_fifo(SYSTEMD_FIRST_FD, place.fifo)


def _notify_systemd(message: str) -> None:
    """sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(address)
            s.sendall(message.encode())
    except OSError:
        pass
