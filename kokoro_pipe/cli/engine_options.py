"""The model options kk-synth and kk-speakd share."""

from __future__ import annotations

import click

from kokoro_pipe.voice import providers
from kokoro_pipe.voice.vocoder import Windows


def engine_options(command):
    """--provider, --vocoder-windows (passed as `windowed`)."""
    for option in reversed([
        click.option("--provider", type=click.Choice(providers.CHOICES), default="auto",
                     show_default=True, help="onnxruntime execution provider; auto: the CPU "
                     "unless another one measured faster on this machine."),
        click.option("--vocoder-windows", "windowed", is_flag=True,
                     help="Vocode the first chunk of each utterance in growing windows: "
                          "first audio sooner, its sound a little different (see kk-synth(1))."),
    ]):
        command = option(command)
    return command


def windows_of(windowed: bool) -> Windows | None:
    return Windows() if windowed else None
