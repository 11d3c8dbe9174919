"""Pronunciation overrides: `word<TAB>phonemes` files, applied as misaki inline
markup `[word](/phonemes/)` before normalization, so an entry wins over every
rule ("Dr." or "C#" can be given a reading of one's own).

Files, later ones overriding earlier ones: the DEFAULT below, the project's
./.kokoro-pipe/lexicon.tsv, the user's ~/.config/kokoro-pipe/lexicon.tsv
($XDG_CONFIG_HOME honoured), then kk-synth/kk-g2p --lexicon FILE. A word in
lower case matches it in any case ("kokoro", "Kokoro"); one with capitals
matches only as written ("US" but not "us"). Lines starting with # are comments.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kokoro_pipe.errors import EXIT_CONFIG, KokoroPipeError

# Words misaki gets wrong that kokoro-pipe users are likely to say.
DEFAULT = {
    "kokoro": "kˈOkˌOɹO",
    "espeak": "ˈispˌik",
    "onnx": "ˈɑnɪks",
    "k8s": "kˈAts",
    "JSON": "ʤˈAsən",
    "YAML": "jˈæməl",
    "kubectl": "kjˈub kəntɹˌOl",
    "PostgreSQL": "pˈOstɡɹəs kjˌuˈɛl",
    "macOS": "mˈæk ˌOˈɛs",
}
PROJECT_FILE = Path(".kokoro-pipe") / "lexicon.tsv"
NOT_IN_PHONEMES = re.compile(r"[][()/]")
EXISTING_MARKUP = re.compile(r"\[[^\]\[]+\]\([^)]*\)")


class LexiconError(KokoroPipeError):
    exit_code = EXIT_CONFIG


def user_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "kokoro-pipe" / "lexicon.tsv"


def read_tsv(path: Path) -> dict[str, str]:
    """The entries of one lexicon file; a malformed line is a LexiconError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise LexiconError(f"cannot read lexicon {path}: {e}") from None
    entries = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, tab, phonemes = line.partition("\t")
        word, phonemes = word.strip(), phonemes.strip()
        if not tab or not word or not phonemes:
            raise LexiconError(f"{path}:{number}: expected word<TAB>phonemes")
        if NOT_IN_PHONEMES.search(phonemes) or NOT_IN_PHONEMES.search(word):
            raise LexiconError(f"{path}:{number}: brackets and slashes are not allowed")
        entries[word] = phonemes
    return entries


class Lexicon:
    """Callable: text -> text with every entry's word wrapped in phoneme markup."""

    def __init__(self, entries: dict[str, str]):
        self.entries = dict(entries)
        self._folded = {w.lower(): p for w, p in entries.items() if w == w.lower()}
        self._exact = {w: p for w, p in entries.items() if w != w.lower()}
        self._pattern = _words_pattern(self.entries)

    @classmethod
    def load(cls, extra: str | os.PathLike | None = None) -> Lexicon:
        entries = dict(DEFAULT)
        for path in (PROJECT_FILE, user_file()):
            if path.is_file():
                entries.update(read_tsv(path))
        if extra is not None:
            entries.update(read_tsv(Path(extra)))
        return cls(entries)

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        out, start = [], 0
        for m in EXISTING_MARKUP.finditer(text):  # markup already there is the user's own
            out += [self._pattern.sub(self._markup, text[start : m.start()]), m.group()]
            start = m.end()
        out.append(self._pattern.sub(self._markup, text[start:]))
        return "".join(out)

    def _markup(self, m: re.Match) -> str:
        word = m.group()
        phonemes = self._exact.get(word) or self._folded.get(word.lower())
        return f"[{word}](/{phonemes}/)" if phonemes else word


def _words_pattern(entries: dict[str, str]) -> re.Pattern | None:
    if not entries:
        return None
    words = sorted(entries, key=len, reverse=True)  # longest first: "espeak-ng" before "espeak"
    return re.compile(r"(?<![\w\[])(?:" + "|".join(map(re.escape, words)) + r")(?![\w\]])",
                      re.IGNORECASE)
