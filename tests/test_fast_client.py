"""A kk-synth that a warm kk-speakd serves starts without the model's or the text
front-end's modules: its start is Python, click, numpy and the stream's code."""

from __future__ import annotations

import re
import subprocess

from conftest import command
from daemon_rig import module_daemon

# What only synthesizing here needs: the model, G2P, the normalizer's counting,
# the installer's network code, the progress bar; and libsndfile, for compressed files.
IN_PROCESS_ONLY = ("onnxruntime", "kokoro_onnx", "misaki", "spacy", "num2words", "urllib.request",
                   "tqdm", "kokoro_pipe.voice.engine", "kokoro_pipe.voice.synthesis", "soundfile")

speakd = module_daemon("fastclient")


def test_a_borrowing_kk_synth_imports_nothing_of_the_in_process_path(speakd):
    env = {**speakd.env, "KOKORO_PIPE_FIFO": str(speakd.fifo), "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run([command("kk-synth"), "--raw", "-t", "Quick off the mark."],
                            capture_output=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(result.stdout) > 24_000  # audio, made by the daemon:
    served = speakd.wait_for(lambda e: e.get("event") == "synthesis", what="for the job")
    assert served["outcome"] == "done"
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$",
                              result.stderr.decode(), re.M))
    assert "kokoro_pipe.daemon.synth_client" in imported  # the profile is there to read
    assert sorted(m for m in imported if m.startswith(IN_PROCESS_ONLY)) == []
