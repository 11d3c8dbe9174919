"""sd_kokoro: the speech-dispatcher output module. speech-dispatcher starts it
(kk-speakd install-speechd writes the AddModule line) and speaks to it on
stdin/stdout; its log lines go to stderr, which speech-dispatcher keeps."""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import click

from kokoro_pipe.cli.common import run
from kokoro_pipe.cli.own_stderr import own_stderr
from kokoro_pipe.daemon.autospawn import daemon_args
from kokoro_pipe.daemon.fifo import Place, default_fifo_path, prepare_directory
from kokoro_pipe.daemon.log import StatusFile
from kokoro_pipe.daemon.served_source import ServedSource
from kokoro_pipe.daemon.speech_source import SpeechSource, freeze_loaded, load
from kokoro_pipe.daemon.speechd.module import Backend, Module, serve
from kokoro_pipe.daemon.speechd.settings import Config, read_config
from kokoro_pipe.daemon.speechd.source import Borrowing
from kokoro_pipe.daemon.speechd.voices import choose, speakable
from kokoro_pipe.daemon.synth_protocol import EngineSettings
from kokoro_pipe.errors import UsageError
from kokoro_pipe.text.lexicon import Lexicon
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice.phrase_cache import PhraseCache
from kokoro_pipe.voice.voices import voice_names

CACHE_BYTES = 64 << 20  # short phrases a screen reader says again and again
PROVIDER = "auto"  # as kk-speakd's default, so that the daemon it borrows is the usual one


@click.command(help="""speech-dispatcher output module for Kokoro (not run by hand):
speech-dispatcher starts it with its CONFIG file and speaks the module protocol on
stdin/stdout. It speaks with the model of the user's kk-speakd, started if need be.
Install it with: kk-speakd install-speechd. See kk-speakd(1).""")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--daemon/--no-daemon", "use_daemon", envvar="KOKORO_PIPE_DAEMON", default=True,
              show_default=True, show_envvar=True,
              help="Speak with a running kk-speakd's model when it has the same model "
                   "files; else load the model here.")
@click.option("--autospawn/--no-autospawn", envvar="KOKORO_PIPE_AUTOSPAWN", default=True,
              show_default=True, show_envvar=True,
              help="With --daemon, when no kk-speakd runs: start one and wait for it "
                   "instead of loading the model here.")
def cli(config: str | None, use_daemon: bool, autospawn: bool) -> int:
    try:
        settings = read_config(Path(config) if config and Path(config).is_file() else None)
    except (OSError, ValueError) as e:
        raise UsageError(f"module configuration: {e}") from None
    own_stderr()  # the log is speech-dispatcher's record: PortAudio's games with fd 2 lose lines
    return serve(sys.stdin.buffer, sys.stdout.buffer,
                 lambda module: _load(module, settings, use_daemon, autospawn))


def _load(module: Module, config: Config, use_daemon: bool, autospawn: bool) -> Backend:
    paths = models.resolve(config.model, config.voices)
    voices = speakable(voice_names(paths.voices))
    default = choose(voices, "en-us", None, config.default_voices)
    if default is None:
        raise UsageError(f"no voice in {paths.voices} speaks English")
    cache = PhraseCache(max_bytes=CACHE_BYTES)

    def load_here() -> SpeechSource:
        engine, g2p = load(paths, default.lang)
        source = SpeechSource(engine, default.name, 1.0, g2p, cache)
        source.warm_up()
        freeze_loaded()
        return source

    if use_daemon:
        place = Place(default_fifo_path())
        served = ServedSource(place.socket, EngineSettings.of(paths, PROVIDER, False),
                              default.name, default.lang, Lexicon.load().entries, cache)
        source = Borrowing(place, served, daemon_args(config.model, config.voices, PROVIDER)
                           if autospawn else None, load_here, module.log)
        source.start()
    else:
        source = load_here()
    status_dir = default_fifo_path().parent
    prepare_directory(status_dir)
    about = f"kokoro-pipe {version('kokoro-pipe')}: {len(voices)} voices, default {default.name}"
    return Backend(source, voices, default.lang, config, about, module,
                   StatusFile(status_dir / "speechd-module.json"))


main = run(cli, "sd_kokoro")


if __name__ == "__main__":
    main()
