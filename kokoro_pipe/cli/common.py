"""What every command shares: one-line errors, quiet broken pipes, signal exits."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

import click

from kokoro_pipe.cli import config
from kokoro_pipe.cli.completion import complete_if_asked
from kokoro_pipe.errors import EXIT_FAILURE, EXIT_SIGINT, EXIT_USAGE, KokoroPipeError


def error(prog: str, message: str) -> None:
    """Print one error line on stderr."""
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


def run(command: click.Command, prog: str) -> Callable[[], None]:
    """A console-script entry point that runs `command` with the project's error rules.

    Usage errors and KokoroPipeError become one line on stderr with their exit
    status; a closed stdout (`| head`) ends quietly; an unexpected exception is
    reported as one line (set KOKORO_PIPE_DEBUG=1 for the traceback).
    """

    def main() -> None:
        complete_if_asked(command, prog)  # before the config: a bad file must not break it
        setup_logging()
        try:
            command.epilog = config.help_epilog()
            defaults = config.default_map(prog, command)
            # Not command.main(): it turns a broken pipe into exit 1.
            with command.make_context(prog, sys.argv[1:], default_map=defaults) as ctx:
                code = command.invoke(ctx)
        except click.exceptions.Abort:
            code = EXIT_SIGINT
        except click.exceptions.Exit as e:
            code = e.exit_code
        except click.UsageError as e:
            error(prog, e.format_message())
            code = EXIT_USAGE
        except click.ClickException as e:
            error(prog, e.format_message())
            code = e.exit_code
        except KokoroPipeError as e:
            error(prog, str(e))
            code = e.exit_code
        except BrokenPipeError:
            code = quiet_broken_pipe()
        except KeyboardInterrupt:
            code = EXIT_SIGINT
        except Exception as e:
            if os.environ.get("KOKORO_PIPE_DEBUG"):
                raise
            error(prog, f"internal error: {type(e).__name__}: {e}")
            code = EXIT_FAILURE
        sys.exit(code or 0)

    return main


def setup_logging() -> None:
    """Library logs go to stderr; KOKORO_PIPE_LOG=debug|info|warning sets the level.

    Debug lines of the synthesis are JSON with CLOCK_MONOTONIC times, comparable
    across processes (the streaming test relies on that)."""
    level = os.environ.get("KOKORO_PIPE_LOG", "warning").upper()
    logging.basicConfig(stream=sys.stderr, format="%(name)s: %(message)s")
    logging.getLogger("kokoro_pipe").setLevel(getattr(logging, level, logging.WARNING))


def quiet_broken_pipe() -> int:
    """The reader went away: stop without a traceback or a flush error at exit."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    return 0


def exit_on_signals(grace: float) -> None:
    """SIGINT and SIGTERM unwind (KeyboardInterrupt; SystemExit with 143) so the
    caller can abort its device and report. Should that clean-up hang (an audio
    server that stops answering), a timer ends the process with the signal's
    status `grace` seconds after the signal anyway."""

    def handler(signum, frame):
        status = 128 + signum
        timer = threading.Timer(grace, os._exit, (status,))
        timer.daemon = True  # never what keeps a finished process alive
        timer.start()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(status)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


class _FdWriter:
    """Unbuffered writes to a file descriptor: nothing is left to flush at exit,
    so a reader that went away causes no second error while Python shuts down."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)

    def flush(self) -> None:
        pass

    def seekable(self) -> bool:
        try:
            os.lseek(self.fd, 0, os.SEEK_CUR)
        except OSError:
            return False
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self.fd, 0, os.SEEK_CUR)


def guard_stdout() -> _FdWriter:
    """Keep the real stdout for the data stream only.

    Libraries print to stdout (misaki prints "❌ TODO:NUM" for some numbers);
    afterwards fd 1 and sys.stdout go to stderr, and only the returned writer
    reaches the real stdout.
    """
    sys.stdout.flush()
    data_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return _FdWriter(data_fd)
