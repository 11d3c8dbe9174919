"""Where sd_kokoro's speech is made: on the user's kk-speakd, so that one model
serves the user (a second one costs ~400 MiB and a cold start), else in-process.

At INIT a running kk-speakd with the same model is borrowed. With none running,
one is started (unless autospawn is off) and waited for, as kk-say does, instead
of loading a model here meanwhile: only one model ever loads, and the wait is
today's cold start (the daemon loads the same model) plus a Python start. Only
when no daemon can serve (autospawn off, it cannot start, it runs another model)
is the model loaded here, as before, and kept for the session.

sd_kokoro holds a connection to the daemon while it runs (a hold, see
synth_protocol.py), so the daemon's idle exit never takes a screen reader's
voice. A daemon gone mid-session (kk-speakd --stop) is found at the next
message and started again (else the model loads here); a message it cut off
is not said again. Each change is a "kk-speakd" line in the log.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

from kokoro_pipe.daemon import autospawn
from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.core import ChunkSource
from kokoro_pipe.daemon.fifo import Place, lock_holder
from kokoro_pipe.daemon.log import EventLog
from kokoro_pipe.daemon.request import Request
from kokoro_pipe.daemon.served_source import DaemonGone, ServedSource
from kokoro_pipe.daemon.synth_socket import connect
from kokoro_pipe.errors import KokoroPipeError, UnavailableError
from kokoro_pipe.voice.synthesis import Piece


class Borrowing:
    """A core.ChunkSource: the daemon's model while there is one to be had."""

    def __init__(self, place: Place, served: ServedSource, spawn_args: list[str] | None,
                 load_here: Callable[[], ChunkSource], log: EventLog):
        """`spawn_args`: kk-speakd's options for one started here; None: autospawn
        is off. `load_here()`: the warm in-process source."""
        self.place, self.served, self.spawn_args = place, served, spawn_args
        self._load_here, self.log = load_here, log
        self.here: ChunkSource | None = None
        self._hold: socket.socket | None = None

    def start(self) -> None:
        """At INIT: borrow a warm daemon (started first if need be), else load here."""
        reason = "no kk-speakd runs and autospawn is off"
        if self._revive():
            try:
                self.served.warm_up()
                self.log("kk-speakd", state="borrowed", pid=lock_holder(self.place))
                return
            except DaemonGone as e:
                reason = str(e)
        self._load(reason)

    def __call__(self, request: Request, stop: threading.Event) -> Iterator[Piece]:
        if self.here is None:
            if (yield from self._borrowed(request, stop)):
                return
            if self._revive(stop) and (yield from self._borrowed(request, stop)):
                return
            if stop.is_set():  # stopped while a daemon started: nothing to say now
                return
            self._load("no kk-speakd to be had")
        yield from self.here(request, stop)

    def _borrowed(self, request: Request, stop: threading.Event):
        """Pieces of `request` made by the daemon; returns False when it was not
        there to begin it (True when it went away after: the rest is not said)."""
        try:
            yield from self.served(request, stop)
        except DaemonGone as e:
            self.log("kk-speakd", state="gone", reason=str(e),
                     **({"cut": request.id} if e.heard else {}))
            return e.heard
        return True

    def _revive(self, stop: threading.Event | None = None) -> bool:
        """A hold on a ready kk-speakd: the one running, else one started now
        (when autospawn is on) and waited for, until `stop`; False when none is
        to be had."""

        def ready() -> socket.socket | None:
            if stop is not None and stop.is_set():
                raise UnavailableError("a stop came while it started")
            return _hold(self.place)

        if self._hold is not None:
            self._hold.close()
        try:
            self._hold = _hold(self.place)
            if self._hold is None and (self.spawn_args is not None or lock_holder(self.place)):
                child = None if self.spawn_args is None else \
                    autospawn.spawn(self.place, *self.spawn_args)  # None: one holds the lock
                self.log("kk-speakd", state="starting" if child else "waiting",
                         log=str(autospawn.log_path(self.place)))
                self._hold = autospawn.started(self.place, child, ready)
        except KokoroPipeError as e:
            self.log("kk-speakd", state="unavailable", reason=str(e))
            self._hold = None
        return self._hold is not None

    def _load(self, reason: str) -> None:
        if self._hold is not None:
            self._hold.close()
            self._hold = None
        self.log("kk-speakd", state="not used", reason=reason, then="loading the model here")
        self.here = self._load_here()


def _hold(place: Place) -> socket.socket | None:
    """A connection that keeps the daemon at `place` from its idle exit; None
    while none listens there (not running, or still loading)."""
    conn = connect(place.socket)
    if conn is not None:
        try:
            conn.sendall(protocol.encode_hold())
        except OSError:
            conn.close()
            return None
    return conn
