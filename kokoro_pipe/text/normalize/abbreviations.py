"""Abbreviations: titles, Dr./St. by position, Latin, references before a
number (p. 23, pp. 23-25, Fig. 2, No. 5)."""

from __future__ import annotations

import re

from kokoro_pipe.text.normalize.roman import TITLES as NUMBERED_WORDS

TITLES = {"Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Sgt": "Sergeant",
          "Capt": "Captain", "Lt": "Lieutenant", "Col": "Colonel", "Gen": "General",
          "Rev": "Reverend", "Hon": "Honorable", "Mt": "Mount", "Ft": "Fort"}
# What a reference abbreviation says, in any case, and only before its number
# ("see p. 23"): elsewhere "p." or "no." is a letter or a word. A Roman numeral
# is its number when the word takes one ("Vol. IV", "ch. XII"; see roman.TITLES).
REFERENCES = {"p": "page", "pp": "pages", "ch": "chapter", "chap": "chapter", "chs": "chapters",
              "fig": "figure", "figs": "figures", "vol": "volume", "vols": "volumes",
              "no": "number", "nos": "numbers", "nr": "number", "sec": "section",
              "secs": "sections", "eq": "equation", "eqs": "equations", "para": "paragraph",
              "paras": "paragraphs", "pt": "part", "pts": "parts", "art": "article",
              "arts": "articles", "§": "section", "§§": "sections"}
# The words after which a number is a reference, written out or abbreviated.
REFERENCE_WORDS = frozenset([*REFERENCES.values(), *(f"{short}." for short in REFERENCES),
                             "pp", "line", "lines", "verse", "verses"])
ROMAN = r"(?:[IVXL]+\b)"
REFERENCE = re.compile(
    r"(?<![\w.])(?:(?i:(" + "|".join(sorted(REFERENCES, key=len, reverse=True)) + r"))\."
    r"|(§§?))\s?(?=\d|" + ROMAN + ")")
SUFFIXES = {"Jr": "Junior", "Sr": "Senior", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard",
            "Inc": "Incorporated", "Ltd": "Limited", "Corp": "Corporation", "Dept": "Department",
            "Univ": "University", "approx": "approximately", "etc": "et cetera", "vs": "versus"}
LATIN = {"e.g.": "for example", "i.e.": "that is", "a.k.a.": "also known as", "cf.": "compare"}
# Saint or Street, Doctor or Drive: which one hangs on the words around it.
PLACE_OR_PERSON = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}
ABBREVIATION = re.compile(
    r"\b(" + "|".join(sorted([*TITLES, *SUFFIXES, *PLACE_OR_PERSON], key=len, reverse=True))
    + r")\.(?=\s|$|,)"
)
NUMBER_SIGN = re.compile(r"#(?=\d)")


def abbreviations(text: str) -> str:
    """Dr. Smith -> 'Doctor Smith' but Elm Dr. -> 'Elm Drive'; St. Louis ->
    'Saint Louis' but Main St. -> 'Main Street'; Mr., e.g., etc., No. 5, #5,
    p. 23, pp. 23-25. The period goes unless it also ends the sentence."""
    for short, said in LATIN.items():
        text = re.sub(rf"(?<!\w){re.escape(short)}(?=\s|$|,)", f"{said},", text).replace(",,", ",")
    text = NUMBER_SIGN.sub("number ", REFERENCE.sub(_reference, text))

    def expand(m: re.Match) -> str:
        short, after = m.group(1), text[m.end():]
        next_word = after.lstrip()[:1]
        if short in TITLES:
            return TITLES[short]
        if short in PLACE_OR_PERSON:
            person, place = PLACE_OR_PERSON[short]
            said = person if next_word.isupper() and not _follows_name(text[: m.start()]) \
                else place
        else:
            said = SUFFIXES[short]
        ends_sentence = said not in ("Saint", "Doctor") and (
            not after.strip() or next_word.isupper())
        return said + ("." if ends_sentence else "")

    return ABBREVIATION.sub(expand, text)


def _follows_name(before: str) -> bool:
    """The word before is capitalized (Elm Dr., Main St.) and not only because it
    starts the sentence (Meet Dr. Lee)."""
    words = before.split()
    if not words or not words[-1][:1].isupper() or words[-1].endswith((".", "!", "?")):
        return False
    return len(words) > 1 and not words[-2].endswith((".", "!", "?", ":"))


def _reference(m: re.Match) -> str:
    """'p. 23' -> 'page 23'; 'No. I think' stays, as 'number' takes no Roman numeral."""
    said = REFERENCES[(m.group(1) or m.group(2)).lower()]
    if not m.string[m.end()].isdigit() and said not in NUMBERED_WORDS:
        return m.group()
    return said + " "
