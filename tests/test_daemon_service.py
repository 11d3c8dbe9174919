"""kk-speakd's service files, and the systemd protocol they rely on (socket
activation with ListenFIFO=, sd_notify READY=1), exercised without systemd."""

from __future__ import annotations

import json
import os
import plistlib
import shlex
import socket
import subprocess
from pathlib import Path

from conftest import command

from kokoro_pipe.daemon.service import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent


def install(kind: str, target: Path, env: dict) -> list[Path]:
    result = subprocess.run([command("kk-speakd"), "install-service", "--kind", kind,
                             "--dir", str(target)], check=False, capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return [Path(line) for line in result.stdout.splitlines()]


def test_repository_templates_are_the_installed_ones():
    for kind, files in TEMPLATES.items():
        for name, text in files.items():
            assert (ROOT / kind / name).read_text() == text, f"{kind}/{name} is out of date"


def test_systemd_units_have_this_installation_paths(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KOKORO_PIPE_FIFO"}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    written = install("systemd", tmp_path / "units", env)
    assert sorted(p.name for p in written) == ["kk-speakd.service", "kk-speakd.socket"]
    socket_unit = (tmp_path / "units" / "kk-speakd.socket").read_text()
    service = (tmp_path / "units" / "kk-speakd.service").read_text()
    for line in ("ListenFIFO=%t/kokoro-pipe/speak.fifo", "SocketMode=0600",
                 "DirectoryMode=0700"):
        assert line in socket_unit.splitlines()
    for line in ("Type=notify", "Restart=on-failure", "Requires=kk-speakd.socket"):
        assert line in service.splitlines()
    exec_start = next(x for x in service.splitlines() if x.startswith("ExecStart="))
    program, *args = shlex.split(exec_start.removeprefix("ExecStart="))
    assert os.access(program, os.X_OK) and Path(program).name == "kk-speakd"
    assert args == ["--fifo", "%t/kokoro-pipe/speak.fifo"]


def test_launchd_agent(tmp_path):
    env = {**os.environ, "KOKORO_PIPE_FIFO": str(tmp_path / "run" / "speak.fifo")}
    (written,) = install("launchd", tmp_path / "agents", env)
    plist = plistlib.loads(written.read_bytes())
    assert plist["Label"] == "org.kokoro-pipe.kk-speakd"
    assert os.access(plist["ProgramArguments"][0], os.X_OK)
    assert plist["ProgramArguments"][1:] == ["--fifo", str(tmp_path / "run" / "speak.fifo")]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ProcessType"] == "Interactive" and plist["Nice"] == -10
    assert Path(plist["StandardErrorPath"]).is_absolute()


def test_socket_activation_and_readiness_notification(tmp_path):
    """As systemd does it: the FIFO open on fd 3, LISTEN_PID/LISTEN_FDS, and a
    datagram socket in NOTIFY_SOCKET that must receive READY=1 when warm."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    fifo = run_dir / "speak.fifo"
    os.mkfifo(fifo, 0o600)
    inode = os.stat(fifo).st_ino
    notify_path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(notify_path)
        notify.settimeout(180)
        env = {**os.environ, "LISTEN_FDS": "1", "NOTIFY_SOCKET": notify_path}
        env.pop("KOKORO_PIPE_FIFO", None)
        # exec keeps the shell's pid, which is what LISTEN_PID must name.
        script = (f'LISTEN_PID=$$ exec {shlex.quote(command("kk-speakd"))} '
                  f'--fifo {shlex.quote(str(fifo))} 3<>{shlex.quote(str(fifo))}')
        proc = subprocess.Popen(["sh", "-c", script], env=env, stderr=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            assert notify.recv(256) == b"READY=1"
            ready = json.loads(proc.stderr.readline())
            assert ready["event"] == "ready" and ready["pid"] == proc.pid
            assert os.stat(fifo).st_ino == inode, "systemd's FIFO is used, not replaced"
            with open(fifo, "w") as f:
                f.write('{"command": "pause"}\n{"text": "via systemd", "id": "s1"}\ncancel\n')
            while (event := json.loads(proc.stderr.readline()))["event"] != "request":
                pass
            assert event["id"] == "s1" and event["outcome"] == "cancelled"
        finally:
            proc.terminate()
            assert proc.wait(60) == 0
        assert notify.recv(256) == b"STOPPING=1"
