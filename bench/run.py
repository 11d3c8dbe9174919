"""kokoro-pipe benchmarks: one command, a table on stdout, JSON to a file.

    python bench/run.py                 # all sections that apply, 3 runs each
    python bench/run.py --only a --repeat 5 --json bench/results.json

Figures are ratios of things measured side by side in the same run: these
machines are noisy, absolute seconds are not comparable across runs.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import throughput
from conftest import command


@click.command()
@click.option("--repeat", default=3, show_default=True, help="Runs per measurement.")
@click.option("--only", multiple=True, type=click.Choice(["a"]), help="Sections to run.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              default="bench/results.json", show_default=True)
def main(repeat: int, only: tuple[str, ...], json_path: str) -> None:
    results = {"machine": _machine()}
    if not only or "a" in only:
        results["a_throughput"] = a = throughput.run(repeat, command("kk-synth"))
        print(f"(a) {a['chars']}-character article, af_heart, median of {repeat}")
        print(f"    {'':10} {'wall s':>7} {'synth s':>8} {'audio s':>8} {'RTF':>6} "
              f"{'peak RSS MiB':>13}")
        for name in ("bare", "kk-synth"):
            r = a[name]
            print(f"    {name:10} {r['wall']:7.2f} {r['synth']:8.2f} {r['audio']:8.2f} "
                  f"{r['rtf']:6.3f} {r['rss_mib']:13.0f}")
        print(f"    kk-synth / bare: wall {a['ratio_wall']:.3f}, synthesis {a['ratio_synth']:.3f}")
    Path(json_path).write_text(json.dumps(results, indent=1))
    print(f"written {json_path}")


def _machine() -> dict:
    import os

    return {"platform": platform.platform(), "cpus": os.cpu_count(),
            "python": platform.python_version()}


if __name__ == "__main__":
    main()
