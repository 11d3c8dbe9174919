"""kk-play --words against a real PulseAudio server: each word is printed
when the sink plays it, judged from a recording of the sink's monitor."""

from __future__ import annotations

import io
import subprocess
import threading
import time

import numpy as np
from conftest import command
from pulse_rig import locate

from kokoro_pipe.framing import Audio, WordMark, read_stream

TEXT = ["The quick brown fox jumps over the lazy dog.", "Then it sleeps, for a while."]
IN_STEP = 0.25  # seconds either way; the player checks after each 25 ms block (goal: < 50 ms)


def test_each_word_is_printed_as_the_sink_plays_it(pulse):
    pulse.set_default("one")
    stream = subprocess.run([command("kk-synth"), "--no-daemon", "-t", TEXT[0], "-t", TEXT[1]],
                            capture_output=True, check=True, timeout=300).stdout
    audio, marks, at = [], [], 0  # marks: (sample of the stream, text)
    for event in read_stream(io.BytesIO(stream), words=True):
        if isinstance(event, Audio):
            audio.append(event.samples[:, 0])
        elif isinstance(event, WordMark):
            marks.append((at + event.start, event.text))
        else:
            at = sum(map(len, audio))  # an End: the next utterance counts from here
    audio = np.concatenate(audio)
    printed: list[tuple[float, str]] = []
    with pulse.record("one") as capture:
        player = subprocess.Popen([command("kk-play"), "--words"], stdin=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=pulse.env)

        def read() -> None:
            printed.extend((time.time(), line.decode().rstrip("\n")) for line in player.stderr)

        reader = threading.Thread(target=read)
        reader.start()
        player.stdin.write(stream)
        player.stdin.close()
        player.wait(120)
        reader.join(10)
    assert player.returncode == 0
    assert [text for _, text in printed] == [text for _, text in marks], (printed, marks)
    offset, score = locate(capture.samples(), audio)
    assert score > 0.95
    late = [when - capture.arrived(offset + sample)
            for (when, _), (sample, _) in zip(printed, marks, strict=True)]
    print(f"printed after heard: median {np.median(late) * 1000:.0f} ms, "
          f"range {min(late) * 1000:.0f}..{max(late) * 1000:.0f} ms")
    assert all(abs(x) < IN_STEP for x in late), late
