"""kk-speakd's core: requests in order, each synthesized one chunk ahead of playback.

Three threads: the FIFO reader parses lines and queues jobs (and carries out
commands at once), the synthesis thread turns the next job into chunks, and the
audio thread writes them to the device. Only the audio thread touches the
output (PortAudio is not thread-safe); others ask it to stop through the job's
event, which it checks between small blocks, so a stop takes effect within one
block. Requests queued back to back flow on the open device, `gap` seconds of
silence heard between them (voice/seams.py); it is drained and closed when
nothing more waits. A job is logged exactly once: by the reader if it never
left the queue, else by the audio thread.

The device holds up to LATENCY of audio written and not yet heard, so what is
told about a sound (its begin, and the end of one that flows on into the next)
waits until the device has played up to it: the audio thread keeps those in
order with the time each is due and tells them as it passes (`_at_heard`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.audio.player import PlayStats
from kokoro_pipe.daemon.fifo import TooLong
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.request import BadRequest, Command, Request, parse
from kokoro_pipe.errors import KokoroPipeError
from kokoro_pipe.text.chunks import PARAGRAPH_PAUSE, samples
from kokoro_pipe.voice.seams import Seam
from kokoro_pipe.voice.synthesis import NothingToSay, Piece

BLOCK = SAMPLE_RATE // 20  # 50 ms per write: the most a stop waits for
TELL_BLOCK = SAMPLE_RATE // 100  # 10 ms per write of a pause: an end falls in it, told on time
POLL = 0.2  # seconds between checks for shutdown while waiting
STOP_POLL = 0.02  # seconds between checks for a stop while the device waits for a chunk
HEARD_POLL = 0.005  # seconds between checks for a request's last sound heard


class Output(Protocol):
    """The audio device as the audio thread sees it (daemon/speaker.py)."""

    device: str | None

    def is_open(self) -> bool: ...
    # Play one request from now on (on the open stream, else opening the default
    # device); its writes give up without blocking once `stop` is set.
    def open(self, stop: threading.Event) -> None: ...
    def write(self, block: np.ndarray) -> None: ...
    def queued(self) -> int: ...  # frames written and not yet heard
    def pause(self, seconds: float) -> None: ...  # end of a request: silence after it
    def idle(self) -> int: ...  # keep an open stream from running dry: frames of silence added
    def stats(self) -> PlayStats: ...  # since open: first_write, underruns
    def close(self, drain: bool) -> None: ...  # drain: wait until all is heard
    def rescan(self) -> None: ...  # refresh the device list while nothing plays


# The audio chunks of a request; stops early once the event is set (daemon/speech_source.py).
ChunkSource = Callable[[Request, threading.Event], Iterator[Piece]]


class Events(Protocol):
    """Told, from the audio thread (and the reader's, for a job cancelled in
    the queue), when a job's sound begins, passes a mark, and ends."""

    def begin(self, job: Job) -> None: ...
    def mark(self, job: Job, name: str) -> None: ...
    def end(self, job: Job, outcome: str) -> None: ...  # outcome as in the request log


class _NoEvents:
    def begin(self, job) -> None:
        pass

    def mark(self, job, name) -> None:
        pass

    def end(self, job, outcome) -> None:
        pass


@dataclass(eq=False)
class Job:
    request: Request
    id: str
    received: float  # time.monotonic() when read from the FIFO
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None
    stop_asked: float | None = None
    started: float | None = None  # taken off the queue
    synth_seconds: float = 0.0
    samples: int = 0
    first_sample: float | None = None
    underruns: int = 0
    device: str | None = None
    audio_end: float | None = None  # time.time() when its sound ended
    aborted: float | None = None  # time.monotonic() when its sound was cut
    words: list[tuple[int, str]] = field(default_factory=list)  # (first sample, text), to come
    word_count: int = 0
    word: str | None = None  # the word being heard
    marks: list[tuple[int, str]] = field(default_factory=list)  # (sample, name), to come
    held: list[Piece] = field(default_factory=list)  # its first audio, until `hold` is made
    hold: int = 0  # samples to have before its first sound (the planner's advice)
    added_silence: float = 0.0  # seconds heard between its pieces because one came late
    dry_at: float | None = None  # time.monotonic() when the device would run out
    told: bool = False  # its end was told to the Events

    def cancel(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason, self.stop_asked = reason, time.monotonic()
            self.stop.set()


@dataclass(frozen=True)
class _Failed:
    outcome: str  # rejected (the request's fault) or failed (ours)
    reason: str


_END = object()
_PREPARE = object()  # a job's synthesis began: an idle audio thread opens the device


class Daemon:
    def __init__(self, chunk_source: ChunkSource, output: Output, log: EventLog,
                 status: StatusFile, queue_size: int = 64, spool=None,
                 gap: float = PARAGRAPH_PAUSE, events: Events | None = None):
        self.chunk_source, self.output, self.log, self.status = chunk_source, output, log, status
        self.events = events or _NoEvents()
        self.queue_size, self.spool, self.gap = queue_size, spool, gap
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._active: list[Job] = []  # off the queue, not yet logged; [0] plays
        self._paused = self._closing = False
        self._sounding: Job | None = None  # whose audio the open output holds (audio thread)
        # The open stream's seam (voice/seams.py), and the pause owed before the
        # next request's first audio when one flows on after another (samples).
        self._seam, self._owed = Seam(), 0
        # What to tell when the device has played up to it: (monotonic time, tell).
        self._due: deque[tuple[float, Callable[[], None]]] = deque()
        self._handoff: queue.Queue = queue.Queue(maxsize=1)  # one chunk ahead
        self._count = self._done = 0
        self._broken: str | None = None  # why a thread of ours ended unasked
        self._threads = [threading.Thread(target=self._synthesis_loop, name="kk-synthesis"),
                         threading.Thread(target=self._audio_loop, name="kk-audio")]

    def start(self) -> None:
        for t in self._threads:
            t.start()
        self._status(state="ready")

    def broken(self) -> str | None:
        """Why requests can no longer be spoken, if a thread ended unasked (a
        bug: every error of a request or the device is caught in it): the
        daemon should exit, so that launchd or systemd start a new one."""
        with self._cond:
            if self._closing:
                return None
        ended = [t.name for t in self._threads if t.ident is not None and not t.is_alive()]
        return self._broken or (f"thread {ended[0]} ended" if ended else None)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop speaking and let both threads end (the synthesis thread after
        its current chunk: leaving onnxruntime mid-call aborts the process)."""
        with self._cond:
            self._closing = True
            self._drop_all("shutdown")
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout)

    # -- the reader's side ---------------------------------------------------

    def submit(self, line: bytes | TooLong, received: float | None = None) -> None:
        """Handle one FIFO line; never raises for a bad one."""
        received = time.monotonic() if received is None else received
        self._count += 1
        default_id = f"r{self._count}"
        if isinstance(line, TooLong):
            return self._reject(default_id, line.size, f"line longer than the limit "
                                f"({line.size} bytes); send long text as a file request")
        try:
            request = parse(line, self.spool)
        except BadRequest as e:
            return self._reject(e.request_id or default_id, len(line), str(e))
        if request is None:
            return None
        if isinstance(request, Command):
            return self.command(request.name)
        self.enqueue(request, request.id or default_id, received)

    def enqueue(self, request: Request, job_id: str, received: float | None = None) -> None:
        """Queue a request already parsed (by the FIFO's reader, or another front end)."""
        job = Job(request, job_id, time.monotonic() if received is None else received)
        with self._cond:
            if request.priority == "interrupt":
                self._drop_all(f"interrupted by {job.id}")
                self._paused = False
                self._queue.appendleft(job)
            elif len(self._queue) >= self.queue_size:
                return self._finish(job, "refused", f"queue full ({self.queue_size} waiting)")
            else:
                self._queue.append(job)
            self._cond.notify_all()
        self._status()

    def command(self, name: str) -> None:
        with self._cond:
            playing = self._active[0].id if self._active else None
            if name == "stop" and self._active:
                self._active[0].cancel("stop")
            elif name == "cancel":
                self._drop_all(name)
            elif name in ("pause", "resume"):
                self._paused = name == "pause"
            self._cond.notify_all()
        self.log("command", command=name, current=playing, queued=len(self._queue))
        self._status()

    def jobs(self) -> list[Job]:
        """The requests being spoken and waiting, in order."""
        with self._cond:
            return [*self._active, *self._queue]

    def cancel(self, reason: str) -> None:
        """Cancel the request speaking and all that wait, for `reason`."""
        with self._cond:
            self._drop_all(reason)
            self._cond.notify_all()
        self._status()

    def _drop_all(self, reason: str) -> None:
        """Cancel every job (with the lock held): queued ones are logged here."""
        while self._queue:
            self._finish(self._queue.popleft(), "cancelled", reason)
        for job in self._active:
            job.cancel(reason)

    def _reject(self, rid: str, size: int, reason: str) -> None:
        self.log("request", id=rid, outcome="rejected", reason=reason, bytes=size)
        self._status(last_error=f"{rid}: {reason}")

    # -- the synthesis thread ------------------------------------------------

    def _synthesis_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                job = None if self._closing else self._queue.popleft()
                if job:
                    job.started = time.monotonic()
                    self._active.append(job)
            if job is None:
                self._hand(None, _END)  # tells the audio thread to end too
                return
            self._status()
            self._synthesize(job)

    def _synthesize(self, job: Job) -> bool:
        # Only when the audio thread waits idle (the slot is free): opening the
        # device then overlaps the first chunk's synthesis. A busy one opens
        # the device itself later, and the slot stays free for audio.
        with contextlib.suppress(queue.Full):
            self._handoff.put_nowait((job, _PREPARE))
        try:
            chunks = self.chunk_source(job.request, job.stop)
            while True:
                began = time.monotonic()
                audio = next(chunks, None)
                job.synth_seconds += time.monotonic() - began
                if audio is None or not self._hand(job, audio):
                    break
        except (KokoroPipeError, NothingToSay, ValueError) as e:
            return self._hand(job, _Failed("rejected", str(e)))  # ends the job
        except Exception as e:  # noqa: BLE001 - a request must not kill the daemon
            return self._hand(job, _Failed("failed", f"{type(e).__name__}: {e}"))
        return self._hand(job, _END)

    def _hand(self, job: Job | None, item) -> bool:
        while True:
            try:
                self._handoff.put((job, item), timeout=POLL)
                return True
            except queue.Full:
                if self._closing and not (item is _END or isinstance(item, _Failed)):
                    return False  # audio nobody will hear; ends are always delivered
                if not self._threads[1].is_alive():
                    return False  # nobody takes it any more (broken)

    # -- the audio thread ----------------------------------------------------

    def _audio_loop(self) -> None:
        try:
            self._take_items()
            self._release(drain=False)
        except Exception as e:  # noqa: BLE001 - a bug of ours: broken() says so, serve() exits
            self._broken = f"the audio thread stopped: {type(e).__name__}: {e}"

    def _take_items(self) -> None:
        while True:
            try:  # poll fast while sounding, so a stop between chunks is quick too
                job, item = self._handoff.get(timeout=STOP_POLL if self._sounding else POLL)
            except queue.Empty:
                job, item = self._sounding, None
            if job is None and item is not None:
                return
            try:
                self._handle(job, item)
            except Exception as e:  # noqa: BLE001 - the device failed, not the daemon
                self._device_failed(e)

    def _handle(self, job: Job | None, item) -> None:
        """One item handed over for `job`, or (None) a poll while `job` sounds."""
        self._tell_due()
        if item is None:
            if job and job.stop.is_set():
                self._release(drain=False)
            elif job and job.first_sample is None:
                self._idle()  # the next request's first audio is coming
        elif item is _PREPARE:
            self._prepare(job)
        elif item is _END or isinstance(item, _Failed):
            self._end(job, item)
        elif not job.stop.is_set():
            self._play(job, item)

    def _device_failed(self, error: Exception) -> None:
        """A device call of the audio thread failed (a write, the silence
        between requests): the request on the device fails, the device is
        closed, and the thread goes on; the next request opens the default again."""
        job = self._sounding
        if job is not None:
            job.cancel(_audio_failure(error))
        else:
            self.log("error", reason=_audio_failure(error))
        self._release(drain=False)

    def _prepare(self, job: Job) -> None:
        with self._cond:
            if self._paused or job.stop.is_set() or self.output.is_open():
                return
        try:
            self.output.open(job.stop)
            self._sounding = job
        except Exception:  # noqa: BLE001 - _play opens again, and reports the failure
            return

    def _play(self, job: Job, piece: Piece) -> None:
        """Sound `piece`; an unstarted job's pieces are held until the planner's
        advice is made (the stream idles meanwhile), so it then plays through."""
        if job.first_sample is None and (piece.start_after or job.held):
            job.hold = piece.start_after or job.hold
            job.held.append(piece)
            if sum(len(p.audio) for p in job.held) >= job.hold:
                self._play_held(job)
            return
        self._sound(job, piece)

    def _play_held(self, job: Job) -> None:
        """Sound, in order, what was held for `job`."""
        held, job.held = job.held, []
        for piece in held:
            if job.stop.is_set():
                return
            self._sound(job, piece)

    def _idle(self) -> None:
        self._seam.silence(self.output.idle())

    def _sound(self, job: Job, piece: Piece) -> None:
        if job.dry_at is not None:  # the device ran out before this piece came
            job.added_silence += max(0.0, time.monotonic() - job.dry_at)
        audio = piece.audio
        if self._owed and self._sounding is job and self.output.is_open():
            # The pause that is heard: what the idle stream and the quiet ends
            # of both requests have not already made of it.
            owed = self._seam.owed(self._owed, audio)
            for start in range(0, owed, TELL_BLOCK):  # the end before it is told meanwhile
                self.output.pause(min(TELL_BLOCK, owed - start) / SAMPLE_RATE)
                self._tell_due()
            self._seam.silence(owed)
        self._owed = 0
        job.words += [(job.samples + w.start, w.text) for w in piece.words]
        job.word_count += len(piece.words)
        job.marks += [(job.samples + at, name) for at, name in piece.marks]
        for start in range(0, len(audio), BLOCK):
            self._wait_while_paused(job)
            if job.stop.is_set():
                return self._release(drain=False)
            if self._sounding is not job or not self.output.is_open():
                self._sounding = job  # before opening: a failure is this job's
                self.output.open(job.stop)
            self.output.write(audio[start:start + BLOCK])
            job.samples += min(BLOCK, len(audio) - start)
            stats = self.output.stats()
            if job.first_sample is None and stats.first_write is not None:
                job.first_sample = stats.first_write
                # Its first sample is heard once what the device holds before it is.
                self._at_heard(self.output.queued() - stats.samples,
                               lambda: self.events.begin(job))
                self._status()
            self._tell_due()
            self._heard_words(job)
        self._seam.passed(audio)
        job.dry_at = time.monotonic() + self.output.queued() / SAMPLE_RATE

    def _heard_words(self, job: Job) -> None:
        """The word being heard now: the last one started before what was
        written less what the device still holds; and the marks passed."""
        heard = job.samples - self.output.queued()
        while job.marks and job.marks[0][0] <= heard:
            self._tell_due(flush=True)  # a mark heard: so was all before it
            self.events.mark(job, job.marks.pop(0)[1])
        word = None
        while job.words and job.words[0][0] <= heard:
            word = job.words.pop(0)[1]
        if word is not None:
            job.word = word
            self._status()

    def _wait_while_paused(self, job: Job) -> None:
        with self._cond:
            if not self._paused or job.stop.is_set():
                return
        self._release(drain=True)  # play out what is buffered, free the device
        with self._cond:
            while self._paused and not job.stop.is_set() and not self._closing:
                self._cond.wait(POLL)

    def _end(self, job: Job, item) -> None:
        """The job's last item came: end its sound and log it, whatever the
        device does meanwhile (a failure of it is the job's outcome)."""
        spoken = not isinstance(item, _Failed) and not job.stop.is_set()
        try:
            if spoken:
                ending = self._end_spoken(job)
                if ending == "flows on":
                    return  # logged when its end is heard
                spoken = ending == "heard"
            elif isinstance(item, _Failed) and job.first_sample is None:
                self._pass_on(job)  # none of it sounded: the one before plays out
            else:
                self._release(drain=False)
        except Exception as e:  # noqa: BLE001 - the device failed, not the daemon
            job.cancel(_audio_failure(e))
            spoken = False
            self._release(drain=False)
        self._tell_due(flush=True)  # whatever came before is told before this one's end
        if isinstance(item, _Failed):
            self._finish(job, item.outcome, item.reason)
        elif spoken:
            self._finish(job, "spoken")
        else:
            reason = job.stop_reason or "stop"
            outcome = ("failed" if reason.startswith("audio:")
                       else "stopped" if job.first_sample is not None else "cancelled")
            self._finish(job, outcome, reason)

    def _end_spoken(self, job: Job) -> Literal["heard", "stopped", "flows on"]:
        """End `job`'s sound: heard whole, or stopped before; or it flows on
        into the next request, its end told and logged when heard (`_at_heard`)."""
        self._play_held(job)  # shorter than the advice: all of it is here now
        following = self._following(job)
        if following is None:
            heard = self._until_heard(job)
            self._release(drain=heard)  # never cut off by the next request
            return "heard" if heard else "stopped"
        # Flow on: the next request plays on this stream, `gap` later.
        self._note_end(job, drained=True)
        with self._cond:  # a stop from now on is the next one's
            self._active.remove(job)
        self.output.pause(0)  # all of its sound to the device; the pause is owed to the next
        unheard = self.output.queued() - self._seam.tail  # its quiet end is not its sound
        self.output.open(following.stop)
        self._sounding = following
        self._owed = samples(self.gap, SAMPLE_RATE)
        self._idle()  # the stream must not run dry
        self._at_heard(unheard, lambda: self._heard_end(job))
        return "flows on"

    def _heard_end(self, job: Job) -> None:
        job.audio_end = time.time()
        self._finish(job, "spoken")

    def _at_heard(self, frames: int, tell: Callable[[], None]) -> None:
        """Call `tell` once the device has played the `frames` it holds now,
        after everything due before it."""
        self._due.append((time.monotonic() + max(0, frames) / SAMPLE_RATE, tell))
        self._tell_due()

    def _tell_due(self, flush: bool = False) -> None:
        """Tell, in order, what is due by now (all of it when flushing: the
        device is closing, or something later is already heard)."""
        while self._due and (flush or self._due[0][0] <= time.monotonic()):
            self._due.popleft()[1]()

    def _until_heard(self, job: Job) -> bool:
        """Wait until all of `job`'s sound was heard (the device holds only its
        silent end, voice/seams.py), then tell its end: whoever waits on it
        (speech-dispatcher's END) is not kept for the quiet tail and the drain.
        False, and nothing told, if it was stopped meanwhile."""
        if self.output.is_open():
            self.output.pause(0)  # its last frames to the device, started if it waited
        limit = time.monotonic() + self.output.queued() / SAMPLE_RATE + POLL
        while (self.output.is_open() and self.output.queued() > self._seam.tail
               and not job.stop.is_set() and time.monotonic() < limit):
            self._tell_due()
            time.sleep(HEARD_POLL)
        if job.stop.is_set():
            return False
        job.audio_end = time.time()
        self._tell_due(flush=True)
        self._tell_end(job, "spoken")
        return True

    def _tell_end(self, job: Job, outcome: str) -> None:
        """Tell the Events that `job` ended, once; when all of it was heard, so
        were the marks at its end."""
        if job.told:
            return
        job.told = True
        if outcome == "spoken":
            for _, name in job.marks:
                self.events.mark(job, name)
            job.marks.clear()
        self.events.end(job, outcome)

    def _pass_on(self, job: Job) -> None:
        """The stream goes on to the request after `job`, or drains if none waits."""
        following = self._following(job)
        if following is None:
            self._release(drain=True)
        else:
            self.output.open(following.stop)
            self._sounding = following

    def _following(self, job: Job) -> Job | None:
        """The request to be spoken after `job`, if one waits and we are not paused."""
        with self._cond:
            if self._paused or self._closing or not self.output.is_open():
                return None
            waiting = [j for j in self._active if j is not job] + list(self._queue)
            return waiting[0] if waiting else None

    def _release(self, drain: bool) -> None:
        """Close the output (drained, or aborted at once) and note in the
        sounding job when its sound ended; then rescan the devices."""
        job, was_open = self._sounding, self.output.is_open()
        self._seam, self._owed = Seam(), 0  # a new stream starts with its own pre-roll
        try:
            if was_open:
                self.output.close(drain)
        except Exception as e:  # noqa: BLE001
            self.log("error", reason=f"closing the audio device: {type(e).__name__}: {e}")
        self._tell_due(flush=True)  # what the device held is heard now, or never will be
        if job is not None:
            self._sounding = None
            self._note_end(job, drain)
        if was_open:
            try:
                self.output.rescan()
            except Exception as e:  # noqa: BLE001
                self.log("error", reason=f"rescanning audio devices: {type(e).__name__}: {e}")

    def _note_end(self, job: Job, drained: bool) -> None:
        """When the job's sound ended (its last sample heard, or cut; when it
        flows on, handed to the device, until `_heard_end`) and what the device
        reported."""
        if not (drained and job.audio_end):  # its end heard before the drain is kept
            job.audio_end = time.time()
        job.aborted = None if drained else time.monotonic()
        stats = self.output.stats()
        job.underruns += stats.underruns
        job.device = self.output.device
        if job.first_sample is None:
            job.first_sample = stats.first_write  # a short one starts at the drain

    # -- outcomes ------------------------------------------------------------

    def _finish(self, job: Job, outcome: str, reason: str | None = None) -> None:
        record = {"id": job.id, "outcome": outcome, "chars": len(job.request.text),
                  "priority": job.request.priority}
        if reason:
            record["reason"] = reason
        if job.started is not None:
            record["queue_wait_ms"] = _ms(job.started - job.received)
        if job.first_sample is not None:
            seconds = job.samples / SAMPLE_RATE
            record.update(ttfa_ms=_ms(job.first_sample - job.received),
                          audio_s=round(seconds, 3),
                          rtf=round(job.synth_seconds / seconds, 3) if seconds else None,
                          underruns=job.underruns, device=job.device, words=job.word_count,
                          added_silence_ms=_ms(job.added_silence), hold_ms=_ms(
                              job.hold / SAMPLE_RATE))
        if job.audio_end is not None:
            record["audio_end"] = round(job.audio_end, 4)  # Unix time the sound ended
        if job.stop_asked is not None and job.aborted is not None:
            record["stop_ms"] = _ms(job.aborted - job.stop_asked)  # asked -> audio aborted
        with self._cond:
            if job in self._active:
                self._active.remove(job)
            self._done += 1
        self._tell_end(job, outcome)
        self.log("request", **record)
        last = {k: record[k] for k in ("id", "outcome", "underruns", "added_silence_ms")
                if k in record}
        if outcome in ("rejected", "failed", "refused"):
            self._status(last=last, last_error=f"{job.id}: {reason}")
        else:
            self._status(last=last)

    def _status(self, **fields) -> None:
        with self._cond:
            busy = bool(self._active or self._queue)
            state = "paused" if self._paused else "busy" if busy else "ready"
            current = self._active[0].id if self._active else None
            heard = self._sounding
            fields = {"state": state, "queue": len(self._queue), "current": current,
                      "sounding": heard.id if heard and heard.first_sample else None,
                      "word": heard.word if heard and heard.first_sample else None,
                      "done": self._done, **fields}
            self.status.update(**fields)  # in order: no older state lands last


def _audio_failure(error: Exception) -> str:
    return f"audio: {type(error).__name__}: {error}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
