"""kk-g2p: text lines -> Kokoro phonemes, one record per line."""

from __future__ import annotations

import json

import click

from kokoro_pipe.cli.common import error, guard_stdout, run
from kokoro_pipe.cli.frontend_options import make_g2p, text_options
from kokoro_pipe.cli.inputs import input_lines
from kokoro_pipe.errors import EXIT_DATA, UsageError
from kokoro_pipe.text import ssml
from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS, front_end
from kokoro_pipe.text.lines import Rejected
from kokoro_pipe.text.spans import SourceMap


@click.command(help="""Convert text to Kokoro phonemes with misaki (espeak-ng for
words it does not know). Reads FILES, -t TEXT, or standard input; one record per
input line: plain phonemes (a blank line for a blank or rejected input line), or
with --json one {"line", "text", "spoken", "phonemes", "words"} object per non-blank
line, which `kk-synth --phonemes` reads unchanged. Text is cleaned up and normalized
first, as kk-synth does; "spoken" is that normalized text, the words misaki is
given, and --spoken prints only it. "words" are [phonemes start, end, text start,
end] per word, so word timings map back to the text (kk-synth --captions). Of an
SSML line only the words are kept (breaks and rates need kk-synth).""")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-t", "--text", "texts", multiple=True, help="Text to convert (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="JSON lines {line, text, spoken, phonemes, words}.")
@click.option("--spoken", "spoken_only", is_flag=True,
              help="Print the normalized words misaki would be given, not phonemes.")
@click.option("--lang", type=click.Choice([*ENGLISH, *ESPEAK_LANGS]), default="en-us",
              show_default=True, help="Language: misaki for English, espeak-ng for others.")
@text_options
def cli(files: tuple[str, ...], texts: tuple[str, ...], as_json: bool, spoken_only: bool,
        lang: str, ssml_mode: bool | None, emoji: str, lexicon_file: str | None,
        no_normalize: bool) -> int:
    if as_json and spoken_only:
        raise UsageError("--json and --spoken exclude each other (--json has a spoken field)")
    out = guard_stdout()
    lines = input_lines(files, texts, keep_blank=not as_json)
    if spoken_only:  # misaki and spaCy are not loaded: only the front-end runs
        convert = None
        normalize = str if no_normalize else front_end(lang, emoji, lexicon_file)
    else:
        convert = make_g2p(lang, emoji, lexicon_file, no_normalize)
        normalize = convert.normalize

    def speech(text: str) -> str:
        if ssml_mode or (ssml_mode is None and ssml.is_ssml(text)):
            return " ".join(p.text for p in ssml.parse(text) if isinstance(p, ssml.Speech))
        return text

    status = 0
    for item in lines:
        spoken = phonemes = ""
        words: list[list[int]] = []
        if not isinstance(item, Rejected) and item.text:
            try:
                said = speech(item.text)
            except ssml.SsmlError as e:
                item = Rejected(item.number, str(e))
            else:
                spoken = normalize(said)
                if convert:
                    phonemes, words = _timed_words(convert, said, item.text)
        if isinstance(item, Rejected):
            error("kk-g2p", item.message())
            status = EXIT_DATA
            record = "" if not as_json else None
        elif as_json:
            record = json.dumps({"line": item.number, "text": item.text, "spoken": spoken,
                                 "phonemes": phonemes, "words": words}, ensure_ascii=False)
        else:
            record = spoken if spoken_only else phonemes
        if record is not None:
            out.write(f"{record}\n".encode())
    return status


def _timed_words(convert, said: str, line: str) -> tuple[str, list[list[int]]]:
    """Phonemes of `said` (the speech of `line`), and its words' spans in
    them and in `line`."""
    result = convert.words(said)
    to_line = SourceMap(ssml.masked(line), said).span if said != line else None
    words = []
    for w in result.words:
        source = to_line(*w.source) if to_line else w.source
        words.append([*w.phonemes, *source])
    return result.phonemes, words


main = run(cli, "kk-g2p")


if __name__ == "__main__":
    main()
