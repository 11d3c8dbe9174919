"""A soak of a real kk-speakd: a seeded random mix of everything its users do
at once, bounded in time, with every request accounted for.

Actors, each a thread drawing from its own seeded generator:
- the FIFO: plain lines and JSON requests (short texts mostly, some longer,
  some bad), stop, cancel, pause then resume, interrupt priorities;
- the socket: kk-synth processes (read whole, killed mid-stream with SIGKILL,
  read slowly, stdout closed early) and raw clients (read whole, cut off);
- the devices: null sinks loaded, made the default, suspended a while (they
  take nothing) and unloaded while speaking.
A watchdog asks `kk-speakd --status` every WATCH_EVERY seconds and times the
answer; the status file must show progress while work is outstanding. Any
breach is a failure with a dump: the log's tail and every thread's stack
(SIGUSR1). At the end each request written must have exactly one request line
in the log, each kk-synth that finished must have been served, and the daemon
must be idle with no client left. Used by tests/test_soak.py and bench (k).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from conftest import command
from daemon_rig import SpeakDaemon
from socket_rig import ARTICLE, client_env, job, open_client

SENTENCES = re.split(r"(?<=[.!?])\s+", " ".join(ARTICLE))
WATCH_EVERY = 0.5  # seconds between --status asks
SETTLE_TIMEOUT = 300.0  # seconds for the last requests to end once the actors stop
SHORT = ["Build passed.", "Tests green.", "Deploy done.", "Disk at ninety percent.",
         "New mail from Ana.", "Backup finished.", "Lint clean.", "Job {n} queued.",
         "Coffee is ready.", "Meeting in five minutes.", "Ticket {n} closed."]
BAD = ['{{"text": "x", "voice": "zz_nobody", "id": "{id}"}}',
       '{{"text": "x", "speed": 9, "id": "{id}"}}',
       '{{"text": "x", "colour": "red", "id": "{id}"}}']


@dataclass
class Report:
    seed: int
    seconds: float
    sent: dict[str, str] = field(default_factory=dict)  # request id -> kind
    commands: Counter = field(default_factory=Counter)
    synth: Counter = field(default_factory=Counter)  # kk-synth clients by mode
    raw: Counter = field(default_factory=Counter)  # raw socket clients by mode
    sinks: Counter = field(default_factory=Counter)  # device changes by kind
    status_asks: int = 0
    status_max_s: float = 0.0
    status_slow: int = 0  # answers slower than the bound
    settle_s: float = 0.0  # from the actors' end until every request had ended
    stalest_s: float = 0.0  # longest time the status showed no progress with work outstanding
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    dump: str = ""

    def summary(self) -> dict:
        return {"seed": self.seed, "seconds": round(self.seconds), "requests": len(self.sent),
                "commands": dict(self.commands), "outcomes": dict(self.outcomes),
                "synth_clients": dict(self.synth), "raw_clients": dict(self.raw),
                "sink_changes": dict(self.sinks), "status_asks": self.status_asks,
                "status_max_s": round(self.status_max_s, 3), "status_slow": self.status_slow,
                "stalest_s": round(self.stalest_s, 3),
                "settle_s": round(self.settle_s, 1), "failures": self.failures}


class Soak:
    """Run with `run()`; `status_bound`: the longest --status answer allowed;
    `stall_bound`: the longest the status may show no progress while work waits;
    `pace`: mean seconds between FIFO lines."""

    def __init__(self, daemon: SpeakDaemon, pulse, seed: int, seconds: float,
                 status_bound: float = 1.0, stall_bound: float = 30.0, pace: float = 0.25):
        self.daemon, self.pulse = daemon, pulse
        self.seed, self.seconds, self.pace = seed, seconds, pace
        self.status_bound, self.stall_bound = status_bound, stall_bound
        self.report = Report(seed, seconds)
        self._stop = threading.Event()  # the actors end
        self._finished = threading.Event()  # the watchdog ends
        self._lock = threading.Lock()  # for the report; never held while writing the FIFO
        self._lines = 0  # FIFO lines written: a plain line's id is r<its number>
        self._paused = False
        self._children: list[subprocess.Popen] = []

    # -- the run ---------------------------------------------------------------

    def run(self) -> Report:
        began = time.monotonic()
        self._lines = self._lines_so_far()
        actors = [self._fifo, self._synth_clients, self._raw_clients, self._devices]
        threads = [threading.Thread(target=self._guard, args=(actor, n), daemon=True)
                   for n, actor in enumerate(actors)]
        watchdog = threading.Thread(target=self._guard, args=(self._watch, len(actors)),
                                    daemon=True)
        watchdog.start()
        for t in threads:
            t.start()
        self._stop.wait(self.seconds)
        self._stop.set()
        for t in threads:
            t.join(120)
        self._write("resume")  # a pause must not hold the last requests
        self._settle()
        self.report.settle_s = time.monotonic() - began - self.seconds
        self._finished.set()
        self._end_children()
        watchdog.join(90)
        self.report.seconds = time.monotonic() - began
        self._account()
        if self.report.failures and not self.report.dump:
            self._dump()
        return self.report

    def _guard(self, actor, n: int) -> None:
        try:
            actor(random.Random(self.seed * 100 + n))
        except Exception as e:  # noqa: BLE001 - the soak's own fault is a failure too
            self._fail(f"{actor.__name__}: {type(e).__name__}: {e}")

    def _fail(self, what: str, fatal: bool = True) -> None:
        """A failure; the first gets the dump; a fatal one ends the soak."""
        with self._lock:
            self.report.failures.append(what)
            first = len(self.report.failures) == 1
        if first:
            self._dump()
        if fatal:
            self._stop.set()

    def _dump(self) -> None:
        """The log's tail and every thread's stack, from kk-speakd's SIGUSR1."""
        before = len(self.daemon.other_lines)
        if self.daemon.proc.poll() is None:
            self.daemon.proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
        stacks = self.daemon.other_lines[before:]
        events = [json.dumps(e) for e in self.daemon.events[-40:]]
        self.report.dump = "\n".join(["-- log tail --", *events, "-- stacks --", *stacks])

    # -- the FIFO --------------------------------------------------------------

    def _write(self, line: str, kind: str | None = None, rid: str | None = None) -> None:
        """One line into the FIFO; only the FIFO actor writes (and the end, after it)."""
        self._lines += 1
        if kind is not None:
            with self._lock:
                self.report.sent[rid or f"r{self._lines}"] = kind
        self.daemon.write(line)

    def _lines_so_far(self) -> int:
        """Lines an idle daemon read before the soak: the next plain line's
        number follows on from them (each was logged as a request or a command)."""
        return sum(e.get("event") in ("request", "command") for e in self.daemon.events)

    def _fifo(self, rng: random.Random) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            roll = rng.random()
            if roll < 0.35:
                self._write(rng.choice(SHORT).format(n=n), "plain")
            elif roll < 0.62:
                self._write(json.dumps({"text": rng.choice(SHORT).format(n=n), "id": f"j{n}",
                                        "speed": rng.choice([1.0, 1.3, 1.8])}), "json", f"j{n}")
            elif roll < 0.70:
                self._write(json.dumps({"text": " ".join(rng.sample(SENTENCES, 3)),
                                        "id": f"l{n}"}), "long", f"l{n}")
            elif roll < 0.76:
                self._write(json.dumps({"text": f"Urgent {n}.", "priority": "interrupt",
                                        "id": f"i{n}"}), "interrupt", f"i{n}")
            elif roll < 0.80:
                self._write(rng.choice(BAD).format(id=f"b{n}"), "bad", f"b{n}")
            elif roll < 0.88:
                self._command(rng.choice(["stop", '{"command": "stop"}']), "stop")
            elif roll < 0.92:
                self._command("cancel", "cancel")
            else:
                self._command("pause", "pause")
                self._stop.wait(rng.uniform(0.1, 2.0))
                self._command("resume", "resume")
            self._stop.wait(rng.expovariate(1 / self.pace))

    def _command(self, line: str, name: str) -> None:
        self._write(line)
        self.report.commands[name] += 1

    # -- the socket ------------------------------------------------------------

    def _synth_clients(self, rng: random.Random) -> None:
        """kk-synth processes, at most two at once (each is a Python start-up)."""
        running: list[threading.Thread] = []
        while not self._stop.is_set():
            running = [t for t in running if t.is_alive()]
            if len(running) < 2:
                mode = rng.choice(["whole", "kill", "slow", "early"])
                text = " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))
                t = threading.Thread(target=self._guard_client,
                                     args=(self._kk_synth, mode, text, rng.uniform(0.3, 3)))
                t.start()
                running.append(t)
                self.report.synth[mode] += 1
            self._stop.wait(rng.uniform(0.5, 3))
        for t in running:
            t.join(SETTLE_TIMEOUT)

    def _guard_client(self, client, *args) -> None:
        try:
            client(*args)
        except Exception as e:  # noqa: BLE001
            self._fail(f"{client.__name__}{args[:1]}: {type(e).__name__}: {e}")

    def _kk_synth(self, mode: str, text: str, delay: float) -> None:
        with subprocess.Popen([command("kk-synth"), "--raw"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=client_env(self.daemon)) as proc:
            with self._lock:
                self._children.append(proc)
            self._drive(proc, mode, text, delay)

    def _drive(self, proc: subprocess.Popen, mode: str, text: str, delay: float) -> None:
        proc.stdin.write(text.encode() + b"\n")
        proc.stdin.close()
        got = 0
        if mode == "kill":
            time.sleep(delay)
            proc.kill()
        elif mode == "early":
            got = len(proc.stdout.read(4096))
            proc.stdout.close()
        else:
            while block := proc.stdout.read(4096 if mode == "slow" else 1 << 16):
                got += len(block)
                if mode == "slow":
                    time.sleep(0.05)
        try:
            code = proc.wait(SETTLE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return self._fail(f"kk-synth ({mode}) still runs {SETTLE_TIMEOUT:.0f} s on")
        err = proc.stderr.read().decode(errors="replace")
        if "Traceback" in err:
            self._fail(f"kk-synth ({mode}) traceback: {err[-500:]}")
        if mode not in ("whole", "slow") or self._finished.is_set():
            return  # cut short on purpose (by us, at the end)
        if code != 0 or got < 24_000:
            self._fail(f"kk-synth ({mode}) exit {code}, {got} bytes: {err[-300:]}")
        elif not self._served(proc.pid):
            self._fail(f"kk-synth ({mode}) pid {proc.pid} was not served by kk-speakd")

    def _served(self, pid: int) -> bool:
        """Whether kk-speakd logged kk-synth `pid`'s job done (its line follows the end)."""
        try:
            self.daemon.wait_for(lambda e: e.get("event") == "synthesis" and e.get("pid") == pid
                                 and e.get("outcome") == "done", 30, f"kk-synth {pid} done")
        except AssertionError:
            return False
        self.report.synth["served"] += 1
        return True

    def _raw_clients(self, rng: random.Random) -> None:
        """Connections made here: read whole, or cut off mid-stream."""
        while not self._stop.is_set():
            mode = rng.choice(["whole", "cut"])
            self.report.raw[mode] += 1
            self._guard_client(self._raw, mode, rng.sample(SENTENCES, 2), rng.randint(1, 64))
            self._stop.wait(rng.uniform(0.5, 4))

    def _raw(self, mode: str, lines: list[str], kib: int) -> None:
        with open_client(self.daemon, job(lines), end_input=True) as conn:
            conn.settimeout(SETTLE_TIMEOUT)
            got = 0
            while data := conn.recv(65536):
                got += len(data)
                if mode == "cut" and got >= kib << 10:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    return  # closed with a reset, mid-stream

    # -- the devices -----------------------------------------------------------

    def _devices(self, rng: random.Random) -> None:
        loaded: dict[str, str] = {}  # sink name -> module index
        made = 0
        try:
            while not self._stop.is_set():
                roll = rng.random()
                if roll < 0.35 and len(loaded) < 2:
                    made += 1
                    name = f"soak{made}"
                    loaded[name] = self.pulse.pactl(
                        "load-module", "module-null-sink", f"sink_name={name}",
                        "rate=24000", "channels=1", "norewinds=1").strip()
                    self.pulse.set_default(name)
                    self.report.sinks["loaded"] += 1
                elif roll < 0.6 and loaded:
                    name = rng.choice(sorted(loaded))
                    self.pulse.pactl("unload-module", loaded.pop(name))
                    self.report.sinks["unloaded"] += 1
                elif roll < 0.7 and loaded:  # takes nothing for a while, as a headset may
                    name = rng.choice(sorted(loaded))
                    self.pulse.pactl("suspend-sink", name, "1")
                    self._stop.wait(rng.uniform(0.5, 15))
                    self.pulse.pactl("suspend-sink", name, "0")
                    self.report.sinks["suspended"] += 1
                else:
                    self.pulse.set_default(rng.choice(["one", "two", *loaded]))
                    self.report.sinks["switched"] += 1
                self._stop.wait(rng.uniform(1, 5))
        finally:
            self.pulse.set_default("one")
            for index in loaded.values():
                self.pulse.pactl("unload-module", index)

    # -- the watchdog and the end ----------------------------------------------

    def _watch(self, rng: random.Random) -> None:
        """--status answers in time, and shows progress while work is outstanding."""
        seen, since = None, time.monotonic()
        while not self._finished.is_set():
            began = time.monotonic()
            shown = subprocess.run([command("kk-speakd"), "--fifo", str(self.daemon.fifo),
                                    "--status"], capture_output=True, env=self.daemon.env,
                                   timeout=60)
            took = time.monotonic() - began
            self.report.status_asks += 1
            self.report.status_max_s = max(self.report.status_max_s, took)
            if shown.returncode != 0:
                return self._fail(f"--status exit {shown.returncode}: {shown.stderr[-300:]}")
            if took > self.status_bound:  # noted (the first); the soak goes on
                self.report.status_slow += 1
                if self.report.status_slow == 1:
                    self._fail(f"--status answered in {took:.2f} s (bound {self.status_bound} s)"
                               f", load {os.getloadavg()[0]:.1f}", fatal=False)
            status = json.loads(shown.stdout)
            # Progress: the request at the head moves on, or its words are heard.
            # (Requests refused or cancelled in the queue are not: the reader logs them.)
            progress = (status.get("current"), status.get("sounding"), status.get("word"))
            waiting = status.get("current") is not None or status.get("queue")
            if progress != seen or not waiting or status.get("state") == "paused":
                seen, since = progress, time.monotonic()
            stale = time.monotonic() - since
            self.report.stalest_s = max(self.report.stalest_s, stale)
            if stale > self.stall_bound:
                return self._fail(f"no progress for {stale:.1f} s: {status}")
            time.sleep(max(0.0, WATCH_EVERY - took))

    def _outstanding(self) -> list[str]:
        with self.daemon._changed:
            ended = {e.get("id") for e in self.daemon.events if e.get("event") == "request"}
        with self._lock:
            return [rid for rid in self.report.sent if rid not in ended]

    def _settled(self) -> bool:
        return not self._outstanding()

    def _settle(self) -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while not self._settled() and time.monotonic() < deadline:
            if self.daemon.proc.poll() is not None:
                break
            time.sleep(0.2)

    def _end_children(self) -> None:
        with self._lock:
            children = list(self._children)
        for proc in children:  # their threads read them to the end and close them
            if proc.poll() is None:
                proc.kill()

    def _account(self) -> None:
        """Each request written has exactly one request line; the daemon is
        alive, idle, and serves no client."""
        if self.daemon.proc.poll() is not None:
            self.report.failures.append(f"kk-speakd exited {self.daemon.proc.returncode}")
        lines = Counter()
        for e in self.daemon.requests():
            if e["id"] in self.report.sent:
                lines[e["id"]] += 1
                self.report.outcomes[e["outcome"]] += 1
        missing = [rid for rid in self.report.sent if not lines[rid]]
        twice = [rid for rid, n in lines.items() if n > 1]
        if missing:
            self.report.failures.append(f"{len(missing)} requests never logged: {missing[:10]}")
        if twice:
            self.report.failures.append(f"requests logged more than once: {twice[:10]}")
        spoken = [e["id"] for e in self.daemon.requests()  # bad ones may be cancelled first
                  if self.report.sent.get(e["id"]) == "bad" and e["outcome"] == "spoken"]
        if spoken:
            self.report.failures.append(f"bad requests spoken: {spoken[:10]}")
        status = json.loads((self.daemon.fifo.parent / "status.json").read_text())
        deadline = time.monotonic() + SETTLE_TIMEOUT  # a client's job ends at a chunk's end
        while status.get("clients") or status.get("state") != "ready":
            if time.monotonic() > deadline:
                self.report.failures.append(f"not idle at the end: {status}")
                break
            time.sleep(0.5)
            status = json.loads((self.daemon.fifo.parent / "status.json").read_text())


def soak(pulse, directory, seed: int, seconds: float, *daemon_args: str, **bounds) -> Report:
    """A fresh kk-speakd in `directory`, soaked; its exit status must be 0."""
    daemon = SpeakDaemon(directory, *daemon_args, env=pulse.env)
    try:
        daemon.wait_ready()
        report = Soak(daemon, pulse, seed, seconds, **bounds).run()
    finally:
        code = daemon.stop()
    if code != 0:
        report.failures.append(f"kk-speakd exited {code} when stopped")
    return report
