"""WER of kk-synth against bare kokoro-onnx (`Kokoro.create`, espeak-ng G2P) and
kk-synth --no-normalize (misaki alone), on the quality corpus, same judge.

    python tests/quality/compare.py        # a few minutes on 2 cores
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kokoro_pipe.voice import files as models
from quality import whisper_model
from quality.conftest import load_corpus, speak_lines, transcribe
from quality.scoring import wer


def kk_synth(texts: list[str], work: Path, *options: str) -> list[np.ndarray]:
    return [np.concatenate(said.blocks) for said in speak_lines(texts, work, *options)]


def bare(texts: list[str]) -> list[np.ndarray]:
    from kokoro_onnx import Kokoro

    paths = models.resolve(None, None)
    kokoro = Kokoro(str(paths.model), str(paths.voices))
    return [kokoro.create(t, voice="af_heart", speed=1.0, lang="en-us")[0] for t in texts]


def main() -> None:
    judge = whisper_model.load()
    corpus = load_corpus()
    texts = [item.text for item in corpus]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        systems = {"kk-synth": kk_synth(texts, work),
                   "kk-synth --no-normalize": kk_synth(texts, work, "--no-normalize"),
                   "kokoro_onnx.Kokoro.create (espeak-ng)": bare(texts)}
        for name, audio in systems.items():
            heard = [transcribe(judge, a, work / "u.wav") for a in audio]
            rate = wer([(item.spoken, h) for item, h in zip(corpus, heard, strict=True)])
            print(f"{rate:6.1%}  {name}")


if __name__ == "__main__":
    main()
