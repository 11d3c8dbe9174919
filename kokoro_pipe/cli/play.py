"""kk-play: a kokoro-pipe stream, a sound file or raw float32 -> the audio device."""

from __future__ import annotations

import json
import os
import sys

import click

from kokoro_pipe.audio import devices
from kokoro_pipe.audio.input import RawFormat, ReadAhead, input_events, open_source
from kokoro_pipe.audio.player import PREBUFFER, Player, PlayStats
from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import exit_on_signals, run
from kokoro_pipe.cli.own_stderr import own_stderr
from kokoro_pipe.errors import EXIT_SIGINT, InputError, UsageError
from kokoro_pipe.framing import MAX_CHANNELS, MAX_RATE, StreamFormatError, TruncatedStreamError

LATENCY = 0.2  # generous: a busy machine must not starve the device
SIGNAL_GRACE = 1.0  # seconds: a signal ends kk-play by then even if the device's abort hangs


@click.command(help="""Play audio on the output device as it arrives: the framed
kokoro-pipe stream of kk-synth (man 5 kokoro-pipe), a sound file such as WAV,
or with --raw bare float32 samples. Reads FILE, or standard input. Follows the
system default output when it changes, unless --device is given.""")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--raw", is_flag=True, help="Input is bare float32 little-endian samples.")
@click.option("--rate", type=click.IntRange(1, MAX_RATE),
              help="Sample rate of --raw input [default: 24000].")
@click.option("--channels", type=click.IntRange(1, MAX_CHANNELS),
              help="Channels of --raw input, interleaved [default: 1].")
@click.option("-d", "--device", metavar="NAME|INDEX", shell_complete=completion.devices,
              help="Output device (see --list-devices) [default: the system default].")
@click.option("--list-devices", is_flag=True, help="Print the output devices and exit.")
@click.option("--prebuffer-ms", type=click.IntRange(0, 60_000),
              default=round(PREBUFFER * 1000), show_default=True,
              help="Audio to queue before the device starts (the least, if the stream "
                   "advises more).")
@click.option("--ignore-advice", is_flag=True,
              help="Start after --prebuffer-ms alone, ignoring the stream's start advice.")
@click.option("--latency-ms", type=click.IntRange(10, 10_000), default=round(LATENCY * 1000),
              show_default=True, help="Device buffer.")
@click.option("--stats", is_flag=True, help="Print one JSON line of statistics on stderr at exit.")
@click.option("--words", is_flag=True,
              help="Print each word on stderr as it is heard (from the stream's word marks).")
def cli(file, raw, rate, channels, device, list_devices, prebuffer_ms, ignore_advice, latency_ms,
        stats, words) -> int:
    exit_on_signals(grace=SIGNAL_GRACE)
    own_stderr()  # PortAudio and ALSA print to fd 2 from C; kk-play says each failure once
    if list_devices:
        _list_devices()
        return 0
    if not raw and (rate or channels):
        raise UsageError("--rate and --channels describe --raw input only")
    raw_format = RawFormat(rate or 24000, channels or 1) if raw else None
    player = Player(lambda r, c: devices.open_output(device, r, c, latency_ms / 1000),
                    prebuffer=prebuffer_ms / 1000, advice=not ignore_advice)
    if words:
        player.on_word = lambda mark: print(mark.text, file=sys.stderr, flush=True)
    source = watch = None

    def wrap_up() -> None:
        if watch is not None:
            watch.close()
        if stats:
            _print_stats(player.stats, source.first_byte_at if source else None)

    try:
        devices.choose(device)  # no device, or a wrong name: say so before reading input
        source = open_source(file)
        if device is None:
            player.watch = watch = devices.default_output_watch()
        events = ReadAhead(input_events(source, raw_format, words=words))
        player.play_events(events, events.ready)
    except (KeyboardInterrupt, SystemExit) as e:  # SIGINT, SIGTERM: the player aborted
        wrap_up()
        # Skip the interpreter's tear-down (tens of ms): the device is closed already.
        sys.stderr.flush()
        os._exit(EXIT_SIGINT if isinstance(e, KeyboardInterrupt) else e.code)
    except TruncatedStreamError as e:
        raise InputError(f"input truncated: {e}") from None
    except StreamFormatError as e:
        raise InputError(f"bad input: {e}") from None
    finally:
        wrap_up()
    return 0


def _list_devices() -> None:
    for d in devices.output_devices():
        mark = "\tdefault" if d.is_default else ""
        click.echo(f"{d.index}\t{d.name}\t{d.hostapi}\t{d.channels}{mark}")


def _print_stats(s: PlayStats, first_byte_at: float | None) -> None:
    wait = None
    if first_byte_at is not None and s.first_write is not None:
        wait = round((s.first_write - first_byte_at) * 1000, 1)
    line = {
        "samples_played": s.samples,
        "underruns": s.underruns,
        "first_input_to_write_ms": wait,
        # CLOCK_MONOTONIC is shared by all processes: a benchmark can compare it
        # with when it started a pipeline.
        "first_write_monotonic": s.first_write,
        "devices": s.devices,
        "opens": s.opens,
        "reopens": s.reopens,
        "added_silence_ms": round(s.added_silence * 1000),
    }
    print(json.dumps(line), file=sys.stderr, flush=True)


main = run(cli, "kk-play")


if __name__ == "__main__":
    main()
