"""The front-end through the real commands: kk-g2p and kk-synth subprocesses."""

from __future__ import annotations

import json
import subprocess

import numpy as np
from conftest import command

RATE = 24_000


def run(name: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([command(name), *args], input=stdin.encode() if stdin else None,
                          capture_output=True, timeout=300)


def silences(raw: bytes, below: float = 0.0) -> list[int]:
    """Lengths in samples of the runs inside the audio no louder than `below`
    (0: exact zeros)."""
    audio = np.frombuffer(raw, "<f4")
    zero = np.concatenate([[False], np.abs(audio) <= below, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def test_kk_g2p_normalizes_before_misaki():
    result = run("kk-g2p", "-t", "$5, 100", "-t", "five dollars, one hundred",
                 "-t", "Ship it 🎉", "--emoji", "name")
    money, words, emoji = result.stdout.decode().splitlines()
    assert result.returncode == 0 and money == words
    assert "pˈɑɹTi" in emoji  # "party popper"


def test_kk_g2p_no_normalize_leaves_it_to_misaki():
    plain = run("kk-g2p", "--no-normalize", "-t", "Dr. Smith, 2024 people").stdout.decode()
    normalized = run("kk-g2p", "-t", "Dr. Smith, 2024 people").stdout.decode()
    assert plain != normalized  # misaki reads 2024 as a year; the rules count people


def test_kk_g2p_spoken_prints_the_normalized_words_line_by_line():
    lines = "Dr. Smith paid $5.50\n\n## Build #42\n\xff bad\n<speak>2 <break/> apples</speak>\n"
    result = subprocess.run([command("kk-g2p"), "--spoken"], input=lines.encode("latin-1"),
                            capture_output=True, timeout=300)
    assert result.returncode == 65  # the invalid UTF-8 line is rejected, the others said
    assert result.stdout.decode().split("\n") == [
        "Doctor Smith paid five dollars and fifty cents", "", "Build number forty two.", "",
        "two apples", ""]
    assert result.stderr.decode().startswith("kk-g2p: line 4: not valid UTF-8")


def test_kk_g2p_json_spoken_is_exactly_what_misaki_was_given():
    texts = ["Call 555-0123 at 10:30 am.", "World War II ended in 1945.", "- Milk - Eggs"]
    args = [a for t in texts for a in ("-t", t)]
    records = [json.loads(r) for r in run("kk-g2p", "--json", *args).stdout.splitlines()]
    spoken = run("kk-g2p", "--spoken", *args).stdout.decode().splitlines()
    assert [r["spoken"] for r in records] == spoken
    assert all(s != t for s, t in zip(spoken, texts, strict=True))
    # Phonemizing the spoken words as they are gives the same phonemes.
    again = run("kk-g2p", "--no-normalize", *[a for s in spoken for a in ("-t", s)])
    assert again.stdout.decode().splitlines() == [r["phonemes"] for r in records]


def test_kk_g2p_spoken_with_no_normalize_is_the_text_itself():
    result = run("kk-g2p", "--spoken", "--no-normalize", "-t", "Dr. 5 $3")
    assert result.stdout.decode() == "Dr. 5 $3\n"


def test_kk_g2p_json_and_spoken_exclude_each_other():
    result = run("kk-g2p", "--json", "--spoken", "-t", "hi")
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().count("\n") == 1 and "--spoken" in result.stderr.decode()


def test_kk_g2p_one_line_list_items_get_the_pause_of_a_comma():
    lists = ["- Milk - Eggs - Bread", "* one * two * three", "• red • green"]
    commas = ["Milk, Eggs, Bread", "one, two, three", "red, green"]
    out = run("kk-g2p", *[a for t in lists + commas for a in ("-t", t)]).stdout.decode()
    phonemes = out.splitlines()
    assert phonemes[:3] == phonemes[3:]
    assert all(p.count(",") == t.count(",") for p, t in zip(phonemes[3:], commas, strict=True))


def test_a_malformed_lexicon_is_one_line_and_exit_78(tmp_path):
    bad = tmp_path / "lex.tsv"
    bad.write_text("word without tab\n", encoding="utf-8")
    result = run("kk-g2p", "--lexicon", str(bad), "-t", "hi")
    assert result.returncode == 78
    assert result.stderr.decode().strip() == (
        f"kk-g2p: {bad}:1: expected word<TAB>phonemes")


def test_ssml_breaks_are_exact_silences_and_the_paragraph_pause_is_heard_as_set():
    lines = ('<speak>One <break time="1200ms"/> two.</speak>\n'
             "Three.\n")
    result = run("kk-synth", "--raw", "--paragraph-pause", "0.9", stdin=lines)
    assert result.returncode == 0, result.stderr
    # A break inside a line is that many zeros; between lines the pause heard
    # (below -60 dBFS) is the one set, the quiet ends of the speech included
    # (voice/seams.py), give or take the edges of speech.
    assert abs(max(silences(result.stdout)) - 1.2 * RATE) < 0.02 * RATE
    heard = sorted(silences(result.stdout, below=1e-3), reverse=True)
    assert heard[0] > 1.2 * RATE
    assert abs(heard[1] - 0.9 * RATE) < 0.02 * RATE, heard[:3]


def test_unsupported_ssml_rejects_its_line_only():
    lines = "Before.\n<speak>x <voice name='y'>z</voice></speak>\nAfter.\n"
    result = run("kk-synth", "--raw", stdin=lines)
    assert result.returncode == 65
    assert result.stderr.decode().splitlines() == [
        "kk-synth: line 2: unsupported SSML tag <voice> (supported: <speak>, <p>, <s>, "
        "<break>, <say-as>, <emphasis>, <prosody>, <sub>, <phoneme>, <mark>); skipped"]
    assert len(result.stdout) > RATE * 4  # both other lines were spoken
