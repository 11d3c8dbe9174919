"""Lexicon overrides: files, precedence, matching, and what misaki makes of them."""

from __future__ import annotations

import pytest

from kokoro_pipe.text.g2p import G2P, front_end
from kokoro_pipe.text.lexicon import DEFAULT, Lexicon, LexiconError, read_tsv


def test_lower_case_words_match_any_case_capitalised_ones_exactly():
    lexicon = Lexicon({"kokoro": "kˈOkˌOɹO", "US": "jˌuˈɛs"})
    assert lexicon("Kokoro, KOKORO and us, US.") == (
        "[Kokoro](/kˈOkˌOɹO/), [KOKORO](/kˈOkˌOɹO/) and us, [US](/jˌuˈɛs/).")


def test_whole_words_only_longest_first_and_existing_markup_kept():
    lexicon = Lexicon({"espeak": "A", "espeak-ng": "B", "C#": "sˈi ʃˈɑɹp"})
    assert lexicon("espeaker espeak-ng espeak C# [espeak](/x/)") == (
        "espeaker [espeak-ng](/B/) [espeak](/A/) [C#](/sˈi ʃˈɑɹp/) [espeak](/x/)")


def test_file_format_comments_and_errors(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text("# comment\n\nnginx\tˈɛnʤɪn ˈɛks\n", encoding="utf-8")
    assert read_tsv(good) == {"nginx": "ˈɛnʤɪn ˈɛks"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("ok\tˈO\nno tab here\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.tsv:2: expected word<TAB>phonemes") as e:
        read_tsv(bad)
    assert e.value.exit_code == 78
    bad.write_text("x\t/ks/\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.tsv:1: brackets and slashes"):
        read_tsv(bad)


def test_precedence_user_over_project_over_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / ".kokoro-pipe").mkdir()
    (tmp_path / ".kokoro-pipe" / "lexicon.tsv").write_text(
        "kokoro\tPROJECT\nwidget\tPROJECT\n", encoding="utf-8")
    user = tmp_path / "config" / "kokoro-pipe"
    user.mkdir(parents=True)
    (user / "lexicon.tsv").write_text("widget\tUSER\n", encoding="utf-8")
    extra = tmp_path / "extra.tsv"
    extra.write_text("gadget\tEXTRA\n", encoding="utf-8")
    entries = Lexicon.load(extra).entries
    assert entries["kokoro"] == "PROJECT" and entries["widget"] == "USER"
    assert entries["gadget"] == "EXTRA" and entries["onnx"] == DEFAULT["onnx"]


@pytest.fixture(scope="module")
def english():
    return G2P("en-us")


def test_misaki_speaks_the_entry(english, tmp_path):
    entries = tmp_path / "lex.tsv"
    entries.write_text("Zorblax\tkwˈIɹ\n", encoding="utf-8")
    with_entry = G2P("en-us", normalize=front_end("en-us", lexicon_file=str(entries)))
    assert with_entry("Hello Zorblax.") == "həlˈO kwˈIɹ."
    assert "kwˈIɹ" not in english("Hello Zorblax.")


def test_an_entry_wins_over_the_normalization_rules(tmp_path):
    entries = tmp_path / "lex.tsv"
    entries.write_text("Dr.\tdˈɑk\n", encoding="utf-8")
    g2p = G2P("en-us", normalize=front_end("en-us", lexicon_file=str(entries)))
    assert g2p("Dr. Who").startswith("dˈɑk")


def test_inline_markup_in_the_input_is_misakis(english):
    assert english("Say [tomato](/təmˈɑTO/) now.") == "sˈA təmˈɑTO nˈW."
