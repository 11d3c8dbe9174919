"""Text as people pipe it (notifications, logs, markdown) -> words misaki reads right.

One ordered pipeline, `Normalizer.steps`; each step is a small function from
text to text, and the order matters:

 sanitation  1 controls   ANSI colours, control characters, zero-width and odd spaces,
                          HTML character references (It&#39;s, &amp;)
             2 markdown   headings, bullets, quotes, tables, emphasis, code, links
             3 emoji      removed, or named ("party popper"), by option
             4 long_tokens  hashes shortened, runaway repeats cut
 lexicon      user pronunciations -> [word](/phonemes/), so they win over every rule
 normalization (first the forms whose digits would be misread one by one later)
             5 emails, urls   before anything reads their dots and digits;
               handles    #TTS -> hashtag TTS, @name -> at name
             6 phones     555-123-4567, 555-0123 before ranges and dates see the dashes
             7 dates      2024-03-05, 3/5/2024, March 5th, 2024, 5 March
             8 abbreviations  Dr. / St. by position, Mr., e.g., etc., No. 5, p. 23
             9 ranges     3-5 -> 3 to 5, 3-5 pm -> 3 to 5 pm, 10:00-11:30: the dash
                          said before the rules after read either end
            10 times      7:45, 10:30 am, 10pm
            11 versions   v1.2.3, Python 3.12, IP addresses
            12 roman      Henry VIII, World War II: after a ruler's name or a title
                          word only, after "Vol." has become "volume"
            13 symbols    C#, ±, ~5, x between numbers
            14 money      $5.50, $3k, £2.5m
            15 percents, units  50%, 5 km, 72°F
            16 ordinals, decades, years (by context), fractions
            17 numbers    what digits remain: 1,234 / 2.5 / -3
            18 heteronyms readings the part of speech cannot pick, by the words
                          around: "of lead" (the metal), "my resume", "bass player",
                          "a tear in the sheet", as phoneme markup
 then misaki: it reads words and its own punctuation, a heteronym by spaCy's
 tag, which text/tags.py corrects to a noun after a determiner ("the upset
 was"). Inline markup `[word](/phonemes/)` passes through every step untouched
 and misaki applies it; the words of a stress mark `[words](+1)` are normalized
 in place.

Before all this, kk-synth splits an SSML line into parts (text/ssml.py) and each
speech part runs the pipeline; G2P (text/g2p.py) calls it on every chunk it is given.

Everything numeric is spelled here rather than left to misaki: misaki reads
any four digits as a year ("2024 people"), and its currency carries over a
comma to the next number ("$5, 100" -> "five dollars, one hundred dollars").
"""


from __future__ import annotations

from collections.abc import Callable
from functools import partial

from kokoro_pipe.text.normalize.abbreviations import abbreviations
from kokoro_pipe.text.normalize.dates import dates, times
from kokoro_pipe.text.normalize.heteronyms import heteronyms
from kokoro_pipe.text.normalize.markup import characters, outside_markup
from kokoro_pipe.text.normalize.numbers import (
    decades,
    fractions,
    money,
    numbers,
    ordinals,
    percents,
    phones,
    ranges,
    units,
    years,
)
from kokoro_pipe.text.normalize.roman import roman
from kokoro_pipe.text.normalize.sanitize import (
    EMOJI_MODES,
    controls,
    emoji,
    long_tokens,
    markdown,
)
from kokoro_pipe.text.normalize.web import emails, handles, symbols, urls, versions

__all__ = [
    "EMOJI_MODES",
    "Normalizer",
    "abbreviations",
    "characters",
    "controls",
    "dates",
    "decades",
    "emails",
    "emoji",
    "fractions",
    "handles",
    "heteronyms",
    "long_tokens",
    "markdown",
    "money",
    "numbers",
    "ordinals",
    "outside_markup",
    "percents",
    "phones",
    "ranges",
    "roman",
    "symbols",
    "times",
    "units",
    "urls",
    "versions",
    "years",
]


class Normalizer:
    """The pipeline for one set of options; calling it runs every step in order.
    Other languages than English get the sanitation steps only: the rules
    speak English, and espeak-ng reads neither markup nor lexicon entries."""

    def __init__(self, emoji_mode: str = "skip", day_first: bool = False,
                 lexicon: Callable[[str], str] | None = None, english: bool = True):
        if emoji_mode not in EMOJI_MODES:
            raise ValueError(f"emoji mode {emoji_mode!r} is not one of {', '.join(EMOJI_MODES)}")
        self.steps: list[Callable[[str], str]] = [
            controls,
            markdown,
            partial(emoji, mode=emoji_mode),
            outside_markup(long_tokens),
        ]
        if not english:
            return
        if lexicon is not None:
            self.steps.append(lexicon)
        self.steps += [
            *map(outside_markup, [emails, urls, handles, phones]),
            outside_markup(partial(dates, day_first=day_first)),
            *map(outside_markup, [abbreviations, ranges, times, versions, roman, symbols, money,
                                  percents, units, ordinals, decades, years, fractions,
                                  numbers, heteronyms]),
        ]

    def __call__(self, text: str) -> str:
        for step in self.steps:
            text = step(text)
        return " ".join(text.split())
