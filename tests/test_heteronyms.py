"""Heteronyms through the real G2P: the reading misaki's lexicon gives a word
for the part of speech it plays, the metal 'lead' it has no entry for, and the
readings the words around pick where the part of speech cannot."""

from __future__ import annotations

import importlib.resources
import json
import re

import pytest

from kokoro_pipe.text import normalize as nz
from kokoro_pipe.text.g2p import G2P
from kokoro_pipe.text.tags import nouns_after_determiners

LEAD_METAL, LEAD_VERB = "lˈɛd", "lˈid"


@pytest.fixture(scope="module")
def g2p():
    return G2P("en-us")


def _entries() -> dict:
    from misaki import data

    return json.loads(importlib.resources.files(data).joinpath("us_gold.json").read_text())


GOLD = _entries()


def reading(word: str, part: str) -> str:
    """misaki's own reading of `word` as a NOUN, VERB or DEFAULT (adjective)."""
    entry = GOLD[word]
    if part == "NOUN":
        return entry.get("NOUN", entry["DEFAULT"])
    if part == "VERB":
        return entry.get("VERB", entry.get("VBD", entry["DEFAULT"]))
    return entry["DEFAULT"]


def words(phonemes: str) -> list[str]:
    return [w.strip(".,?!;:") for w in phonemes.split()]


@pytest.mark.parametrize("text, word, part", [
    # a noun after a determiner or "of"
    ("The wind was cold.", "wind", "NOUN"),
    ("a wind from the north", "wind", "NOUN"),
    ("There was a tear in his eye.", "tear", "NOUN"),
    ("a bow and arrow", "bow", "NOUN"),
    ("She tied a bow.", "bow", "NOUN"),
    ("a wound on his arm", "wound", "NOUN"),
    ("The close of business.", "close", "NOUN"),
    ("It came to a close.", "close", "NOUN"),
    ("a record of the event", "record", "NOUN"),
    ("the object of the game", "object", "NOUN"),
    ("the use of force", "use", "NOUN"),
    ("piles of refuse", "refuse", "NOUN"),
    ("an excuse", "excuse", "NOUN"),
    # ... that spaCy's small tagger calls a verb or an adjective
    ("The upset was huge.", "upset", "NOUN"),
    ("I saw the implant today.", "implant", "NOUN"),
    ("The reboot fixed it.", "reboot", "NOUN"),
    ("Their invites went out.", "invites", "NOUN"),
    ("It was made of recharge.", "recharge", "NOUN"),
    # verbs and adjectives keep their readings
    ("Wind the clock.", "wind", "VERB"),
    ("He wound the rope.", "wound", "VERB"),
    ("I live here.", "live", "VERB"),
    ("Some live in Paris.", "live", "VERB"),  # "some" stands alone here
    ("They each live alone.", "live", "VERB"),
    ("a live show", "live", "DEFAULT"),
    ("They refuse to go.", "refuse", "VERB"),
    ("an upset stomach", "upset", "DEFAULT"),
    ("an invalid password", "invalid", "DEFAULT"),
    ("The password is invalid.", "invalid", "DEFAULT"),
    ("Reboot the server.", "reboot", "DEFAULT"),
    ("Is that close?", "close", "DEFAULT"),
    ("a close call", "close", "DEFAULT"),
    ("Record the song.", "record", "VERB"),
    ("Let her record the song.", "record", "VERB"),
])
def test_a_heteronym_is_read_as_the_part_it_plays(g2p, text, word, part):
    assert reading(word, part) in words(g2p(text))


@pytest.mark.parametrize("text, expected", [
    ("The pipe is made of lead.", LEAD_METAL),
    ("a pound of lead and tin", LEAD_METAL),
    ("Full of lead, it sank.", LEAD_METAL),
    ("paint with lead in it", LEAD_METAL),
    ("Lead paint is toxic.", LEAD_METAL),
    ("a risk of lead poisoning", LEAD_METAL),
    ("old lead pipes", LEAD_METAL),
    ("They lead the way.", LEAD_VERB),
    ("She took the lead.", LEAD_VERB),
    ("the lead singer", LEAD_VERB),
    ("a lot of lead generation", LEAD_VERB),
    ("the lead time", LEAD_VERB),
])
def test_lead_is_the_metal_after_of_and_before_metal_things(g2p, text, expected):
    assert expected in words(g2p(text))


def test_lead_free_keeps_the_metal_inside_the_compound(g2p):
    assert re.search(rf"\b{LEAD_METAL}", g2p("lead-free petrol"))


@pytest.mark.parametrize("text, noun", [
    ("My resume is attached.", True),
    ("Send your resume to HR.", True),
    ("Their resumes were good.", True),
    ("Resume the download.", False),
    ("Please resume playback.", False),
])
def test_resume_the_noun_and_the_verb(g2p, text, noun):
    said = g2p(text)
    assert ("ɹˈɛzəm" in said) == noun
    assert (GOLD["resume"] in words(said)) != noun


BASS_TONE, BASS_FISH = "bˈAs", "bˈæs"
TEAR_RIP, TEAR_DROP = "tˈɛɹ", "tˈɪɹ"
BOW_BEND, BOW_KNOT = "bˈW", "bˈO"
ROW_QUARREL, ROW_LINE = "ɹˈW", "ɹˈO"
MINUTE_TINY, MINUTE_TIME = "mInˈut", "mˈɪnət"


@pytest.mark.parametrize("text, expected", [
    # the same part of speech either way: the words around decide
    ("He is a bass player.", BASS_TONE),
    ("the bass guitar", BASS_TONE),
    ("He plays bass.", BASS_TONE),
    ("Jaco on bass, Joe on drums.", BASS_TONE),
    ("a double bass", BASS_TONE),
    ("There is a bass in the lake.", BASS_FISH),
    ("He caught a bass.", BASS_FISH),
    ("sea bass", BASS_FISH),
    ("a tear in the sheet", TEAR_RIP),
    ("tears in the old fabric", TEAR_RIP + "z"),
    ("a muscle tear", TEAR_RIP),
    ("wear and tear", TEAR_RIP),
    ("A tear rolled down her cheek.", TEAR_DROP),
    ("There was a tear in his eye.", TEAR_DROP),
    ("The cast took a bow.", BOW_BEND),
    ("a deep bow", BOW_BEND),
    ("the bow of the ship", BOW_BEND),
    ("the ship's bow", BOW_BEND),
    ("from bow to stern", BOW_BEND),
    ("He took a bow and arrow.", BOW_KNOT),
    ("She tied a bow.", BOW_KNOT),
    ("a formal bow tie", BOW_KNOT),
    ("They had a row about money.", ROW_QUARREL),
    ("a blazing row", ROW_QUARREL),
    ("They had a row of seats.", ROW_LINE),
    ("the front row", ROW_LINE),
    ("Row the boat.", ROW_LINE),
    ("in minute detail", MINUTE_TINY),
    ("minute traces of gold", MINUTE_TINY),
    ("in five minute increments", MINUTE_TIME),
    ("Wait a minute.", MINUTE_TIME),
    ("They got their just deserts.", "dəzˈɜɹts"),
    ("just deserts and mountains", "dˈɛzəɹts"),
])
def test_a_heteronym_is_read_as_the_words_around_it_say(g2p, text, expected):
    assert expected in words(g2p(text))


@pytest.mark.parametrize("text", [
    "of [lead](/lˈid/)",  # a user's own markup wins
    "[bass](/bˈæs/) player", "a [tear](/tˈɪɹ/) in the sheet",
    "Lead the team.", "leaded petrol", "misleading", "of leads", "a bassoon player",
    "the bassist", "the bass's guitar", "a teardrop in the sheet",
])
def test_the_cues_leave_other_forms_alone(text):
    assert nz.heteronyms(text) == text


class Token:
    def __init__(self, text: str, tag: str):
        self.text, self.tag = text, tag


@pytest.mark.parametrize("tagged, expected", [
    ("the/DT upset/JJ was/VBD", "DT NN VBD"),
    ("the/DT upset/JJ stomach/NN", "DT JJ NN"),  # a modifier: left as it is
    ("the/DT reboot/RB today/NN", "DT NN NN"),  # "today" is an adverb
    ("some/DT refuse/VBP", "DT VBP"),  # "some" can stand alone
    ("of/IN recharge/VB", "IN NN"),
    ("of/IN upset/JJ", "IN JJ"),  # after "of" only a verb tag is wrong
    ("of/IN undertaking/VBG", "IN VBG"),  # a gerund after "of" is a verb
    ("the/DT running/VB", "DT VB"),  # not a heteronym
])
def test_nouns_after_determiners_retags_heteronyms_only(tagged, expected):
    tokens = [Token(*t.split("/")) for t in tagged.split()]
    nouns_after_determiners(tokens, lambda w: isinstance(GOLD.get(w), dict))
    assert " ".join(t.tag for t in tokens) == expected
