"""Issue 27's judges on every first-audio strategy, against one pass of the
whole sentence: WER (the quality suite's ASR judge), the steps at every join
(loudness and spectral centroid, 20 ms each side) against the same steps at
word boundaries inside one pass, whole-line loudness (LUFS), the noise floor
in the pauses, DNSMOS, and beside them the log-mel distance to one pass.

Strategies, each rendered by the Synthesizer as kk-synth renders a line:
  one-pass  the whole sentence in one chunk, vocoded in one pass
  shipped   the default: a first text chunk of at most 80 characters
  windows   the whole sentence in one chunk, vocoded in windows that meet
            between words (--vocoder-windows)
  phrase    a first text chunk cut before the first preposition or conjunction
            after three words (as RealtimeTTS and fastkokoro cut at phrases)

    python bench/window_judges.py [lines per voice] [--png DIR]   # ~35 min for 40
    python bench/window_judges.py --summary     # the table again, from the JSON
    python bench/window_judges.py --first-audio [N]   # windows' first piece, a head / create()
Writes bench/window_judges.json and prints the table of bench/README.md; with
--png, a picture per line: one pass above each strategy that cut it, joins marked.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from quality import listener  # noqa: E402
from quality.scoring import edit_distance, words  # noqa: E402

VOICES = ["af_heart", "am_michael", "bf_emma", "bm_george"]
LINES = HERE / "notification_lines.txt"
SOUND = 0.01  # -40 dBFS: a text chunk's speech, not its fading tail
PLAN_COST = 0.35  # windows planned for one vocoder speed, so every run cuts the same
PHRASE_WORDS = re.compile(
    r"\s(?=(?:on|in|at|to|from|with|for|by|of|and|but|so|because|while|after|before|"
    r"during|within|about|since|until)\s)")


def phrase_head(s: str, first_max: int) -> str:
    """The first chunk cut before a preposition or conjunction after 3 words."""
    for m in PHRASE_WORDS.finditer(s):
        if len(s[:m.start()].split()) >= 3:
            return s[:m.start()]
    return s


def render(synth, text: str, head) -> tuple[np.ndarray, list[tuple[int, int, int]], list[int]]:
    """(audio, joins, word starts). A join is where the sound of one vocoder
    run ends and the next one's begins (one sample between two windows, the
    silence put between two text chunks), and the index of the word after it.
    Word starts: the sample where each word begins."""
    from kokoro_pipe.voice import synthesis
    from kokoro_pipe.voice.seams import silent_head, silent_tail

    original, synthesis.Chunker = synthesis.Chunker, _text_chunker(head)
    try:
        pieces = list(synth.chunks(synthesis.Utterance(1, 1, text)))
    finally:
        synthesis.Chunker = original
    joins, starts, at = [], [], 0
    windowed = synth.engine.windows is not None
    for i, piece in enumerate(pieces):
        if i and windowed:
            joins.append((at, at, len(starts)))
        elif i:  # from the last speech sound before to the first after (-40 dBFS)
            before, after = pieces[i - 1].audio, piece.audio
            joins.append((at - silent_tail(before, SOUND),
                          at + min(silent_head(after, SOUND), len(after) - 1), len(starts)))
        starts += [at + w.start for w in piece.words]
        at += len(piece.audio)
    return np.concatenate([p.audio for p in pieces]), joins, starts


def _text_chunker(head):
    """The Chunker of text with another first-chunk rule (phonemes keep theirs)."""
    from kokoro_pipe.text import chunks

    class Chunker(chunks.Chunker):
        def __init__(self, *args, is_text: bool = True, **kwargs):
            original = chunks._head
            if is_text:
                chunks._head = head
            try:
                super().__init__(*args, is_text=is_text, **kwargs)
            finally:
                chunks._head = original

    return Chunker


def offset(audio: np.ndarray, reference: np.ndarray, most: int = 4096) -> int:
    """Samples to add to a place in `audio` to find it in `reference` (both
    trimmed at their heads, which may differ by one trim frame)."""
    from pulse_rig import locate

    piece = audio[most:24000]
    at, _ = locate(reference[:len(piece) + 2 * most], piece)
    return at - most


def judge_line(audio, joins, reference, ref_starts, asr, spoken) -> dict:
    """The judges on one rendering; `reference`: one pass, `ref_starts`: its
    word starts."""
    from quality.conftest import transcribe
    from quality.spectral import dtw_distance

    heard = transcribe(asr, audio, Path("/tmp/window_judges.wav"))
    shift = offset(audio, reference) if joins else 0
    rate = listener.RATE
    return {
        "errors": edit_distance(words(spoken), words(heard)), "words": len(words(spoken)),
        "heard": heard,
        "join_steps": [listener.steps(audio, a, b) for a, b, _ in joins],
        # the same places in one pass: what the join added, where it is one sample
        "same_place_steps": [listener.steps(reference, a + shift, a + shift)
                             for a, b, _ in joins if a == b],
        # the pause heard at each join, and one pass's between the same two words
        "join_pauses_ms": [1000 * listener.pause(audio, (a + b) // 2, (b - a) / 2 / rate + 0.1)
                           for a, b, _ in joins],
        "same_words_pauses_ms": [1000 * listener.pause(reference, ref_starts[k])
                                 for _, _, k in joins],
        "word_steps": [listener.steps(reference, s, s) for s in ref_starts[1:]],
        "lufs": listener.lufs(audio), "floor": listener.noise_floor(audio),
        "dnsmos": listener.dnsmos(audio),
        # the predictor's own spread: the same audio 10 ms later, which nobody hears apart
        "dnsmos_later": listener.dnsmos(np.concatenate([np.zeros(240, np.float32), audio])),
        "logmel_db": dtw_distance(audio, reference) if joins else 0.0,
    }


def main(per_voice: int, png: Path | None) -> dict:
    from quality import whisper_model

    from kokoro_pipe.text import chunks
    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine
    from kokoro_pipe.voice.synthesis import Synthesizer
    from kokoro_pipe.voice.vocoder import Windows

    asr = whisper_model.load()
    paths = files.resolve()
    plain, windowed = Engine(paths), Engine(paths, windows=Windows(cost=PLAN_COST))
    texts = LINES.read_text().splitlines()[:per_voice]
    whole = lambda s, first_max: s  # noqa: E731
    strategies = {"one-pass": (plain, whole), "shipped": (plain, chunks._head),
                  "windows": (windowed, whole), "phrase": (plain, phrase_head)}
    out: dict = {"plan_cost": PLAN_COST, "lines": []}
    began = time.perf_counter()
    for voice in VOICES:
        g2p = G2P("en-gb" if voice[0] == "b" else "en-us")
        synths = {k: Synthesizer(e, e.style(voice), g2p=g2p.words) for k, (e, _) in
                  strategies.items()}
        for text in texts:
            rendered = {"one-pass": render(synths["one-pass"], text, whole)}
            for k, (_, head) in strategies.items():  # a text cut that cuts nothing is one pass
                if k not in rendered:
                    same = k != "windows" and head(text, chunks.FIRST_MAX) == text
                    rendered[k] = rendered["one-pass"] if same else render(synths[k], text, head)
            reference, _, ref_starts = rendered["one-pass"]
            line = {"voice": voice, "text": text}
            for k, (audio, joins, _) in rendered.items():
                line[k] = judge_line(audio, joins, reference, ref_starts, asr, text)
                if k != "one-pass":
                    line[k]["word_steps"] = []
                line[k]["joins"] = joins
            out["lines"].append(line)
            if png:
                pictures(png, voice, text, rendered)
            print(f"{time.perf_counter() - began:6.0f} s {voice} {text[:50]}", file=sys.stderr)
    one = windowed.vocoder.cost
    out["vocoder_rtf_measured"] = one
    return out


def pictures(directory: Path, voice: str, text: str, rendered: dict) -> None:
    """One pass's log-mel spectrogram above each strategy's, joins marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from quality.spectral import log_mel

    directory.mkdir(parents=True, exist_ok=True)
    names = [k for k, (_, joins, _) in rendered.items() if k == "one-pass" or joins]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.2 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        audio, joins, _ = rendered[name]
        ax.imshow(log_mel(audio).T, origin="lower", aspect="auto", cmap="magma",
                  extent=(0, len(audio) / listener.RATE, 0, 1))
        for a, b, _ in joins:
            ax.axvspan(a / listener.RATE, (b + 1) / listener.RATE, color="cyan", alpha=0.6)
        ax.set_ylabel(name)
        ax.set_yticks([])
    axes[-1, 0].set_xlabel("seconds")
    fig.suptitle(f"{voice}: {text}", fontsize=9)
    slug = re.sub(r"\W+", "-", text.lower())[:40].strip("-")
    fig.savefig(directory / f"{voice}-{slug}.png", dpi=80, bbox_inches="tight")
    plt.close(fig)


def first_audio(count: int) -> dict:
    """In this process, not at a sink: seconds to the first piece of windows
    that meet between words, of windows that meet at any frame (issue 11's), and
    of tests/quality/window_statistics.py's head (`head_end`),
    each as a ratio to bare `Kokoro.create()` of the same line (af_heart),
    windows planned at the vocoder speed measured as they run."""
    from kokoro_onnx import Kokoro
    from quality.window_statistics import head_end

    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine
    from kokoro_pipe.voice.vocoder import Windows, joins, kept_frames

    paths = files.resolve()
    bare, engine, g2p = Kokoro(str(paths.model), str(paths.voices)), \
        Engine(paths, windows=Windows()), G2P("en-us")
    style = engine.style("af_heart")
    texts = LINES.read_text().splitlines()[:count]
    said = [g2p.words(t) for t in texts]
    for w in said[:2]:  # warm up, and let the vocoder measure its speed
        list(engine.stream(w.phonemes, style, windowed=True))
        bare.create(w.phonemes, voice="af_heart", is_phonemes=True)
    ratios: dict[str, list[float]] = {"between words": [], "any frame": [], "head": []}
    for w in said:
        began = time.perf_counter()
        bare.create(w.phonemes, voice="af_heart", is_phonemes=True)
        whole = time.perf_counter() - began
        for name, spans in (("between words", [x.phonemes for x in w.words]), ("any frame", ())):
            began = time.perf_counter()
            next(iter(engine.stream(w.phonemes, style, windowed=True, words=spans)))
            ratios[name].append((time.perf_counter() - began) / whole)
        # window_statistics.py's head: the first words up to its HEAD share of the frames
        began = time.perf_counter()
        front = engine.front(w.phonemes, style)
        between = joins(front, engine.word_frames(w.phonemes, [x.phonemes for x in w.words],
                                                  front.durations))
        first = head_end(front, between) - kept_frames(front.durations)[0]
        next(engine.vocoder.run(front, Windows(first=first), between))
        ratios["head"].append((time.perf_counter() - began) / whole)
    return {name: {"p50": float(np.median(r)), "max": float(np.max(r))}
            for name, r in ratios.items()} | {"phonemes": [len(w.phonemes) for w in said],
                                              "vocoder_rtf": engine.vocoder.cost}


HEARD = listener.SPEECH  # a step is heard in the voice where both sides are this loud
PAUSE_ADDED_MS = 50  # a pause this much longer than one pass's, inside a phrase, is heard


def _p95(values) -> float:
    return float(np.percentile(values, 95)) if len(values) else 0.0


def summary(result: dict) -> list[str]:
    """A row per strategy against one pass (only the lines it cut, where it
    differs), and which of issue 27's gates it fails."""
    lines = result["lines"]
    one = [line["one-pass"] for line in lines]
    word = np.array([s for r in one for s in r["word_steps"]])
    heard_word = np.abs(word[word[:, 2] > HEARD, :2])
    word = np.abs(word[:, :2])
    spread = float(np.std([r["dnsmos_later"] - r["dnsmos"] for r in one]))
    wer1 = sum(r["errors"] for r in one) / sum(r["words"] for r in one)
    rows = [f"one pass: WER {100 * wer1:.2f} %; steps at word boundaries p95 "
            f"{_p95(word[:, 0]):.1f} dB, {_p95(word[:, 1]):.2f} octaves (where heard: "
            f"{_p95(heard_word[:, 0]):.1f} dB, {_p95(heard_word[:, 1]):.2f}); DNSMOS "
            f"{np.mean([r['dnsmos'] for r in one]):.3f}, its spread {spread:.3f}",
            "| strategy | lines cut | WER % | join steps p95: dB, octaves | joins heard "
            "(both sides above -40 dBFS): count, p95 dB, octaves | step added at joins "
            "heard in one pass, p95 dB | LUFS − one pass: median, p95 of abs | noise "
            "floor − one pass dB: mean, max | DNSMOS − one pass, mean | pause added at "
            "the joins ms: median, max | DTW log-mel dB, median | fails |",
            "| --- " * 12 + "|"]
    for name in ("shipped", "windows", "phrase"):
        runs = [line[name] for line in lines]
        cut = [(r, o) for r, o in zip(runs, one, strict=True) if r["joins"]] or [(one[0],) * 2]
        every = np.array([s for r, _ in cut for s in r["join_steps"]] or [(0.0, 0.0, -120.0)])
        steps, heard = np.abs(every[:, :2]), np.abs(every[every[:, 2] > HEARD, :2])
        added = [abs(a[0] - b[0]) for r, _ in cut  # where one pass has sound both sides
                 for a, b in zip(r["join_steps"], r["same_place_steps"], strict=False)
                 if b[2] > HEARD]
        wer = sum(r["errors"] for r in runs) / sum(r["words"] for r in runs)
        lufs = np.array([r["lufs"] - o["lufs"] for r, o in cut])
        floor = np.array([r["floor"] - o["floor"] for r, o in cut])
        mos = float(np.mean([r["dnsmos"] - o["dnsmos"] for r, o in cut]))
        paused = [a - b for r, _ in cut for a, b in
                  zip(r["join_pauses_ms"], r["same_words_pauses_ms"], strict=True)] or [0.0]
        failed = [judge for judge, ok in [
            ("WER", wer - wer1 <= 0.005),
            ("join steps", _p95(steps[:, 0]) <= _p95(word[:, 0])
             and _p95(steps[:, 1]) <= _p95(word[:, 1])),
            ("heard join steps", not len(heard) or (
                _p95(heard[:, 0]) <= _p95(heard_word[:, 0])
                and _p95(heard[:, 1]) <= _p95(heard_word[:, 1]))),
            ("loudness", _p95(np.abs(lufs)) <= 0.5),
            ("noise floor", floor.mean() <= 0.0),
            ("DNSMOS", mos >= -spread),
            ("pauses", _p95(paused) <= PAUSE_ADDED_MS)] if not ok]
        rows.append(" | ".join([
            f"| {name}", f"{sum(bool(r['joins']) for r in runs)} of {len(runs)}",
            f"{100 * wer:.2f}", f"{_p95(steps[:, 0]):.1f}, {_p95(steps[:, 1]):.2f}",
            f"{len(heard)}: {_p95(heard[:, 0]) if len(heard) else 0:.1f}, "
            f"{_p95(heard[:, 1]) if len(heard) else 0:.2f}",
            f"{_p95(added):.1f}" if added else "-",
            f"{np.median(lufs):+.2f}, {_p95(np.abs(lufs)):.2f}",
            f"{floor.mean():+.1f}, {floor.max():+.1f}", f"{mos:+.3f}",
            f"{np.median(paused):+.0f}, {max(paused):+.0f}",
            f"{np.median([r['logmel_db'] for r, _ in cut]):.2f}",
            (", ".join(failed) or "none") + " |"]))
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    saved = HERE / "window_judges.json"
    if "--first-audio" in args:
        print(json.dumps(first_audio(next((int(a) for a in args if a.isdigit()), 20))))
        sys.exit()
    if "--summary" in args:
        print("\n".join(summary(json.loads(saved.read_text()))))
        sys.exit()
    png = Path(args[args.index("--png") + 1]) if "--png" in args else None
    count = next((int(a) for a in args if a.isdigit()), 40)
    result = main(count, png)
    saved.write_text(json.dumps(result, indent=1))
    print("\n".join(summary(result)))
