"""The SSML subset: what each tag becomes, and a clear error for anything else."""

from __future__ import annotations

import pytest

from kokoro_pipe.text.ssml import Break, Speech, SsmlError, is_ssml, parse


def test_detected_by_a_leading_speak_tag():
    assert is_ssml('  <speak version="1.1">Hi</speak>') and is_ssml("<speak>x</speak>")
    assert not is_ssml("speak <speak>") and not is_ssml("<speaker>")


def test_plain_text_is_wrapped_and_a_bare_ampersand_kept():
    assert parse("Hello & goodbye <break/> now") == [
        Speech("Hello & goodbye"), Break(None, "medium"), Speech("now")]


def test_break_times_and_strengths():
    parts = parse('<speak>A <break time="500ms"/> B <break time="1.5s"/> C <break/> D '
                  '<break strength="x-strong"/> E</speak>')
    assert parts == [Speech("A"), Break(0.5), Speech("B"), Break(1.5), Speech("C"),
                     Break(None, "medium"), Speech("D"), Break(None, "x-strong"), Speech("E")]


@pytest.mark.parametrize("kind, content, said", [
    ("cardinal", "1,984", "one thousand nine hundred eighty four"),
    ("ordinal", "3", "third"),
    ("ordinal", "21st", "twenty first"),
    ("characters", "AB1", "[A](/ˈA/) [B](/bˈi/) one"),
    ("date", "2024-03-05", "March fifth twenty twenty four"),
    ("time", "10:30 pm", "ten thirty PM"),
    ("telephone", "+1 555 123 4567",
     "plus one, five five five, one two three, four five six seven"),
])
def test_say_as(kind, content, said):
    text = f'<speak>x <say-as interpret-as="{kind}">{content}</say-as> y</speak>'
    assert parse(text) == [Speech(f"x {said} y")]


def test_say_as_date_format_puts_the_day_first():
    text = '<speak><say-as interpret-as="date" format="dmy">3/4/2021</say-as></speak>'
    assert parse(text) == [Speech("the third of April twenty twenty one")]


def test_prosody_rate_splits_the_text_into_parts():
    parts = parse('<speak>Now <prosody rate="slow">slowly <prosody rate="200%">fast</prosody>'
                  '</prosody> <prosody rate="+10%">back</prosody></speak>')
    assert parts == [Speech("Now"), Speech("slowly", 0.8), Speech("fast", 1.6),
                     Speech("back", pytest.approx(1.1))]


def test_emphasis_sub_and_phoneme_become_inline_markup():
    parts = parse('<speak><emphasis level="strong">Do it</emphasis> at <sub alias="World Wide '
                  'Web">WWW</sub>, <phoneme alphabet="ipa" ph="kˈOkˌOɹO">Kokoro</phoneme>.'
                  '<emphasis level="none">plain</emphasis></speak>')
    assert parts == [Speech("[Do it](+2) at World Wide Web, [Kokoro](/kˈOkˌOɹO/). plain")]


def test_paragraphs_and_sentences_pause_only_between_speech():
    parts = parse("<speak><p><s>One.</s><s>Two.</s></p><p>Three.</p></speak>")
    assert [p for p in parts if isinstance(p, Speech)] == [
        Speech("One."), Speech("Two."), Speech("Three.")]
    assert isinstance(parts[1], Break) and isinstance(parts[-2], Break)
    assert isinstance(parts[0], Speech) and isinstance(parts[-1], Speech)


def test_namespaced_speak_and_entities():
    text = ('<speak xmlns="http://www.w3.org/2001/10/synthesis" version="1.1">'
            'Tom &amp; Jerry</speak>')
    assert parse(text) == [Speech("Tom & Jerry")]


@pytest.mark.parametrize("text, message", [
    ('<speak><voice name="x">hi</voice></speak>', "unsupported SSML tag <voice>"),
    ("<speak><audio src='a.wav'/></speak>", "unsupported SSML tag <audio>"),
    ('<speak><prosody pitch="high">hi</prosody></speak>',
     "unsupported attribute 'pitch' on <prosody>"),
    ("<speak>unclosed <break></speak>", "invalid SSML: mismatched tag"),
    ('<speak><break time="2 min"/></speak>', "break time '2 min'"),
    ('<speak><break time="90s"/></speak>', "over 60s"),
    ('<speak><break strength="loud"/></speak>', "break strength 'loud'"),
    ('<speak><say-as interpret-as="spell-out">x</say-as></speak>', "interpret-as 'spell-out'"),
    ('<speak><say-as interpret-as="cardinal">many</say-as></speak>', "needs a whole number"),
    ('<speak><prosody rate="0%">x</prosody></speak>', "not positive"),
    ('<speak><prosody rate="quick">x</prosody></speak>', "prosody rate 'quick'"),
    ('<speak><emphasis level="huge">x</emphasis></speak>', "emphasis level 'huge'"),
    ("<speak><sub>x</sub></speak>", "<sub> needs an alias"),
    ("<speak><phoneme>x</phoneme></speak>", "<phoneme> needs a ph"),
    ('<speak><phoneme ph="x" alphabet="x-sampa">x</phoneme></speak>', "alphabet 'x-sampa'"),
    ("<speaker>hi</speaker>", "unsupported SSML tag <speaker>"),
])
def test_anything_else_is_an_error_naming_it(text, message):
    with pytest.raises(SsmlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_errors_are_input_errors_exit_65():
    assert SsmlError("x").exit_code == 65
