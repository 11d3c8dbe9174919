"""sd_kokoro's parts that need no model: settings, voices, messages, marks,
and the configuration install-speechd writes (tests/test_speechd.py runs the
module under a real speech-dispatcher)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from kokoro_pipe.daemon.speechd import install
from kokoro_pipe.daemon.speechd import protocol as p
from kokoro_pipe.daemon.speechd.messages import message, placed
from kokoro_pipe.daemon.speechd.settings import Settings, read_config
from kokoro_pipe.daemon.speechd.voices import choose, our_lang, speakable
from kokoro_pipe.text import ssml
from kokoro_pipe.voice.synthesis import Piece, WordTime

NAMES = ["af_heart", "af_bella", "am_michael", "am_adam", "bf_emma", "bm_george", "bm_lewis",
         "ff_siwis", "jf_alpha", "zf_xiaobei", "em_alex"]


@pytest.mark.parametrize(("rate", "speed"), [(-100, 0.5), (-50, 0.7071), (0, 1.0), (50, 1.4142),
                                             (100, 2.0)])
def test_rate_maps_onto_speed_evenly_on_a_log_scale(rate, speed):
    s = Settings()
    assert s.apply({"rate": str(rate)}) == []
    assert s.speed() == pytest.approx(speed, abs=1e-4)


def test_the_rate_multiplier_scales_and_stays_in_range():
    s = Settings(rate=80)
    assert s.speed(1.5) == 2.0
    assert Settings(rate=0).speed(1.2) == pytest.approx(1.2)


def test_invalid_settings_are_named_and_valid_ones_still_taken():
    s = Settings()
    invalid = s.apply({"rate": "300", "pitch": "x", "volume": "0", "voice": "male1",
                       "punctuation_mode": "loud", "whatever": "1"})
    assert invalid == ["rate=300", "pitch=x", "punctuation_mode=loud", "whatever=1"]
    assert (s.rate, s.volume, s.voice_type) == (0, 0, "MALE1")
    assert s.gain() == 0.5 and Settings(volume=100).gain() == 1.0


def test_null_clears_a_string_setting():
    s = Settings()
    s.apply({"synthesis_voice": "bm_george", "language": "en-GB"})
    s.apply({"synthesis_voice": "NULL"})
    assert (s.synthesis_voice, s.language) == (None, "en-GB")


@pytest.mark.parametrize(("code", "ours"), [("en", "en-us"), ("en-GB", "en-gb"), ("en_US", "en-us"),
                                            ("fr", "fr-fr"), ("pt-PT", "pt-br"), ("c", None),
                                            ("ja", None), (None, None)])
def test_speech_dispatcher_languages_as_ours(code, ours):
    assert our_lang(code) == ours


def test_voices_listed_are_those_we_can_speak_with_language_and_gender():
    voices = speakable(NAMES)
    assert [v.name for v in voices] == ["bf_emma", "bm_george", "bm_lewis", "af_bella",
                                        "af_heart", "am_adam", "am_michael", "em_alex", "ff_siwis"]
    emma = voices[0]
    assert (emma.speechd_lang, emma.gender) == ("en-GB", "female")


@pytest.mark.parametrize(("lang", "voice_type", "name"), [
    ("en-us", None, "af_heart"), ("en-us", "MALE1", "af_heart"), ("en-us", "MALE2", "am_fenrir"),
    ("en-us", "FEMALE2", "af_bella"), ("en-gb", "MALE1", "bf_emma"), ("en-gb", "MALE2", "bm_fable"),
    ("fr-fr", "MALE2", "ff_siwis"), ("es", "FEMALE1", "em_alex"),
])
def test_voice_types_choose_within_the_language(lang, voice_type, name):
    names = [*NAMES, "am_fenrir", "bm_fable"]
    assert choose(speakable(names), lang, voice_type).name == name


def test_a_configured_default_voice_wins_for_the_default_type():
    chosen = choose(speakable(NAMES), "en-gb", "MALE1", {"en-gb": "bm_george"})
    assert chosen.name == "bm_george"


def test_ssml_is_spoken_with_its_marks_found():
    text = '<speak>One <mark name="m1"/>two &amp; <mark name="a&amp;b"/>three.</speak>'
    said = message("SPEAK", text, Settings(), print)
    assert said.text == text
    assert said.marks == ((text.index('<mark name="m1"'), "m1"),
                          (text.index('<mark name="a&amp;b"'), "a&b"))


def test_malformed_ssml_is_spoken_as_its_text_and_noted():
    notes = []
    said = message("SPEAK", "<speak>Fish &amp; chips <b>now</speak>", Settings(), notes.append)
    assert " ".join(said.text.split()) == "Fish & chips now"
    assert "SSML not understood" in notes[0]


def test_spelling_mode_spells_the_text():
    said = message("SPEAK", "<speak>Hi</speak>", Settings(spelling_mode=True), print)
    assert 'interpret-as="characters">Hi<' in said.text
    assert ssml.parse(said.text)


@pytest.mark.parametrize(("kind", "data", "spoken"), [
    ("CHAR", "a", "characters"), ("CHAR", "space", "space"), ("CHAR", " ", "space"),
    ("KEY", "shift_a", "shift A"),
    ("KEY", "kp-enter", "kp enter"), ("KEY", "double-quote", "double quote"),
    ("SOUND_ICON", "message", ""),
])
def test_characters_keys_and_icons(kind, data, spoken):
    assert spoken in message(kind, data, Settings(), print).text or spoken == ""
    assert (message(kind, data, Settings(), print).text == "") == (spoken == "")


def _piece(n, *words):
    return Piece(np.ones(n, np.float32), tuple(WordTime(s, s + 10, "w", span)
                                               for s, span in words))


def test_marks_are_reached_where_the_word_written_after_them_starts():
    pieces = [_piece(100, (-2, (0, 3)), (40, (10, 15))), _piece(100, (5, (30, 35)))]
    marks = [(0, "start"), (8, "before-second"), (20, "before-third"), (40, "after-all")]
    out = list(placed(pieces, marks))
    assert out[0].marks == ((0, "start"), (40, "before-second"))
    assert out[1].marks == ((5, "before-third"),)
    assert len(out[2].audio) == 0 and out[2].marks == ((0, "after-all"),)


def test_pieces_without_marks_pass_unchanged():
    piece = _piece(10, (0, (0, 2)))
    assert list(placed([piece], [])) == [piece]


def test_data_lines_end_at_a_dot_and_lose_their_escaping_dot():
    lines = p.Lines(io.BytesIO(b"one\n..\n.two\n.\nnext\n"))
    feed = iter(lines)
    assert lines.data(feed) == ["one", ".", "two"]
    assert next(feed) == "next"
    assert lines.data(iter(p.Lines(io.BytesIO(b"unfinished\n")))) is None


def test_replies_and_events_are_whole_lines():
    out = io.BytesIO()
    replies = p.Replies(out)
    replies.event(700, "INDEX MARK", "m1")
    replies.event(702, "END")
    assert out.getvalue() == b"700-m1\n700 INDEX MARK\n702 END\n"


def test_settings_lines_must_be_name_equals_value():
    assert p.settings(["rate=10", "voice=male1"]) == ({"rate": "10", "voice": "male1"}, True)
    assert p.settings(["rate"])[1] is False


def test_module_configuration(tmp_path):
    conf = tmp_path / "kokoro.conf"
    conf.write_text('# comment\nKokoroDefaultVoice "en-GB" "bm_george"\n'
                    "KokoroRateMultiplier 1.25\n")
    config = read_config(conf)
    assert config.default_voices == {"en-gb": "bm_george"} and config.rate_multiplier == 1.25
    conf.write_text("KokoroVolume 3\n")
    with pytest.raises(ValueError, match=r"kokoro\.conf:1"):
        read_config(conf)
    assert read_config(None).rate_multiplier == 1.0


def test_the_installed_module_configuration_reads_back(tmp_path):
    conf = tmp_path / "kokoro.conf"
    conf.write_text(install.MODULE_CONF)
    assert read_config(conf).default_voices == {}


@pytest.fixture
def system(tmp_path, monkeypatch):
    """A speech-dispatcher installed in tmp_path: its speechd.conf and two modules."""
    etc, lib = tmp_path / "etc", tmp_path / "lib"
    (etc / "modules").mkdir(parents=True)
    lib.mkdir()
    (etc / "speechd.conf").write_text('LogLevel 3\n#AddModule "espeak-ng" "sd_espeak-ng"\n')
    (etc / "modules" / "espeak-ng.conf").write_text("")
    for name in ("sd_espeak-ng", "sd_generic", "sd_dummy", "sd_festival"):
        (lib / name).write_text("")
    monkeypatch.setattr(install, "SYSTEM_DIRS", (etc,))
    monkeypatch.setattr(install, "MODULE_BIN_DIRS", (lib,))
    return etc


def test_install_starts_from_the_systems_file_and_keeps_its_modules(system, tmp_path):
    user = tmp_path / "user"
    conf, module_conf = install.install(user)
    text = conf.read_text()
    assert text.startswith("LogLevel 3\n")
    assert f'AddModule "kokoro" "{install.module_path()}" "{module_conf}"' in text
    assert 'AddModule "espeak-ng" "sd_espeak-ng" "espeak-ng.conf"' in text
    assert 'AddModule "festival" "sd_festival" ""' in text
    assert "generic" not in text and "dummy" not in text and "DefaultModule" not in text
    assert module_conf.read_text() == install.MODULE_CONF


def test_install_again_replaces_its_block_and_keeps_the_users_edits(system, tmp_path):
    user = tmp_path / "user"
    conf, module_conf = install.install(user)
    conf.write_text(conf.read_text() + "DefaultRate 20\n")
    module_conf.write_text("KokoroRateMultiplier 1.1\n")
    install.install(user, make_default=True)
    text = conf.read_text()
    assert text.count(install.BEGIN) == 1 and "DefaultRate 20\n" in text
    assert "DefaultModule kokoro" in text
    assert module_conf.read_text() == "KokoroRateMultiplier 1.1\n"


def test_a_users_own_module_list_is_left_as_it_is(system, tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "speechd.conf").write_text('AddModule "mine" "sd_mine" "mine.conf"\n')
    conf, _ = install.install(user)
    assert "espeak-ng" not in conf.read_text() and 'AddModule "mine"' in conf.read_text()


def test_uninstall_takes_back_exactly_what_install_wrote(system, tmp_path):
    user = tmp_path / "user"
    conf, module_conf = install.install(user)
    install.uninstall(user)
    assert not conf.exists() and not module_conf.exists()  # it was the system's copy
    user_text = "LogLevel 5\n"
    conf.write_text(user_text)
    install.install(user)
    install.uninstall(user)
    assert conf.read_text() == user_text
