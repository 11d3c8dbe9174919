"""Punctuation said by name at speech-dispatcher's levels (text/punctuation.py)."""

import pytest

from kokoro_pipe.text import ssml
from kokoro_pipe.text.punctuation import spoken, spoken_in_ssml

TEXT = "Hi, it's 3.5 - well-known (really); 10% & more!"


@pytest.mark.parametrize(("mode", "said", "unsaid"), [
    ("none", [], ["comma", "percent", "dash", "bang"]),
    ("some", ["percent", "and"], ["comma", "dash", "left paren", "bang"]),
    ("most", ["percent", "dash", "left paren", "semi"], ["comma", "bang", "dot"]),
    ("all", ["percent", "dash", "comma", "bang"], ["dot"]),  # 3.5 keeps its point
])
def test_each_level_says_its_symbols_and_those_below(mode, said, unsaid):
    out = spoken(TEXT, mode)
    assert all(f" {w}" in out for w in said), out
    assert not any(f" {w}" in out for w in unsaid), out


def test_words_numbers_and_pauses_survive():
    out = spoken(TEXT, "all")
    assert "it's" in out and "3.5" in out and "well-known" in out
    assert "comma," in out and "bang!" in out  # the pause is still made


def test_in_ssml_only_text_changes_and_the_document_stays_valid():
    doc = '<speak>Fish &amp; chips, <mark name="a,b"/>now.</speak>'
    out = spoken_in_ssml(doc, "all")
    assert '<mark name="a,b"/>' in out and " and " in out and "dot." in out
    assert ssml.parse(out) and ssml.marks(out)[0][1] == "a,b"
