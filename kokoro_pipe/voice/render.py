"""kk-synth's job as a library: input lines -> utterances -> events -> a sink.

kk-synth runs it in-process, and kk-speakd runs the same code for a kk-synth
that borrows its model (daemon/synth_server.py), so both write the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.errors import EXIT_DATA, NoInputError
from kokoro_pipe.framing import StartAfter, WordMark
from kokoro_pipe.text.chunks import samples
from kokoro_pipe.text.g2p import Word
from kokoro_pipe.text.lines import Line, Rejected, parse_phoneme_line
from kokoro_pipe.voice.seams import Seam
from kokoro_pipe.voice.synthesis import AudioBlock, Finished, Utterance


class Sink(Protocol):
    """Where the audio goes (audio/sinks.py)."""

    def audio(self, samples: np.ndarray) -> None: ...
    def words(self, marks: list[WordMark]) -> None: ...
    def advise(self, advice: StartAfter) -> None: ...
    def end(self, meta: dict) -> None: ...


class Report(Protocol):
    """Where progress and rejected lines go (cli/progress.py's Progress)."""

    def audio(self, seconds: float, line_chars: int = 0) -> None: ...
    def spoken(self, line_chars: int) -> None: ...
    def message(self, line: str) -> None: ...


def utterances(lines: Iterable[Line | Rejected], phonemes: bool) -> Iterator:
    """One Utterance per input line (phonemes parsed from kk-g2p's plain or
    JSON lines when `phonemes`); bad lines pass on as Rejected."""
    count = 0
    for item in lines:
        if isinstance(item, Rejected):
            yield item
            continue
        label = words = None
        text = item.text
        if phonemes:
            try:
                record = parse_phoneme_line(item.text)
            except ValueError as e:
                yield Rejected(item.number, str(e))
                continue
            text, label = record.phonemes, record.text
            words = record.words and tuple(Word((a, b), (c, d)) for a, b, c, d in record.words)
        count += 1
        yield Utterance(count, item.number, text, phonemes, label, words=words)


def write_events(events, sink: Sink, gap: float, report: Report) -> int:
    """Write the synthesizer's events to `sink`, `gap` seconds of silence
    heard between utterances (voice/seams.py); the exit status: 0, or 65 if
    a line was rejected. Raises NoInputError when nothing at all was spoken."""
    status, spoken, gap_due = 0, 0, False
    seam, pause = Seam(), samples(gap, SAMPLE_RATE)
    at = 0  # samples of the utterance so far, the gap before it included
    for event in events:
        if isinstance(event, AudioBlock):
            silence = seam.owed(pause, event.samples) if gap_due else 0
            if event.start_after is not None:  # the gap is the utterance's first audio
                sink.advise(StartAfter(event.start_after + silence))
            if silence:
                sink.audio(np.zeros(silence, np.float32))
                seam.silence(silence)
                report.audio(silence / SAMPLE_RATE)
            if gap_due:
                gap_due, at = False, silence
            if event.words:
                sink.words([WordMark(event.utterance.id, at + w.start, at + w.end, w.text, w.span,
                                     w.sentence_end) for w in event.words])
            sink.audio(event.samples)
            seam.passed(event.samples)
            at += len(event.samples)
            report.audio(len(event.samples) / SAMPLE_RATE, len(event.utterance.meta()["text"]))
        elif isinstance(event, Finished):
            meta = event.utterance.meta()
            sink.end(meta)
            report.spoken(len(meta["text"]))
            spoken += 1
            gap_due, at = True, 0
        else:
            report.message(f"kk-synth: {event.message()}")
            status = EXIT_DATA
    if not spoken and not status:
        raise NoInputError("no text to speak on the input")
    return status
