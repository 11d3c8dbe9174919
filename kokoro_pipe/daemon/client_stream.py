"""A kk-synth client's connection as the daemon uses it: every wait on the client is bounded.

- The request line must arrive whole within REQUEST_TIMEOUT (an idle or
  byte-at-a-time connection is answered and closed, not kept forever).
- Writes never block for good: they go out with MSG_DONTWAIT and poll(2) (the
  socket stays blocking for the thread reading the client's input lines), and
  a client that takes nothing of its stream for STALL_TIMEOUT is dropped.
- A client with more written to it than its socket's buffer holds (it has not
  taken what it was sent) waits for its model runs until those who have took
  theirs (daemon/turns.py): one that does not read costs the others nothing.
- The end is a lingering close: our side shut, what the client still sends
  read and dropped for a moment, so it gets the last frame and then end of
  file, not a reset (which a peer's unread bytes would cause).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

REQUEST_TIMEOUT = 10.0
STALL_TIMEOUT = 15.0
LINGER = 1.0  # seconds a closing connection's input is still read
LINGER_BYTES = 1 << 20


class NotReading(OSError):
    """The client took nothing of its stream for too long."""


class RequestDeadline:
    """Ends the reading of a request (shuts our receiving side) once `seconds` pass."""

    def __init__(self, conn: socket.socket, seconds: float = REQUEST_TIMEOUT):
        self.seconds, self.passed = seconds, False
        self._conn, self._lock, self._done = conn, threading.Lock(), False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> bool:
        """Stop the clock; True if the request came in time."""
        with self._lock:
            self._done = True
        self._timer.cancel()
        return not self.passed

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.passed = True
        with contextlib.suppress(OSError):
            self._conn.shutdown(socket.SHUT_RD)  # the reading thread sees end of file


class ClientWriter:
    """The file-like end of a client's stream (StreamWriter writes to it)."""

    def __init__(self, conn: socket.socket, stall_timeout: float = STALL_TIMEOUT):
        self.conn, self.stall_timeout = conn, stall_timeout
        self._lock = threading.Lock()
        self._blocked_since: float | None = None  # a write waits; nothing taken since
        self._gone: OSError | None = None

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        poller = select.poll()
        poller.register(self.conn, select.POLLOUT)
        try:
            while view:
                try:
                    view = view[self.conn.send(view, socket.MSG_DONTWAIT):]
                    self._taken(view.nbytes > 0)
                except BlockingIOError:
                    self._wait_writable(poller)
        except OSError as e:
            self.close(e)
            raise
        return len(data)

    def flush(self) -> None:
        pass

    def taking(self) -> bool:
        """Whether the client has taken all it was sent but its socket's buffer
        (TakingTurns' `taking`); raises OSError once it is gone."""
        with self._lock:
            if self._gone is not None:
                raise OSError(f"the client is gone: {self._gone}")
            return self._blocked_since is None

    def close(self, why: OSError | None = None) -> None:
        """No more writes; a model run waiting for this client ends (raises)."""
        with self._lock:
            self._gone = self._gone or why or OSError("closed")

    def _wait_writable(self, poller: select.poll) -> None:
        with self._lock:
            if self._blocked_since is None:
                self._blocked_since = time.monotonic()
            left = self._blocked_since + self.stall_timeout - time.monotonic()
        if left > 0 and poller.poll(left * 1000):
            return  # writable (or closed: the next send says so)
        raise NotReading(f"the client took nothing of its stream for {self.stall_timeout:g} s")

    def _taken(self, more: bool) -> None:
        with self._lock:
            self._blocked_since = time.monotonic() if more else None


def linger_close(conn: socket.socket, seconds: float = LINGER) -> None:
    """Shut our side, read what the client still sends for up to `seconds`, close."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(seconds)
        deadline, dropped = time.monotonic() + seconds, 0
        while dropped < LINGER_BYTES and time.monotonic() < deadline:
            data = conn.recv(65536)
            if not data:
                break
            dropped += len(data)
    with contextlib.suppress(OSError):  # wakes a thread still reading input lines
        conn.shutdown(socket.SHUT_RD)
    conn.close()
