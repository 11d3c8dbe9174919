"""Phone numbers, ranges, money, percentages, units, ordinals, decades,
years, fractions and the numbers that remain."""

from __future__ import annotations

import re

from kokoro_pipe.text.normalize.abbreviations import REFERENCE_WORDS
from kokoro_pipe.text.normalize.dates import MONTHS
from kokoro_pipe.text.numwords import cardinal, counted, decade, digits, number, ordinal, year

PHONE = re.compile(
    r"(?<![\w.-])(?:(\+\d{1,3})[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])(\d{3})[\s.-](\d{4})(?![\w-])"
    r"|(?<![\w.-])(\+\d{1,3})((?:[\s.-]\d{2,4}){2,5})(?![\w-])"
)


def phones(text: str) -> str:
    """(555) 123-4567 -> 'five five five, one two three, four five six seven'; 555-0123
    the same unless it reads as a range (see _local)."""

    def spell(m: re.Match) -> str:
        groups = [g for g in m.groups() if g]
        parts = [p for g in groups for p in re.split(r"[\s.-]+", g.strip()) if p.strip("()")]
        words = [("plus " if p.startswith("+") else "") + digits(p) for p in parts]
        return ", ".join(words)

    return LOCAL_PHONE.sub(_local, PHONE.sub(spell, text))


# 555-0123: a range only when it rises and both ends are round (100-1200) or a
# unit or range word says so (125-1500 mg, pages 101-1250, pp. 101-1250).
LOCAL_PHONE = re.compile(r"(?<![\w.,$£€¥₹+\-])(\d{3})-(\d{4})(?![\w\-]|[.,]\d)")
RANGE_WORDS = frozenset(["between", "from", *REFERENCE_WORDS])


def _word_before(text: str, at: int) -> str:
    """The word that ends before `at`, in lower case ('' at the start)."""
    words = text[:at].split()
    return words[-1].lower() if words else ""


def _local(m: re.Match) -> str:
    first, second = int(m.group(1)), int(m.group(2))
    after = re.match(r"\s?([^\s,.;:!?]+)", m.string[m.end():])
    cued = _word_before(m.string, m.start()) in RANGE_WORDS or bool(
        after and after.group(1) in UNITS)
    if first < second and (first % 10 == second % 10 == 0 or cued):
        return m.group()
    return f"{digits(m.group(1))}, {digits(m.group(2))}"


# -- ranges, money, percents, units -------------------------------------------

NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
# An end of a range: an amount, or a time of day (10:30, 9am, 9 a.m.).
RANGE_END = rf"(?:[$£€¥]?{NUM}|\d{{1,2}}:[0-5]\d)"
MERIDIEM = r"(?:\s?[AaPp]\.?[Mm]\b\.?)"
RANGE = re.compile(
    rf"(?<![\w.,:\-])({RANGE_END}{MERIDIEM}?)\s?[-–—]\s?({RANGE_END})(?![\d:\-]|\.\d)")
YEAR_RANGE = re.compile(r"(?<![\w.,\-])(1[1-9]\d\d|20\d\d)\s?[-–—]\s?(1[1-9]\d\d|20\d\d)(?![\d\-])")


def ranges(text: str) -> str:
    """3-5 days -> '3 to 5 days', 3-5 pm -> '3 to 5 pm', 10:00-11:30 -> '10:00
    to 11:30'; 1990–1995 -> 'nineteen ninety to nineteen ninety five' (both
    ends years, unless a reference word says they count: 'pages 1200-1250').
    Runs before the times and years rules, which then read each end; `years`
    reads the far end of a range as the near one ('101 to 1250' counts)."""

    def spell_years(m: re.Match) -> str:
        if _word_before(text, m.start()) in COUNT_CUES:
            return m.group()
        return f"{year(int(m.group(1)))} to {year(int(m.group(2)))}"

    text = YEAR_RANGE.sub(spell_years, text)
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
# A number, then a word joining it to the number being read: the near end of a range.
RANGE_LINK = re.compile(r"(?<![\w.,])(\d+(?:[,.]\d+)*)\s+(?:to|and|through|or)\s+$")
LINK_REACH = 40  # characters before a number where its range's near end may be
# After these a number is a count, never a year: 'page 1984', 'pages 1200 to 1250'.
COUNT_CUES = REFERENCE_WORDS
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
    wins over that, and a reference word ('page 1984') makes it a count. The
    far end of a range is what the near end is: 'from 1990 to 1995' two
    years, '101 to 1250' and 'between 100 and 1250' two counts."""
    read_as_year: dict[int, bool] = {}  # where each number ends -> it was read as a year

    def is_year(m: re.Match) -> bool:
        if m.group(3):
            return True
        near_end = RANGE_LINK.search(text, max(0, m.start() - LINK_REACH), m.start())
        if near_end:
            return read_as_year.get(near_end.end(1), False)
        before = _word_before(text, m.start()).strip(",")
        if before in COUNT_CUES:
            return False
        following = COUNTED_SUFFIX.match(text[m.end():])
        noun = following.group(1) if following else ""
        counts = noun in PLURALS_WITHOUT_S or (noun.endswith("s") and noun not in NOT_NOUNS)
        return before in YEAR_CUES or not counts

    def spell(m: re.Match) -> str:
        n = int(m.group(1))
        read_as_year[m.end(1)] = said_as_year = is_year(m)
        era = f" {m.group(3)}" if m.group(3) else ""
        return year(n) + era if said_as_year else cardinal(n)

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
