"""The soak, short (tests/soak_driver.py; the long one is bench (k)): a real
kk-speakd under a seeded mix of FIFO requests and commands, kk-synth and raw
socket clients (killed, slow, cut off) and null sinks coming, going and
suspended, for SOAK_SECONDS; every request accounted for in its log, --status
answered throughout, progress shown while work waits."""

from __future__ import annotations

import sys

import pytest
from soak_driver import soak

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pactl, /proc")

SOAK_SECONDS = 75
# --status reads the status file, so a stalled daemon does not slow it: its
# answer time is the client's own start-up (0.5 s idle here, 6.5 s measured at
# nice 19 beside load 11), bounded generously only so that it cannot hang.
# A stall shows as no progress: the request at the head neither moves on nor
# sounds a word; a first chunk at load takes up to a minute (RTF 5 measured).
STATUS_BOUND = 30.0
STALL_BOUND = 120.0


def test_a_short_soak_loses_nothing_and_never_stalls(pulse, tmp_path):
    # A short queue: what waits is spoken out soon after the soak, and some is refused.
    report = soak(pulse, tmp_path / "run", 8, SOAK_SECONDS, "--queue-size", "16",
                  status_bound=STATUS_BOUND, stall_bound=STALL_BOUND, pace=0.5)
    summary = report.summary()
    print(summary)
    assert not report.failures, f"{summary}\n{report.dump}"
    assert summary["requests"] > 50 and summary["status_asks"] > 20, summary
    assert report.outcomes["rejected"] and sum(report.outcomes.values()) == len(report.sent)
