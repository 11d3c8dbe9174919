"""kk-speakd stopped while its model loads (kk-speakd --stop, systemd, a
logout): it exits 0 at once and leaves no socket or status behind, so the next
kk-synth and `kk-speakd --status` do not find a daemon that is gone."""

from __future__ import annotations

import signal

from daemon_rig import SpeakDaemon


def test_a_stop_while_the_model_loads_exits_0_and_leaves_nothing(tmp_path):
    directory = tmp_path / "run"
    daemon = SpeakDaemon(directory)
    try:
        daemon.wait_status("state", "loading")
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(60) == 0
    finally:
        daemon.stop()
    stopped = daemon.wait_for(lambda e: e.get("event") == "stopping", 10, "stopping")
    assert stopped["state"] == "loading"
    assert not any(e.get("event") == "ready" for e in daemon.events)
    assert not {"synth.sock", "status.json"} & {p.name for p in directory.iterdir()}
