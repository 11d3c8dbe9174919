"""The request FIFO of kk-speakd: where it lives, checks that it is safe, the
one-instance lock beside it, and reading it line by line.

Anyone who can write the FIFO can make the machine speak and read files the
owner can read (file requests), so the directory must be the owner's, 0700,
and the FIFO the owner's, 0600, neither a symlink.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kokoro_pipe.errors import KokoroPipeError

FIFO_NAME = "speak.fifo"
LOCK_NAME = "speak.lock"
STATUS_NAME = "status.json"
SPOOL_NAME = "spool"  # long texts kk-say hands over as files
SOCKET_NAME = "synth.sock"  # synthesis for kk-synth (daemon/synth_socket.py)
ATOMIC_BYTES = 512  # PIPE_BUF on macOS (4096 on Linux): longer writes may interleave
MAX_LINE_BYTES = 16_384  # a longer line is refused; long text goes as a file request
READ_BLOCK = 4096

EXIT_RUNNING = 75  # EX_TEMPFAIL: another kk-speakd holds the lock
EXIT_UNSAFE = 77  # EX_NOPERM: the FIFO path is a symlink, not a FIFO, or not ours


class UnsafePathError(KokoroPipeError):
    exit_code = EXIT_UNSAFE


class AlreadyRunningError(KokoroPipeError):
    exit_code = EXIT_RUNNING


def default_fifo_path() -> Path:
    """$KOKORO_PIPE_FIFO, else $XDG_RUNTIME_DIR/kokoro-pipe/speak.fifo on Linux,
    ~/Library/Caches/kokoro-pipe/speak.fifo on macOS (the same for launchd
    agents and shells, unlike $TMPDIR), else /tmp/kokoro-pipe-UID/speak.fifo."""
    if os.environ.get("KOKORO_PIPE_FIFO"):
        return Path(os.environ["KOKORO_PIPE_FIFO"]).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "kokoro-pipe"
    elif os.environ.get("XDG_RUNTIME_DIR"):
        base = Path(os.environ["XDG_RUNTIME_DIR"]) / "kokoro-pipe"
    else:
        base = Path(f"/tmp/kokoro-pipe-{os.geteuid()}")
    return base / FIFO_NAME


@dataclass(frozen=True)
class Place:
    """The files of one daemon, all in the FIFO's directory."""

    fifo: Path

    @property
    def directory(self) -> Path:
        return self.fifo.parent

    @property
    def lock(self) -> Path:
        return self.directory / LOCK_NAME

    @property
    def status(self) -> Path:
        return self.directory / STATUS_NAME

    @property
    def spool(self) -> Path:
        return self.directory / SPOOL_NAME

    @property
    def socket(self) -> Path:
        return self.directory / SOCKET_NAME


def prepare_directory(directory: Path) -> None:
    """Create `directory` 0700, or check that an existing one is private and ours."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise UnsafePathError(f"cannot create {directory}: {e.strerror}") from None
    check_private_dir(directory)


def check_private_dir(directory: Path) -> None:
    st = os.lstat(directory)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{directory} is a symlink; refusing it")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"{directory} is not a directory")
    if st.st_uid != os.geteuid():
        raise UnsafePathError(f"{directory} belongs to uid {st.st_uid}, not to you; refusing it")
    if st.st_mode & 0o077:
        raise UnsafePathError(
            f"{directory} is accessible to others (mode {stat.S_IMODE(st.st_mode):o}); "
            f"make it private with: chmod 700 {directory}"
        )


def check_fifo(path: Path) -> os.stat_result | None:
    """The FIFO's stat, None if absent; refuses a symlink, a non-FIFO, another owner."""
    return check_own(path, stat.S_ISFIFO, "a FIFO")


def check_own(path: Path, is_kind, kind: str) -> os.stat_result | None:
    """The stat of `path`, None if absent; refuses a symlink, another kind of
    file than `is_kind` (a stat predicate) says, or another owner."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{path} is a symlink; refusing it (remove it if unexpected)")
    if not is_kind(st.st_mode):
        raise UnsafePathError(f"{path} exists and is not {kind}; refusing to use or replace it")
    if st.st_uid != os.geteuid():
        raise UnsafePathError(f"{path} belongs to uid {st.st_uid}, not to you; refusing it")
    return st


def acquire_lock(place: Place) -> int:
    """Hold the instance lock (flock: freed by the kernel if we crash) and record our pid."""
    try:
        fd = os.open(place.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise UnsafePathError(f"cannot open the lock {place.lock}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise AlreadyRunningError(
            f"kk-speakd is already running (pid {holder}, lock {place.lock})"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def lock_holder(place: Place) -> int | None:
    """The pid of the running kk-speakd, None if none holds the lock."""
    try:
        fd = os.open(place.lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    else:
        return None
    finally:
        os.close(fd)


def open_fifo(place: Place) -> int:
    """Create the FIFO if needed (replacing a stale one with a wrong mode) and
    open it O_RDWR: we are then a writer too, so reads block instead of
    returning EOF when the last client closes, and kk-say's non-blocking open
    succeeds exactly while we live. Call with the lock held."""
    st = check_fifo(place.fifo)
    if st is not None and stat.S_IMODE(st.st_mode) != 0o600:
        os.unlink(place.fifo)  # ours and stale (we hold the lock): recreate it private
        st = None
    if st is None:
        os.mkfifo(place.fifo, 0o600)
        os.chmod(place.fifo, 0o600, follow_symlinks=False)  # whatever the umask
    fd = os.open(place.fifo, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    return adopt_fifo(fd, place.fifo)


def adopt_fifo(fd: int, path: Path | None) -> int:
    """Check an opened FIFO (ours, or one systemd passed) and make reads blocking."""
    st = os.fstat(fd)
    if not stat.S_ISFIFO(st.st_mode) or st.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafePathError(f"{path or f'fd {fd}'} is not a FIFO of yours")
    if path is not None:
        on_disk = os.lstat(path)  # the name still points at what we opened
        if (on_disk.st_dev, on_disk.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            raise UnsafePathError(f"{path} changed while it was being opened")
    os.set_blocking(fd, True)
    return fd


@dataclass(frozen=True)
class TooLong:
    size: int  # bytes dropped, at least MAX_LINE_BYTES + 1


def read_lines(fd: int, max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | TooLong]:
    """Lines from a FIFO, without their newline, by blocking reads; never holds
    more than max_bytes + one read of a line; a longer one is skipped to its end."""
    buffer, dropping = b"", 0
    while True:
        try:
            block = os.read(fd, READ_BLOCK)
        except InterruptedError:
            continue
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        if not block:  # only if every writer is gone, which O_RDWR prevents
            return
        buffer += block
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line, buffer = buffer[:end], buffer[end + 1:]
            if dropping:
                yield TooLong(dropping + len(line))
                dropping = 0
            elif len(line) > max_bytes:
                yield TooLong(len(line))
            else:
                yield line
        if len(buffer) > max_bytes:
            dropping += len(buffer)
            buffer = b""
