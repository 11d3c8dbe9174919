"""Sanitation: what people pipe (terminal colours, markdown, emoji, hashes)
becomes plain text."""

from __future__ import annotations

import html
import re
import unicodedata

from kokoro_pipe.text.normalize.markup import characters

EMOJI_MODES = ("skip", "name")

ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u2060\ufeff\ue000-\uf8ff]")  # incl. private use
ODD_SPACE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# "It&#39;s", "&amp;", "&mdash;" from web pages and feeds; the semicolon is required,
# so "AT&T" and "&copy 2024" stay as written.
ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def controls(text: str) -> str:
    """Terminal colours, control characters and invisible characters out; odd spaces
    plain; HTML character references decoded."""
    text = ENTITY.sub(lambda m: html.unescape(m.group()), text)
    text = ANSI_ESCAPE.sub("", text)
    text = INVISIBLE.sub("", text)
    text = ODD_SPACE.sub(" ", CONTROL.sub(" ", text))
    return " ".join(text.split())


HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?$")
LIST_MARK = re.compile(r"^(?:[-*+•‣◦▪]\s+|>+\s*)+")
BULLET_LINE = re.compile(r"^([-*+])\s")
DOTS = re.compile(r"(?<=\S)\s+[•‣◦▪·]\s+(?=\S)")  # Home · About · Contact
NUMBERED_ITEM = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")
RULE_LINE = re.compile(r"^\s*([-*_=~])(?:\s*\1){2,}\s*$")
FENCE = re.compile(r"^(?:```|~~~)\S*$")
TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?$")
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
LINK = re.compile(r"\[([^\]\[]+)\]\((?!/[^)]*/\))(?![+-]?\d)[^)\s]*(?:\s+\"[^\"]*\")?\)")
STRONG = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
CODE = re.compile(r"(`+)\s*(.+?)\s*\1")


def markdown(text: str) -> str:
    """Markdown marks out, their words kept: a heading ends a sentence, a
    numbered item keeps its number, a table row becomes a list of its cells,
    and so do the items of a list written on one line."""
    line = text.strip()
    if RULE_LINE.match(line) or FENCE.match(line) or (TABLE_SEPARATOR.match(line) and "-" in line):
        return ""
    if line.startswith("|") and line.endswith("|") and len(line) > 1:
        line = ", ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
    heading = HEADING.match(line)
    if heading:
        line = heading.group(1)
        line = line if line[-1:] in ".!?:" else line + "."
    bullet = BULLET_LINE.match(line)
    line = _items(LIST_MARK.sub("", line), bullet.group(1) if bullet else None)
    line = NUMBERED_ITEM.sub(r"\1, ", line)
    line = IMAGE.sub(r"\1", line)
    line = LINK.sub(r"\1", line)
    line = CODE.sub(r"\2", line)
    for _ in range(2):  # ***both*** is strong around emphasis
        line = STRONG.sub(r"\2", line)
        line = EMPHASIS.sub(r"\2", line)
    return line


def _items(line: str, bullet: str | None) -> str:
    """- Milk - Eggs - Bread -> 'Milk, Eggs, Bread': on a line that started with
    a list mark, the same mark between spaces starts another item; a dot-like
    bullet does so anywhere. A mark between two digits stays: 5 - 3, 2 * 4."""
    if bullet:
        line = re.sub(rf"(?<=\S)\s+{re.escape(bullet)}\s+(?=\S)", _item_break, line)
    line = DOTS.sub(_item_break, line)
    return re.sub(r"\s*\0\s*", lambda m: " " if line[m.start() - 1] in ".!?:;," else ", ",
                  line)


def _item_break(m: re.Match) -> str:
    before, after = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    return m.group() if before.isdigit() and after.isdigit() else "\0"


EMOJI = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    "|[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff]"
    "[\U0001f3fb-\U0001f3ff\ufe0f\u20e3]*"  # skin tone, emoji presentation, keycap
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf\u2640\u2642][\ufe0f]?)*)"  # ZWJ sequence
)
ARROWS = {"→": "to", "←": "from", "⇒": "implies", "↔": "to and from"}


def emoji(text: str, mode: str = "skip") -> str:
    """Emoji and pictographs removed (mode 'skip') or named ('name'): 'party popper'.
    An arrow reads as a word either way, being part of the sentence."""

    def replace(m: re.Match) -> str:
        s = m.group()
        if s[0] in ARROWS:
            return f" {ARROWS[s[0]]} "
        if mode == "skip":
            return "\0"
        if "\U0001f1e6" <= s[0] <= "\U0001f1ff":
            return " flag "
        return f" {unicodedata.name(s[0], '').lower()} "

    # A removed emoji takes the space before it along when punctuation follows.
    text = re.sub(r"\s*\0+\s*(?=[,.!?;:])", "", EMOJI.sub(replace, text))
    return " ".join(text.replace("\0", " ").split())


HEX_RUN = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b", re.IGNORECASE)
REPEAT = re.compile(r"(\S)\1{3,}")
LONG_TOKEN = 40
# Where an identifier breaks into words: separators, camelCase, letters|digits.
TOKEN_JOINS = re.compile(r"[_\-/.]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def long_tokens(text: str) -> str:
    """Hashes read as their 7-character short form, as people say them; a
    character repeated more than three times is cut to three ('!!!!!!',
    'soooooo'); a token still longer than LONG_TOKEN without a space is broken
    into pieces misaki can take, so nothing is dropped but noise."""
    text = HEX_RUN.sub(lambda m: characters(m.group()[:7]), text)
    text = REPEAT.sub(lambda m: m.group(1) * (1 if m.group(1) in ".!?,;:-=_*#~" else 3), text)
    return " ".join(_break_token(t) for t in text.split(" "))


def _break_token(token: str) -> str:
    if len(token) <= LONG_TOKEN or "://" in token or "@" in token:
        return token
    pieces = TOKEN_JOINS.split(token)
    n = LONG_TOKEN
    return " ".join(p[i : i + n] for p in pieces if p for i in range(0, len(p), n))
