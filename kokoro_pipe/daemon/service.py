"""User service files for kk-speakd: systemd user units and a launchd agent.

The templates here are also the files in the repository's systemd/ and launchd/
folders (a test keeps them identical); `kk-speakd install-service` fills in
@KK_SPEAKD@ (the absolute path of the installed command) and the others.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from xml.sax.saxutils import escape

from kokoro_pipe.daemon.fifo import FIFO_NAME, Place, default_fifo_path

LAUNCHD_LABEL = "org.kokoro-pipe.kk-speakd"

SYSTEMD_SOCKET = """\
# kk-speakd's request FIFO. systemd creates it and starts kk-speakd.service on
# the first write; enable with: systemctl --user enable --now kk-speakd.socket
[Unit]
Description=kk-speakd request FIFO (kokoro-pipe)
Documentation=man:kk-speakd(1)

[Socket]
ListenFIFO=@FIFO@
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
"""

SYSTEMD_SERVICE = """\
# kk-speakd, the kokoro-pipe speech daemon, started by kk-speakd.socket.
[Unit]
Description=kk-speakd: Kokoro text-to-speech daemon (kokoro-pipe)
Documentation=man:kk-speakd(1)
Requires=kk-speakd.socket
After=kk-speakd.socket pipewire-pulse.service pulseaudio.service

[Service]
# READY=1 is sent after the model is loaded and a priming synthesis ran.
Type=notify
NotifyAccess=main
ExecStart="@KK_SPEAKD@" --fifo "@FIFO@"
Restart=on-failure
RestartSec=2
TimeoutStartSec=180
TimeoutStopSec=40
# No Nice=-10: an unprivileged user manager cannot raise priority, and the
# unit would fail to start.

[Install]
WantedBy=default.target
"""

LAUNCHD_PLIST = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" \
"http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- kk-speakd, the kokoro-pipe speech daemon, as a user agent.
     Load with: launchctl load -w ~/Library/LaunchAgents/org.kokoro-pipe.kk-speakd.plist -->
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>org.kokoro-pipe.kk-speakd</string>
    <key>ProgramArguments</key>
    <array>
        <string>@KK_SPEAKD@</string>
        <string>--fifo</string>
        <string>@FIFO@</string>
    </array>
    <key>RunAtLoad</key>
    <true/>
    <!-- Restarted after a crash, not after a requested stop (exit 0). -->
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <!-- Interactive: audio must not be throttled like a background job. -->
    <key>ProcessType</key>
    <string>Interactive</string>
    <!-- Honoured where launchd may raise the priority of a user agent. -->
    <key>Nice</key>
    <integer>-10</integer>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>EnvironmentVariables</key>
    <dict>
        <key>PATH</key>
        <string>@PATH@</string>
    </dict>
    <key>StandardOutPath</key>
    <string>@LOG_DIR@/kk-speakd.log</string>
    <key>StandardErrorPath</key>
    <string>@LOG_DIR@/kk-speakd.log</string>
</dict>
</plist>
"""

# file name -> template, per kind; the repository keeps them under <kind>/.
TEMPLATES = {
    "systemd": {"kk-speakd.socket": SYSTEMD_SOCKET, "kk-speakd.service": SYSTEMD_SERVICE},
    "launchd": {f"{LAUNCHD_LABEL}.plist": LAUNCHD_PLIST},
}


def kk_speakd_path() -> Path:
    argv0 = Path(sys.argv[0])
    if argv0.name == "kk-speakd" and argv0.exists():
        return argv0.absolute()
    return Path(sysconfig.get_path("scripts")) / "kk-speakd"


def default_dir(kind: str) -> Path:
    if kind == "launchd":
        return Path.home() / "Library" / "LaunchAgents"
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "systemd" / "user"


def render(kind: str, place: Place) -> dict[str, str]:
    """The files of `kind` with this installation's paths filled in."""
    if kind == "systemd":
        # %t is $XDG_RUNTIME_DIR for the user manager: the same default as the shell's.
        fifo = ("%t/kokoro-pipe/" + FIFO_NAME if _is_default(place)
                else str(place.fifo).replace("%", "%%"))
        values = {"@KK_SPEAKD@": str(kk_speakd_path()).replace("%", "%%"), "@FIFO@": fifo}
    else:
        values = {name: escape(value) for name, value in {
            "@KK_SPEAKD@": str(kk_speakd_path()),
            "@FIFO@": str(place.fifo),
            "@PATH@": os.environ.get("PATH", "/usr/bin:/bin"),
            "@LOG_DIR@": str(Path.home() / "Library" / "Logs" / "kokoro-pipe"),
        }.items()}
    files = {}
    for name, template in TEMPLATES[kind].items():
        for key, value in values.items():
            template = template.replace(key, value)
        files[name] = template
    return files


def _is_default(place: Place) -> bool:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return (not os.environ.get("KOKORO_PIPE_FIFO") and runtime is not None
            and place.fifo == default_fifo_path())


def install_service(kind: str, target: Path | None, place: Place) -> list[Path]:
    target = target or default_dir(kind)
    target.mkdir(parents=True, exist_ok=True)
    if kind == "launchd":  # launchd does not create the log directory
        (Path.home() / "Library" / "Logs" / "kokoro-pipe").mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(kind, place).items():
        path = target / name
        path.write_text(text)
        written.append(path)
    return written
