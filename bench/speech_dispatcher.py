"""(i) sd_kokoro under a real speech-dispatcher, next to kk-speakd, at the sink.

First audio: `spd-say -o kokoro TEXT` started -> first sample above -60 dBFS at
the monitor, and kk-speakd's FIFO write -> the same, alternating on the same
kind of one-sentence text (each text new: no phrase-cache hits). Cancel:
`spd-say -C` started, one second into a long sentence -> the last sample before
the first 100 ms of exact silence. Both daemons stay warm for the whole section.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from at_sink import LONG, VOICED, percentiles
from daemon_rig import SpeakDaemon
from speechd_rig import SpeechDispatcher

TEXT = "Request {}: the nightly build finished without errors."


def run(rig, directory: Path, requests: int) -> dict:
    server = SpeechDispatcher(directory / "speechd", rig.env)
    daemon = SpeakDaemon(directory / "speakd", env=rig.env)
    try:
        server.start()
        daemon.wait_ready()
        for warm in ("Warm up one.", "Warm up two."):  # past the first device opening
            server.say("-w", warm)
            daemon.write(json.dumps({"text": warm, "id": warm}))
            daemon.request(warm)
        spd, speakd = [], []
        for i in range(requests):
            spd.append(_spd_first_audio(rig, server, TEXT.format(2 * i + 1)))
            speakd.append(_speakd_first_audio(rig, daemon, TEXT.format(2 * i + 2), i))
        cuts = [_cancel(rig, server) for _ in range(requests)]
    finally:
        daemon.stop()
        server.stop()
    first = {"spd_say": percentiles(spd), "kk_speakd": percentiles(speakd)}
    first["ratio_p50"] = first["spd_say"]["p50"] / first["kk_speakd"]["p50"]
    return {"first_audio_ms": first, "cancel_ms": percentiles(cuts), "cancel_target_ms": 100}


def _spd_first_audio(rig, server: SpeechDispatcher, text: str) -> float:
    with rig.record("one") as capture:
        started = time.time()
        server.say("-w", text)
    return (capture.first_sound(started, VOICED) - started) * 1000


def _speakd_first_audio(rig, daemon: SpeakDaemon, text: str, i: int) -> float:
    with rig.record("one") as capture:
        written = daemon.write(json.dumps({"text": text, "id": f"first-{i}"}))
        daemon.request(f"first-{i}", timeout=120)
    return (capture.first_sound(written, VOICED) - written) * 1000


def _cancel(rig, server: SpeechDispatcher) -> float:
    with rig.record("one") as capture:
        speaking = server.client(f"<speak>{LONG}</speak>")
        capture.wait_sounding(1.0)
        started = time.time()
        server.say("-C")
        speaking.communicate(timeout=120)
    return (capture.sound_cut(started) - started) * 1000
