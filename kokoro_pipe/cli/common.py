"""What every command shares: one-line errors, quiet broken pipes, signal exits."""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

import click

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
        try:
            code = command.main(prog_name=prog, standalone_mode=False)
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
        except Exception as e:  # noqa: BLE001 - the last line of defence
            if os.environ.get("KOKORO_PIPE_DEBUG"):
                raise
            error(prog, f"internal error: {type(e).__name__}: {e}")
            code = EXIT_FAILURE
        sys.exit(code or 0)

    return main


def quiet_broken_pipe() -> int:
    """The reader went away: stop without a traceback or a flush error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


def exit_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt-like unwinding with status 143."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
