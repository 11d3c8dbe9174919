"""The int8 Kokoro model with its quantized ops run in float: same weights, no
activation quantization. It is the reference the int8 model's audio is compared
to, so quantization noise can be told apart from a real change in the speech.

onnxruntime's dynamic quantization (kokoro-v1.0.int8.onnx) leaves these patterns,
each replaced by its float op on weights dequantized as (w - zero_point) * scale:

    DynamicQuantizeLinear(x) -> MatMulInteger(xq, Wq, xzp, wzp) -> Cast -> Mul(x_scale * w_scale)
        => MatMul(x, W)                       (W per column: zero point and scale [N])
    DynamicQuantizeLinear(x) -> ConvInteger(xq, Wq, ...) [-> Add(int32 bias)] -> Cast -> Mul
        => Conv(x, W[, bias]) same attributes (the int8 graph quantizes the float bias
           initializer at run time, with the activation's scale; Conv takes it as is)
    DynamicQuantizeLSTM(X, Wq[dir, in, 4h], Rq[dir, h, 4h], B, ..., scales, zero points)
        => LSTM(X, W[dir, 4h, in], R[dir, 4h, h], B, ...)   (scale per direction)
    Gather(Wq, idx) -> DequantizeLinear(scale, zp)
        => Gather(W, idx)

    python tests/quality/float_model.py     # verify and calibrate (a few minutes on 2 cores)
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def dequantize(int8_path: str | os.PathLike, out_path: str | os.PathLike,
               int8_durations: bool = False) -> None:
    """Write to `out_path` the model of `int8_path` with every quantized op in float.

    With `int8_durations`, the phoneme durations (the input of the one Round node)
    are still computed by the int8 nodes, so the audio is sample-aligned with the
    int8 model's: float durations round differently for a few phonemes a line,
    which shifts everything after them and changes the length."""
    model = onnx.load(str(int8_path))
    graph = model.graph
    durations = _int8_durations(graph) if int8_durations else None
    inits = {t.name: t for t in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = defaultdict(list)
    for n in graph.node:
        for i in n.input:
            consumers[i].append(n)
    arrays: dict[str, np.ndarray] = {}
    added: dict[tuple, str] = {}

    def array(name: str) -> np.ndarray:
        if name not in arrays:
            arrays[name] = numpy_helper.to_array(inits[name])
        return arrays[name]

    def only_consumer(name: str, op: str):
        (node,) = consumers[name]
        assert node.op_type == op, (name, node.op_type, op)
        return node

    def float_weight(w: str, zp: str, scale: str, axis: int, layout=None) -> str:
        """An initializer (w - zp) * scale, with zp and scale broadcast along `axis`
        when they are per channel, then transposed by `layout`."""
        key = (w, zp, scale, layout)
        if key not in added:
            q, z, s = array(w).astype(np.float32), array(zp).astype(np.float32), array(scale)
            shape = [1] * q.ndim
            if z.size > 1 or s.size > 1:
                shape[axis] = -1
            f = (q - z.reshape(shape if z.size > 1 else ())) * s.reshape(
                shape if s.size > 1 else ())
            if layout is not None:
                f = f.transpose(layout)
            name = f"{w}_float" if layout is None else f"{w}_float_{''.join(map(str, layout))}"
            f = np.ascontiguousarray(f, np.float32)
            graph.initializer.append(numpy_helper.from_array(f, name))
            added[key] = name
        return added[key]

    def weight_scale(scales_mul: str, x_scale: str) -> str:
        """The weight's scale: the initializer beside x_scale in x_scale * w_scale."""
        node = producer[scales_mul]
        assert node.op_type == "Mul", node.op_type
        (other,) = [i for i in node.input if i != x_scale]
        assert other in inits, other
        return other

    new_nodes, dropped = {}, set()  # new node in place of the node it follows; nodes replaced
    for node in graph.node:
        if node.op_type in ("MatMulInteger", "ConvInteger"):
            xq, w, _xzp, wzp = node.input
            quantize = producer[xq]
            assert quantize.op_type == "DynamicQuantizeLinear" and quantize.output[0] == xq
            x, x_scale = quantize.input[0], quantize.output[1]
            chain = [node]
            bias = None
            nxt = consumers[node.output[0]]
            if len(nxt) == 1 and nxt[0].op_type == "Add":  # ConvInteger's int32 bias
                add = nxt[0]
                chain.append(add)
                # bias_quantized = Cast(Floor(Div(bias, x_scale * w_scale))), reshaped
                q = producer[next(i for i in add.input if i != node.output[0])]
                while q.op_type != "Div":
                    assert q.op_type in ("Reshape", "Cast", "Floor"), q.op_type
                    q = producer[q.input[0]]
                bias = q.input[0]
                assert bias in inits
            cast = only_consumer(chain[-1].output[0], "Cast")
            mul = only_consumer(cast.output[0], "Mul")
            chain += [cast, mul]
            scales = next(i for i in mul.input if i != cast.output[0])
            w_scale = weight_scale(scales, x_scale)
            if node.op_type == "MatMulInteger":  # W [K, N], per column
                new = helper.make_node("MatMul", [x, float_weight(w, wzp, w_scale, 1)],
                                       [mul.output[0]], name=node.name + "_float")
            else:  # W [M, C/group, k...], per output channel
                inputs = [x, float_weight(w, wzp, w_scale, 0)] + ([bias] if bias else [])
                new = helper.make_node("Conv", inputs, [mul.output[0]], name=node.name + "_float")
                new.attribute.extend(node.attribute)
            new_nodes[mul.name] = new
            dropped.update(n.name for n in chain)
        elif node.op_type == "DynamicQuantizeLSTM":
            x, w, r, *rest = node.input[:8]
            w_scale, w_zp, r_scale, r_zp = node.input[8:12]
            inputs = [x, float_weight(w, w_zp, w_scale, 0, (0, 2, 1)),
                      float_weight(r, r_zp, r_scale, 0, (0, 2, 1)), *rest]
            while inputs and not inputs[-1]:
                inputs.pop()
            new = helper.make_node("LSTM", inputs, list(node.output), name=node.name + "_float")
            new.attribute.extend(node.attribute)
            new_nodes[node.name] = new
            dropped.add(node.name)
        elif node.op_type == "DequantizeLinear":
            gather = producer[node.input[0]]
            assert gather.op_type == "Gather" and gather.input[0] in inits, gather.op_type
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            zp = node.input[2] if len(node.input) > 2 else None
            assert zp is not None
            table = float_weight(gather.input[0], zp, node.input[1], axis)
            new = helper.make_node("Gather", [table, gather.input[1]], [node.output[0]],
                                   name=gather.name + "_float")
            new.attribute.extend(gather.attribute)
            new_nodes[node.name] = new
            dropped.update([node.name, gather.name])

    nodes = []
    for node in graph.node:
        if node.name not in dropped:
            nodes.append(node)
        if node.name in new_nodes:
            nodes.append(new_nodes[node.name])
    # The replacement sits where the last node of its chain was, so the order stays topological.
    if durations is not None:
        spliced, durations_out = durations
        (round_node,) = [n for n in nodes if n.op_type == "Round"]
        at = nodes.index(round_node)
        nodes[at:at] = spliced
        round_node.input[0] = durations_out
    nodes = _live(nodes, [o.name for o in graph.output])
    del graph.node[:]
    graph.node.extend(nodes)

    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    known = used | {o for n in graph.node for o in n.output}
    keep_info = [v for v in graph.value_info if v.name in known]
    del graph.value_info[:]
    graph.value_info.extend(keep_info)

    left = {n.op_type for n in graph.node if not n.name.startswith("int8_durations/")} & {
        "MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM", "DynamicQuantizeLinear",
        "DequantizeLinear", "QuantizeLinear"}
    assert not left, f"quantized ops left: {left}"
    onnx.save(model, str(out_path))


def _int8_durations(graph) -> tuple[list, str]:
    """Copies of the int8 nodes the durations (Round's input) depend on, their
    tensors renamed apart, and the name of their durations output."""
    (round_node,) = [n for n in graph.node if n.op_type == "Round"]
    target = round_node.input[0]
    nodes = _live(list(graph.node), [target])
    inner = {o for n in nodes for o in n.output if o}
    rename = lambda name: f"int8_durations/{name}" if name in inner else name  # noqa: E731
    copies = []
    for node in nodes:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = f"int8_durations/{node.name}"
        copy.input[:] = [rename(i) for i in node.input]
        copy.output[:] = [rename(o) for o in node.output]
        copies.append(copy)
    return copies, rename(target)


def _live(nodes: list, outputs: list[str]) -> list:
    """`nodes` without those none of `outputs` depends on, order kept."""
    needed = set(outputs)
    live = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output if o):
            live.append(node)
            needed.update(i for i in node.input if i)
    return live[::-1]


def float_model_path(int8_path: str | os.PathLike | None = None,
                     int8_durations: bool = False) -> Path:
    """The float model of `int8_path` (default: the installed model), built once
    into data_dir()/derived-test/, keyed by the int8 file's sha256 (see dequantize
    for `int8_durations`)."""
    from kokoro_pipe.voice import files

    if int8_path is None:
        int8_path = files.resolve(None, None).model
    int8_path = Path(int8_path)
    kind = "float-int8-durations" if int8_durations else "float"
    out = files.data_dir() / "derived-test" / f"{files.sha256_file(int8_path)[:16]}.{kind}.onnx"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.part")
        os.close(fd)
        try:
            dequantize(int8_path, tmp, int8_durations)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return out


# ---- running both models --------------------------------------------------------


def session(path: str | os.PathLike, threads: int = 2):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, tokens: list[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
    """One pass of the model: the audio for `tokens` (without the pad tokens)."""
    inputs = {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
              "style": np.asarray(style, dtype=np.float32).reshape(1, -1),
              "speed": np.array([speed], dtype=np.float32)}
    return np.asarray(sess.run(None, inputs)[0], dtype=np.float32).ravel()


def calibration(texts: list[str] | None = None, voice: str = "af_heart",
                blend_with: str | None = None, weight: float = 0.1,
                int8_path: str | os.PathLike | None = None) -> list[float]:
    """distance(int8, float) of one pass over each corpus line (default: all of
    tests/quality/corpus.tsv), on the trimmed int8 audio and the same sample range
    of the float audio: the spread of quantization noise alone, to set thresholds by.
    The float model takes the int8 model's durations, so the two are sample-aligned.

    With `blend_with`, the int8 audio is compared instead with the int8 audio of a
    voice blended `weight` towards `blend_with` in its timbre half (style[:, :128],
    the decoder's); the prosody half is kept so durations, hence alignment, match:
    a small but audible change, for scale."""
    from kokoro_onnx import Kokoro
    from kokoro_onnx.trim import trim

    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from quality.spectral import distance

    if texts is None:
        from quality.conftest import load_corpus

        texts = [item.text for item in load_corpus()]
    paths = files.resolve(None, None)
    int8_path = Path(int8_path or paths.model)
    kokoro = Kokoro(str(int8_path), str(paths.voices))
    g2p = G2P("en-us")
    styles = kokoro.get_voice_style(voice)
    if blend_with is None:
        other = session(float_model_path(int8_path, int8_durations=True))
        other_styles = styles
    else:
        other = kokoro.sess
        other_styles = styles.copy()
        other_styles[..., :128] = ((1 - weight) * styles[..., :128]
                                   + weight * kokoro.get_voice_style(blend_with)[..., :128])
    distances = []
    for text in texts:
        tokens = kokoro.tokenizer.tokenize(g2p(text))
        a = run(kokoro.sess, tokens, styles[len(tokens) - 1])
        b = run(other, tokens, other_styles[len(tokens) - 1])
        assert len(a) == len(b), (text, len(a), len(b))
        _, (start, end) = trim(a)
        distances.append(distance(a[start:end], b[start:end]))
    return distances


def main() -> None:
    import time

    from kokoro_onnx import Kokoro
    from kokoro_onnx.trim import trim

    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from quality.spectral import distance

    paths = files.resolve(None, None)
    for aligned in (False, True):
        t = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            dequantize(paths.model, Path(tmp) / "f.onnx", aligned)
        print(f"dequantize(int8_durations={aligned}): {time.monotonic() - t:.1f}s")

    kokoro = Kokoro(str(paths.model), str(paths.voices))
    text = "The quick brown fox jumps over the lazy dog."
    tokens = kokoro.tokenizer.tokenize(G2P("en-us")(text))
    n = len(tokens) - 1
    heart, adam = kokoro.get_voice_style("af_heart")[n], kokoro.get_voice_style("am_adam")[n]
    timbre = heart.copy()
    timbre[..., :128] = 0.9 * heart[..., :128] + 0.1 * adam[..., :128]
    a = run(kokoro.sess, tokens, heart)
    head, tail = trim(a)[1]
    print(f"{text!r}, af_heart: int8 {len(a)} samples")
    others = {"int8 again": run(kokoro.sess, tokens, heart),
              "float": run(session(float_model_path()), tokens, heart),
              "float, int8 durations": run(session(float_model_path(int8_durations=True)),
                                           tokens, heart),
              "am_adam": run(kokoro.sess, tokens, adam),
              "0.9 af_heart + 0.1 am_adam": run(kokoro.sess, tokens, 0.9 * heart + 0.1 * adam),
              "same, timbre half only": run(kokoro.sess, tokens, timbre)}
    for name, b in others.items():
        same = len(b) == len(a)  # else both trimmed on their own, then truncated
        d = distance(a[head:tail], b[head:tail]) if same else distance(trim(a)[0], trim(b)[0])
        print(f"  vs {name:28} {len(b):6} samples  distance {d:.3f}")

    for blend_with in (None, "am_adam"):
        t = time.monotonic()
        d = np.array(calibration(blend_with=blend_with))
        print(f"calibration({blend_with=}): {len(d)} lines in {time.monotonic() - t:.0f}s: "
              f"min {d.min():.3f} median {np.median(d):.3f} p90 {np.percentile(d, 90):.3f} "
              f"max {d.max():.3f}")


if __name__ == "__main__":
    main()
