"""The SSML subset kk-synth speaks: <speak> with <break>, <say-as>, <emphasis>,
<prosody rate>, <sub>, <phoneme>, the structural <p> and <s>, and <mark>
(silent: `marks` finds where they are, for whoever reports them).

`parse` turns one SSML document into parts: Speech (text for the normalizer,
at a rate) and Break (silence). Anything outside the subset is an SsmlError
naming the tag or attribute, never silently dropped.

Kokoro has no emphasis control; <emphasis> becomes misaki stress marks
`[words](+2)`, which raise the stress of the unstressed words only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from kokoro_pipe.errors import InputError
from kokoro_pipe.text import normalize as nz
from kokoro_pipe.text.numwords import cardinal, digits, ordinal

SPEAK = re.compile(r"^\s*<speak[\s>/]")
MAX_BREAK = 60.0  # seconds; a longer silence is a typo, not a pause
RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}
STRESS = {"strong": 2, "moderate": 1, "none": 0, "reduced": -1}
STRENGTHS = ("none", "x-weak", "weak", "medium", "strong", "x-strong")
SAY_AS = ("cardinal", "ordinal", "characters", "date", "time", "telephone")
ALPHABETS = ("ipa", "misaki", "kokoro")
ALLOWED = {  # tag -> attributes it may carry
    "speak": {"version", "lang", "xml:lang", "{http://www.w3.org/XML/1998/namespace}lang",
              "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"},
    "p": set(), "s": set(),
    "break": {"time", "strength"},
    "say-as": {"interpret-as", "format", "detail"},
    "emphasis": {"level"},
    "prosody": {"rate"},
    "sub": {"alias"},
    "phoneme": {"ph", "alphabet"},
    "mark": {"name"},
}
MARK = re.compile(r"""<mark\s+name\s*=\s*(?:"([^"]*)"|'([^']*)')\s*/?>""")


class SsmlError(InputError):
    """The line is not SSML kk-synth can speak; the message names what is wrong."""


@dataclass(frozen=True)
class Speech:
    text: str  # may hold misaki inline markup: [word](/phonemes/), [words](+2)
    rate: float = 1.0


@dataclass(frozen=True)
class Break:
    seconds: float | None = None  # explicit time, or
    strength: str = "medium"  # a pause of the configured kind
    structural: bool = False  # from <p> or <s>: only ever between speech


Part = Speech | Break


def is_ssml(text: str) -> bool:
    return bool(SPEAK.match(text))


def parse(text: str) -> list[Part]:
    """The parts of one SSML document; text without <speak> is wrapped in one."""
    if not is_ssml(text):  # plain text with tags in it: a bare & is meant as "and"
        text = "<speak>" + re.sub(r"&(?!\w+;|#\d+;)", "&amp;", text) + "</speak>"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise SsmlError(f"invalid SSML: {e}") from None
    if _tag(root) != "speak":
        raise SsmlError(f"SSML must have <speak> at the top, not <{_tag(root)}>")
    builder = _Builder()
    builder.element(root, rate=1.0)
    return builder.parts()


def masked(text: str) -> str:
    """`text` with its tags blanked out, every character where it was: what
    the words of the parts can be aligned with (text/spans.py)."""
    return re.sub(r"<[^>]*>", lambda m: " " * len(m.group()), text)


def marks(text: str) -> list[tuple[int, str]]:
    """Where each <mark name="..."/> of an SSML text is, as (offset in `text`,
    name): word spans (text/spans.py) point into the same text."""
    return [(m.start(), _unescaped(m.group(1) if m.group(1) is not None else m.group(2)))
            for m in MARK.finditer(text)]


def _unescaped(value: str) -> str:
    return ET.fromstring(f"<m>{value}</m>").text or ""


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


class _Builder:
    def __init__(self):
        self._parts: list[Part] = []
        self._text: list[str] = []
        self._rate = 1.0

    def parts(self) -> list[Part]:
        self._flush()
        while self._parts and getattr(self._parts[-1], "structural", False):
            self._parts.pop()
        return self._parts

    def say(self, text: str, rate: float) -> None:
        if rate != self._rate:
            self._flush()
            self._rate = rate
        self._text.append(text)

    def pause(self, part: Break) -> None:
        self._flush()
        if self._parts or not part.structural:
            self._parts.append(part)

    def _flush(self) -> None:
        text = re.sub(r"\s+(?=[,.;:!?])", "", " ".join("".join(self._text).split()))
        if text:
            self._parts.append(Speech(text, self._rate))
        self._text = []

    def element(self, el: ET.Element, rate: float) -> None:
        tag = _tag(el)
        if tag not in ALLOWED:
            raise SsmlError(f"unsupported SSML tag <{tag}> (supported: "
                            + ", ".join(f"<{t}>" for t in ALLOWED) + ")")
        for name in el.attrib:
            if name not in ALLOWED[tag]:
                raise SsmlError(f"unsupported attribute {_tag_name(name)!r} on <{tag}>")
        if tag == "mark":
            return  # silent; its place is found in the source text
        if tag == "break":
            self.pause(_break(el))
        elif tag in ("say-as", "sub", "phoneme"):
            self.say(_leaf(el, tag), rate)
        elif tag == "emphasis":
            self._emphasis(el, rate)
        else:
            if tag == "prosody" and "rate" in el.attrib:
                rate = rate * _rate(el.attrib["rate"])
            boundary = Break(strength="medium" if tag == "s" else "strong", structural=True)
            if tag in ("p", "s"):
                self.pause(boundary)
            self.say(el.text or "", rate)
            for child in el:
                self.element(child, rate)
                self.say(child.tail or "", rate)
            if tag in ("p", "s"):
                self.pause(boundary)

    def _emphasis(self, el: ET.Element, rate: float) -> None:
        level = el.attrib.get("level", "moderate")
        if level not in STRESS:
            raise SsmlError(f"emphasis level {level!r} is not one of {', '.join(STRESS)}")
        inner = _Builder()
        inner.say(el.text or "", rate)
        for child in el:
            if _tag(child) in ("break", "prosody", "p", "s", "emphasis"):
                raise SsmlError(f"<{_tag(child)}> inside <emphasis> is not supported")
            inner.element(child, rate)
            inner.say(child.tail or "", rate)
        words = " ".join(p.text for p in inner.parts() if isinstance(p, Speech))
        if STRESS[level] and words:
            words = f"[{re.sub(r'[][()]', ' ', words).strip()}]({STRESS[level]:+d})"
        self.say(f" {words} ", rate)


def _tag_name(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _break(el: ET.Element) -> Break:
    if "time" in el.attrib:
        value = el.attrib["time"].strip()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s)", value)
        if not m:
            raise SsmlError(f"break time {value!r} is not like '500ms' or '1.5s'")
        seconds = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        if seconds > MAX_BREAK:
            raise SsmlError(f"break time {value!r} is over {MAX_BREAK:g}s")
        return Break(seconds=seconds)
    strength = el.attrib.get("strength", "medium")
    if strength not in STRENGTHS:
        raise SsmlError(f"break strength {strength!r} is not one of {', '.join(STRENGTHS)}")
    return Break(strength=strength)


def _rate(value: str) -> float:
    value = value.strip()
    if value in RATES:
        return RATES[value]
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)(%?)", value)
    if not m:
        raise SsmlError(f"prosody rate {value!r} is not a keyword, a percentage or a number")
    sign, amount, percent = m.groups()
    x = float(amount) / 100 if percent else float(amount)
    if sign:  # relative: +20% is 1.2 times, -20% is 0.8 times
        x = 1 + x if sign == "+" else 1 - x
    if x <= 0:
        raise SsmlError(f"prosody rate {value!r} is not positive")
    return x


def _leaf(el: ET.Element, tag: str) -> str:
    if len(el):
        raise SsmlError(f"<{tag}> may hold text only, not <{_tag(el[0])}>")
    content = " ".join((el.text or "").split())
    if tag == "sub":
        if "alias" not in el.attrib:
            raise SsmlError("<sub> needs an alias attribute")
        return f" {el.attrib['alias']} "
    if tag == "phoneme":
        ph = el.attrib.get("ph", "").strip().strip("/")
        alphabet = el.attrib.get("alphabet", "ipa")
        if not ph:
            raise SsmlError("<phoneme> needs a ph attribute")
        if alphabet not in ALPHABETS:
            raise SsmlError(f"phoneme alphabet {alphabet!r} is not one of {', '.join(ALPHABETS)}")
        if not content or re.search(r"[][()]", content + ph):
            raise SsmlError("<phoneme> needs a word, and no brackets in it or in ph")
        return f" [{content}](/{ph}/) "
    return f" {_say_as(el.attrib.get('interpret-as', ''), content, el.attrib.get('format', ''))} "


def _say_as(kind: str, content: str, fmt: str) -> str:
    if kind not in SAY_AS:
        raise SsmlError(f"say-as interpret-as {kind!r} is not one of {', '.join(SAY_AS)}")
    if kind == "characters":
        return nz.characters(content)
    if kind == "telephone":
        groups = re.findall(r"\+?\d+", content)
        return ", ".join(("plus " if g[0] == "+" else "") + digits(g) for g in groups)
    if kind == "date":
        return nz.dates(content, day_first=fmt.startswith("d"))
    if kind == "time":
        return nz.times(content)
    number = re.fullmatch(r"-?\d[\d,]*", re.sub(r"(?<=\d)(st|nd|rd|th)$", "", content))
    if not number:
        raise SsmlError(f"say-as {kind} needs a whole number, not {content!r}")
    n = int(number.group().replace(",", ""))
    return cardinal(n) if kind == "cardinal" else ordinal(n)
