"""The pause heard between requests (kk-speakd) and between input lines
(kk-synth | kk-play) is --paragraph-pause, measured at the sink: from the
onset of silence (below -60 dBFS) to the onset of the next speech. The model's
own quiet ends count towards it (voice/seams.py). The silence is made of
samples, not timing, as long as the next audio is ready in time: the daemon's
texts are spoken once first, so the second time they come from its phrase cache."""

from __future__ import annotations

import json
import subprocess

from conftest import command
from daemon_rig import module_daemon
from pulse_rig import silences, sound_end_frames

PAUSE = 0.4  # the default, given explicitly
MARGIN = 0.06  # the target is 20-30 ms; the figures are in bench/README.md
END_EARLY, END_LATE = 0.02, 0.1  # a logged end from the sound's end (as END in test_speechd)
# One sentence each, no commas: the only pauses heard are those between them.
THREE = ["The nightly build has finished.", "Deploy number four went out.",
         "Coffee is ready in the kitchen."]

speakd = module_daemon("pause", "--paragraph-pause", str(PAUSE))


def test_the_pause_heard_between_queued_requests_is_the_paragraph_pause(speakd, pulse):
    speakd.write(*(json.dumps({"text": t, "id": f"warm{i}"}) for i, t in enumerate(THREE)))
    speakd.request("warm2", timeout=180)  # the texts are in the phrase cache now
    with pulse.record("one") as capture:
        speakd.write(*(json.dumps({"text": t, "id": f"heard{i}"}) for i, t in enumerate(THREE)))
        records = [speakd.request(f"heard{i}", timeout=120) for i in range(3)]
    assert [r["outcome"] for r in records] == ["spoken"] * 3
    assert all(r["added_silence_ms"] == 0 and r["underruns"] == 0 for r in records), records
    heard = silences(capture.samples())
    print(f"heard between requests: {[round(s * 1000) for s in heard]} ms")
    assert len(heard) == 2, heard
    assert all(abs(s - PAUSE) <= MARGIN for s in heard), heard
    # Each one's logged end is when its last sound reached the sink, whether
    # the next flowed on after it (the first two) or the device drained (the last).
    ends = [capture.arrived(frame) for frame in sound_end_frames(capture.samples())]
    late = [r["audio_end"] - end for r, end in zip(records, ends, strict=True)]
    print(f"logged ends after the sound's end at the sink: {[round(t * 1000) for t in late]} ms")
    assert all(-END_EARLY < t < END_LATE for t in late), late


def test_the_pause_heard_between_kk_synth_lines_is_the_paragraph_pause(pulse):
    args = [command("kk-synth"), "--paragraph-pause", str(PAUSE)]
    stream = subprocess.run([*args, "-t", THREE[0], "-t", THREE[1]], env=pulse.env,
                            check=True, capture_output=True, timeout=300).stdout
    with pulse.record("one") as capture:
        subprocess.run([command("kk-play")], input=stream, env=pulse.env, check=True,
                       capture_output=True, timeout=120)
    heard = silences(capture.samples())
    print(f"heard between lines: {[round(s * 1000) for s in heard]} ms")
    assert len(heard) == 1, heard
    assert abs(heard[0] - PAUSE) <= MARGIN, heard
