"""Every option a command's --help shows is documented in its man page."""

import re
import subprocess
from pathlib import Path

import pytest
from conftest import command

MAN = Path(__file__).resolve().parent.parent / "man"
PAGES = [("kk-synth", []), ("kk-g2p", []), ("kk-models", ["install"])]
PAGES += [(name, []) for name in ("kk-play", "kk-speakd", "kk-say")
          if (MAN / f"{name}.1").exists()]


@pytest.mark.parametrize("name, sub", PAGES, ids=[p[0] for p in PAGES])
def test_help_options_are_in_the_man_page(name, sub):
    help_text = subprocess.run([command(name), *sub, "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text))
    assert options, help_text
    page = (MAN / f"{name}.1").read_text().replace("\\-", "-")
    missing = sorted(o for o in options if o not in page)
    assert not missing, f"{name}.1 lacks {missing}"
