"""Punctuation spoken by name, at speech-dispatcher's levels (none, some,
most, all), with the English names of its symbol table (locale/en/symbols.dic).

speech-dispatcher usually does this itself before the text reaches a module
(SymbolsPreproc), but not for a language it has no table for (a C locale's
"c", say); symbols it already replaced by words are not found again here.
Sentence and phrase punctuation keeps its character after the name, so the
pause it makes is still heard.
"""

from __future__ import annotations

import html
import re

LEVELS = ("none", "some", "most", "all")
# symbol -> (name, level, kept after the name)
SYMBOLS = {
    "#": ("number", "some", False), "%": ("percent", "some", False),
    "&": ("and", "some", False), "*": ("star", "some", False), "/": ("slash", "some", False),
    "@": ("at", "some", False), "+": ("plus", "some", False), "=": ("equals", "some", False),
    "<": ("less", "some", False), ">": ("greater", "some", False),
    "•": ("bullet", "some", False),
    '"': ("quote", "most", False), "“": ("left quote", "most", False),
    "”": ("right quote", "most", False), "(": ("left paren", "most", False),
    ")": ("right paren", "most", False), "-": ("dash", "most", False),
    ":": ("colon", "most", True), ";": ("semi", "most", True),
    "[": ("left bracket", "most", False), "]": ("right bracket", "most", False),
    "{": ("left brace", "most", False), "}": ("right brace", "most", False),
    "\\": ("backslash", "most", False), "^": ("caret", "most", False),
    "_": ("line", "most", False), "`": ("grave", "most", False), "|": ("bar", "most", False),
    "~": ("tilde", "most", False),
    ".": ("dot", "all", True), "!": ("bang", "all", True), "?": ("question", "all", True),
    ",": ("comma", "all", True), "'": ("tick", "all", False), "$": ("dollar", "all", False),
    "…": ("dot dot dot", "all", True),
}
# Not punctuation where they stand: a decimal point, an apostrophe in a word,
# a hyphen in a word or a minus sign.
INSIDE = re.compile(r"(?<=\d)[.,](?=\d)|(?<=\w)['-](?=\w)|-(?=\d)")


def spoken(text: str, mode: str) -> str:
    """`text` with the symbols of `mode`'s level and below said by name."""
    level = LEVELS.index(mode)
    if level == 0:
        return text
    wanted = {s for s, (_, at, _) in SYMBOLS.items() if LEVELS.index(at) <= level}
    keep = {m.start() for m in INSIDE.finditer(text)}
    out = []
    for i, ch in enumerate(text):
        if ch in wanted and i not in keep:
            name, _, kept = SYMBOLS[ch]
            out.append(f" {name}{ch if kept else ''} ")
        else:
            out.append(ch)
    return "".join(out)


def spoken_in_ssml(document: str, mode: str) -> str:
    """The same, for the text between the tags of an SSML document."""
    if mode == "none":
        return document
    parts = re.split(r"(<[^>]*>)", document)
    return "".join(part if part.startswith("<") else
                   html.escape(spoken(html.unescape(part), mode), quote=False)
                   for part in parts)
