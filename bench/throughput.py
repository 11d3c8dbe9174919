"""(a) Bare kokoro_onnx.Kokoro.create vs kk-synth end to end, side by side.

Both run as fresh processes on the same model, voice and text, alternating
(ABAB...) so that machine noise hits both alike; each reports wall time, audio
length and peak RSS (VmHWM, read every 50 ms). kk-synth's own JSON debug lines give its
synthesis time, so load and synthesis can be told apart.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from latency import rss_mib

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.voice import files as models

ARTICLE = Path(__file__).with_name("article.txt")

BARE = """
import sys, time
t0 = time.monotonic()
from kokoro_onnx import Kokoro
k = Kokoro(sys.argv[1], sys.argv[2])
t1 = time.monotonic()
audio, rate = k.create(sys.stdin.read(), "af_heart")
t2 = time.monotonic()
sys.stdout.buffer.write(audio.astype("<f4").tobytes())
print(f'{{"load": {t1 - t0}, "synth": {t2 - t1}}}', file=sys.stderr)
"""


def run(repeat: int, kk_synth: str) -> dict:
    text = ARTICLE.read_bytes()
    files = models.resolve()
    bare_argv = [sys.executable, "-c", BARE, str(files.model), str(files.voices)]
    kk_argv = [kk_synth, "--raw", "--voice", "af_heart"]
    rows = {"bare": [], "kk-synth": []}
    for _ in range(repeat):
        rows["bare"].append(_child(bare_argv, text, {}))
        rows["kk-synth"].append(_child(kk_argv, text, {"KOKORO_PIPE_LOG": "debug"}))
    result = {name: _summary(name, runs) for name, runs in rows.items()}
    result["ratio_wall"] = result["kk-synth"]["wall"] / result["bare"]["wall"]
    result["ratio_synth"] = result["kk-synth"]["synth"] / result["bare"]["synth"]
    result["chars"] = len(text.decode().strip())
    return result


def _child(argv: list[str], stdin: bytes, env: dict) -> dict:
    """Run argv, its peak RSS read from /proc while it runs: wait4's ru_maxrss
    would also count the bench's own memory, which the child holds until exec."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **env})
    chunks: dict[str, bytes] = {}

    def drain(name, stream):
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s))
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    proc.stdin.write(stdin)
    proc.stdin.close()
    peak = 0.0
    while True:
        with contextlib.suppress(OSError, RuntimeError):  # exited since the last look
            peak = rss_mib(proc.pid, "VmHWM")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.05)
            break
    wall = time.monotonic() - start
    for r in readers:
        r.join()
    out, err = chunks["out"], chunks["err"]
    if proc.returncode:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err.decode()[-500:]}")
    return {"wall": wall, "audio": len(out) / 4 / SAMPLE_RATE,
            "rss_mib": peak, "stderr": err.decode()}


def _summary(name: str, runs: list[dict]) -> dict:
    synth = [_synth_seconds(name, r["stderr"]) for r in runs]
    audio = statistics.median(r["audio"] for r in runs)
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "synth": statistics.median(synth),
        "audio": audio,
        "rtf": statistics.median(synth) / audio,
        "rss_mib": max(r["rss_mib"] for r in runs),
        "runs": len(runs),
    }


def _synth_seconds(name: str, stderr: str) -> float:
    """Seconds spent synthesizing: bare reports it; kk-synth logs every chunk."""
    if name == "bare":
        return json.loads(stderr.strip().splitlines()[-1])["synth"]
    chunks = [json.loads(line.split(": ", 1)[1]) for line in stderr.splitlines()
              if '"synthesized"' in line]
    return chunks[-1]["done"] - chunks[0]["started"]
