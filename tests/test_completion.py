"""Shell completion: the scripts click generates, run in real shells."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import command

SCRIPTS = os.path.dirname(command("kk-synth"))


def bash_complete(words: list[str], env: dict | None = None) -> list[str]:
    """What bash offers for the last word, through the script kk-* generates."""
    prog = words[0]
    function = f"_{prog.replace('-', '_')}_completion"
    script = f"""
        source <(_{prog.replace('-', '_').upper()}_COMPLETE=bash_source {prog})
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
        {function} {prog}
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    result = subprocess.run(["bash", "-c", script, "bash", *words], capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "PATH": f"{SCRIPTS}:{os.environ['PATH']}",
                                 **(env or {})})
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes_installed_voice_names():
    assert bash_complete(["kk-synth", "--voice", "af_h"]) == ["af_heart"]
    british = bash_complete(["kk-synth", "--voice", "bf_"])
    assert "bf_emma" in british and all(v.startswith("bf_") for v in british)


def test_bash_completes_the_next_voice_of_a_blend():
    offered = bash_complete(["kk-speakd", "--voice", "af_bella:0.6,af_s"])
    assert "af_bella:0.6,af_sky" in offered and "af_bella:0.6,af_sarah" in offered


def test_bash_completes_options_and_choices():
    assert bash_complete(["kk-synth", "--prov"]) == ["--provider"]
    assert bash_complete(["kk-synth", "--format", "o"]) == ["ogg", "opus"]
    assert bash_complete(["kk-say", "--voice", "am_ad"]) == ["am_adam"]


def test_a_bad_config_file_does_not_break_completion(tmp_path):
    (tmp_path / "kokoro-pipe").mkdir()
    (tmp_path / "kokoro-pipe" / "config.toml").write_text("voice = \n")
    assert bash_complete(["kk-synth", "--voice", "af_h"],
                         env={"XDG_CONFIG_HOME": str(tmp_path)}) == ["af_heart"]


def test_bash_completes_output_device_names(pulse):
    offered = bash_complete(["kk-play", "--device", ""], env=pulse.env)
    assert "one" in offered and "two" in offered, offered


def need(shell: str) -> None:
    if not shutil.which(shell):
        pytest.fail(f"{shell} is not installed: run `make install-test`")


def test_fish_completes_voice_names():
    need("fish")
    result = subprocess.run(
        ["fish", "-c", "_KK_SYNTH_COMPLETE=fish_source kk-synth | source; "
                       "complete -C 'kk-synth --voice af_h'"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{SCRIPTS}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["af_heart"]


def test_zsh_script_registers_and_its_answer_has_the_voice():
    need("zsh")
    env = {**os.environ, "PATH": f"{SCRIPTS}:{os.environ['PATH']}"}
    loaded = subprocess.run(
        ["zsh", "-c", "autoload -U compinit; compinit -u; "
                      "source <(_KK_SYNTH_COMPLETE=zsh_source kk-synth); "
                      "print -r -- $_comps[kk-synth]"],
        capture_output=True, text=True, timeout=60, env=env)
    assert loaded.stdout.strip() == "_kk_synth_completion", loaded.stderr
    # What that function asks kk-synth (zsh's completion widgets need a terminal).
    answer = subprocess.run([command("kk-synth")], capture_output=True, text=True, timeout=60,
                            env={**env, "_KK_SYNTH_COMPLETE": "zsh_complete",
                                 "COMP_WORDS": "kk-synth --voice af_h", "COMP_CWORD": "2"})
    assert answer.stdout.split() == ["plain", "af_heart", "_"]
