"""(g) first audio of a warm kk-speakd at the sink, against bare kokoro-onnx
`Kokoro.create()` of the same sentence timed in this process, same run; and the
daemon's memory over 200 requests of mixed lengths.

Three daemons, one after the other, on the same texts:
  one-pass  --model given by path: the whole model in one run, as before the split
  split     the split model, padding not vocoded, one vocoder pass (the default)
  windows   the split model, first chunk vocoded in windows (--vocoder-windows)
Each request is new text (a counter in it), so the phrase cache never answers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from at_sink import VOICED, percentiles
from daemon_rig import SpeakDaemon
from latency import rss_mib

from kokoro_pipe.voice import files

SENTENCES = {  # one chunk each: the first audio waits on the whole sentence's vocoding
    "sentence": "Build {} finished without errors.",
    "long": "Request {}: the nightly build finished without errors, and all tests passed.",
}
MODES = {"one-pass": ["--model", "{model}"], "split": [], "windows": ["--vocoder-windows"]}
MEMORY_TEXTS = ["Done.", "Tests passed on run {}.",
                "The deploy of build {} finished, and the smoke tests are green.",
                "Request {}: the nightly build finished without errors, and all tests "
                "passed, so the release can go out tonight as planned."]
MEMORY_REQUESTS = {"split": 10, "windows": 2}  # x `requests`: 200 for the default


def run(rig, directory: Path, requests: int) -> dict:
    """`requests` of each sentence per daemon, then MEMORY_REQUESTS x `requests`
    of mixed lengths for its RSS."""
    texts = {k: [t.format(i + 1) for i in range(requests)] for k, t in SENTENCES.items()}
    result: dict = {"bare_ms": _bare(texts), "phonemes": _phonemes(texts)}
    model = str(files.resolve().model)
    for mode, flags in MODES.items():
        args = [a.format(model=model) for a in flags]
        daemon = SpeakDaemon(directory / mode, "--cache-mb", "0", *args, env=rig.env)
        try:
            daemon.wait_ready()
            result[mode] = {kind: _first_audio(rig, daemon, f"{mode}-{kind}", t)
                            for kind, t in texts.items()}
            if mode in MEMORY_REQUESTS:
                result[mode]["rss_mib"] = _memory(daemon, f"{mode}-mem",
                                                  MEMORY_REQUESTS[mode] * requests)
            result[mode]["underruns"] = sum(r.get("underruns", 0) for r in daemon.requests())
            result[mode]["requests"] = len(daemon.requests())
        finally:
            daemon.stop()
    for mode in MODES:
        for kind in SENTENCES:
            r = result[mode][kind]
            r["ratio_to_bare"] = r["at_sink_ms"]["p50"] / result["bare_ms"][kind]["p50"]
    return result


def _bare(texts: dict[str, list[str]]) -> dict:
    """Warm `Kokoro.create()` of each text (its own espeak-ng G2P), milliseconds."""
    from kokoro_onnx import Kokoro

    paths = files.resolve()
    kokoro = Kokoro(str(paths.model), str(paths.voices))
    kokoro.create("Warm up.", voice="af_heart")
    out = {}
    for kind, batch in texts.items():
        times = []
        for text in batch:
            began = time.perf_counter()
            kokoro.create(text, voice="af_heart", speed=1.0, lang="en-us")
            times.append((time.perf_counter() - began) * 1000)
        out[kind] = percentiles(times)
    return out


def _phonemes(texts: dict[str, list[str]]) -> dict:
    from kokoro_pipe.text.g2p import G2P

    g2p = G2P("en-us")
    return {kind: len(g2p(batch[0])) for kind, batch in texts.items()}


def _first_audio(rig, daemon: SpeakDaemon, tag: str, texts: list[str]) -> dict:
    at_sink, logged = [], []
    for i, text in enumerate(texts):
        rid = f"{tag}-{i}"
        with rig.record("one") as capture:
            written = daemon.write(json.dumps({"text": text, "id": rid}))
            record = daemon.request(rid, timeout=120)
        at_sink.append((capture.first_sound(written, VOICED) - written) * 1000)
        logged.append(record["ttfa_ms"])
    return {"at_sink_ms": percentiles(at_sink), "daemon_ttfa_ms": percentiles(logged)}


def _memory(daemon: SpeakDaemon, tag: str, n: int) -> dict:
    """RSS after every 20 of `n` requests cycling through short to paragraph
    texts, spoken one after the other (the sink takes them at its pace)."""
    samples = [rss_mib(daemon.proc.pid)]
    for i in range(n):
        text = MEMORY_TEXTS[i % len(MEMORY_TEXTS)].format(i)
        rid = f"{tag}-{i}"
        daemon.write(json.dumps({"text": text, "id": rid}))
        if daemon.request(rid, timeout=300)["outcome"] != "spoken":
            raise RuntimeError(f"{rid} not spoken")
        if (i + 1) % 20 == 0:
            samples.append(rss_mib(daemon.proc.pid))
    return {"every_20": samples, "max": max(samples),
            "growth_last_half": samples[-1] - samples[len(samples) // 2]}
