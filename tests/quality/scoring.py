"""Word error rate as the quality suite counts it.

Both the reference (the words a listener should hear) and the ASR transcript
pass whisper-normalizer's EnglishTextNormalizer, which writes numbers as
digits ("two point five" and "2.5" -> "2.5"); then what is left of number
formatting is evened out, since Whisper writes the same spoken time or phone
number several ways ("10:30", "10.30", "1030"; "555-123" or "555 123").
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _english():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def words(text: str) -> list[str]:
    text = _english()(text)
    text = re.sub(r"(?<=\d)[.:,](?=\d)", "", text)  # 10.30, 10:30 -> 1030
    text = re.sub(r"\b([ap]) m\b", r"\1m", text)  # "a m" -> "am"
    previous = None
    while previous != text:  # digit groups said apart: "555 123 4567" -> "5551234567"
        previous, text = text, re.sub(r"\b(\d+) (\d+)\b", r"\1\2", text)
    return text.split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER: edits over reference words, summed over (reference, transcript) pairs."""
    edits = total = 0
    for ref, hyp in pairs:
        r = words(ref)
        edits += edit_distance(r, words(hyp))
        total += len(r)
    return edits / total
