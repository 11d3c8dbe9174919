"""(c) kk-speakd and (f) kk-play, judged where they are heard: the null sink's
monitor, recorded by a 5 ms client whose blocks are timestamped on arrival
(tests/pulse_rig.py), against the time.time() of the FIFO write.

(c) first audio: FIFO write -> first sample above -60 dBFS at the monitor, next
    to the daemon's own `ttfa_ms` (read from the FIFO -> first sample written);
    stop and interrupt: FIFO write -> the sound's end at the monitor;
    the pause heard between three requests written at once, from the samples
    themselves: onset of silence (below -60 dBFS) to onset of the next sound
    (each request checked heard whole by correlation with kk-synth's audio);
    the same between two lines of kk-synth | kk-play.
(f) kk-play: samples of a tone lost at the end, and exit -> last sample heard,
    for monitor clients of 5, 10 and 50 ms on a 24 kHz mono and a 48 kHz
    stereo sink, 0.5 s and 3 s tones.
"""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import time
from pathlib import Path

import numpy as np
from conftest import command
from daemon_rig import SpeakDaemon
from pulse_rig import RATE, WIDE, WIDE_RATE, locate, silences

from kokoro_pipe.framing import Audio, End, read_stream

VOICED = 1e-3  # -60 dBFS: the first sample that is speech, not the fade-in's first step
LONG = ("This sentence is long on purpose so that the daemon is still speaking it when the "
        "stop arrives and it goes on for a while longer and then some more until it is cut")
GAP_TEXTS = ["Tests passed on the {} run.", "Deploy {} finished.", "Coffee number {} is ready."]


def percentiles(values: list[float]) -> dict:
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "min": float(min(values)), "max": float(max(values)), "n": len(values)}


def speakd_at_sink(rig, directory: Path, requests: int, gap: float) -> dict:
    daemon = SpeakDaemon(directory, "--paragraph-pause", str(gap), env=rig.env)
    try:
        daemon.wait_ready()
        return {"first_audio": _first_audio(rig, daemon, requests),
                "stop": _cuts(rig, daemon, "stop", requests),
                "interrupt": _cuts(rig, daemon, "interrupt", requests),
                "gaps": _gaps(rig, daemon, max(2, requests // 4), gap),
                "line_pauses": line_pauses(rig, max(2, requests // 4), gap)}
    finally:
        daemon.stop()


def _first_audio(rig, daemon: SpeakDaemon, n: int) -> dict:
    at_sink, logged = [], []
    for i in range(n):
        rid = f"first-{i}"
        with rig.record("one") as capture:
            written = daemon.write(json.dumps(
                {"text": f"Request {i + 1}: the nightly build finished without errors.",
                 "id": rid}))
            record = daemon.request(rid, timeout=120)
        at_sink.append((capture.first_sound(written, VOICED) - written) * 1000)
        logged.append(record["ttfa_ms"])
    return {"at_sink_ms": percentiles(at_sink), "daemon_ttfa_ms": percentiles(logged)}


def _cuts(rig, daemon: SpeakDaemon, how: str, n: int) -> dict:
    delays = []
    for i in range(n):
        rid = f"{how}-{i}"
        with rig.record("one") as capture:
            daemon.write(json.dumps({"text": LONG, "id": rid}))
            daemon.wait_status("sounding", rid)
            capture.wait_sounding(1.0)
            command_line = ("stop" if how == "stop" else json.dumps(
                {"text": "Build broke.", "id": f"urgent-{i}", "priority": "interrupt"}))
            written = daemon.write(command_line)
            record = daemon.request(rid)
            if how == "interrupt":
                daemon.request(f"urgent-{i}")
        if record["outcome"] != "stopped":
            raise RuntimeError(f"{rid}: {record}")
        delays.append((capture.sound_cut(written) - written) * 1000)
    return percentiles(delays)


def _gaps(rig, daemon: SpeakDaemon, rounds: int, gap: float) -> dict:
    """Fresh texts (synthesis of the next request races the pause) and the same
    texts again (phrase-cache hits: the flow alone), per monitor client."""
    result = {}
    for client_ms, fresh in itertools.product((5, 50), (True, False)):
        gaps = []
        for r in range(rounds):
            texts = [t.format(f"{client_ms}-{r if fresh else 'again'}") for t in GAP_TEXTS]
            if not fresh:
                _speak(daemon, texts, f"warm-{client_ms}-{r}")
            references = _synthesize(texts)
            with rig.record("one", latency_ms=client_ms) as capture:
                _speak(daemon, texts, f"gap-{client_ms}-{fresh}-{r}")
            audio = capture.samples()
            for ref in references:
                if (score := locate(audio, ref)[1]) < 0.99:
                    raise RuntimeError(f"a request not heard whole (correlation {score:.3f})")
            gaps += _heard_pauses(audio, len(texts) - 1)
        result[f"client_{client_ms}ms_{'fresh' if fresh else 'cached'}"] = percentiles(gaps)
    result["pause_ms"] = gap * 1000
    return result


def line_pauses(rig, runs: int, gap: float) -> dict:
    """The pause heard between two lines of `kk-synth | kk-play` (kk-synth done
    first: the pause is its samples, not a race with synthesis)."""
    pauses = []
    for r in range(runs):
        texts = [t.format(f"line-{r}") for t in GAP_TEXTS[:2]]
        args = [command("kk-synth"), "--paragraph-pause", str(gap)]
        stream = subprocess.run([*args, *(a for t in texts for a in ("-t", t))],
                                env=rig.env, capture_output=True, check=True, timeout=300).stdout
        with rig.record("one") as capture:
            subprocess.run([command("kk-play")], input=stream, env=rig.env, check=True,
                           capture_output=True, timeout=120)
        pauses += _heard_pauses(capture.samples(), 1)
    return {**percentiles(pauses), "pause_ms": gap * 1000}


def _heard_pauses(audio: np.ndarray, expected: int) -> list[float]:
    """The pauses heard between texts with no pause inside them, in ms (a
    stop's closure inside a word can be silent for ~100 ms: not counted)."""
    heard = silences(audio, shortest=0.2)
    if len(heard) != expected:
        raise RuntimeError(f"{len(heard)} pauses heard, not {expected}: {heard}")
    return [s * 1000 for s in heard]


def _speak(daemon: SpeakDaemon, texts: list[str], tag: str) -> None:
    daemon.write(*(json.dumps({"text": t, "id": f"{tag}-{i}"}) for i, t in enumerate(texts)))
    for i in range(len(texts)):
        if daemon.request(f"{tag}-{i}", timeout=120)["outcome"] != "spoken":
            raise RuntimeError(f"{tag}-{i} not spoken")


def _synthesize(texts: list[str]) -> list[np.ndarray]:
    """kk-synth's audio of each text: what the daemon plays for it (the model's
    audio neither starts nor ends in an exact zero; the pause between lines does)."""
    args = [command("kk-synth")] + [a for t in texts for a in ("-t", t)]
    out = subprocess.run(args, capture_output=True, check=True, timeout=300).stdout
    utterances, audio = [], []
    for event in read_stream(io.BytesIO(out)):
        if isinstance(event, Audio):
            audio.append(event.samples[:, 0])
        elif isinstance(event, End):  # without the pause kk-synth puts between lines
            utterance = np.concatenate(audio)
            voiced = np.flatnonzero(utterance)
            utterances.append(utterance[voiced[0] : voiced[-1] + 1])
            audio = []
    return utterances


def kk_play_tail(rig, runs: int) -> dict:
    """(f): every sample of a tone heard, and how soon kk-play exits after."""
    result = {}
    for sink, client_ms, seconds in itertools.product(("one", WIDE), (5, 10, 50), (0.5, 3.0)):
        rig.set_default(sink)
        n = round(seconds * RATE)
        tone = (0.45 + 0.4 * np.sin(2 * np.pi * 300 * np.arange(n) / RATE)).astype(np.float32)
        lost, exits = [], []
        for _ in range(runs):
            with rig.record(sink, latency_ms=client_ms) as capture:
                subprocess.run([command("kk-play"), "--raw"], input=tone.tobytes(), check=True,
                               capture_output=True, env=rig.env, timeout=60)
                exited = time.time()
            heard = np.abs(capture.samples()).reshape(-1, capture.channels)[:, 0]
            loud = np.flatnonzero(heard > 1e-5)
            span = (loud[-1] - loud[0] + 1) * RATE / (WIDE_RATE if sink == WIDE else RATE)
            lost.append(round(float(n - span) / RATE * 1000, 2))
            exits.append((exited - capture.sound_ends(1e-5)) * 1000)
        result[f"{sink} client {client_ms} ms {seconds} s"] = {
            "whole": int(sum(abs(x) <= 1.0 for x in lost)), "runs": runs,
            "lost_ms_max": max(lost), "exit_after_sound_ms": percentiles(exits)}
    rig.set_default("one")
    return result
