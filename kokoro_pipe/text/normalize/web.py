"""Web and code: e-mail addresses, URLs, hashtags and mentions, versions, IP
addresses and symbols."""

from __future__ import annotations

import re

from kokoro_pipe.text.numwords import cardinal, number

TLDS = "com|org|net|io|dev|gov|edu|co|uk|de|fr|app|ai|me|info|us|ca|au|eu"
URL = re.compile(
    rf"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\"'.,;:!?)\]]"
    rf"|\b(?:[a-z0-9-]+\.)+(?:{TLDS})\b(?:/[^\s<>\"]*[^\s<>\"'.,;:!?)\]])?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
URL_SYMBOLS = {".": "dot", "/": "slash", "-": "dash", "_": "underscore", "?": "question mark",
               "=": "equals", "&": "and", "#": "hash", "+": "plus", "~": "tilde", ":": "colon",
               "%": "percent", "@": "at"}


def _spell_address(s: str) -> str:
    parts = re.findall(r"[A-Za-z]+|\d+|.", s)
    words = [number(p) if p.isdigit() else URL_SYMBOLS.get(p, p) for p in parts]
    return " ".join(w for w in words if w.strip())


def urls(text: str) -> str:
    """https://www.example.com/docs -> 'example dot com slash docs': the scheme
    and www are left unsaid, as people do."""

    def spell(m: re.Match) -> str:
        url = re.sub(r"^(?:https?://)?(?:www\.)?", "", m.group(), flags=re.IGNORECASE)
        return _spell_address(url.rstrip("/"))

    return URL.sub(spell, text)


def emails(text: str) -> str:
    """bob.smith@example.com -> 'bob dot smith at example dot com'."""
    return EMAIL.sub(lambda m: _spell_address(m.group()), text)


# A hashtag or a mention: '#' or '@' starting a word, not inside one (C#, a@b) or an
# HTML entity (&#x27;). '#5' is a number (abbreviations); hex with a digit ('#ff0000') a
# colour, left alone.
HANDLE = re.compile(r"(?<![\w&#@/])([#@])([A-Za-z_]\w*)")
COLOUR = re.compile(r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{3,8}")
HANDLE_SIGNS = {"#": "hashtag", "@": "at"}
# Where a run-together handle has word breaks: OpenAI, TTSEngine, JohnSmith, john_smith.
CAMEL = re.compile(r"(?<=[a-z][a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|_+")


def handles(text: str) -> str:
    """#TTS -> 'hashtag TTS', @name -> 'at name', #OpenSource -> 'hashtag Open
    Source': the sign said as people say it (misaki drops '#'), the words of a
    run-together name apart."""

    def spell(m: re.Match) -> str:
        sign, name = m.groups()
        if sign == "#" and COLOUR.fullmatch(name):
            return m.group()
        return f"{HANDLE_SIGNS[sign]} {' '.join(CAMEL.sub(' ', name).split())}"

    return HANDLE.sub(spell, text)


# A capital V takes a dot to be a version: V8 and V12 are engines.
VERSION = re.compile(r"(?<![\w.])(?:v|V(?=\d+\.\d))(\d+(?:\.\d+)*)(?![\w.]|\.\d)"
                     r"|(?<![\w.])(\d+\.\d+\.\d+(?:\.\d+)*)(?![\w]|\.\d)")
VERSION_V = re.compile(r"(?i)\b(version|release)\s+v(?=\d)")
VERSION_WORD = re.compile(  # and a second version after it: "Python 3.12 to 3.13" (a range)
    r"(?i)\b(versions?|releases?|python|node|java|ios|android|macos)\s+(\d+(?:\.\d+)+)"
    r"(?:(\s+(?:to|through|or|and)\s+)(\d+(?:\.\d+)+))?\b")


def _dotted(s: str, point: str = "point") -> str:
    return f" {point} ".join(cardinal(int(p)) for p in s.split("."))


def versions(text: str) -> str:
    """v1.2.3 -> 'version one point two point three', 'Python 3.12' -> 'Python
    three point twelve'; four numbers up to 255 are an IP address, said with 'dot'."""

    def spell(m: re.Match) -> str:
        if m.group(1) is not None:
            return "version " + _dotted(m.group(1))
        parts = m.group(2).split(".")
        if len(parts) == 4 and all(int(p) <= 255 for p in parts):
            return _dotted(m.group(2), "dot")
        return _dotted(m.group(2))

    text = VERSION_V.sub(r"\1 ", text)
    text = VERSION_WORD.sub(lambda m: f"{m.group(1)} {_dotted(m.group(2))}"
                            + (f"{m.group(3)}{_dotted(m.group(4))}" if m.group(4) else ""), text)
    return VERSION.sub(spell, text)


SYMBOLS = [
    (re.compile(r"\b([CF])#(?!\w)"), r"\1 sharp"),
    (re.compile(r"(?<=\d)\s?[x×*]\s?(?=\d)"), " times "),
    (re.compile(r"\s÷\s"), " divided by "),
    (re.compile(r"±\s?"), " plus or minus "),
    (re.compile(r"(?<![\w~])~\s?(?=\d)"), "about "),
    (re.compile(r"≈\s?"), " approximately "),
    (re.compile(r"\s=\s"), " equals "),
]


def symbols(text: str) -> str:
    """Symbols misaki would skip or misread: C# -> 'C sharp', 5 x 3 -> 'five
    times three', ±, ~5 -> 'about five'. (misaki reads & @ + itself.)"""
    for pattern, said in SYMBOLS:
        text = pattern.sub(said, text)
    return text
