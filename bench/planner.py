"""(j) Speech scheduled from measured speed, judged at the sink.

For each way of playing (kk-speakd, and `kk-synth | kk-play`) and each model
thread count (2, and 1: a slower machine on demand), N new paragraph requests
are spoken one at a time into a null sink recorded by a 5 ms client. Added
silence = the span the request sounded at the sink (first to last non-zero
sample) less the samples it was made of (kk-speakd: `audio_s` in its request
log; the pipeline: the audio frames of the very stream kk-play read, tee'd to a
file), so every planned pause counts as audio and only what the planner failed
to have ready counts as silence. Where it went: each run of exact zeros in the
capture longer than the longest the request's own audio has (its planned
pauses) is a pause a listener would not expect; for the pipeline, the stream's
word marks say which written word it follows, and so whether it falls at a
sentence end, a clause end, or inside a clause.
The RTF of each request is measured in the same run (kk-speakd's log: synthesis
time / audio time; the pipeline: the same from kk-synth's debug lines, one per chunk).

With `--against CHECKOUT` (another tree of this project, e.g. main before the
planner): first audio of one-sentence requests at the sink, a kk-speakd of this
tree and one of that tree (its code put first on PYTHONPATH), warm side by side,
requests alternating between them, each text new.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path

import numpy as np
from at_sink import VOICED, percentiles
from conftest import command
from daemon_rig import SpeakDaemon
from first_audio import SENTENCES
from pulse_rig import RATE
from throughput import ARTICLE

from kokoro_pipe.framing import Audio, StartAfter, WordMark, read_stream

SUBJECTS = ["nightly build", "database migration", "security audit", "release candidate",
            "load test", "backup job", "index rebuild", "canary deploy", "cache warmup",
            "schema check"]
PARAGRAPH = ("The {0} finished on the staging server at noon, and every check passed. "
             "Run {1} took {2} minutes, the shortest it has been this quarter. "
             "Two warnings were filed for the on-call team, and one was closed within the hour. "
             "The results will be posted to the channel tomorrow morning, unless somebody "
             "objects.")


def paragraph(i: int) -> str:
    return PARAGRAPH.format(SUBJECTS[i % len(SUBJECTS)], 100 + i, 7 + i % 40)


def run(rig, directory: Path, requests: int, article: bool = True) -> dict:
    """`requests` paragraphs per way of playing and thread count; then, with
    `article`, the article once each way at 1 thread."""
    result = {}
    for threads in (2, 1):
        for way, play in (("speakd", _speakd), ("pipeline", _pipeline)):
            texts = [paragraph(i + 1000 * threads + (5000 if way == "pipeline" else 0))
                     for i in range(requests)]
            name = f"{way}_{threads}t"
            result[name] = play(rig, directory / name, texts, threads)
            print(f"  {name}: {_brief(result[name])}", flush=True)
    if article:
        for way, play in (("speakd", _speakd), ("pipeline", _pipeline)):
            name = f"article_{way}_1t"
            result[name] = play(rig, directory / name, [ARTICLE.read_text().strip()], 1)
            print(f"  {name}: {_brief(result[name])}", flush=True)
    return result


def against(rig, directory: Path, requests: int, other: Path) -> dict:
    """First audio at the sink, this tree's kk-speakd vs `other`'s, alternating."""
    daemons = {"this": SpeakDaemon(directory / "this", "--cache-mb", "0", env=rig.env),
               "other": SpeakDaemon(directory / "other", "--cache-mb", "0",
                                    env={**rig.env, "PYTHONPATH": str(other)})}
    heard: dict[str, list[float]] = {name: [] for name in daemons}
    try:
        for daemon in daemons.values():
            daemon.wait_ready()
        for i in range(requests):
            for kind, template in SENTENCES.items():
                for name, daemon in daemons.items():
                    rid = f"{name}-{kind}-{i}"
                    with rig.record("one") as capture:
                        written = daemon.write(json.dumps(
                            {"text": template.format(f"{i + 1} {name}"), "id": rid}))
                        daemon.request(rid, timeout=120)
                    heard[name].append((capture.first_sound(written, VOICED) - written) * 1000)
    finally:
        for daemon in daemons.values():
            daemon.stop()
    result = {name: percentiles(values) for name, values in heard.items()}
    result["ratio_p50"] = result["this"]["p50"] / result["other"]["p50"]
    result["other"]["tree"] = str(other)
    return result


def _brief(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "rows"}


def _speakd(rig, directory: Path, texts: list[str], threads: int) -> dict:
    daemon = SpeakDaemon(directory, "--threads", str(threads), "--cache-mb", "0", env=rig.env)
    rows = []
    try:
        daemon.wait_ready()
        for i, text in enumerate(texts):
            rid = f"p{threads}-{i}"
            with rig.record("one") as capture:
                daemon.write(json.dumps({"text": text, "id": rid}))
                record = daemon.request(rid, timeout=600)
                time.sleep(0.3)  # the tail reaches the monitor
            if record["outcome"] != "spoken":
                raise RuntimeError(f"{rid}: {record}")
            made = round(record["audio_s"] * RATE)
            rows.append(_judge(capture.samples(), made, None, text) | {
                "rtf": record["rtf"], "underruns": record["underruns"],
                "logged_added_ms": record.get("added_silence_ms"),
                "hold_ms": record.get("hold_ms")})
    finally:
        daemon.stop()
    return _summary(rows)


def _pipeline(rig, directory: Path, texts: list[str], threads: int) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    env = {**rig.env, "KOKORO_PIPE_DAEMON": "0"}
    rows = []
    for i, text in enumerate(texts):
        tee = directory / f"{i}.kkp"
        script = (f"KOKORO_PIPE_LOG=debug {command('kk-synth')} --threads {threads} "
                  f"-t \"$1\" | tee {tee} | {command('kk-play')} --stats --device one")
        with rig.record("one") as capture:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", script, "sh", text], env=env,
                                  capture_output=True, timeout=600)
            time.sleep(0.3)
        if done.returncode:
            raise RuntimeError(done.stderr.decode(errors="replace")[-500:])
        lines = done.stderr.decode().splitlines()
        stats = json.loads(lines[-1])
        chunks = [json.loads(line.split(": ", 1)[1]) for line in lines
                  if '"event": "synthesized"' in line]
        rtf = sum(c["done"] - c["started"] for c in chunks) / sum(c["seconds"] for c in chunks)
        audio, advice, words = _stream(tee.read_bytes())
        judged = _judge(capture.samples(), len(audio), audio, text)
        judged["pauses_after"] = [_boundary(text, word)
                                  for word in _where(capture.samples(), words,
                                                     _longest_zero_run(audio))]
        rows.append(judged | {
            "rtf": round(rtf, 3), "underruns": stats["underruns"],
            "logged_added_ms": stats.get("added_silence_ms"), "hold_ms": advice})
    return _summary(rows)


def _stream(data: bytes) -> tuple[np.ndarray, float | None, list[WordMark]]:
    audio, advice, words = [], None, []
    for event in read_stream(io.BytesIO(data), words=True):
        if isinstance(event, Audio):
            audio.append(event.samples[:, 0])
        elif isinstance(event, StartAfter):
            advice = event.frames / RATE * 1000
        elif isinstance(event, WordMark):
            words.append(event)
    return np.concatenate(audio), advice, words


def _boundary(text: str, word: WordMark | None) -> str:
    """Where a pause after `word` falls in the text the user wrote: "sentence",
    "clause" (the punctuation after the word says which) or "inside" a clause."""
    if word is None or word.span is None:
        return "start" if word is None else "unknown"
    after = text[word.span[1]:].lstrip(" \"')")
    if after[:1] in (".", "!", "?") or not after:
        return "sentence"
    return "clause" if after[:1] in (",", ";", ":", "\u2014", "\u2013") else "inside"


def _where(captured: np.ndarray, words: list[WordMark], own: int) -> list[WordMark | None]:
    """The word mark before each added pause (None: before the first word):
    capture positions less the silence added before them are stream positions,
    which word marks name. `own`: the longest pause the stream itself has."""
    sounding = np.flatnonzero(captured)
    heard = captured[sounding[0]:sounding[-1] + 1]
    own += RATE // 50
    zero = np.concatenate([[False], heard == 0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    added, after = 0, []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a <= own:
            continue
        at = a - added  # in the stream, from its first sounding sample
        before = [w for w in words if w.start <= at]
        after.append(before[-1] if before else None)
        added += (b - a) - own
    return after


def _judge(captured: np.ndarray, made: int, reference: np.ndarray | None, text: str) -> dict:
    sounding = np.flatnonzero(captured)
    span = int(sounding[-1] - sounding[0] + 1) if len(sounding) else 0
    heard = captured[sounding[0]:sounding[-1] + 1] if len(sounding) else captured[:0]
    longest_own = _longest_zero_run(reference) if reference is not None else round(0.3 * RATE)
    unexpected = [n for n in _zero_runs(heard) if n > longest_own + RATE // 50]
    return {"added_ms": (span - made) / RATE * 1000,
            "unexpected_pauses_ms": [round(n / RATE * 1000) for n in unexpected],
            "chars": len(text)}


def _zero_runs(x: np.ndarray) -> list[int]:
    zero = np.concatenate([[False], x == 0, [False]])
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _longest_zero_run(x: np.ndarray) -> int:
    voiced = np.flatnonzero(x)
    return max(_zero_runs(x[voiced[0]:voiced[-1] + 1]), default=0)


def _summary(rows: list[dict]) -> dict:
    added = [r["added_ms"] for r in rows]
    return {"requests": len(rows),
            "rtf_p50": float(np.median([r["rtf"] for r in rows])),
            "rtf_max": float(max(r["rtf"] for r in rows)),
            "underruns": int(sum(r["underruns"] for r in rows)),
            "requests_with_underruns": sum(r["underruns"] > 0 for r in rows),
            "added_ms_p50": float(np.median(added)), "added_ms_max": float(max(added)),
            "requests_over_20ms": sum(a > 20 for a in added),
            "unexpected_pauses": sum(len(r["unexpected_pauses_ms"]) for r in rows),
            "pauses_after": [w for r in rows for w in r.get("pauses_after", [])],
            "hold_ms_p50": float(np.median([r["hold_ms"] or 0 for r in rows])),
            "rows": rows}
