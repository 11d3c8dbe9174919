"""Inline misaki markup kept intact, and letters spelled as phoneme markup."""

from __future__ import annotations

import re
from collections.abc import Callable

from kokoro_pipe.text.numwords import digits

# Inline misaki markup: [word](/phonemes/) is kept as it is; the words of a
# stress mark [words](+1) are normalized like the text around them.
MARKUP = re.compile(r"\[([^\]\[]+)\]\((/[^)]*/|[+-]?\d+(?:\.\d+)?)\)")


def outside_markup(rule: Callable[[str], str]) -> Callable[[str], str]:
    """`rule` applied to the text outside phoneme markup spans."""

    def apply(text: str) -> str:
        out, start = [], 0
        for m in MARKUP.finditer(text):
            words, mark = m.groups()
            inner = words if mark.startswith("/") else rule(words).strip() or words
            out += [rule(text[start : m.start()]), f"[{inner}]({mark})"]
            start = m.end()
        out.append(rule(text[start:]))
        return "".join(out)

    apply.__name__ = getattr(rule, "__name__", getattr(rule, "func", rule).__name__)
    return apply


# Letter names as phoneme markup: misaki reads a lone "A" as the article.
LETTER_NAMES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [
    "ˈA", "bˈi", "sˈi", "dˈi", "ˈi", "ˈɛf", "ʤˈi", "ˈAʧ", "ˈI", "ʤˈA", "kˈA", "ˈɛl", "ˈɛm",
    "ˈɛn", "ˈO", "pˈi", "kjˈu", "ˈɑɹ", "ˈɛs", "tˈi", "jˈu", "vˈi", "dˈʌbᵊlju", "ˈɛks", "wˈI",
    "zˈi"], strict=True))


def characters(s: str) -> str:
    """'a3F' -> letter by letter: '[A](/ˈA/) three [F](/ˈɛf/)'; other symbols are dropped."""
    said = []
    for c in s.upper():
        if c in LETTER_NAMES:
            said.append(f"[{c}](/{LETTER_NAMES[c]}/)")
        elif c.isdigit():
            said.append(digits(c))
    return " ".join(said)
