"""kk-speakd's queue under load, through the real FIFO and the real log.

These tests pause the daemon, so nothing is played: what they exercise is the
FIFO reading, parsing, queueing, the bound, cancel and the log (playback is
tested in test_daemon_speech.py). The first request is long so that the
synthesis thread holds exactly one job while the rest wait in the queue.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from collections import Counter

import pytest
from conftest import command
from daemon_rig import SpeakDaemon

WRITERS, LINES = 8, 50
LONG = "This request is long enough to be synthesized in several chunks. " * 8


@pytest.fixture(scope="module")
def speakd(tmp_path_factory):
    daemon = SpeakDaemon(tmp_path_factory.mktemp("speakd") / "run", "--queue-size", "64")
    daemon.wait_ready()
    yield daemon
    assert daemon.stop() == 0


def hold(daemon: SpeakDaemon, rid: str) -> None:
    """Pause, and give the synthesis thread one long job to hold."""
    daemon.write("pause", json.dumps({"text": LONG, "id": rid}))
    daemon.wait_status("current", rid)


def writer_line(writer: int, n: int) -> bytes:
    # Close to the 512-byte atomic limit, so an interleaving would break the JSON.
    text = f"writer {writer} line {n} " + "abcdefghij " * 40
    line = json.dumps({"text": text.strip(), "id": f"w{writer}-{n}"}).encode() + b"\n"
    assert 450 < len(line) <= 512
    return line


def test_concurrent_writers_every_request_logged_once_none_interleaved(speakd):
    hold(speakd, "holder")
    start = threading.Barrier(WRITERS)

    def write_all(writer: int) -> None:
        fd = os.open(speakd.fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(fd, True)
        start.wait()
        for n in range(LINES):
            os.write(fd, writer_line(writer, n))  # one write(2) per line
        os.close(fd)

    threads = [threading.Thread(target=write_all, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    speakd.write("cancel")
    expected = {f"w{w}-{n}" for w in range(WRITERS) for n in range(LINES)}
    speakd.wait_for(lambda e: sum(r.get("id") in expected for r in speakd.requests())
                    == len(expected), 60, "for all 400 requests")
    speakd.write("resume")

    records = [r for r in speakd.requests() if r["id"] in expected]
    counts = Counter(r["id"] for r in records)
    assert set(counts) == expected and set(counts.values()) == {1}, "each logged exactly once"
    assert not [r for r in speakd.requests() if r["outcome"] == "rejected"], "none interleaved"
    for r in records:
        writer, n = map(int, r["id"][1:].split("-"))
        assert r["chars"] == len(json.loads(writer_line(writer, n))["text"]), r
    outcomes = Counter(r["outcome"] for r in records)
    # The bound: 64 wait in the queue (then cancelled), the rest are refused.
    assert outcomes == {"cancelled": 64, "refused": len(expected) - 64}, outcomes
    refused = next(r for r in records if r["outcome"] == "refused")
    assert refused["reason"] == "queue full (64 waiting)"
    assert speakd.request("holder")["outcome"] == "cancelled"
    # Per writer, the accepted lines are the first ones it wrote, in order.
    for w in range(WRITERS):
        kept = [int(r["id"].split("-")[1]) for r in records
                if r["id"].startswith(f"w{w}-") and r["outcome"] == "cancelled"]
        assert kept == list(range(len(kept)))


def test_cancel_logs_queued_requests_in_order(speakd):
    hold(speakd, "holder2")
    speakd.write(*(json.dumps({"text": f"queued {i}", "id": f"q{i}"}) for i in range(5)))
    time.sleep(0.3)
    speakd.write("cancel")
    records = [speakd.request(f"q{i}") for i in range(5)]
    assert [r["outcome"] for r in records] == ["cancelled"] * 5
    assert all(r["reason"] == "cancel" for r in records)
    times = [r["time"] for r in records]
    assert times == sorted(times), "dropped in queue order"
    assert speakd.request("holder2")["outcome"] == "cancelled"
    speakd.write("resume")


def test_kk_say_passes_long_text_through_a_private_spool_file(speakd):
    hold(speakd, "holder3")
    text = " ".join(f"Sentence number {i} of a long announcement." for i in range(40))
    env = {**os.environ, "KOKORO_PIPE_FIFO": str(speakd.fifo)}
    result = subprocess.run([command("kk-say"), "--id", "long-say", text], check=False,
                            capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    speakd.write("cancel")
    record = speakd.request("long-say")
    assert record["outcome"] == "cancelled" and record["chars"] == len(text)
    spool = speakd.fifo.parent / "spool"
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    assert list(spool.iterdir()) == [], "the daemon deleted the spool file once read"
    speakd.write("resume")
