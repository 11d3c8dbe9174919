"""kk-synth's progress bar: on a terminal's stderr for long jobs, never on a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from conftest import command
from test_synth import FOX

PARAGRAPH = " ".join([FOX] * 30)  # ~1,300 characters: more than a minute of speech
ETA = r"\[\d\d:\d\d<\d\d:\d\d,"  # tqdm's [elapsed<remaining, ...


def on_a_terminal(args: list[str], stdout, stop_when: str | None = None,
                  stdin=subprocess.DEVNULL) -> tuple[int | None, str]:
    """Run kk-synth with stderr on a pseudo-terminal; what the terminal showed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([command("kk-synth"), *args], stdin=stdin, stdout=stdout,
                            stderr=follower)
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the child has gone and the terminal is closed
                    break
                if not chunk:
                    break
                shown += chunk
                if stop_when and re.search(stop_when, shown.decode(errors="replace")):
                    proc.kill()
                    break
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=60)
    finally:
        os.close(leader)
    return status, shown.decode(errors="replace")


def test_a_file_gets_a_bar_with_characters_audio_rtf(tmp_path):
    text = "First line of the chapter.\nSecond line, a little longer than the first.\n"
    src = tmp_path / "chapter.txt"
    src.write_text(text)
    status, shown = on_a_terminal(["-o", str(tmp_path / "c.flac"), str(src)],
                                  stdout=subprocess.DEVNULL)
    assert status == 0, shown
    total = sum(len(line) for line in text.splitlines())
    final = shown.replace("\r", "\n").strip().splitlines()[-1]
    assert f"{total}/{total}" in final and "100%" in final, shown
    assert "audio" in final and "RTF" in final and "char/s" in final, shown


def test_long_input_to_a_pipe_gets_a_bar_with_an_eta(tmp_path):
    src = tmp_path / "long.txt"
    src.write_text(PARAGRAPH + "\n" + PARAGRAPH + "\n")
    with open(src, "rb") as stdin:  # stdin a regular file: its size is known ahead
        status, shown = on_a_terminal([], stdout=subprocess.DEVNULL, stdin=stdin,
                                      stop_when=ETA)
    assert status != 0  # stopped once the bar showed what it knows
    assert f"0/{2 * len(PARAGRAPH)} " in shown, shown
    assert re.search(ETA, shown), shown


def test_short_speech_to_a_pipe_gets_no_bar():
    status, shown = on_a_terminal(["-t", FOX], stdout=subprocess.DEVNULL)
    assert status == 0 and shown == ""


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path):
    result = subprocess.run([command("kk-synth"), "-o", str(tmp_path / "f.flac"), "-t", FOX],
                            capture_output=True, timeout=300)
    assert result.returncode == 0 and result.stderr == b""
