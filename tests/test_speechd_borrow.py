"""sd_kokoro speaks with the user's kk-speakd's model (one model per user): the
real module and the real daemon, on the PulseAudio rig. With a daemon running it
borrows it and loads no model; with none it starts one and waits for it; its open
connection keeps the daemon from its idle exit; a daemon gone mid-session is
started again for the next message. Every daemon started here is ended here, by pid."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import command
from daemon_rig import module_daemon
from test_autospawn import daemons_of, log_events, wait_until
from test_speechd import LONG, STOP_BOUND

from kokoro_pipe.daemon.fifo import Place, lock_holder

INIT_TIMEOUT = 240  # a daemon started and its model loaded, on a busy 2-core machine
REPLY_TIMEOUT = 120
MODEL_MIB = 250  # the model and onnxruntime alone are more than this (~400 MiB in all)

speakd = module_daemon("borrowed")


class Module:
    """sd_kokoro, spoken to as speech-dispatcher does; its log lines collected."""

    def __init__(self, env: dict):
        self.proc = subprocess.Popen([command("sd_kokoro")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.replies: queue.Queue = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.replies.put),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.log.append),
                         daemon=True).start()

    @staticmethod
    def _read(stream, put) -> None:
        for raw in stream:
            put(raw.decode(errors="replace").rstrip("\n"))

    def send(self, *lines: str) -> None:
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        self.proc.stdin.flush()

    def reply(self, timeout: float = REPLY_TIMEOUT) -> str:
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply within {timeout} s; log: {self.log[-5:]}") from None

    def init(self) -> None:
        self.send("INIT")
        while not (line := self.reply(INIT_TIMEOUT)).startswith("299 OK"):
            assert not line.startswith("399"), self.log

    def speak(self, text: str) -> list[str]:
        """The replies and events of one SPEAK, up to its END."""
        self.send("SPEAK", text, ".")
        said = [self.reply()]
        while said[-1] not in ("702 END", "703 STOP") and not said[-1].startswith(("3", "4")):
            said.append(self.reply())
        return said

    def events(self, name: str) -> list[dict]:
        records = [json.loads(line) for line in self.log if line.startswith("{")]
        return [r for r in records if r.get("event") == name]

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def loaded_onnxruntime(self) -> bool:
        return "onnxruntime" in Path(f"/proc/{self.proc.pid}/maps").read_text()

    def quit(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("QUIT")
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def borrowing(speakd, pulse):
    module = Module({**speakd.env, **pulse.env, "KOKORO_PIPE_FIFO": str(speakd.fifo)})
    yield module
    module.quit()


def test_with_kk_speakd_running_sd_kokoro_speaks_through_it_and_loads_no_model(
        borrowing, speakd, pulse):
    borrowing.init()
    with pulse.record("one") as capture:
        said = borrowing.speak('<speak>Borrowed <mark name="m1"/>voice, '
                               '<mark name="m2"/>warm.</speak>')
    assert said == ["202 OK RECEIVING MESSAGE", "200 OK SPEAKING", "701 BEGIN",
                    "700-m1", "700 INDEX MARK", "700-m2", "700 INDEX MARK", "702 END"]
    assert capture.sound_ends() is not None, "nothing was heard"
    jobs = wait_until(lambda: [e for e in speakd.events if e.get("event") == "synthesis"
                               and e.get("pid") == borrowing.proc.pid][1:], 60, "its job logged")
    assert [(e["outcome"], e["lines"]) for e in jobs] == [("done", 1)]  # after the warm-up's
    assert jobs[0]["audio_s"] > 1
    assert not borrowing.loaded_onnxruntime()
    rss = borrowing.rss_mib()
    print(f"sd_kokoro RSS {rss:.0f} MiB while borrowing")
    assert rss < MODEL_MIB
    # Its hold: listed as a client, so the daemon's idle exit waits for it.
    status = json.loads((speakd.fifo.parent / "status.json").read_text())
    assert borrowing.proc.pid in [c["pid"] for c in status["clients"]]
    assert [e["state"] for e in borrowing.events("kk-speakd")] == ["borrowed"]


def test_a_stop_cuts_a_borrowed_message_and_the_next_one_is_spoken(borrowing, speakd, pulse):
    borrowing.init()
    with pulse.record("one") as capture:
        borrowing.send("SPEAK", LONG, ".")
        assert [borrowing.reply() for _ in range(3)] == [
            "202 OK RECEIVING MESSAGE", "200 OK SPEAKING", "701 BEGIN"]
        capture.wait_sounding(0.5, timeout=REPLY_TIMEOUT)
        written = time.time()
        borrowing.send("STOP")
        assert borrowing.reply() == "703 STOP"
        delay = capture.sound_cut(written) - written
    print(f"STOP: silent at the sink {delay * 1000:.0f} ms after it was sent")
    assert delay < STOP_BOUND
    assert borrowing.speak("And on.")[-1] == "702 END"
    assert not borrowing.loaded_onnxruntime()


@pytest.fixture
def runtime(tmp_path, pulse):
    """sd_kokoro's environment with autospawn on and a private daemon place; any
    daemon left is ended, by pid."""
    place = Place(tmp_path / "run" / "speak.fifo")
    env = {**pulse.env, "KOKORO_PIPE_FIFO": str(place.fifo), "KOKORO_PIPE_AUTOSPAWN": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "KOKORO_PIPE_IDLE_EXIT": "2"}
    yield env, place
    for pid in daemons_of(place):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_sd_kokoro_starts_the_daemon_holds_it_and_starts_it_again_when_gone(runtime):
    env, place = runtime
    module = Module(env)
    try:
        module.init()
        first = lock_holder(place)
        assert first is not None and daemons_of(place) == [first]
        assert module.speak("Started for the screen reader.")[-1] == "702 END"
        assert not module.loaded_onnxruntime()
        time.sleep(3 * 2)  # three idle exits' time: the hold keeps it
        assert lock_holder(place) == first
        assert not [e for e in log_events(place) if e["event"] == "idle"]

        stopped = subprocess.run([command("kk-speakd"), "--stop"], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert stopped.returncode == 0, stopped.stderr
        assert module.speak("Started once more.")[-1] == "702 END"
        second = lock_holder(place)
        assert second not in (None, first)
        served = [e["pid"] for e in log_events(place)
                  if e["event"] == "synthesis" and e.get("lines") == 1]
        assert served == [module.proc.pid] * 3  # the warm-up at INIT, and each message
        assert not module.loaded_onnxruntime()
        states = [e["state"] for e in module.events("kk-speakd")]
        assert states == ["starting", "borrowed", "gone", "starting"]
    finally:
        module.quit()
    # Without its hold the daemon leaves after its idle time.
    wait_until(lambda: lock_holder(place) is None, 120, "the idle daemon gone")
    assert [e["seconds"] for e in log_events(place) if e["event"] == "idle"][-1:] == [2.0]
