"""Numbers as the English words a reader says, for the normalization rules.

num2words does the counting; this module only shapes its output for speech:
American style without "and" or commas, hyphens as spaces (misaki's lexicon
has the parts, not every hyphenated compound).
"""

from __future__ import annotations


def num2words(n: int, **options) -> str:
    from num2words import num2words  # here: its import is slow, and a borrowing kk-synth
    # (which only names the normalizer's modes) never counts

    return num2words(n, **options)

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _speakable(words: str) -> str:
    words = words.replace(",", "").replace("-", " ")
    return " ".join(w for w in words.split() if w != "and")


def cardinal(n: int) -> str:
    """1234 -> 'one thousand two hundred thirty four'; -3 -> 'minus three'."""
    return _speakable(num2words(n))


def ordinal(n: int) -> str:
    """21 -> 'twenty first'."""
    return _speakable(num2words(n, to="ordinal"))


def year(n: int) -> str:
    """1984 -> 'nineteen eighty four', 2005 -> 'two thousand five', 1905 -> 'nineteen oh five'."""
    return _speakable(num2words(n, to="year"))


def decade(n: int) -> str:
    """1990 -> 'nineteen nineties', 1800 -> 'eighteen hundreds', 2000 -> 'two thousands'."""
    words = year(n)
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def digits(s: str) -> str:
    """'0451' -> 'zero four five one': digit by digit, as codes and phone numbers are read."""
    return " ".join(DIGIT_NAMES[int(c)] for c in s if c.isdigit())


def number(s: str) -> str:
    """A written number: '1,234' or '-2.5' or '.75' -> words. Digits after a
    point are read one by one ('3.14' -> 'three point one four'); a whole part
    with a leading zero or over 15 digits is an identifier, read digit by digit."""
    s = s.replace(",", "")
    sign = ""
    if s[:1] in "-−":
        sign, s = "minus ", s[1:]
    whole, _, fraction = s.partition(".")
    if len(whole) > 15 or (len(whole) > 1 and whole.startswith("0")):
        words = digits(whole)
    else:
        words = cardinal(int(whole or "0"))
    if fraction:
        words += " point " + digits(fraction)
    return sign + words


def counted(count_words: str, singular: str, plural: str) -> str:
    """'one' + dollar -> 'one dollar'; anything else takes the plural ('one point five dollars')."""
    return f"{count_words} {singular if count_words in ('one', 'minus one') else plural}"
