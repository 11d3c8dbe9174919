"""kk-synth writing compressed files: FLAC, Ogg Vorbis, Opus, MP3, encoded as synthesized."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import command
from test_synth import FOX, shell, synth

CODECS = {"flac": "flac", "ogg": "vorbis", "opus": "opus", "mp3": "mp3"}
TOLERANCE = 0.005  # seconds: encoders pad, good containers say by how much


@pytest.fixture(scope="module")
def raw_fox() -> np.ndarray:
    result = synth("--raw", "-t", FOX)
    assert result.returncode == 0, result.stderr
    return np.frombuffer(result.stdout, "<f4")


@pytest.mark.parametrize("ext", CODECS)
def test_extension_picks_the_format(tmp_path, raw_fox, ext):
    out = tmp_path / f"fox.{ext}"
    result = synth("-o", str(out), "-t", FOX)
    assert result.returncode == 0, result.stderr
    info = sf.info(out)
    assert info.samplerate == 24000 and info.channels == 1
    decoded, _ = sf.read(out, dtype="float32")
    assert abs(len(decoded) - len(raw_fox)) / 24000 < TOLERANCE, (len(decoded), len(raw_fox))
    if ext == "flac":  # lossless: the 16-bit samples of the raw output
        np.testing.assert_allclose(decoded, raw_fox, atol=2e-3)
    else:  # lossy: the same speech envelope
        assert np.corrcoef(_envelope(decoded), _envelope(raw_fox[:len(decoded)]))[0, 1] > 0.9
    _check_with_ffmpeg(out, CODECS[ext], len(raw_fox) / 24000)


def _envelope(audio: np.ndarray, window: int = 1200) -> np.ndarray:
    n = len(audio) // window * window
    return np.sqrt(np.mean(audio[:n].reshape(-1, window) ** 2, axis=1))


def _check_with_ffmpeg(path, codec: str, seconds: float) -> None:
    """An independent decoder agrees: codec, and duration of what it decodes."""
    if not shutil.which("ffprobe") or not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is not installed: run `make install-test`")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                            "-of", "json", str(path)], capture_output=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert [s["codec_name"] for s in json.loads(probe.stdout)["streams"]] == [codec]
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
                          "-ar", "24000", "-"], capture_output=True, timeout=60)
    assert pcm.returncode == 0, pcm.stderr
    assert abs(len(pcm.stdout) / 4 / 24000 - seconds) < TOLERANCE


def test_format_option_onto_a_redirected_stdout(tmp_path, raw_fox):
    out = tmp_path / "fox.audio"
    with open(out, "wb") as f:
        result = subprocess.run([command("kk-synth"), "--format", "opus", "-t", FOX], stdout=f,
                                stderr=subprocess.PIPE, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sf.info(out).format == "OGG" and sf.info(out).subtype == "OPUS"
    assert abs(sf.info(out).frames - len(raw_fox)) / 24000 < TOLERANCE


def test_wav_extension_means_wav(tmp_path, raw_fox):
    out = tmp_path / "fox.wav"
    assert synth("-o", str(out), "-t", FOX).returncode == 0
    assert sf.info(out).format == "WAV" and sf.info(out).frames == len(raw_fox)


def test_a_file_grows_while_the_input_is_still_coming(tmp_path):
    """Encoded block by block: audio is in the file before the input has ended."""
    out = tmp_path / "long.flac"
    proc = subprocess.Popen([command("kk-synth"), "-o", str(out)], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write((FOX + "\n").encode() * 4)
    proc.stdin.flush()
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size < 50_000) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    grown = out.stat().st_size
    proc.stdin.write(b"The end.\n")
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert grown >= 50_000 and out.stat().st_size > grown
    assert sf.info(out).duration > 5 * 2.0


@pytest.mark.parametrize("args, message", [
    (["-o", "x.m4a"], "no audio format has the extension '.m4a'; supported: .kkp, .wav"),
    (["--format", "aiff"], "'aiff' is not one of 'kkp', 'wav', 'raw', 'flac', 'ogg', 'opus'"),
    (["--format", "flac", "--raw"], "--format flac and --raw exclude each other"),
], ids=["extension", "format", "format-and-raw"])
def test_unsupported_format_is_one_line_and_status_2(tmp_path, args, message):
    result = subprocess.run([command("kk-synth"), *args, "-t", "hi"], capture_output=True,
                            cwd=tmp_path, timeout=120)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_compressed_onto_a_pipe_is_refused():
    result = shell("kk-synth --format mp3 -t hi | cat")
    assert result.returncode == 2
    assert b"mp3 is written to a file (-o FILE or > FILE), not to a pipe" in result.stderr


def test_unwritable_file_is_status_74(tmp_path):
    result = synth("-o", str(tmp_path / "no" / "such" / "dir.flac"), "-t", "hi")
    assert result.returncode == 74 and b"cannot write" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
