"""Shell completion (click's, for bash, zsh and fish) of voice and device names.

The scripts come from the commands themselves: `_KK_SYNTH_COMPLETE=bash_source kk-synth`.
Completion must never print an error into the user's command line, so a missing
model or audio library completes nothing.
"""

from __future__ import annotations

import os
import sys

import click
from click.shell_completion import CompletionItem, shell_complete

from kokoro_pipe.errors import KokoroPipeError


def complete_if_asked(command: click.Command, prog: str) -> None:
    """Answer the shell and exit, when run by a completion script."""
    variable = f"_{prog.replace('-', '_').upper()}_COMPLETE"
    instruction = os.environ.get(variable)
    if instruction:
        sys.exit(shell_complete(command, {}, prog, variable, instruction))


def voices(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Installed voice names; after a comma, the next voice of a blend."""
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.voices import voice_names

    done, _, current = incomplete.rpartition(",")
    if ":" in current:
        return []  # a weight is being typed
    try:
        names = voice_names(files.resolve(ctx.params.get("model_path"),
                                          ctx.params.get("voices_path")).voices)
    except (KokoroPipeError, OSError, ValueError):
        return []
    prefix = f"{done}," if done else ""
    return [CompletionItem(prefix + n) for n in sorted(names) if n.startswith(current)]


def devices(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Output device names, as kk-play --list-devices shows them."""
    from kokoro_pipe.audio import devices as audio_devices

    try:
        found = audio_devices.output_devices()
    except (KokoroPipeError, OSError):
        return []
    return [CompletionItem(d.name, help=d.hostapi) for d in found
            if d.name.lower().startswith(incomplete.lower())]
