"""(e) A continuous read of about ten minutes through `kk-synth | kk-play`:
underruns, and both processes' RSS sampled along the way (flat is the goal)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

from conftest import command
from latency import rss_mib

ARTICLE = Path(__file__).with_name("article.txt")
REPEAT = 6  # the article is ~110 s of speech


def run(env: dict, sample_every: float = 10.0) -> dict:
    text = (ARTICLE.read_text().strip() + "\n") * REPEAT
    synth = subprocess.Popen([command("kk-synth")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    play = subprocess.Popen([command("kk-play"), "--stats"], stdin=synth.stdout,
                            stderr=subprocess.PIPE, env=env)
    synth.stdout.close()
    synth.stdin.write(text.encode())
    synth.stdin.close()
    start, samples = time.monotonic(), []
    while play.poll() is None:
        row = {"t": round(time.monotonic() - start, 1)}
        for name, proc in (("kk-synth", synth), ("kk-play", play)):
            with contextlib.suppress(OSError, RuntimeError):  # exited meanwhile
                row[name] = round(rss_mib(proc.pid), 1)
        samples.append(row)
        time.sleep(sample_every)
    stats = json.loads(play.stderr.read().decode().strip().splitlines()[-1])
    synth.wait()
    return {
        "seconds": round(time.monotonic() - start, 1),
        "audio_seconds": stats["samples_played"] / 24000,
        "underruns": stats["underruns"],
        "rss_mib": {name: _trend(samples, name) for name in ("kk-synth", "kk-play")},
        "samples": samples,
    }


def _trend(samples: list[dict], name: str) -> dict:
    values = [s[name] for s in samples if name in s]
    if not values:
        return {}
    half = len(values) // 2 or 1
    return {"first": values[0], "max": max(values), "last": values[-1],
            "second_half_growth": round(values[-1] - values[half - 1], 1)}
