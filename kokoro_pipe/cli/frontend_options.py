"""Text front-end options shared by kk-synth and kk-g2p, and kk-synth's pauses."""

from __future__ import annotations

import click

from kokoro_pipe.text.chunks import CLAUSE_PAUSE, PARAGRAPH_PAUSE, SENTENCE_PAUSE, Pauses
from kokoro_pipe.text.g2p import G2P, front_end
from kokoro_pipe.text.normalize import EMOJI_MODES

SECONDS = click.FloatRange(0, 10)


def text_options(command):
    """--ssml/--no-ssml, --emoji, --lexicon, --no-normalize."""
    for option in reversed([
        click.option("--ssml/--no-ssml", "ssml_mode", default=None,
                     help="Read each line as SSML [default: when it starts with <speak>]."),
        click.option("--emoji", type=click.Choice(EMOJI_MODES), default="skip",
                     show_default=True, help="Leave emoji unsaid, or say their names."),
        click.option("--lexicon", "lexicon_file", type=click.Path(exists=True, dir_okay=False),
                     help="Pronunciations (word<TAB>phonemes) over the user's, project's "
                          "and default ones."),
        click.option("--no-normalize", is_flag=True,
                     help="Give the text to misaki as it is: no clean-up, rules or lexicon."),
    ]):
        command = option(command)
    return command


def pause_options(command):
    """--sentence-pause, --clause-pause, --paragraph-pause (seconds)."""
    for name, default, what in [("paragraph", PARAGRAPH_PAUSE, "each input line"),
                                ("clause", CLAUSE_PAUSE, "a clause (, ; :)"),
                                ("sentence", SENTENCE_PAUSE, "a sentence")]:  # shown reversed
        command = click.option(f"--{name}-pause", type=SECONDS, default=default,
                               show_default=True, help=f"Seconds of silence after {what}.")(command)
    return command


def make_g2p(lang: str, emoji: str, lexicon_file: str | None, no_normalize: bool) -> G2P:
    return G2P(lang, normalize=str if no_normalize else front_end(lang, emoji, lexicon_file))


def make_pauses(sentence_pause: float, clause_pause: float, paragraph_pause: float) -> Pauses:
    return Pauses(sentence_pause, clause_pause, paragraph_pause)
