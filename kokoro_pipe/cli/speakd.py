"""kk-speakd: a FIFO speech daemon that keeps the model warm and speaks requests in order."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import run
from kokoro_pipe.cli.engine_options import engine_options, windows_of
from kokoro_pipe.cli.own_stderr import own_stderr
from kokoro_pipe.daemon.control import stop_daemon
from kokoro_pipe.daemon.fifo import ATOMIC_BYTES, Place, default_fifo_path, lock_holder
from kokoro_pipe.daemon.idle import DEFAULT_IDLE_EXIT
from kokoro_pipe.daemon.log import read_status
from kokoro_pipe.daemon.speechd import install as speechd_install
from kokoro_pipe.errors import EXIT_UNAVAILABLE, UnavailableError
from kokoro_pipe.text.chunks import PARAGRAPH_PAUSE
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice import providers
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.voices import DEFAULT_VOICE, check_speed, parse_voice, voice_names


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
    # Imported only now: --status, --stop and --fifo-path answer in a fraction of
    # the time without the model's modules (a watchdog asks --status under load).
    from kokoro_pipe.daemon.serve import serve
    from kokoro_pipe.voice.phrase_cache import PhraseCache

    cache = PhraseCache(max_bytes=cache_mb << 20) if cache_mb else None
    if idle_exit is None:
        idle_exit = DEFAULT_IDLE_EXIT if autospawned else 0
    stream = own_stderr()  # a library's games with fd 2 cannot lose a line
    return serve(stream, place, paths, voice, speed, lang, queue_size, cache, provider, gap,
                 windows_of(windowed), threads, Policy(max_wait=max_start_delay),
                 autospawned, idle_exit)


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
    from kokoro_pipe.daemon.service import install_service  # its XML escaping costs --status

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
