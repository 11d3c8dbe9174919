"""The model options kk-synth and kk-speakd share."""

from __future__ import annotations

import click

from kokoro_pipe.voice import providers
from kokoro_pipe.voice.planner import MAX_WAIT


def engine_options(command):
    """--provider, --vocoder-windows (passed as `windowed`), --threads,
    --max-start-delay."""
    for option in reversed([
        click.option("--provider", type=click.Choice(providers.CHOICES), default="auto",
                     show_default=True, help="onnxruntime execution provider; auto: the CPU "
                     "unless another one measured faster on this machine."),
        click.option("--vocoder-windows", "windowed", is_flag=True,
                     help="Vocode the first chunk of each utterance in growing windows "
                          "that meet between words: first audio sooner, the line a little "
                          "softer and less natural (see kk-synth(1))."),
        click.option("--threads", type=click.IntRange(1, 256), envvar="KOKORO_PIPE_THREADS",
                     show_envvar=True,
                     help="Threads the model runs on [default: one per core]; 1 is a slow "
                          "machine on demand."),
        click.option("--max-start-delay", type=click.FloatRange(0, 600), default=MAX_WAIT,
                     show_default=True,
                     help="Seconds the first audio of a line played live may wait so that "
                          "the line plays without a pause, on a machine too slow to keep up."),
    ]):
        command = option(command)
    return command


def windows_of(windowed: bool):
    """The vocoder's windows (numpy: imported only for a model run here)."""
    if not windowed:
        return None
    from kokoro_pipe.voice.vocoder import Windows

    return Windows()
