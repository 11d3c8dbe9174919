"""kk-synth and kk-g2p end to end: the real model, real subprocess pipelines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import command

from kokoro_pipe import framing

FOX = "The quick brown fox jumps over the lazy dog."


def synth(*args: str, stdin: bytes | None = None, env: dict | None = None):
    return subprocess.run([command("kk-synth"), *args], input=stdin, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def shell(pipeline: str) -> subprocess.CompletedProcess:
    scripts = os.path.dirname(command("kk-synth"))
    return subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True,
                          timeout=300,
                          env={**os.environ, "PATH": f"{scripts}:{os.environ['PATH']}"})


def decode(stream: bytes) -> tuple[framing.Header, np.ndarray, list[dict]]:
    events = list(framing.read_stream(io.BytesIO(stream)))
    audio = [e.samples[:, 0] for e in events if isinstance(e, framing.Audio)]
    ends = [e.meta for e in events if isinstance(e, framing.End)]
    return events[0], np.concatenate(audio) if audio else np.zeros(0, np.float32), ends


def test_a_sentence_end_to_end():
    result = synth("-t", FOX)
    assert result.returncode == 0, result.stderr
    header, audio, ends = decode(result.stdout)
    assert (header.sample_rate, header.channels) == (24000, 1)
    seconds = len(audio) / 24000
    assert 1.5 < seconds < 5.0  # ~2.6 s of speech
    assert np.sqrt(np.mean(audio**2)) > 0.02 and np.abs(audio).max() <= 1.0
    assert ends == [{"id": 1, "text": FOX}]


def test_lines_are_utterances_with_ids():
    result = synth(stdin=b"First line.\nSecond line.\n\nThird line.\n")
    assert result.returncode == 0, result.stderr
    _, _, ends = decode(result.stdout)
    assert [(m["id"], m["text"]) for m in ends] == [
        (1, "First line."), (2, "Second line."), (3, "Third line.")]


def test_g2p_json_pipes_into_synth_phonemes():
    direct = synth("-t", FOX)
    piped = shell(f"kk-g2p --json -t '{FOX}' | kk-synth --phonemes")
    assert piped.returncode == 0, piped.stderr
    _, audio, ends = decode(piped.stdout)
    _, direct_audio, _ = decode(direct.stdout)
    assert ends == [{"id": 1, "text": FOX}]
    assert abs(len(audio) - len(direct_audio)) < 0.05 * len(direct_audio)


def test_g2p_plain_keeps_line_alignment():
    result = subprocess.run([command("kk-g2p")], input=b"Hello world.\n\nGood night.\n",
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().split("\n")
    assert lines[0] == "həlˈO wˈɜɹld." and lines[1] == "" and lines[2].startswith("ɡˈʊd")


def test_wav_to_a_file_has_true_sizes(tmp_path):
    out = tmp_path / "fox.wav"
    with open(out, "wb") as f:
        result = subprocess.run([command("kk-synth"), "--wav", "-t", FOX], stdout=f,
                                stderr=subprocess.PIPE, timeout=300)
    assert result.returncode == 0, result.stderr
    data, rate = sf.read(out, dtype="float32")
    assert rate == 24000 and 1.5 < len(data) / rate < 5.0
    assert int.from_bytes(out.read_bytes()[40:44], "little") == 2 * len(data)


def test_wav_option_o_and_on_a_pipe(tmp_path):
    out = tmp_path / "o.wav"
    assert synth("--wav", "-o", str(out), "-t", FOX).returncode == 0
    piped = shell(f"kk-synth --wav -t '{FOX}' | cat")
    assert piped.returncode == 0
    assert piped.stdout[4:8] == b"\xff\xff\xff\xff" and piped.stdout[40:44] == b"\xff\xff\xff\xff"
    assert len(piped.stdout) == out.stat().st_size
    assert sf.info(out).frames == (len(piped.stdout) - 44) // 2


def test_raw_is_four_bytes_a_sample():
    raw = synth("--raw", "-t", FOX)
    _, audio, _ = decode(synth("-t", FOX).stdout)
    assert raw.returncode == 0
    assert len(raw.stdout) == 4 * len(audio)
    np.testing.assert_allclose(np.frombuffer(raw.stdout, "<f4"), audio, atol=1e-3)


def test_voice_blend_speed_and_british():
    slow = synth("--voice", "af_bella:0.6,af_sky:0.4", "--speed", "0.7", "-t", FOX)
    british = synth("--voice", "bf_emma", "-t", FOX)
    assert slow.returncode == 0 and british.returncode == 0, slow.stderr + british.stderr
    assert len(decode(slow.stdout)[1]) > 1.2 * len(decode(british.stdout)[1])


def test_list_voices():
    result = synth("--list-voices")
    names = result.stdout.decode().split()
    assert result.returncode == 0 and len(names) == 54 and "af_heart" in names


def test_first_audio_leaves_before_the_second_chunk_is_synthesized():
    """Streaming proof: the first frame is read off the pipe before the second
    chunk's synthesis has finished (CLOCK_MONOTONIC, shared by both processes)."""
    text = ("Build finished. " + "The release notes describe every change in some detail, "
            "including the new command line options and the reworked configuration file. " * 2
            + "Deployment starts in five minutes.")
    proc = subprocess.Popen([command("kk-synth"), "-t", text], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "KOKORO_PIPE_LOG": "debug"})
    first_audio: list[float] = []

    def watch():
        for event in framing.read_stream(proc.stdout):
            if isinstance(event, framing.Audio) and not first_audio:
                first_audio.append(time.monotonic())

    reader = threading.Thread(target=watch)
    reader.start()
    stderr = proc.stderr.read().decode()
    reader.join(timeout=300)
    assert proc.wait(timeout=300) == 0, stderr
    chunks = [json.loads(line.split(": ", 1)[1]) for line in stderr.splitlines()
              if '"synthesized"' in line]
    assert len(chunks) >= 3
    assert first_audio[0] < chunks[1]["done"], (first_audio, chunks)
    # The producer worked on chunk 2 while chunk 1 was being written.
    assert chunks[1]["started"] < first_audio[0] + 0.5


@pytest.mark.parametrize(
    "stdin, args, status, message",
    [
        (b"", [], 66, "no text to speak on the input"),
        (b"\n\n  \n", [], 66, "no text to speak on the input"),
        (b"...!!!\n", [], 65, "line 1: nothing to speak"),
        (b"\x00\x01\x02binary\n", [], 65, "line 1: binary data"),
        (b"caf\xe9\n", [], 65, "line 1: not valid UTF-8"),
        (b"x" * 1_000_000 + b"\n", [], 65, "line 1: longer than 100000 bytes"),
        (b"hi\n", ["--voice", "xx_nobody"], 2, "unknown voice 'xx_nobody'"),
        (b"hi\n", ["--voice", "af_heart:-1"], 2, "must be positive"),
        (b"hi\n", ["--speed", "3"], 2, "speed 3.0 out of range 0.5..2.0"),
        (b"hi\n", ["--wav", "--raw"], 2, "--wav and --raw exclude each other"),
        (b"hi\n", ["--bogus"], 2, "No such option '--bogus'"),
        (b"hi\n", ["no-such-file.txt"], 66, "cannot read no-such-file.txt"),
        (b"{oops\n", ["--phonemes"], 65, "line 1: invalid JSON"),
    ],
    ids=["empty", "blank", "punctuation", "binary", "latin1", "1MB-line", "unknown-voice",
         "negative-weight", "speed", "wav-and-raw", "bad-option", "missing-file", "bad-json"],
)
def test_bad_input_is_one_line_and_a_status(stdin, args, status, message):
    result = synth(*args, stdin=stdin)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_good_lines_around_bad_ones_are_spoken():
    result = synth(stdin=b"Good morning.\n\xff\xfe\n...\nGood night.\n")
    assert result.returncode == 65
    _, _, ends = decode(result.stdout)
    assert [m["text"] for m in ends] == ["Good morning.", "Good night."]
    errors = result.stderr.decode().splitlines()
    assert [e.split(":")[1].strip() for e in errors] == ["line 2", "line 3"]


def test_missing_model_says_how_to_install(tmp_path):
    result = synth("-t", "hi", env={"KOKORO_PIPE_DATA": str(tmp_path)})
    assert result.returncode == 78
    assert "install it with: kk-models install" in result.stderr.decode()


def test_closed_stdout_ends_quietly():
    result = shell("kk-synth -t 'One. Two. Three. Four five six seven.' | head -c 100 | wc -c")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == b"100" and result.stderr == b""


def test_library_prints_cannot_reach_the_stream():
    code = ("from kokoro_pipe.cli.common import guard_stdout\n"
            "out = guard_stdout()\nprint('❌ TODO:NUM noise')\nout.write(b'DATA')\n")
    result = subprocess.run(["python3", "-c", code], capture_output=True, timeout=60)
    assert result.stdout == b"DATA"
    assert "noise" in result.stderr.decode()
