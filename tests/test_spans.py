"""Normalized words back to the text they came from (text/spans.py), with the
real front-end."""

from __future__ import annotations

import re

import pytest

from kokoro_pipe.text.g2p import front_end
from kokoro_pipe.text.spans import SourceMap

FRONT_ENDS = {"skip": front_end("en-us"), "name": front_end("en-us", emoji="name")}


def written(source: str, emoji: str = "skip") -> list[tuple[str, str]]:
    """(normalized token, the source it came from) for each normalized token."""
    normalized = FRONT_ENDS[emoji](source)
    spans = SourceMap(source, normalized)
    return [(m.group(), source[slice(*spans.span(*m.span()))])
            for m in re.finditer(r"\S+", normalized)]


def test_a_token_spoken_as_several_words_maps_to_all_of_it():
    assert written("It cost $4.5k today.") == [
        ("It", "It"), ("cost", "cost"), ("four", "$4.5k"), ("point", "$4.5k"),
        ("five", "$4.5k"), ("thousand", "$4.5k"), ("dollars", "$4.5k"), ("today.", "today.")]


def test_abbreviations_and_times():
    pairs = dict(written("Dr. Smith arrived at 10:30 am."))
    assert pairs["Doctor"] == "Dr." and pairs["Smith"] == "Smith"
    assert pairs["ten"] == pairs["thirty"] == "10:30"
    assert pairs["AM."] == "am."  # the full stop ending the sentence stays


def test_markup_maps_to_the_words_inside_it():
    assert written("Pages 3-5 are **bold**") == [
        ("Pages", "Pages"), ("three", "3-5"), ("to", "3-5"), ("five", "3-5"), ("are", "are"),
        ("bold", "bold")]
    assert written("\x1b[31mred\x1b[0m alert") == [("red", "red"), ("alert", "alert")]
    assert dict(written("see [the docs](https://x.org/docs) now"))["the"] == "the"


def test_punctuation_both_sides_keep_is_its_own():
    source = "It costs $5."
    normalized = FRONT_ENDS["skip"](source)
    assert normalized == "It costs five dollars."
    spans = SourceMap(source, normalized)
    start = normalized.index("five")
    assert source[slice(*spans.span(start, normalized.index(".")))] == "$5"
    assert source[slice(*spans.span(len(normalized) - 1, len(normalized)))] == "."
    assert dict(written("Room 101, Floor 3, 5 ft"))["three,"] == "3,"


def test_an_inserted_word_joins_the_word_before_it():
    assert written("C# and F#") == [("C", "C#"), ("sharp", "C#"), ("and", "and"),
                                    ("F", "F#"), ("sharp", "F#")]
    pairs = written("It costs $5 million.")
    assert [w for w, _ in pairs] == ["It", "costs", "five", "million", "dollars."]
    assert pairs[2][1] == "$5" and pairs[3][1] == "million" and pairs[4][1] == "million."
    # At the start, the word after it.
    spans = SourceMap("world", "hello world")
    assert spans.span(0, 5) == spans.span(6, 11) == (0, 5)


def test_a_normalized_word_equal_to_a_source_word_elsewhere_stays_in_place():
    assert written("I have 2 and two") == [("I", "I"), ("have", "have"), ("two", "2"),
                                           ("and", "and"), ("two", "two")]


def test_emoji_dropped_or_named():
    assert written("🎉 Deploy done") == [("Deploy", "Deploy"), ("done", "done")]
    assert written("🎉 Deploy done", "name") == [
        ("party", "🎉"), ("popper", "🎉"), ("Deploy", "Deploy"), ("done", "done")]


def test_a_url_maps_to_all_of_it():
    source = "See https://example.com/a?b=1 now."
    pairs = written(source)
    assert pairs[0] == ("See", "See") and pairs[-1] == ("now.", "now.")
    assert {src for _, src in pairs[1:-1]} == {"https://example.com/a?b=1"}


def test_identity_and_empty():
    text = "plain words, nothing to change."
    assert FRONT_ENDS["skip"](text) == text
    spans = SourceMap(text, text)
    assert all(spans.span(a, b) == (a, b) for a in range(len(text)) for b in range(a + 1, len(text))
               if text[a] != " " and text[b - 1] != " ")
    assert SourceMap("", "").span(0, 0) == (0, 0)
    assert SourceMap("🎉", "").span(0, 0) == (1, 1)
    assert SourceMap("abc", "abc").span(-5, 99) == (0, 3)


LINES = [
    "The stadium holds 45,000 people.", "Meet me on March 5th, 2024 at 7:45pm.",
    "Upgrade to v1.2.3 or Python 3.12 today.", "Call 555-123-4567 now!",
    "It's 72°F and 5 km away, ~50% done.", "Henry VIII had six wives.",
    "See https://example.com/a?b=1 or mail me@example.org.", "# Heading\n- item one",
    "Pages 3-5, e.g. the intro etc.", "He paid £2.5m in the 1990s.", "1/2 of 3.5 is 1.75",
    "St. John St. is near No. 5.", "Q3 2024 revenue was $1,234,567.89",
    "\x1b[1;31mERROR\x1b[0m: disk \x1b[33mfull\x1b[0m (98%)", "Deadline: 2024-03-05 at 10pm",
    "Run `make test` and see [the docs](https://x.org/docs).", "> quoted **text** here",
    "| a | b |\n|---|---|\n| 1 | 2 |", "Mr. and Mrs. Jones, Jr. met at 3 pm.",
    "C# and F# are ±5 apart; x = 3 x 4", "The 3rd and 21st items, 1st place",
    "commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f landed", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!!!!",
    "World War II ended in 1945.", "Version 2.0.1 is out; 10% off", "Temperatures of -3 to 5",
    "Use e.g. vim, i.e. an editor", "Room 101, Floor 3, 5 ft 2 in", "He read my resume",
    "*emphasis* and _under_ and ~~strike~~", "On 5 March we met, $5 million later.",
    "Build ✅ passed 🚀!", "café naïve résumé", "",
]


@pytest.mark.parametrize("emoji", ["skip", "name"])
@pytest.mark.parametrize("source", LINES)
def test_every_word_maps_inside_the_source_in_order(source, emoji):
    normalized = FRONT_ENDS[emoji](source)
    spans = SourceMap(source, normalized)
    previous = (0, 0)
    for m in re.finditer(r"\S+", normalized):
        a, b = spans.span(*m.span())
        assert 0 <= a < b <= len(source), (m.group(), a, b)
        assert a >= previous[0] and b >= previous[1], (m.group(), (a, b), previous)
        previous = (a, b)
    # Character by character too, as a G2P's tokens cut words finer.
    starts = [spans.span(k, k + 1)[0] for k in range(len(normalized) + 1)]
    assert starts == sorted(starts)
    assert all(0 <= spans.span(k, k + 1)[1] <= len(source) for k in range(len(normalized)))


def test_escape_codes_are_not_part_of_the_word_they_wrap():
    source = "The cache is \x1b[1mwarm\x1b[0m and ready."
    normalized = front_end("en-us")(source)
    at = normalized.index("warm")
    a, b = SourceMap(source, normalized).span(at, at + 4)
    assert source[a:b] == "warm"
