"""Text as people pipe it (notifications, logs, markdown) -> words misaki reads right.

One ordered pipeline, `Normalizer.steps`; each step is a small function from
text to text, and the order matters:

 sanitation  1 controls   ANSI colours, control characters, zero-width and odd spaces
             2 markdown   headings, bullets, quotes, tables, emphasis, code, links
             3 emoji      removed, or named ("party popper"), by option
             4 long_tokens  hashes shortened, runaway repeats cut
 lexicon      user pronunciations -> [word](/phonemes/), so they win over every rule
 normalization (first the forms whose digits would be misread one by one later)
             5 emails, urls   before anything reads their dots and digits
             6 phones     555-123-4567 before ranges and dates see the dashes
             7 dates      2024-03-05, 3/5/2024, March 5th, 2024, 5 March
             8 times      7:45, 10:30 am, 10pm
             9 versions   v1.2.3, Python 3.12, IP addresses
            10 abbreviations  Dr. / St. by position, Mr., e.g., etc., No. 5
            11 symbols    C#, ±, ~5, x between numbers
            12 ranges     3-5 -> 3 to 5, so the later rules read both ends
            13 money      $5.50, $3k, £2.5m
            14 percents, units  50%, 5 km, 72°F
            15 ordinals, decades, years (by context), fractions
            16 numbers    what digits remain: 1,234 / 2.5 / -3
 then misaki: it reads words and its own punctuation. Inline markup
 `[word](/phonemes/)` passes through every step untouched and misaki applies
 it; the words of a stress mark `[words](+1)` are normalized in place.

Before all this, kk-synth splits an SSML line into parts (ssml.py) and each
speech part runs the pipeline; G2P (g2p.py) calls it on every chunk it is given.

Everything numeric is spelled here rather than left to misaki: misaki reads
any four digits as a year ("2024 people"), and its currency carries over a
comma to the next number ("$5, 100" -> "five dollars, one hundred dollars").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import partial

from kokoro_pipe.numwords import (
    cardinal,
    counted,
    decade,
    digits,
    number,
    ordinal,
    year,
)

EMOJI_MODES = ("skip", "name")

# Inline misaki markup: [word](/phonemes/) is kept as it is; the words of a
# stress mark [words](+1) are normalized like the text around them.
MARKUP = re.compile(r"\[([^\]\[]+)\]\((/[^)]*/|[+-]?\d+(?:\.\d+)?)\)")


def outside_markup(rule: Callable[[str], str]) -> Callable[[str], str]:
    """`rule` applied to the text outside phoneme markup spans."""

    def apply(text: str) -> str:
        out, start = [], 0
        for m in MARKUP.finditer(text):
            words, mark = m.groups()
            inner = words if mark.startswith("/") else rule(words).strip() or words
            out += [rule(text[start : m.start()]), f"[{inner}]({mark})"]
            start = m.end()
        out.append(rule(text[start:]))
        return "".join(out)

    apply.__name__ = getattr(rule, "__name__", getattr(rule, "func", rule).__name__)
    return apply


# Letter names as phoneme markup: misaki reads a lone "A" as the article.
LETTER_NAMES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [
    "ˈA", "bˈi", "sˈi", "dˈi", "ˈi", "ˈɛf", "ʤˈi", "ˈAʧ", "ˈI", "ʤˈA", "kˈA", "ˈɛl", "ˈɛm",
    "ˈɛn", "ˈO", "pˈi", "kjˈu", "ˈɑɹ", "ˈɛs", "tˈi", "jˈu", "vˈi", "dˈʌbᵊlju", "ˈɛks", "wˈI",
    "zˈi"], strict=True))


def characters(s: str) -> str:
    """'a3F' -> letter by letter: '[A](/ˈA/) three [F](/ˈɛf/)'; other symbols are dropped."""
    said = []
    for c in s.upper():
        if c in LETTER_NAMES:
            said.append(f"[{c}](/{LETTER_NAMES[c]}/)")
        elif c.isdigit():
            said.append(digits(c))
    return " ".join(said)


# -- sanitation ---------------------------------------------------------------

ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u2060\ufeff\ue000-\uf8ff]")  # incl. private use
ODD_SPACE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def controls(text: str) -> str:
    """Terminal colours, control characters and invisible characters out; odd spaces plain."""
    text = ANSI_ESCAPE.sub("", text)
    text = INVISIBLE.sub("", text)
    text = ODD_SPACE.sub(" ", CONTROL.sub(" ", text))
    return " ".join(text.split())


HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?$")
LIST_MARK = re.compile(r"^(?:[-*+•‣◦▪]\s+|>+\s*)+")
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
    numbered item keeps its number, a table row becomes a list of its cells."""
    line = text.strip()
    if RULE_LINE.match(line) or FENCE.match(line) or (TABLE_SEPARATOR.match(line) and "-" in line):
        return ""
    if line.startswith("|") and line.endswith("|") and len(line) > 1:
        line = ", ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
    heading = HEADING.match(line)
    if heading:
        line = heading.group(1)
        line = line if line[-1:] in ".!?:" else line + "."
    line = LIST_MARK.sub("", line)
    line = NUMBERED_ITEM.sub(r"\1, ", line)
    line = IMAGE.sub(r"\1", line)
    line = LINK.sub(r"\1", line)
    line = CODE.sub(r"\2", line)
    for _ in range(2):  # ***both*** is strong around emphasis
        line = STRONG.sub(r"\2", line)
        line = EMPHASIS.sub(r"\2", line)
    return line


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


# -- normalization: URLs and e-mail -------------------------------------------

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


# -- phones, dates, times, versions -------------------------------------------

PHONE = re.compile(
    r"(?<![\w.-])(?:(\+\d{1,3})[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])(\d{3})[\s.-](\d{4})(?![\w-])"
    r"|(?<![\w.-])(\+\d{1,3})((?:[\s.-]\d{2,4}){2,5})(?![\w-])"
)


def phones(text: str) -> str:
    """(555) 123-4567 -> 'five five five, one two three, four five six seven'."""

    def spell(m: re.Match) -> str:
        groups = [g for g in m.groups() if g]
        parts = [p for g in groups for p in re.split(r"[\s.-]+", g.strip()) if p.strip("()")]
        words = [("plus " if p.startswith("+") else "") + digits(p) for p in parts]
        return ", ".join(words)

    return PHONE.sub(spell, text)


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
MONTH_NAME = r"(?:" + "|".join(MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
MONTH_DAY = re.compile(rf"\b({MONTH_NAME})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?")
DAY_MONTH = re.compile(
    rf"(?:\bthe\s+)?\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_NAME})(?:,?\s+(\d{{4}})\b)?"
)
MONTH_YEAR = re.compile(rf"\b({MONTH_NAME})\s+(\d{{4}})\b")


def _month(name_or_number: str) -> str | None:
    if name_or_number.isdigit():
        n = int(name_or_number)
        return MONTHS[n - 1] if 1 <= n <= 12 else None
    return MONTH_ABBREVIATIONS.get(name_or_number.rstrip(".").lower()[:4].rstrip("t")) or (
        name_or_number if name_or_number in MONTHS else None
    )


def _date(month: str, day: int, year_: str | None, day_first: bool) -> str:
    said = f"the {ordinal(day)} of {month}" if day_first else f"{month} {ordinal(day)}"
    return f"{said} {year(int(year_))}" if year_ else said


def dates(text: str, day_first: bool = False) -> str:
    """2024-03-05, 3/5/2024 (5/3/2024 when day_first, as in British English),
    March 5th, 2024, 5 March 2024 -> 'March fifth twenty twenty four'."""

    def iso(m: re.Match) -> str:
        month, day = _month(m.group(2)), int(m.group(3))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(1), day_first)

    def slashed(m: re.Match) -> str:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        month_n, day = (b, a) if day_first or a > 12 else (a, b)
        if not (1 <= month_n <= 12 and 1 <= day <= 31):
            return m.group()
        y = y if len(y) == 4 else str(2000 + int(y) if int(y) < 50 else 1900 + int(y))
        return _date(MONTHS[month_n - 1], day, y, day_first)

    def month_day(m: re.Match) -> str:
        month, day = _month(m.group(1)), int(m.group(2))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(3), False)

    def day_month(m: re.Match) -> str:
        month, day = _month(m.group(2)), int(m.group(1))
        if month is None or not 1 <= day <= 31:
            return m.group()
        return _date(month, day, m.group(3), True)

    def month_year(m: re.Match) -> str:
        month = _month(m.group(1))
        return f"{month} {year(int(m.group(2)))}" if month else m.group()

    text = ISO_DATE.sub(iso, text)
    text = SLASH_DATE.sub(slashed, text)
    text = DAY_MONTH.sub(day_month, text)
    text = MONTH_DAY.sub(month_day, text)
    return MONTH_YEAR.sub(month_year, text)


CLOCK = re.compile(
    r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])(?:\s*([AaPp])\.?[Mm]\b\.?)?"
)
HOUR_MERIDIEM = re.compile(r"(?<![\d:.])(1[0-2]|0?[1-9])\s*([AaPp])\.?[Mm]\b\.?")


def times(text: str) -> str:
    """7:45 -> 'seven forty five', 10:30 am -> 'ten thirty AM', 7:05 -> 'seven oh
    five', 9:00 -> "nine o'clock", 14:00 -> 'fourteen hundred', 10pm -> 'ten PM'."""

    def clock(m: re.Match) -> str:
        hour, minute, second, meridiem = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        if minute == 0:
            said = cardinal(hour) + ("" if meridiem else " o'clock" if hour <= 12 else " hundred")
        elif minute < 10:
            said = f"{cardinal(hour)} oh {cardinal(minute)}"
        else:
            said = f"{cardinal(hour)} {cardinal(minute)}"
        if second and int(second):
            said += " and " + counted(cardinal(int(second)), "second", "seconds")
        return said + (f" {meridiem.upper()}M" if meridiem else "")

    text = CLOCK.sub(clock, text)
    return HOUR_MERIDIEM.sub(lambda m: f"{cardinal(int(m.group(1)))} {m.group(2).upper()}M", text)


VERSION = re.compile(r"(?<![\w.])[vV](\d+(?:\.\d+)*)(?![\w.]|\.\d)"
                     r"|(?<![\w.])(\d+\.\d+\.\d+(?:\.\d+)*)(?![\w]|\.\d)")
VERSION_V = re.compile(r"(?i)\b(version|release)\s+v(?=\d)")
VERSION_WORD = re.compile(
    r"(?i)\b(version|release|python|node|java|ios|android|macos)\s+(\d+(?:\.\d+)+)\b")


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
    text = VERSION_WORD.sub(lambda m: f"{m.group(1)} {_dotted(m.group(2))}", text)
    return VERSION.sub(spell, text)


# -- ranges, money, percents, units -------------------------------------------

NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
RANGE = re.compile(rf"(?<![\w.,\-])([$£€¥]?{NUM})\s?[-–—]\s?([$£€¥]?{NUM})(?![\d\-]|\.\d)")
YEAR_RANGE = re.compile(r"(?<![\w.,\-])(1[1-9]\d\d|20\d\d)\s?[-–—]\s?(1[1-9]\d\d|20\d\d)(?![\d\-])")


def ranges(text: str) -> str:
    """3-5 days -> '3 to 5 days', 1990–1995 -> 'nineteen ninety to nineteen
    ninety five'; the numbers at either end are read by the rules after."""
    text = YEAR_RANGE.sub(lambda m: f"{year(int(m.group(1)))} to {year(int(m.group(2)))}", text)
    return RANGE.sub(r"\1 to \2", text)


CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"),
              "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", None, None),
              "₹": ("rupee", "rupees", "paisa", "paise")}
SCALES = {"k": "thousand", "thousand": "thousand", "m": "million", "mn": "million",
          "million": "million", "b": "billion", "bn": "billion", "billion": "billion",
          "t": "trillion", "tn": "trillion", "trillion": "trillion"}
MONEY = re.compile(
    rf"([$£€¥₹])\s?({NUM})(?:\s?(k|m|mn|b|bn|t|tn|K|M|B|T)\b|\s+(thousand|million|billion|trillion)\b)?"
)


def money(text: str) -> str:
    """$5.50 -> 'five dollars and fifty cents', $3k -> 'three thousand dollars',
    £2.5m -> 'two point five million pounds', $0.99 -> 'ninety nine cents'."""

    def spell(m: re.Match) -> str:
        one, many, one_cent, cents = CURRENCIES[m.group(1)]
        amount = m.group(2).replace(",", "")
        scale = m.group(3) or m.group(4)
        if scale:
            return f"{number(amount)} {SCALES[scale.lower()]} {many}"
        whole, _, fraction = amount.partition(".")
        if len(fraction) > 2 or (fraction and not one_cent):
            return f"{number(amount)} {many}"
        units = int(whole or 0)
        said = counted(cardinal(units), one, many) if units or not fraction else ""
        if fraction and int(fraction):
            hundredths = counted(cardinal(int(fraction.ljust(2, "0"))), one_cent, cents)
            said = f"{said} and {hundredths}" if said else hundredths
        return said or counted("zero", one, many)

    return MONEY.sub(spell, text)


PERCENT = re.compile(rf"(?<![\w.])(-?{NUM})\s?%")


def percents(text: str) -> str:
    """50% -> 'fifty percent', 2.5% -> 'two point five percent'."""
    return PERCENT.sub(lambda m: f"{number(m.group(1))} percent", text)


UNITS = {
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "ms": ("millisecond", "milliseconds"),
    "sec": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "h": ("hour", "hours"),
    "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "px": ("pixel", "pixels"),
    "fps": ("frame per second", "frames per second"),
}
UNIT = re.compile(
    rf"(?<![\w.])(-?{NUM})\s?("
    + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    + r")(?![\w/])"
)


def units(text: str) -> str:
    """5 km -> 'five kilometers', 1 ft -> 'one foot', 72°F -> 'seventy two degrees Fahrenheit'."""

    def spell(m: re.Match) -> str:
        return counted(number(m.group(1)), *UNITS[m.group(2)])

    return UNIT.sub(spell, text)


# -- ordinals, years, fractions, numbers --------------------------------------

ORDINAL = re.compile(r"(?<![\w.])(\d[\d,]*)(st|nd|rd|th)\b", re.IGNORECASE)
DECADE = re.compile(r"(?<![\w.])(?:(1[1-9]\d0|20\d0)s|'(\d0)s)\b")
FOUR_DIGITS = re.compile(r"(?<![\w.,\-])(1\d{3}|20\d\d)(?![\w,]|\.\d)(\s+(BC|BCE|AD|CE)\b)?")
YEAR_CUES = frozenset([
    "in", "since", "by", "until", "till", "from", "of", "during", "before", "after", "circa",
    "year", "early", "late", "mid", "around", "between", "and", "to", "the", "spring", "summer",
    "autumn", "fall", "winter", *(m.lower() for m in MONTHS)])
COUNTED_SUFFIX = re.compile(r"^\s+([a-z]+)")
NOT_NOUNS = frozenset(["was", "is", "has", "does", "goes", "as", "this", "its", "his", "us",
                       "plus", "minus", "less", "versus"])
PLURALS_WITHOUT_S = frozenset(["people", "men", "women", "children", "feet", "teeth", "mice",
                               "geese"])


def ordinals(text: str) -> str:
    """1st -> 'first', 22nd -> 'twenty second'."""
    return ORDINAL.sub(lambda m: ordinal(int(m.group(1).replace(",", ""))), text)


def decades(text: str) -> str:
    """the 1990s -> 'the nineteen nineties', the '80s -> 'the eighties'."""

    def spell(m: re.Match) -> str:
        if m.group(1):
            return decade(int(m.group(1)))
        return decade(1900 + int(m.group(2))).removeprefix("nineteen ")

    return DECADE.sub(spell, text)


def years(text: str) -> str:
    """A four-digit number from 1000 to 2099 is a year ('in 1984' -> 'in
    nineteen eighty four') unless a plural noun follows it ('2024 people'),
    which makes it a count; a year cue before it ('in', 'since', a month)
    wins over that."""

    def spell(m: re.Match) -> str:
        n = int(m.group(1))
        era = f" {m.group(3)}" if m.group(3) else ""
        before = text[: m.start()].split()[-1:] or [""]
        cued = before[0].lower().strip(",") in YEAR_CUES or bool(era)
        following = COUNTED_SUFFIX.match(text[m.end():])
        noun = following.group(1) if following else ""
        counts = noun in PLURALS_WITHOUT_S or (noun.endswith("s") and noun not in NOT_NOUNS)
        return cardinal(n) if counts and not cued else year(n) + era

    return FOUR_DIGITS.sub(spell, text)


FRACTION = re.compile(r"(?<![\w./])(\d{1,2})/(\d{1,2})(?![\w/]|\.\d)")
VULGAR = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅛": "1/8"}


def fractions(text: str) -> str:
    """1/2 -> 'one half', 3/4 -> 'three quarters', 5/8 -> 'five eighths'; a
    numerator not below the denominator makes no fraction: '24/7' -> 'twenty
    four seven', '50/50' -> 'fifty fifty'."""
    for glyph, written in VULGAR.items():
        text = re.sub(rf"(\d?){glyph}",
                      lambda m, w=written: f"{m.group(1)} and {w}" if m.group(1) else w, text)

    def spell(m: re.Match) -> str:
        top, bottom = int(m.group(1)), int(m.group(2))
        if not 0 < top < bottom:
            return f"{cardinal(top)} {cardinal(bottom)}"
        if bottom == 2:
            name = "half" if top == 1 else "halves"
        elif bottom == 4:
            name = "quarter" if top == 1 else "quarters"
        else:
            name = ordinal(bottom) + ("" if top == 1 else "s")
        return f"{cardinal(top)} {name}"

    return FRACTION.sub(spell, text)


NUMBER = re.compile(
    r"(?<![\w.,])([-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?![\w,]\d|\w|\.\d)")


def numbers(text: str) -> str:
    """Digits that are left: 1,234,567 -> 'one million two hundred thirty four
    thousand five hundred sixty seven', 2.5 -> 'two point five', -3 -> 'minus three'."""

    return NUMBER.sub(lambda m: number(m.group(1)), text)


# -- abbreviations and symbols ------------------------------------------------

TITLES = {"Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Sgt": "Sergeant",
          "Capt": "Captain", "Lt": "Lieutenant", "Col": "Colonel", "Gen": "General",
          "Rev": "Reverend", "Hon": "Honorable", "Mt": "Mount", "Ft": "Fort"}
SUFFIXES = {"Jr": "Junior", "Sr": "Senior", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard",
            "Inc": "Incorporated", "Ltd": "Limited", "Corp": "Corporation", "Dept": "Department",
            "Univ": "University", "approx": "approximately", "etc": "et cetera", "vs": "versus",
            "Fig": "figure", "fig": "figure", "Vol": "volume", "vol": "volume"}
LATIN = {"e.g.": "for example", "i.e.": "that is", "a.k.a.": "also known as", "cf.": "compare"}
# Saint or Street, Doctor or Drive: which one hangs on the words around it.
PLACE_OR_PERSON = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}
ABBREVIATION = re.compile(
    r"\b(" + "|".join(sorted([*TITLES, *SUFFIXES, *PLACE_OR_PERSON], key=len, reverse=True))
    + r")\.(?=\s|$|,)"
)
NUMBER_SIGN = re.compile(r"\b(?:No|no|Nr)\.\s?(?=\d)|#(?=\d)")


def abbreviations(text: str) -> str:
    """Dr. Smith -> 'Doctor Smith' but Elm Dr. -> 'Elm Drive'; St. Louis ->
    'Saint Louis' but Main St. -> 'Main Street'; Mr., e.g., etc., No. 5, #5.
    The period goes unless it also ends the sentence."""
    for short, said in LATIN.items():
        text = re.sub(rf"(?<!\w){re.escape(short)}(?=\s|$|,)", f"{said},", text).replace(",,", ",")
    text = NUMBER_SIGN.sub("number ", text)

    def expand(m: re.Match) -> str:
        short, after = m.group(1), text[m.end():]
        next_word = after.lstrip()[:1]
        if short in TITLES:
            return TITLES[short]
        if short in PLACE_OR_PERSON:
            person, place = PLACE_OR_PERSON[short]
            said = person if next_word.isupper() and not _follows_name(text[: m.start()]) \
                else place
        else:
            said = SUFFIXES[short]
        ends_sentence = said not in ("Saint", "Doctor") and (
            not after.strip() or next_word.isupper())
        return said + ("." if ends_sentence else "")

    return ABBREVIATION.sub(expand, text)


def _follows_name(before: str) -> bool:
    """The word before is capitalized (Elm Dr., Main St.) and not only because it
    starts the sentence (Meet Dr. Lee)."""
    words = before.split()
    if not words or not words[-1][:1].isupper() or words[-1].endswith((".", "!", "?")):
        return False
    return len(words) > 1 and not words[-2].endswith((".", "!", "?", ":"))


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


# -- the pipeline --------------------------------------------------------------


class Normalizer:
    """The pipeline for one set of options; calling it runs every step in order.
    Other languages than English get the sanitation steps only: the rules
    speak English, and espeak-ng reads neither markup nor lexicon entries."""

    def __init__(self, emoji_mode: str = "skip", day_first: bool = False,
                 lexicon: Callable[[str], str] | None = None, english: bool = True):
        if emoji_mode not in EMOJI_MODES:
            raise ValueError(f"emoji mode {emoji_mode!r} is not one of {', '.join(EMOJI_MODES)}")
        self.steps: list[Callable[[str], str]] = [
            controls,
            markdown,
            partial(emoji, mode=emoji_mode),
            outside_markup(long_tokens),
        ]
        if not english:
            return
        if lexicon is not None:
            self.steps.append(lexicon)
        self.steps += [
            *map(outside_markup, [emails, urls, phones]),
            outside_markup(partial(dates, day_first=day_first)),
            *map(outside_markup, [times, versions, abbreviations, symbols, ranges, money,
                                  percents, units, ordinals, decades, years, fractions,
                                  numbers]),
        ]

    def __call__(self, text: str) -> str:
        for step in self.steps:
            text = step(text)
        return " ".join(text.split())
