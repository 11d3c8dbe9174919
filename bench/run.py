"""kokoro-pipe benchmarks: one command, a table on stdout, JSON to a file.

    python bench/run.py                       # (a) to (d) and (f) to (h), 3 runs / 20 requests
    python bench/run.py --only b --repeat 5
    python bench/run.py --long                # also (e): ten minutes of continuous speech
    python bench/run.py --only g              # (g) first audio vs bare create(), memory
    python bench/run.py --only h              # (h) kk-synth via a warm kk-speakd vs in-process
    python bench/run.py --only h --pairs 8 --gap 3   # (h) also: autospawn, second run vs first
    python bench/run.py --only i              # (i) spd-say through sd_kokoro vs kk-speakd
    python bench/run.py --only j              # (j) added silence at the sink, 2 and 1 threads
    python bench/run.py --only k --soak-seconds 600 --seed 1 --seed 2   # (k) the soak

Figures are ratios of things measured side by side in the same run: these
machines are noisy, absolute seconds are not comparable across runs. Audio goes
to the PulseAudio null sinks of the test rig (tests/pulse_rig.py), started here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import at_sink  # noqa: E402
import autospawned  # noqa: E402
import first_audio  # noqa: E402
import latency  # noqa: E402
import long_read  # noqa: E402
import planner  # noqa: E402
import soak  # noqa: E402
import speech_dispatcher  # noqa: E402
import throughput  # noqa: E402
import warm_pipeline  # noqa: E402
from conftest import command  # noqa: E402
from pulse_rig import PulseRig  # noqa: E402


@click.command()
@click.option("--repeat", default=3, show_default=True, help="Runs per measurement.")
@click.option("--requests", type=int,
              help="Daemon requests per kind [default: 20]; (h) pipelines per case [default: 8].")
@click.option("--only", multiple=True,
              type=click.Choice(["a", "b", "c", "f", "g", "h", "i", "j", "k"]),
              help="Sections to run (c includes d).")
@click.option("--tail-runs", default=20, show_default=True, help="(f) runs per case.")
@click.option("--long", "long_", is_flag=True, help="Also (e), the ten-minute read.")
@click.option("--pairs", default=8, show_default=True,
              help="(h) autospawn: pairs of pipelines, each in a fresh runtime directory.")
@click.option("--gap", default=3.0, show_default=True,
              help="(h) autospawn: seconds from the first pipeline's end to the second's start.")
@click.option("--against", type=click.Path(file_okay=False, exists=True),
              help="(j) also: first audio of one-sentence requests vs this checkout's kk-speakd.")
@click.option("--soak-seconds", default=600.0, show_default=True,
              help="(k) seconds of soak per seed (then the queue is spoken out).")
@click.option("--seed", "seeds", multiple=True, type=int, help="(k) seeds [default: 1].")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              default=str(HERE / "results.json"), show_default=True)
def main(repeat: int, requests: int | None, only: tuple[str, ...], tail_runs: int,
         long_: bool, pairs: int, gap: float, against: str | None, soak_seconds: float,
         seeds: tuple[int, ...], json_path: str):
    results: dict = {"machine": _machine()}
    wanted = set(only) or {"a", "b", "c", "f", "g", "h", "i", "j"}  # (k) only when asked
    pipelines = requests or 8  # (h): a cold pipeline takes ~5 s plus the audio's length
    requests = requests or 20
    if "a" in wanted:
        results["a"] = a = throughput.run(repeat, command("kk-synth"))
        _print_a(a, repeat)
    with tempfile.TemporaryDirectory(prefix="kk-bench-") as tmp:
        (Path(tmp) / "pulse").mkdir()
        rig = PulseRig(Path(tmp) / "pulse")
        rig.start()
        try:
            if "b" in wanted:
                results["b"] = b = latency.cold_pipeline(rig.env, repeat)
                _print_b(b, repeat)
            if "c" in wanted:
                results["c"] = c = latency.warm_daemon(rig.env, Path(tmp) / "daemon", requests)
                _print_c(c)
                results["c_at_sink"] = s = at_sink.speakd_at_sink(
                    rig, Path(tmp) / "daemon-sink", requests, gap=0.4)
                _print_c_at_sink(s)
            if "g" in wanted:
                results["g"] = g = first_audio.run(rig, Path(tmp) / "first", requests)
                _print_g(g)
            if "h" in wanted:
                results["h"] = h = warm_pipeline.run(rig, Path(tmp) / "warm", pipelines, repeat)
                _print_h(h)
                results["h_autospawn"] = s = autospawned.run(rig, Path(tmp) / "spawn", pairs, gap)
                _print_h_autospawn(s)
            if "i" in wanted:
                results["i"] = i = speech_dispatcher.run(rig, Path(tmp) / "speechd", requests)
                _print_i(i)
            if "f" in wanted:
                results["f"] = f = at_sink.kk_play_tail(rig, tail_runs)
                _print_f(f)
            if "j" in wanted:
                if against:
                    results["j_first_audio"] = f = planner.against(
                        rig, Path(tmp) / "against", requests, Path(against).resolve())
                    print(f"(j) first audio at the sink, one sentence: this {f['this']['p50']:.0f}"
                          f" ms p50, {against} {f['other']['p50']:.0f} ms p50, "
                          f"ratio {f['ratio_p50']:.3f}")
                results["j"] = j = planner.run(rig, Path(tmp) / "planner", requests)
                _print_j(j)
            if "k" in wanted:
                results["k"] = k = soak.run(rig, Path(tmp) / "soak", soak_seconds,
                                            list(seeds or [1]))
                _print_k(k)
            if long_:
                results["e"] = e = long_read.run(rig.env)
                _print_e(e)
        finally:
            rig.stop()
    Path(json_path).write_text(json.dumps(results, indent=1))
    print(f"written {json_path}")


def _print_a(a: dict, repeat: int) -> None:
    print(f"(a) {a['chars']}-character article, af_heart, median of {repeat}")
    print(f"    {'':10} {'wall s':>7} {'synth s':>8} {'audio s':>8} {'RTF':>6} "
          f"{'peak RSS MiB':>13}")
    for name in ("bare", "kk-synth"):
        r = a[name]
        print(f"    {name:10} {r['wall']:7.2f} {r['synth']:8.2f} {r['audio']:8.2f} "
              f"{r['rtf']:6.3f} {r['rss_mib']:13.0f}")
    print(f"    kk-synth / bare: wall {a['ratio_wall']:.3f}, synthesis {a['ratio_synth']:.3f}")


def _print_b(b: dict, repeat: int) -> None:
    print(f"(b) cold pipeline, time to first audio on the device, median of {repeat}")
    print(f"    floor = model load {b['floor_load']:.2f} s + first chunk "
          f"{b['floor_first_chunk']:.2f} s = {b['floor_load_plus_first_chunk']:.2f} s")
    for name, r in b.items():
        if isinstance(r, dict):
            print(f"    {name:40} {r['ttfa']:6.2f} s  = {r['ratio_to_floor']:.2f} x floor")


def _print_c(c: dict) -> None:
    print("(c, d) warm kk-speakd, request read -> first sample written (ms)")
    for name in ("sentence", "paragraph", "cache_hit"):
        r = c[name]
        print(f"    {name:10} p50 {r['p50']:6.0f}   p95 {r['p95']:6.0f}   (n={r['n']})")
    rss = c["rss_mib"]
    print(f"    RSS MiB: after ready {rss['after_ready']:.0f}, end {rss['end']:.0f}, "
          f"max {rss['max']:.0f}; underruns {c['underruns']}")


def _print_c_at_sink(s: dict) -> None:
    print("(c) warm kk-speakd at the sink (ms from the FIFO write; monitor client 5 ms)")
    rows = [("first audio at the sink", s["first_audio"]["at_sink_ms"]),
            ("  the daemon's own ttfa_ms", s["first_audio"]["daemon_ttfa_ms"]),
            ("stop -> silent at the sink", s["stop"]),
            ("interrupt -> silent at the sink", s["interrupt"])]
    rows += [(f"pause heard, {name} (pause {s['gaps']['pause_ms']:.0f})", r)
             for name, r in s["gaps"].items() if isinstance(r, dict)]
    rows.append(("pause heard, kk-synth | kk-play lines", s["line_pauses"]))
    for name, r in rows:
        print(f"    {name:42} p50 {r['p50']:6.0f}   p95 {r['p95']:6.0f}   "
              f"[{r['min']:.0f}, {r['max']:.0f}] (n={r['n']})")


def _print_g(g: dict) -> None:
    print("(g) warm kk-speakd first audio at the sink vs bare Kokoro.create() (ms)")
    for kind, bare in g["bare_ms"].items():
        print(f"    {kind} ({g['phonemes'][kind]} phonemes): bare create() p50 {bare['p50']:.0f}")
        for mode in first_audio.MODES:
            r = g[mode][kind]
            print(f"      {mode:9} at sink p50 {r['at_sink_ms']['p50']:6.0f}  "
                  f"p95 {r['at_sink_ms']['p95']:6.0f}  ttfa p50 {r['daemon_ttfa_ms']['p50']:6.0f}"
                  f"  = {r['ratio_to_bare']:.2f} x bare")
    for mode in first_audio.MODES:
        print(f"    {mode}: {g[mode]['underruns']} underruns in {g[mode]['requests']} requests")
        if "rss_mib" in g[mode]:
            m = g[mode]["rss_mib"]
            print(f"    {mode} RSS MiB every 20 requests: "
                  f"{' '.join(f'{v:.0f}' for v in m['every_20'])} (max {m['max']:.0f})")


def _print_h(h: dict) -> None:
    fa, tp = h["first_audio"], h["throughput"]
    print(f"(h) echo … | kk-synth | kk-play, first voiced sample at the sink (ms from the "
          f"start), n={fa['runs']} each, warm kk-speakd vs KOKORO_PIPE_DAEMON=0, alternating")
    for kind in warm_pipeline.TEXTS:
        r = fa[kind]
        print(f"    {kind:10} warm p50 {r['warm']['p50']:6.0f}  p90 {r['warm']['p90']:6.0f}   "
              f"cold p50 {r['cold']['p50']:6.0f}  p90 {r['cold']['p90']:6.0f}   "
              f"warm / cold {r['ratio_p50']:.2f} (target <= {fa['target_ratio']})")
    print(f"    kk-synth jobs done by the daemon: {fa['daemon_jobs_done']} "
          f"of {fa['warm_runs']} warm runs")
    print(f"(h) kk-synth --raw, {tp['chars']}-character article ({tp['audio_s']:.1f} s of audio), "
          f"median of {tp['runs']}, alternating")
    w, c = tp["warm"], tp["cold"]
    print(f"    via kk-speakd  wall {w['wall']:6.2f} s  (the daemon's job {w['daemon_s']:.2f} s)"
          f"  peak RSS {w['rss_mib']:.0f} MiB")
    print(f"    in-process     wall {c['wall']:6.2f} s  (synthesis alone {c['synth']:.2f} s)"
          f"  peak RSS {c['rss_mib']:.0f} MiB")
    print(f"    kk-speakd / in-process: wall {tp['ratio_wall']:.3f} (target <= "
          f"{tp['target_ratio']}); kk-speakd wall / in-process synthesis "
          f"{tp['ratio_to_synth']:.3f}")


def _print_h_autospawn(s: dict) -> None:
    print(f"(h) autospawn: echo … | kk-synth | kk-play in a fresh runtime directory, then again "
          f"{s['gap_s']:g} s later; first voiced sample at the sink (ms), {s['pairs']} pairs, "
          f"cold = --no-daemon alternating")
    for name in autospawned.RUNS:
        r = s[name]
        times = "  ".join(f"{key[:-3]} p50 {r[key]['p50']:.0f}" for key in
                          ("chunk_started_ms", "chunk_done_ms", "first_write_ms") if key in r)
        print(f"    {name:7} p50 {r['at_sink_ms']['p50']:6.0f}  p95 {r['at_sink_ms']['p95']:6.0f}"
              f"   ({times})")
    t = s["targets"]
    print(f"    second / first {s['second_to_first']:.3f} (target <= {t['second_to_first']}); "
          f"first / cold {s['first_to_cold']:.3f} (target <= {t['first_to_cold']}); "
          f"third / first {s['third_to_first']:.3f}")
    r = s["second"]
    print(f"    daemon at the second's start: {' '.join(r['daemon_state_at_start'])}; ready "
          f"p50 {-r['ready_ms']['p50']:.0f} ms before it (max {-r['ready_ms']['min']:.0f}, "
          f"min {-r['ready_ms']['max']:.0f}); load p50 {r['load_s']['p50']:.2f} s, "
          f"warm-up {r['warmup_s']['p50']:.2f} s")
    h = s["header_ms"]
    print(f"    kk-synth start -> stream header via the warm daemon: p50 {h['p50']:.0f} ms  "
          f"p95 {h['p95']:.0f} (target <= {t['header_ms']:.0f}; n={h['n']})")


def _print_i(i: dict) -> None:
    first, cut = i["first_audio_ms"], i["cancel_ms"]
    print("(i) speech-dispatcher with sd_kokoro, at the sink (ms; alternating with kk-speakd)")
    for name, label in (("spd_say", "spd-say start"), ("kk_speakd", "kk-speakd FIFO write")):
        r = first[name]
        print(f"    {label:22} -> first audio  p50 {r['p50']:6.0f}  p95 {r['p95']:6.0f}  "
              f"[{r['min']:.0f}, {r['max']:.0f}] (n={r['n']})")
    print(f"    spd-say / kk-speakd p50: {first['ratio_p50']:.2f}")
    print(f"    spd-say -C -> silent at the sink  p50 {cut['p50']:.0f}  p95 {cut['p95']:.0f}  "
          f"max {cut['max']:.0f} (target {i['cancel_target_ms']}; n={cut['n']})")


def _print_j(j: dict) -> None:
    print("(j) paragraphs at the sink: added silence = span heard - samples made")
    for name, s in j.items():
        print(f"  {name:12} n={s['requests']} RTF p50 {s['rtf_p50']:.2f} (max {s['rtf_max']:.2f})"
              f"  underruns {s['underruns']} in {s['requests_with_underruns']} requests"
              f"  added ms p50 {s['added_ms_p50']:.1f} max {s['added_ms_max']:.1f}"
              f"  >20 ms: {s['requests_over_20ms']}  unexpected pauses {s['unexpected_pauses']}"
              f"  hold p50 {s['hold_ms_p50']:.0f} ms")
        if s["pauses_after"]:
            where = {w: s["pauses_after"].count(w) for w in sorted(set(s["pauses_after"]))}
            print(f"  {'':12} the unexpected pauses fall: {where}")


def _print_k(k: dict) -> None:
    print("(k) soak: requests written, their outcomes, --status asks and longest answer")
    for seed, r in k.items():
        print(f"    seed {seed}: {r['seconds']} s, {r['requests']} requests {r['outcomes']}, "
              f"commands {r['commands']}, kk-synth {r['synth_clients']}, raw {r['raw_clients']}"
              f", sinks {r['sink_changes']}; --status {r['status_asks']} asks, max "
              f"{r['status_max_s']:.2f} s; no progress at most {r['stalest_s']:.1f} s; "
              f"{'FAILED: ' + '; '.join(r['failures']) if r['failures'] else 'ok'}")


def _print_f(f: dict) -> None:
    print("(f) kk-play: tone heard whole (to 1 ms), and exit after its last sample (ms)")
    for case, r in f.items():
        e = r["exit_after_sound_ms"]
        print(f"    {case:28} whole {r['whole']}/{r['runs']}  most lost {r['lost_ms_max']} ms"
              f"  exit p50 {e['p50']:.0f} p95 {e['p95']:.0f} max {e['max']:.0f}")


def _print_e(e: dict) -> None:
    print(f"(e) {e['audio_seconds']:.0f} s of speech through kk-synth | kk-play in "
          f"{e['seconds']:.0f} s: underruns {e['underruns']}")
    for name, t in e["rss_mib"].items():
        print(f"    {name:9} RSS MiB first {t['first']}, max {t['max']}, last {t['last']}, "
              f"growth over the second half {t['second_half_growth']}")


def _machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version()}


if __name__ == "__main__":
    main()
