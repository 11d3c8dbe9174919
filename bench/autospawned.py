"""(h) extended, issue 28: warm by default. No daemon runs; `echo … | kk-synth |
kk-play` starts one (autospawn) and a second pipeline `gap` seconds later
borrows it.

Each pair runs in a runtime directory of its own (XDG_RUNTIME_DIR: kk-synth
and the daemon it spawns find their place there, kokoro-pipe/speak.fifo), with
autospawn on: KOKORO_PIPE_AUTOSPAWN, _DAEMON and _FIFO are taken out of the
environment. Every text is new. Next to each pair, alternating before and
after it (ABBA), the cold pipeline of today, `kk-synth --no-daemon`, in a
directory where no daemon runs. First audio as in (h): time.time() just before
the shell starts -> the first sample above -60 dBFS at the sink's monitor.

Then, on the daemon the pair started: `kk-synth -t …` start -> the first byte
(the stream header) on its stdout, a few times, and a third pipeline (the
daemon has served requests: is its first borrowed one slower?). Finally every
daemon spawned for the pair (found by its FIFO on its command line, also before
it holds the lock) is stopped, `kk-speakd --stop`, and its pid must be gone; a
pair that spawned none is an error.

Where the second run's time goes, from KOKORO_PIPE_LOG=debug (the daemon
inherits it and logs to kk-speakd.log beside its FIFO; CLOCK_MONOTONIC times)
and `kk-play --stats`: the daemon's state when the run started, start -> its
first chunk's synthesis starting (client start, connection, request, G2P),
that chunk's synthesis, chunk made -> kk-play's first device write, and that
write -> heard.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

from at_sink import VOICED, percentiles
from conftest import command

from kokoro_pipe.daemon.autospawn import LOG_NAME
from kokoro_pipe.daemon.fifo import Place, lock_holder
from kokoro_pipe.daemon.log import read_status

TEXT = "Build {} is green: the build finished and all tests passed."
RUNS = ("cold", "first", "second", "third")
TARGET_SECOND = 0.45  # second <= 0.45 x first
TARGET_FIRST = 1.05  # first <= 1.05 x cold
TARGET_HEADER_MS = 150.0
HEADERS_PER_PAIR = 3
GONE_TIMEOUT = 60.0
DEBUG_LINE = re.compile(r"^kokoro_pipe\.voice\.synthesis: (\{.*\})$", re.M)


def run(rig, directory: Path, pairs: int, gap: float) -> dict:
    scripts = os.path.dirname(command("kk-synth"))
    base = {**rig.env, "PATH": f"{scripts}:{rig.env['PATH']}", "KOKORO_PIPE_LOG": "debug",
            "XDG_CACHE_HOME": str(directory / "cache")}  # the daemon's phrase cache too
    for name in ("KOKORO_PIPE_AUTOSPAWN", "KOKORO_PIPE_DAEMON", "KOKORO_PIPE_FIFO"):
        base.pop(name, None)
    rows: dict = {name: [] for name in RUNS}
    headers: list[float] = []
    for i in range(pairs):
        env = {**base, "XDG_RUNTIME_DIR": str(_fresh(directory / f"pair-{i}"))}
        cold_env = {**base, "XDG_RUNTIME_DIR": str(_fresh(directory / f"cold-{i}"))}
        place = Place(Path(env["XDG_RUNTIME_DIR"]) / "kokoro-pipe" / "speak.fifo")
        if i % 2 == 0:
            rows["cold"].append(_pipeline(rig, f"{i}-cold", cold_env, "--no-daemon"))
        try:
            rows["first"].append(_pipeline(rig, f"{i}-first", env))
            if not _spawned(place):
                raise RuntimeError(f"the first run spawned no kk-speakd at {place.fifo}")
            time.sleep(gap)
            state = read_status(place.status) or {}
            second = _pipeline(rig, f"{i}-second", env)
            rows["second"].append({**second, **_served(place, second), **_ready(place, second),
                                   "daemon_state_at_start": state.get("state", "none")})
            headers += [_header_ms(f"{i}-header-{k}", env) for k in range(HEADERS_PER_PAIR)]
            third = _pipeline(rig, f"{i}-third", env)
            rows["third"].append({**third, **_served(place, third)})
        finally:
            _stop(place, env)
        if i % 2 == 1:
            rows["cold"].append(_pipeline(rig, f"{i}-cold", cold_env, "--no-daemon"))
    return _summary(rows, headers, pairs, gap)


def _fresh(directory: Path) -> Path:
    directory.mkdir(mode=0o700, parents=True)
    return directory


def _pipeline(rig, tag: str, env: dict, *synth_args: str) -> dict:
    """One `echo … | kk-synth | kk-play --stats`: first audio at the sink (ms)
    and the times its processes logged, relative to its start (monotonic ms)."""
    script = (f"echo {shlex.quote(TEXT.format(tag))} | kk-synth {' '.join(synth_args)} "
              f"| kk-play --stats")
    with rig.record("one") as capture:
        started, began = time.time(), time.monotonic()
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                              timeout=300)
    if done.returncode:
        raise RuntimeError(f"{script!r} exited {done.returncode}: {done.stderr[-800:]}")
    stats = next(json.loads(line) for line in reversed(done.stderr.splitlines())
                 if line.startswith('{"samples_played"'))  # kk-play's, among kk-synth's lines
    row = {"at_sink_ms": (capture.first_sound(started, VOICED) - started) * 1000,
           "first_write_ms": (stats["first_write_monotonic"] - began) * 1000,
           "began": began, "started": started}
    chunks = [json.loads(m) for m in DEBUG_LINE.findall(done.stderr)]
    if chunks:  # synthesized in kk-synth's own process
        row.update(_chunk_times(chunks[0], began))
    return row


def _chunk_times(chunk: dict, began: float) -> dict:
    return {"chunk_started_ms": (chunk["started"] - began) * 1000,
            "chunk_done_ms": (chunk["done"] - began) * 1000}


def _served(place: Place, row: dict) -> dict:
    """The daemon's side of a borrowed run, from its log: its first chunk's times."""
    log = (place.directory / LOG_NAME).read_text()
    chunks = [c for c in map(json.loads, DEBUG_LINE.findall(log)) if c["started"] > row["began"]]
    if not chunks:
        raise RuntimeError(f"the run did not go through the daemon: no chunk in "
                           f"{place.directory / LOG_NAME} after its start")
    return _chunk_times(chunks[0], row["began"])


def _ready(place: Place, row: dict) -> dict:
    """When the daemon was ready, relative to the run's start (ms; < 0: before it),
    and its logged load and warm-up times (s)."""
    for line in (place.directory / LOG_NAME).read_text().splitlines():
        if line.startswith("{") and (event := json.loads(line)).get("event") == "ready":
            return {"ready_ms": (event["time"] - row["started"]) * 1000,
                    "load_s": event["load_s"], "warmup_s": event["warmup_s"]}
    raise RuntimeError(f"no ready line in {place.directory / LOG_NAME}")


def _header_ms(tag: str, env: dict) -> float:
    """kk-synth start -> the first byte of its stream on stdout (ms)."""
    began = time.monotonic()
    child = subprocess.Popen([command("kk-synth"), "-t", TEXT.format(tag)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = child.stdout.read(1)
    header_ms = (time.monotonic() - began) * 1000
    child.stdout.read()
    if child.wait(timeout=300) or not first:
        raise RuntimeError(f"kk-synth -t ({tag}) exited {child.returncode}")
    return header_ms


def _spawned(place: Place) -> list[int]:
    """The kk-speakd processes started for `place` (its FIFO, in a directory of
    this pair alone, is on their command line), from before they take the lock."""
    needle = f"\0--fifo\0{place.fifo}\0".encode()
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if needle in b"\0" + (proc / "cmdline").read_bytes() and _alive(int(proc.name)):
                pids.append(int(proc.name))
        except OSError:
            continue  # gone meanwhile
    return pids


def _stop(place: Place, env: dict) -> None:
    """End every daemon the pair spawned (`kk-speakd --stop`, which signals the
    lock's holder; SIGTERM by pid to one not yet holding it) and see them gone."""
    pids = _spawned(place)
    if lock_holder(place) is not None:
        subprocess.run([command("kk-speakd"), "--stop"], env=env, check=True,
                       capture_output=True, timeout=GONE_TIMEOUT + 30)
    for pid in filter(_alive, pids):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GONE_TIMEOUT
    while alive := [pid for pid in pids if _alive(pid)]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"kk-speakd {alive} still running {GONE_TIMEOUT:.0f} s after "
                               f"being stopped")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; its parent (not us) reaps it


def _summary(rows: dict, headers: list[float], pairs: int, gap: float) -> dict:
    result: dict = {"pairs": pairs, "gap_s": gap, "runs": rows}
    for name, runs in rows.items():
        result[name] = {"at_sink_ms": percentiles([r["at_sink_ms"] for r in runs])}
        for key in ("chunk_started_ms", "chunk_done_ms", "first_write_ms", "ready_ms", "load_s",
                    "warmup_s"):
            if all(key in r for r in runs):
                result[name][key] = percentiles([r[key] for r in runs])
    result["second"]["daemon_state_at_start"] = [r["daemon_state_at_start"]
                                                 for r in rows["second"]]
    p50 = {name: result[name]["at_sink_ms"]["p50"] for name in RUNS}
    result["second_to_first"] = p50["second"] / p50["first"]
    result["first_to_cold"] = p50["first"] / p50["cold"]
    result["third_to_first"] = p50["third"] / p50["first"]
    result["header_ms"] = percentiles(headers)
    result["targets"] = {"second_to_first": TARGET_SECOND, "first_to_cold": TARGET_FIRST,
                         "header_ms": TARGET_HEADER_MS}
    return result
