"""kk-synth: text or phoneme lines -> streamed audio on stdout."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import click
import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.cli import completion
from kokoro_pipe.cli.common import guard_stdout, run
from kokoro_pipe.cli.engine_options import engine_options, windows_of
from kokoro_pipe.cli.frontend_options import make_g2p, make_pauses, pause_options, text_options
from kokoro_pipe.cli.inputs import input_lines
from kokoro_pipe.cli.output import FORMATS, choose_format, open_sink
from kokoro_pipe.cli.progress import Progress, input_chars, writes_a_file
from kokoro_pipe.errors import EXIT_DATA, NoInputError
from kokoro_pipe.text.chunks import samples
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS, lang_for_voice
from kokoro_pipe.text.lines import Line, Rejected, parse_phoneme_line
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice import providers
from kokoro_pipe.voice.engine import DEFAULT_VOICE, Engine, check_speed, parse_voice, voice_names
from kokoro_pipe.voice.synthesis import AudioBlock, Finished, Synthesizer, Utterance


@click.command(help="""Synthesize speech with Kokoro-82M. Reads text lines (or,
with --phonemes, kk-g2p output) from FILES, -t TEXT, or standard input, and
writes audio to standard output as it is made: the framed kokoro-pipe stream
(man 5 kokoro-pipe) for kk-play, or --wav, or --raw float32 for sox/ffmpeg;
or to a file (-o) in the format its extension names: .wav, .flac, .ogg, .opus,
.mp3, .raw, .kkp.
Each input line is one utterance. A bad line is reported and skipped (exit 65
at the end); the lines around it are still spoken. Text is cleaned up and
normalized before G2P (numbers, dates, times, money, units, URLs,
abbreviations, markdown); a line starting with <speak> is SSML.""")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-t", "--text", "texts", multiple=True, help="Text to speak (repeatable).")
@click.option("--phonemes", is_flag=True, help="Input is kk-g2p output (plain or --json).")
@click.option("--wav", is_flag=True, help="Write WAV (16-bit PCM).")
@click.option("--raw", is_flag=True, help="Write bare float32 LE samples.")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False),
              help="Output format [default: from -o's extension, else the framed stream].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
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
@text_options
@pause_options
def cli(files, texts, phonemes, wav, raw, fmt, output, voice, speed, lang, list_voices,
        model_path, voices_path, provider, windowed, ssml_mode, emoji, lexicon_file,
        no_normalize, **pause_seconds) -> int:
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
    with contextlib.ExitStack() as stack:
        sink = open_sink(fmt, output, out, SAMPLE_RATE, stack)
        # The model loads in a thread while spaCy and misaki load here.
        with ThreadPoolExecutor(1) as pool:
            engine_loading = pool.submit(Engine, paths, provider=provider,
                                         windows=windows_of(windowed))
            g2p = None if phonemes else make_g2p(
                lang or lang_for_voice(voice), emoji, lexicon_file, no_normalize)
            engine = engine_loading.result()
        pauses = make_pauses(**pause_seconds)
        synthesizer = Synthesizer(engine, engine.style(voice), speed, g2p, pauses, ssml_mode)
        utterances = _utterances(input_lines(files, texts), phonemes)
        measurable = sys.stderr.isatty() and not phonemes  # else no bar, or no total
        progress = Progress(input_chars(files, texts) if measurable else None,
                            writes_a_file(output, out.fd), speed)
        stack.callback(progress.close)
        return _write(synthesizer.stream(utterances), sink, pauses.paragraph, progress)


def _utterances(lines: Iterable[Line | Rejected], phonemes: bool) -> Iterator:
    count = 0
    for item in lines:
        if isinstance(item, Rejected):
            yield item
            continue
        label = None
        text = item.text
        if phonemes:
            try:
                record = parse_phoneme_line(item.text)
            except ValueError as e:
                yield Rejected(item.number, str(e))
                continue
            text, label = record.phonemes, record.text
        count += 1
        yield Utterance(count, item.number, text, phonemes, label)


def _write(events, sink, gap: float, progress: Progress) -> int:
    status, spoken, gap_due = 0, 0, False
    for event in events:
        if isinstance(event, AudioBlock):
            if gap_due:
                sink.audio(np.zeros(samples(gap, SAMPLE_RATE), np.float32))
                progress.audio(gap)
                gap_due = False
            sink.audio(event.samples)
            progress.audio(len(event.samples) / SAMPLE_RATE, len(event.utterance.meta()["text"]))
        elif isinstance(event, Finished):
            meta = event.utterance.meta()
            sink.end(meta)
            progress.spoken(len(meta["text"]))
            spoken += 1
            gap_due = True
        else:
            progress.message(f"kk-synth: {event.message()}")
            status = EXIT_DATA
    if not spoken and not status:
        raise NoInputError("no text to speak on the input")
    return status


main = run(cli, "kk-synth")


if __name__ == "__main__":
    main()
