"""The Kokoro-82M ONNX model: phonemes + voice style + speed -> 24 kHz float32 audio."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.text.chunks import CLAUSE_PAUSE, MODEL_MAX_PHONEMES, SENTENCE_PAUSE
from kokoro_pipe.voice import memory, providers, timing, vocoder
from kokoro_pipe.voice.files import ModelFiles
from kokoro_pipe.voice.planner import Pace
from kokoro_pipe.voice.split_model import FRAME
from kokoro_pipe.voice.voices import parse_voice, voice_names

# What `--provider auto` times, once per model file: about a second of speech.
PROBE_PHONEMES = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps."


@dataclass(frozen=True)
class Voiced:
    """A piece of a chunk's audio, and the words that start in it."""

    audio: np.ndarray
    # (word index, first sample, sample after the last), from this piece's
    # start; a word may end in a later piece.
    words: tuple[tuple[int, int, int], ...] = ()


class Engine:
    """One loaded model and its voices. Its methods may be called from one
    thread at a time; onnxruntime runs them on all cores without the GIL.

    With the split model installed (voice/split_model.py) a chunk is the front
    once, then the vocoder over the frames kept (voice/vocoder.py); a model
    file given by path runs in one pass, as kokoro-onnx runs it."""

    sample_rate = SAMPLE_RATE

    def __init__(self, files: ModelFiles, threads: int | None = None, provider: str = "cpu",
                 windows: vocoder.Windows | None = None):
        """`provider`: cpu, cuda, coreml, or auto (see voice/providers.py);
        `windows`: how `stream(windowed=True)` cuts the vocoding, None for one pass."""
        import onnxruntime as ort
        from kokoro_onnx import Kokoro

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL

        def probe(session) -> float:
            return _probe_seconds(Kokoro.from_session(session, str(files.voices)))

        self.files, self.windows = files, windows
        self.pace = Pace()  # how fast chunks are made here, measured as they are (planner.py)
        self._run_options = memory.shrinking_run_options()
        self._vocoder = None
        if files.front and files.vocoder:
            self.provider = providers.choose(files.model, provider, options, probe)
            front = providers.open_session(files.front, self.provider, options)
            # Windows come in many lengths: a memory pattern planned for one
            # shape is only kept growing by the next (onnxruntime issue #11118).
            options.enable_mem_pattern = False
            self._vocoder = vocoder.Vocoder(
                providers.open_session(files.vocoder, self.provider, options), self._run_options)
        else:
            front, self.provider = providers.session_for(files.model, provider, options, probe)
        # The front takes the model's inputs: kokoro-onnx's tokenizer and voices fit it.
        self._kokoro = Kokoro.from_session(front, str(files.voices))
        self._voice_names = voice_names(files.voices)

    @property
    def vocoder(self) -> vocoder.Vocoder | None:
        """The vocoder half, when the model is split."""
        return self._vocoder

    def tokens(self, phonemes: str) -> list[int]:
        """The model's token ids of `phonemes`; what is not in its vocabulary is dropped."""
        return self._kokoro.tokenizer.tokenize(phonemes)

    def voices(self) -> list[str]:
        return sorted(self._voice_names)

    def style(self, spec: str) -> np.ndarray:
        """The style array of a voice name or a blend `a:0.6,b:0.4` (weights normalized)."""
        parts = parse_voice(spec, self._voice_names)
        total = sum(w for _, w in parts)
        styles = [self._kokoro.get_voice_style(name) * (w / total) for name, w in parts]
        return np.sum(styles, axis=0).astype(np.float32)

    def synthesize(self, phonemes: str, style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Audio for at most MODEL_MAX_PHONEMES phonemes, silence trimmed at both ends."""
        return np.concatenate([p.audio for p in self.stream(phonemes, style, speed)])

    def stream(self, phonemes: str, style: np.ndarray, speed: float = 1.0,
               windowed: bool = False, words: Sequence[tuple[int, int]] = ()
               ) -> Iterator[Voiced]:
        """The audio of `synthesize`, in pieces as the vocoder makes them: in
        this engine's windows when `windowed` (and the model is split), else whole.
        `words`: spans [a, b) of `phonemes`, timed in the pieces where they
        start (the split model only: one pass predicts no durations we can read)."""
        if len(phonemes) > MODEL_MAX_PHONEMES:
            raise ValueError(f"{len(phonemes)} phonemes exceed the model's {MODEL_MAX_PHONEMES}")
        if self._vocoder is None:
            yield Voiced(self._one_pass(phonemes, style, speed))
            return
        front = self.front(phonemes, style, speed)
        lo, _ = vocoder.kept_frames(front.durations)  # the audio starts at this frame
        frames = self.word_frames(phonemes, words, front.durations)
        due = [(i, (f[0] - lo) * FRAME, (f[1] - lo) * FRAME) for i, f in enumerate(frames) if f]
        windows = self.windows if windowed else None
        between = vocoder.joins(front, frames) if windows and words else None
        pieces = self._vocoder.run(front, windows, between)
        for audio, at, last in vocoder.trimmed(pieces):
            # The durations run past the trimmed tail (a final word's end by
            # ~0.3 s): the last piece's words end, at the latest, with it.
            here = due if last else [w for w in due if w[1] < at + len(audio)]
            due = due[len(here):]
            end = len(audio) if last else None
            spans = [(i, _within(a - at, end), _within(b - at, end)) for i, a, b in here]
            yield Voiced(audio, tuple((i, a, timing.sound_end(audio, a, b) if b <= len(audio)
                                       else b) for i, a, b in spans))

    def word_frames(self, phonemes: str, words: Sequence[tuple[int, int]],
                    durations: np.ndarray) -> list[tuple[int, int] | None]:
        """The frames [a, b) each word span of `phonemes` is heard in (timing.word_frames)."""
        return timing.word_frames(phonemes, words, self._kokoro.tokenizer.vocab, durations)

    def front(self, phonemes: str, style: np.ndarray, speed: float = 1.0) -> vocoder.FrontOutput:
        """The cheap half of the split model for one chunk: durations, features, source."""
        tokens = self.tokens(phonemes)
        if not tokens:
            raise ValueError(f"no phoneme of {phonemes!r} is in the model's vocabulary")
        row = style[min(len(tokens), len(style)) - 1].astype(np.float32)  # as kokoro-onnx picks
        durations, features, source = self._kokoro.sess.run(None, {
            "tokens": np.array([[0, *tokens, 0]], np.int64), "style": row,
            "speed": np.array([speed], np.float32)}, self._run_options)
        return vocoder.FrontOutput(durations.ravel().astype(np.int64), features, source, row)

    def _one_pass(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        audio, _ = self._kokoro.create(
            phonemes,
            voice=style,
            speed=speed,
            is_phonemes=True,
            trim=True,
            sentence_pause=SENTENCE_PAUSE,
            clause_pause=CLAUSE_PAUSE,
        )
        return np.asarray(audio, dtype=np.float32)


def _within(sample: int, end: int | None) -> int:
    return max(0, sample if end is None else min(sample, end))


def _probe_seconds(kokoro) -> float:
    """A timed synthesis of PROBE_PHONEMES after one that warms the session up
    (the real work reuses the session, so that one is not lost)."""
    style = kokoro.get_voice_style(sorted(kokoro.get_voices())[0])
    kokoro.create(PROBE_PHONEMES, voice=style, is_phonemes=True)
    began = time.perf_counter()
    kokoro.create(PROBE_PHONEMES, voice=style, is_phonemes=True)
    return time.perf_counter() - began
