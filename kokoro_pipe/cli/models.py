"""kk-models: install, verify, list and locate the Kokoro model and voices."""

from __future__ import annotations

import sys

import click
import numpy as np

from kokoro_pipe.cli.common import run
from kokoro_pipe.errors import EXIT_CONFIG
from kokoro_pipe.voice import files as models


def _log(message: str) -> None:
    print(f"kk-models: {message}", file=sys.stderr, flush=True)


@click.group(help="Install, verify, list and locate the Kokoro-82M model and voices.")
def cli() -> None:
    pass


@cli.command(help="Install the model and the 54 stock voices, verified by sha256.")
@click.option("--variant", type=click.Choice(["int8", "fp16", "fp32"]), default="int8",
              show_default=True,
              help="Model precision (fp16/fp32 need --download or --model-from).")
@click.option("--model-from", type=click.Path(exists=True, dir_okay=False),
              help="Install this upstream kokoro-v1.0*.onnx file instead of fetching one.")
@click.option("--voices-from", type=click.Path(exists=True, dir_okay=False),
              help="Install this upstream voices-v1.0.bin instead of fetching the voices.")
@click.option("--download", is_flag=True,
              help="Fetch the upstream kokoro-onnx release files over the internet.")
def install(variant: str, model_from: str | None, voices_from: str | None, download: bool) -> None:
    models.install(variant, model_from, voices_from, download, log=_log)


@cli.command(help="Re-hash the installed files; exit 78 if any is missing or corrupt.")
def verify() -> int:
    return 0 if models.verify(log=print) else EXIT_CONFIG


@cli.command(name="list", help="Print the model in use and the installed voice names.")
def list_() -> None:
    files = models.resolve()
    print(f"model\t{files.model}")
    print(f"voices\t{files.voices}")
    for name in sorted(np.load(files.voices).files):
        print(f"voice\t{name}")


@cli.command(help="Print the data directory, or the path of the model or voices file.")
@click.argument("what", type=click.Choice(["dir", "model", "voices"]), default="dir")
def path(what: str) -> None:
    if what == "dir":
        print(models.data_dir())
    else:
        print(getattr(models.resolve(), what))


main = run(cli, "kk-models")


if __name__ == "__main__":
    main()
