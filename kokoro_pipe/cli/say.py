"""kk-say: hand one request to the running kk-speakd; fail loudly if there is none."""

from __future__ import annotations

import errno
import json
import os
import select
import sys
import tempfile
import time
from pathlib import Path

import click

from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import run
from kokoro_pipe.daemon import autospawn
from kokoro_pipe.daemon.fifo import (
    ATOMIC_BYTES,
    Place,
    check_fifo,
    default_fifo_path,
    prepare_directory,
)
from kokoro_pipe.errors import EXIT_IO, KokoroPipeError, NoInputError, UnavailableError, UsageError
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS
from kokoro_pipe.voice.voices import SPEED_RANGE

START_HINT = "start it with: kk-speakd & (or: systemctl --user enable --now kk-speakd.socket)"
WRITE_TIMEOUT = 5.0  # a daemon this long without reading is hung
READY_TIMEOUT = autospawn.READY_TIMEOUT


@click.command(help=f"""Ask kk-speakd to speak TEXT (the words joined; standard input if
none), or send it a command. Returns at once, without waiting for the speech. If no
kk-speakd runs, starts one for text (see --autospawn; up to {READY_TIMEOUT:.0f} s for it
to open its FIFO), else exits 69 within a second. Text too long for one atomic FIFO
write is passed through a private spool file.""")
@click.argument("words", nargs=-1, metavar="[TEXT]...")
@click.option("-f", "--file", "file", type=click.Path(exists=True, dir_okay=False),
              help="Speak the text of this file.")
@click.option("--interrupt", is_flag=True, help="Stop what is playing, drop the queue, speak now.")
@click.option("--stop", "command", flag_value="stop", help="Stop the current utterance.")
@click.option("--cancel", "command", flag_value="cancel",
              help="Stop the current utterance and drop all queued ones.")
@click.option("--pause", "command", flag_value="pause", help="Pause speaking.")
@click.option("--resume", "command", flag_value="resume", help="Resume speaking.")
@click.option("--voice", metavar="NAME", shell_complete=completion.voices,
              help="Voice or blend for this request.")
@click.option("--speed", type=click.FloatRange(*SPEED_RANGE), help="Speed for this request.")
@click.option("--lang", type=click.Choice([*ENGLISH, *ESPEAK_LANGS]), help="Text language.")
@click.option("--id", "request_id", metavar="ID", help="Id for the daemon's log.")
@click.option("--fifo", type=click.Path(dir_okay=False), envvar="KOKORO_PIPE_FIFO",
              help="kk-speakd's FIFO [default: as kk-speakd --fifo-path].")
@click.option("--autospawn/--no-autospawn", envvar="KOKORO_PIPE_AUTOSPAWN", default=True,
              show_default=True, show_envvar=True,
              help="When no kk-speakd runs, start one in the background for text; it "
                   "leaves after ten idle minutes (see kk-speakd(1)).")
def cli(words, file, interrupt, command, voice, speed, lang, request_id, fifo,
        autospawn) -> int:
    place = Place(Path(fifo) if fifo else default_fifo_path())
    if command and (words or file or interrupt or voice or speed or lang):
        raise UsageError(f"--{command} takes no text or request options")
    if words and file:
        raise UsageError("give TEXT or --file, not both")
    text = None if command or file else (" ".join(words) if words else _stdin_text())
    fd = _open(place, autospawn and not command)  # first: nothing spooled for no daemon
    try:
        line = command or _request_line(place, text, file, interrupt, voice, speed, lang,
                                        request_id)
        _write_all(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    return 0


def _request_line(place, text, file, interrupt, voice, speed, lang, request_id) -> str:
    request: dict = {}
    if file:
        request["file"] = str(Path(file).absolute())
    else:
        if not text.strip():
            raise NoInputError("no text to speak")
        request["text"] = " ".join(text.split())
    options = {"voice": voice, "speed": speed, "lang": lang, "id": request_id,
               "priority": "interrupt" if interrupt else None}
    request.update((k, v) for k, v in options.items() if v is not None)
    line = json.dumps(request, ensure_ascii=False)
    if len(line.encode()) + 1 > ATOMIC_BYTES and "text" in request:
        # One write of up to PIPE_BUF bytes is atomic; longer ones may interleave
        # with other writers', so long text goes through a file the daemon deletes.
        request["file"] = _spool(place, request.pop("text"))
        line = json.dumps(request, ensure_ascii=False)
    if len(line.encode()) + 1 > ATOMIC_BYTES:
        raise UsageError(f"request longer than {ATOMIC_BYTES} bytes; shorten the id or path")
    return line


def _stdin_text() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("give TEXT, --file, or text on standard input")
    return sys.stdin.read()


def _spool(place: Place, text: str) -> str:
    prepare_directory(place.spool)  # private: the text may be anything
    fd, path = tempfile.mkstemp(dir=place.spool, prefix="say-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _open(place: Place, spawn: bool) -> int:
    fd = _try_open(place)
    if fd is None and spawn:  # the daemon opens its FIFO before it loads the model
        fd = autospawn.started(place, autospawn.spawn(place), lambda: _try_open(place))
    if fd is None:
        raise UnavailableError(f"kk-speakd is not running; {START_HINT}")
    return fd


def _try_open(place: Place) -> int | None:
    """The FIFO open for writing; None while no daemon reads it."""
    check_fifo(place.fifo)  # refuses a symlink, a non-FIFO, another user's FIFO
    try:
        # Non-blocking: with no reader, open fails at once (ENXIO) instead of hanging.
        return os.open(place.fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            return None
        raise KokoroPipeError(f"cannot open {place.fifo}: {e.strerror}", EXIT_IO) from None


def _write_all(fd: int, data: bytes) -> None:
    deadline = time.monotonic() + WRITE_TIMEOUT
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:  # the FIFO is full: the daemon is behind
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KokoroPipeError("kk-speakd is not reading its FIFO; is it hung?",
                                      EXIT_IO) from None
            poller.poll(min(remaining, 0.1) * 1000)
        except BrokenPipeError:
            raise UnavailableError(f"kk-speakd went away; {START_HINT}") from None


main = run(cli, "kk-say")


if __name__ == "__main__":
    main()
