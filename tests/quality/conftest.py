"""Session fixtures of the quality suite: the corpus, spoken once by a real
kk-synth subprocess, and transcribed once by the independent ASR judge."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import command

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.framing import Audio, End, WordMark, read_stream
from quality import whisper_model

CORPUS = Path(__file__).with_name("corpus.tsv")


@dataclass(frozen=True)
class Item:
    rule: str
    text: str  # what kk-synth reads
    spoken: str  # what a listener should hear
    key: str | None  # a word the scored transcript must hold


@dataclass
class Said:
    blocks: list[np.ndarray]  # as kk-synth wrote them: one per chunk (pause before it included)
    marks: list[WordMark]  # its word marks


@dataclass
class Spoken:
    item: Item
    blocks: list[np.ndarray]
    marks: list[WordMark]

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.blocks)


def load_corpus() -> list[Item]:
    items = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        rule, text, spoken, key = line.split("\t")
        items.append(Item(rule, text.replace("\\x1b", "\x1b"), spoken, None if key == "-" else key))
    return items


@pytest.fixture(scope="session")
def corpus() -> list[Item]:
    return load_corpus()


def speak_lines(texts: list[str], work: Path, *options: str) -> list[Said]:
    """`texts` through one kk-synth process: for each line, the audio blocks
    and word marks it wrote."""
    lines = work / "corpus.txt"
    lines.write_text("".join(f"{t}\n" for t in texts), encoding="utf-8")
    stream = work / "corpus.kkp"
    subprocess.run([command("kk-synth"), str(lines), "-o", str(stream), *options],
                   check=True, timeout=900)
    utterances, blocks, marks = [], [], []
    with open(stream, "rb") as f:
        for event in read_stream(f, words=True):
            if isinstance(event, Audio):
                blocks.append(event.samples[:, 0])
            elif isinstance(event, WordMark):
                marks.append(event)
            elif isinstance(event, End):
                utterances.append(Said(blocks, marks))
                blocks, marks = [], []
    return utterances


@pytest.fixture(scope="session")
def spoken(corpus, tmp_path_factory) -> list[Spoken]:
    """Every corpus line spoken once, split back into utterances."""
    utterances = speak_lines([item.text for item in corpus], tmp_path_factory.mktemp("quality"))
    assert len(utterances) == len(corpus), "kk-synth spoke a different number of lines"
    return [Spoken(item, u.blocks, u.marks) for item, u in zip(corpus, utterances, strict=True)]


@pytest.fixture(scope="session")
def judge():
    return whisper_model.load()


def transcribe(judge, audio: np.ndarray, path: Path) -> str:
    sf.write(path, audio, SAMPLE_RATE)
    segments, _ = judge.transcribe(str(path), language="en", beam_size=1,
                                   condition_on_previous_text=False, vad_filter=False)
    return " ".join(s.text.strip() for s in segments)


@pytest.fixture(scope="session")
def transcripts(spoken, judge, tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("asr") / "utterance.wav"
    return [transcribe(judge, s.audio, path) for s in spoken]
