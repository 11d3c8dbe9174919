"""(b) cold pipeline and (c, d) warm kk-speakd time to first audio.

TTFA is measured to the first audio sample written to the device, on the
PulseAudio rig of the tests (null sinks, no sound card needed):
(b) from starting `echo … | kk-synth | kk-play` to kk-play's first device
    write (its --stats time, CLOCK_MONOTONIC shared by all processes), next
    to the floor: loading the model plus synthesizing the same first chunk;
(c) kk-speakd's own log (`ttfa_ms`: request read from the FIFO -> first
    sample written), for one-sentence and one-paragraph requests;
(d) the same text again: phrase-cache hits.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from conftest import command
from daemon_rig import SpeakDaemon

SENTENCE = "The nightly build finished without errors, and all tests passed."
PARAGRAPH = (
    "The nightly build finished without errors. All four hundred tests passed, the "
    "coverage report was uploaded, and the release candidate is waiting for review. "
    "Deployment to the staging cluster starts in ten minutes unless somebody objects."
)

FLOOR = """
import sys, time
t0 = time.monotonic()
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice.engine import Engine
from kokoro_pipe.text.g2p import G2P
from kokoro_pipe.text.chunks import split_chunks
engine = Engine(models.resolve())
t1 = time.monotonic()
g2p = G2P("en-us")
phonemes = g2p(split_chunks(sys.argv[1])[0].text)
style = engine.style("af_heart")
t2 = time.monotonic()
engine.synthesize(phonemes, style)
t3 = time.monotonic()
print(f'{{"load": {t1 - t0}, "synth": {t3 - t2}}}')
"""


def percentiles(values: list[float]) -> dict:
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "n": len(values)}


def cold_pipeline(env: dict, repeat: int) -> dict:
    """(b): TTFA of fresh pipelines and the model's floor, alternating."""
    scripts = os.path.dirname(command("kk-synth"))
    env = {**env, "PATH": f"{scripts}:{env['PATH']}"}
    pipelines = {
        "kk-synth | kk-play": f"echo '{SENTENCE}' | kk-synth | kk-play --stats",
        "kk-g2p | kk-synth --phonemes | kk-play":
            f"echo '{SENTENCE}' | kk-g2p --json | kk-synth --phonemes | kk-play --stats",
    }
    runs: dict[str, list[float]] = {name: [] for name in pipelines}
    floors = []
    for _ in range(repeat):
        for name, pipeline in pipelines.items():
            start = time.monotonic()
            result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], env=env,
                                    capture_output=True, text=True, timeout=300, check=True)
            stats = json.loads(result.stderr.strip().splitlines()[-1])
            runs[name].append(stats["first_write_monotonic"] - start)
        out = subprocess.run([sys.executable, "-c", FLOOR, SENTENCE], capture_output=True,
                             text=True, timeout=300, check=True).stdout
        floors.append(json.loads(out))
    floor = statistics.median(f["load"] + f["synth"] for f in floors)
    result = {"floor_load_plus_first_chunk": floor,
              "floor_load": statistics.median(f["load"] for f in floors),
              "floor_first_chunk": statistics.median(f["synth"] for f in floors)}
    for name, values in runs.items():
        median = statistics.median(values)
        result[name] = {"ttfa": median, "ratio_to_floor": median / floor}
    return result


def warm_daemon(env: dict, directory: Path, requests: int) -> dict:
    """(c) and (d): kk-speakd's logged TTFA, and its RSS as requests go by."""
    daemon = SpeakDaemon(directory, env=env)
    try:
        daemon.wait_ready()
        rss = [rss_mib(daemon.proc.pid)]
        result = {}
        for name, text in (("sentence", SENTENCE), ("paragraph", PARAGRAPH)):
            # A different number each time: distinct texts, no phrase-cache hits.
            texts = [f"Request {i + 1}. {text}" for i in range(requests)]
            result[name] = percentiles(_ttfas(daemon, name, texts))
            rss.append(rss_mib(daemon.proc.pid))
        repeated = ["Build finished."] * (requests + 1)
        result["cache_hit"] = percentiles(_ttfas(daemon, "cached", repeated)[1:])
        rss.append(rss_mib(daemon.proc.pid))
        result["rss_mib"] = {"after_ready": rss[0], "end": rss[-1], "max": max(rss)}
        result["underruns"] = sum(r.get("underruns", 0) for r in daemon.requests())
        return result
    finally:
        daemon.stop()


def _ttfas(daemon: SpeakDaemon, tag: str, texts: list[str]) -> list[float]:
    values = []
    for i, text in enumerate(texts):
        rid = f"{tag}-{i}"
        daemon.write(json.dumps({"text": text, "id": rid}))
        record = daemon.request(rid, timeout=120)
        if record["outcome"] != "spoken":
            raise RuntimeError(f"request {rid}: {record}")
        values.append(record["ttfa_ms"])
    return values


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now, or its peak so far with field="VmHWM"."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")
