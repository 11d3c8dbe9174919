"""--provider: a named execution provider, or auto with its timings kept in the data dir."""

from __future__ import annotations

import json
import subprocess

import onnxruntime as ort
import pytest
from conftest import command
from test_synth import FOX, decode, synth

from kokoro_pipe.voice import files as models
from kokoro_pipe.voice.providers import PROVIDERS

MISSING = [n for n, ort_name in PROVIDERS.items()
           if ort_name not in ort.get_available_providers()]


@pytest.mark.skipif(not MISSING, reason="this onnxruntime offers every provider")
@pytest.mark.parametrize("cmd", ["kk-synth", "kk-speakd"])
def test_a_missing_provider_is_one_line_and_69(tmp_path, cmd):
    result = subprocess.run([command(cmd), "--provider", MISSING[0],
                             *(["-t", "hi"] if cmd == "kk-synth" else
                               ["--fifo", str(tmp_path / "f")])],
                            capture_output=True, timeout=120)
    stderr = result.stderr.decode()
    assert result.returncode == 69, stderr
    assert f"execution provider {MISSING[0]} is not in this onnxruntime" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_cpu_speaks():
    result = synth("--provider", "cpu", "-t", FOX)
    assert result.returncode == 0, result.stderr
    assert 1.5 < len(decode(result.stdout)[1]) / 24000 < 5.0


def test_auto_measures_once_then_reads_the_cache(tmp_path):
    installed = models.resolve()
    args = ["--provider", "auto", "--model", str(installed.model),
            "--voices", str(installed.voices), "-t", "Hi."]
    env = {"KOKORO_PIPE_DATA": str(tmp_path), "KOKORO_PIPE_LOG": "info"}
    cache = tmp_path / "providers.json"

    def chosen() -> dict:
        result = synth(*args, env=env)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stderr.decode().splitlines() if '"provider"' in line]
        assert len(lines) == 1, result.stderr
        return json.loads(lines[0].split(": ", 1)[1])

    first = chosen()
    assert first["from"] == "measured" and first["provider"] == "cpu"
    entry = json.loads(cache.read_text())[str(installed.model.resolve())]
    assert entry["seconds"]["cpu"] == first["seconds"]["cpu"] > 0

    assert chosen() == {**first, "from": "cache"}

    entry["seconds"]["cpu"] = 123.0  # the file is what is read, not a fresh measurement
    cache.write_text(json.dumps({str(installed.model.resolve()): entry}))
    assert chosen()["seconds"]["cpu"] == 123.0

    entry["stamp"][0] += 1  # another model file at that path: measured again
    cache.write_text(json.dumps({str(installed.model.resolve()): entry}))
    again = chosen()
    assert again["from"] == "measured" and again["seconds"]["cpu"] != 123.0
