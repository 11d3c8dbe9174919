"""(k) The soak: a real kk-speakd under a seeded random mix of FIFO requests and
commands, kk-synth and raw socket clients (killed, slow, cut off) and null
sinks coming and going (tests/soak_driver.py, which tests/test_soak.py runs
short). Every request must be accounted for in the log, `kk-speakd --status`
answer within 1 s (the answer time includes the client's own start-up, at the
bench's priority), and the status show progress while work waits."""

from __future__ import annotations

from pathlib import Path

from soak_driver import soak

STATUS_BOUND = 1.0  # seconds: the bound
STALL_BOUND = 60.0  # seconds without progress while work waits (a first chunk at load)


def run(rig, directory: Path, seconds: float, seeds: list[int]) -> dict:
    results = {}
    for seed in seeds:
        report = soak(rig, directory / f"seed-{seed}", seed, seconds,
                      status_bound=STATUS_BOUND, stall_bound=STALL_BOUND)
        results[str(seed)] = {**report.summary(), "dump": report.dump}
        print(f"  seed {seed}: {report.summary()}", flush=True)
        if report.dump:
            print(report.dump, flush=True)
    return results
