"""kk-speakd's synthesis socket: made private, checked before use, peers checked.

The socket sits beside the FIFO in the daemon's 0700 directory, mode 0600.
A kk-synth connects only to a socket that is its own user's (not a symlink,
not a regular file put in its place); the daemon serves only peers of its
own user, asking the kernel who they are (SO_PEERCRED, LOCAL_PEERCRED).
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import sys
import time
from pathlib import Path

from kokoro_pipe.daemon.fifo import check_own, check_private_dir
from kokoro_pipe.errors import UnavailableError

BACKLOG = 16
CONNECT_TIMEOUT = 5.0  # a daemon that accepts nothing for this long is passed over
CONNECT_RETRY = 0.05
# macOS <sys/un.h>: getsockopt(fd, SOL_LOCAL, LOCAL_PEERCRED) gives a struct xucred.
SOL_LOCAL, LOCAL_PEERCRED, LOCAL_PEERPID = 0, 0x001, 0x002


def claim(path: Path) -> socket.socket:
    """Bind the socket at `path` (replacing a stale one of ours; call with the
    daemon's lock held), mode 0600 from the start. Not listening yet: until
    then a kk-synth's connect() is refused at once, as if no daemon ran.
    Raises UnsafePathError for something else there (a file, a symlink,
    another user's socket)."""
    check_socket(path)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(str(path))
    finally:
        os.umask(old)
    return server


def connect(path: Path, timeout: float = CONNECT_TIMEOUT) -> socket.socket | None:
    """A connection to a daemon's socket; None when none listens there.
    Raises UnsafePathError for a socket that is not safely ours, NotAccepting
    when its backlog stays full for `timeout` seconds."""
    if not path.parent.exists():
        return None
    check_private_dir(path.parent)
    if check_socket(path) is None:
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)  # a full backlog: EAGAIN at once (Linux), else a bounded wait
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.connect(str(path))
            return client
        except (BlockingIOError, TimeoutError):
            if time.monotonic() >= deadline:
                client.close()
                raise NotAccepting(f"it accepted no connection within {timeout:g} s") from None
            time.sleep(CONNECT_RETRY)
        except OSError:  # refused (a stale socket, or not listening yet), or gone meanwhile
            client.close()
            return None


class NotAccepting(UnavailableError):
    """A daemon listens there but does not take connections (out of descriptors, hung)."""


def check_socket(path: Path) -> os.stat_result | None:
    """The socket's stat, None if absent; refuses a symlink, a non-socket, another owner."""
    return check_own(path, stat.S_ISSOCK, "a socket")


def peer(conn: socket.socket) -> tuple[int | None, int]:
    """The (pid, uid) of the process at the other end, from the kernel."""
    if sys.platform == "darwin":
        cred = conn.getsockopt(SOL_LOCAL, LOCAL_PEERCRED, 4 + 4 + 2 + 2 + 16 * 4)
        _, uid = struct.unpack_from("=II", cred)
        pid = struct.unpack("=i", conn.getsockopt(SOL_LOCAL, LOCAL_PEERPID, 4))[0]
        return pid, uid
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return pid, uid
