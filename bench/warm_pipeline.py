"""(h) issue 12, warm pipelines: kk-synth borrowing a running kk-speakd's model
over its socket, against kk-synth loading its own, in the same run.

One kk-speakd (`--cache-mb 0`: no phrase cache) runs throughout; kk-synth finds
it through KOKORO_PIPE_FIFO, and KOKORO_PIPE_DAEMON=0 makes it synthesize
in-process. Warm and cold alternate (ABBA), on the same texts.

First audio: `sh -c 'echo "<text>" | kk-synth | kk-play'` on the rig's default
sink, from time.time() just before the shell starts to the first sample above
at_sink.VOICED at the sink's monitor (the 5 ms recorder of tests/pulse_rig.py),
a one-sentence and a four-sentence text, each repetition a new text (a number
in it). Every warm run must show up in the daemon's log as a kk-synth job
`done`, and no cold one may.

Throughput: `kk-synth --raw --voice af_heart article.txt` (stdout read by the
bench) wall time via the daemon and in-process; the in-process one includes
loading the model, so its synthesis time alone (its KOKORO_PIPE_LOG=debug chunk
lines, as in (a)) is given too, and the daemon's own time for each job (its log).
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
from at_sink import VOICED, percentiles
from conftest import command
from daemon_rig import SpeakDaemon
from throughput import ARTICLE, _child, _synth_seconds

TEXTS = {
    "sentence": "Build {} is green: the build finished and all tests passed.",
    "paragraph": ("Build {} finished without errors. All four hundred tests passed, and the "
                  "coverage report was uploaded. The release candidate is waiting for review. "
                  "Deployment to the staging cluster starts in ten minutes."),
}
MODES = ("warm", "cold")  # via the daemon; in-process
TARGET_FIRST_AUDIO = 0.3  # warm <= 0.3 x cold
TARGET_THROUGHPUT = 1.05  # daemon <= 1.05 x in-process


def run(rig, directory: Path, runs: int, repeat: int) -> dict:
    """`runs` first-audio pipelines per text and mode, `repeat` article runs per mode."""
    daemon = SpeakDaemon(directory, "--cache-mb", "0", env=rig.env)
    try:
        daemon.wait_ready()
        return {"first_audio": _first_audio(rig, daemon, runs),
                "throughput": _throughput(daemon, repeat)}
    finally:
        daemon.stop()


def _env(daemon: SpeakDaemon, mode: str) -> dict:
    return {"KOKORO_PIPE_FIFO": str(daemon.fifo),
            "KOKORO_PIPE_DAEMON": "1" if mode == "warm" else "0"}


def _first_audio(rig, daemon: SpeakDaemon, runs: int) -> dict:
    scripts = os.path.dirname(command("kk-synth"))
    base = {**rig.env, "PATH": f"{scripts}:{rig.env['PATH']}"}
    ms: dict = {kind: {mode: [] for mode in MODES} for kind in TEXTS}
    for i in range(runs):
        order = MODES if i % 2 == 0 else MODES[::-1]
        for kind, text in TEXTS.items():
            for mode in order:
                env = {**base, **_env(daemon, mode)}
                ms[kind][mode].append(_pipeline(rig, daemon, text.format(i + 1), env, mode))
    warm = [j for j in _jobs(daemon) if j["outcome"] == "done"]
    result: dict = {"runs": runs, "warm_runs": runs * len(TEXTS), "daemon_jobs_done": len(warm)}
    for kind, by_mode in ms.items():
        r = {mode: _spread(values) for mode, values in by_mode.items()}
        r["ratio_p50"] = r["warm"]["p50"] / r["cold"]["p50"]
        result[kind] = r
    result["target_ratio"] = TARGET_FIRST_AUDIO
    return result


def _pipeline(rig, daemon: SpeakDaemon, text: str, env: dict, mode: str) -> float:
    """Milliseconds from starting the pipeline to its first voiced sample at the sink."""
    jobs = len(_jobs(daemon))
    script = f"echo {shlex.quote(text)} | kk-synth | kk-play"
    with rig.record("one") as capture:
        started = time.time()
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                              timeout=300)
    if done.returncode:
        raise RuntimeError(f"{script!r} ({mode}) exited {done.returncode}: "
                           f"{done.stderr[-500:]}")
    _check_route(daemon, jobs, mode, script)
    return (capture.first_sound(started, VOICED) - started) * 1000


def _throughput(daemon: SpeakDaemon, repeat: int) -> dict:
    argv = [command("kk-synth"), "--raw", "--voice", "af_heart", str(ARTICLE)]
    rows: dict = {mode: [] for mode in MODES}
    for i in range(repeat):
        for mode in MODES if i % 2 == 0 else MODES[::-1]:
            jobs = len(_jobs(daemon))
            row = _child(argv, b"", {**_env(daemon, mode), "KOKORO_PIPE_LOG": "debug"})
            job = _check_route(daemon, jobs, mode, "kk-synth --raw article.txt")
            if mode == "warm":
                row["daemon_s"] = job["seconds"]
            else:
                row["synth"] = _synth_seconds("kk-synth", row["stderr"])
            rows[mode].append(row)
    audio = {round(r["audio"], 3) for runs in rows.values() for r in runs}
    if len(audio) != 1:
        raise RuntimeError(f"the article's audio differs between runs: {sorted(audio)} s")
    result: dict = {"chars": len(ARTICLE.read_text().strip()), "audio_s": audio.pop(),
                    "runs": repeat}
    for mode, runs in rows.items():
        result[mode] = {"wall": statistics.median(r["wall"] for r in runs),
                        "rss_mib": max(r["rss_mib"] for r in runs)}
    result["warm"]["daemon_s"] = statistics.median(r["daemon_s"] for r in rows["warm"])
    result["cold"]["synth"] = statistics.median(r["synth"] for r in rows["cold"])
    result["ratio_wall"] = result["warm"]["wall"] / result["cold"]["wall"]
    result["ratio_to_synth"] = result["warm"]["wall"] / result["cold"]["synth"]
    result["target_ratio"] = TARGET_THROUGHPUT
    return result


def _jobs(daemon: SpeakDaemon) -> list[dict]:
    """The daemon's logged kk-synth jobs so far."""
    return [e for e in daemon.events if e.get("event") == "synthesis"]


def _check_route(daemon: SpeakDaemon, before: int, mode: str, what: str) -> dict | None:
    """A warm run must be exactly one more `done` job in the daemon's log (it logs
    the job as the connection closes: wait a little); a cold run none."""
    if mode == "cold":
        time.sleep(0.2)
        if len(_jobs(daemon)) != before:
            raise RuntimeError(f"{what} with KOKORO_PIPE_DAEMON=0 went to the daemon: "
                               f"{_jobs(daemon)[before:]}")
        return None
    try:
        job = daemon.wait_for(lambda e: e.get("event") == "synthesis"
                              and e in _jobs(daemon)[before:], 10, "synthesis")
    except AssertionError as e:
        raise RuntimeError(f"{what} did not go through kk-speakd ({daemon.fifo}): "
                           f"no synthesis job in its log") from e
    if job["outcome"] != "done" or len(_jobs(daemon)) != before + 1:
        raise RuntimeError(f"{what} via kk-speakd: {_jobs(daemon)[before:]}")
    return job


def _spread(values: list[float]) -> dict:
    return {**percentiles(values), "p90": float(np.percentile(values, 90))}
