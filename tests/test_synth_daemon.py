"""kk-synth borrowing a running kk-speakd's model: a real daemon, its real
socket, real kk-synth processes in real pipes, the real PulseAudio rig for the
spoken request. The same input and options must give the same bytes whether
the daemon or kk-synth itself synthesizes them."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import command
from daemon_rig import SpeakDaemon, module_daemon
from socket_rig import UNSAFE_KINDS, plant

from kokoro_pipe.daemon import synth_client
from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.fifo import UnsafePathError
from kokoro_pipe.framing import Ancillary, Audio, Header, StartAfter, read_stream
from kokoro_pipe.voice import files as models

ARTICLE = (Path(__file__).parent.parent / "bench" / "article.txt").read_text()
LINES = ["The build finished in four minutes.", "All 212 tests passed; two were skipped.",
         "Deploying to staging now.", "It should be live by 3:45 pm."]


speakd = module_daemon("synthd")


def client_env(daemon: SpeakDaemon, **extra: str) -> dict:
    return {**daemon.env, "KOKORO_PIPE_FIFO": str(daemon.fifo), **extra}


def synth(daemon: SpeakDaemon, *args: str, stdin: bytes = b"", env: dict | None = None,
          timeout: float = 300, to: Path | None = None) -> subprocess.CompletedProcess:
    """kk-synth's result; its standard output into the file `to` (written, not
    played live: planned the same on any machine), else into a pipe."""
    if to is None:
        return subprocess.run([command("kk-synth"), *args], input=stdin, capture_output=True,
                              env=env or client_env(daemon), timeout=timeout)
    with open(to, "wb") as out:
        result = subprocess.run([command("kk-synth"), *args], input=stdin, stdout=out,
                                stderr=subprocess.PIPE, env=env or client_env(daemon),
                                timeout=timeout)
    result.stdout = to.read_bytes()
    return result


def jobs(daemon: SpeakDaemon) -> list[dict]:
    return [e for e in daemon.events if e.get("event") == "synthesis"]


def served(daemon: SpeakDaemon, before: int, outcome: str = "done") -> dict:
    """The log line of the next synthesis job after the first `before` ones."""
    return daemon.wait_for(lambda e: e.get("event") == "synthesis" and e in jobs(daemon)[before:]
                           and e["outcome"] == outcome, 120, f"a {outcome} synthesis job")


def said(result: subprocess.CompletedProcess) -> list[str]:
    """kk-synth's own lines on stderr (libraries may add warnings of their own)."""
    return [x for x in result.stderr.decode().splitlines() if x.startswith("kk-synth:")]


def frames(data: bytes) -> list:
    return list(read_stream(io.BytesIO(data)))


@pytest.mark.parametrize("args, text", [
    # several lines, one rejected; SSML; another voice, speed, pauses; text the normalizer reads
    (["--voice", "bf_emma:0.7,af_sky:0.3", "--speed", "1.2", "--sentence-pause", "0.3"],
     "\n".join([LINES[0], "bad \xff byte", "<speak>Two <break time='400ms'/> parts.</speak>",
                LINES[3]]).encode("latin-1")),
    (["--wav"], "\n".join(LINES[:2]).encode()),
    (["--raw"], "\n".join(LINES[2:]).encode()),  # bytes passed on as they came (framing.Pcm)
], ids=["kkp", "wav", "raw"])
def test_the_same_bytes_via_the_daemon_and_in_process(speakd, tmp_path, args, text):
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text("staging\tstˈAʤɪŋ\n")
    before = len(jobs(speakd))
    captions = [tmp_path / "borrowed.vtt", tmp_path / "alone.vtt"]
    borrowed = synth(speakd, *args, "--lexicon", str(lexicon), "--captions", str(captions[0]),
                     stdin=text, to=tmp_path / "borrowed")
    job = served(speakd, before)
    alone = synth(speakd, *args, "--lexicon", str(lexicon), "--captions", str(captions[1]),
                  stdin=text, env=client_env(speakd, KOKORO_PIPE_DAEMON="0"), to=tmp_path / "alone")
    assert len(jobs(speakd)) == before + 1, "KOKORO_PIPE_DAEMON=0 still used the daemon"
    assert borrowed.returncode == alone.returncode
    assert said(borrowed) == said(alone)
    assert borrowed.stdout == alone.stdout and len(borrowed.stdout) > 48_000  # word marks too
    assert captions[0].read_text() == captions[1].read_text()
    assert captions[0].read_text().count("-->") >= 2
    assert job["utterances"] == text.count(b"\n") + 1 - (b"\xff" in text)


def test_a_borrowing_kk_synth_imports_neither_numpy_nor_the_model(speakd):
    """Its start is on the way to its first audio: it loads only what passing
    the daemon's bytes on needs."""
    probe = ("import atexit, sys\n"
             "heavy = ('numpy', 'onnxruntime', 'spacy', 'misaki')\n"
             "atexit.register(lambda: print('loaded:', *[m for m in heavy if m in sys.modules],"
             " file=sys.stderr))\n"
             "sys.argv = ['kk-synth', '-t', 'The kettle is on.']\n"
             "from kokoro_pipe.cli.synth import main\n"
             "main()\n")
    before = len(jobs(speakd))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                            env=client_env(speakd), timeout=300)
    assert result.returncode == 0, result.stderr[-500:]
    served(speakd, before)
    assert sum(len(e.samples) for e in frames(result.stdout) if isinstance(e, Audio)) > 12_000
    assert result.stderr.decode().splitlines()[-1] == "loaded:"


def test_a_stream_played_live_carries_the_start_advice_both_ways(speakd, tmp_path):
    """Into a pipe the stream is planned from the speed measured now (so its
    chunks may differ run to run) and says how much to buffer before starting;
    into a file it is the same on any machine and says nothing of the kind."""
    text = " ".join(LINES).encode()
    for env in (client_env(speakd), client_env(speakd, KOKORO_PIPE_DAEMON="0")):
        events = frames(synth(speakd, stdin=text, env=env).stdout)
        kinds = [type(e).__name__ for e in events]
        assert kinds.count("StartAfter") == 1, kinds
        assert kinds.index("StartAfter") < kinds.index("Audio")
        advice = events[kinds.index("StartAfter")].frames
        audio = [len(e.samples) for e in events if isinstance(e, Audio)]
        assert audio[0] <= advice <= sum(audio)
        written = frames(synth(speakd, stdin=text, env=env, to=tmp_path / "written").stdout)
        assert not [e for e in written if isinstance(e, StartAfter)]


def test_phonemes_from_kk_g2p_json_are_the_same_bytes_too(speakd, tmp_path):
    g2p = subprocess.run([command("kk-g2p"), "--json"], input="\n".join(LINES).encode(),
                         capture_output=True, check=True, timeout=300)
    before = len(jobs(speakd))
    borrowed = synth(speakd, "--phonemes", "--raw", stdin=g2p.stdout)
    served(speakd, before)
    alone = synth(speakd, "--phonemes", "--raw", "--no-daemon", stdin=g2p.stdout)
    assert borrowed.returncode == alone.returncode == 0
    assert borrowed.stdout == alone.stdout and len(borrowed.stdout) > 4 * 24_000 * 4


def test_a_daemon_with_another_model_is_passed_over_quietly(speakd):
    """--vocoder-windows sounds different, so this daemon (without) declines."""
    before = len(jobs(speakd))
    result = synth(speakd, "--vocoder-windows", "--raw", stdin=b"Hello there.\n")
    assert result.returncode == 0 and result.stderr == b""
    assert len(result.stdout) > 24_000 * 4 * 0.5
    assert served(speakd, before, "declined")["reason"].startswith("kk-speakd runs another")


def test_two_clients_and_a_spoken_request_at_once(speakd, pulse, tmp_path):
    """Both clients get their own stream, unmixed; the spoken request is heard
    while they are still rendering (speech goes first, chunk by chunk)."""
    texts = ["\n".join(LINES * 2).encode(), "\n".join(reversed(LINES * 2)).encode()]
    before = len(jobs(speakd))
    outputs = [tmp_path / f"client{i}.raw" for i in range(2)]
    clients = [subprocess.Popen([command("kk-synth"), "--raw", "-o", str(out)],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=client_env(speakd))
               for out in outputs]
    for proc, text in zip(clients, texts, strict=True):
        proc.stdin.write(text + b"\n")
        proc.stdin.close()
    with pulse.record("one") as capture:
        _wait_for_clients(speakd, 2)
        speakd.write(json.dumps({"text": "Notification.", "id": "note"}))
        spoken = speakd.request("note", timeout=120)
        still_running = [p.poll() is None for p in clients]
    for proc in clients:
        assert proc.wait(300) == 0, proc.stderr.read()
    assert spoken["outcome"] == "spoken"
    assert any(still_running), "the clients finished before the notification was spoken"
    assert capture.sound_ends() is not None, "nothing reached the sink"
    for out, text in zip(outputs, texts, strict=True):  # alone, via the daemon again
        single = synth(speakd, "--raw", stdin=text + b"\n")
        assert out.read_bytes() == single.stdout
    assert len([j for j in jobs(speakd)[before:] if j["outcome"] == "done"]) == 4


def _wait_for_clients(daemon: SpeakDaemon, count: int, timeout: float = 60) -> list[dict]:
    status = daemon.fifo.parent / "status.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            clients = json.loads(status.read_text()).get("clients") or []
        except (OSError, ValueError):
            clients = []
        if len(clients) >= count and all(c["audio_s"] > 0 for c in clients):
            return clients
        time.sleep(0.05)
    raise AssertionError(f"never {count} clients with audio in the status")


def test_a_client_killed_mid_stream_costs_the_daemon_nothing(speakd):
    before = len(jobs(speakd))
    proc = subprocess.Popen([command("kk-synth"), "--raw"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=client_env(speakd))
    proc.stdin.write(ARTICLE.encode())
    proc.stdin.close()
    _wait_for_clients(speakd, 1)
    shown = subprocess.run([command("kk-speakd"), "--fifo", str(speakd.fifo), "--status"],
                           capture_output=True, env=speakd.env, timeout=60, check=True)
    (client,) = json.loads(shown.stdout)["clients"]  # who is served, and how far
    assert client["pid"] == proc.pid and client["lines"] >= 1 and client["audio_s"] > 0
    proc.kill()
    proc.wait()
    gone = served(speakd, before, "disconnected")
    assert gone["audio_s"] < 60, "the whole article was rendered for nobody"
    after = synth(speakd, "--raw", stdin=b"Still here.\n")
    assert after.returncode == 0 and served(speakd, before + 1)["utterances"] == 1


def test_garbage_on_the_socket_gets_an_error_and_the_daemon_serves_on(speakd):
    engine = protocol.EngineSettings.of(models.resolve(), "auto", False)
    good = protocol.encode_request(engine, protocol.SynthOptions("af_heart")).rstrip(b"\n")
    for garbage in [b"garbage\n", b"\xff\xfe\x00\x01\n", b"[1, 2]\n",
                    good.replace(b'"options":{', b'"options":{"bogus":1,') + b"\n",
                    good.replace(b'"speed":1.0', b'"speed":"fast"') + b"\n",
                    good + b"\n" + b'{"line": 1}\n', b""]:
        answer = _exchange(speakd, garbage)
        errors = [e for e in answer if isinstance(e, Ancillary)
                  and e.kind == protocol.KIND_ERROR]
        assert len(errors) == 1, (garbage, answer)
        assert "bad request" in json.loads(errors[0].payload)["error"]
    before = len(jobs(speakd))
    result = synth(speakd, "--raw", stdin=b"Fine.\n")
    assert result.returncode == 0 and served(speakd, before)


def _exchange(daemon: SpeakDaemon, data: bytes) -> list:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(60)
        conn.connect(str(daemon.fifo.parent / "synth.sock"))
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: conn.recv(65536), b""))  # until the daemon closes
    return list(read_stream(io.BytesIO(answer), ancillary=True))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_a_peer_of_another_user_is_refused(speakd):
    """The kernel's word on who connects (SO_PEERCRED), not the file mode: with
    the socket opened up by hand (a link in a public directory, mode 0777),
    the daemon still refuses uid 65534."""
    sock = speakd.fifo.parent / "synth.sock"
    public = Path(tempfile.mkdtemp(dir="/tmp"))
    public.chmod(0o755)
    os.link(sock, public / "s")
    try:
        sock.chmod(0o777)
        code = ("import socket,sys; c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]);"
                "[sys.stdout.buffer.write(b) for b in iter(lambda: c.recv(4096), b'')]")
        result = subprocess.run(["/usr/bin/python3", "-c", code, str(public / "s")],
                                capture_output=True, user=65534, timeout=60)
    finally:
        sock.chmod(0o600)
        shutil.rmtree(public)
    assert result.returncode == 0, result.stderr
    _, error = read_stream(io.BytesIO(result.stdout), ancillary=True)
    assert error.kind == protocol.KIND_ERROR and b"uid 65534" in error.payload
    assert speakd.wait_for(lambda e: e.get("outcome") == "refused", 10, "a refusal")


@pytest.mark.parametrize("kind", UNSAFE_KINDS)
def test_an_unsafe_socket_is_refused(speakd, tmp_path, kind):
    place = tmp_path / "run"
    place.mkdir(mode=0o700)
    path = place / "synth.sock"
    plant(path, kind, speakd.fifo.parent / "synth.sock")
    engine = protocol.EngineSettings.of(models.resolve(), "auto", False)
    with pytest.raises(UnsafePathError, match="refusing"):
        synth_client.borrow(path, engine, protocol.SynthOptions("af_heart"))


def test_an_unsafe_socket_is_said_and_kk_synth_goes_on_in_process(speakd, tmp_path):
    place = tmp_path / "run"
    place.mkdir(mode=0o700)
    (place / "synth.sock").write_text("")
    env = client_env(speakd, KOKORO_PIPE_FIFO=str(place / "speak.fifo"))
    result = synth(speakd, "--raw", stdin=b"Hello.\n", env=env)
    assert result.returncode == 0 and len(result.stdout) > 24_000
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith("kk-synth: not using kk-speakd: ") and "not a socket" in line


def test_the_daemon_gone_mid_stream_ends_the_output_on_a_whole_frame(pulse, tmp_path):
    daemon = SpeakDaemon(tmp_path / "run", env=pulse.env)
    daemon.wait_ready()
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    proc = subprocess.Popen([command("kk-synth"), str(article)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=client_env(daemon))
    _wait_for_clients(daemon, 1)
    daemon.proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 74
    assert err.decode().splitlines() == [
        "kk-synth: kk-speakd went away mid-stream; the output is cut short"]
    events = frames(out)  # raises if the stream ends inside a frame
    assert isinstance(events[0], Header) and any(isinstance(e, Audio) for e in events)
    assert np.concatenate([e.samples for e in events if isinstance(e, Audio)]).size > 0
    daemon.stop()
