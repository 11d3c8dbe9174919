"""Why vocoder windows sound unlike one pass: the generator's instance norms.

The vocoder's 44 AdaIN layers each normalize every channel by its mean and
variance over the whole time axis. Here the installed vocoder is rewritten so
that each norm uses statistics handed in from outside (or its own, per norm)
and returns its own; the corpus is then vocoded in the windows of
vocoder_distance.py (16/16/16 planned at RTF 0.35) with each window given:

  own          its own statistics: what --vocoder-windows does today
  one pass     the whole chunk's, taken from a one-pass run: an oracle, as they
               need the whole chunk vocoded first
  stage 2      the whole chunk's in the last upsampling stage's 22 norms only
  other lines  the average of four other corpus lines' whole-chunk statistics
  half         those of every other 8 frames of the chunk, vocoded together

and the distance from one pass printed next to int8 vs float (the calibration):

    python tests/quality/window_statistics.py [LINES]   # 12 lines: ~10 minutes

`--judged` judges windows between words by ear instead (loudness, DNSMOS),
given their own statistics, a voice's average, or the one-pass ones; and a
head of the line with a voice's average followed by one pass's audio:

    python tests/quality/window_statistics.py --judged [LINES [CALIBRATION]]  # 10 4: ~9 min
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kokoro_pipe.voice.split_model import FEATURES, FRAME, SOURCE
from kokoro_pipe.voice.vocoder import FrontOutput, Windows, joins, kept_frames, spans
from quality.float_model import float_model_path, run, session
from quality.spectral import distance

# The first upsampling stage's norms, in the order the rewrite numbers them.
STAGE_1 = frozenset([*range(0, 12, 2), *range(12, 28)])
WINDOWS = Windows(cost=0.35)
# A head this share of the chunk's frames long plays for as long as one pass
# of the whole chunk takes at RTF 0.35 (with no safety margin).
HEAD = 0.35


def with_outside_statistics(vocoder: Path, out: Path) -> int:
    """Write `vocoder` with inputs use_k, mean_k, var_k and outputs own_mean_k,
    own_var_k for each norm k: a norm normalizes with (mean_k, var_k) where
    use_k is 1, with its own statistics where it is 0. Returns the norm count."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(vocoder))
    graph = model.graph
    users = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            users[name].append(node)
    new, k = [], 0
    for mean in [n for n in graph.node if n.op_type == "ReduceMean"]:
        # x - mean(x) -> squared -> mean: the norm's centring and its variance
        (sub,) = users[mean.output[0]] if len(users[mean.output[0]]) == 1 else (None,)
        if sub is None or sub.op_type != "Sub" or sub.input[0] != mean.input[0]:
            continue
        square = next(n for n in users[sub.output[0]] if n.op_type in ("Mul", "Pow"))
        var = next(n for n in users[square.output[0]] if n.op_type == "ReduceMean")
        for node in users[var.output[0]]:
            node.input[:] = [f"v_{k}" if i == var.output[0] else i for i in node.input]
        for node in users[sub.output[0]]:
            if node is not square:
                node.input[:] = [f"d_{k}" if i == sub.output[0] else i for i in node.input]
        graph.input.append(helper.make_tensor_value_info(f"use_{k}", TensorProto.BOOL, []))
        for name, source in ((f"mean_{k}", mean), (f"var_{k}", var)):
            graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                             [1, None, 1]))
            graph.output.append(helper.make_tensor_value_info(f"own_{name}", TensorProto.FLOAT,
                                                              [1, None, 1]))
            new.append(helper.make_node("Identity", [source.output[0]], [f"own_{name}"]))
        new += [helper.make_node("Where", [f"use_{k}", f"mean_{k}", mean.output[0]], [f"m_{k}"]),
                helper.make_node("Where", [f"use_{k}", f"var_{k}", var.output[0]], [f"v_{k}"]),
                helper.make_node("Sub", [mean.input[0], f"m_{k}"], [f"d_{k}"])]
        k += 1
    graph.node.extend(new)
    onnx.save(_sorted(model), str(out))
    return k


def _sorted(model):
    """The graph's nodes in an order where each follows what it reads."""
    graph = model.graph
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, order = list(graph.node), []
    while pending:
        later = []
        for n in pending:
            if set(n.input) <= ready:
                order.append(n)
                ready.update(n.output)
            else:
                later.append(n)
        if len(later) == len(pending):
            raise ValueError("the rewritten graph has a cycle")
        pending = later
    del graph.node[:]
    graph.node.extend(order)
    return model


class StatisticsVocoder:
    def __init__(self, path: Path, norms: int):
        self.session, self.norms = session(path), norms
        self.outputs = [o.name for o in self.session.get_outputs()]

    def decode(self, front: FrontOutput, a: int, b: int, given: dict | None = None):
        """(audio of frames [a, b), {k: (mean, var)} of its own); `given`
        statistics replace a norm's own where present."""
        empty = np.zeros((1, 1, 1), np.float32)
        feed = {FEATURES: front.features[:, :, 2 * a:2 * b], "style": front.style,
                SOURCE: front.source[:, FRAME * a:FRAME * b]}
        for k in range(self.norms):
            mean, var = (given or {}).get(k, (empty, empty))
            feed |= {f"use_{k}": np.array(k in (given or {})), f"mean_{k}": mean,
                     f"var_{k}": var}
        out = dict(zip(self.outputs, self.session.run(None, feed), strict=True))
        own = {k: (out[f"own_mean_{k}"], out[f"own_var_{k}"]) for k in range(self.norms)}
        return out["audio"].ravel(), own

    def windowed(self, front: FrontOutput, given: dict | None,
                 between: list[int] | None = None) -> np.ndarray:
        lo, hi = kept_frames(front.durations)
        pieces = []
        for s in spans(lo, hi, WINDOWS, WINDOWS.cost, between):
            audio, _ = self.decode(front, s.decode_from, s.decode_to, given)
            skip = FRAME * (s.start - s.decode_from)
            pieces.append(audio[skip:skip + FRAME * (s.end - s.start)])
        return np.concatenate(pieces)

    def head(self, front: FrontOutput, given: dict, between: list[int]) -> np.ndarray:
        """The audio of the chunk's first words up to the first join at or after
        HEAD of its frames, decoded with `given` statistics and look-ahead: what
        could play while one pass of the whole chunk is made for the rest."""
        lo, hi = kept_frames(front.durations)
        end = head_end(front, between)
        audio, _ = self.decode(front, lo, min(hi, end + WINDOWS.lookahead), given)
        return audio[:FRAME * (end - lo)]

    def every_other(self, front: FrontOutput, block: int = 8) -> dict:
        """The statistics of every other `block` frames of the chunk, vocoded together."""
        lo, hi = kept_frames(front.durations)
        frames = np.concatenate([np.arange(s, min(hi, s + block))
                                 for s in range(lo, hi, 2 * block)])
        half = FrontOutput(front.durations, front.features[:, :, np.stack(
            [2 * frames, 2 * frames + 1], axis=1).ravel()],
            front.source[:, (frames[:, None] * FRAME + np.arange(FRAME)).ravel()],
            front.style)
        return self.decode(half, 0, len(frames))[1]


def head_end(front: FrontOutput, between: list[int]) -> int:
    """The frame where a head ends: the first join at or after HEAD of the kept frames."""
    lo, hi = kept_frames(front.durations)
    return next((j for j in between if j >= lo + HEAD * (hi - lo)), hi)


def _db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12))


def _average(statistics: list[dict]) -> dict:
    """Per norm: the mean of the means, and of the variances about that mean."""
    out = {}
    for k in statistics[0]:
        means = np.stack([s[k][0] for s in statistics])
        mean = means.mean(axis=0)
        var = np.mean([s[k][1] + (m - mean) ** 2 for s, m in zip(statistics, means,
                                                                 strict=True)], axis=0)
        out[k] = (mean, var)
    return out


def main(lines: int = 12) -> None:
    from kokoro_onnx.trim import trim

    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine
    from quality.conftest import load_corpus

    paths = files.resolve()
    engine = Engine(paths)
    assert paths.vocoder is not None and engine.vocoder is not None, "no split model"
    styles, g2p = engine.style("af_heart"), G2P("en-us")
    int8, floats = session(paths.model), session(float_model_path(int8_durations=True))
    texts = [item.text for item in load_corpus()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocoder.statistics.onnx"
        vocoder = StatisticsVocoder(path, with_outside_statistics(paths.vocoder, path))
        fronts = {t: engine.front(g2p(t), styles) for t in texts[1::8][:4]}
        others = _average([vocoder.decode(f, *kept_frames(f.durations))[1]
                           for f in fronts.values()])
        result = defaultdict(list)
        for text in texts[::4][:lines]:
            phonemes = g2p(text)
            front = engine.front(phonemes, styles)
            lo, hi = kept_frames(front.durations)
            whole, statistics = vocoder.decode(front, lo, hi)
            tokens = engine.tokens(phonemes)
            one_pass = np.zeros(FRAME * lo + len(whole), np.float32)
            one_pass[FRAME * lo:] = whole
            _, (start, end) = trim(one_pass)
            made = {
                "own": vocoder.windowed(front, None),
                "one pass": vocoder.windowed(front, statistics),
                "stage 2": vocoder.windowed(front, {k: v for k, v in statistics.items()
                                                    if k not in STAGE_1}),
                "other lines": vocoder.windowed(front, others),
                "half": vocoder.windowed(front, vocoder.every_other(front)),
            }
            for name, audio in made.items():
                placed = np.zeros_like(one_pass)
                placed[FRAME * lo:FRAME * lo + len(audio)] = audio
                result[name].append(distance(one_pass[start:end], placed[start:end]))
            # int8 vs float, both in one pass of the whole model (vocoder_distance.py)
            reference = run(int8, tokens, styles[len(tokens) - 1])
            _, (start, end) = trim(reference)
            floated = run(floats, tokens, styles[len(tokens) - 1])
            result["calibration"].append(distance(reference[start:end], floated[start:end]))
    print(f"{'':12} {'median':>7} {'p90':>7} {'max':>7}   dB from one pass, {lines} lines")
    for name, d in result.items():
        print(f"{name:12} {np.median(d):7.2f} {np.percentile(d, 90):7.2f} {np.max(d):7.2f}")


def judged(lines: int = 10, calibration: int = 4) -> None:
    """Windows that meet between words (as --vocoder-windows cuts them), given
    their own statistics, a voice's average over `calibration` other lines
    (the last of bench/notification_lines.txt), or the one-pass ones (the
    oracle), judged as bench/window_judges.py judges them: whole-line loudness
    and DNSMOS, each minus one pass's, over `lines` lines in each of its voices.
    Also a head (`StatisticsVocoder.head`) with the voice's average, the rest
    from one pass: exact statistics for all but the head, at the cost of the
    whole chunk vocoded before the head has played."""
    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine
    from quality import listener

    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    from window_judges import LINES, VOICES

    texts = LINES.read_text().splitlines()
    paths = files.resolve()
    engine = Engine(paths)
    result, heads = defaultdict(list), []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocoder.statistics.onnx"
        vocoder = StatisticsVocoder(path, with_outside_statistics(paths.vocoder, path))
        for voice in VOICES:
            g2p, style = G2P("en-gb" if voice[0] == "b" else "en-us"), engine.style(voice)
            average = _average([vocoder.decode(f, *kept_frames(f.durations))[1] for f in
                                (engine.front(g2p(t), style) for t in texts[-calibration:])])
            for text in texts[:lines]:
                said = g2p.words(text)
                front = engine.front(said.phonemes, style)
                between = joins(front, engine.word_frames(
                    said.phonemes, [w.phonemes for w in said.words], front.durations))
                one_pass, statistics = vocoder.decode(front, *kept_frames(front.durations))
                loudness, quality = listener.lufs(one_pass), listener.dnsmos(one_pass)
                made = {name: vocoder.windowed(front, given, between) for name, given in
                        (("own", None), ("voice average", average), ("one pass", statistics))}
                head = vocoder.head(front, average, between)
                made["head, one pass"] = np.concatenate([head, one_pass[len(head):]])
                heads.append(_db(head) - _db(one_pass[:len(head)]))
                for name, audio in made.items():
                    result[name].append((listener.lufs(audio) - loudness,
                                         listener.dnsmos(audio) - quality))
            print(f"{voice} done", file=sys.stderr)
    print(f"{'statistics':14} {'LU median':>9} {'p95 |LU|':>8} {'> 0.5 LU':>8} {'DNSMOS':>7}"
          f"   minus one pass, {lines} lines x {len(VOICES)} voices")
    for name, rows in result.items():
        lu, mos = np.array(rows).T
        print(f"{name:14} {np.median(lu):+9.2f} {np.percentile(np.abs(lu), 95):8.2f} "
              f"{np.mean(np.abs(lu) > 0.5):8.0%} {np.mean(mos):+7.3f}")
    print(f"the head's level - one pass's there: median {np.median(heads):+.2f} dB, "
          f"p95 |dB| {np.percentile(np.abs(heads), 95):.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--judged"]:
        judged(*map(int, sys.argv[2:]))
    else:
        main(*map(int, sys.argv[1:]))
