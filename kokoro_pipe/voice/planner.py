"""Speech scheduled from the speed measured now.

A chunk's audio can be played only once the chunk is made, so each next chunk
must be made while the audio already made plays. How long that takes depends
on the machine, and the same machine runs the model up to 3x slower on another
day, so nothing here is tuned: `Pace` measures, from every chunk made, the
seconds of work per second of audio and the audio per character, and an
utterance's `Schedule` uses them to

- size each next chunk so that it is ready, with a safety factor, before the
  audio ahead of the listener runs out (`budget`, asked for by text/chunks.py
  just before the chunk is made), and
- say how much audio to buffer before playback starts (`start_after`): a
  simulation of the rest of the utterance with the same sizing rule finds the
  least that keeps it whole, up to `max_wait` seconds of waiting. Beyond that
  (slower than real time), the silence a listener hears goes between chunks,
  which end at clause or sentence ends: when it is behind, the next chunk runs
  to the end of its sentence.

Playback is modelled, not observed (kk-play is another process): it starts when
the advised amount is made and runs in real time from then on, stalling when
the modelled buffer runs dry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from kokoro_pipe.text.chunks import end_kind, group

SAFETY = 1.5  # a chunk may take this much longer than the measured speed says
MAX_WAIT = 3.0  # seconds the first audio may be held back to keep an utterance whole
SHORTEST = 1.0  # seconds of audio: a shorter chunk costs as much (fixed overhead per run)
WEIGHT = 0.3  # of each new measurement in the running figures
HOLD_STEP = 0.05  # seconds: how finely the hold is found


@dataclass
class Pace:
    """How fast speech is made here: measured chunk by chunk, shared by every
    utterance of one engine. The initial figures are guesses, replaced by the
    first measurement."""

    cost: float = 0.5  # seconds of work (G2P, front, vocoder) per second of audio
    per_unit: float = 0.06  # seconds of audio per character (or phoneme) at speed 1
    measured: int = 0
    clock: Callable[[], float] = time.monotonic  # what work is timed with

    def measure(self, work: float, audio: float, units: int, speed: float) -> None:
        """A chunk of `units` characters took `work` seconds to give `audio` seconds."""
        if audio <= 0 or units <= 0:
            return
        cost = work / max(audio, SHORTEST)
        per_unit = audio * speed / units
        if self.measured == 0:
            self.cost, self.per_unit = cost, per_unit
        else:
            self.cost += WEIGHT * (cost - self.cost)
            self.per_unit += WEIGHT * (per_unit - self.per_unit)
        self.measured += 1

    def forget(self) -> None:
        """Keep the figures only as a guess: the next measurement replaces them
        (after a warm-up, whose first run of the model is its slowest)."""
        self.measured = 0

    def work(self, audio: float) -> float:
        """Seconds it takes to make `audio` seconds of speech."""
        return self.cost * max(audio, SHORTEST)


@dataclass(frozen=True)
class Policy:
    safety: float = SAFETY
    max_wait: float = MAX_WAIT


@dataclass
class Schedule:
    """One utterance's plan, from its first chunk to its last."""

    pace: Pace
    speed: float = 1.0
    policy: Policy = field(default_factory=Policy)
    made: float = 0.0  # seconds of audio handed on so far
    hold: float | None = None  # seconds to buffer before playback starts (the advice)
    started: float | None = None  # modelled clock time playback started
    todo: Sequence[str] = ()  # the pieces still to come: the chunker's, set by the caller

    def seconds(self, units: int) -> float:
        return self.pace.per_unit * units / self.speed

    def ahead(self) -> float:
        """Seconds of audio made and not yet heard, as modelled; a buffer that
        ran dry stalls playback, so this is never below 0."""
        if self.started is None:
            return self.made
        now = self.pace.clock()
        heard = now - self.started
        if heard > self.made:
            self.started = now - self.made
            return 0.0
        return self.made - heard

    def budget(self, todo: list[str]) -> int:
        """The most characters the next chunk may have: as many as can be made
        before the audio ahead runs out. Behind (not even one piece can), the
        rest of the sentence, so that the pause falls at its end."""
        return _limit(self.ahead(), todo, self)

    def start_after(self, first: float) -> float:
        """Seconds of audio to buffer before playback starts, decided when the
        first chunk (`first` seconds) is made and before it is handed on."""
        self.hold = _least_hold(first, list(self.todo), self)
        return self.hold

    def handed(self, seconds: float) -> None:
        """`seconds` of audio were handed on to be played."""
        self.made += seconds
        if self.started is None and self.made >= (self.hold or 0.0) - 1e-9:
            self.started = self.pace.clock()


def _limit(ahead: float, todo: Sequence[str], plan: Schedule, first: int = 0) -> int:
    """Schedule.budget for `ahead` seconds of audio ahead of the listener, the
    pieces to come being todo[first:]."""
    pace, units = plan.pace, 0
    if ahead > pace.work(0.0) * plan.policy.safety:  # else even a short chunk comes late
        units = int(ahead / (pace.cost * plan.policy.safety) * plan.speed / pace.per_unit)
    if units >= len(todo[first]):
        return units
    size = -1
    for piece in islice(todo, first, None):
        size += 1 + len(piece)
        if end_kind(piece) == "sentence":
            break
    return size


def _least_hold(first: float, todo: list[str], plan: Schedule) -> float:
    """The least audio to buffer before starting with which a simulation of the
    rest, sized as `budget` sizes it, never runs dry; but no more than can be
    made within max_wait. Both are monotonic in the hold: bisected."""
    total = first + sum(plan.seconds(len(p) + 1) for p in todo)
    if _simulate(first, first, todo, plan)[0] <= 0.0:
        return first
    enough = _bisect(first, total, lambda hold: _simulate(first, hold, todo, plan)[0] <= 0.0)
    if _simulate(first, enough, todo, plan)[1] <= plan.policy.max_wait:
        return enough
    late = _bisect(first, enough, lambda hold: _simulate(first, hold, todo, plan)[1]
                   > plan.policy.max_wait)
    return max(first, late - HOLD_STEP)


def _bisect(lo: float, hi: float, ok: Callable[[float], bool]) -> float:
    """The least hold in (lo, hi] that is `ok`, to HOLD_STEP (`ok` monotonic, ok(hi))."""
    while hi - lo > HOLD_STEP:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def _simulate(first: float, hold: float, todo: list[str], plan: Schedule
              ) -> tuple[float, float]:
    """(seconds of silence heard, seconds from now until playback starts) if
    the rest is chunked as the chunker will and made at the measured speed
    times the safety factor."""
    now, made, dry = 0.0, first, 0.0
    start = 0.0 if first >= hold - 1e-9 else None
    i = 0
    while i < len(todo):
        ahead = made if start is None else max(0.0, made - (now - start))
        n = group(islice(todo, i, None), _limit(ahead, todo, plan, i))
        seconds = sum(plan.seconds(len(p) + 1) for p in todo[i:i + n])
        i += n
        now += plan.pace.work(seconds) * plan.policy.safety
        if start is not None and now - start > made:
            dry += now - start - made
            start = now - made
        made += seconds
        if start is None and made >= hold - 1e-9:
            start = now
    return dry, (start if start is not None else now)
