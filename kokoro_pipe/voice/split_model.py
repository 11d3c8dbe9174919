"""The model cut in two at install time, so the vocoder runs only over the
frames that are kept, in one pass or in windows.

Kokoro's graph is a cheap front (text encoder, duration and pitch predictors,
the frame-rate decoder blocks, the harmonic source) and an expensive vocoder
(the upsampling generator and its inverse STFT: ~93 % of the time). Cut there:

  front:   tokens, style, speed -> durations (frames per token), features
           (1, 512, 2T), source (1, 600T, 1)
  vocoder: features, style, source -> audio (600T samples)

The front always runs on the whole chunk, so its own normalizations see the
whole chunk and the harmonic source's phase (a cumulative sum of F0) runs on
unbroken; a slice of the vocoder's inputs is then any window of frames.

Derived with `onnx` (install time only) from the verified model file; the
join is checked against the one-pass model before the files are kept.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

# Tensor names in the kokoro-onnx v1.0 export (int8, fp16 and fp32 share them).
DURATIONS = "/encoder/Cast_output_0"
FEATURES = "/decoder/decoder/decode.3/Div_4_output_0"
SOURCE = "/decoder/decoder/generator/m_source/l_tanh/Tanh_output_0"
PARTS = {
    "front": (["tokens", "style", "speed"], [DURATIONS, FEATURES, SOURCE]),
    "vocoder": ([FEATURES, "style", SOURCE], ["audio"]),
}
FRAME = 600  # samples per duration frame at 24 kHz
# The join may differ from the one-pass model by float reassociation only.
JOIN_TOLERANCE = 1e-4
PROBE = "ðə bˈɪld fˈɪnɪʃt."


class SplitError(RuntimeError):
    pass


def part_paths(directory: Path, model: Path) -> dict[str, Path]:
    return {name: directory / f"{model.stem}.{name}.onnx" for name in PARTS}


def derive(model: Path, directory: Path, voices: Path) -> dict[str, Path]:
    """Write the front and the vocoder of `model` into `directory`, checked.

    Raises SplitError when the graph lacks the cut's tensors (another export)
    or when the two parts joined do not give the one-pass model's audio."""
    import onnx
    import onnx.utils

    graph = onnx.load(str(model))
    produced = {out for node in graph.graph.node for out in node.output}
    missing = [t for t in (DURATIONS, FEATURES, SOURCE) if t not in produced]
    if missing:
        raise SplitError(f"{model.name} has no tensor {missing[0]}: not the Kokoro v1.0 export")
    extractor = onnx.utils.Extractor(graph)
    paths = part_paths(directory, model)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".split-") as tmp:
        staged = {}
        for name, (inputs, outputs) in PARTS.items():
            staged[name] = Path(tmp) / paths[name].name
            part = extractor.extract_model(inputs, outputs)
            part.metadata_props.extend(graph.metadata_props)  # the vocabulary, if embedded
            onnx.save(part, str(staged[name]))
        error = join_error(model, staged["front"], staged["vocoder"], voices)
        if not error <= JOIN_TOLERANCE:
            raise SplitError(f"the split model differs from {model.name} by {error:g}")
        for name in PARTS:
            staged[name].replace(paths[name])
    return paths


def join_error(model: Path, front: Path, vocoder: Path, voices: Path) -> float:
    """Largest sample difference between the one-pass model and front+vocoder."""
    import onnxruntime as ort
    from kokoro_onnx import Kokoro

    def session(path: Path):
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    kokoro = Kokoro.from_session(session(model), str(voices))
    tokens = kokoro.tokenizer.tokenize(PROBE)
    style = kokoro.get_voice_style(sorted(kokoro.get_voices())[0])[len(tokens) - 1]
    feed = {"tokens": np.array([[0, *tokens, 0]], np.int64),
            "style": style.astype(np.float32), "speed": np.array([1.0], np.float32)}
    whole = kokoro.sess.run(None, feed)[0].ravel()
    _, features, source = session(front).run(None, feed)
    joined = session(vocoder).run(None, {FEATURES: features, "style": feed["style"],
                                         SOURCE: source})[0].ravel()
    if joined.shape != whole.shape:
        return float("inf")
    return float(np.max(np.abs(joined - whole)))
