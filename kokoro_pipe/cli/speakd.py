"""kk-speakd: a FIFO speech daemon that keeps the model warm and speaks requests in order."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import click

from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import run
from kokoro_pipe.cli.engine_options import engine_options, windows_of
from kokoro_pipe.cli.own_stderr import own_stderr
from kokoro_pipe.daemon.control import stop_daemon
from kokoro_pipe.daemon.core import Daemon
from kokoro_pipe.daemon.fifo import (
    ATOMIC_BYTES,
    Place,
    acquire_lock,
    adopt_fifo,
    default_fifo_path,
    lock_holder,
    open_fifo,
    prepare_directory,
    read_lines,
)
from kokoro_pipe.daemon.idle import DEFAULT_IDLE_EXIT, IdleExit
from kokoro_pipe.daemon.log import EventLog, StatusFile, read_status
from kokoro_pipe.daemon.service import install_service
from kokoro_pipe.daemon.speaker import Speaker
from kokoro_pipe.daemon.speech_source import SpeechSource, freeze_loaded, load_unless
from kokoro_pipe.daemon.speechd import install as speechd_install
from kokoro_pipe.daemon.styles import StyleCache
from kokoro_pipe.daemon.synth_protocol import EngineSettings
from kokoro_pipe.daemon.synth_server import SynthServer
from kokoro_pipe.daemon.synth_socket import claim
from kokoro_pipe.daemon.turns import SPEECH, TakingTurns, Turns
from kokoro_pipe.errors import EXIT_IO, EXIT_UNAVAILABLE, KokoroPipeError, UnavailableError
from kokoro_pipe.text.chunks import PARAGRAPH_PAUSE
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS, lang_for_voice
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice import providers
from kokoro_pipe.voice.phrase_cache import PhraseCache
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.vocoder import Windows
from kokoro_pipe.voice.voices import DEFAULT_VOICE, check_speed, parse_voice, voice_names

SYSTEMD_FIRST_FD = 3  # sd_listen_fds(3)


@click.group(invoke_without_command=True, help=f"""Speak requests written to a FIFO, in
order, with the model kept loaded. Each line is one request: text, a JSON object
{{"text","file","voice","speed","lang","priority","id"}}, or one of the commands
stop, cancel, pause, resume. Lines up to {ATOMIC_BYTES} bytes are written atomically
by concurrent writers; send longer text with kk-say or as {{"file": "/abs/path"}}.
Logs one JSON line per request on stderr. See kk-speakd(1).""")
@click.option("--fifo", "fifo", type=click.Path(dir_okay=False), envvar="KOKORO_PIPE_FIFO",
              help="FIFO path [default: $KOKORO_PIPE_FIFO, else "
                   "$XDG_RUNTIME_DIR/kokoro-pipe/speak.fifo].")
@click.option("--fifo-path", is_flag=True, help="Print the FIFO path and exit.")
@click.option("--status", "show_status", is_flag=True,
              help="Print the running daemon's status as JSON; exit 69 if none runs.")
@click.option("--stop", "stop", is_flag=True,
              help="Stop the running daemon (SIGTERM) and wait for it; exit 69 if none runs.")
@click.option("--idle-exit", type=click.FloatRange(0), envvar="KOKORO_PIPE_IDLE_EXIT",
              show_envvar=True, metavar="SECONDS",
              help=f"Exit after this long without a request or a kk-synth client; 0: never "
                   f"[default: {DEFAULT_IDLE_EXIT:.0f} if autospawned, else never].")
@click.option("--autospawned", is_flag=True, hidden=True)  # kk-synth or kk-say started it
@click.option("--voice", shell_complete=completion.voices, metavar="NAME",
              envvar="KOKORO_PIPE_VOICE", default=DEFAULT_VOICE,
              show_default=True, show_envvar=True, help="Default voice.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Default speed.")
@click.option("--lang", type=click.Choice([*ENGLISH, *ESPEAK_LANGS]),
              help="Default text language [default: from the voice].")
@click.option("--paragraph-pause", "gap", type=click.FloatRange(0, 10), default=PARAGRAPH_PAUSE,
              show_default=True,
              help="Seconds of silence between requests spoken back to back.")
@click.option("--queue-size", type=click.IntRange(1, 100_000), default=64, show_default=True,
              help="Requests that may wait; more are refused (and logged).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="Model file.")
@click.option("--voices", "voices_path", type=click.Path(dir_okay=False), help="Voices file.")
@click.option("--cache-mb", type=click.IntRange(0, 100_000), default=64, show_default=True,
              help="Phrase cache of short texts already spoken (0: none), in "
                   "$XDG_CACHE_HOME/kokoro-pipe/phrases.")
@engine_options
@click.pass_context
def cli(ctx, fifo, fifo_path, show_status, stop, idle_exit, autospawned, voice, speed, lang,
        gap, queue_size, model_path, voices_path, cache_mb, provider, windowed, threads,
        max_start_delay) -> int:
    place = Place(Path(fifo) if fifo else default_fifo_path())
    ctx.obj = place
    if ctx.invoked_subcommand:
        return 0
    if fifo_path:
        click.echo(str(place.fifo))
        return 0
    if show_status:
        return _print_status(place)
    if stop:
        return stop_daemon(place)
    check_speed(speed)
    paths = models.resolve(model_path, voices_path)
    parse_voice(voice, voice_names(paths.voices))  # a bad voice fails before loading
    providers.check(provider)
    cache = PhraseCache(max_bytes=cache_mb << 20) if cache_mb else None
    if idle_exit is None:
        idle_exit = DEFAULT_IDLE_EXIT if autospawned else 0
    return serve(place, paths, voice, speed, lang, queue_size, cache, provider, gap,
                 windows_of(windowed), threads, Policy(max_wait=max_start_delay),
                 autospawned, idle_exit)


def serve(place: Place, paths, voice, speed, lang, queue_size, cache=None,
          provider="cpu", gap: float = PARAGRAPH_PAUSE, windows: Windows | None = None,
          threads: int | None = None, live: Policy | None = None,
          autospawned: bool = False, idle_exit: float = 0) -> int:
    stream = own_stderr()  # a library's games with fd 2 cannot lose a line
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
            pass
        log("stopping", pid=os.getpid())
        _notify_systemd("STOPPING=1")
    finally:
        synthesis.close()
        daemon.shutdown()
        status.remove()
        os.close(lock)
    if reader_failed:  # exit non-zero so that launchd or systemd restart us
        raise KokoroPipeError(f"reading {place.fifo} failed: {reader_failed[0]}", EXIT_IO)
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


def _print_status(place: Place) -> int:
    pid = lock_holder(place)
    if pid is None:
        raise UnavailableError(f"kk-speakd is not running (no process holds {place.lock})")
    status = read_status(place.status) or {"pid": pid, "state": "unknown"}
    click.echo(json.dumps(status, ensure_ascii=False))
    return 0 if status.get("state") != "unknown" else EXIT_UNAVAILABLE


@cli.command("install-service", help="""Write the user service that starts kk-speakd at
login, with this installation's paths: a systemd user socket and service on Linux
(enable with: systemctl --user enable --now kk-speakd.socket), a launchd agent on macOS
(load with: launchctl load -w PLIST). Prints the files written.""")
@click.option("--kind", type=click.Choice(["systemd", "launchd"]),
              default="launchd" if sys.platform == "darwin" else "systemd", show_default=True)
@click.option("--dir", "target", type=click.Path(file_okay=False),
              help="Write into this directory instead of the standard one.")
@click.pass_obj
def install_service_command(place: Place, kind: str, target: str | None) -> int:
    for path in install_service(kind, Path(target) if target else None, place):
        click.echo(str(path))
    return 0


@cli.command("install-speechd", help="""Make Kokoro a speech-dispatcher voice (for Orca,
spd-say, browsers' read-aloud): add the sd_kokoro output module to the user's
speech-dispatcher configuration (~/.config/speech-dispatcher/speechd.conf, started
from a copy of the system's) and write its own configuration, modules/kokoro.conf.
Prints the files written. Restart speech-dispatcher afterwards (killall
speech-dispatcher: its clients start it again).""")
@click.option("--default", "make_default", is_flag=True,
              help="Also make it speech-dispatcher's default module (DefaultModule kokoro).")
@click.option("--uninstall", is_flag=True, help="Remove what an earlier install wrote.")
@click.option("--dir", "target", type=click.Path(file_okay=False),
              help="speech-dispatcher configuration directory "
                   "[default: $XDG_CONFIG_HOME/speech-dispatcher].")
def install_speechd_command(make_default: bool, uninstall: bool, target: str | None) -> int:
    where = Path(target) if target else None
    if uninstall:
        for path in speechd_install.uninstall(where):
            click.echo(str(path))
        return 0
    written = speechd_install.install(where, make_default)
    for path in written:
        click.echo(str(path))
    if not make_default:
        click.echo(f"to make Kokoro the default voice, add 'DefaultModule {speechd_install.MODULE}'"
                   f" to {written[0]} (or run again with --default)", err=True)
    return 0


main = run(cli, "kk-speakd")


if __name__ == "__main__":
    main()
