"""kk-synth: text or phoneme lines -> streamed audio on stdout."""

from __future__ import annotations

import contextlib
import sys

import click

from kokoro_pipe import SAMPLE_RATE, captions
from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import error, guard_stdout, run
from kokoro_pipe.cli.engine_options import engine_options, windows_of
from kokoro_pipe.cli.frontend_options import make_g2p, make_pauses, pause_options, text_options
from kokoro_pipe.cli.inputs import input_lines
from kokoro_pipe.cli.output import FORMATS, choose_format, open_captions, open_sink
from kokoro_pipe.cli.progress import Progress, input_chars, writes_a_file
from kokoro_pipe.daemon import autospawn, synth_client
from kokoro_pipe.daemon.fifo import Place, UnsafePathError, default_fifo_path
from kokoro_pipe.daemon.synth_protocol import EngineSettings, SynthOptions
from kokoro_pipe.errors import KokoroPipeError, UsageError
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS, lang_for_voice
from kokoro_pipe.text.lexicon import Lexicon
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice import providers
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.voices import DEFAULT_VOICE, check_speed, parse_voice, voice_names

LOADING_WAIT = 30.0  # seconds a loading kk-speakd is waited for before loading our own


@click.command(help="""Synthesize speech with Kokoro-82M. Reads text lines (or,
with --phonemes, kk-g2p output) from FILES, -t TEXT, or standard input, and
writes audio to standard output as it is made: the framed kokoro-pipe stream
(man 5 kokoro-pipe) for kk-play, or --wav, or --raw float32 for sox/ffmpeg;
or to a file (-o) in the format its extension names: .wav, .flac, .ogg, .opus,
.mp3, .raw, .kkp.
Each input line is one utterance. A bad line is reported and skipped (exit 65
at the end); the lines around it are still spoken. Text is cleaned up and
normalized before G2P (numbers, dates, times, money, units, URLs,
abbreviations, markdown); a line starting with <speak> is SSML. The framed
stream carries word marks: when each word is heard, and what was written for it;
--captions writes them as captions too.""")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-t", "--text", "texts", multiple=True, help="Text to speak (repeatable).")
@click.option("--phonemes", is_flag=True, help="Input is kk-g2p output (plain or --json).")
@click.option("--wav", is_flag=True, help="Write WAV (16-bit PCM).")
@click.option("--raw", is_flag=True, help="Write bare float32 LE samples.")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False),
              help="Output format [default: from -o's extension, else the framed stream].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--captions", "captions_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the words' times to this file: .vtt (WebVTT, word "
                   "timestamps inside cues), .srt, or .json (JSON lines).")
@click.option("--voice", envvar="KOKORO_PIPE_VOICE", default=DEFAULT_VOICE,
              show_default=True, show_envvar=True, shell_complete=completion.voices,
              help="Voice name, or a blend like af_bella:0.6,af_sky:0.4.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="0.5 to 2.0.")
@click.option("--lang", type=click.Choice([*ENGLISH, *ESPEAK_LANGS]),
              help="Text language [default: from the voice, e.g. af_* en-us, bf_* en-gb].")
@click.option("--list-voices", is_flag=True, help="Print the installed voice names and exit.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file [default: $KOKORO_PIPE_MODEL or the installed one].")
@click.option("--voices", "voices_path", type=click.Path(dir_okay=False),
              help="Voices archive [default: $KOKORO_PIPE_VOICES or the installed one].")
@engine_options
@click.option("--daemon/--no-daemon", "use_daemon", envvar="KOKORO_PIPE_DAEMON",
              default=True, show_default=True, show_envvar=True,
              help="Synthesize on a running kk-speakd's loaded model when it has the "
                   "same model files (the same samples, no loading); else in-process.")
@click.option("--autospawn/--no-autospawn", envvar="KOKORO_PIPE_AUTOSPAWN", default=True,
              show_default=True, show_envvar=True,
              help="With --daemon, when no kk-speakd runs: start one in the background "
                   "once this run is done, for later runs to borrow; it leaves after ten "
                   "idle minutes (see kk-speakd(1)).")
@text_options
@pause_options
def cli(files, texts, phonemes, wav, raw, fmt, output, captions_path, voice, speed, lang,
        list_voices,
        model_path, voices_path, provider, windowed, threads, max_start_delay, use_daemon,
        autospawn, ssml_mode, emoji, lexicon_file, no_normalize, **pause_seconds) -> int:
    out = guard_stdout()
    fmt = choose_format(fmt, wav, raw, output)
    check_speed(speed)
    paths = models.resolve(model_path, voices_path)
    names = voice_names(paths.voices)
    if list_voices:
        out.write("".join(f"{n}\n" for n in sorted(names)).encode())
        return 0
    parse_voice(voice, names)  # fail on a bad voice before any slow loading
    providers.check(provider)
    lang = lang or lang_for_voice(voice)
    pauses = make_pauses(**pause_seconds)
    caption_format = captions_path and captions.format_for(captions_path)
    if caption_format and paths.front is None:
        raise UsageError("--captions needs the installed split model (kk-models install); "
                         "a model file given by path predicts no durations we can read")
    with contextlib.ExitStack() as stack:
        sink = open_sink(fmt, output, out, SAMPLE_RATE, stack)
        if caption_format:
            sink = open_captions(sink, captions_path, caption_format, SAMPLE_RATE, stack)
        measurable = sys.stderr.isatty() and not phonemes  # else no bar, or no total
        progress = Progress(input_chars(files, texts) if measurable else None,
                            writes_a_file(output, out.fd), speed)
        stack.callback(progress.close)
        lines = input_lines(files, texts)
        # Played as it is made: chunks planned from the speed measured now.
        live = fmt == "kkp" and not writes_a_file(output, out.fd)
        if use_daemon:
            options = SynthOptions(voice, speed, lang, phonemes, ssml_mode, emoji,
                                   not no_normalize,
                                   _lexicon(lang, phonemes, no_normalize, lexicon_file),
                                   (pauses.sentence, pauses.clause, pauses.paragraph),
                                   max_start_delay if live else None)
            job = _borrow(paths, provider, windowed, options, autospawn)
            if job is not None:
                return job.run(lines, sink, progress)
        # Imported only now: a borrowed run starts without the model's modules.
        from concurrent.futures import ThreadPoolExecutor

        from kokoro_pipe.voice.engine import Engine
        from kokoro_pipe.voice.render import utterances, write_events
        from kokoro_pipe.voice.synthesis import Synthesizer

        # The model loads in a thread while spaCy and misaki load here.
        with ThreadPoolExecutor(1) as pool:
            engine_loading = pool.submit(Engine, paths, threads, provider, windows_of(windowed))
            g2p = None if phonemes else make_g2p(lang, emoji, lexicon_file, no_normalize)
            engine = engine_loading.result()
        synthesizer = Synthesizer(engine, engine.style(voice), speed, g2p and g2p.words, pauses,
                                  ssml_mode, Policy(max_wait=max_start_delay) if live else None)
        events = synthesizer.stream(utterances(lines, phonemes))
        status = write_events(events, sink, pauses.paragraph, progress)
    if use_daemon and autospawn:  # after our synthesis: never two models loading for one run
        _spawn(model_path, voices_path, provider, windowed, threads)
    return status


def _lexicon(lang: str, phonemes: bool, no_normalize: bool, lexicon_file: str | None):
    """The pronunciations in force here (files found from this directory), for a daemon."""
    if phonemes or no_normalize or lang not in ENGLISH:
        return None
    return Lexicon.load(lexicon_file).entries


def _borrow(paths, provider: str, windowed: bool, options: SynthOptions, wait: bool):
    """A running kk-speakd's model when it is the same one; None: load our own.
    With `wait`, a daemon still loading (one a run just started) is waited for."""
    settings = EngineSettings.of(paths, provider, windowed)
    place = Place(default_fifo_path())
    try:
        if wait:
            autospawn.wait_while_loading(place, LOADING_WAIT)
        return synth_client.borrow(place.socket, settings, options, pcm=True)
    except (UnsafePathError, synth_client.Unresponsive) as e:
        error("kk-synth", f"not using kk-speakd: {e}")
        return None


def _spawn(model_path, voices_path, provider: str, windowed: bool, threads: int | None) -> None:
    """Start kk-speakd with this run's model, unless one runs; a failure costs one line."""
    args = autospawn.daemon_args(model_path, voices_path, provider, windowed, threads)
    try:
        autospawn.spawn(Place(default_fifo_path()), *args)
    except KokoroPipeError as e:
        error("kk-synth", f"not starting kk-speakd: {e}")


main = run(cli, "kk-synth")


if __name__ == "__main__":
    main()
