"""config.toml in $XDG_CONFIG_HOME/kokoro-pipe: honoured, beaten by flags and the
environment, and a bad file is one line naming it, exit 78."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from conftest import command

FOX = "The quick brown fox jumps over the lazy dog."


def run(cmd: str, config_home, *args: str, env: dict | None = None):
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("KOKORO_PIPE_VOICE", "KOKORO_PIPE_FIFO")}
    env = {**inherited, "XDG_CONFIG_HOME": str(config_home), **(env or {})}
    return subprocess.run([command(cmd), *args], capture_output=True, env=env, timeout=300)


def write_config(home, text: str):
    (home / "kokoro-pipe").mkdir(parents=True, exist_ok=True)
    path = home / "kokoro-pipe" / "config.toml"
    path.write_text(text)
    return path


def raw(home, *args: str, env: dict | None = None) -> np.ndarray:
    result = run("kk-synth", home, "--raw", "-t", FOX, *args, env=env)
    assert result.returncode == 0, result.stderr
    return np.frombuffer(result.stdout, "<f4")


@pytest.fixture(scope="module")
def built_in(tmp_path_factory) -> np.ndarray:
    """kk-synth with no config file: af_heart at speed 1."""
    return raw(tmp_path_factory.mktemp("empty"))


def test_speed_from_the_file_and_a_flag_over_it(tmp_path, built_in):
    write_config(tmp_path, "speed = 0.7\n")
    assert len(raw(tmp_path)) > 1.25 * len(built_in)
    np.testing.assert_allclose(raw(tmp_path, "--speed", "1"), built_in, atol=1e-4)


def test_a_command_table_beats_the_top_level(tmp_path, built_in):
    write_config(tmp_path, "speed = 0.7\n\n[kk-synth]\nspeed = 1.0\n")
    np.testing.assert_allclose(raw(tmp_path), built_in, atol=1e-4)


def test_voice_from_the_file_and_the_environment_over_it(tmp_path, built_in):
    write_config(tmp_path, 'voice = "am_adam"\n')
    adam = raw(tmp_path)
    assert len(adam) != len(built_in) or not np.allclose(adam, built_in, atol=1e-3)
    np.testing.assert_allclose(raw(tmp_path, env={"KOKORO_PIPE_VOICE": "af_heart"}), built_in,
                               atol=1e-4)
    np.testing.assert_allclose(raw(tmp_path, "--voice", "af_heart",
                                   env={"KOKORO_PIPE_VOICE": "am_adam"}), built_in, atol=1e-4)


def test_help_names_the_file_and_shows_its_values(tmp_path):
    path = write_config(tmp_path, "speed = 1.3\n")
    result = run("kk-synth", tmp_path, "--help")
    text = " ".join(result.stdout.decode().split())
    assert result.returncode == 0
    assert "[default: 1.3]" in text
    assert f"then {path} (man 5 kokoro-pipe-config)".replace(" ", "") in text.replace(" ", "")


def test_the_fifo_is_shared_by_kk_speakd_and_kk_say(tmp_path):
    write_config(tmp_path, f'fifo = "{tmp_path}/speak.fifo"\n')
    shown = run("kk-speakd", tmp_path, "--fifo-path")
    assert shown.stdout.decode().strip() == f"{tmp_path}/speak.fifo"
    overridden = run("kk-speakd", tmp_path, "--fifo-path",
                     env={"KOKORO_PIPE_FIFO": str(tmp_path / "env.fifo")})
    assert overridden.stdout.decode().strip() == str(tmp_path / "env.fifo")
    os.mkfifo(tmp_path / "speak.fifo", 0o600)
    reader = os.open(tmp_path / "speak.fifo", os.O_RDONLY | os.O_NONBLOCK)  # as kk-speakd
    try:
        said = run("kk-say", tmp_path, "hello")
        assert said.returncode == 0, said.stderr
        assert os.read(reader, 4096) == b'{"text": "hello"}\n'
    finally:
        os.close(reader)


def test_a_lexicon_path_is_relative_to_the_file(tmp_path):
    write_config(tmp_path, '[kk-g2p]\nlexicon = "words.tsv"\n')
    (tmp_path / "kokoro-pipe" / "words.tsv").write_text("zorblat\tzˈɔɹblæt\n")
    result = run("kk-g2p", tmp_path, "-t", "zorblat")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == "zˈɔɹblæt"


@pytest.mark.parametrize("text, message", [
    ("voice = \n", "Invalid value (at line 1, column 9)"),
    ('# speed\nspeed = "fast"\n', "line 2: speed must be a number, not 'fast'"),
    ("speed = 3\n", "line 1: speed 3.0 out of range 0.5..2.0"),
    ("bogus = 1\n", "line 1: unknown key 'bogus' in the top level; known: voice, speed"),
    ('[kk-synth]\ndevice = "x"\n', "line 2: unknown key 'device' in [kk-synth]"),
    ("[kk-nope]\nx = 1\n", "line 1: unknown table [kk-nope]; the tables are kk-synth"),
    ('voice = "zz_nobody"\n', "line 1: unknown voice 'zz_nobody'"),
    ('\n\nemoji = "loud"\n', "line 3: emoji: 'loud' is not one of 'skip', 'name'"),
    ("[kk-play]\nprebuffer-ms = 1.5\n", "line 2: prebuffer-ms must be an integer, not 1.5"),
    ("speed = true\n", "line 1: speed must be a number, not True"),
    ("\nvocoder-windows = 1\n", "line 2: vocoder-windows must be true or false, not 1"),
], ids=["syntax", "type", "range", "unknown-key", "key-of-another", "unknown-table",
        "unknown-voice", "choice", "integer", "boolean", "not-a-boolean"])
def test_a_bad_file_is_one_line_and_78(tmp_path, text, message):
    path = write_config(tmp_path, text)
    result = run("kk-synth", tmp_path, "-t", "hi")
    stderr = result.stderr.decode()
    assert result.returncode == 78, stderr
    assert stderr.startswith(f"kk-synth: {path}") and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and result.stdout == b""


def test_a_bad_file_stops_kk_say_too_but_not_kk_models(tmp_path):
    write_config(tmp_path, "fifo = 3\n")
    said = run("kk-say", tmp_path, "hi")
    assert said.returncode == 78 and b"fifo must be a string" in said.stderr
    assert run("kk-models", tmp_path, "path", "model").returncode == 0


def test_kk_play_reads_its_table(tmp_path):
    write_config(tmp_path, "[kk-play]\nprebuffer-ms = 350\n")
    shown = run("kk-play", tmp_path, "--help")
    assert "[default: 350;" in " ".join(shown.stdout.decode().split())
    write_config(tmp_path, "[kk-play]\nprebuffer-ms = 99999999\n")
    refused = run("kk-play", tmp_path, "--list-devices")
    assert refused.returncode == 78
    assert b"line 2: prebuffer-ms: 99999999 is not in the range 0<=x<=60000" in refused.stderr
