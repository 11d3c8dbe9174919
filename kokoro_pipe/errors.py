"""Errors every command reports as one line on stderr, with a documented exit status.

The numbers follow sysexits(3) where one fits; man pages list them per command.
"""

EXIT_OK = 0
EXIT_FAILURE = 1  # an internal error: a bug, reported as one line
EXIT_USAGE = 2  # bad option or argument (click's own convention)
EXIT_DATA = 65  # some input was rejected (others around it were still processed)
EXIT_NO_INPUT = 66  # no input, or an input file missing
EXIT_UNAVAILABLE = 69  # a needed service is absent: audio device, daemon
EXIT_IO = 74  # reading or writing failed
EXIT_CONFIG = 78  # model or voices missing or corrupt
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class KokoroPipeError(Exception):
    """An error with a message for the user and the exit status it maps to."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KokoroPipeError):
    exit_code = EXIT_USAGE


class InputError(KokoroPipeError):
    exit_code = EXIT_DATA


class NoInputError(KokoroPipeError):
    exit_code = EXIT_NO_INPUT


class ModelMissingError(KokoroPipeError):
    exit_code = EXIT_CONFIG


class UnavailableError(KokoroPipeError):
    exit_code = EXIT_UNAVAILABLE
